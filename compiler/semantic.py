"""The semantic pass (GPC2xx): references, names, guardrails, schedules and environments.

Every check reads the validated model and reports at the line of the spec that caused it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

from compiler import guardrails as gr
from compiler import (
    ir_values,
    names,
    resolve,
    semantic_databases,
    semantic_edges,
    semantic_enabled,
    semantic_obs,
    semantic_preview,
    semantic_scaling,
    semantic_secrets,
)
from compiler.cron import cron_error
from compiler.diagnostics import Diagnostic
from compiler.hints import did_you_mean
from compiler.ir_values import Sourced
from compiler.kinds import USE_KINDS
from compiler.model import NAME_PATTERN, AnyWorkload, Job, LongRunning, Platform, Service, VolumeUse, Worker
from compiler.quantity import parse_quantity
from compiler.source import Path, Source
from compiler.toolchain import check_toolchain

_NAME = re.compile(NAME_PATTERN)
_ALIAS = re.compile(r"^[a-z][a-z0-9_-]*$")
LABEL_MAX = 63
CRONJOB_NAME_MAX = 52  # the Job controller appends an 11-character suffix

Check = Callable[[Platform, "Reporter"], None]


class Reporter:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []

    def __call__(self, code: str, message: str, path: Path, *, key: bool = False, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, self.source.file,
                                           self.source.position(path, key=key), hint))


def check_semantics(spec: Platform, source: Source) -> list[Diagnostic]:
    report = Reporter(source)
    for check in CHECKS:
        check(spec, report)
    return report.diagnostics


def _elsewhere(source: Source, here: Path, there: Path) -> str:
    """` (declared at teams/data.yaml:3:3)` when `there` is in another file than `here`, else ``."""
    mine, theirs = source.position(here), source.position(there, key=True)
    if (mine.file or source.file) == (theirs.file or source.file):
        return ""
    return f" (declared at {theirs.file or source.file}:{theirs.line}:{theirs.col})"


def _did_you_mean(word: str, choices: Any) -> str | None:
    return did_you_mean(word, choices)


def _misnamed(reference: str, declared: Any) -> str | None:
    """The declared, invalid name that `reference` spells as gpc suggests it (`Cart-API` for
    `cart-api`): the invalid name is the one mistake, its GPC201 says so, and "not declared"
    for every reference would only bury it."""
    return next((n for n in declared if n != reference and not _NAME.match(n) and _suggest(n) == reference), None)


def _references(spec: Platform, name: str) -> list[Path]:
    """Where the spec refers to workload `name` (uses and overrides), in spec order."""
    found: list[Path] = []
    for ename, env in spec.environments.items():
        if name in env.overrides.workloads:
            found.append(("environments", ename, "overrides", "workloads", name))
    for wname, w in spec.workloads.items():
        for alias, use in w.uses.items():
            if use.target == name:
                found.append(("workloads", wname, "uses", alias, use.kind))
    return found


def _name_problem(name: str, limit: int = LABEL_MAX) -> str | None:
    if len(name) > limit:
        return f"is {len(name)} characters long; the limit is {limit}"
    if not _NAME.match(name):
        if name.lower() != name:
            return "contains uppercase letters"
        return "must be lowercase letters, digits and '-', start with a letter and end with a letter or digit"
    return None


def check_names(spec: Platform, report: Reporter) -> None:
    problem = _name_problem(spec.name)
    if problem:
        report("GPC201", f"platform name '{spec.name}' {problem}", ("name",),
               hint=f"for example '{_suggest(spec.name)}'")
    tables: list[tuple[str, Path, dict[str, Any], int]] = [
        ("workload", ("workloads",), spec.workloads, LABEL_MAX),
        ("environment", ("environments",), spec.environments, LABEL_MAX),
        ("queue", ("messaging", "queues"), spec.messaging.queues, LABEL_MAX),
        ("bucket", ("storage", "buckets"), spec.storage.buckets, LABEL_MAX),
        ("volume", ("storage", "volumes"), spec.storage.volumes, LABEL_MAX),
    ]
    for kind, path, table, limit in tables:
        for name, item in table.items():
            if kind == "workload" and isinstance(item, Job) and item.schedule:
                limit = CRONJOB_NAME_MAX
            problem = _name_problem(name, limit)
            hint = f"for example '{_suggest(name)[:limit]}'" if _suggest(name)[:limit] != name else None
            if problem and kind == "workload" and _suggest(name) != name:
                root = report.source.file
                here = report.source.position((*path, name), key=True).file or root
                places = sorted({(pos.file or root, pos.line) for pos in
                                 (report.source.position(p, key=True) for p in _references(spec, _suggest(name)))})
                if places:
                    local = all(file == here for file, _ in places)
                    where = ", ".join(str(line) if local else f"{file}:{line}" for file, line in places)
                    hint = (f"rename it '{_suggest(name)[:limit]}', the name the spec already uses for it "
                            f"({'line' + ('s' if len(places) > 1 else '') + ' ' if local else ''}{where})")
            if kind == "bucket" and problem is None and len(name) < 3:
                problem = "is shorter than the 3 characters object stores require"
                hint = f"for example '{name}-data'"
            if problem:
                why = " (a CronJob's name is limited to 52 characters)" if limit == CRONJOB_NAME_MAX else ""
                report("GPC201", f"{kind} name '{name}' {problem}{why}", (*path, name), key=True, hint=hint)
    for wname, w in spec.workloads.items():
        for alias in w.uses:
            if not _ALIAS.match(alias):
                report("GPC201", f"use alias '{alias}' must be lowercase letters, digits, '-' or '_', "
                       "starting with a letter", ("workloads", wname, "uses", alias), key=True,
                       hint=f"it becomes the prefix {names.env_prefix(alias)}_... of environment variables")
    for ename, env in spec.environments.items():
        if env.namespace_prefix is not None:
            problem = _name_problem(env.namespace_prefix)
            if problem:
                report("GPC201", f"namespace_prefix '{env.namespace_prefix}' {problem}",
                       ("environments", ename, "namespace_prefix"))


def check_derived_names(spec: Platform, report: Reporter) -> None:
    if not _NAME.match(spec.name):
        return
    for ename, env in spec.environments.items():
        prefix = names.namespace_prefix(spec.name, ename, env.namespace_prefix)
        longest = names.namespace(prefix, "services")
        if len(longest) > LABEL_MAX:
            path: Path = ("environments", ename, "namespace_prefix") if env.namespace_prefix else ("environments", ename)
            report("GPC202", f"namespace '{longest}' of environment '{ename}' is {len(longest)} characters; "
                   f"the limit is {LABEL_MAX}", path, key=env.namespace_prefix is None,
                   hint="set a shorter 'namespace_prefix' for this environment")
        for wname in spec.workloads:
            app = names.argocd_application(spec.name, ename, wname)
            if len(app) > LABEL_MAX and len(wname) <= LABEL_MAX:
                report("GPC202", f"Argo CD application '{app}' is {len(app)} characters; Argo CD labels "
                       f"resources with it and labels are limited to {LABEL_MAX}", ("workloads", wname),
                       key=True, hint="shorten the platform, environment or workload name")


def check_application_names(spec: Platform, report: Reporter) -> None:
    """Argo CD application names must be unique among the environments that share a cluster."""
    owner: dict[tuple[str, str], str] = {}
    claims: list[tuple[str, str, str, Path]] = []
    for ename, env in spec.environments.items():
        cluster = names.cluster_url(env.cluster)
        claims.append((cluster, names.argocd_root_application(spec.name, ename),
                       f"the root application of environment '{ename}'", ("environments", ename)))
    for ename, env in spec.environments.items():
        for wname in spec.workloads:
            claims.append((names.cluster_url(env.cluster), names.argocd_application(spec.name, ename, wname),
                           f"workload '{wname}' in environment '{ename}'", ("workloads", wname)))
    for cluster, app, what, path in claims:
        first = owner.setdefault((cluster, app), what)
        if first != what:
            report("GPC223", f"Argo CD application '{app}' of {what} would collide with {first}", path,
                   key=True, hint="rename the workload (or the environment)")


def check_environments(spec: Platform, report: Reporter) -> None:
    if not spec.environments:
        report("GPC221", "the spec declares no environments", ("environments",), key=True,
               hint="add one, e.g. 'dev: {cluster: https://kubernetes.default.svc}'")
    seen: dict[tuple[str, str], str] = {}
    for ename, env in spec.environments.items():
        prefix = names.namespace_prefix(spec.name, ename, env.namespace_prefix)
        other = seen.get((names.cluster_url(env.cluster), prefix))
        if other is not None:
            report("GPC214", f"environments '{other}' and '{ename}' both use namespaces '{prefix}-*' on "
                   f"cluster {env.cluster}", ("environments", ename), key=True,
                   hint="give one of them a different 'namespace_prefix'")
        seen[(names.cluster_url(env.cluster), prefix)] = ename


def declared(spec: Platform, kind: str) -> dict[str, Any]:
    """The mapping of the spec where things of a `uses` kind are declared (kinds table)."""
    table: Any = spec
    for key in USE_KINDS[kind].declared_in:
        table = getattr(table, key)
    return dict(table)


def check_references(spec: Platform, report: Reporter) -> None:
    tables = {kind: declared(spec, kind) for kind in USE_KINDS}
    for wname, w in spec.workloads.items():
        for alias, use in w.uses.items():
            kind, target = use.kind, use.target
            path = ("workloads", wname, "uses", alias, kind)
            if target not in tables[kind]:
                if _misnamed(target, tables[kind]):
                    continue  # reported once, at the invalid name (check_names)
                where = USE_KINDS[kind].where
                report("GPC203", f"{kind} '{target}' is not declared under {where}", path,
                       hint=_did_you_mean(target, tables[kind]) or f"declare it under {where}")
                continue
            if kind == "service":
                callee = spec.workloads[target]
                if target == wname:
                    report("GPC219", f"service '{wname}' lists itself under uses", path)
                elif not isinstance(callee, Service):
                    report("GPC205", f"'{target}' is a {callee.type}, not a service; it cannot be called"
                           f"{_elsewhere(report.source, path, ('workloads', target))}",
                           path, hint="only workloads of type service have a port to call")


def check_mounts(spec: Platform, report: Reporter) -> None:
    for wname, w in spec.workloads.items():
        mounts: list[tuple[str, str]] = []
        for alias, use in w.uses.items():
            if not isinstance(use, VolumeUse):
                continue
            path = ("workloads", wname, "uses", alias, "mount")
            if not use.mount.startswith("/"):
                report("GPC206", f"mount path '{use.mount}' is not absolute", path,
                       hint=f"use '/{use.mount.lstrip('./')}'")
                continue
            normal = posixpath.normpath(use.mount)
            for other_alias, other in mounts:
                if normal == other or normal.startswith(other.rstrip("/") + "/") or other.startswith(normal.rstrip("/") + "/"):
                    report("GPC207", f"mount path '{use.mount}' of '{alias}' collides with '{other}' of "
                           f"'{other_alias}'", path, hint="mount each volume at its own path")
            mounts.append((alias, normal))


def check_schedules(spec: Platform, report: Reporter) -> None:
    for wname, w in spec.workloads.items():
        if isinstance(w, Job) and w.schedule is not None:
            problem = cron_error(w.schedule)
            if problem:
                report("GPC208", f"schedule '{w.schedule}': {problem}", ("workloads", wname, "schedule"),
                       hint="for example \"0 */6 * * *\" (every 6 hours) or \"@daily\"")
    for ename, env in spec.environments.items():
        for wname, override in env.overrides.workloads.items():
            if override.schedule is not None:
                problem = cron_error(override.schedule)
                if problem:
                    report("GPC208", f"schedule '{override.schedule}': {problem}",
                           ("environments", ename, "overrides", "workloads", wname, "schedule"))


def check_overrides(spec: Platform, report: Reporter) -> None:
    for ename, env in spec.environments.items():
        for wname, override in env.overrides.workloads.items():
            path: Path = ("environments", ename, "overrides", "workloads", wname)
            w = spec.workloads.get(wname)
            if w is None and _misnamed(wname, spec.workloads):
                continue  # reported once, at the invalid name (check_names)
            if w is None:
                report("GPC212", f"environment '{ename}' overrides workload '{wname}', which the spec does "
                       "not declare", path, key=True, hint=_did_you_mean(wname, spec.workloads))
                continue
            if isinstance(w, Job) and override.replicas is not None:
                report("GPC213", f"'replicas' does not apply to job '{wname}'", (*path, "replicas"), key=True,
                       hint="jobs run one pod per run; override 'resources' or 'schedule' instead")
            if isinstance(w, LongRunning) and override.schedule is not None:
                report("GPC213", f"'schedule' does not apply to {w.type} '{wname}'", (*path, "schedule"), key=True)
            if isinstance(w, Job) and override.schedule is not None and w.schedule is None:
                report("GPC213", f"job '{wname}' has no schedule, so an environment cannot give it one",
                       (*path, "schedule"), key=True,
                       hint="a schedule turns a Job into a CronJob; set 'schedule' on the workload itself")
            check_time_zone_override(w, wname, override.time_zone, (*path, "time_zone"), report)


def check_time_zone_override(w: AnyWorkload, wname: str, time_zone: str | None, path: Path,
                             report: Reporter) -> None:
    """A time zone, like a schedule, only means something to a job that runs on a schedule."""
    if time_zone is None:
        return
    if isinstance(w, LongRunning):
        report("GPC213", f"'time_zone' does not apply to {w.type} '{wname}'", path, key=True,
               hint="only scheduled jobs have a time zone")
    elif w.schedule is None:
        report("GPC213", f"job '{wname}' has no schedule, so a time zone would change nothing", path, key=True,
               hint="set 'schedule' on the workload, or remove the time zone")


def _resources_path(spec: Platform, wname: str, env: str | None, resource: str) -> Path:
    """Where the value of `resource` (a key of compiler/resolve.py) that applies in `env` is set."""
    tail: Path = (("requests", resource.removesuffix("_request")) if resource.endswith("_request")
                  else (resource,))
    if env is not None:
        override = spec.environments[env].overrides.workloads.get(wname)
        if override and resolve.declared(override.resources, resource) is not None:
            return ("environments", env, "overrides", "workloads", wname, "resources", *tail)
    w = spec.workloads[wname]
    if resolve.declared(w.resources, resource) is not None:
        return ("workloads", wname, "resources", *tail)
    return ("workloads", wname)


def _placements(spec: Platform) -> Iterator[tuple[str, AnyWorkload, str, ir_values.Resources, dict[str, Sourced]]]:
    for wname, w in spec.workloads.items():
        for ename in spec.environments:
            sourced = resolve.effective_resources(spec, wname, w, ename)
            res = ir_values.resources_of({key: s.value for key, s in sourced.items()})
            yield wname, w, ename, res, sourced


def check_guardrails(spec: Platform, report: Reporter) -> None:
    guardrails = resolve.guardrails(spec)
    reported: set[tuple[str, str, Path]] = set()
    for wname, w, ename, res, sourced in _placements(spec):
        rails = ir_values.RAILS_OF_TYPE[w.type]
        for violation in gr.check_resources(guardrails, rails, res):
            path = _resources_path(spec, wname, ename, violation.resource)
            if (wname, violation.rule, path) in reported:
                continue
            reported.add((wname, violation.rule, path))
            layer = sourced[violation.resource].layer
            where = f" in environment '{ename}'" if layer == "environment override" else ""
            report(violation.code, f"{w.type} '{wname}'{where} {violation.message}", path,
                   key=path == ("workloads", wname),
                   hint=f"lower it, or raise guardrails.max.{rails}.{violation.resource}")
    for wname, w in spec.workloads.items():
        image = w.image or f"{spec.registry}/{wname}"
        if not gr.image_allowed(guardrails, image):
            path = ("workloads", wname, "image") if w.image else ("registry",)
            report("GPC211", f"image '{image}' of '{wname}' is not under an allowed registry "
                   f"({', '.join(guardrails.allowed_registries)})", path,
                   hint="push the image to an allowed registry, or add its registry to "
                   "guardrails.allowed_registries")


def check_requests(spec: Platform, report: Reporter) -> None:
    """A request above its limit is refused by the API server; say so at the spec line instead."""
    reported: set[tuple[Path, str]] = set()
    for wname, w, ename, res, sourced in _placements(spec):
        pairs = (("cpu", res.cpu_request, res.cpu if res.cpu_limited else None),
                 ("memory", res.memory_request, res.memory))
        for resource, request, limit in pairs:
            if request is None or limit is None or parse_quantity(request) <= parse_quantity(limit):
                continue
            path = _resources_path(spec, wname, ename, f"{resource}_request")
            overridden = any(sourced[key].layer == "environment override" for key in (resource, f"{resource}_request"))
            where = f" in environment '{ename}'" if overridden else ""
            if (path, where) in reported:
                continue
            reported.add((path, where))
            report("GPC270", f"{w.type} '{wname}'{where} requests {resource} {request}, more than its "
                   f"{resource} limit of {limit}", path,
                   hint=f"lower requests.{resource} to at most {limit}, or raise resources.{resource}")


def check_workers(spec: Platform, report: Reporter) -> None:
    """A worker's probe is one check: a command or a TCP port, not both and not neither."""
    for wname, w in spec.workloads.items():
        if not isinstance(w, Worker) or w.probe is None:
            continue
        path: Path = ("workloads", wname, "probe")
        if (w.probe.exec is None) == (w.probe.tcp_port is None):
            said = "both 'exec' and 'tcp_port'" if w.probe.exec is not None else "neither 'exec' nor 'tcp_port'"
            report("GPC271", f"the probe of worker '{wname}' names {said}", path, key=True,
                   hint="give one: 'exec: [command, args...]' or 'tcp_port: <port>'")


