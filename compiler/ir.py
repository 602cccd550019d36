"""The IR: the spec with defaults applied, references resolved and names derived, frozen.

Targets read only this. Everything a target needs to agree with another target on (names,
secrets, environment variables, guardrails) is computed here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from compiler import names
from compiler.diagnostics import Position
from compiler.model import Job, Service, duration_seconds
from compiler.source import Source

Layer = Literal["gpc default", "guardrail default", "workload", "environment override"]
WorkloadType = Literal["service", "job"]

# gpc's own defaults for a workload that declares no resources and has no guardrail default.
DEFAULT_RESOURCES: dict[str, dict[str, str]] = {
    "service": {"cpu": "100m", "memory": "128Mi"},
    "job": {"cpu": "500m", "memory": "512Mi"},
}


@dataclass(frozen=True)
class Sourced:
    """A value and the layer of the spec that set it (for `gpc explain`)."""

    value: Any
    layer: Layer


@dataclass(frozen=True)
class Resources:
    cpu: str
    memory: str
    gpu: int = 0


@dataclass(frozen=True)
class SecretRef:
    name: str
    key: str


@dataclass(frozen=True)
class ConfigMapRef:
    name: str
    key: str


@dataclass(frozen=True)
class EnvVar:
    """One variable of the wiring contract: a plain value, or a reference to a Secret or ConfigMap."""

    name: str
    description: str
    value: str | None = None
    secret: SecretRef | None = None
    config_map: ConfigMapRef | None = None
    local_value: str | None = None  # what `gpc env` prints for a local run, when it differs


@dataclass(frozen=True)
class Use:
    alias: str
    kind: Literal["queue", "bucket", "volume", "service"]
    target: str
    access: str | None = None  # publish/consume, read/write/readwrite
    mount: str | None = None
    read_only: bool = False


@dataclass(frozen=True)
class Placement:
    """A workload as deployed in one environment."""

    env: str
    namespace: str
    replicas: Sourced
    resources: dict[str, Sourced]
    env_vars: tuple[EnvVar, ...]  # wiring contract + plain env, sorted by name
    schedule: Sourced | None
    plain_env: dict[str, Sourced] = field(default_factory=dict)

    @property
    def effective_resources(self) -> Resources:
        return Resources(self.resources["cpu"].value, self.resources["memory"].value,
                         self.resources["gpu"].value)


@dataclass(frozen=True)
class Workload:
    name: str
    type: WorkloadType
    group: str
    description: str | None
    repo: str | None
    image: str  # repository without tag
    image_tag: str
    command: tuple[str, ...] | None
    args: tuple[str, ...] | None
    port: int | None
    health_path: str | None
    readiness_path: str | None
    health_initial_delay: int
    concurrency: str | None
    time_zone: str | None
    retries: int | None
    timeout_seconds: int | None
    ttl_seconds: int | None
    uses: tuple[Use, ...]
    secrets: tuple[str, ...]
    api_access: bool
    service_account: str
    credentials_secret: str | None  # Terraform-generated broker/object-store credentials
    credential_keys: tuple[str, ...]
    app_secret: str | None  # operator-supplied values of `secrets`
    contract_config_map: str | None
    placements: tuple[Placement, ...]

    def placement(self, env: str) -> Placement:
        return next(p for p in self.placements if p.env == env)

    @property
    def queues(self) -> tuple[Use, ...]:
        return tuple(u for u in self.uses if u.kind == "queue")

    @property
    def buckets(self) -> tuple[Use, ...]:
        return tuple(u for u in self.uses if u.kind == "bucket")

    @property
    def volumes(self) -> tuple[Use, ...]:
        return tuple(u for u in self.uses if u.kind == "volume")

    @property
    def calls(self) -> tuple[Use, ...]:
        return tuple(u for u in self.uses if u.kind == "service")


@dataclass(frozen=True)
class Environment:
    name: str
    cluster: str
    prefix: str
    auto_sync: bool
    namespaces: dict[str, str]  # group -> namespace, only the groups in use

    @property
    def infra_namespace(self) -> str:
        return names.namespace(self.prefix, "infra")


@dataclass(frozen=True)
class Bucket:
    name: str
    versioning: bool
    description: str | None


@dataclass(frozen=True)
class Volume:
    name: str
    size: str
    access_mode: str
    storage_class: str | None
    group: str  # namespace group of the workloads that mount it


@dataclass(frozen=True)
class Queue:
    name: str
    dead_letter: bool
    dead_letter_queue: str | None
    message_schema: dict[str, Any] | None
    description: str | None


@dataclass(frozen=True)
class MaxRule:
    """One guardrail: workloads of `workload_type` get at most `limit` of `resource`."""

    workload_type: WorkloadType
    resource: Literal["cpu", "memory", "gpu"]
    limit: str


@dataclass(frozen=True)
class Quota:
    group: str
    cpu: str | None
    memory: str | None
    gpu: int | None
    pods: int | None


@dataclass(frozen=True)
class Guardrails:
    max_rules: tuple[MaxRule, ...]
    allowed_registries: tuple[str, ...]
    excluded_namespaces: tuple[str, ...]
    quotas: tuple[Quota, ...]
    # workload type -> resources of a container that declares none (gpc defaults filled in)
    defaults: dict[str, Resources] = field(default_factory=dict)


@dataclass(frozen=True)
class Platform:
    name: str
    spec_name: str  # the spec file's stem: out/<spec_name>/
    spec_file: str  # as given on the command line, for "generated from" headers
    description: str | None
    registry: str
    kubernetes_version: str
    gitops_repo: str
    gitops_branch: str
    gitops_path: str
    environments: tuple[Environment, ...]
    buckets: tuple[Bucket, ...]
    volumes: tuple[Volume, ...]
    queues: tuple[Queue, ...]
    guardrails: Guardrails
    workloads: tuple[Workload, ...]
    # Where each spec value came from, so target checks (GPC3xx) point at the spec's line too.
    source: Source | None = field(default=None, compare=False, repr=False)

    def position(self, path: tuple[str | int, ...], *, key: bool = False) -> Position:
        """The line and column of the spec value (or, with key=True, the key) at `path`."""
        return self.source.position(path, key=key) if self.source is not None else Position(1, 1)

    def workload(self, name: str) -> Workload:
        return next(w for w in self.workloads if w.name == name)

    def queue(self, name: str) -> Queue:
        return next(q for q in self.queues if q.name == name)

    def environment(self, name: str) -> Environment:
        return next(e for e in self.environments if e.name == name)

    @property
    def services(self) -> tuple[Workload, ...]:
        return tuple(w for w in self.workloads if w.type == "service")

    @property
    def jobs(self) -> tuple[Workload, ...]:
        return tuple(w for w in self.workloads if w.type == "job")


def contract_json(schema: dict[str, Any]) -> str:
    """A queue's message schema as workloads receive it (ConfigMap value, `gpc env` value)."""
    import json

    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


