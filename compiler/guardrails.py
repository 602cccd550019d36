"""The guardrails, defined once. gpc's compile-time check (GPC209/211/217) and the Kyverno
ClusterPolicies both come from these definitions, and a differential test proves they agree.
(compiler/resolve.py builds `ir.Guardrails` from the spec.)"""

from __future__ import annotations

from dataclasses import dataclass

from compiler import ir
from compiler.quantity import parse_quantity

KIND_OF_TYPE = {"service": ("Deployment",), "job": ("Job", "CronJob")}


@dataclass(frozen=True)
class Violation:
    code: str
    rule: str  # the Kyverno rule that enforces the same thing in the cluster
    resource: str
    message: str


def max_rule_name(rule: ir.MaxRule) -> str:
    return f"max-{rule.resource}-{rule.workload_type}"


def check_resources(guardrails: ir.Guardrails, workload_type: str, resources: ir.Resources) -> list[Violation]:
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


def registry_prefixes(guardrails: ir.Guardrails) -> tuple[str, ...]:
    """What an allowed image starts with: an allowed registry followed by '/', so `ghcr.io/acme`
    does not admit `ghcr.io/acme-evil/x`. The Kyverno policy tests the same prefixes."""
    return tuple(prefix + "/" for prefix in guardrails.allowed_registries)


def image_allowed(guardrails: ir.Guardrails, image: str) -> bool:
    """Whether `image` (a repository, with or without tag) is under an allowed registry."""
    return any(image.startswith(prefix) for prefix in registry_prefixes(guardrails))
