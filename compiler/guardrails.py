"""The guardrails, defined once. gpc's compile-time check (GPC209/211/217) and the Kyverno
policies both come from these definitions, and a differential test proves they agree.
(compiler/resolve.py builds `ir.Guardrails` from the spec.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import ir_values
from compiler.quantity import parse_quantity

if TYPE_CHECKING:
    from compiler import ir

KIND_OF_TYPE = {"service": ("Deployment",), "job": ("Job", "CronJob")}

# The Kyverno kinds each `guardrails.policy_kind` is delivered as, (API group, kind): what the
# kyverno target writes and what Argo CD's AppProject must allow at cluster scope.
POLICY_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "ValidatingPolicy": (("policies.kyverno.io", "ImageValidatingPolicy"), ("policies.kyverno.io", "ValidatingPolicy")),
    "ClusterPolicy": (("kyverno.io", "ClusterPolicy"),),
}
# The kind of the policy that copies the registry pull secret into each preview namespace, written
# only for a platform with previews and a private registry (targets/kyverno/pull_secret.py).
PULL_SECRET_POLICY_KIND: dict[str, tuple[str, str]] = {
    "ValidatingPolicy": ("policies.kyverno.io", "GeneratingPolicy"),
    "ClusterPolicy": ("kyverno.io", "ClusterPolicy"),
}


def copies_pull_secret(platform: ir.Platform) -> bool:
    """Whether the kyverno target writes that policy."""
    return platform.previews is not None and platform.pull_secret is not None


@dataclass(frozen=True)
class Violation:
    code: str
    rule: str  # the Kyverno rule that enforces the same thing in the cluster
    resource: str
    message: str


def max_rule_name(rule: ir_values.MaxRule) -> str:
    return f"max-{rule.resource}-{rule.workload_type}"


def check_resources(guardrails: ir_values.Guardrails, workload_type: str,
                    resources: ir_values.Resources) -> list[Violation]:
    """Every max rule the given resources break."""
    out = []
    for rule in guardrails.max_rules:
        if rule.workload_type != workload_type:
            continue
        if rule.resource == "gpu":
            if resources.gpu > int(rule.limit):
                if int(rule.limit) == 0:
                    out.append(Violation("GPC217", max_rule_name(rule), "gpu",
                                         f"asks for {resources.gpu} GPU(s) but guardrails allow no GPUs "
                                         f"for {workload_type}s"))
                else:
                    out.append(Violation("GPC209", max_rule_name(rule), "gpu",
                                         f"asks for {resources.gpu} GPUs, more than the {workload_type} "
                                         f"maximum of {rule.limit}"))
            continue
        asked = getattr(resources, rule.resource)
        if parse_quantity(asked) > parse_quantity(rule.limit):
            out.append(Violation("GPC209", max_rule_name(rule), rule.resource,
                                 f"asks for {rule.resource} {asked}, more than the {workload_type} maximum "
                                 f"of {rule.limit}"))
    return out


def registry_prefixes(guardrails: ir_values.Guardrails) -> tuple[str, ...]:
    """What an allowed image starts with: an allowed registry followed by '/', so `ghcr.io/acme`
    does not admit `ghcr.io/acme-evil/x`. The Kyverno policy tests the same prefixes."""
    return tuple(prefix + "/" for prefix in guardrails.allowed_registries)


def image_allowed(guardrails: ir_values.Guardrails, image: str) -> bool:
    """Whether `image` (a repository, with or without tag) is under an allowed registry."""
    return any(image.startswith(prefix) for prefix in registry_prefixes(guardrails))