def check_quotas(spec: Platform, report: Reporter) -> None:
    quotas = {"services": spec.guardrails.quotas.services, "jobs": spec.guardrails.quotas.jobs}
    for wname, w, ename, res, _ in _placements(spec):
        quota = quotas[names.GROUP_OF_TYPE[w.type]]
        if quota is None:
            continue
        pods = 1
        if isinstance(w, LongRunning):
            override = spec.environments[ename].overrides.workloads.get(wname)
            pods = override.replicas if override and override.replicas is not None else w.replicas
        group = names.GROUP_OF_TYPE[w.type]
        asks: dict[str, tuple[Fraction, Fraction | None, object]] = {
            "cpu": (parse_quantity(res.cpu) * pods, _quantity_or_none(quota.cpu), quota.cpu),
            "memory": (parse_quantity(res.memory) * pods, _quantity_or_none(quota.memory), quota.memory),
            "gpu": (Fraction(res.gpu * pods), None if quota.gpu is None else Fraction(quota.gpu), quota.gpu),
        }
        for resource, (asked, limit, shown) in asks.items():
            if limit is not None and asked > limit:
                per = f" ({pods} pods)" if pods > 1 else ""
                report("GPC210", f"{w.type} '{wname}' in environment '{ename}' needs more {resource}{per} than "
                       f"the {group} quota of {shown}; it could never be scheduled",
                       _resources_path(spec, wname, ename, resource),
                       hint=f"lower its {resource}, or raise guardrails.quotas.{group}.{resource}")
                break
        if quota.pods is not None and pods > quota.pods:
            report("GPC210", f"service '{wname}' in environment '{ename}' runs {pods} pods; the {group} quota "
                   f"allows {quota.pods}", ("workloads", wname), key=True)


