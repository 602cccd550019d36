"""Turn measurements into bench/results/results.json and the markdown table `make bench` prints."""

from __future__ import annotations

import itertools
import math
from typing import Any

from measure import Measurement

# The targets of issue 8 (the first bench) and issue 19 (speed at 1,000 workloads), checked on every run.
TARGET_N = 1000
BIG_N = 5000
MIN_VS_KAPITAN = 15.0  # gpc compile at least 15x faster than Kapitan at N=1000 (issue 8: 10x)
MAX_VS_FLOOR = 3.0  # within 3x of the floor
MAX_EXPONENT = 1.1  # t ∝ N^k from 100 to 1000
MAX_BIG_EXPONENT = 1.05  # from 1000 to 5000 (--big)
MAX_RSS_MB = 200.0
MAX_BIG_RSS_MB = 400.0  # at N=5000 (--big)
MAX_CHECK_SHARE = 0.8  # gpc compile --check / gpc compile at N=1000
MAX_NOOP_SHARE = 1.2  # a no-op compile on disk / a --check on disk at N=1000
MAX_VALIDATE_SHARE = 0.5  # gpc validate fraud.yaml / check-jsonschema fraud.yaml
MAX_SPLIT = 1.10  # the N=1000 platform in 50 team files vs one file

ROWS = [  # (key, label) in table order
    ("validate", "gpc validate"),
    ("check_jsonschema", "check-jsonschema --schemafile (same spec)"),
    ("compile", "gpc compile"),
    ("compile_check", "gpc compile --check (tree up to date)"),
    ("compile_noop", "gpc compile, nothing changed (tree up to date)"),
    ("target_kustomize", "gpc compile --target kustomize"),
    ("target_argocd", "gpc compile --target argocd"),
    ("target_kyverno", "gpc compile --target kyverno"),
    ("target_terraform", "gpc compile --target terraform"),
    ("target_github", "gpc compile --target github"),
    ("floor", "floor: write gpc's tree"),
    ("compile_disk", "gpc compile, output on disk"),
    ("compile_check_disk", "gpc compile --check, on disk"),
    ("compile_noop_disk", "gpc compile, nothing changed, on disk"),
    ("floor_disk", "floor, on disk"),
    ("kapitan", "Kapitan compile (default)"),
    ("kapitan_fork", "Kapitan compile --mp-method fork"),
    ("kapitan_floor", "floor: write Kapitan's tree"),
]


def _m(value: Any) -> dict[str, Any]:
    return value.as_json() if isinstance(value, Measurement) else value


def _wall(row: dict[str, Any], key: str) -> float | None:
    m = row["measurements"].get(key)
    return m["wall_median"] if m and m.get("ok") else None


def _cpu(row: dict[str, Any] | None, key: str) -> float | None:
    m = row["measurements"].get(key) if row else None
    return m["cpu_median"] if m and m.get("ok") else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def _sizes(row: dict[str, Any], key: str) -> tuple[float | None, float | None]:
    kapitan, kustomize = row.get("kapitan_tree"), row.get("kustomize_tree")
    return (kapitan[key] if kapitan else None), (kustomize[key] if kustomize else None)


def exponent(n1: int, t1: float | None, n2: int, t2: float | None) -> float | None:
    if not t1 or not t2 or n1 == n2:
        return None
    return math.log(t2 / t1) / math.log(n2 / n1)


