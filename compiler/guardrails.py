"""The guardrails, defined once. gpc's compile-time check (GPC209/211/217) and the Kyverno
ClusterPolicies both come from these definitions, and a differential test proves they agree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler import ir
from compiler.quantity import parse_quantity

KIND_OF_TYPE = {"service": ("Deployment",), "job": ("Job", "CronJob")}

# The Kyverno kinds each `guardrails.policy_kind` is delivered as, (API group, kind): what the
# kyverno target writes and what Argo CD's AppProject must allow at cluster scope.
POLICY_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "ValidatingPolicy": (("policies.kyverno.io", "ImageValidatingPolicy"), ("policies.kyverno.io", "ValidatingPolicy")),
    "ClusterPolicy": (("kyverno.io", "ClusterPolicy"),),
}


@dataclass(frozen=True)
class Violation:
    code: str
    rule: str  # the Kyverno rule that enforces the same thing in the cluster
    resource: str
    message: str


def lower_guardrails(spec: Any) -> ir.Guardrails:
    g = spec.guardrails
    max_rules = []
    for wtype in ("service", "job"):
        limits = getattr(g.max, wtype)
        for resource in ("cpu", "memory"):
            if getattr(limits, resource) is not None:
                max_rules.append(ir.MaxRule(wtype, resource, getattr(limits, resource)))
        max_rules.append(ir.MaxRule(wtype, "gpu", str(limits.gpu)))
    quotas = tuple(
        ir.Quota(group, q.cpu, q.memory, q.gpu, q.pods)
        for group in ("services", "jobs") if (q := getattr(g.quotas, group)) is not None
    )
    return ir.Guardrails(
        max_rules=tuple(max_rules),
        allowed_registries=tuple(r.rstrip("/") for r in g.allowed_registries) or (spec.registry,),
        excluded_namespaces=tuple(g.excluded_namespaces),
        policy_kind=g.policy_kind,
        quotas=quotas,
        defaults={
            wtype: ir.Resources(
                getattr(g.defaults, wtype).cpu or ir.DEFAULT_RESOURCES[wtype]["cpu"],
                getattr(g.defaults, wtype).memory or ir.DEFAULT_RESOURCES[wtype]["memory"],
                getattr(g.defaults, wtype).gpu or 0,
            )
            for wtype in ("service", "job")
        },
    )


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
