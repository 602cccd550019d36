"""The IR: the spec with defaults applied, references resolved and names derived, frozen.

Targets read only this. Everything a target needs to agree with another target on (names,
secrets, environment variables, guardrails) is computed here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from compiler import names
from compiler.diagnostics import Position
from compiler.ir_secrets import Store, StoreSecret

# The values the semantic checks compute too live in ir_values (`gpc validate` imports no more);
# they are the IR's as much as the rest, so `ir.Resources` & co. name them here as well.
from compiler.ir_values import DEFAULT_RESOURCES as DEFAULT_RESOURCES
from compiler.ir_values import RAILS_OF_TYPE as RAILS_OF_TYPE
from compiler.ir_values import Guardrails as Guardrails
from compiler.ir_values import Layer as Layer
from compiler.ir_values import MaxRule as MaxRule
from compiler.ir_values import Peer as Peer
from compiler.ir_values import Quota as Quota
from compiler.ir_values import Resources as Resources
from compiler.ir_values import Sourced as Sourced
from compiler.ir_values import WorkloadType as WorkloadType
from compiler.ir_values import resources_of as resources_of
from compiler.source import Source

if TYPE_CHECKING:
    from compiler.ir_preview import Preview

WorkloadKind = Literal["Deployment", "Job", "CronJob"]  # the Kubernetes kind that runs it


@dataclass(frozen=True, slots=True)
class SecretRef:
    name: str
    key: str


@dataclass(frozen=True, slots=True)
class ConfigMapRef:
    name: str
    key: str


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class Use:
    alias: str
    kind: str  # a key of compiler.kinds.USE_KINDS
    target: str
    access: str | None = None  # publish/consume, read/write/readwrite
    mount: str | None = None
    read_only: bool = False
    migrate: tuple[str, ...] | None = None  # an owner's migration command (database uses)


@dataclass(frozen=True, slots=True)
class Egress:
    """Something outside the cluster a workload may reach: a CIDR or a hostname, on ports."""

    cidr: str | None
    host: str | None
    ports: tuple[int, ...]
    protocol: str
    index: int  # position in the spec's `egress` list, for diagnostics


@dataclass(frozen=True, slots=True)
class Route:
    """A workload served publicly in one environment."""

    hosts: tuple[str, ...]
    paths: tuple[str, ...]
    tls: bool
    # The Secret cert-manager writes the certificate into, when gpc has one issued (else the
    # Gateway's own listener holds the certificate, or the route is plain HTTP).
    certificate_secret: str | None


@dataclass(frozen=True, slots=True)
class Scaling:
    """How an autoscaler chooses a Deployment's pods in one environment: on CPU/memory use (a
    HorizontalPodAutoscaler), or on the depth of `queue` (KEDA). gpc sets no `spec.replicas` then."""

    min_replicas: int
    max_replicas: int
    cpu: int | None  # target utilisation, percent of the request
    memory: int | None
    queue: str | None  # the broker queue (a consumed use's target); None: CPU/memory
    messages_per_replica: int
    origin: tuple[str | int, ...] = field(default=(), compare=False)  # the spec's `autoscale`, for diagnostics


@dataclass(frozen=True, slots=True)
class Placement:
    """A workload as deployed in one environment."""

    env: str
    namespace: str
    replicas: Sourced
    resources: dict[str, Sourced]
    env_vars: tuple[EnvVar, ...]  # wiring contract + plain env, sorted by name
    schedule: Sourced | None
    plain_env: dict[str, Sourced] = field(default_factory=dict)
    route: Route | None = None  # public exposure in this environment
    time_zone: Sourced | None = None  # of a CronJob's schedule; None: the controller's (usually UTC)
    # Set: an autoscaler owns the pod count, and `replicas` holds `min_replicas` (what the
    # PodDisruptionBudget and the quota checks plan for).
    autoscale: Scaling | None = None

    @property
    def effective_resources(self) -> Resources:
        return resources_of({key: s.value for key, s in self.resources.items()})


@dataclass(frozen=True, slots=True)
class Scrape:
    """Where Prometheus scrapes a workload (compiler/lower_obs.py): through its Service when the
    metrics are on a service's own port, else by pod port."""

    port: int
    path: str
    monitor: Literal["ServiceMonitor", "PodMonitor"]


