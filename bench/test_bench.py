"""Tests of the benchmark's own parts: the generated spec is valid and clean, deterministic and
has the promised mix; the Kapitan project covers the same workloads; the floor writes exactly
the tree it read; the report's arithmetic. (The timings themselves are not tests: design §9.)

Run: .venv/bin/pytest bench/test_bench.py
"""

from __future__ import annotations

import collections
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH), str(BENCH.parent / "tests")]

import floor  # noqa: E402
import kapitan_project  # noqa: E402
import report  # noqa: E402
import specgen  # noqa: E402
from conftest import require_tool  # noqa: E402

from compiler.pipeline import check  # noqa: E402


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 23, 100])
def test_generated_spec_has_no_diagnostics(tmp_path: Path, n: int) -> None:
    spec = tmp_path / f"bench-{n}.yaml"
    spec.write_text(specgen.render(n), encoding="utf-8")
    result = check(spec)
    assert result.diagnostics == []
    assert result.platform is not None
    assert len(result.platform.workloads) == n
    assert [e.name for e in result.platform.environments] == ["dev", "staging", "prod"]


def test_generated_spec_compiles_with_no_diagnostics(tmp_path: Path) -> None:
    """All five targets, monitoring, a database, routes and egress: the bench times the finished output."""
    from compiler.pipeline import compile_spec

    spec = tmp_path / "bench-20.yaml"
    spec.write_text(specgen.render(20), encoding="utf-8")
    compiled = compile_spec(spec, tmp_path / "out")
    assert compiled.diagnostics == [] and compiled.plan is not None
    paths = set(compiled.plan.files)
    for part in ("dashboard.yaml", "prometheusrule.yaml", "httproute.yaml", "migrate-job.yaml", "modules/database/main.tf"):
        assert any(p.endswith(part) for p in paths), part


def test_generated_spec_is_deterministic() -> None:
    assert specgen.render(57) == specgen.render(57)
    assert specgen.render(57) != specgen.render(58)


def test_mix_of_workloads() -> None:
    spec = specgen.build(1000)
    kinds = collections.Counter(
        "service" if w["type"] == "service" else "cron" if "schedule" in w else "job" for w in spec["workloads"].values()
    )
    assert kinds == {"service": 600, "cron": 250, "job": 150}
    gpu_crons = [w for w in spec["workloads"].values() if "schedule" in w and w.get("resources", {}).get("gpu")]
    assert len(gpu_crons) == 63  # every fourth cron job, rounded up
    uses = [u for w in spec["workloads"].values() for u in w.get("uses", {}).values()]
    for kind in ("queue", "bucket", "volume", "service"):
        assert sum(kind in u for u in uses) >= 100, kind
    overridden = {name for env in spec["environments"].values()
                  for name in env.get("overrides", {}).get("workloads", {})}
    assert len(overridden) == 450  # four or five of every ten


def test_kapitan_project_mirrors_the_spec(tmp_path: Path) -> None:
    spec = specgen.build(20)
    counts = kapitan_project.write_project(spec, tmp_path / "k")
    inventory = tmp_path / "k" / "inventory"
    assert counts == {"components": 20, "targets": 3, "files": 3 * (12 * 6 + 8 * 4)}
    assert sorted(p.stem for p in (inventory / "classes" / "components").glob("*.yml")) == sorted(spec["workloads"])
    prod = yaml.safe_load((inventory / "targets" / "prod.yml").read_text())
    assert len(prod["classes"]) == 2 + 20
    assert prod["parameters"]["components"]["payments-0-api"] == {"replicas": 4, "cpu": "1", "memory": "1Gi"}
    api: dict[str, Any] = yaml.safe_load((inventory / "classes" / "components" / "payments-0-api.yml").read_text())
    env = api["parameters"]["components"]["payments-0-api"]["env"]
    assert env["AMQP_URL"] == {"secret": "payments-0-api-credentials", "key": "AMQP_URL"}
    assert env["API_TOKEN"] == {"secret": "payments-0-api-app-secrets", "key": "API_TOKEN"}


def test_floor_writes_the_tree_it_read(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "a" / "b").mkdir(parents=True)
    (src / "a" / "b" / "x.yaml").write_text("x: 1\n")
    (src / "top.md").write_text("# é\n")
    blob = tmp_path / "tree.marshal"
    assert floor.snapshot(str(src), str(blob)) == (2, len(b"x: 1\n") + len("# é\n".encode()))
    floor.write(str(blob), str(tmp_path / "dst"))
    written = {p.relative_to(tmp_path / "dst"): p.read_bytes() for p in (tmp_path / "dst").rglob("*") if p.is_file()}
    assert written == {Path("a/b/x.yaml"): b"x: 1\n", Path("top.md"): "# é\n".encode()}