def to_json(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"meta": results["meta"], "sizes": {}, "fraud": {}}
    for n, row in results["sizes"].items():
        row = dict(row, measurements={k: _m(v) for k, v in row["measurements"].items()})
        for m in row["measurements"].values():
            if m.get("ok"):
                m["ms_per_workload"] = m["wall_median"] * 1000 / int(n)
        row["ratios"] = {
            "kapitan_over_compile": _ratio(_wall(row, "kapitan"), _wall(row, "compile")),
            "kapitan_fork_over_compile": _ratio(_wall(row, "kapitan_fork"), _wall(row, "compile")),
            "kapitan_over_kustomize": _ratio(_wall(row, "kapitan"), _wall(row, "target_kustomize")),
            "compile_over_floor": _ratio(_wall(row, "compile"), _wall(row, "floor")),
            "compile_disk_over_floor_disk": _ratio(_wall(row, "compile_disk"), _wall(row, "floor_disk")),
            "kapitan_over_its_floor": _ratio(_wall(row, "kapitan"), _wall(row, "kapitan_floor")),
            # Is the work equal? Kapitan's tree against gpc's kustomize/ subtree (files, bytes).
            "kapitan_files_over_kustomize": _ratio(*_sizes(row, "files")),
            "kapitan_bytes_over_kustomize": _ratio(*_sizes(row, "bytes")),
            "validate_over_check_jsonschema": _ratio(_wall(row, "validate"), _wall(row, "check_jsonschema")),
            "split_over_compile": _ratio(_wall(row, "compile_split"), _wall(row, "compile")),
            "check_over_compile": _ratio(_wall(row, "compile_check"), _wall(row, "compile")),
            "noop_over_check": _ratio(_wall(row, "compile_noop"), _wall(row, "compile_check")),
            "noop_disk_over_check_disk": _ratio(_wall(row, "compile_noop_disk"), _wall(row, "compile_check_disk")),
        }
        out["sizes"][n] = row
    out["fraud"] = {k: _m(v) for k, v in results["fraud"].items()}
    sizes = sorted(int(n) for n in out["sizes"])
    scaling = []
    for a, b in itertools.pairwise(sizes):
        ra, rb = out["sizes"][str(a)], out["sizes"][str(b)]
        entry: dict[str, Any] = {"from": a, "to": b}
        for key, _ in ROWS:
            ta, tb = _wall(ra, key), _wall(rb, key)
            if ta and tb:
                entry[key] = {"k": exponent(a, ta, b, tb), "marginal_ms_per_workload": (tb - ta) * 1000 / (b - a)}
        scaling.append(entry)
    out["scaling"] = scaling
    out["targets"] = _targets(out)
    return out


