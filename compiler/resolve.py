"""Values the spec sets in layers, resolved once: a workload's effective resources in an
environment and the platform's guardrails. The semantic checks and lowering both read these, so
what gpc checks is exactly what it emits."""

from __future__ import annotations

from compiler import ir
from compiler.model import Job, Limits, MaxByType, Platform, Service

RESOURCE_KEYS = ("cpu", "memory", "gpu")


def effective_resources(spec: Platform, name: str, workload: Service | Job, env: str | None) -> dict[str, ir.Sourced]:
    """cpu, memory and gpu of `workload` in `env` (or its base values when env is None), each with
    the layer that set it: environment override, workload, guardrail default or gpc default."""
    defaults = spec.guardrails.defaults.service if isinstance(workload, Service) else spec.guardrails.defaults.job
    override = spec.environments[env].overrides.workloads.get(name) if env is not None else None
    result: dict[str, ir.Sourced] = {}
    for key in RESOURCE_KEYS:
        override_value = getattr(override.resources, key) if override and override.resources else None
        if override_value is not None:
            result[key] = ir.Sourced(override_value, "environment override")
        elif getattr(workload.resources, key) is not None:
            result[key] = ir.Sourced(getattr(workload.resources, key), "workload")
        elif getattr(defaults, key) is not None:
            result[key] = ir.Sourced(getattr(defaults, key), "guardrail default")
        else:
            result[key] = ir.Sourced(ir.DEFAULT_RESOURCES[workload.type].get(key, 0), "gpc default")
    return result


def max_rules(maxima: MaxByType) -> tuple[ir.MaxRule, ...]:
    """The per-workload maxima of `guardrails.max` (or of a team's `max`) as rules."""
    rules = []
    by_type: tuple[tuple[ir.WorkloadType, Limits], ...] = (("service", maxima.service), ("job", maxima.job))
    for wtype, limits in by_type:
        if limits.cpu is not None:
            rules.append(ir.MaxRule(wtype, "cpu", limits.cpu))
        if limits.memory is not None:
            rules.append(ir.MaxRule(wtype, "memory", limits.memory))
        rules.append(ir.MaxRule(wtype, "gpu", str(limits.gpu)))
    return tuple(rules)


def guardrails(spec: Platform) -> ir.Guardrails:
    """The guardrails with gpc's defaults filled in: max rules, registries, quotas, defaults."""
    g = spec.guardrails
    quotas = tuple(
        ir.Quota(group, q.cpu, q.memory, q.gpu, q.pods)
        for group, q in (("services", g.quotas.services), ("jobs", g.quotas.jobs)) if q is not None
    )
    return ir.Guardrails(
        max_rules=max_rules(g.max),
        allowed_registries=tuple(r.rstrip("/") for r in g.allowed_registries) or (spec.registry,),
        excluded_namespaces=tuple(g.excluded_namespaces),
        quotas=quotas,
        defaults={
            wtype: ir.Resources(
                defaults.cpu or ir.DEFAULT_RESOURCES[wtype]["cpu"],
                defaults.memory or ir.DEFAULT_RESOURCES[wtype]["memory"],
                defaults.gpu or 0,
            )
            for wtype, defaults in (("service", g.defaults.service), ("job", g.defaults.job))
        },
    )