def test_scaling_exponent() -> None:
    assert report.exponent(100, 1.0, 1000, 10.0) == pytest.approx(1.0)
    assert report.exponent(100, 1.0, 1000, 100.0) == pytest.approx(2.0)
    assert report.exponent(100, 1.0, 1000, 1.0) == pytest.approx(0.0)
    assert report.exponent(100, None, 1000, 1.0) is None
    assert math.isclose(report.exponent(10, 0.3, 100, 0.6) or 0, math.log10(2))


def _resolve(value: Any, env: dict[str, str]) -> Any:
    """reclass's `${env:key}` references, resolved as Kapitan's inventory would."""
    if isinstance(value, str):
        return re.sub(r"\$\{env:([a-z_]+)\}", lambda m: env[m[1]], value)
    if isinstance(value, dict):
        return {k: _resolve(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, env) for v in value]
    return value


def test_kapitan_templates_render_valid_manifests(tmp_path: Path) -> None:
    """The Kapitan side does real work: its manifests build with kustomize and pass strict
    Kubernetes validation (templates rendered here with Kapitan's Jinja2 settings)."""
    import jinja2

    kubectl, validate = require_tool("kubectl"), require_tool("kubernetes-validate")
    spec = specgen.build(10)
    kapitan_project.write_project(spec, tmp_path / "k")
    inventory = tmp_path / "k" / "inventory"
    env = yaml.safe_load((inventory / "classes" / "env" / "prod.yml").read_text())["parameters"]["env"]
    overrides = yaml.safe_load((inventory / "targets" / "prod.yml").read_text())["parameters"]["components"]
    jinja = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path / "k")), undefined=jinja2.StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    for name in ("payments-0-api", "payments-0-trainer", "payments-0-backfill"):
        cls = yaml.safe_load((inventory / "classes" / "components" / f"{name}.yml").read_text())["parameters"]
        component = {**cls["components"][name], **overrides.get(name, {})}
        context = {"inventory": {"parameters": {"platform": spec["name"], "env": env,
                                                "components": {name: _resolve(component, env)}}},
                   "input_params": {"name": name}}
        out = tmp_path / "compiled" / name
        out.mkdir(parents=True)
        for template in cls["kapitan"]["compile"][0]["input_paths"]:
            text = jinja.get_template(template).render(context)
            (out / Path(template).name.removesuffix(".j2")).write_text(text + "\n")
        built = subprocess.run([kubectl, "kustomize", str(out)], capture_output=True, text=True, check=True).stdout
        kinds = [d["kind"] for d in yaml.safe_load_all(built)]
        assert len(kinds) == len(cls["kapitan"]["compile"][0]["input_paths"]) - 1
        (out / "built.yaml").write_text(built)
        checked = subprocess.run([validate, "--strict", "-k", "1.35", str(out / "built.yaml")], capture_output=True,
                                 text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def _m(wall: float, cpu: float | None = None, rss: float = 100.0) -> dict[str, Any]:
    return {"ok": True, "wall_median": wall, "cpu_median": wall if cpu is None else cpu, "maxrss_mb": rss, "runs": []}


def test_issue_19_targets() -> None:
    """Each target of issue 19 gets its verdict from the right rows; a wall ratio that passes only
    because of the load (its CPU ratio fails) is not a PASS."""
    ms = {"compile": _m(4.0), "compile_check": _m(3.0, cpu=3.9), "floor": _m(1.0), "kapitan": _m(80.0),
          "compile_check_disk": _m(3.0), "compile_noop_disk": _m(3.3)}
    big = {"compile": _m(24.0, rss=420.0)}
    results = {"meta": {}, "fraud": {"validate": _m(0.2), "check_jsonschema": _m(0.4, cpu=0.35)},
               "sizes": {"1000": {"measurements": ms, "compile_targets": list(range(5)),
                                  "tree": {"files": 30000, "bytes": 80e6}},
                         "5000": {"measurements": big, "compile_targets": list(range(5))}}}
    data = report.to_json(results)
    status = {c["target"]: (c["status"], c["value"]) for c in data["targets"]}
    assert status["Kapitan / gpc compile at N=1000"] == ("PASS", 20.0)
    assert status["gpc compile / floor at N=1000"] == ("FAIL", 4.0)
    assert status["gpc compile --check / gpc compile at N=1000"][0] == "FAIL"  # 0.75 wall, 0.98 CPU
    assert status["gpc validate / check-jsonschema on specs/fraud.yaml"] == ("FAIL", 0.5)  # CPU 0.57
    assert status["no-op gpc compile / --check on disk at N=1000"] == ("PASS", pytest.approx(1.1))
    assert status["gpc compile peak RSS at N=5000 (MB)"] == ("FAIL", 420.0)
    exponent = status["gpc compile scaling exponent 1000 -> 5000"]
    assert exponent[0] == "FAIL" and exponent[1] == pytest.approx(math.log(24 / 4) / math.log(5))
    assert status["tree at N=1000: files"] == ("n/a", 30000)
