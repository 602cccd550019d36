"""Tests of the benchmark's own parts: the generated spec is valid and clean, deterministic and
has the promised mix; the Kapitan project covers the same workloads and renders every kind of
object gpc's kustomize target writes, as valid manifests; the floor writes exactly
the tree it read; the report's arithmetic. (The timings themselves are not tests: design §9.)

Run: .venv/bin/pytest bench/test_bench.py
"""

from __future__ import annotations

import collections
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH.parent), str(BENCH), str(BENCH.parent / "tests")]

import floor  # noqa: E402
import kapitan_project  # noqa: E402
import layouts  # noqa: E402
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
    rendered = _kapitan_render(tmp_path / "k")
    assert counts == {"components": 20, "targets": 3, "files": len(rendered)}
    assert sorted(p.stem for p in (inventory / "classes" / "components").glob("*.yml")) == sorted(spec["workloads"])
    prod = yaml.safe_load((inventory / "targets" / "prod.yml").read_text())
    assert len(prod["classes"]) == 3 + 20
    assert prod["parameters"]["components"]["payments-0-api"] == {"replicas": 4, "cpu": "1", "memory": "1Gi"}
    api: dict[str, Any] = yaml.safe_load((inventory / "classes" / "components" / "payments-0-api.yml").read_text())
    env = api["parameters"]["components"]["payments-0-api"]["env"]
    assert env["AMQP_URL"] == {"secret": "payments-0-api-credentials", "key": "AMQP_URL"}
    assert env["API_TOKEN"] == {"secret": "payments-0-api-app-secrets", "key": "API_TOKEN"}
    # The overrides reach the rendered manifests of their environment only.
    deployments = {e: yaml.safe_load(rendered[f"{e}/payments-0-api/deployment.yaml"]) for e in ("dev", "prod")}
    assert [deployments[e]["spec"]["replicas"] for e in ("dev", "prod")] == [2, 4]
    log_level = {e: next(v["value"] for v in d["spec"]["template"]["spec"]["containers"][0]["env"]
                         if v["name"] == "LOG_LEVEL") for e, d in deployments.items()}
    assert log_level == {"dev": "debug", "prod": "info"}


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


def _resolve(value: Any, env: dict[str, Any]) -> Any:
    """reclass's `${env:key}` references, resolved as Kapitan's inventory would."""
    if isinstance(value, str):
        return re.sub(r"\$\{env:([a-z_]+)\}", lambda m: str(env[m[1]]), value)
    if isinstance(value, dict):
        return {k: _resolve(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, env) for v in value]
    return value


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """reclass's merge: dictionaries deeply, lists appended, scalars replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + value
        else:
            out[key] = value
    return out


def _kapitan_render(root: Path, targets: tuple[str, ...] = ("dev", "staging", "prod")) -> dict[str, str]:
    """Every file `kapitan compile` writes for the project in `root` ("<target>/<path>" -> text):
    its inventory merged as reclass does, each compile item's templates rendered with Kapitan's
    Jinja2 settings (bench/.venv-kapitan/.../kapitan/utils.py: render_jinja2_file), so the test
    needs neither Kapitan nor its minutes. bench/run.py runs the real Kapitan on the same project."""
    import hashlib

    import jinja2

    inventory = root / "inventory"
    envs: dict[str, jinja2.Environment] = {}

    def template(path: Path) -> jinja2.Template:
        folder = str(path.parent)
        if folder not in envs:  # Kapitan: the template's folder first, then the search path (".")
            envs[folder] = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                              loader=jinja2.FileSystemLoader([folder, str(root)]),
                                              extensions=["jinja2.ext.do"])
            envs[folder].filters["sha256"] = lambda s: hashlib.sha256(str(s).encode()).hexdigest()
        return envs[folder].get_template(path.name)

    out: dict[str, str] = {}
    for target in targets:
        spec = yaml.safe_load((inventory / "targets" / f"{target}.yml").read_text())
        params: dict[str, Any] = {}
        for cls in spec["classes"]:
            data = yaml.safe_load((inventory / "classes" / (cls.replace(".", "/") + ".yml")).read_text())
            params = _merge(params, data["parameters"])
        params = _merge(params, spec["parameters"])
        params = _resolve(params, params["env"])
        for item in params["kapitan"]["compile"]:
            context = {"inventory": {"parameters": params}, "input_params": item.get("input_params", {}),
                       **params["kapitan"]["vars"]}
            for input_path in item["input_paths"]:
                source = root / input_path
                files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
                for f in files:
                    name = f.name if source.is_file() else str(f.relative_to(source))
                    out[f"{target}/{item['output_path']}/{name.removesuffix('.j2')}"] = template(f).render(context)
    return out


def _kinds(texts: Any) -> set[tuple[str, str]]:
    """(apiVersion, kind) of every object in these YAML texts (a JSON patch is a list: no kind)."""
    return {(d["apiVersion"], d["kind"]) for text in texts for d in yaml.safe_load_all(text)
            if isinstance(d, dict) and "kind" in d}


def test_kapitan_renders_every_kind_gpc_kustomize_writes(tmp_path: Path) -> None:
    """The reference does the same work: every kind of object gpc's kustomize target writes for
    the bench spec, Kapitan's project renders too (so it cannot silently fall behind gpc)."""
    from compiler.pipeline import compile_spec

    spec = tmp_path / "bench-20.yaml"
    spec.write_text(specgen.render(20), encoding="utf-8")
    compiled = compile_spec(spec, tmp_path / "out", ["kustomize"])
    assert compiled.diagnostics == [] and compiled.plan is not None
    gpc = _kinds(a.text for p, a in compiled.plan.files.items() if p.startswith("kustomize/"))
    kapitan_project.write_project(specgen.build(20), tmp_path / "k")
    kapitan = _kinds(_kapitan_render(tmp_path / "k").values())
    assert len(gpc) >= 15, gpc  # the comparison is not vacuous
    assert gpc - kapitan == set(), f"kinds gpc's kustomize target writes and the Kapitan project does not: {gpc - kapitan}"


