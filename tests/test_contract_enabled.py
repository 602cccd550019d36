"""Per-environment switches as emitted, over the compiled tree of every spec (issue 14 item 7).

In an environment whose override says `enabled: false` for a workload, nothing of it exists: no
kustomize overlay (so no objects and no image file), no element in the environment's Argo CD
ApplicationSets, no broker or object-store user and no credentials Secret in its Terraform, no
peer in any NetworkPolicy of that environment, no image file its CI may write there, and no
promotion step into it. Everywhere else it is all there. Specs without switches pass trivially;
tests/cases/valid/switched-off is the one that bites.
"""

from __future__ import annotations

from typing import Any

import yaml
from conftest import compiled_tree
from test_terraform_support import locals_of, parse

from compiler import names


def _off(platform: Any) -> list[tuple[Any, Any]]:
    return [(w, env) for w in platform.workloads for env in platform.environments if not w.enabled_in(env.name)]


def test_a_switched_off_workload_leaves_nothing_in_its_environment(platform: Any) -> None:
    tree = compiled_tree(platform)
    for w, env in _off(platform):
        where = (w.name, env.name)
        assert not any(p.startswith(names.overlay_dir(w.name, env.name) + "/") for p in tree), where
        appsets = yaml.safe_load_all(tree.get(f"{names.argocd_dir(env.name)}/{w.group}.yaml", ""))
        elements = [e for doc in appsets if doc for g in doc["spec"]["generators"] for e in g["list"]["elements"]]
        assert w.name not in {e["name"] for e in elements}, where
        services = f"terraform/{env.name}/services/locals.tf"
        if services in tree:
            local = locals_of(parse(tree[services]))
            for key in ("broker_users", "bucket_users", "credentials"):
                assert w.name not in (local.get(key) or {}), (*where, key)
        cluster = locals_of(parse(tree[f"terraform/{env.name}/cluster/locals.tf"]))
        assert w.name not in cluster["workloads"], where
        for path, text in tree.items():
            if path.startswith("kustomize/") and f"/overlays/{env.name}/" in path and path.endswith(".yaml"):
                for doc in yaml.safe_load_all(text):
                    assert f"app.kubernetes.io/name: {w.name}\n" not in yaml.safe_dump(doc) or \
                        path.startswith(f"kustomize/{w.name}/"), (*where, path)
        workflows = f"github/{w.name}/.github/workflows/"
        assert f"{workflows}promote-{env.name}.yaml" not in tree, where
        policy = yaml.safe_load(tree["github/platform/guard/policy.json"])
        files = policy["workloads"].get(w.name, {}).get("image_files", [])
        assert not any(f"/overlays/{env.name}/" in f for f in files), where


def test_a_switched_on_workload_is_delivered_along_its_own_environments(platform: Any) -> None:
    tree = compiled_tree(platform)
    for w in platform.workloads:
        envs = [e.name for e in platform.environments_of(w)]
        assert envs, w.name  # GPC278: never switched off everywhere
        for env in envs:
            assert f"{names.overlay_dir(w.name, env)}/kustomization.yaml" in tree, (w.name, env)
        if w.repo is None:
            continue
        workflows = f"github/{w.name}/.github/workflows/"
        promotions = sorted(p.removeprefix(f"{workflows}promote-").removesuffix(".yaml") for p in tree
                            if p.startswith(f"{workflows}promote-"))
        assert promotions == sorted(envs[1:]), w.name
        deliver: dict[str, Any] = yaml.safe_load(tree[f"{workflows}{names.DELIVER_WORKFLOW}"])
        assert f"/overlays/{envs[0]}/" in yaml.safe_dump(deliver), (w.name, envs[0])