@dataclass(frozen=True, slots=True)
class Objective:
    """A service's availability objective: `target` percent of requests succeed over the window."""

    target: float
    window_days: int

    @property
    def error_budget(self) -> float:
        return round(1 - self.target / 100, 10)


@dataclass(frozen=True, slots=True)
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
    probe_exec: tuple[str, ...] | None  # a worker's exec probe
    probe_tcp_port: int | None  # a worker's TCP probe
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
    admit: tuple[Peer, ...] = ()  # in-cluster callers that are not gpc workloads
    egress: tuple[Egress, ...] = ()  # destinations outside the cluster
    store_secrets: tuple[StoreSecret, ...] = ()  # non-empty: `secrets` come from the environment's store

    @property
    def terraform_secrets(self) -> bool:
        """Operators pass the values of `secrets` to Terraform (`TF_VAR_app_secrets`)."""
        return self.app_secret is not None and not self.store_secrets

    @property
    def secret_refs(self) -> tuple[str, ...]:
        """Every Secret the workload's pods read (not the image pull secret): what Reloader watches."""
        # From the wiring itself, so any Secret a new kind of use wires in is covered with no edit here.
        return tuple(sorted({v.secret.name for p in self.placements for v in p.env_vars if v.secret is not None}))
    metrics: Scrape | None = None  # scraped in environments with monitoring
    objective: Objective | None = None  # services: the SLO its burn-rate alerts guard

    def placement(self, env: str) -> Placement:
        return next(p for p in self.placements if p.env == env)

    def enabled_in(self, env: str) -> bool:
        """Deployed in `env`: an override `enabled: false` leaves it out there, with everything it owns."""
        return any(p.env == env for p in self.placements)

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
    def database(self) -> Use | None:
        """The one database this workload uses (GPC263), if any."""
        return next((u for u in self.uses if u.kind == "database"), None)

    @property
    def calls(self) -> tuple[Use, ...]:
        return tuple(u for u in self.uses if u.kind == "service")

    @property
    def scaled(self) -> bool:
        """An autoscaler owns the pod count (the spec's `autoscale` holds in every environment)."""
        return any(p.autoscale is not None for p in self.placements)

    @property
    def exposed(self) -> bool:
        return any(p.route is not None for p in self.placements)


@dataclass(frozen=True, slots=True)
class Edge:
    """How an environment serves exposed workloads."""

    api: Literal["gateway", "ingress"]
    gateway_name: str
    gateway_namespace: str
    create_gateway: bool
    gateway_class: str | None
    ingress_class: str | None
    proxy: Peer  # the pods that forward public traffic: the only ones admitted to exposed ports
    issuer: str | None
    issuer_kind: str


@dataclass(frozen=True, slots=True)
class Network:
    fqdn_policies: bool  # the CNI enforces hostname egress (Cilium's toFQDNs)
    pod_cidrs: tuple[str, ...]
    service_cidrs: tuple[str, ...]

    @property
    def cluster_cidrs(self) -> tuple[str, ...]:
        return self.pod_cidrs + self.service_cidrs


@dataclass(frozen=True, slots=True)
class Dns:
    """The cluster DNS every pod may reach (NetworkPolicy egress)."""

    namespace: str
    pod_labels: tuple[tuple[str, str], ...]  # sorted
    ports: tuple[int, ...]  # sorted, each open on UDP and TCP
    node_local_address: str | None  # NodeLocal DNSCache


DEFAULT_DNS = Dns("kube-system", (("k8s-app", "kube-dns"),), (53,), None)