def _targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    row = data["sizes"].get(str(TARGET_N))
    big = data["sizes"].get(str(BIG_N))
    checks: list[dict[str, Any]] = []

    def add(name: str, value: float | None, goal: str, passed: bool | None, note: str = "", issue: str = "19",
            cpu: float | None = None) -> None:
        checks.append({"target": name, "value": value, "goal": goal, "issue": issue, "cpu_ratio": cpu,
                       "status": "n/a" if passed is None else "PASS" if passed else "FAIL", "note": note})

    def at_most(name: str, value: float | None, limit: float, note: str = "", issue: str = "19",
                cpu: float | None = None) -> None:
        # A PASS must hold in CPU seconds too: under load a wall ratio can pass by luck.
        passed = None if value is None else value <= limit and (cpu is None or cpu <= limit)
        if value is not None and value <= limit and not passed:
            note = "; ".join(filter(None, [note, "the wall ratio passes, the CPU ratio does not (load)"]))
        add(name, value, f"<= {limit:g}", passed, note, issue, cpu)

    def cpu_ratio(a: str, b: str, row: dict[str, Any] | None) -> float | None:
        return _ratio(_cpu(row, a), _cpu(row, b))

    partial = ""
    if row:
        partial = "" if row.get("compile_targets") and len(row["compile_targets"]) == 5 else \
            f"only {len(row.get('compile_targets') or [])}/5 targets compiled"
    r = row["ratios"] if row else {}
    v = r.get("kapitan_over_compile")
    add(f"Kapitan / gpc compile at N={TARGET_N}", v, f">= {MIN_VS_KAPITAN:g}x",
        None if v is None else v >= MIN_VS_KAPITAN, partial or ("" if v else "Kapitan not run"),
        cpu=cpu_ratio("kapitan", "compile", row))
    at_most(f"gpc compile / floor at N={TARGET_N}", r.get("compile_over_floor"), MAX_VS_FLOOR, partial,
            cpu=cpu_ratio("compile", "floor", row))
    k = next((s.get("compile", {}).get("k") for s in data["scaling"] if s["from"] == TARGET_N and s["to"] == BIG_N),
             None)
    at_most(f"gpc compile scaling exponent {TARGET_N} -> {BIG_N}", k, MAX_BIG_EXPONENT, "" if k else "needs --big")
    m = big["measurements"].get("compile") if big else None
    at_most(f"gpc compile peak RSS at N={BIG_N} (MB)", m["maxrss_mb"] if m and m.get("ok") else None, MAX_BIG_RSS_MB,
            "" if m else "needs --big")
    at_most(f"gpc compile --check / gpc compile at N={TARGET_N}", r.get("check_over_compile"), MAX_CHECK_SHARE,
            cpu=cpu_ratio("compile_check", "compile", row))
    f = data["fraud"]
    share = _ratio(f["validate"].get("wall_median"), f["check_jsonschema"].get("wall_median")) \
        if f["validate"].get("ok") and f["check_jsonschema"].get("ok") else None
    fraud_cpu = _ratio(f["validate"].get("cpu_median"), f["check_jsonschema"].get("cpu_median")) \
        if share is not None else None
    at_most("gpc validate / check-jsonschema on specs/fraud.yaml", share, MAX_VALIDATE_SHARE,
            "start-up: see bench/README.md", cpu=fraud_cpu)
    at_most(f"no-op gpc compile / --check on disk at N={TARGET_N}", r.get("noop_disk_over_check_disk"),
            MAX_NOOP_SHARE, "" if r.get("noop_disk_over_check_disk") else "needs --disk-n 1000",
            cpu=cpu_ratio("compile_noop_disk", "compile_check_disk", row))
    tree = row.get("tree") if row else None
    add(f"tree at N={TARGET_N}: files", tree["files"] if tree else None, "reported", None)
    add(f"tree at N={TARGET_N}: MB", tree["bytes"] / 1e6 if tree else None, "reported", None)
    _layout_targets(row.get("layouts") if row else None, add)
    # Issue 8's, kept so a regression shows.
    at_most(f"gpc compile of 50 team files / one file at N={TARGET_N}", r.get("split_over_compile"), MAX_SPLIT,
            partial, "8")
    m = row["measurements"].get("compile") if row else None
    at_most(f"gpc compile peak RSS at N={TARGET_N} (MB)", m["maxrss_mb"] if m and m.get("ok") else None, MAX_RSS_MB,
            partial, "8")
    k = next((s.get("compile", {}).get("k") for s in data["scaling"] if s["from"] == 100 and s["to"] == TARGET_N),
             None)
    at_most(f"gpc compile scaling exponent 100 -> {TARGET_N}", k, MAX_EXPONENT, "", "8")
    return checks


