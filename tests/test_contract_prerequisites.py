"""What the compiled tree uses but gpc does not install is written down, per environment, over every spec.

Every custom resource group the kustomize overlays of an environment contain must come from
something installed: KEDA by the environment's own Argo CD Application (argocd/<env>/keda.yaml), the
Prometheus Operator by argocd/<env>/monitoring.yaml where the environment says `install: true`;
the Gateway API, cert-manager and Cilium by the platform team, which the generated README's table
"What each cluster must already run" names for that environment. A HorizontalPodAutoscaler needs
metrics-server, named there too.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from conftest import compiled_tree

from compiler import names

# apiVersion group (or built-in kind) -> what the README row must name
PROVIDED = {
    "gateway.networking.k8s.io": "the Gateway API CRDs",
    "cert-manager.io": "cert-manager",
    "cilium.io": "Cilium",
    "HorizontalPodAutoscaler": "metrics-server",
    "monitoring.coreos.com": "the Prometheus Operator",
}
# Groups of built-in kinds, and of the custom resources whose operator gpc itself installs (KEDA,
# CloudNativePG, External Secrets), and kustomize's own files: every other group the output uses must be in PROVIDED.
INSTALLED = {"", "kustomize.config.k8s.io", "apps", "batch", "policy", "networking.k8s.io", "autoscaling", "rbac.authorization.k8s.io",
             "keda.sh", "postgresql.cnpg.io", "external-secrets.io", "generators.external-secrets.io"}


def _needs(tree: dict[str, str], env: str) -> set[str]:
    found = set()
    for path, text in tree.items():
        in_env = f"/overlays/{env}/" in path
        if not (path.startswith("kustomize/") and path.endswith(".yaml") and in_env):
            continue
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and "apiVersion" in doc:
                found.add(doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else "")
                found.add(doc.get("kind", ""))
    return found


def test_everything_the_output_uses_is_installed_or_listed(platform: Any) -> None:
    tree = compiled_tree(platform)
    readme = tree["README.md"]
    title = "### What each cluster must already run"
    section = readme.split(title, 1)[1].split("\n#", 1)[0] if title in readme else ""
    rows = dict(re.findall(r"^\| `([^`]+)` \| (.*) \|$", section, re.MULTILINE))
    for env in platform.environments:
        used = _needs(tree, env.name)
        groups = {u for u in used if u == "" or "." in u or u in {"apps", "batch", "policy", "autoscaling"}}
        unaccounted = groups - INSTALLED - set(PROVIDED)
        assert not unaccounted, f"{env.name}: the output uses {sorted(unaccounted)}, neither installed nor listed"
        for key, phrase in PROVIDED.items():
            if key == "monitoring.coreos.com" and env.monitoring is not None and env.monitoring.install:
                # gpc installs the Prometheus Operator there (argocd/<env>/monitoring.yaml), and the
                # README names the one thing the platform team still provides: Grafana's Secret.
                assert f"{names.argocd_dir(env.name)}/monitoring.yaml" in tree, env.name
                assert names.GRAFANA_ADMIN_SECRET in rows.get(env.name, ""), env.name
                assert phrase not in rows.get(env.name, ""), env.name
            elif key in used:
                assert phrase in rows.get(env.name, ""), (env.name, key)
        if "keda.sh" in used:
            assert f"{names.argocd_dir(env.name)}/keda.yaml" in tree, env.name