@dataclass(frozen=True, slots=True)
class Monitoring:
    """The Prometheus of an environment: what its monitor and rule selectors match, where its pods
    run (the only ones admitted to metrics ports), and whether alerts route to teams."""

    selector: tuple[tuple[str, str], ...]  # sorted
    scraper: Peer
    route_to_teams: bool
    pushgateway: bool = False  # jobs push their run metrics to a Pushgateway in the infra namespace
    install: bool = False  # gpc installs kube-prometheus-stack in the scraper's namespace


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    cluster: str
    prefix: str
    auto_sync: bool
    namespaces: dict[str, str]  # group -> namespace, only the groups in use
    dns: Dns = DEFAULT_DNS
    edge: Edge | None = None
    network: Network = Network(False, (), ())
    secret_store: Store | None = None  # only when some workload reads secrets from it
    monitoring: Monitoring | None = None

    @property
    def path(self) -> tuple[str, ...]:
        """Where the spec declares this environment."""
        return ("environments", self.name)

    @property
    def infra_namespace(self) -> str:
        return names.namespace(self.prefix, "infra")


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    versioning: bool
    description: str | None
    team: str | None = None  # the owner its alerts go to (None: the platform team)


@dataclass(frozen=True, slots=True)
class DatabaseBackup:
    """Backups of a database in one environment: base backups on `schedule` (five-field cron, UTC),
    WAL continuously, kept `retention` (CloudNativePG's `<n>d|w|m`)."""

    schedule: str
    retention: str


@dataclass(frozen=True, slots=True)
class DatabaseSize:
    """A database's size in one environment (the database's own fields, then the environment's)."""

    env: str
    instances: int
    storage: str
    cpu: str
    memory: str
    backup: DatabaseBackup | None = None


@dataclass(frozen=True, slots=True)
class DatabaseRole:
    """One workload's login role on a database, with exactly the privileges of its access."""

    workload: str
    role: str
    access: str  # read, write or owner


@dataclass(frozen=True, slots=True)
class Database:
    name: str
    version: int
    description: str | None
    sizes: tuple[DatabaseSize, ...]  # one per environment, in environment order
    roles: tuple[DatabaseRole, ...]  # by workload name
    team: str | None = None

    def size(self, env: str) -> DatabaseSize:
        return next(s for s in self.sizes if s.env == env)

    @property
    def owner(self) -> DatabaseRole:
        return next(r for r in self.roles if r.access == "owner")


@dataclass(frozen=True, slots=True)
class Volume:
    name: str
    size: str
    access_mode: str
    storage_class: str | None
    group: str  # namespace group of the workloads that mount it


@dataclass(frozen=True, slots=True)
class Queue:
    name: str
    dead_letter: bool
    dead_letter_queue: str | None
    message_schema: dict[str, Any] | None
    description: str | None
    exchange: str  # the queue's own exchange: publishers write there, never to the default exchange
    bounds: QueueBounds
    max_age_seconds: int | None = None  # alert when the oldest ready message is older (`max_age`)

    @property
    def dead_letter_bounds(self) -> QueueBounds:
        """The dead-letter queue holds as much as its queue. Nobody publishes to it, so a full one
        drops its oldest message (a reject would silently drop the newest); its messages do not
        expire, they are the evidence an operator reads."""
        return QueueBounds(self.bounds.max_bytes, self.bounds.max_length, "drop-head", None)


@dataclass(frozen=True, slots=True)
class QueueBounds:
    """How full a queue may get, and what happens then (the broker's x-* queue arguments)."""

    max_bytes: int
    max_length: int | None
    overflow: Literal["reject-publish", "drop-head"]
    message_ttl_ms: int | None


