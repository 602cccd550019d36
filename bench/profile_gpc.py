"""Where gpc spends its time: each stage of `gpc compile` timed in one process, then profiled.

    .venv/bin/python bench/profile_gpc.py SPEC [--target NAME ...] --out FILE.md [--json FILE.json]

Stages: imports, load (YAML -> Source), model (pydantic), semantic, lower (IR), each target's
check and render, the README, writer.plan and writer.apply (output in ./prof-out, deleted
afterwards). For each stage: wall time without the profiler, the time the cyclic garbage
collector ran inside it (gc.callbacks), and the top functions under cProfile (a second pass:
cProfile inflates the seconds, so read its shares). Then `-X importtime` of `gpc validate` and
`gpc compile` in fresh processes.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import inspect
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or str(REPO))


class GcClock:
    """Sums the time the cyclic collector runs, per generation."""

    def __init__(self) -> None:
        self.total = 0.0
        self.collections = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start
            self.collections[info["generation"]] += 1


def stages(spec: Path, targets: list[str], out: Path) -> list[tuple[str, Callable[[dict[str, Any]], Any]]]:
    def imports(st: dict[str, Any]) -> None:
        import click  # noqa: F401

        import compiler.cli
        import compiler.pipeline  # noqa: F401  (its import is part of the stage)
        from compiler.lower import lower
        from compiler.semantic import check_semantics
        from compiler.shape import check_shape
        from compiler.source import load_source

        # The lowering function the pipeline itself calls, wherever it lives.
        st.update(load_source=load_source, check_shape=check_shape, check_semantics=check_semantics,
                  lower=lower)

    def load(st: dict[str, Any]) -> None:
        source, problems = st["load_source"](spec.read_bytes(), spec.name)
        assert not problems, problems
        st["source"] = source

    def model(st: dict[str, Any]) -> None:
        parsed, problems = st["check_shape"](st["source"])
        assert parsed is not None, problems
        st["spec"] = parsed

    def semantic(st: dict[str, Any]) -> None:
        st["diagnostics"] = st["check_semantics"](st["spec"], st["source"])

    def lower(st: dict[str, Any]) -> None:
        lower_fn = st["lower"]
        takes_source = "source" in inspect.signature(lower_fn).parameters  # as pipeline.check calls it
        st["platform"] = lower_fn(st["spec"], spec.name, spec.stem, *([st["source"]] if takes_source else []))
        st["artifacts"] = []

    out_stages: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
        ("imports (click, compiler)", imports), ("load (YAML -> Source)", load), ("model (pydantic)", model),
        ("semantic", semantic), ("lower (IR)", lower)]
    for name in targets:
        def imp(st: dict[str, Any], name: str = name) -> None:
            from targets import load_target

            st[f"target:{name}"] = load_target(name)

        def check(st: dict[str, Any], name: str = name) -> None:
            st["diagnostics"] += st[f"target:{name}"].check(st["platform"])

        def render(st: dict[str, Any], name: str = name) -> None:
            st["artifacts"] += st[f"target:{name}"].render(st["platform"])

        out_stages += [(f"{name}: import", imp), (f"{name}: check", check), (f"{name}: render", render)]

    def readme(st: dict[str, Any]) -> None:
        # The files every compile adds after the targets (pipeline.render), whichever they are.
        from compiler import pipeline

        before = [a.path for a in st["artifacts"]]
        everything, _ = pipeline.render(st["platform"], [])
        st["artifacts"] += [a for a in everything if a.path not in before]

    def plan(st: dict[str, Any]) -> None:
        from compiler import writer

        st["plan"] = writer.plan(st["artifacts"], out / st["platform"].spec_name)

    def apply(st: dict[str, Any]) -> None:
        from compiler import writer

        writer.apply(st["plan"])

    # What `gpc compile --check` and a no-op compile do instead of writing: read the tree just
    # written back, compare, and read the image files CI owns (GPC402).
    def deployed(st: dict[str, Any]) -> None:
        from compiler.deployed import check_deployed_tags

        st["diagnostics"] += check_deployed_tags(st["platform"], out / st["platform"].spec_name)

    def replan(st: dict[str, Any]) -> None:
        from compiler import writer

        again = writer.plan(st["artifacts"], out / st["platform"].spec_name)
        assert not again.changed, again.changes[:5]

    return [*out_stages, ("readme, checkov, codeowners", readme), ("writer.plan", plan),
            ("writer.apply (tmpfs)", apply), ("--check: deployed image tags", deployed),
            ("--check: writer.plan of the up-to-date tree", replan)]


def run_stages(spec: Path, targets: list[str], out: Path, profile: bool) -> list[dict[str, Any]]:
    shutil.rmtree(out, ignore_errors=True)
    clock = GcClock()
    gc.callbacks.append(clock)
    state: dict[str, Any] = {}
    rows = []
    for label, fn in stages(spec, targets, out):
        gc_before, counts_before = clock.total, list(clock.collections)
        prof = cProfile.Profile() if profile else None
        start, cpu = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        fn(state)
        if prof:
            prof.disable()
        wall = time.perf_counter() - start
        row: dict[str, Any] = {"stage": label, "wall": wall, "cpu": time.process_time() - cpu,
                               "gc": clock.total - gc_before,
                               "gc_collections": [a - b for a, b in zip(clock.collections, counts_before, strict=True)]}
        if prof:
            buf = io.StringIO()
            stats = pstats.Stats(prof, stream=buf)
            row["top"] = _top(stats)
        rows.append(row)
    gc.callbacks.remove(clock)
    shutil.rmtree(out, ignore_errors=True)
    if "artifacts" in state:
        rows.append({"stage": "(artifacts)", "count": len(state["artifacts"]),
                     "bytes": sum(len(a.text.encode()) for a in state["artifacts"])})
    return rows


def _top(stats: pstats.Stats, limit: int = 8) -> list[dict[str, Any]]:
    entries = []
    total = sum(v[2] for v in stats.stats.values()) or 1e-9  # type: ignore[attr-defined]
    for (file, line, func), (_cc, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        entries.append({"function": f"{_short(file)}:{line}({func})", "calls": calls, "tottime": tottime,
                        "cumtime": cumtime, "share": tottime / total})
    entries.sort(key=lambda e: -e["tottime"])
    return entries[:limit]


def _short(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", str(REPO) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def importtime(args: list[str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import sys; from compiler.cli import main; sys.argv = ['gpc'] + sys.argv[1:]; "
                           "raise SystemExit(main())", *args], cwd=cwd, capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append({"self_us": int(m[1]), "cumulative_us": int(m[2]), "depth": len(m[3]) // 2, "module": m[4]})
    top_level = sorted((r for r in rows if r["depth"] == 0), key=lambda r: -r["cumulative_us"])
    by_self = sorted(rows, key=lambda r: -r["self_us"])
    return {"command": "gpc " + " ".join(args), "rc": done.returncode, "total_ms": sum(r["self_us"] for r in rows) / 1000,
            "top_level": top_level[:12], "self": by_self[:12]}


def markdown(spec: Path, timed: list[dict[str, Any]], profiled: list[dict[str, Any]], nogc: list[dict[str, Any]],
             imports: list[dict[str, Any]]) -> str:
    def compiling(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if "wall" in r and not r["stage"].startswith("--check")]

    total = sum(r["wall"] for r in compiling(timed))
    total_nogc = sum(r["wall"] for r in compiling(nogc))
    cpu_nogc = sum(r.get("cpu", 0.0) for r in compiling(nogc))
    lines = [f"# Profile of gpc compile on {spec.name}", "",
             f"Each column is one fresh process running every stage in turn. A compile's stages total {total:.3f} s "
             f"with the garbage collector on, {total_nogc:.3f} s wall ({cpu_nogc:.3f} s CPU) with `gc.disable()`, as "
             "`gpc` runs. The CPU column is what to compare on a busy machine. The `--check` rows are what a drift "
             "check or a no-op compile does instead of writing (read the tree back and compare, read CI's image "
             "files), not part of the total. cProfile shares come from a third, profiled process (cProfile inflates "
             "the seconds: read the shares).", "",
             "| stage | wall s, GC on | of which GC s | GC runs (gen0/1/2) | wall s, GC off (as gpc runs) | CPU s | "
             "share |", "|---|---|---|---|---|---|---|"]
    for r, n in zip(timed, nogc, strict=True):
        if "wall" not in r:
            lines.append(f"| {r['stage']} | {r['count']} files, {r['bytes'] / 1e6:.2f} MB | | | | | |")
            continue
        lines.append(f"| {r['stage']} | {r['wall']:.3f} | {r['gc']:.3f} | {'/'.join(map(str, r['gc_collections']))} | "
                     f"{n['wall']:.3f} | {n.get('cpu', 0.0):.3f} | {n.get('cpu', 0.0) / (cpu_nogc or 1):.0%} |")
    lines += ["", "## Top functions per stage (cProfile, by own time)", ""]
    for r in profiled:
        if "top" not in r or r["wall"] < 0.01:
            continue
        lines += [f"### {r['stage']} ({r['wall']:.3f} s under cProfile)", "", "| function | calls | own s | share |",
                  "|---|---|---|---|"]
        for e in r["top"]:
            lines.append(f"| `{e['function']}` | {e['calls']} | {e['tottime']:.3f} | {e['share']:.0%} |")
        lines.append("")
    lines += ["## Imports (`python -X importtime`)", ""]
    for imp in imports:
        lines += [f"### `{imp['command']}`: {imp['total_ms']:.0f} ms of imports", "",
                  "| top-level module | cumulative ms |", "|---|---|"]
        lines += [f"| {r['module']} | {r['cumulative_us'] / 1000:.1f} |" for r in imp["top_level"][:8]]
        lines += ["", "| module (own time) | self ms |", "|---|---|"]
        lines += [f"| {r['module']} | {r['self_us'] / 1000:.1f} |" for r in imp["self"][:8]]
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("--target", action="append", default=[], dest="targets")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--mode", choices=["timed", "nogc", "profiled"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.mode:
        # One pass in this fresh process; the parent collects it.
        if args.mode == "nogc":
            gc.disable()
        rows = run_stages(args.spec, args.targets, Path(f"prof-out-{args.mode}"), profile=args.mode == "profiled")
        args.out.write_text(json.dumps(rows), encoding="utf-8")
        return 0
    flags = [flag for t in args.targets for flag in ("--target", t)]
    passes = {}
    for mode in ("timed", "nogc", "profiled"):
        tmp = Path(f"prof-{mode}.json")
        cmd = [sys.executable, __file__, str(args.spec), "--mode", mode, "--out", str(tmp)]
        subprocess.run([*cmd, *flags], check=True)
        passes[mode] = json.loads(tmp.read_text(encoding="utf-8"))
        tmp.unlink()
    timed, nogc, profiled = passes["timed"], passes["nogc"], passes["profiled"]
    compile_args = ["compile", str(args.spec), "-o", "imp-out", *flags]
    imports = [importtime(["validate", str(args.spec)], Path.cwd()), importtime(compile_args, Path.cwd())]
    shutil.rmtree("imp-out", ignore_errors=True)
    args.out.write_text(markdown(args.spec, timed, profiled, nogc, imports), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"timed": timed, "gc_disabled": nogc, "profiled": profiled,
                                         "imports": imports}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