def test_kapitan_templates_render_valid_manifests(tmp_path: Path) -> None:
    """The Kapitan side does real work: its manifests build with kustomize, the built-in kinds pass
    strict Kubernetes validation and the custom resources their CRDs' schemas."""
    from crd_models import TYPINGS, crd_tools, schema_errors, unknown_key_errors

    kubectl, validate = require_tool("kubectl"), require_tool("kubernetes-validate")
    node, tsc = crd_tools()
    kapitan_project.write_project(specgen.build(20), tmp_path / "k")
    out = tmp_path / "compiled"
    for path, text in _kapitan_render(tmp_path / "k", ("prod",)).items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text(text + "\n")
    builtin: list[dict[str, Any]] = []
    custom: list[dict[str, Any]] = []
    for folder in ("payments-0-api", "payments-0-gateway", "payments-0-trainer", "payments-0-backfill",
                   "search-0-migrate", "_platform", "_databases"):
        built = subprocess.run([kubectl, "kustomize", str(out / "prod" / folder)], capture_output=True, text=True,
                               check=True).stdout
        for doc in yaml.safe_load_all(built):
            if (doc["apiVersion"], doc["kind"]) in TYPINGS:
                custom.append(doc)
            elif "/" not in doc["apiVersion"] or doc["apiVersion"].split("/")[0].endswith("k8s.io") or \
                    doc["apiVersion"].split("/")[0] in ("apps", "batch", "policy"):
                builtin.append(doc)
    assert {d["kind"] for d in builtin} >= {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "Job",
                                            "CronJob", "ConfigMap"}
    assert {d["kind"] for d in custom} >= {"ServiceMonitor", "PodMonitor", "PrometheusRule", "AlertmanagerConfig",
                                           "HTTPRoute"}
    (tmp_path / "builtin.yaml").write_text(yaml.safe_dump_all(builtin))
    checked = subprocess.run([validate, "--strict", "-k", "1.35", str(tmp_path / "builtin.yaml")], capture_output=True,
                             text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert schema_errors(node, custom) == []
    (tmp_path / "ts").mkdir()
    assert unknown_key_errors(tsc, custom, tmp_path / "ts") == []


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
                                  "tree": {"files": 30000, "bytes": 80e6},
                                  "kustomize_tree": {"files": 25000, "bytes": 50e6},
                                  "kapitan_tree": {"files": 20000, "bytes": 45e6}},
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
    assert status["tree at N=1000: kustomize/ bytes, Components / every overlay whole"] == ("n/a", None)
    ratios = data["sizes"]["1000"]["ratios"]
    assert ratios["kapitan_files_over_kustomize"] == pytest.approx(0.8)
    assert ratios["kapitan_bytes_over_kustomize"] == pytest.approx(0.9)


