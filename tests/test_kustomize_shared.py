"""What environments' overlays share is written once (targets/kustomize/shared.py), and that
changes nothing Argo CD deploys.

For every valid spec the kustomize target renders twice: whole overlays (`share=False`, the layout
before Components) and the shipped layout. `kubectl kustomize` of every workload overlay and every
preview folder must print the same bytes from both trees, as gpc seeds the image Components and
again after CI's first delivery rewrote them (which drops the bootstrap patches the shared
Components are ordered before). And what is left in the overlays must really differ: no file of
an overlay equals the same file of another environment's overlay of that workload.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from conftest import all_spec_files, load_ir, require_tool, spec_id

from compiler import names, writer
from compiler.ir import Platform
from compiler.ir_preview import preview_dir
from compiler.target import Artifact
from targets.kustomize import TARGET, KustomizeTarget

WHOLE = KustomizeTarget(share=False)


def _write(artifacts: list[Artifact], tree: Path) -> Path:
    writer.apply(writer.plan(artifacts, tree))
    return tree


def _folders(platform: Platform) -> list[str]:
    """Every folder Argo CD builds that a workload's overlay or Components feed."""
    out = [names.overlay_dir(w.name, e.name) for w in platform.workloads for e in platform.environments_of(w)]
    if platform.previews is not None:
        out += [preview_dir(s.slug) for s in platform.previews.sources]
    return out


def _deliver(platform: Platform, tree: Path) -> None:
    """CI's deliver step: every image Component rewritten whole, an `images:` entry only."""
    for w in platform.workloads:
        for env in platform.environments_of(w):
            component = tree / names.image_component_dir(w.name, env.name) / "kustomization.yaml"
            component.write_text(yaml.safe_dump({
                "apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
                "images": [{"name": w.image, "newTag": "3f2c1e0"}]}), encoding="utf-8")


def _builds(kubectl: str, tree: Path, folders: list[str]) -> dict[str, str]:
    def build(folder: str) -> str:
        done = subprocess.run([kubectl, "kustomize", str(tree / folder)], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, f"kubectl kustomize {folder} failed:\n{done.stderr}"
        return done.stdout

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(folders, pool.map(build, folders), strict=True))


def _overlay_files(artifacts: list[Artifact]) -> Iterator[tuple[str, str, str, str]]:
    """(workload, environment, file name, text) of every file directly in a workload overlay."""
    for a in artifacts:
        parts = a.path.split("/")
        if len(parts) == 5 and parts[0] == "kustomize" and parts[2] == "overlays" and not parts[1].startswith("_"):
            yield parts[1], parts[3], parts[4], a.text


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_shared_components_build_what_whole_overlays_build(spec: Path, tmp_path: Path) -> None:
    kubectl = require_tool("kubectl")
    platform = load_ir(spec)
    whole, shared = WHOLE.render(platform), TARGET.render(platform)
    inside = ("/overlays/", "/components/")
    # Outside the workloads' overlays and Components the two layouts are the same files.
    assert {a.path: a.text for a in whole if not any(s in a.path for s in inside)} == \
        {a.path: a.text for a in shared if not any(s in a.path for s in inside)}
    folders = _folders(platform)
    before, after = _write(whole, tmp_path / "whole"), _write(shared, tmp_path / "shared")
    assert _builds(kubectl, after, folders) == _builds(kubectl, before, folders)
    _deliver(platform, before)
    _deliver(platform, after)
    assert _builds(kubectl, after, folders) == _builds(kubectl, before, folders)
    assert sum(len(a.text) for a in shared) <= sum(len(a.text) for a in whole)


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_overlays_hold_only_what_differs(spec: Path) -> None:
    platform = load_ir(spec)
    texts: dict[tuple[str, str], dict[str, str]] = {}
    for workload, env, name, text in _overlay_files(TARGET.render(platform)):
        texts.setdefault((workload, name), {})[env] = text
    alike = {key: envs for key, envs in texts.items() if len(set(envs.values())) < len(envs)}
    assert alike == {}


def test_a_component_per_set_of_environments() -> None:
    """The case written for it: web's replicas patch and PodDisruptionBudget are alike in staging
    and prod alone; api, off in qa, has the same PodMonitor in its three environments."""
    spec = next(p for p in all_spec_files() if spec_id(p) == "shared-overlays")
    tree = {a.path: a.text for a in TARGET.render(load_ir(spec))}
    pair = "kustomize/web/components/staging+prod"
    assert yaml.safe_load(tree[f"{pair}/kustomization.yaml"])["resources"] == ["poddisruptionbudget.yaml"]
    assert f"{pair}/replicas-patch.yaml" in tree
    for env, expected in {"dev": [], "qa": [], "staging": ["../../components/staging+prod"],
                          "prod": ["../../components/staging+prod"]}.items():
        components = yaml.safe_load(tree[f"kustomize/web/overlays/{env}/kustomization.yaml"])["components"]
        # the Components shared by every environment, then those of some, then CI's image Component last
        assert components == ["../../components/shared", *expected, "image"], env
    assert "kustomize/api/components/shared/podmonitor.yaml" in tree
    assert not any(p.startswith("kustomize/api/overlays/qa/") for p in tree)