# -- effective values ------------------------------------------------------------------------


def effective_resources(spec: Any, name: str, workload: Service | Job, env: str | None) -> dict[str, Sourced]:
    """cpu, memory and gpu of `workload` in `env` (or its base values when env is None)."""
    defaults = getattr(spec.guardrails.defaults, workload.type)
    override = spec.environments[env].overrides.workloads.get(name) if env is not None else None
    result: dict[str, Sourced] = {}
    for key in ("cpu", "memory", "gpu"):
        override_value = getattr(override.resources, key) if override and override.resources else None
        if override_value is not None:
            result[key] = Sourced(override_value, "environment override")
        elif getattr(workload.resources, key) is not None:
            result[key] = Sourced(getattr(workload.resources, key), "workload")
        elif getattr(defaults, key) is not None:
            result[key] = Sourced(getattr(defaults, key), "guardrail default")
        else:
            result[key] = Sourced(DEFAULT_RESOURCES[workload.type].get(key, 0), "gpc default")
    return result


def _layer(workload: Any, field_name: str) -> Layer:
    return "workload" if field_name in workload.model_fields_set else "gpc default"


# -- lowering -------------------------------------------------------------------------------


def lower(spec: Any, spec_file: str, spec_name: str, source: Source | None = None) -> Platform:
    """Build the IR from a spec that passed the model and semantic checks."""
    from compiler.guardrails import lower_guardrails

    groups_used = {names.GROUP_OF_TYPE[w.type] for w in spec.workloads.values()}
    if spec.storage.buckets or spec.messaging.queues:
        groups_used.add("infra")
    environments = []
    for env_name, env in spec.environments.items():
        prefix = names.namespace_prefix(spec.name, env_name, env.namespace_prefix)
        environments.append(Environment(
            name=env_name, cluster=env.cluster, prefix=prefix, auto_sync=env.auto_sync,
            namespaces={g: names.namespace(prefix, g) for g in names.GROUPS if g in groups_used},
        ))
    env_by_name = {e.name: e for e in environments}
    volume_groups = {
        use.volume: names.GROUP_OF_TYPE[w.type]
        for w in spec.workloads.values() for use in w.uses.values() if hasattr(use, "volume")
    }
    workloads = tuple(
        _lower_workload(spec, name, w, env_by_name) for name, w in sorted(spec.workloads.items())
    )
    return Platform(
        name=spec.name,
        spec_name=spec_name,
        spec_file=spec_file,
        description=spec.description,
        registry=spec.registry,
        kubernetes_version=spec.kubernetes_version,
        gitops_repo=spec.gitops.repo,
        gitops_branch=spec.gitops.branch,
        gitops_path=(spec.gitops.path or f"out/{spec_name}").strip("/"),
        environments=tuple(environments),
        buckets=tuple(Bucket(n, b.versioning, b.description) for n, b in sorted(spec.storage.buckets.items())),
        volumes=tuple(
            Volume(n, v.size, v.access_mode, v.storage_class, volume_groups.get(n, "jobs"))
            for n, v in sorted(spec.storage.volumes.items())
        ),
        queues=tuple(
            Queue(n, q.dead_letter, names.dead_letter_queue(n) if q.dead_letter else None, q.message_schema,
                  q.description)
            for n, q in sorted(spec.messaging.queues.items())
        ),
        guardrails=lower_guardrails(spec),
        workloads=workloads,
        source=source,
    )