def _folders(kustomize: float, terraform: float) -> dict[str, dict[str, float]]:
    return {"total": {"files": 3, "bytes": kustomize + terraform}, "kustomize": {"files": 2, "bytes": kustomize},
            "terraform": {"files": 1, "bytes": terraform}}


@pytest.mark.parametrize(("kustomize", "terraform", "verdicts"), [
    (49e6, 3e6, ("PASS", "PASS")),
    (51e6, 5e6, ("FAIL", "FAIL")),  # equal is not a fall either
    (50e6, 4e6, ("FAIL", "FAIL")),
])
def test_layout_targets_need_the_bytes_to_fall(kustomize: float, terraform: float, verdicts: tuple[str, str]) -> None:
    """Item 7: kustomize/ against the same gpc writing every overlay whole, terraform/ against gpc
    before the modules; both on the same spec, and only a fall passes."""
    layouts = {"before_ref": "d0cba11", "now": _folders(kustomize, terraform),
               "kustomize_whole_overlays": {"files": 3, "bytes": 50e6}, "before": _folders(40e6, 4e6)}
    results = {"meta": {"when": "", "cpus": 2, "python": "", "kernel": "", "git": "", "workspace": "",
                        "load_at_start": (0.0,), "load_at_end": (0.0,), "bench_seconds": 1.0, "targets": {}},
               "fraud": {"validate": {}, "check_jsonschema": {}, "python_startup": {}},
               "sizes": {"1000": {"measurements": {}, "compile_targets": list(range(5)),
                                  "spec_bytes": 1000, "layouts": layouts}}}
    data = report.to_json(results)
    status = {c["target"]: c["status"] for c in data["targets"]}
    assert (status["tree at N=1000: kustomize/ bytes, Components / every overlay whole"],
            status["tree at N=1000: terraform/ bytes, modules / a root per environment (gpc at d0cba11)"]) == verdicts
    table = report.markdown(data)
    assert "| kustomize | 2 | " in table and "| terraform | 1 | " in table


def test_layouts_without_the_reference_commit_say_why() -> None:
    """A shallow clone has no d0cba11: the terraform verdict is n/a with the reason, not a crash."""
    results = {"meta": {}, "fraud": {"validate": _m(0.2), "check_jsonschema": _m(0.4)},
               "sizes": {"1000": {"measurements": {"compile": _m(4.0)}, "compile_targets": list(range(5)),
                                  "layouts": {"before_ref": "d0cba11", "now": _folders(49e6, 3e6),
                                              "kustomize_whole_overlays": {"files": 3, "bytes": 50e6},
                                              "before_error": "fatal: not a valid object name d0cba11"}}}}
    checks = {c["target"]: c for c in report.to_json(results)["targets"]}
    terraform = checks["tree at N=1000: terraform/ bytes, modules / a root per environment (gpc at d0cba11)"]
    assert terraform["status"] == "n/a" and "not a valid object name" in terraform["note"]


def test_whole_overlays_measures_the_layout_without_components(tmp_path: Path) -> None:
    """bench/layouts.py's reference: fraud's kustomize/ with every overlay whole has as many files and more
    bytes than the committed out/fraud/kustomize/, which shares what environments render alike (with
    two environments, a shared file and its Component's kustomization replace one file per overlay)."""
    done = subprocess.run([sys.executable, str(BENCH / "layouts.py"), "whole-overlays", str(REPO / "specs/fraud.yaml")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    whole = json.loads(done.stdout)
    shared = layouts.folder_stats(REPO / "out" / "fraud")["kustomize"]
    assert whole["files"] >= shared["files"] and whole["bytes"] > shared["bytes"]
