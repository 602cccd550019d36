"""The kyverno target: the guardrails as Kyverno policies, enforced in every cluster.

`kyverno/` holds one policy per guardrail, one per image CI signs, and a kustomization listing
them. It is the same in every environment: each environment's Argo CD syncs it into its own
cluster. `guardrails.policy_kind` picks the API: the CEL `ValidatingPolicy` and
`ImageValidatingPolicy` (policies.kyverno.io/v1, Kyverno >= 1.17, the default: `ClusterPolicy`
is deprecated and planned to be removed in Kyverno 1.20) or `ClusterPolicy` (kyverno.io/v1, with
`validate.cel` and `verifyImages`) for clusters on an older Kyverno. Both carry the same CEL, so
the test suite runs them, with real CEL engines, against every manifest gpc generates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from compiler import names
from compiler.diagnostics import Diagnostic
from compiler.ir import Platform
from compiler.target import Artifact
from compiler.yamlout import dump
from targets.kyverno import cluster_policy, pull_secret, validating_policy
from targets.kyverno.images import IMAGE, SignedImage, preview_signed_images, signed_images
from targets.kyverno.policy import (
    MAX_POLICY_NAME,
    kustomization,
    policy_file,
    policy_name,
    workload_namespaces,
)
from targets.kyverno.readme import readme
from targets.kyverno.rules import REGISTRY, Rule, guardrail_rules

# guardrails.policy_kind -> (a guardrail's policy, an image's signature policy)
WRITERS: dict[str, tuple[Callable[[Platform, Rule], dict[str, Any]],
                         Callable[[Platform, SignedImage], dict[str, Any]]]] = {
    "ValidatingPolicy": (validating_policy.guardrail_policy, validating_policy.image_policy),
    "ClusterPolicy": (cluster_policy.guardrail_policy, cluster_policy.image_policy),
}


class KyvernoTarget:
    name = "kyverno"
    description = "Kyverno policies enforcing the guardrails and image signatures in the cluster"

    def check(self, platform: Platform) -> list[Diagnostic]:
        file = platform.spec_file
        out = []
        for w in platform.workloads:
            if w.image_tag == "latest":
                out.append(Diagnostic(
                    "GPC340", f"workload '{w.name}' deploys image tag 'latest', which the cluster policy "
                    "rejects", file, platform.position((*w.path, "image_tag")),
                    hint="set image_tag to an immutable tag such as '1.0.0'"))
            where = ("workloads", w.name, "image") if w.image != f"{platform.registry}/{w.name}" else ("registry",)
            if not IMAGE.match(w.image):
                out.append(Diagnostic(
                    "GPC343", f"image '{w.image}' of workload '{w.name}' is not a registry host, an optional "
                    "port and a lowercase path", file, platform.position(where),
                    hint="write it like 'ghcr.io/acme/checkout', without a tag"))
            elif not w.repo:
                out.append(Diagnostic(
                    "GPC344", f"workload '{w.name}' names no repo, so no delivery workflow signs its image "
                    f"'{w.image}' and the cluster admits it unverified", file,
                    platform.position(("workloads", w.name)),
                    hint="set repo to the GitHub repository whose CI builds the image"))
        for index, registry in enumerate(platform.guardrails.allowed_registries):
            if not REGISTRY.match(registry):
                out.append(Diagnostic(
                    "GPC341", f"allowed registry '{registry}' is not a registry host with an optional port "
                    "and path", file, platform.position(("guardrails", "allowed_registries", index)), hint="write it like 'ghcr.io/acme' or 'registry.example.com:5000/ml'"))
        policies = [r.name for r in guardrail_rules(platform)] + [
            s.name for s in signed_images(platform) + preview_signed_images(platform)]
        longest = max((policy_name(platform, p) for p in policies), key=len)
        if len(longest) > MAX_POLICY_NAME:
            out.append(Diagnostic(
                "GPC342", f"policy name '{longest}' is longer than {MAX_POLICY_NAME} characters",
                file, platform.position(("name",)), hint=f"shorten the platform name (or the workload name "
                f"it ends in) by {len(longest) - MAX_POLICY_NAME} characters"))
        return out

    def render(self, platform: Platform) -> list[Artifact]:
        # A policy matching an empty namespace list would match every namespace in Kyverno: a
        # platform without workloads gets no policies rather than policies on the whole cluster.
        if not workload_namespaces(platform):
            docs: dict[str, dict[str, Any]] = {}
        else:
            guardrail, image = WRITERS[platform.guardrails.policy_kind]
            docs = {r.name: guardrail(platform, r) for r in guardrail_rules(platform)}
            docs.update({s.name: image(platform, s) for s in signed_images(platform) + preview_signed_images(platform)})
            if pull_secret.wanted(platform):
                docs[pull_secret.NAME] = pull_secret.WRITERS[platform.guardrails.policy_kind](platform)
        artifacts = [Artifact(policy_file(name), dump(doc, platform.spec_file)) for name, doc in docs.items()]
        if docs:
            artifacts.append(Artifact(f"{names.KYVERNO_DIR}/README.md", readme(platform)))
        artifacts.append(Artifact(f"{names.KYVERNO_DIR}/kustomization.yaml",
                                  dump(kustomization([policy_file(n) for n in docs]), platform.spec_file)))
        return sorted(artifacts, key=lambda a: a.path)

    def render_parts(self, platform: Platform) -> Iterator[list[Artifact]]:
        yield self.render(platform)  # a few small files (under 20 MB at N=5000): one part


TARGET = KyvernoTarget()
