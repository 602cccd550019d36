"""`gpc explain`: every effective value of one workload in one environment, and who set it.

A value comes from one layer: gpc's default, a guardrail default (`guardrails.defaults`), the
workload itself, an environment override, the environment's own settings, the wiring contract
(variables a `uses` entry, the port or a declared secret gives), or gpc's naming rules
("derived"). Where the spec set it, `where` is its file:line:col. The image tag, once CI owns it,
comes from the compiled tree ("CI"), and `where` is the line in that file.
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import asdict, dataclass
from typing import Any

from compiler import names
from compiler.deployed import DeployedImage, deployed_image
from compiler.ir import RAILS_OF_TYPE, EnvVar, Placement, Platform, Sourced, Workload
from compiler.source import Path, Source


@dataclass(frozen=True)
class Row:
    section: str
    field: str
    value: str
    layer: str
    where: str | None = None  # file:line:col in the spec (for layer "CI": in the compiled tree)
    note: str | None = None


@dataclass(frozen=True)
class Explanation:
    spec: str
    workload: str
    environment: str
    environments: tuple[str, ...]
    rows: tuple[Row, ...]


class _Explainer:
    def __init__(self, platform: Platform, source: Source, workload: Workload, placement: Placement,
                 deployed: DeployedImage | None) -> None:
        self.deployed = deployed
        self.platform = platform
        self.source = source
        self.w = workload
        self.p = placement
        self.rows: list[Row] = []
        self.base: Path = ("workloads", workload.name)
        self.override: Path = ("environments", placement.env, "overrides", "workloads", workload.name)

    def where(self, path: Path) -> str | None:
        if path in self.source.values:
            pos = self.source.values[path]
            return f"{pos.file or self.source.file}:{pos.line}:{pos.col}"
        return None

    def add(self, section: str, field: str, value: Any, layer: str, path: Path | None = None,
            note: str | None = None) -> None:
        self.rows.append(Row(section, field, _show(value), layer, self.where(path) if path else None, note))

    def own(self, section: str, field: str, value: Any, *keys: str | int, default_note: str | None = None) -> None:
        """A value the workload sets or leaves to gpc's default."""
        path = (*self.base, *keys)
        if path in self.source.values:
            self.add(section, field, value, "workload", path)
        else:
            self.add(section, field, value, "gpc default", note=default_note)

    def sourced(self, section: str, field: str, value: Sourced, *keys: str) -> None:
        path = {
            "environment override": (*self.override, *keys),
            "workload": (*self.base, *keys),
            "guardrail default": ("guardrails", "defaults", self.w.type, *keys[1:]),
        }.get(value.layer)
        self.add(section, field, value.value, value.layer, path)

    def image_tag_of_ci(self, d: DeployedImage) -> None:
        """The tag in the tree: CI owns it, and the spec's image_tag only seeded it."""
        by = f"{self.w.repo}'s CI" if self.w.repo else "the workload's CI"
        spec_path = (*self.base, "image_tag")
        said = f"the spec's image_tag '{self.w.image_tag}' ({self.where(spec_path)})"
        if d.problem is not None:
            note = f"owned by {by}, but unreadable: {d.problem}"
        elif d.tag == names.BOOTSTRAP_TAG:
            note = f"no image delivered yet: scaled to zero until {by} writes the first tag into this file"
        elif spec_path not in self.source.values:
            note = f"owned by {by}, which rewrites this file after every build"
        elif d.ref == self.w.image_tag:
            note = f"owned by {by}, which rewrites this file; {said} only seeded it"
        else:
            note = f"owned by {by}, which rewrites this file; {said} changes nothing"
        self.rows.append(Row("workload", "image_tag", d.ref or "-", "CI", d.where, note))

    # -- sections ---------------------------------------------------------------------------

    def workload(self) -> None:
        w, p = self.w, self.p
        self.add("workload", "kind", w.kind, "derived", (*self.base, "type"),
                 note="from type and schedule")
        if self.source.included:  # a platform split across files: say which one declares it
            declared = self.source.position(self.base, key=True)
            self.add("workload", "file", declared.file or self.source.file, "workload", self.base)
        if w.team is not None:
            self.add("workload", "team", w.team, "workload", (*self.base, "team"))
        env_prefix = ("environments", p.env, "namespace_prefix")
        if env_prefix in self.source.values:
            self.add("workload", "namespace", p.namespace, "environment", env_prefix)
        else:
            self.add("workload", "namespace", p.namespace, "gpc default",
                     note=f"<platform name>-<environment>-{w.group}")
        self.add("workload", "service_account", w.service_account, "derived", note="the workload's name")
        self.own("workload", "image", w.image, "image", default_note="<registry>/<workload name>")
        if self.deployed is not None:
            self.image_tag_of_ci(self.deployed)
        elif w.awaits_delivery:
            self.add("workload", "image_tag", None, "gpc default", note="none yet: scaled to zero until CI "
                     f"delivers the first image into {names.image_component_dir(w.name, p.env)}/kustomization.yaml")
        else:
            self.own("workload", "image_tag", w.image_tag, "image_tag",
                     default_note=f"until CI bumps it in {names.image_component_dir(w.name, p.env)}/kustomization.yaml")
        if w.command is not None:
            self.own("workload", "command", list(w.command), "command")
        if w.args is not None:
            self.own("workload", "args", list(w.args), "args")
        if w.type == "service":
            self.own("workload", "port", w.port, "port")
            self.sourced("workload", "replicas", p.replicas, "replicas")
            self.own("workload", "health.path", w.health_path, "health", "path")
            if ("workloads", w.name, "health", "readiness_path") in self.source.values:
                self.own("workload", "health.readiness_path", w.readiness_path, "health", "readiness_path")
            else:
                self.add("workload", "health.readiness_path", w.readiness_path, "gpc default", note="health.path")
            self.own("workload", "health.initial_delay", w.health_initial_delay, "health", "initial_delay")
        elif w.type == "worker":
            self.sourced("workload", "replicas", p.replicas, "replicas")
            if w.probe_exec is not None:
                self.own("workload", "probe.exec", list(w.probe_exec), "probe", "exec")
            elif w.probe_tcp_port is not None:
                self.own("workload", "probe.tcp_port", w.probe_tcp_port, "probe", "tcp_port")
            else:
                self.add("workload", "probe", None, "gpc default", note="no probe: restarted when the process exits")
        else:
            if p.schedule is not None:
                self.sourced("workload", "schedule", p.schedule, "schedule")
            else:
                self.add("workload", "schedule", None, "gpc default", note="no schedule: a Job that runs once")
            if p.schedule is not None:  # what only a CronJob uses
                if p.time_zone is not None:
                    self.sourced("workload", "time_zone", p.time_zone, "time_zone")
                self.own("workload", "concurrency", w.concurrency, "concurrency")
            self.own("workload", "retries", w.retries, "retries")
            self.own("workload", "timeout", _seconds(w.timeout_seconds), "timeout")
            self.own("workload", "ttl_after_finished", _seconds(w.ttl_seconds), "ttl_after_finished")
        self.own("workload", "api_access", w.api_access, "api_access")

    def resources(self) -> None:
        rails = RAILS_OF_TYPE[self.w.type]
        limits = {(r.resource): r.limit for r in self.platform.guardrails.max_rules if r.workload_type == rails}
        for key in ("cpu", "memory", "gpu"):
            value = self.p.resources[key]
            self.sourced("resources", key, value, "resources", key)
            if key in limits:
                last = self.rows[-1]
                self.rows[-1] = Row(last.section, last.field, last.value, last.layer, last.where,
                                    f"guardrail max for a {rails}: {limits[key]}")
        # Requests below the limits and a missing CPU limit, only where the spec sets them.
        for key, keys in (("cpu_request", ("requests", "cpu")), ("memory_request", ("requests", "memory")),
                          ("cpu_limit", ("cpu_limit",))):
            if key in self.p.resources:
                self.sourced("resources", ".".join(keys), self.p.resources[key], "resources", *keys)

    def env(self) -> None:
        for var in self.p.env_vars:
            if var.name in self.p.plain_env:
                sourced = self.p.plain_env[var.name]
                self.sourced("env", var.name, Sourced(_env_value(var), sourced.layer), "env", var.name)
            else:
                self.add("env", var.name, _env_value(var), "wiring contract", var.origin or None, note=var.description)

    def storage(self) -> None:
        for use in self.w.volumes:
            volume = next(v for v in self.platform.volumes if v.name == use.target)
            mode = "read-only" if use.read_only else "read-write"
            self.add("storage", f"volume {use.alias}",
                     f"{use.target} at {use.mount} ({mode}, {volume.size} {volume.access_mode})",
                     "workload", (*self.base, "uses", use.alias))
        for use in self.w.queues + self.w.buckets:
            self.add("storage", f"{use.kind} {use.alias}", f"{use.target} ({use.access})", "workload",
                     (*self.base, "uses", use.alias))
        for use in self.w.calls:
            self.add("storage", f"calls {use.alias}", use.target, "workload", (*self.base, "uses", use.alias))

    def secrets(self) -> None:
        w = self.w
        if w.credentials_secret is not None:
            self.add("secrets", w.credentials_secret, ", ".join(w.credential_keys), "derived",
                     note="created by Terraform: this workload's own broker, object-store and database credentials")
        if w.app_secret is not None and w.store_secrets:
            self.add("secrets", w.app_secret, ", ".join(w.secrets), "workload", (*self.base, "secret_sources"),
                     note="written by External Secrets from the environment's secret store: "
                     + ", ".join(f"{s.name} <- {s.key}" + (f"#{s.property}" if s.property else "")
                                 for s in w.store_secrets))
        elif w.app_secret is not None:
            self.add("secrets", w.app_secret, ", ".join(w.secrets), "workload", (*self.base, "secrets"),
                     note="values filled in by an operator, never in the spec")
        if w.contract_config_map is not None:
            self.add("secrets", w.contract_config_map, "message schemas (ConfigMap)", "derived",
                     note="the JSON Schema of each queue it uses")