def _quantity_or_none(value: str | None) -> Fraction | None:
    return None if value is None else parse_quantity(value)


def check_env_collisions(spec: Platform, report: Reporter) -> None:
    for wname, w in spec.workloads.items():
        owner: dict[str, tuple[str, Path]] = {}

        def claim(var: str, what: str, path: Path, wname: str = wname,
                  owner: dict[str, tuple[str, Path]] = owner) -> None:
            if var in owner:
                report("GPC218", f"variable {var} of '{wname}' comes from both {owner[var][0]} and {what}",
                       path, key=True, hint="rename one of them")
            else:
                owner[var] = (what, path)

        if isinstance(w, Service):
            claim("PORT", "gpc (the service port)", ("workloads", wname, "port"))
        for var in names.TELEMETRY_VARIABLES:
            claim(var, "gpc (OpenTelemetry)", ("workloads", wname))
        if w.type == "job":
            claim(names.PUSHGATEWAY_URL_KEY, "gpc (the run metrics' Pushgateway)", ("workloads", wname))
        kinds = {u.kind for u in w.uses.values()}
        for kind in USE_KINDS.values():
            if kind.name in kinds:
                for shared in kind.shared:
                    claim(shared.name, kind.shared_origin, ("workloads", wname, "uses"))
        # Every variable a use may produce is reserved, whether or not this spec makes it today.
        for alias, use in w.uses.items():
            for var in USE_KINDS[use.kind].variable_names(alias):
                claim(var, f"use '{alias}'", ("workloads", wname, "uses", alias))
        for var in w.env:
            claim(var, "env", ("workloads", wname, "env", var))
        for index, var in enumerate(w.secrets):
            claim(var, "secrets", ("workloads", wname, "secrets", index))