@dataclass(frozen=True, slots=True)
class GpcSource:
    """Where the platform repository's CI installs gpc from (spec `toolchain.gpc`), pinned:
    `path` a folder of the GitOps repository, `git` a repository URL at `commit`, `index` a package
    index serving `version` with `hashes`."""

    kind: Literal["path", "git", "index"]
    location: str  # the folder, the git URL or the index URL
    commit: str | None = None
    version: str | None = None
    hashes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
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
    databases: tuple[Database, ...] = ()
    gpc_source: GpcSource = GpcSource("path", names.DEFAULT_GPC_PATH)  # toolchain.gpc
    owner: str | None = None  # GitHub owner of what no team owns (CODEOWNERS)
    teams: tuple[Team, ...] = ()
    team_files: tuple[tuple[str, str | None], ...] = ()  # (included file, its team), sorted
    include: tuple[str, ...] = ()  # the root spec's include patterns, as written
    previews: Preview | None = None  # spec `previews` (compiler/ir_preview.py)
    # Where each spec value came from, so target checks (GPC3xx) point at the spec's line too.
    source: Source | None = field(default=None, compare=False, repr=False)

    @property
    def reloads(self) -> bool:
        """Some long-running workload reads a Secret: Reloader restarts it when one changes."""
        return any(w.kind == "Deployment" and w.secret_refs for w in self.workloads)

    def operators(self, env: Environment) -> tuple[str, ...]:
        """The cluster-wide operators `env` installs (`names.OPERATORS`): External Secrets when a
        workload reads a store, Reloader when a long-running one reads a Secret; only the first
        environment on each cluster installs them, and they serve every environment there."""
        cluster = names.cluster_url(env.cluster)
        if next(e for e in self.environments if names.cluster_url(e.cluster) == cluster) is not env:
            return ()
        wanted = {names.EXTERNAL_SECRETS: any(w.store_secrets for w in self.workloads),
                  names.RELOADER: self.reloads}
        return tuple(name for name in names.OPERATORS if wanted[name])

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
        found = self._workloads_by_name.get(name)
        if found is None:
            raise StopIteration(name)  # as the scan this index replaced
        return found

    @cached_property
    def _workloads_by_name(self) -> dict[str, Workload]:
        # An index, not a scan per call: targets look workloads up by name per use (quadratic at N=1000).
        # cached_property writes the instance __dict__ directly, so the frozen dataclass allows it.
        index: dict[str, Workload] = {}
        for w in self.workloads:
            index.setdefault(w.name, w)  # the first, as the scan found
        return index

    def queue(self, name: str) -> Queue:
        return next(q for q in self.queues if q.name == name)

    def consumers(self, queue: str) -> tuple[Workload, ...]:
        """The workloads that consume `queue`, in spec order."""
        return self._consumers.get(queue, ())

    @cached_property
    def _consumers(self) -> dict[str, tuple[Workload, ...]]:
        # An index: the kustomize target asks per queue and environment (a scan of every workload
        # each time was quadratic at N=1000).
        index: dict[str, list[Workload]] = {}
        for w in self.workloads:
            for target in dict.fromkeys(u.target for u in w.queues if u.access == "consume"):
                index.setdefault(target, []).append(w)
        return {queue: tuple(ws) for queue, ws in index.items()}

    @cached_property
    def single_node_volumes(self) -> frozenset[str]:
        """The volumes only one node can attach at a time (ReadWriteOnce, ReadWriteOncePod). Cached:
        the kustomize target asks per Deployment (a scan per call was quadratic)."""
        return frozenset(v.name for v in self.volumes if v.access_mode in ("ReadWriteOnce", "ReadWriteOncePod"))

    def environment(self, name: str) -> Environment:
        return next(e for e in self.environments if e.name == name)

    def workloads_in(self, env: str) -> tuple[Workload, ...]:
        """The workloads deployed in `env` (an override may switch one off there)."""
        return tuple(w for w in self.workloads if w.enabled_in(env))

    def environments_of(self, workload: Workload) -> tuple[Environment, ...]:
        """The environments `workload` is deployed in, in promotion order: its CI delivers to the first
        and promotes along the rest (a switched-off environment is skipped)."""
        return tuple(e for e in self.environments if workload.enabled_in(e.name))

    def scales_on_queues(self, env: str) -> bool:
        """A workload of `env` scales on queue depth: the environment needs KEDA."""
        return any(p.env == env and p.autoscale is not None and p.autoscale.queue is not None
                   for w in self.workloads for p in w.placements)

    @property
    def services(self) -> tuple[Workload, ...]:
        return tuple(w for w in self.workloads if w.type == "service")

    @property
    def workers(self) -> tuple[Workload, ...]:
        return tuple(w for w in self.workloads if w.type == "worker")

    @property
    def jobs(self) -> tuple[Workload, ...]:
        return tuple(w for w in self.workloads if w.type == "job")


def contract_json(schema: dict[str, Any]) -> str:
    """A queue's message schema as workloads receive it (ConfigMap value, `gpc env` value)."""
    import json

    return json.dumps(schema, sort_keys=True, separators=(",", ":"))
