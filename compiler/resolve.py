"""Values the spec sets in layers, resolved once: a workload's effective resources in an
environment and the platform's guardrails. The semantic checks and lowering both read these, so
what gpc checks is exactly what it emits."""

from __future__ import annotations

from typing import Any

from compiler import ir_values
from compiler.model import AnyWorkload, Limits, MaxByType, Platform, Resources

RESOURCE_KEYS = ("cpu", "memory", "gpu")
# Set only when the spec says so (no gpc default): requests below the limits, no CPU limit.
OPTIONAL_RESOURCE_KEYS = ("cpu_request", "memory_request", "cpu_limit")


def declared(resources: Resources | None, key: str) -> Any:
    if resources is None:
        return None
    if key in ("cpu_request", "memory_request"):
        return getattr(resources.requests, key.removesuffix("_request")) if resources.requests else None
    return getattr(resources, key)


def effective_resources(spec: Platform, name: str, workload: AnyWorkload, env: str | None) -> dict[str, ir_values.Sourced]:
    """cpu, memory and gpu of `workload` in `env` (or its base values when env is None), each with
    the layer that set it: environment override, workload, guardrail default or gpc default; and
    cpu_request, memory_request and cpu_limit where some layer sets them."""
    # Workers share the services' defaults and limits (ir_values.RAILS_OF_TYPE).
    defaults = getattr(spec.guardrails.defaults, ir_values.RAILS_OF_TYPE[workload.type])
    override = spec.environments[env].overrides.workloads.get(name) if env is not None else None
    result: dict[str, ir_values.Sourced] = {}
    for key in RESOURCE_KEYS + OPTIONAL_RESOURCE_KEYS:
        layers: tuple[tuple[Resources | None, ir_values.Layer], ...] = (
            (override.resources if override else None, "environment override"),
            (workload.resources, "workload"), (defaults, "guardrail default"))
        found = next(((value, layer) for res, layer in layers
                      if (value := declared(res, key)) is not None), None)
        if found is not None:
            result[key] = ir_values.Sourced(found[0], found[1])
        elif key in RESOURCE_KEYS:
            result[key] = ir_values.Sourced(ir_values.DEFAULT_RESOURCES[ir_values.RAILS_OF_TYPE[workload.type]].get(key, 0), "gpc default")
    return result


def max_rules(maxima: MaxByType) -> tuple[ir_values.MaxRule, ...]:
    """The per-workload maxima of `guardrails.max` (or of a team's `max`) as rules."""
    rules = []
    by_type: tuple[tuple[ir_values.WorkloadType, Limits], ...] = (("service", maxima.service), ("job", maxima.job))
    for wtype, limits in by_type:
        if limits.cpu is not None:
            rules.append(ir_values.MaxRule(wtype, "cpu", limits.cpu))
        if limits.memory is not None:
            rules.append(ir_values.MaxRule(wtype, "memory", limits.memory))
        rules.append(ir_values.MaxRule(wtype, "gpu", str(limits.gpu)))
    return tuple(rules)


def guardrails(spec: Platform) -> ir_values.Guardrails:
    """The guardrails with gpc's defaults filled in: max rules, registries, quotas, defaults."""
    g = spec.guardrails
    quotas = tuple(
        ir_values.Quota(group, q.cpu, q.memory, q.gpu, q.pods)
        for group, q in (("services", g.quotas.services), ("jobs", g.quotas.jobs)) if q is not None
    )
    return ir_values.Guardrails(
        max_rules=max_rules(g.max),
        allowed_registries=tuple(r.rstrip("/") for r in g.allowed_registries) or (spec.registry,),
        excluded_namespaces=tuple(g.excluded_namespaces),
        policy_kind=g.policy_kind,
        quotas=quotas,
        defaults={
            wtype: ir_values.Resources(
                defaults.cpu or ir_values.DEFAULT_RESOURCES[wtype]["cpu"],
                defaults.memory or ir_values.DEFAULT_RESOURCES[wtype]["memory"],
                defaults.gpu or 0,
            )
            for wtype, defaults in (("service", g.defaults.service), ("job", g.defaults.job))
        },
    )