def check_volumes(spec: Platform, report: Reporter) -> None:
    users: dict[str, list[tuple[str, AnyWorkload, str]]] = {}
    for wname, w in spec.workloads.items():
        for alias, use in w.uses.items():
            if isinstance(use, VolumeUse) and use.volume in spec.storage.volumes:
                users.setdefault(use.volume, []).append((wname, w, alias))
    for vname, entries in users.items():
        volume = spec.storage.volumes[vname]
        groups = {names.GROUP_OF_TYPE[w.type] for _, w, _ in entries}
        first_name, _, _ = entries[0]
        for wname, _, alias in entries[1:]:
            path = ("workloads", wname, "uses", alias, "volume")
            if len(groups) > 1:
                report("GPC220", f"volume '{vname}' is mounted by services and by jobs; a volume lives in one "
                       "namespace", path, hint="declare a separate volume for each")
            elif volume.access_mode in ("ReadWriteOnce", "ReadWriteOncePod"):
                report("GPC220", f"volume '{vname}' is {volume.access_mode} but mounted by '{first_name}' and "
                       f"'{wname}'", path, hint="use access_mode ReadWriteMany, or one volume per workload")
        for wname, w, alias in entries:
            if isinstance(w, LongRunning) and volume.access_mode in ("ReadWriteOnce", "ReadWriteOncePod"):
                counts = [w.replicas] + [
                    o.replicas for e in spec.environments.values()
                    if (o := e.overrides.workloads.get(wname)) and o.replicas is not None
                ]
                if max(counts) > 1:
                    report("GPC220", f"volume '{vname}' is {volume.access_mode} but service '{wname}' runs "
                           f"{max(counts)} replicas", ("workloads", wname, "uses", alias, "volume"),
                           hint="use access_mode ReadWriteMany, or one replica")