def _lower_workload(spec: Any, name: str, w: Service | Job, envs: dict[str, Environment]) -> Workload:
    uses = tuple(_lower_use(alias, u) for alias, u in sorted(w.uses.items()))
    credential_keys: list[str] = []
    if any(u.kind == "queue" for u in uses):
        credential_keys.append(names.AMQP_URL_KEY)
    if any(u.kind == "bucket" for u in uses):
        credential_keys += [names.S3_ACCESS_KEY, names.S3_SECRET_KEY]
    has_schema = any(
        u.kind == "queue" and spec.messaging.queues[u.target].message_schema is not None for u in uses
    )
    group = names.GROUP_OF_TYPE[w.type]
    placements = tuple(_place(spec, name, w, uses, env, group) for env in envs.values())
    return Workload(
        name=name,
        type=w.type,
        group=group,
        description=w.description,
        repo=w.repo,
        image=w.image or f"{spec.registry}/{name}",
        image_tag=w.image_tag,
        command=tuple(w.command) if w.command is not None else None,
        args=tuple(w.args) if w.args is not None else None,
        port=w.port if isinstance(w, Service) else None,
        health_path=w.health.path if isinstance(w, Service) else None,
        readiness_path=(w.health.readiness_path or w.health.path) if isinstance(w, Service) else None,
        health_initial_delay=w.health.initial_delay if isinstance(w, Service) else 0,
        concurrency=w.concurrency if isinstance(w, Job) else None,
        time_zone=w.time_zone if isinstance(w, Job) else None,
        retries=w.retries if isinstance(w, Job) else None,
        timeout_seconds=duration_seconds(w.timeout) if isinstance(w, Job) and w.timeout else None,
        ttl_seconds=duration_seconds(w.ttl_after_finished) if isinstance(w, Job) else None,
        uses=uses,
        secrets=tuple(sorted(w.secrets)),
        api_access=w.api_access,
        service_account=name,
        credentials_secret=names.credentials_secret(name) if credential_keys else None,
        credential_keys=tuple(credential_keys),
        app_secret=names.app_secret(name) if w.secrets else None,
        contract_config_map=names.contract_config_map(name) if has_schema else None,
        placements=placements,
    )


def _lower_use(alias: str, use: Any) -> Use:
    if hasattr(use, "queue"):
        return Use(alias, "queue", use.queue, access=use.access)
    if hasattr(use, "bucket"):
        return Use(alias, "bucket", use.bucket, access=use.access)
    if hasattr(use, "volume"):
        return Use(alias, "volume", use.volume, mount=use.mount, read_only=use.read_only)
    return Use(alias, "service", use.service)


