"""`make bench`: gpc's speed, memory and scaling against Kapitan and the write floor, in one run.

    .venv/bin/python bench/run.py [--sizes 10,100,1000] [--big] [--quick] [--no-kapitan] ...

For each N it generates a spec (bench/specgen.py), checks it has zero diagnostics, then times
whole processes (fork to wait4, median of several runs, output on tmpfs): `gpc validate`,
`check-jsonschema` against gpc's schema, `gpc compile` of all targets (or of every target that
imports, while some are still missing), `gpc compile --check` of the fresh tree, each target on
its own, the floor (a process that only writes gpc's tree), and Kapitan rendering the kinds of
objects gpc's kustomize target writes, from Jinja2 templates (bench/kapitan_project.py); the
files and bytes of Kapitan's tree are recorded beside those of gpc's kustomize/ subtree. One on-disk figure sits
beside the tmpfs ones. Results: bench/results/results.json and bench/results/results.md.
bench/README.md explains how to read them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as pyplatform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import floor  # noqa: E402
import kapitan_project  # noqa: E402
import layouts  # noqa: E402
import report  # noqa: E402
import specgen  # noqa: E402
from measure import Measurement, measure  # noqa: E402

from targets import TARGETS  # noqa: E402

ALL_TARGETS = tuple(TARGETS)
KAPITAN_VERSION = "0.36.3"
KAPITAN_VENV = BENCH / ".venv-kapitan"
VENV_BIN = REPO / ".venv" / "bin"


def target_flags(targets: list[str]) -> list[str]:
    return [flag for t in targets for flag in ("--target", t)]


def log(message: str) -> None:
    print(message, flush=True)


def rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def probe_targets(env: dict[str, str]) -> dict[str, str]:
    """Which targets import and expose TARGET ('ok'), and why the others do not."""
    code = (
        "import importlib, json\n"
        "out = {}\n"
        f"for name in {list(ALL_TARGETS)!r}:\n"
        "    try:\n"
        "        module = importlib.import_module('targets.' + name)\n"
        "        out[name] = 'ok' if hasattr(module, 'TARGET') else 'no TARGET'\n"
        "    except Exception as err:\n"
        "        out[name] = type(err).__name__ + ': ' + str(err)[:200]\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([str(VENV_BIN / "python"), "-c", code], cwd=BENCH, capture_output=True, text=True,
                          check=True, env=env)
    result: dict[str, str] = json.loads(done.stdout)
    return result


def ensure_kapitan(log_file: Path) -> tuple[Path | None, float | None, str]:
    """bench/.venv-kapitan with kapitan==0.36.3, created (and timed) when missing."""
    exe = KAPITAN_VENV / "bin" / "kapitan"
    if exe.exists():
        return exe, None, "present"
    log(f"creating {KAPITAN_VENV.relative_to(REPO)} with kapitan=={KAPITAN_VERSION} (about 20 s)...")
    base = getattr(sys, "_base_executable", sys.executable)
    start = time.perf_counter()
    with open(log_file, "w") as fh:
        steps = [[base, "-m", "venv", str(KAPITAN_VENV)],
                 [str(KAPITAN_VENV / "bin" / "pip"), "install", "-q", "--upgrade", "pip"],
                 [str(KAPITAN_VENV / "bin" / "pip"), "install", "-q", f"kapitan=={KAPITAN_VERSION}"]]
        for step in steps:
            if subprocess.run(step, stdout=fh, stderr=subprocess.STDOUT).returncode != 0:
                rmtree(KAPITAN_VENV)
                return None, None, f"install failed, see {log_file}"
    return exe, time.perf_counter() - start, "installed"


def tree_stats(tree: Path) -> dict[str, int]:
    files = [p for p in tree.rglob("*") if p.is_file()]
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


def fs_type(path: Path) -> str:
    best, kind = "", "?"
    with open("/proc/mounts") as fh:
        for line in fh:
            parts = line.split()
            mount, fstype = parts[1], parts[2]
            if str(path).startswith(mount.rstrip("/") + "/") or str(path) == mount:
                if len(mount) > len(best):
                    best, kind = mount, fstype
    return f"{kind} ({best})"


class Unclean(Exception):
    """The generated spec has a diagnostic: every timing of it would be of the wrong work."""


class Bench:
    def __init__(self, args: argparse.Namespace, ws: Path, disk: Path) -> None:
        self.args = args
        self.ws = ws
        self.disk = disk
        self.gpc = str(VENV_BIN / "gpc")
        # PYTHONDONTWRITEBYTECODE would make every timed run compile gpc's modules from source
        # (~0.1 s of a `gpc validate`); the warm-up runs write the caches a user's install has.
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("GITHUB_ACTIONS", "GPC_DEBUG", "PYTHONDONTWRITEBYTECODE")}
        if args.src:  # time another copy of compiler/ and targets/ (a proposed change) with the same venv
            self.env["PYTHONPATH"] = str(args.src.resolve())
        self.results: dict[str, Any] = {"sizes": {}}

    def runs_for(self, n: int) -> int:
        if self.args.quick or n > 1000:
            return 1 if n >= 1000 else 3
        return self.args.runs if n < 1000 else max(3, self.args.runs - 2)

    def m(self, label: str, cmd: list[str], cwd: Path, runs: int, **kw: Any) -> Measurement:
        return measure(label, cmd, cwd, runs, env=kw.pop("env", self.env), **kw)

    def compile_cmd(self, spec: str, out: str, targets: list[str], available: list[str]) -> list[str]:
        cmd = [self.gpc, "compile", spec, "-o", out]
        if targets != list(ALL_TARGETS) or available != list(ALL_TARGETS):
            cmd += target_flags(targets)
        return cmd

    def size(self, n: int, available: list[str], kapitan: Path | None) -> dict[str, Any]:
        log(f"\nN = {n}")
        row: dict[str, Any] = {"n": n, "measurements": {}}
        ms = row["measurements"]
        spec_name = f"platform-n{n}"
        spec = f"{spec_name}.yaml"
        (self.ws / spec).write_text(specgen.render(n), encoding="utf-8")
        row["spec_bytes"] = (self.ws / spec).stat().st_size
        shutil.copyfile(self.ws / spec, self.disk / spec)
        runs = self.runs_for(n)

        diag = subprocess.run([self.gpc, "validate", "--format", "json", spec], cwd=self.ws, capture_output=True,
                              text=True, env=self.env)
        row["validate_diagnostics"] = json.loads(diag.stdout) if diag.stdout.strip() else diag.stderr[-500:]
        if diag.returncode != 0 or row["validate_diagnostics"] != []:
            raise Unclean(f"gpc validate {spec}: {str(row['validate_diagnostics'])[:1500]}")

        ms["validate"] = self.m("gpc validate", [self.gpc, "validate", spec], self.ws, runs, warmup=1)
        ms["check_jsonschema"] = self.m(
            "check-jsonschema --schemafile", [str(VENV_BIN / "check-jsonschema"), "--schemafile",
                                              str(REPO / "schema" / "platform.schema.json"), spec],
            self.ws, runs, warmup=1)

        out = self.ws / "out"
        tree = out / spec_name
        label = "gpc compile (all targets)" if available == list(ALL_TARGETS) else \
            f"gpc compile ({len(available)}/5 targets)"
        row["compile_targets"] = available
        if available:
            cmd = self.compile_cmd(spec, "out", available, available)
            ms["compile"] = self.m(label, cmd, self.ws, runs, warmup=1, prepare=lambda: rmtree(out))
            if ms["compile"].ok:
                row["tree"] = tree_stats(tree)
                # What Kapitan's project renders the equivalent of: only the kustomize/ subtree.
                row["kustomize_tree"] = tree_stats(tree / "kustomize")
                check = subprocess.run([*cmd, "--format", "json"], cwd=self.ws, capture_output=True, text=True,
                                       env=self.env)
                row["compile_diagnostics"] = json.loads(check.stdout)["diagnostics"] if check.stdout.strip() else []
                if check.returncode != 0 or row["compile_diagnostics"]:
                    raise Unclean(f"gpc compile {spec}: {str(row['compile_diagnostics'] or check.stderr)[:1500]}")
                ms["compile_check"] = self.m("gpc compile --check (up to date)", [*cmd, "--check"], self.ws, runs)
                ms["compile_noop"] = self.m("gpc compile, nothing changed", cmd, self.ws, runs)
                blob = self.ws / f"tree-n{n}.marshal"
                floor.snapshot(str(tree), str(blob))
                floor_out = self.ws / "floor-out"
                ms["floor"] = self.m("floor (write gpc's tree)", [str(VENV_BIN / "python"), str(BENCH / "floor.py"),
                                                                  str(blob), str(floor_out)],
                                     self.ws, runs, warmup=1, prepare=lambda: rmtree(floor_out))
                if n == self.args.disk_n:
                    self.on_disk(n, row, cmd, spec_name, blob)
                if n == report.TARGET_N:  # issue 19, item 7: what the layout does to the tree's size
                    log("  the tree by layout: whole overlays, and gpc at " + layouts.BEFORE)
                    row["layouts"] = layouts.measure(self.ws / spec, tree, self.ws, str(VENV_BIN / "python"),
                                                     self.env)
            if n == 1000 and ms["compile"].ok:
                self.split(n, ms, cmd, runs)
            for t in available if n <= 1000 else []:  # each target alone: up to N=1000 is enough
                tout = self.ws / f"out-{t}"
                ms[f"target_{t}"] = self.m(f"gpc compile --target {t}",
                                           [self.gpc, "compile", spec, "-o", tout.name, "--target", t],
                                           self.ws, min(runs, 3), prepare=lambda tout=tout: rmtree(tout))
                if t == "kustomize" and ms[f"target_{t}"].ok and "kustomize_tree" not in row:
                    row["kustomize_tree"] = tree_stats(tout / spec_name / "kustomize")
                rmtree(tout)
        if kapitan is not None and n <= self.args.kapitan_max_n and \
                (not self.args.kapitan_sizes or n in self.args.kapitan_sizes):
            self.kapitan(n, row, kapitan)
        rmtree(out)
        return row

    def split(self, n: int, ms: dict[str, Any], cmd: list[str], runs: int) -> None:
        """The same platform split into 50 team files: the compile must cost about the same."""
        folder = self.ws / f"split-n{n}"
        for rel, text in specgen.render_split(n).items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, encoding="utf-8")
        split_cmd = [a if a != f"platform-n{n}.yaml" else "platform.yaml" for a in cmd]
        out = folder / "out"
        ms["compile_split"] = self.m("gpc compile (split into 50 team files)", split_cmd, folder, runs, warmup=1,
                                     prepare=lambda: rmtree(out))
        rmtree(folder)

    def on_disk(self, n: int, row: dict[str, Any], cmd: list[str], spec_name: str, blob: Path) -> None:
        ms = row["measurements"]
        out = self.disk / "out"
        runs = 3
        ms["compile_disk"] = self.m(f"gpc compile on disk ({fs_type(self.disk)})", cmd, self.disk, runs,
                                    prepare=lambda: rmtree(out))
        if ms["compile_disk"].ok:  # the last run left an up-to-date tree on the disk
            ms["compile_check_disk"] = self.m("gpc compile --check on disk", [*cmd, "--check"], self.disk, runs)
            ms["compile_noop_disk"] = self.m("gpc compile on disk, nothing changed", cmd, self.disk, runs)
        floor_out = self.disk / "floor-out"
        ms["floor_disk"] = self.m("floor on disk", [str(VENV_BIN / "python"), str(BENCH / "floor.py"), str(blob),
                                                    str(floor_out)], self.disk, runs, prepare=lambda: rmtree(floor_out))
        rmtree(out)
        rmtree(floor_out)

    def kapitan(self, n: int, row: dict[str, Any], exe: Path) -> None:
        ms = row["measurements"]
        project = self.ws / f"kapitan-n{n}"
        row["kapitan_project"] = kapitan_project.write_project(specgen.build(n), project)
        compiled = project / "compiled"
        tmp = self.ws / "tmp"
        tmp.mkdir(exist_ok=True)
        env = dict(self.env, TMPDIR=str(tmp))
        runs = self.runs_for(n) if n <= 1000 else 1
        variants = [("kapitan", [], "Kapitan compile (default: spawn)")]
        if self.args.kapitan_fork:
            variants.append(("kapitan_fork", ["--mp-method", "fork"], "Kapitan compile --mp-method fork"))
        for key, flags, label in variants:
            ms[key] = self.m(label, [str(exe), *flags, "compile"], project, runs, env=env,
                             warmup=1 if n <= 100 else 0, prepare=lambda: rmtree(compiled))
        for key, _, _ in variants:
            # Kapitan's own split: "Rendered inventory (3.69s)" and "Compiled 3 targets in 20.52s".
            phases = re.findall(r"Rendered inventory \(([0-9.]+)s\)|Compiled \d+ targets in ([0-9.]+)s",
                                ms[key].stderr_tail)
            ms[key].extra["inventory_s"] = next((float(a) for a, _ in phases if a), None)
            ms[key].extra["compile_targets_s"] = next((float(b) for _, b in phases if b), None)
        if ms["kapitan"].ok:
            row["kapitan_tree"] = tree_stats(compiled)
            kt = row.get("kustomize_tree")
            log(f"  trees: Kapitan {row['kapitan_tree']['files']} files, {row['kapitan_tree']['bytes'] / 1e6:.2f} MB; "
                + (f"gpc's kustomize/ {kt['files']} files, {kt['bytes'] / 1e6:.2f} MB" if kt else "gpc's kustomize/ -"))
            blob = self.ws / f"kapitan-n{n}.marshal"
            floor.snapshot(str(compiled), str(blob))
            floor_out = self.ws / "floor-kapitan"
            ms["kapitan_floor"] = self.m("floor (write Kapitan's tree)",
                                         [str(VENV_BIN / "python"), str(BENCH / "floor.py"), str(blob), str(floor_out)],
                                         self.ws, self.runs_for(n), warmup=1, prepare=lambda: rmtree(floor_out))
            rmtree(floor_out)
        rmtree(project)

    def fraud(self) -> dict[str, Any]:
        # With --src, PYTHONPATH comes before the editable install's finder, so the copy is timed.
        log("\nspecs/fraud.yaml")
        runs = 5 if self.args.quick else 15
        spec = "specs/fraud.yaml"
        return {
            "validate": self.m("gpc validate specs/fraud.yaml", [self.gpc, "validate", spec], REPO, runs, warmup=2),
            "check_jsonschema": self.m("check-jsonschema specs/fraud.yaml",
                                       [str(VENV_BIN / "check-jsonschema"), "--schemafile",
                                        "schema/platform.schema.json", spec], REPO, runs, warmup=2),
            "python_startup": self.m("python -c pass (interpreter floor)", [str(VENV_BIN / "python"), "-c", "pass"],
                                     REPO, runs, warmup=2),
        }


def machine() -> dict[str, Any]:
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "compiler", "targets"], cwd=REPO,
                                capture_output=True, text=True).stdout.strip())
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": pyplatform.python_version(),
        "kernel": pyplatform.release(),
        "cpus": os.cpu_count(),
        "git": rev + (" (compiler/ or targets/ modified)" if dirty else ""),
        "load_at_start": os.getloadavg(),
    }


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="comma-separated N (default 10,100,1000)")
    parser.add_argument("--big", action="store_true", help="add N=5000 (gpc only; Kapitan too with --kapitan-max-n)")
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement for N < 1000 (N >= 1000: runs-2, "
                        "at least 3)")
    parser.add_argument("--quick", action="store_true", help="fewer runs (3, or 1 at N >= 1000): a smoke test")
    parser.add_argument("--no-kapitan", action="store_true", help="skip Kapitan")
    parser.add_argument("--kapitan-fork", action="store_true", help="also time Kapitan with --mp-method fork")
    parser.add_argument("--kapitan-max-n", type=int, default=1000, help="largest N Kapitan runs at (default 1000)")
    parser.add_argument("--kapitan-sizes", type=lambda v: [int(x) for x in v.split(",") if x.strip()], default=None,
                        help="run Kapitan only at these N (e.g. 1000: one row for the ratio, minutes saved)")
    parser.add_argument("--disk-n", type=int, default=1000, help="N of the on-disk figure (0: none)")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile of gpc")
    parser.add_argument("--profile-n", type=int, default=1000)
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--keep", action="store_true", help="keep the tmpfs workspace")
    parser.add_argument("--src", type=Path, help="a folder holding another compiler/ and targets/ to time instead "
                        "of this checkout's (put first on PYTHONPATH)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)  # clean up the workspace and children on `kill`
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.big and 5000 not in sizes:
        sizes.append(5000)
    args.results.mkdir(parents=True, exist_ok=True)

    shm = Path("/dev/shm")
    ws = Path(tempfile.mkdtemp(prefix="gpc-bench-", dir=shm if shm.is_dir() else None))
    disk = Path(tempfile.mkdtemp(prefix="gpc-bench-disk-", dir="/var/tmp" if Path("/var/tmp").is_dir() else None))
    started = time.perf_counter()
    bench = Bench(args, ws, disk)
    try:
        meta = machine()
        meta["workspace"] = f"{ws} on {fs_type(ws)}"
        if args.src:
            meta["src"] = str(args.src.resolve())
        meta["disk_workspace"] = f"{disk} on {fs_type(disk)}"
        status = probe_targets(bench.env)
        available = [t for t in ALL_TARGETS if status[t] == "ok"]
        meta["targets"] = status
        log(f"gpc bench: workspace {meta['workspace']}; targets that import: {', '.join(available) or 'none'}")
        kapitan = None
        if not args.no_kapitan:
            kapitan, install_s, how = ensure_kapitan(args.results / "kapitan-install.log")
            meta["kapitan"] = {"version": KAPITAN_VERSION, "venv": str(KAPITAN_VENV.relative_to(REPO)), "status": how,
                               "install_seconds": install_s}
        for n in sizes:
            try:
                bench.results["sizes"][str(n)] = bench.size(n, available, kapitan)
            except Unclean as err:
                log(f"\nFAILED: the generated spec must have no diagnostic. {err}")
                return 1
        bench.results["fraud"] = bench.fraud()
        if not args.no_profile:
            log(f"\nprofiling gpc at N={args.profile_n} ...")
            spec = ws / f"platform-n{args.profile_n}.yaml"
            if not spec.exists():
                spec.write_text(specgen.render(args.profile_n), encoding="utf-8")
            done = subprocess.run([str(VENV_BIN / "python"), str(BENCH / "profile_gpc.py"), str(spec.name),
                                   "--out", str(args.results / f"profile-n{args.profile_n}.md"),
                                   "--json", str(args.results / f"profile-n{args.profile_n}.json"),
                                   *target_flags(available)],
                                  cwd=ws, capture_output=True, text=True, env=bench.env)
            meta["profile"] = "ok" if done.returncode == 0 else done.stderr[-1500:]
            meta["profile_n"] = args.profile_n
            if done.returncode != 0:
                log("  profile failed:\n" + done.stderr[-1500:])
        meta["bench_seconds"] = round(time.perf_counter() - started, 1)
        meta["load_at_end"] = os.getloadavg()
        bench.results["meta"] = meta
        data = report.to_json(bench.results)
        (args.results / "results.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        text = report.markdown(data)
        (args.results / "results.md").write_text(text, encoding="utf-8")
        print("\n" + text)
        log(f"results: {args.results.relative_to(REPO) if args.results.is_relative_to(REPO) else args.results}/"
            f"results.json, results.md ({meta['bench_seconds']} s)")
    finally:
        if not args.keep:
            rmtree(ws)
        rmtree(disk)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