def check_usage(spec: Platform, report: Reporter) -> None:
    access: dict[tuple[str, str], set[str]] = {}
    for w in spec.workloads.values():
        for use in w.uses.values():
            access.setdefault((use.kind, use.target), set()).add(getattr(use, "access", None) or "use")
    for qname in spec.messaging.queues:
        modes = access.get(("queue", qname))
        path = ("messaging", "queues", qname)
        if modes is None:
            report("GPC222", f"queue '{qname}' is declared but no workload uses it", path, key=True)
        elif "consume" not in modes:
            report("GPC215", f"queue '{qname}' has producers but no consumer; messages would pile up", path,
                   key=True, hint="add a workload with {queue: " + qname + ", access: consume}")
        elif "publish" not in modes:
            report("GPC215", f"queue '{qname}' has consumers but no producer", path, key=True)
    for bname in spec.storage.buckets:
        modes = access.get(("bucket", bname))
        path = ("storage", "buckets", bname)
        if modes is None:
            report("GPC222", f"bucket '{bname}' is declared but no workload uses it", path, key=True)
        elif not modes & {"write", "readwrite"}:
            report("GPC216", f"bucket '{bname}' is read but no workload writes it", path, key=True)
    for vname in spec.storage.volumes:
        if ("volume", vname) not in access:
            report("GPC222", f"volume '{vname}' is declared but no workload mounts it",
                   ("storage", "volumes", vname), key=True)