def _place(spec: Any, name: str, w: Service | Job, uses: tuple[Use, ...], env: Environment,
           group: str) -> Placement:
    override = spec.environments[env.name].overrides.workloads.get(name)
    if isinstance(w, Service):
        replicas = (Sourced(override.replicas, "environment override") if override and override.replicas is not None
                    else Sourced(w.replicas, _layer(w, "replicas")))
        schedule = None
    else:
        replicas = Sourced(1, "gpc default")
        if override and override.schedule is not None:
            schedule = Sourced(override.schedule, "environment override")
        else:
            schedule = Sourced(w.schedule, "workload") if w.schedule else None
    plain_env = {k: Sourced(v, "workload") for k, v in w.env.items()}
    if override and override.env:
        plain_env.update({k: Sourced(v, "environment override") for k, v in override.env.items()})
    env_vars = wiring(spec, name, w, uses, env) + tuple(
        EnvVar(k, "set in the spec", value=str(v.value)) for k, v in plain_env.items()
    )
    return Placement(
        env=env.name,
        namespace=env.namespaces[group],
        replicas=replicas,
        resources=effective_resources(spec, name, w, env.name),
        env_vars=tuple(sorted(env_vars, key=lambda v: v.name)),
        schedule=schedule,
        plain_env=plain_env,
    )


def wiring(spec: Any, name: str, w: Service | Job, uses: tuple[Use, ...], env: Environment) -> tuple[EnvVar, ...]:
    """The wiring contract of design §3: the variables each `uses` entry gives a workload."""
    out: list[EnvVar] = []
    creds = names.credentials_secret(name)
    infra = env.infra_namespace
    if isinstance(w, Service):
        out.append(EnvVar("PORT", "port the service listens on", value=str(w.port)))
    if any(u.kind == "queue" for u in uses):
        out.append(EnvVar(names.AMQP_URL_KEY, "AMQP URL with this workload's own broker credentials",
                          secret=SecretRef(creds, names.AMQP_URL_KEY),
                          local_value=f"amqp://{names.broker_user(name)}:CHANGE-ME@127.0.0.1:5672/{spec.name}"))
    if any(u.kind == "bucket" for u in uses):
        host = names.service_host(names.OBJECT_STORE_SERVICE, infra)
        out += [
            EnvVar("S3_ENDPOINT", "object store endpoint", value=f"http://{host}:{names.OBJECT_STORE_PORT}",
                   local_value="http://127.0.0.1:9000"),
            EnvVar(names.S3_ACCESS_KEY, "this workload's own object-store access key",
                   secret=SecretRef(creds, names.S3_ACCESS_KEY), local_value=names.object_store_user(name)),
            EnvVar(names.S3_SECRET_KEY, "this workload's own object-store secret key",
                   secret=SecretRef(creds, names.S3_SECRET_KEY), local_value="CHANGE-ME"),
        ]
    for use in uses:
        prefix = names.env_prefix(use.alias)
        if use.kind == "queue":
            queue = spec.messaging.queues[use.target]
            out.append(EnvVar(f"{prefix}_QUEUE", f"queue to {use.access}", value=use.target))
            if queue.dead_letter:
                out.append(EnvVar(f"{prefix}_DEAD_LETTER_QUEUE", "where rejected messages go",
                                  value=names.dead_letter_queue(use.target)))
            if queue.message_schema is not None:
                out.append(EnvVar(f"{prefix}_MESSAGE_SCHEMA", "JSON Schema every message must match",
                                  config_map=ConfigMapRef(names.contract_config_map(name),
                                                          names.schema_key(use.target))))
        elif use.kind == "bucket":
            out.append(EnvVar(f"{prefix}_BUCKET", f"bucket to {use.access}", value=use.target))
        elif use.kind == "volume":
            out.append(EnvVar(f"{prefix}_PATH", "where the volume is mounted", value=use.mount))
        else:
            callee = spec.workloads[use.target]
            ns = env.namespaces[names.GROUP_OF_TYPE[callee.type]]
            out.append(EnvVar(f"{prefix}_URL", f"base URL of service {use.target}",
                              value=f"http://{names.service_host(use.target, ns)}:{callee.port}",
                              local_value=f"http://127.0.0.1:{callee.port}"))
    for secret in sorted(w.secrets):
        out.append(EnvVar(secret, "declared secret", secret=SecretRef(names.app_secret(name), secret)))
    return tuple(out)
