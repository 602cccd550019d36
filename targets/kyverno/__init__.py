"""The kyverno target: the guardrails as Kyverno ClusterPolicies, enforced in every cluster.

`kyverno/` holds one ClusterPolicy per rule and a kustomization listing them. It is the same in
every environment: each environment's Argo CD syncs it into its own cluster. Rules are written in
CEL (`validate.cel`, Kyverno >= 1.13 for the per-rule `failureAction`) so that the test suite can
run them, with a real CEL engine, against every manifest gpc generates.
"""

from __future__ import annotations

from compiler import names
from compiler.diagnostics import Diagnostic
from compiler.ir import Platform
from compiler.target import Artifact
from compiler.yamlout import dump
from targets.kyverno.policy import (
    MAX_POLICY_NAME,
    cluster_policy,
    kustomization,
    policy_file,
    policy_name,
    workload_namespaces,
)
from targets.kyverno.rules import REGISTRY, guardrail_rules


class KyvernoTarget:
    name = "kyverno"
    description = "ClusterPolicies enforcing the guardrails in the cluster"

    def check(self, platform: Platform) -> list[Diagnostic]:
        file = platform.spec_file
        out = []
        for w in platform.workloads:
            if w.image_tag == "latest":
                out.append(Diagnostic(
                    "GPC340", f"workload '{w.name}' deploys image tag 'latest', which the cluster policy "
                    "rejects", file, platform.position((*w.path, "image_tag")),
                    hint="set image_tag to an immutable tag such as '1.0.0'"))
        for index, registry in enumerate(platform.guardrails.allowed_registries):
            if not REGISTRY.match(registry):
                out.append(Diagnostic(
                    "GPC341", f"allowed registry '{registry}' is not a registry host with an optional port "
                    "and path", file, platform.position(("guardrails", "allowed_registries", index)), hint="write it like 'ghcr.io/acme' or 'registry.example.com:5000/ml'"))
        longest = max((policy_name(platform, r) for r in guardrail_rules(platform)), key=len)
        if len(longest) > MAX_POLICY_NAME:
            out.append(Diagnostic(
                "GPC342", f"ClusterPolicy name '{longest}' is longer than {MAX_POLICY_NAME} characters",
                file, platform.position(("name",)), hint=f"shorten the platform name to at most "
                f"{MAX_POLICY_NAME - len(longest) + len(platform.name)} characters"))
        return out

    def render(self, platform: Platform) -> list[Artifact]:
        # A policy matching an empty namespace list would match every namespace in Kyverno: a
        # platform without workloads gets no policies rather than policies on the whole cluster.
        rules = guardrail_rules(platform) if workload_namespaces(platform) else []
        artifacts = [Artifact(policy_file(r), dump(cluster_policy(platform, r), platform.spec_file))
                     for r in rules]
        artifacts.append(Artifact(f"{names.KYVERNO_DIR}/kustomization.yaml",
                                  dump(kustomization(rules), platform.spec_file)))
        return sorted(artifacts, key=lambda a: a.path)


TARGET = KyvernoTarget()
