"""What gpc would deliver: the kustomize target's overlays built by the real kustomize, and the
kyverno target's policies, for one IR."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler import names
from compiler.ir import Platform

WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")


@dataclass(frozen=True)
class Delivery:
    manifests: list[dict[str, Any]]  # every object of every workload overlay, built
    policies: list[dict[str, Any]]

    @property
    def workloads(self) -> list[dict[str, Any]]:
        return [m for m in self.manifests if m.get("kind") in WORKLOAD_KINDS]

    def workload(self, kind: str, name: str, namespace: str) -> dict[str, Any]:
        [found] = [m for m in self.workloads
                   if (m["kind"], m["metadata"]["name"], m["metadata"].get("namespace")) == (kind, name, namespace)]
        return found


def write_artifacts(platform: Platform, root: Path, targets: tuple[str, ...] = ("kustomize", "kyverno")) -> None:
    from targets import load_target

    for name in targets:
        for artifact in load_target(name).render(platform):
            path = root / artifact.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(artifact.text, encoding="utf-8")


def deliver(platform: Platform, root: Path, kubectl: str) -> Delivery:
    """Render both targets into `root` and build every workload overlay with one kustomize run.

    A root kustomization listing the overlays builds each of them exactly as Argo CD would (each
    overlay is built on its own, then the results are concatenated), in one process instead of
    one per overlay.
    """
    write_artifacts(platform, root)
    overlays = [names.overlay_dir(w.name, env.name) for w in platform.workloads for env in platform.environments]
    (root / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": overlays,
    }), encoding="utf-8")
    built = subprocess.run([kubectl, "kustomize", str(root)], capture_output=True, text=True)
    if built.returncode != 0:
        raise AssertionError(f"kubectl kustomize failed:\n{built.stderr}")
    manifests = [d for d in yaml.safe_load_all(built.stdout) if d]
    policy_dir = root / names.KYVERNO_DIR
    policies = [yaml.safe_load(p.read_text("utf-8")) for p in sorted(policy_dir.glob("*.yaml"))
                if p.name != "kustomization.yaml"]
    return Delivery(manifests, policies)