def _owned(spec: Platform) -> Iterator[tuple[str, str, str, Path]]:
    """(team, kind, name, path) of everything that names an owning team."""
    tables: tuple[tuple[str, Path, dict[str, Any]], ...] = (
        ("workload", ("workloads",), spec.workloads),
        ("queue", ("messaging", "queues"), spec.messaging.queues),
        ("bucket", ("storage", "buckets"), spec.storage.buckets),
        ("volume", ("storage", "volumes"), spec.storage.volumes),
        ("database", ("storage", "databases"), spec.storage.databases),
    )
    for kind, path, table in tables:
        for name, item in table.items():
            if item.team is not None:
                yield item.team, kind, name, (*path, name)


def check_teams(spec: Platform, report: Reporter) -> None:
    """Owners are declared teams; a team's workloads stay within its maxima, and it owns only the
    kinds of resources the root spec lets it declare. Every problem points into the team's file."""
    for team, kind, name, path in _owned(spec):
        if team not in spec.teams:
            report("GPC241", f"{kind} '{name}' belongs to team '{team}', which the spec does not declare",
                   (*path, "team"), hint=_did_you_mean(team, spec.teams) or "declare it under 'teams' in the "
                   "root spec")
        elif kind != "workload" and f"{kind}s" not in spec.teams[team].declares:
            report("GPC243", f"team '{team}' may not declare {kind}s, but owns {kind} '{name}'", path, key=True,
                   hint=f"the root spec allows team '{team}' to declare only: "
                   f"{', '.join(spec.teams[team].declares) or 'no queues, buckets or volumes'}")
    limits = {t: resolve.max_rules(team.max) for t, team in spec.teams.items() if team.max is not None}
    base = resolve.guardrails(spec)
    reported: set[tuple[str, str, Path]] = set()
    for wname, w, ename, res, sourced in _placements(spec):
        if w.team not in limits:
            continue
        team_rails = ir_values.Guardrails(limits[w.team], base.allowed_registries, base.excluded_namespaces, ())
        rails = ir_values.RAILS_OF_TYPE[w.type]
        for violation in gr.check_resources(team_rails, rails, res):
            path = _resources_path(spec, wname, ename, violation.resource)
            if (wname, violation.rule, path) in reported:
                continue
            reported.add((wname, violation.rule, path))
            where = f" in environment '{ename}'" if sourced[violation.resource].layer == "environment override" else ""
            limit = next(r.limit for r in limits[w.team] if r.workload_type == rails and r.resource == violation.resource)
            asked = getattr(res, violation.resource)
            report("GPC242", f"{w.type} '{wname}'{where} asks for {violation.resource} {asked}; team '{w.team}' "
                   f"allows a {rails} at most {limit}", path, key=path == ("workloads", wname),
                   hint=f"lower it; team limits are set in the root spec (teams.{w.team}.max.{rails})")


def _suggest(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    cleaned = re.sub(r"^[^a-z]+", "", cleaned)
    return cleaned or "my-name"


CHECKS: tuple[Check, ...] = (
    check_names,
    check_derived_names,
    check_application_names,
    check_environments,
    check_references,
    check_mounts,
    check_schedules,
    check_overrides,
    check_guardrails,
    check_requests,
    check_workers,
    check_quotas,
    check_env_collisions,
    check_volumes,
    check_usage,
    check_teams,
    check_toolchain,
    semantic_databases.check_database_uses,
    semantic_databases.check_databases,
    semantic_edges.check_hostnames,
    semantic_edges.check_ports_to_open,
    semantic_edges.check_paths,
    semantic_edges.check_exposure,
    semantic_edges.check_egress,
    semantic_scaling.check_autoscale,
    semantic_scaling.check_autoscale_overrides,
    semantic_scaling.check_autoscale_quota,
    semantic_secrets.check_secret_sources,
    semantic_secrets.check_stores,
    semantic_preview.check_previews,
    semantic_enabled.check_disabled_references,
    semantic_enabled.check_disabled_everywhere,
    semantic_obs.check_monitoring,
)
