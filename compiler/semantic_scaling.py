"""Semantic checks of autoscaling (GPC272-276): one owner of the pod count, a queue to scale on that
the workload consumes, bounds an autoscaler accepts, and room in the quota for `max_replicas`.

Listed in compiler/semantic.py's CHECKS; each reports at the spec line that caused the problem.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from compiler import ir_values, names, resolve
from compiler.model import Job, LongRunning, Platform, QueueUse, Service, Worker
from compiler.model_scaling import Autoscale, merged
from compiler.quantity import parse_quantity
from compiler.source import Path

if TYPE_CHECKING:
    from compiler.semantic import Reporter


def _override_path(ename: str, wname: str) -> Path:
    return ("environments", ename, "overrides", "workloads", wname)


def check_autoscale(spec: Platform, report: Reporter) -> None:
    for wname, w in spec.workloads.items():
        if not isinstance(w, LongRunning) or w.autoscale is None:
            continue
        path: Path = ("workloads", wname, "autoscale")
        if "replicas" in w.model_fields_set:
            report("GPC272", f"{w.type} '{wname}' sets both 'replicas' and 'autoscale'; the autoscaler owns "
                   "the number of pods", ("workloads", wname, "replicas"), key=True,
                   hint="remove 'replicas' (use 'autoscale.min_replicas' for the floor)")
        _check_queue(w, wname, w.autoscale, path, report)
        said: set[Path] = set()  # a problem of the workload's own `autoscale` is reported once
        for ename, env in spec.environments.items():
            override = env.overrides.workloads.get(wname)
            where = _override_path(ename, wname)
            if override is not None and override.replicas is not None:
                report("GPC272", f"environment '{ename}' sets 'replicas' of '{wname}', whose pods the autoscaler "
                       "counts", (*where, "replicas"), key=True,
                       hint="override 'autoscale: {min_replicas: N}' instead")
            own = override.autoscale if override is not None else None
            scaling = merged(w.autoscale, own)
            at = (*where, "autoscale") if own is not None and own.model_fields_set & {"min_replicas", "max_replicas"} \
                else path
            if at in said:
                continue
            said.add(at)
            ename = ename if at != path else ""  # the workload's own value: no environment to name
            if scaling.min_replicas > scaling.max_replicas:
                report("GPC273", f"'{wname}' scales between min_replicas {scaling.min_replicas} and max_replicas "
                       f"{scaling.max_replicas}{_env(ename)}", at, key=True,
                       hint="min_replicas must not exceed max_replicas")
            elif scaling.max_replicas == 0:
                report("GPC273", f"'{wname}' has max_replicas 0{_env(ename)}: it could never run",
                       at, key=True, hint="give max_replicas at least 1")
            elif scaling.min_replicas == 0 and scaling.queue is None:
                report("GPC273", f"'{wname}' scales to zero (min_replicas 0) on CPU or memory"
                       f"{_env(ename)}; only a queue-depth autoscaler can wake a workload from zero", at, key=True,
                       hint="give min_replicas at least 1, or scale on a consumed queue with 'queue: <alias>'")


def _env(ename: str) -> str:
    return f" in environment '{ename}'" if ename else ""


def _check_queue(w: Service | Worker, wname: str, scale: Autoscale, path: Path, report: Reporter) -> None:
    if scale.queue is None:
        return
    use = w.uses.get(scale.queue)
    if not isinstance(use, QueueUse) or use.access != "consume":
        consumed = sorted(a for a, u in w.uses.items() if isinstance(u, QueueUse) and u.access == "consume")
        report("GPC274", f"autoscale queue '{scale.queue}' of '{wname}' is not a queue it consumes",
               (*path, "queue"), hint=f"name the alias of a consumed queue: {', '.join(consumed)}" if consumed
               else "add a use '{queue: <name>, access: consume}' and name its alias here")
    if scale.cpu is not None or scale.memory is not None:
        report("GPC273", f"'{wname}' scales on queue '{scale.queue}' and on cpu or memory; a workload scales on "
               "one signal", (*path, "cpu" if scale.cpu is not None else "memory"), key=True,
               hint="remove 'cpu' and 'memory', or remove 'queue'")


def check_autoscale_overrides(spec: Platform, report: Reporter) -> None:
    """An environment can only adjust autoscaling the workload itself declares."""
    for ename, env in spec.environments.items():
        for wname, override in env.overrides.workloads.items():
            w = spec.workloads.get(wname)
            if w is None or override.autoscale is None:
                continue
            if isinstance(w, Job) or w.autoscale is None:
                report("GPC275", f"environment '{ename}' overrides 'autoscale' of {w.type} '{wname}', which "
                       "does not autoscale", (*_override_path(ename, wname), "autoscale"), key=True,
                       hint="jobs never autoscale; give a service or worker 'autoscale' first" if isinstance(w, Job)
                       else f"add 'autoscale: {{max_replicas: N}}' to workload '{wname}'")


def check_autoscale_quota(spec: Platform, report: Reporter) -> None:
    """`max_replicas` pods must fit the namespace quota: the autoscaler would otherwise ask for pods the
    quota refuses, and the workload stops growing exactly when the load needs it."""
    quotas = {"services": spec.guardrails.quotas.services, "jobs": spec.guardrails.quotas.jobs}
    for wname, w in spec.workloads.items():
        if not isinstance(w, LongRunning) or w.autoscale is None:
            continue
        group = names.GROUP_OF_TYPE[w.type]
        quota = quotas[group]
        if quota is None:
            continue
        said: set[Path] = set()
        for ename, env in spec.environments.items():
            override = env.overrides.workloads.get(wname)
            scaling = merged(w.autoscale, override.autoscale if override is not None else None)
            pods = scaling.max_replicas
            res = ir_values.resources_of({k: s.value for k, s in resolve.effective_resources(spec, wname, w, ename).items()})
            own = override.autoscale if override is not None else None
            at: Path = ((*_override_path(ename, wname), "autoscale", "max_replicas")
                        if own is not None and own.max_replicas is not None
                        else ("workloads", wname, "autoscale", "max_replicas"))
            if at in said:
                continue  # the same max_replicas, said for the first environment it does not fit
            # What the quota counts per pod: `limits.*` (and `requests.*`, never above them), or the
            # CPU request when the workload runs without a CPU limit (ir_values.Resources says which).
            asks = {"cpu": (parse_quantity(res.cpu), quota.cpu), "memory": (parse_quantity(res.memory), quota.memory),
                    "gpu": (Fraction(res.gpu), None if quota.gpu is None else str(quota.gpu))}
            for resource, (one, shown) in asks.items():
                if shown is None or one > parse_quantity(shown):
                    continue  # no quota, or one pod is already too big (GPC210 says so)
                if one * pods > parse_quantity(shown):
                    said.add(at)
                    most = int(parse_quantity(shown) / one) if one else pods
                    report("GPC276", f"'{wname}' may scale to {pods} pods in environment '{ename}', needing "
                           f"{_amount(one * pods, resource)} {resource}; the {group} quota has {shown}", at,
                           hint=f"lower max_replicas to {most}, or raise guardrails.quotas.{group}.{resource}")
                    break
            else:
                if quota.pods is not None and pods > quota.pods:
                    said.add(at)
                    report("GPC276", f"'{wname}' may scale to {pods} pods in environment '{ename}'; the {group} "
                           f"quota allows {quota.pods}", at,
                           hint=f"lower max_replicas to {quota.pods}, or raise guardrails.quotas.{group}.pods")


def _amount(value: Fraction, resource: str) -> str:
    if resource == "memory":
        for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if value >= size and (value / size).denominator == 1:
                return f"{int(value / size)}{unit}"
        return str(int(value))
    if resource == "cpu" and value.denominator != 1:
        return f"{int(value * 1000)}m"
    return str(int(value))