def _seconds(value: int | None) -> str | None:
    """3600 -> `1h`, 5400 -> `1h30m`: the spec's own notation."""
    if value is None:
        return None
    h, rest = divmod(value, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{n}{unit}" for n, unit in ((h, "h"), (m, "m"), (s, "s")) if n) or "0s"


def _env_value(var: EnvVar) -> str:
    if var.secret is not None:
        return f"secret {var.secret.name}/{var.secret.key}"
    if var.config_map is not None:
        return f"configmap {var.config_map.name}/{var.config_map.key}"
    return var.value or ""


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


def explain(platform: Platform, source: Source, workload: str, env: str,
            tree: pathlib.Path | None = None) -> Explanation:
    """Raises KeyError when the workload or environment does not exist. `tree`: the compiled tree,
    whose CI-owned image file says which tag is deployed (compiler/deployed.py)."""
    w = next((x for x in platform.workloads if x.name == workload), None)
    if w is None:
        raise KeyError(workload)
    placement = next((p for p in w.placements if p.env == env), None)
    if placement is None:
        raise KeyError(env)
    deployed = deployed_image(tree, w, env) if tree is not None else None
    explainer = _Explainer(platform, source, w, placement, deployed)
    explainer.workload()
    explainer.resources()
    explainer.env()
    explainer.storage()
    explainer.secrets()
    # The environments it runs in (an override may switch it off elsewhere): the ones --env may name.
    return Explanation(platform.spec_file, workload, env, tuple(e.name for e in platform.environments_of(w)),
                       tuple(explainer.rows))


def to_json(explanation: Explanation) -> str:
    return json.dumps(asdict(explanation), indent=2) + "\n"


_TITLES = {"workload": "Workload", "resources": "Resources (requests = limits)", "env": "Environment variables",
           "storage": "Uses", "secrets": "Secrets and config"}


def to_text(explanation: Explanation) -> str:
    e = explanation
    others = [n for n in e.environments if n != e.environment]
    lines = [f"{e.workload} in environment {e.environment} ({e.spec})"
             + (f"; other environments: {', '.join(others)} (--env)" if others else "")]
    for section, title in _TITLES.items():
        rows = [r for r in e.rows if r.section == section]
        if not rows:
            continue
        if section == "resources" and any(r.field.startswith(("requests.", "cpu_limit")) for r in rows):
            title = "Resources (cpu and memory are the limits; requests as listed)"
        lines += ["", title]
        width_field = max(len(r.field) for r in rows)
        width_value = min(max(len(r.value) for r in rows), 60)
        width_layer = max(len(r.layer) for r in rows)
        for r in rows:
            where = r.where or ""
            if r.note:
                where = f"{where}  ({r.note})" if where else f"({r.note})"
            lines.append(f"  {r.field:<{width_field}}  {r.value:<{width_value}}  {r.layer:<{width_layer}}  {where}".rstrip())
    return "\n".join(lines) + "\n"