def _layout_targets(lay: dict[str, Any] | None, add: Any) -> None:
    """Item 7: the layout must make the tree's bytes fall (files are reported: the modules add some),
    measured on the same spec (bench/layouts.py)."""
    lay = lay or {}
    now, before, whole = lay.get("now"), lay.get("before"), lay.get("kustomize_whole_overlays")
    value = _ratio(now["kustomize"]["bytes"], whole["bytes"]) if now and whole else None
    add(f"tree at N={TARGET_N}: kustomize/ bytes, Components / every overlay whole", value, "< 1 (falls)",
        None if value is None else value < 1, "" if whole else lay.get("whole_overlays_error", "not measured")[-120:])
    value = _ratio(now["terraform"]["bytes"], before["terraform"]["bytes"]) if now and before else None
    add(f"tree at N={TARGET_N}: terraform/ bytes, modules / a root per environment (gpc at {lay.get('before_ref')})",
        value, "< 1 (falls)", None if value is None else value < 1,
        "" if before else lay.get("before_error", "not measured")[-120:])


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def markdown(data: dict[str, Any]) -> str:
    meta = data["meta"]
    lines = [
        "# gpc benchmark results",
        "",
        f"Run {meta['when']} on {meta['cpus']} CPUs, Python {meta['python']}, Linux {meta['kernel']}, gpc at "
        f"{meta['git']}. Workspace: {meta['workspace']}. Load average at start "
        f"{meta['load_at_start'][0]:.2f}, at end {meta['load_at_end'][0]:.2f} (other work on the machine adds noise: "
        "compare rows of the same run). Took {:.0f} s.".format(meta["bench_seconds"]),
        "",
        (f"Timed a copy of gpc's code: {meta['src']}. " if meta.get("src") else "") + "Targets that import: " + ", ".join(f"{t} ({s if s == 'ok' else 'missing'})" for t, s in meta["targets"].items())
        + ".",
    ]
    if "kapitan" in meta:
        k = meta["kapitan"]
        inst = f", installed in {k['install_seconds']:.1f} s" if k.get("install_seconds") else ""
        lines.append(f"Kapitan {k['version']} in {k['venv']} ({k['status']}{inst}).")
    lines += ["", "## Targets (issue 19; issue 8's below it)", "",
              "Ratios of median wall times, as the issues define them. On a busy machine wall times stretch with "
              "the load; the same ratio of median CPU seconds (user + sys) is beside it, and a ratio goal PASSes "
              "only when both meet it (Kapitan's is wall only: it runs workers in parallel).", "",
              "| issue | target | measured | goal | status | same ratio in CPU s | note |",
              "|---|---|---|---|---|---|---|"]
    for c in data["targets"]:
        lines.append(f"| {c.get('issue', '8')} | {c['target']} | {_f(c['value'], 2)} | {c['goal']} | {c['status']} | "
                     f"{_f(c.get('cpu_ratio'), 2)} | {c['note']} |")
    lines += ["", "## Whole-process times (median wall; output on tmpfs unless the row says disk)", "",
              "| N | command | runs | wall s (min-max) | CPU s | peak RSS MB | ms / workload | load |",
              "|---|---|---|---|---|---|---|---|"]
    for n, row in sorted(data["sizes"].items(), key=lambda kv: int(kv[0])):
        for key, label in ROWS:
            m = row["measurements"].get(key)
            if not m:
                continue
            if key == "compile":
                label = f"gpc compile ({', '.join(row['compile_targets'])})" if len(row["compile_targets"]) < 5 \
                    else "gpc compile (all targets)"
            if not m.get("ok"):
                lines.append(f"| {n} | {label} | {len(m['runs'])} | FAILED | | | | |")
                continue
            lines.append(f"| {n} | {label} | {len(m['runs'])} | {_f(m['wall_median'])} ({_f(m['wall_min'])}-"
                         f"{_f(m['wall_max'])}) | {_f(m['cpu_median'], 2)} | {m['maxrss_mb']:.0f} | "
                         f"{m['ms_per_workload']:.2f} | {m.get('load_before', 0.0):.1f} |")
    lines += ["", "## Output trees", "",
              "Kapitan renders the kinds gpc's kustomize target writes (bench/test_bench.py checks it), whole per "
              "environment; compare its tree with gpc's `kustomize/` subtree.", "",
              "| N | spec KB | gpc files | gpc MB | gpc kustomize/ files | gpc kustomize/ MB | Kapitan files | "
              "Kapitan MB | Kapitan / kustomize/ files | bytes |", "|---|---|---|---|---|---|---|---|---|---|"]
    for n, row in sorted(data["sizes"].items(), key=lambda kv: int(kv[0])):
        t, kt, kp = row.get("tree"), row.get("kustomize_tree"), row.get("kapitan_tree")
        r = row["ratios"]
        lines.append(f"| {n} | {row['spec_bytes'] / 1024:.0f} | {t['files'] if t else '-'} | "
                     f"{_f(t['bytes'] / 1e6, 2) if t else '-'} | {kt['files'] if kt else '-'} | "
                     f"{_f(kt['bytes'] / 1e6, 2) if kt else '-'} | "
                     f"{kp['files'] if kp else '-'} | {_f(kp['bytes'] / 1e6, 2) if kp else '-'} | "
                     f"{_f(r.get('kapitan_files_over_kustomize'), 2)} | {_f(r.get('kapitan_bytes_over_kustomize'), 2)} |")
    lay = (data["sizes"].get(str(TARGET_N)) or {}).get("layouts")
    if lay and lay.get("now"):
        before, whole = lay.get("before") or {}, lay.get("kustomize_whole_overlays")
        lines += ["", f"## The tree by layout at N={TARGET_N} (issue 19, item 7; bench/layouts.py)", "",
                  f"The same spec: this gpc; this gpc with every kustomize overlay whole (no Components); gpc at "
                  f"{lay['before_ref']}, before `terraform/modules/` and the Components. What gpc emits beyond "
                  f"{lay['before_ref']} (e.g. object-store monitoring) counts against this gpc's folders.", "",
                  "| folder | files | MB | files, overlays whole | MB, overlays whole | files at ref | MB at ref |",
                  "|---|---|---|---|---|---|---|"]
        for folder, stats in lay["now"].items():
            w = whole if folder == "kustomize" else None
            b = before.get(folder)
            lines.append(f"| {folder} | {stats['files']} | {_f(stats['bytes'] / 1e6, 2)} | "
                         f"{w['files'] if w else '-'} | {_f(w['bytes'] / 1e6, 2) if w else '-'} | "
                         f"{b['files'] if b else '-'} | {_f(b['bytes'] / 1e6, 2) if b else '-'} |")
    lines += ["", "## Ratios (same run)", "",
              "| N | Kapitan / gpc compile | Kapitan fork / gpc compile | Kapitan / gpc kustomize only | "
              "gpc compile / floor | same, on disk | Kapitan / its floor | gpc validate / check-jsonschema | "
              "--check / compile | no-op / --check | same, on disk |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n, row in sorted(data["sizes"].items(), key=lambda kv: int(kv[0])):
        r = row["ratios"]
        lines.append(f"| {n} | {_x(r['kapitan_over_compile'])} | {_x(r['kapitan_fork_over_compile'])} | "
                     f"{_x(r['kapitan_over_kustomize'])} | {_x(r['compile_over_floor'])} | "
                     f"{_x(r['compile_disk_over_floor_disk'])} | {_x(r['kapitan_over_its_floor'])} | "
                     f"{_f(r['validate_over_check_jsonschema'], 2)} | {_f(r.get('check_over_compile'), 2)} | "
                     f"{_f(r.get('noop_over_check'), 2)} | {_f(r.get('noop_disk_over_check_disk'), 2)} |")
    lines += ["", "## Scaling: k in t ∝ N^k, and marginal cost", "", "| from → to | command | k | marginal ms / workload |",
              "|---|---|---|---|"]
    for s in data["scaling"]:
        for key, label in ROWS:
            if key in s:
                lines.append(f"| {s['from']} → {s['to']} | {label} | {_f(s[key]['k'], 2)} | "
                             f"{_f(s[key]['marginal_ms_per_workload'], 3)} |")
    phases = [(n, key, m["extra"]) for n, row in sorted(data["sizes"].items(), key=lambda kv: int(kv[0]))
              for key, m in row["measurements"].items() if key.startswith("kapitan") and m.get("extra")]
    if phases:
        lines += ["", "Kapitan's own log of its last run: inventory rendering and target compilation (the rest "
                  "of its wall time is imports, worker start-up and copying).", "",
                  "| N | variant | inventory s | compile targets s |", "|---|---|---|---|"]
        lines += [f"| {n} | {key} | {_f(e.get('inventory_s'), 2)} | {_f(e.get('compile_targets_s'), 2)} |"
                  for n, key, e in phases]
    f = data["fraud"]
    lines += ["", "## specs/fraud.yaml (pre-commit case)", "", "| command | runs | wall s (min-max) | CPU s | peak RSS MB |",
              "|---|---|---|---|---|"]
    for key in ("validate", "check_jsonschema", "python_startup"):
        m = f[key]
        if m.get("ok"):
            lines.append(f"| {m['label']} | {len(m['runs'])} | {_f(m['wall_median'])} ({_f(m['wall_min'])}-"
                         f"{_f(m['wall_max'])}) | {_f(m['cpu_median'], 3)} | {m['maxrss_mb']:.0f} |")
    if meta.get("profile") == "ok":
        lines += ["", f"The per-stage profile of gpc is in `profile-n{meta['profile_n']}.md` beside this file."]
    return "\n".join(lines) + "\n"
