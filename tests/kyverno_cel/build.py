"""What gpc would deliver: the kustomize target's overlays built by the real kustomize, and the
kyverno target's policies in both kinds, for one IR; and the Pods the cluster would create."""

from __future__ import annotations

import copy
import dataclasses
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler import names
from compiler.guardrails import POLICY_KINDS
from compiler.ir import Platform

WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")
POLICY_KIND_CHOICES = tuple(POLICY_KINDS)  # guardrails.policy_kind: ValidatingPolicy, ClusterPolicy
IMAGE_POLICY_KINDS = ("ImageValidatingPolicy",)


def is_image_policy(doc: dict[str, Any]) -> bool:
    return doc["kind"] in IMAGE_POLICY_KINDS or any("verifyImages" in r for r in doc["spec"].get("rules", []))


@dataclass(frozen=True)
class Delivery:
    platform: str  # the platform's name, which prefixes every policy's
    manifests: list[dict[str, Any]]  # every object of every workload overlay, built
    by_kind: dict[str, list[dict[str, Any]]]  # guardrails.policy_kind -> every policy it writes

    @property
    def workloads(self) -> list[dict[str, Any]]:
        return [m for m in self.manifests if m.get("kind") in WORKLOAD_KINDS]

    @property
    def pods(self) -> list[dict[str, Any]]:
        """The Pod each workload's controller creates."""
        return [pod_of(m) for m in self.workloads]

    def workload(self, kind: str, name: str, namespace: str) -> dict[str, Any]:
        [found] = [m for m in self.workloads
                   if (m["kind"], m["metadata"]["name"], m["metadata"].get("namespace")) == (kind, name, namespace)]
        return found

    def policies(self, kind: str) -> list[dict[str, Any]]:
        """The guardrail policies (CEL over the object) of `kind`."""
        return [p for p in self.by_kind[kind] if not is_image_policy(p)]

    def image_policies(self, kind: str) -> list[dict[str, Any]]:
        return [p for p in self.by_kind[kind] if is_image_policy(p)]

    def rule_id(self, kind: str, rule: str) -> str:
        """How the evaluator names gpc's rule `rule`: a ClusterPolicy's rule, or the whole
        ValidatingPolicy (named `<platform>-<rule>`)."""
        return rule if kind == "ClusterPolicy" else f"{self.platform}-{rule}"

    def rule_of(self, kind: str, rule_id: str) -> str:
        return rule_id if kind == "ClusterPolicy" else rule_id.removeprefix(f"{self.platform}-")


def pod_template(manifest: dict[str, Any]) -> dict[str, Any]:
    spec = manifest["spec"]
    return (spec["jobTemplate"]["spec"] if manifest["kind"] == "CronJob" else spec)["template"]  # type: ignore[no-any-return]


def pod_of(manifest: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """The Pod a controller creates from its template: the template's metadata and spec, in the
    controller's namespace (the controller adds labels and an owner reference, nothing a policy
    here reads)."""
    template = copy.deepcopy(pod_template(manifest))
    metadata = {**template.get("metadata", {}), "name": name or f"{manifest['metadata']['name']}-x7k2p",
                "namespace": manifest["metadata"]["namespace"]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}


def write_artifacts(platform: Platform, root: Path, targets: tuple[str, ...] = ("kustomize", "kyverno")) -> None:
    from targets import load_target

    for name in targets:
        for artifact in load_target(name).render(platform):
            path = root / artifact.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(artifact.text, encoding="utf-8")


def render_policies(platform: Platform, kind: str) -> list[dict[str, Any]]:
    from targets.kyverno import TARGET

    chosen = dataclasses.replace(platform, guardrails=dataclasses.replace(platform.guardrails, policy_kind=kind))
    return [yaml.safe_load(a.text) for a in TARGET.render(chosen)
            if a.path.endswith(".yaml") and not a.path.endswith("/kustomization.yaml")]


def deliver(platform: Platform, root: Path, kubectl: str) -> Delivery:
    """Render both targets into `root` and build every workload overlay with one kustomize run.

    A root kustomization listing the overlays builds each of them exactly as Argo CD would (each
    overlay is built on its own, then the results are concatenated), in one process instead of
    one per overlay. The policies are rendered in every kind `guardrails.policy_kind` offers.
    """
    write_artifacts(platform, root, ("kustomize",))
    overlays = [names.overlay_dir(w.name, env.name) for w in platform.workloads for env in platform.environments_of(w)]
    (root / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": overlays,
    }), encoding="utf-8")
    built = subprocess.run([kubectl, "kustomize", str(root)], capture_output=True, text=True)
    if built.returncode != 0:
        raise AssertionError(f"kubectl kustomize failed:\n{built.stderr}")
    manifests = [d for d in yaml.safe_load_all(built.stdout) if d]
    return Delivery(platform.name, manifests, {kind: render_policies(platform, kind) for kind in POLICY_KIND_CHOICES})
