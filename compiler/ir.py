"""The IR: the spec with defaults applied, references resolved and names derived, frozen.

Targets read only this. Everything a target needs to agree with another target on (names,
secrets, environment variables, guardrails) is computed here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from compiler import names
from compiler.diagnostics import Position
from compiler.source import Source

Layer = Literal["gpc default", "guardrail default", "workload", "environment override"]
WorkloadType = Literal["service", "job"]
WorkloadKind = Literal["Deployment", "Job", "CronJob"]  # the Kubernetes kind that runs it

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
    # the spec path that causes the variable (for `gpc explain`); not part of what is emitted
    origin: tuple[str | int, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Use:
    alias: str
    kind: str  # a key of compiler.kinds.USE_KINDS
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
    time_zone: Sourced | None = None  # of a CronJob's schedule; None: the controller's (usually UTC)

    @property
    def effective_resources(self) -> Resources:
        return Resources(self.resources["cpu"].value, self.resources["memory"].value,
                         self.resources["gpu"].value)


@dataclass(frozen=True)
class Workload:
    name: str
    type: WorkloadType
    kind: WorkloadKind
    group: str
    description: str | None
    repo: str | None
    image: str  # repository without tag
    image_tag: str | None  # an existing tag the spec names; None: wait for CI's first delivery
    command: tuple[str, ...] | None
    args: tuple[str, ...] | None
    port: int | None
    health_path: str | None
    readiness_path: str | None
    health_initial_delay: int
    concurrency: str | None
    retries: int | None
    timeout_seconds: int | None  # one attempt (the pod's activeDeadlineSeconds)
    deadline_seconds: int | None  # every attempt together (the Job's activeDeadlineSeconds)
    ttl_seconds: int | None
    starting_deadline_seconds: int | None  # CronJobs
    uses: tuple[Use, ...]
    secrets: tuple[str, ...]
    api_access: bool
    service_account: str
    credentials_secret: str | None  # Terraform-generated broker/object-store credentials
    credential_keys: tuple[str, ...]
    app_secret: str | None  # operator-supplied values of `secrets`
    contract_config_map: str | None
    placements: tuple[Placement, ...]
    team: str | None = None  # the owning team (a key of Platform.teams)

    def placement(self, env: str) -> Placement:
        return next(p for p in self.placements if p.env == env)

    @property
    def initial_tag(self) -> str:
        """The tag gpc seeds each environment's CI-owned image component with."""
        return self.image_tag if self.image_tag is not None else names.BOOTSTRAP_TAG

    @property
    def awaits_delivery(self) -> bool:
        """No existing tag named: the workload stays scaled to zero until CI delivers an image."""
        return self.image_tag is None

    @property
    def path(self) -> tuple[str, ...]:
        """Where the spec declares this workload: target checks point at `(*w.path, field)`."""
        return ("workloads", self.name)

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
class Dns:
    """The cluster DNS every pod may reach (NetworkPolicy egress)."""

    namespace: str
    pod_labels: tuple[tuple[str, str], ...]  # sorted
    ports: tuple[int, ...]  # sorted, each open on UDP and TCP
    node_local_address: str | None  # NodeLocal DNSCache


DEFAULT_DNS = Dns("kube-system", (("k8s-app", "kube-dns"),), (53,), None)


@dataclass(frozen=True)
class Environment:
    name: str
    cluster: str
    prefix: str
    auto_sync: bool
    namespaces: dict[str, str]  # group -> namespace, only the groups in use
    dns: Dns = DEFAULT_DNS

    @property
    def path(self) -> tuple[str, ...]:
        """Where the spec declares this environment."""
        return ("environments", self.name)

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
class Team:
    name: str
    github: str | None  # `@org/team` or `@user`
    max_rules: tuple[MaxRule, ...]  # its workloads' maxima within the guardrails (gpc checks them)


@dataclass(frozen=True)
class Platform:
    name: str
    spec_name: str  # the spec file's stem: out/<spec_name>/
    spec_file: str  # as given on the command line, for "generated from" headers
    description: str | None
    registry: str
    registry_auth: Literal["pull-secret", "public", "node-credentials"]
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
    owner: str | None = None  # GitHub owner of what no team owns (CODEOWNERS)
    teams: tuple[Team, ...] = ()
    team_files: tuple[tuple[str, str | None], ...] = ()  # (included file, its team), sorted
    include: tuple[str, ...] = ()  # the root spec's include patterns, as written
    # Where each spec value came from, so target checks (GPC3xx) point at the spec's line too.
    source: Source | None = field(default=None, compare=False, repr=False)

    @property
    def pull_secret(self) -> str | None:
        """The Secret every workload pulls its image with, or None when the registry needs none."""
        return names.IMAGE_PULL_SECRET if self.registry_auth == "pull-secret" else None

    @property
    def registry_hosts(self) -> tuple[str, ...]:
        """The registries the workloads' images come from (what the pull secret must cover)."""
        return tuple(sorted({names.registry_host(w.image) for w in self.workloads}))

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
