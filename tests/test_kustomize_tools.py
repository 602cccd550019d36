"""The kustomize output under the slower real tools and the adversarial inputs: checkov over the
whole compiled tree, hostile strings in every free-text field, and determinism across hash seeds."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BIN, CHECKOV_ENV, ROOT, all_spec_files, require_tool, spec_id
from test_kustomize import (
    CUSTOM_RESOURCES,
    SPEC_IDS,
    compile_and_build,
    compile_spec,
    container_of,
    pod_template,
    spec_path,
)

from compiler import names
from targets.kustomize.writable import with_home

# Every check the output skips, and why (the same reasons are written into the manifests).
ALLOWED_SKIPS = {
    "CKV_K8S_11": "the spec drops the CPU limit of this workload (resources.cpu_limit: false)",
    "CKV_K8S_14": "a base names its image without a tag; the overlay's image component sets it",
    "CKV_K8S_21": "a base has no namespace; every overlay sets it",
    "CKV_K8S_35": "the wiring contract passes credentials as secretKeyRef environment variables",
    "CKV_K8S_38": "only where the spec sets api_access",
    "CKV_K8S_43": "tags, not digests: CI bumps the tag in the CI-owned component",
    "CKV_K8S_40": "only a preview's own broker and object store: their images' users (999, 1001)",
}


def checkov_binary() -> str:
    return require_tool("checkov")


def run_checkov(tree: Path) -> list[dict[str, Any]]:
    kubectl = require_tool("kubectl")
    env = {**os.environ, **CHECKOV_ENV, "PATH": f"{Path(kubectl).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [checkov_binary(), "-d", str(tree), "--framework", "kubernetes", "kustomize", "--skip-download",
         "--compact", "-o", "json"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    reports = json.loads(done.stdout)
    return reports if isinstance(reports, list) else [reports]


def test_checkov_finds_nothing_and_every_skip_is_explained(tmp_path: Path) -> None:
    out = tmp_path / "out"
    # out/<case>/<spec name>: every valid case's spec is called platform.yaml.
    platforms = {sid: compile_spec(spec_path(sid, tmp_path), out / sid)[0] for sid in SPEC_IDS}
    # One checkov run per tree: one run over them all reported a single result for overlays that
    # render the same objects in two cases, so it could not show that each case's overlay was built.
    reports = []
    for sid in SPEC_IDS:
        for report in run_checkov(out / sid):
            for kind in ("passed_checks", "failed_checks", "skipped_checks"):
                for found in report["results"][kind]:
                    path = found["file_path"]
                    # As a run over out/ names it: /<case>/<spec name>/kustomize/...
                    found["file_path"] = f"/{sid}/{platforms[sid].spec_name}/{path[path.index('kustomize/'):]}"
            reports.append(report)
    by_type: dict[str, dict[str, Any]] = {}
    for report in reports:
        merged = by_type.setdefault(report["check_type"], {"results": {"passed_checks": []}})
        merged["results"]["passed_checks"] += report["results"]["passed_checks"]
    assert set(by_type) == {"kubernetes", "kustomize"}
    failures = [f"{r['check_type']} {f['check_id']} {f['resource']} ({f['file_path']})"
                for r in reports for f in r["results"]["failed_checks"]]
    assert not failures, "\n".join(failures)
    api_access = {f"/{sid}/{p.spec_name}/" for sid, p in platforms.items() if any(w.api_access for w in p.workloads)}
    for report in reports:
        assert report["summary"]["parsing_errors"] == 0
        assert report["summary"]["passed"] > 0
        for skip in report["results"]["skipped_checks"]:
            assert skip["check_id"] in ALLOWED_SKIPS, skip["check_id"]
            assert skip["check_result"].get("suppress_comment"), f"{skip['check_id']} skipped without a reason"
            if skip["check_id"] == "CKV_K8S_40":
                assert "/kustomize/_preview/" in skip["file_path"], skip["file_path"]
            if skip["check_id"] == "CKV_K8S_38":
                assert any(tree in skip["file_path"] for tree in api_access), skip["file_path"]
            if skip["check_id"] == "CKV_K8S_11":
                assert any(f"/{sid}/{p.spec_name}/kustomize/{w.name}/" in skip["file_path"]
                           for sid, p in platforms.items() for w in p.workloads
                           if any(not pl.effective_resources.cpu_limited for pl in w.placements)), skip["file_path"]
    # The kustomize framework must really have built every workload overlay of every spec.
    passed = by_type["kustomize"]["results"]["passed_checks"]
    scanned = {f["file_path"].rsplit("/kustomization.yaml", 1)[0] for f in passed}
    for sid, p in platforms.items():
        for w in p.workloads:
            for env in p.environments_of(w):
                overlay = f"/{sid}/{p.spec_name}/{names.overlay_dir(w.name, env.name)}"
                assert any(s.endswith(overlay) for s in scanned), f"checkov did not build {overlay}"


# -- hostile strings ---------------------------------------------------------------------------

HOSTILE = ("a \"quoted\" 'single' value: with\nnew: line\n- item\n{{ .Values.secret }} # not a comment\n"
           "--- \n... {a: b} [c, d] &anchor *alias !!python/object:os.system ${X} `id` \\ \t end ")


def _hostile_spec(tmp: Path) -> Path:
    spec = yaml.safe_load((ROOT / "specs" / "fraud.yaml").read_text("utf-8"))
    spec["description"] = HOSTILE
    for w in spec["workloads"].values():
        w["description"] = HOSTILE
        w["env"]["HOSTILE"] = HOSTILE
    spec["workloads"]["checkout"]["health"]["path"] = "/" + HOSTILE
    spec["workloads"]["fraud-trainer"]["command"] = [HOSTILE, "--flag: value"]
    spec["workloads"]["fraud-trainer"]["args"] = [HOSTILE, "#"]
    spec["environments"]["prod"]["overrides"]["workloads"]["checkout"]["env"] = {"PROD_ONLY": HOSTILE}
    spec["messaging"]["queues"]["checkout-events"]["description"] = HOSTILE
    spec["messaging"]["queues"]["checkout-events"]["message_schema"]["title"] = HOSTILE
    spec["storage"]["buckets"]["fraud-models"]["description"] = HOSTILE
    path = tmp / "hostile.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_hostile_strings_cannot_change_the_yaml_structure(tmp_path: Path) -> None:
    import kubernetes_validate

    compiled = compile_and_build(_hostile_spec(tmp_path), tmp_path / "out", "hostile")
    p = compiled.platform
    # Every generated file still parses, into exactly the shape gpc built.
    for artifact in compiled.artifacts:
        docs = list(yaml.safe_load_all(artifact.text))
        assert all(isinstance(d, (dict, list)) for d in docs), artifact.path
    base = yaml.safe_load((compiled.tree / "kustomize/fraud-trainer/base/cronjob.yaml").read_text("utf-8"))
    assert set(base) == {"apiVersion", "kind", "metadata", "spec"}
    assert base["metadata"]["annotations"]["kubernetes.io/description"] == HOSTILE
    for env in p.environments:
        for w in p.workloads:
            obj = compiled.workload(w, env.name)
            assert obj["metadata"]["annotations"]["kubernetes.io/description"] == HOSTILE
            container = pod_template(obj)["spec"]["containers"][0]
            values = {e["name"]: e.get("value") for e in container["env"]}
            assert values["HOSTILE"] == HOSTILE
            assert [e["name"] for e in container["env"]] == [v.name for v in with_home(w, w.placement(env.name).env_vars)]
            for doc in compiled.builds[names.overlay_dir(w.name, env.name)]:
                if (doc["apiVersion"], doc["kind"]) not in CUSTOM_RESOURCES:  # CRDs: test_contract_edges.py
                    kubernetes_validate.validate(doc, p.kubernetes_version, strict=True)
        checkout = container_of(compiled.workload(p.workload("checkout"), env.name))
        assert checkout["livenessProbe"]["httpGet"]["path"] == "/" + HOSTILE
        trainer = container_of(compiled.workload(p.workload("fraud-trainer"), env.name))
        assert trainer["command"] == [HOSTILE, "--flag: value"]
        assert trainer["args"] == [HOSTILE, "#"]
        contract = compiled.one(names.overlay_dir("checkout", env.name), "ConfigMap", "checkout-contract")
        assert json.loads(contract["data"]["checkout-events.schema.json"])["title"] == HOSTILE
    prod = container_of(compiled.workload(p.workload("checkout"), "prod"))
    assert {e["name"]: e.get("value") for e in prod["env"]}["PROD_ONLY"] == HOSTILE


# -- determinism -------------------------------------------------------------------------------


def _tree_bytes(tree: Path) -> dict[str, bytes]:
    return {str(p.relative_to(tree)): p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_compile_is_byte_identical_across_hash_seeds(spec: Path, tmp_path: Path) -> None:
    trees = []
    for seed in ("1", "4242"):
        out = tmp_path / f"seed-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([str(BIN / "gpc"), "compile", str(spec.relative_to(ROOT)), "-o", str(out),
                               "--target", "kustomize"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        trees.append(_tree_bytes(next(out.iterdir())))
    assert trees[0] == trees[1]
    assert any(path.startswith("kustomize/") for path in trees[0])
    for path, data in trees[0].items():
        assert b"\r" not in data and data.endswith(b"\n"), path
        assert str(ROOT).encode() not in data and str(tmp_path).encode() not in data, path


def test_rendering_is_pure_and_repeatable(tmp_path: Path) -> None:
    spec = next(p for p in all_spec_files() if spec_id(p) == "gpu-cron")
    from targets.kustomize import TARGET

    platform, first, _ = compile_spec(spec, tmp_path)
    second = TARGET.render(platform)
    assert [(a.path, a.text, a.owner) for a in first] == [(a.path, a.text, a.owner) for a in second]

