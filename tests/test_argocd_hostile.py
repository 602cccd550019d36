"""The argocd target against hostile input, odd specs and hash seeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from conftest import ROOT, all_spec_files, load_ir
from test_argocd import compile_platform, walk
from test_argocd_schema import errors

from targets.argocd import charts, observability, operators

# -- hostile input ---------------------------------------------------------------------------------

HOSTILE = {
    "repo": 'https://git.example.com/{{ .name }}/r.git\n  injected: "true"',
    "branch": 'main"}}: {{ template "x" . }}\n- - [x]',
    "path": "out/{{.path}}/#: x'\"",
}


def _shape(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return type(node).__name__


def test_hostile_gitops_values_cannot_change_structure_or_become_template_code(tmp_path: Path) -> None:
    spec = yaml.safe_load((ROOT / "specs" / "fraud.yaml").read_text("utf-8"))
    spec["gitops"] = dict(HOSTILE)
    hostile_file = tmp_path / "fraud.yaml"
    hostile_file.write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    hostile = load_ir(hostile_file)
    benign = compile_platform(load_ir(ROOT / "specs" / "fraud.yaml"))
    bad = compile_platform(hostile)  # expand() asserts templates are plain params or constants
    for env_name, objects in bad.envs.items():
        assert objects.files.keys() == benign.envs[env_name].files.keys()
        for file, documents in objects.files.items():
            assert _shape(documents) == _shape(benign.envs[env_name].files[file]), file
            for appset in (d for d in documents if d["kind"] == "ApplicationSet"):
                strings = [v for _, v in walk(appset["spec"]["template"]) if isinstance(v, str)]
                assert strings and not any(h in s for s in strings for h in HOSTILE.values())
                for element in appset["spec"]["generators"][0]["list"]["elements"]:
                    assert element["repoURL"] == HOSTILE["repo"]
                    assert element["revision"] == HOSTILE["branch"]
                    assert element["path"].startswith(HOSTILE["path"].strip("/") + "/kustomize/")
        for app in objects.applications:
            # The GitOps repo, or one of the charts gpc pins (services, CloudNativePG, KEDA, External
            # Secrets, Reloader, the Pushgateway): never a repo a hostile value names.
            assert app["spec"]["source"]["repoURL"] in (HOSTILE["repo"], *(c.source_repo for c in (
                charts.OBJECT_STORE, charts.BROKER, charts.DATABASE_OPERATOR, charts.KEDA, *operators.CHARTS.values(),
                observability.PUSHGATEWAY)))
            if app["spec"]["source"]["repoURL"] == HOSTILE["repo"]:
                assert app["spec"]["source"]["targetRevision"] == HOSTILE["branch"]


# -- determinism -----------------------------------------------------------------------------------


RENDER_ALL = """
import json, sys
from pathlib import Path
from compiler.pipeline import check
from targets.argocd import TARGET
out = {}
for spec in sys.argv[1:]:
    for artifact in TARGET.render(check(Path(spec)).platform):
        out[spec + ":" + artifact.path] = artifact.text
print(json.dumps(out))
"""


def test_output_is_byte_identical_across_hash_seeds() -> None:
    specs = [str(s) for s in all_spec_files()]
    outputs = []
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", RENDER_ALL, *specs], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True)
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert sum(key.endswith("/root.yaml") for key in json.loads(outputs[0])) >= len(specs)


def test_a_platform_without_workloads_delivers_nothing_but_its_root(tmp_path: Path) -> None:
    spec = tmp_path / "empty.yaml"
    spec.write_text("version: 1\nname: empty\nregistry: ghcr.io/acme\n"
                    "gitops: {repo: 'https://github.com/acme/x.git'}\nenvironments: {dev: {}}\nworkloads: {}\n",
                    "utf-8")
    compiled = compile_platform(load_ir(spec))
    objects = compiled.envs["dev"]
    assert sorted(objects.files) == ["project.yaml", "root.yaml"]
    project = objects.projects["empty-dev"]["spec"]
    assert project["destinations"] == [] and project["clusterResourceWhitelist"] == []
    for documents in objects.files.values():
        assert all(errors(d) == [] for d in documents)
