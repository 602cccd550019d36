"""The spec model: what a platform.yaml may say. Field descriptions become editor hover text."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    Tag,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError

from compiler import metaschema, names, quantity
from compiler.kinds import USE_KINDS, kinds_phrase
from compiler.model_edges import Admit, Egress, Expose, Exposure, Hostname, Network
from compiler.model_obs import Metrics, Monitoring, Slo
from compiler.model_scaling import Autoscale, AutoscaleOverride
from compiler.model_secrets import SecretSource, SecretStore
from compiler.timezones import time_zone_error

NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
REGISTRY_PATTERN = r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$"
TIME_ZONE_PATTERN = r"^[A-Za-z0-9_+.-]+(/[A-Za-z0-9_+.-]+)*$"
_DURATION = re.compile(DURATION_PATTERN)


class Strict(BaseModel):
    # strict: no lax coercion ("3000" -> 3000, "no" -> False, true -> 1), which the JSON Schema
    # editors use would reject; the coercions gpc wants are explicit validators below.
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


def _text(value: Any) -> Any:
    # YAML reads `4` and `1.10` as numbers. A whole number reads back the same as a string; a
    # float does not (1.10 -> "1.1"), so gpc refuses it rather than silently change the value.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class _TextSchema:
    """The schema accepts what `_text` accepts: a string or a whole number."""

    def __get_pydantic_json_schema__(self, core: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        if schema.get("type") == "string":
            schema["type"] = ["string", "integer"]
        return schema


# A string where YAML may have read a whole number (env values, tags, arguments).
Text = Annotated[str, BeforeValidator(_text), _TextSchema()]


def _whole(value: Any) -> Any:
    # JSON (and so the schema) does not tell 3.0 from 3; neither does gpc. 3.5 stays an error.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Whole = Annotated[int, BeforeValidator(_whole)]
# The pattern before the validator, so that the schema keeps it inside `| None` (pydantic drops a
# field-level pattern on a union); `minimum: 0` because `-1` is a number but no tag.
ImageTag = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", json_schema_extra={"minimum": 0}),
                     BeforeValidator(_text), _TextSchema()]


def _version(value: Any) -> Any:
    # Literal[1] would take `true` (True == 1 in Python); the schema's `const: 1` does not.
    if isinstance(value, bool) or _whole(value) != 1:
        raise PydanticCustomError("version", "unsupported spec version", {"value": value})
    return 1


def _time_zone(value: str) -> str:
    problem = time_zone_error(value)
    if problem:
        raise PydanticCustomError("time_zone", "time zone '{value}' {problem}",
                                  {"value": value, "problem": problem[0], "hint": problem[1]})
    return value


TimeZone = Annotated[str, AfterValidator(_time_zone),
                     WithJsonSchema({"type": "string", "minLength": 1, "pattern": TIME_ZONE_PATTERN})]


def _quantity(value: Any) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            text = quantity.canonical(value)
            if not text.startswith("-"):  # resources and sizes are never negative
                return text
        except quantity.QuantityError:
            pass
    raise PydanticCustomError("quantity", "'{value}' is not a Kubernetes quantity", {"value": value})


def _duration(value: Any) -> str:
    # Every duration gpc reads is a deadline or a lifetime that Kubernetes wants positive
    # (`activeDeadlineSeconds: 0` is refused by the API server), so zero is not a duration here.
    if isinstance(value, str) and value and _DURATION.match(value):
        if duration_seconds(value) > 0:
            return value
        raise PydanticCustomError("duration", "'{value}' must be longer than zero", {"value": value})
    value = _whole(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value > 0:
            return f"{value}s"
        raise PydanticCustomError("duration", "'{value}' must be longer than zero", {"value": value})
    raise PydanticCustomError("duration", "'{value}' is not a duration", {"value": value})


def duration_seconds(value: str) -> int:
    match = _DURATION.match(value)
    assert match is not None
    h, m, s = (int(g[:-1]) if g else 0 for g in match.groups())
    return h * 3600 + m * 60 + s


# Names are checked by the semantic pass (GPC201) so that the message can say which name is
# wrong and why; the schema still carries the pattern so editors flag them as you type.
Name = Annotated[str, WithJsonSchema({"type": "string", "pattern": NAME_PATTERN, "maxLength": 63})]
Quantity = Annotated[
    str,
    BeforeValidator(_quantity),
    WithJsonSchema({
        "anyOf": [
            {"type": "string", "pattern": r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"},
            {"type": "number", "minimum": 0},
        ],
        "description": "A Kubernetes quantity, e.g. `250m` or `2` for cpu, `512Mi` or `2Gi` for memory.",
    }),
]
Duration = Annotated[
    str,
    BeforeValidator(_duration),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["1h", "30m", "1h30m"]}),
]
EnvName = Annotated[str, Field(pattern=ENV_VAR_PATTERN)]


def _bytes(value: Any) -> str:
    text = _quantity(value)
    amount = quantity.parse_quantity(text)
    if amount.denominator != 1 or not 1 <= amount <= MAX_QUEUE_BYTES:
        raise PydanticCustomError("quantity", "'{value}' is not a whole number of bytes between 1 and 1Ti "
                                  "(such as 64Mi)", {"value": value})
    return text


# A byte count: a whole number, or a Kubernetes quantity such as `64Mi`.
Bytes = Annotated[
    str,
    BeforeValidator(_bytes),
    WithJsonSchema({
        "anyOf": [{"type": "string", "pattern": r"^[0-9]+(Ki|Mi|Gi|Ti|[kMGT])?$"}, {"type": "integer", "minimum": 1}],
        "description": "A number of bytes, e.g. `67108864` or `64Mi`.",
    }),
]
DEFAULT_QUEUE_BYTES = "64Mi"
MAX_QUEUE_BYTES = 2**40
# A TTL is a queue bound, not a retention policy: at most 1000h, which also keeps it below
# 2^32 milliseconds, a count every broker release accepts.
MAX_MESSAGE_TTL_SECONDS = 1000 * 3600


class Requests(Strict):
    """What the scheduler reserves for each container, below its limits."""

    model_config = ConfigDict(title="Requests")
    cpu: Quantity | None = Field(None, description="CPU the scheduler reserves (`resources.requests.cpu`); "
                                 "at most `cpu`. Defaults to `cpu`.", examples=["100m"])
    memory: Quantity | None = Field(None, description="Memory the scheduler reserves "
                                    "(`resources.requests.memory`); at most `memory`. Defaults to `memory`.",
                                    examples=["128Mi"])


class Resources(Strict):
    """Compute a workload's containers get. `cpu` and `memory` are the limits; the requests are the
    same values (Guaranteed QoS) unless `requests` sets lower ones or `cpu_limit: false` drops the
    CPU limit."""

    model_config = ConfigDict(title="Resources")
    cpu: Quantity | None = Field(None, description="CPU cores, e.g. `250m` or `2`: the CPU limit (and request "
                                 "unless `requests.cpu` is set). With `cpu_limit: false`, the request.",
                                 examples=["250m"])
    memory: Quantity | None = Field(None, description="Memory, e.g. `256Mi` or `2Gi`: the memory limit (and "
                                    "request unless `requests.memory` is set).", examples=["256Mi"])
    requests: Requests | None = Field(None, description="Requests below the limits (Burstable QoS): the pod "
                                      "is scheduled on what it usually needs and may burst up to `cpu` and "
                                      "`memory`. Guardrail maxima cap the limits; quotas count both.",
                                      examples=[{"cpu": "100m", "memory": "128Mi"}])
    cpu_limit: bool | None = Field(None, description="`false`: no CPU limit, so the container is never "
                                   "throttled while the node has spare CPU; `cpu` (or `requests.cpu`) is then "
                                   "the request, and the guardrail maximum caps it. Default `true`.",
                                   examples=[False])
    # Bounds before the validator, so that the schema carries them (pydantic drops them otherwise).
    gpu: Annotated[int, Field(ge=0, le=64), BeforeValidator(_whole)] | None = Field(
        None, description="Whole NVIDIA GPUs (`nvidia.com/gpu`). Allowed only where `guardrails.max` allows "
        "GPUs for the workload's type.", examples=[0])


class Health(Strict):
    """HTTP probes for a service."""

    path: str = Field("/healthz", pattern=r"^/", description="Liveness probe path: answers 200 while the "
                      "process is alive.", examples=["/healthz"])
    readiness_path: str | None = Field(None, pattern=r"^/", description="Readiness probe path: answers 200 "
                                       "when the service can take traffic. Defaults to `path`.",
                                       examples=["/readyz"])
    initial_delay: Whole = Field(0, ge=0, le=3600, description="Seconds before the first probe.")


class UseBase(Strict):
    """What every `uses` entry has: the kind it is (compiler/kinds.py) and the name it refers to."""

    kind: ClassVar[str]

    @property
    def target(self) -> str:
        return str(getattr(self, self.kind))


class QueueUse(UseBase):
    """Publish to or consume from a queue declared under `messaging.queues`."""

    kind: ClassVar[str] = "queue"
    model_config = ConfigDict(title="Queue use")
    queue: Name = Field(description="Name of a queue under `messaging.queues`.", examples=["checkout-events"])
    access: Literal["publish", "consume"] = Field(description="`publish` to send messages, `consume` to "
                                                  "receive them.", json_schema_extra={"markdownEnumDescriptions": [
        "Send messages to the queue named in `<ALIAS>_QUEUE` by publishing to the exchange named in "
        "`<ALIAS>_EXCHANGE` (the only one this workload may publish to).",
        "Receive and acknowledge messages from the queue named in `<ALIAS>_QUEUE`."]})


class BucketUse(UseBase):
    """Read or write an object-store bucket declared under `storage.buckets`."""

    kind: ClassVar[str] = "bucket"
    model_config = ConfigDict(title="Bucket use")
    bucket: Name = Field(description="Name of a bucket under `storage.buckets`.", examples=["fraud-models"])
    access: Literal["read", "write", "readwrite"] = Field(
        description="`read` (get and list; on a versioned bucket also older versions), `write` (put, "
        "delete and list) or `readwrite` (both).",
        json_schema_extra={"markdownEnumDescriptions": [
            "Get and list objects (and their older versions on a versioned bucket).",
            "Put, delete and list objects (never delete a version for good).",
            "Get, list, put and delete objects."]})


class VolumeUse(UseBase):
    """Mount a volume declared under `storage.volumes`."""

    kind: ClassVar[str] = "volume"
    model_config = ConfigDict(title="Volume use")
    volume: Name = Field(description="Name of a volume under `storage.volumes`.", examples=["model-artifacts"])
    mount: str = Field(description="Absolute path where the volume is mounted.", examples=["/artifacts"])
    read_only: bool = Field(False, description="Mount the volume read-only.")


class ServiceUse(UseBase):
    """Call another workload of type service over HTTP."""

    kind: ClassVar[str] = "service"
    model_config = ConfigDict(title="Service use")
    service: Name = Field(description="Name of a workload of type `service`.", examples=["fraud-inference"])


class DatabaseUse(UseBase):
    """Read, write or own a Postgres database declared under `storage.databases`."""

    kind: ClassVar[str] = "database"
    model_config = ConfigDict(title="Database use")
    database: Name = Field(description="Name of a database under `storage.databases`.", examples=["payments"])
    access: Literal["read", "write", "owner"] = Field(
        description="`read` (SELECT), `write` (SELECT, INSERT, UPDATE, DELETE) or `owner` (owns the schema: "
        "creates and alters tables). Exactly one workload owns each database.",
        json_schema_extra={"markdownEnumDescriptions": [
            "SELECT on the tables of the database's schema, nothing else.",
            "SELECT, INSERT, UPDATE and DELETE on the tables of the database's schema; no DDL.",
            "Owns the schema: creates, alters and drops tables (migrations), and reads and writes them."]})
    migrate: list[Text] | None = Field(
        None, min_length=1, description="Only with `access: owner`: the command a one-off Job runs with this "
        "workload's image before each sync (an Argo CD PreSync hook), so schema changes land before the new "
        "version starts.", examples=[["python", "-m", "app.migrate"]])


# One model class per entry of compiler.kinds.USE_KINDS, in the table's order (a test checks it).
USE_MODELS: tuple[type[UseBase], ...] = (QueueUse, BucketUse, VolumeUse, ServiceUse, DatabaseUse)


def _use_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((kind for kind in USE_KINDS if kind in value), None)
    if isinstance(value, UseBase):
        return value.kind
    return None


if TYPE_CHECKING:
    Use = UseBase
else:  # the tagged union of USE_MODELS, picked by the key a use names
    Use = Annotated[
        Union[tuple(Annotated[model, Tag(model.kind)] for model in USE_MODELS)],  # noqa: UP007
        Discriminator(_use_kind, custom_error_type="use_kind",
                      custom_error_message=f"a use names one of {kinds_phrase()}"),
    ]

_USES_DESCRIPTION = (
    "What this workload uses, by a local alias. Each entry becomes environment variables named after "
    "the alias (`<ALIAS>_QUEUE`, `<ALIAS>_BUCKET`, `<ALIAS>_URL`, `<ALIAS>_PATH`, ...; a database gives "
    "`DATABASE_URL` and the libpq `PG*` variables) and, for queues, buckets and databases, a credential "
    "of its own limited to the declared access."
)


class WorkloadBase(Strict):
    description: str | None = Field(None, description="What this workload does (shown in generated docs).")
    repo: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
                             description="GitHub repository (`owner/name`) whose CI builds this image.",
                             examples=["acme/checkout-service"])
    image: str | None = Field(None, description="Image repository without a tag. Defaults to "
                              "`<registry>/<workload name>`.", examples=["ghcr.io/acme/checkout"])
    image_tag: ImageTag | None = Field(
        None, description="A tag that already exists in the registry, to run before CI has delivered anything "
        "(for example the last release built outside CI). gpc writes it once into each environment's "
        "CI-owned image file. Absent (the default), the workload waits for its first delivery: it is "
        "rendered scaled to zero (services) or suspended (jobs), with the annotation "
        "`gpc.dev/awaiting-first-delivery`, and CI's first deploy to an environment brings it up there. "
        "From then on CI owns the tag (the commit SHA it built) and this field is only where the "
        "environments started: gpc never overwrites a tag CI has set.",
        examples=["1.0.0"])
    command: list[Text] | None = Field(None, description="Overrides the image's entrypoint.")
    args: list[Text] | None = Field(None, description="Arguments passed to the command.")
    resources: Resources = Field(default_factory=Resources, description="CPU, memory and GPUs. Missing "
                                 "values come from `guardrails.defaults`, then from gpc's defaults.")
    env: dict[EnvName, Text] = Field(default_factory=dict, description="Plain environment variables.",
                                    examples=[{"LOG_LEVEL": "info"}])
    secrets: list[EnvName] = Field(default_factory=list, description="Secret environment variables, by "
                                   "name only. Values live in the workload's own Kubernetes Secret "
                                   "`<workload>-app-secrets`, never in the spec.", examples=[["STRIPE_API_KEY"]])
    secret_sources: dict[EnvName, SecretSource] = Field(
        default_factory=dict, description="Where each of `secrets` is kept in the environment's secret store "
        "(`environments.<env>.secret_store`), by name. Absent (the default), operators pass the values to "
        "Terraform (`TF_VAR_app_secrets`). Present, every secret of this workload comes from the store, in "
        "every environment: External Secrets writes `<workload>-app-secrets` with the same keys and refreshes it.",
        examples=[{"STRIPE_API_KEY": {"key": "payments/stripe", "property": "api_key"}}])
    uses: dict[str, Use] = Field(default_factory=dict, description=_USES_DESCRIPTION)
    team: Name | None = Field(None, description="The team that owns this workload: a key of the root spec's "
                              "`teams`. In a file the root spec includes, the file's `team` is the default.",
                              examples=["payments"])
    api_access: bool = Field(False, description="Mount a Kubernetes service-account token. Off by default: "
                             "workloads do not talk to the Kubernetes API.")
    expose: Expose | None = Field(None, description="Serve this workload publicly through the environment's "
                                  "gateway (`environments.<env>.exposure`): hostnames, paths, TLS.")
    admit: list[Admit] = Field(default_factory=list, description="In-cluster callers that are not gpc "
                               "workloads (an ingress controller, a webhook sender, monitoring), admitted to "
                               "this workload's port by namespace and pod labels, never everyone.")
    egress: list[Egress] = Field(default_factory=list, description="What this workload may reach outside the "
                                 "cluster: CIDRs or hostnames, with ports. Nothing else outside is reachable.")
    metrics: Metrics | None = Field(None, description="Where the workload serves Prometheus metrics, scraped "
                                    "in environments with `monitoring`. Default: a service's port at "
                                    "`/metrics`; a worker is scraped only when it names a port; a job is not "
                                    "scraped (its runs are watched through kube-state-metrics).")


class Service(WorkloadBase):
    """A long-running HTTP service: a Deployment, a Service and a PodDisruptionBudget."""

    model_config = ConfigDict(title="Service")
    type: Literal["service"] = Field(description="`service`: a long-running HTTP server.")
    port: Whole = Field(8080, ge=1, le=65535, description="Port the container listens on.", examples=[8080])
    replicas: Whole = Field(1, ge=0, le=1000, description="Number of pods, when `autoscale` does not "
                            "choose it.", examples=[2])
    autoscale: Autoscale | None = Field(
        None, description="Let Kubernetes choose the number of pods: on CPU/memory use (a "
        "HorizontalPodAutoscaler), or on the depth of a consumed queue (KEDA), down to zero with `queue`. "
        "Replaces `replicas`.", examples=[{"min_replicas": 2, "max_replicas": 10, "cpu": 70}])
    health: Health = Field(default_factory=Health, description="HTTP liveness and readiness probes.")
    slo: Slo = Field(default_factory=Slo, description="The availability objective its burn-rate alerts "
                     "guard, in environments with `monitoring`.")


class Probe(Strict):
    """How the kubelet checks a worker that serves no HTTP: a command, or a TCP port that accepts
    connections. Used as liveness (restart when it fails) and readiness (a rollout waits for it)."""

    model_config = ConfigDict(title="Worker probe")
    exec: list[Text] | None = Field(None, min_length=1, description="Command run in the container; exit code 0 "
                                    "means healthy.", examples=[["/app/healthcheck"]])
    tcp_port: int | None = Field(None, ge=1, le=65535, description="Port the worker accepts TCP connections on "
                                 "while healthy (a metrics or admin port).", examples=[9090])
    initial_delay: int = Field(0, ge=0, le=3600, description="Seconds before the first probe.")


class Worker(WorkloadBase):
    """A long-running workload that serves no HTTP, such as a queue consumer: a Deployment and,
    with more than one replica, a PodDisruptionBudget; no Service and no HTTP probes. Runs in the
    services namespace and shares the services' guardrails (`guardrails.max.service`,
    `guardrails.defaults.service`, `guardrails.quotas.services`)."""

    model_config = ConfigDict(title="Worker")
    type: Literal["worker"] = Field(description="`worker`: a long-running process that serves no HTTP "
                                    "(a queue consumer).")
    replicas: int = Field(1, ge=0, le=1000, description="Number of pods, when `autoscale` does not "
                          "choose it.", examples=[2])
    autoscale: Autoscale | None = Field(
        None, description="Let Kubernetes choose the number of pods: on CPU/memory use (a "
        "HorizontalPodAutoscaler), or on the depth of a consumed queue (KEDA), down to zero with `queue`. "
        "Replaces `replicas`.", examples=[{"min_replicas": 2, "max_replicas": 10, "cpu": 70}])
    probe: Probe | None = Field(None, description="An exec or TCP probe. Absent: the kubelet restarts the "
                                "worker only when its process exits.",
                                examples=[{"exec": ["/app/healthcheck"]}])


class Job(WorkloadBase):
    """A batch job: a Job, or a CronJob when `schedule` is set."""

    model_config = ConfigDict(title="Job")
    type: Literal["job"] = Field(description="`job`: runs to completion, once or on a schedule.")
    schedule: str | None = Field(None, description="Cron schedule (five fields or a macro such as `@daily`). "
                                 "Present: a CronJob. Absent: a Job.", examples=["0 */6 * * *"])
    time_zone: TimeZone | None = Field(None, description="IANA time zone of the schedule, e.g. `Europe/Berlin`. "
                                      "Absent: the time zone of the cluster's controller manager (usually UTC).",
                                      examples=["Etc/UTC"])
    concurrency: Literal["Forbid", "Allow", "Replace"] = Field(
        "Forbid", description="What a CronJob does when the previous run is still going.",
        json_schema_extra={"markdownEnumDescriptions": [
            "Skip the new run.", "Run both at once.", "Stop the running one and start the new run."]})
    retries: Whole = Field(0, ge=0, le=100, description="Retries before the job is marked failed "
                         "(`backoffLimit`).", examples=[2])
    timeout: Duration | None = Field(None, description="Longest one attempt may take: the pod's "
                                     "`activeDeadlineSeconds`, so each retry gets the whole timeout again. "
                                     "The Job as a whole is bounded by `(retries + 1) * (timeout + 10m)` "
                                     "(10 minutes per attempt to be scheduled) plus Kubernetes' back-off "
                                     "between attempts.", examples=["1h"])
    ttl_after_finished: Duration | None = Field(
        None, description="Delete each finished run of a scheduled job this long after it ends, failed runs "
        "included (Kubernetes' `ttlSecondsAfterFinished` does not tell them apart). Unset by default: a "
        "CronJob keeps its last 3 successful and last 3 failed runs, with their pods and logs, for "
        "inspection. One-off Jobs stay until the next deploy replaces them (Argo CD would re-run a "
        "deleted one).", examples=["24h"])
    starting_deadline: Duration = Field(
        "1h", description="How late a scheduled run may still start (`startingDeadlineSeconds`), when it "
        "could not start on time (the controller was down, or `concurrency: Forbid` held it back). A run "
        "later than this is skipped and counted as missed. The deadline also keeps a CronJob from "
        "stopping for good after more than 100 missed runs. Keep it at least 10s: the controller "
        "checks every 10 seconds.", examples=["15m"])


Workload = Annotated[Service | Worker | Job, Field(discriminator="type")]

AnyWorkload = Service | Worker | Job
# Workloads that run pods for good (Deployments): replicas, PodDisruptionBudgets, the services namespace.
LongRunning = (Service, Worker)

# The workload models, by `type` (the shape check's hints and the schema's snippets list them).
WORKLOAD_TYPES = ("service", "worker", "job")


class WorkloadOverride(Strict):
    """Per-environment changes to one workload."""

    model_config = ConfigDict(title="Workload override")
    enabled: bool = Field(True, description="`false`: the workload does not exist in this environment (a "
                          "nightly GPU job off in dev): no objects, credentials, network policy entries, Argo CD "
                          "application or CI promotion step here. A workload enabled here may not use it.",
                          examples=[False])
    replicas: Annotated[int, Field(ge=0, le=1000), BeforeValidator(_whole)] | None = Field(
        None, description="Number of pods (services and workers without `autoscale`).", examples=[3])
    autoscale: AutoscaleOverride | None = Field(
        None, description="Autoscaling bounds and targets in this environment (workloads with `autoscale`).",
        examples=[{"min_replicas": 3, "max_replicas": 20}])
    resources: Resources | None = Field(None, description="CPU, memory and GPUs in this environment.")
    env: dict[EnvName, Text] | None = Field(None, description="Variables added or replaced in this "
                                           "environment.")
    schedule: str | None = Field(None, description="Cron schedule in this environment (jobs).")
    hosts: list[Hostname] | None = Field(None, min_length=1, description="Hostnames of an exposed workload "
                                         "in this environment (replace `expose.hosts` and the default).",
                                         examples=[["shop.example.com"]])
    time_zone: TimeZone | None = Field(None, description="IANA time zone of the schedule in this environment "
                                      "(scheduled jobs).", examples=["America/New_York"])


class Overrides(Strict):
    workloads: dict[str, WorkloadOverride] = Field(default_factory=dict,
                                                   description="Overrides by workload name.")


LABEL_KEY_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
LABEL_VALUE_PATTERN = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"


class ClusterDns(Strict):
    """Where the pods of an environment's cluster resolve names: every NetworkPolicy gpc writes lets
    pods reach exactly this, on these ports (UDP and TCP)."""

    model_config = ConfigDict(title="Cluster DNS")
    namespace: str = Field("kube-system", pattern=NAME_PATTERN, max_length=63,
                           description="Namespace of the cluster's DNS pods.", examples=["kube-system"])
    pod_labels: dict[Annotated[str, Field(pattern=LABEL_KEY_PATTERN, max_length=316)],
                     Annotated[str, Field(pattern=LABEL_VALUE_PATTERN)]] = Field(
        default_factory=lambda: {"k8s-app": "kube-dns"}, min_length=1,
        # pydantic leaves a key's pattern out of the schema; editors must check keys as gpc does.
        json_schema_extra={"propertyNames": {"pattern": LABEL_KEY_PATTERN, "maxLength": 316}},
        description="Labels that select the DNS pods. CoreDNS keeps the `k8s-app: kube-dns` label of the "
        "service it replaced on most distributions.", examples=[{"k8s-app": "kube-dns"}])
    ports: list[Annotated[int, Field(ge=1, le=65535), BeforeValidator(_whole)]] = Field(
        [53], min_length=1, description="Ports the DNS pods answer on (UDP and TCP each). CoreDNS "
        "listens on 53 in the pod on most distributions.", examples=[[53]])
    # The schema checks the address as `_ip_address` does (allOf: the `| None` keeps its own anyOf).
    node_local_address: Annotated[str, Field(json_schema_extra={
        "allOf": [{"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}]})] | None = Field(
        None, description="Address of NodeLocal DNSCache on every node (often `169.254.20.10`), when the "
        "cluster runs it: pods query it instead of the DNS pods, so NetworkPolicies allow it as an "
        "`ipBlock` too.", examples=["169.254.20.10"])

    @field_validator("node_local_address")
    @classmethod
    def _ip_address(cls, value: str | None) -> str | None:
        if value is not None:
            import ipaddress

            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise PydanticCustomError("ip_address", "'{value}' is not an IPv4 or IPv6 address",
                                          {"value": value}) from None
        return value


class Environment(Strict):
    """A place the platform is delivered to: a cluster and a set of namespaces."""

    model_config = ConfigDict(title="Environment")
    cluster: str = Field("https://kubernetes.default.svc", pattern=r"^https://",
                         description="API server URL of the environment's cluster. Terraform configures "
                         "that cluster and installs Argo CD in it; that Argo CD delivers the environment.",
                         examples=["https://kubernetes.default.svc"])
    namespace_prefix: Name | None = Field(None, description="Prefix of this environment's namespaces "
                                          "(`<prefix>-services`, `<prefix>-jobs`, `<prefix>-infra`). "
                                          "Defaults to `<platform name>-<environment>`.")
    auto_sync: bool = Field(True, description="Let Argo CD sync, prune and self-heal the workloads' "
                            "Applications automatically. Turn off where a person syncs each delivery (often "
                            "prod). The platform layers (policies, network policies, shared infrastructure) "
                            "sync automatically either way, so an environment comes up on its own.")
    dns: ClusterDns = Field(default_factory=ClusterDns, description="The cluster's DNS, which every pod "
                            "may reach. The defaults fit kube-dns and CoreDNS as most clusters install them.")
    overrides: Overrides = Field(default_factory=Overrides, description="Per-environment changes.")
    exposure: Exposure | None = Field(None, description="How exposed workloads are served here: Gateway API "
                                      "or Ingress, the gateway, the default domain, the certificate issuer.")
    network: Network = Field(default_factory=Network, description="The cluster's network plugin and address "
                             "ranges, for egress policies.")
    secret_store: SecretStore | None = Field(None, description="The secret store the workloads' "
                                             "`secret_sources` are read from in this environment (Vault or AWS "
                                             "Secrets Manager), through External Secrets Operator.")
    monitoring: Monitoring | None = Field(None, description="The Prometheus that monitors this environment: "
                                          "gpc writes a monitor and alerting rules per workload "
                                          "and admits the Prometheus to the metrics ports. Absent: none.")


class GitOps(Strict):
    """Where the compiled tree lives."""

    repo: str = Field(pattern=r"^(https://|git@|ssh://)", description="Git URL of the GitOps repository "
                      "Argo CD reads.", examples=["https://github.com/acme/platform-gitops.git"])
    branch: str = Field("main", description="Branch Argo CD follows.")
    path: str | None = Field(None, description="Folder of the compiled tree inside that repository; it ends "
                             "with the spec file's stem, because `gpc compile` writes `OUT/<stem>/` (without `-o`, "
                             "right here). Defaults to `out/<spec file stem>`.", examples=["out/fraud"])


# Where the platform repository's CI gets gpc. The patterns live in the schema only (editors flag
# a bad value as you type); the semantic pass (GPC230-232) says what is wrong and how to pin it.
COMMIT_PATTERN = r"^[0-9a-f]{40}$"
SHA256_PATTERN = r"^sha256:[0-9a-f]{64}$"
HTTPS_URL_PATTERN = r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%+-]+)*/?$"
VERSION_PATTERN = r"^[0-9]+(\.[0-9]+)*([a-z0-9.+!-]*)$"  # an exact PEP 440 version, not a range
REPO_PATH_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$"
DEFAULT_GPC_PATH = names.DEFAULT_GPC_PATH


def _schema_pattern(pattern: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern})


class GpcSource(Strict):
    """Where the platform repository's CI installs gpc from: exactly one of `path`, `git` or `index`.

    Every source is pinned: a folder of the GitOps repository (pinned by that repository's own
    commits, for example a git submodule), a git commit, or a version with its sha256 hashes.
    """

    model_config = ConfigDict(title="gpc source")
    path: Annotated[str, _schema_pattern(REPO_PATH_PATTERN)] | None = Field(
        None, description="Folder of the GitOps repository holding gpc's source (the folder with "
        "`pyproject.toml`), usually a git submodule pinned to a commit. The default when `toolchain.gpc` "
        f"is absent: `{DEFAULT_GPC_PATH}`.", examples=[DEFAULT_GPC_PATH])
    git: Annotated[str, _schema_pattern(HTTPS_URL_PATTERN)] | None = Field(
        None, description="HTTPS URL of the git repository of gpc's source; needs `commit`. No credentials "
        "in the URL.", examples=["https://github.com/acme/gpc.git"])
    commit: Annotated[str, _schema_pattern(COMMIT_PATTERN)] | None = Field(
        None, description="The full 40-hex commit of `git` to install (a branch or tag can move; a commit "
        "cannot).", examples=["0123456789abcdef0123456789abcdef01234567"])
    index: Annotated[str, _schema_pattern(HTTPS_URL_PATTERN)] | None = Field(
        None, description="HTTPS URL of a package index (PEP 503 simple API) that serves gpc, used as the only "
        "index; needs `version` and `hashes`.", examples=["https://pypi.acme.example/simple"])
    version: Annotated[Text, _schema_pattern(VERSION_PATTERN)] | None = Field(
        None, description="The exact gpc version to install from `index`.", examples=["0.1.0"])
    hashes: list[Annotated[str, _schema_pattern(SHA256_PATTERN)]] = Field(
        default_factory=list, description="`sha256:<64 hex>` of each gpc distribution file `index` may serve "
        "for `version`; pip installs gpc with `--require-hashes`.",
        examples=[["sha256:" + "0" * 64]])


class Toolchain(Strict):
    """The tools the generated CI installs."""

    gpc: GpcSource | None = Field(None, description="Where the platform repository's CI installs gpc from. "
                                  f"Absent: from the folder `{DEFAULT_GPC_PATH}` of the GitOps repository (add "
                                  "gpc there as a git submodule).")


class Bucket(Strict):
    model_config = ConfigDict(title="Bucket")
    team: Name | None = Field(None, description="The team that owns this bucket: a key of the root spec's "
                              "`teams`. In a file the root spec includes, the file's `team` is the default.",
                              examples=["payments"])
    description: str | None = Field(None, description="What the bucket holds.")
    versioning: bool = Field(False, description="Keep every version of every object.")


class Volume(Strict):
    model_config = ConfigDict(title="Volume")
    team: Name | None = Field(None, description="The team that owns this volume: a key of the root spec's "
                              "`teams`. In a file the root spec includes, the file's `team` is the default.",
                              examples=["payments"])
    size: Quantity = Field(description="Capacity, e.g. `1Gi`.", examples=["1Gi"])
    access_mode: Literal["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany", "ReadOnlyMany"] = Field(
        "ReadWriteOnce", description="How pods may share the volume.",
        json_schema_extra={"markdownEnumDescriptions": [
            "Read-write by the pods of one node.", "Read-write by a single pod.",
            "Read-write by pods on many nodes (needs a storage class that supports it).",
            "Read-only by pods on many nodes."]})
    storage_class: str | None = Field(None, description="StorageClass; the cluster default when absent.")


RETENTION_PATTERN = r"^[1-9][0-9]*[dwm]$"  # CloudNativePG's `backup.retentionPolicy`


class DatabaseBackup(Strict):
    """Base backups and WAL of a database, to a bucket of the environment's own object store."""

    model_config = ConfigDict(title="Database backup")
    schedule: str = Field(description="When a base backup starts: a five-field cron schedule in UTC (minute hour "
                          "day-of-month month day-of-week) or a macro such as `@daily`. WAL is archived "
                          "continuously in between.", examples=["0 3 * * *"])
    # The pattern is the schema's only (editors flag it as you type); GPC267 says what is wrong.
    retention: Annotated[str, _schema_pattern(RETENTION_PATTERN)] = Field(
        "30d", description="How long backups are kept: a whole number of days, weeks or months (`14d`, `4w`, "
        "`6m`); older base backups and their WAL are deleted.", examples=["14d"])


class DatabaseSize(Strict):
    """A database's size in one environment; what is absent comes from the database itself."""

    model_config = ConfigDict(title="Database size")
    instances: Annotated[int, Field(ge=1, le=9), BeforeValidator(_whole)] | None = Field(
        None, description="Postgres instances (one primary, the rest streaming replicas).", examples=[3])
    storage: Quantity | None = Field(None, description="Volume of each instance, e.g. `20Gi`.", examples=["20Gi"])
    cpu: Quantity | None = Field(None, description="CPU of each instance (request = limit).", examples=["1"])
    memory: Quantity | None = Field(None, description="Memory of each instance (request = limit).",
                                    examples=["2Gi"])
    backup: DatabaseBackup | None = Field(
        None, description="Back the database up in this environment: base backups on a schedule and continuous "
        "WAL archiving to a bucket of the environment's object store. Absent: no backups here.",
        examples=[{"schedule": "0 3 * * *", "retention": "14d"}])


class Database(Strict):
    """A Postgres database, served by its own CloudNativePG cluster in each environment."""

    model_config = ConfigDict(title="Database")
    team: Name | None = Field(None, description="The team that owns this database: a key of the root spec's "
                              "`teams`. In a file the root spec includes, the file's `team` is the default.",
                              examples=["payments"])
    description: str | None = Field(None, description="What the database holds.")
    version: Annotated[int, BeforeValidator(_whole)] = Field(
        17, ge=1, le=99, description="PostgreSQL major version (gpc supports 14 to 17).", examples=[17])
    instances: Annotated[int, Field(ge=1, le=9), BeforeValidator(_whole)] = Field(
        1, description="Postgres instances (one primary, the rest streaming replicas).", examples=[1])
    storage: Quantity = Field("1Gi", description="Volume of each instance, e.g. `10Gi`.", examples=["10Gi"])
    cpu: Quantity = Field("500m", description="CPU of each instance (request = limit).", examples=["500m"])
    memory: Quantity = Field("512Mi", description="Memory of each instance (request = limit).",
                             examples=["512Mi"])
    environments: dict[str, DatabaseSize] = Field(
        default_factory=dict, description="Size by environment name: replaces the fields it sets.",
        examples=[{"prod": {"instances": 3, "storage": "50Gi"}}])


class Storage(Strict):
    buckets: dict[str, Bucket] = Field(default_factory=dict, description="Object-store buckets.")
    volumes: dict[str, Volume] = Field(default_factory=dict, description="Persistent volumes.")
    databases: dict[str, Database] = Field(default_factory=dict, description="Postgres databases (CloudNativePG).")


class Queue(Strict):
    model_config = ConfigDict(title="Queue")
    team: Name | None = Field(None, description="The team that owns this queue: a key of the root spec's "
                              "`teams`. In a file the root spec includes, the file's `team` is the default.",
                              examples=["payments"])
    description: str | None = Field(None, description="What flows through the queue.")
    dead_letter: bool = Field(False, description="Route rejected messages to `<queue>.dlq` instead of "
                              "dropping them.")
    # Every queue is bounded (max_bytes has a default): an unbounded queue whose consumer stops
    # grows until the broker's memory or disk alarm blocks every publisher of every queue.
    max_length: int | None = Field(None, ge=1, le=2**31 - 1, description="Most messages ready in the "
                                   "queue (`x-max-length`). Absent: only `max_bytes` bounds the queue.",
                                   examples=[100000])
    max_bytes: Bytes = Field(DEFAULT_QUEUE_BYTES, description="Most bytes of message bodies ready in the "
                             "queue (`x-max-length-bytes`), a whole number of bytes such as `64Mi`. Every "
                             "queue has this bound, so a stopped consumer can never fill the broker's disk "
                             "or memory.", examples=["256Mi"])
    overflow: Literal["reject-publish", "drop-head"] = Field(
        "reject-publish", description="What the broker does with a new message when the queue is full "
        "(`x-overflow`).", json_schema_extra={"markdownEnumDescriptions": [
            "Refuse it: a publisher using publisher confirms gets `basic.nack` and must handle it "
            "(retry later, or report the error). Nothing already queued is lost.",
            "Accept it and drop the oldest message (to `<queue>.dlq` when `dead_letter` is on). "
            "Publishers never see an error; old messages are lost."]})
    message_ttl: Duration | None = Field(None, description="Messages older than this expire (`x-message-ttl`; "
                                         "to `<queue>.dlq` when `dead_letter` is on). Absent: messages "
                                         "wait until consumed.", examples=["24h"])
    # No default: the age is read from the head message's AMQP `timestamp`, which only the publisher
    # sets, and how long a message may wait depends on how often its consumers run (minutes for a
    # worker, hours for a batch job draining the queue): any default would page someone wrongly.
    max_age: Duration | None = Field(None, description="Alert (`QueueOldestMessageTooOld`, in environments "
                                     "with `monitoring`) when the oldest ready message has waited longer than "
                                     "this. The age comes from the message's AMQP `timestamp` property, which "
                                     "its publisher must set; messages without one are never too old. Must be "
                                     "shorter than `message_ttl`, which expires them first. Absent: no such "
                                     "alert.", examples=["15m"])
    message_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema (2020-12) of every message on this queue. Producers and consumers "
        "receive it and validate against it.",
        examples=[{"type": "object", "required": ["user_id"], "properties": {"user_id": {"type": "string"}}}])

    @field_validator("message_ttl")
    @classmethod
    def _positive_ttl(cls, value: str | None) -> str | None:
        if value is not None and not 1 <= duration_seconds(value) <= MAX_MESSAGE_TTL_SECONDS:
            raise PydanticCustomError("duration", "'{value}' must be between 1s and {most}h",
                                      {"value": value, "most": MAX_MESSAGE_TTL_SECONDS // 3600})
        return value

    @field_validator("message_schema")
    @classmethod
    def _valid_json_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            key = repr(value)  # exact: tells 1 from "1" and 1.0, True from 1
            if key not in _SCHEMA_PROBLEMS:
                _SCHEMA_PROBLEMS[key] = _schema_problem(value)
            problem = _SCHEMA_PROBLEMS[key]
            if problem is not None:
                raise PydanticCustomError("message_schema", "not a valid JSON Schema at {where}: {reason}",
                                          {"where": problem[0], "reason": problem[1]})
        return value


# The metaschema check costs ~1 ms per schema, and a large platform repeats one event schema on
# many queues (100 at the bench's N=1000): each distinct schema is checked once per process.
_SCHEMA_PROBLEMS: dict[str, tuple[str, str] | None] = {}


def _schema_problem(schema: dict[str, Any]) -> tuple[str, str] | None:
    """Where and why a message schema is not a valid JSON Schema, or None."""
    if metaschema.certainly_valid(schema):  # the usual schema: no need to import jsonschema (~35 ms)
        return None
    import jsonschema  # only specs with an unusual or a wrong message schema pay for this import

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as err:
        return "/".join(str(p) for p in err.absolute_path) or "the root", err.message
    return None


class Messaging(Strict):
    queues: dict[str, Queue] = Field(default_factory=dict, description="Durable queues on the broker.")


class Limits(Strict):
    model_config = ConfigDict(title="Limits")
    cpu: Quantity | None = Field(None, description="Most CPU one workload of this type may ask for.")
    memory: Quantity | None = Field(None, description="Most memory one workload of this type may ask for.")
    gpu: Whole = Field(0, ge=0, description="Most GPUs one workload of this type may ask for (0: none).")


class MaxByType(Strict):
    service: Limits = Field(default_factory=Limits, description="Limits for services.")
    job: Limits = Field(default_factory=Limits, description="Limits for jobs.")


class DefaultsByType(Strict):
    service: Resources = Field(default_factory=Resources, description="Resources of a service that "
                               "declares none.")
    job: Resources = Field(default_factory=Resources, description="Resources of a job that declares none.")


class Quota(Strict):
    model_config = ConfigDict(title="Quota")
    cpu: Quantity | None = Field(None, description="Total CPU of all pods in the namespace.")
    memory: Quantity | None = Field(None, description="Total memory of all pods in the namespace.")
    gpu: Annotated[int, Field(ge=0), BeforeValidator(_whole)] | None = Field(
        None, description="Total GPUs in the namespace.")
    pods: Annotated[int, Field(ge=1), BeforeValidator(_whole)] | None = Field(
        None, description="Most pods in the namespace.")


class Quotas(Strict):
    services: Quota | None = Field(None, description="Quota of each environment's services namespace.")
    jobs: Quota | None = Field(None, description="Quota of each environment's jobs namespace.")


class DatabaseRails(Strict):
    """The largest database any environment may run."""

    model_config = ConfigDict(title="Database guardrails")
    max_storage: Quantity = Field("100Gi", description="Largest volume of one database instance.",
                                  examples=["100Gi"])
    max_instances: Annotated[int, Field(ge=1, le=9), BeforeValidator(_whole)] = Field(
        3, description="Most instances of one database.", examples=[3])


class Guardrails(Strict):
    """Limits enforced at compile time by gpc and in the cluster by Kyverno."""

    databases: DatabaseRails = Field(default_factory=DatabaseRails, description="Largest database size.")

    max: MaxByType = Field(default_factory=MaxByType, description="Largest resources per workload type.")
    defaults: DefaultsByType = Field(default_factory=DefaultsByType,
                                     description="Resources of workloads that declare none.")
    quotas: Quotas = Field(default_factory=Quotas, description="ResourceQuota per namespace group.")
    allowed_registries: list[str] = Field(default_factory=list, description="Image registries workloads may "
                                          "pull from. Empty: only the spec's `registry`.",
                                          examples=[["ghcr.io/acme"]])
    excluded_namespaces: list[str] = Field(["kube-system", "kyverno", "argocd"], description="Namespaces "
                                           "the cluster policies leave alone.")
    policy_kind: Literal["ValidatingPolicy", "ClusterPolicy"] = Field(
        "ValidatingPolicy", description="The Kyverno policy kind the guardrails are written as. "
        "`ValidatingPolicy` (with `ImageValidatingPolicy`, policies.kyverno.io/v1, Kyverno 1.17+) is the "
        "current API. `ClusterPolicy` (kyverno.io/v1) is for clusters on an older Kyverno: it is "
        "deprecated since Kyverno 1.17 and planned to be removed in 1.20, when its policies stop enforcing.")


GITHUB_OWNER_PATTERN = r"^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(/[A-Za-z0-9._-]+)?$"


class Team(Strict):
    """A team that owns part of the platform, usually the workloads of one included file."""

    model_config = ConfigDict(title="Team")
    github: str | None = Field(None, pattern=GITHUB_OWNER_PATTERN, description="The team's GitHub owner "
                               "(`@org/team` or `@user`): it owns its workloads' folders in the generated "
                               "CODEOWNERS and gets an Argo CD role that may sync only its applications.",
                               examples=["@acme/payments"])
    max: MaxByType | None = Field(None, description="Largest resources one of this team's workloads may ask "
                                  "for, within `guardrails.max`. A team's own file cannot change it.")
    declares: list[Literal["queues", "buckets", "volumes", "databases"]] = Field(
        ["queues", "buckets", "volumes"], description="What this team's workloads may own: queues, buckets and "
        "volumes declared with this team (or in this team's file), and databases when listed.",
        examples=[["queues", "buckets"]])


class Platform(Strict):
    """A platform: its environments, shared storage and messaging, guardrails and workloads."""

    model_config = ConfigDict(title="gpc platform spec")
    version: Annotated[Literal[1], BeforeValidator(_version)] = Field(
        description="Spec format version. Always `1`.")
    name: Name = Field(description="Platform name: a DNS label used in namespaces and Argo CD names.",
                       examples=["fraud-detection"])
    description: str | None = Field(None, description="What this platform is for.")
    registry: str = Field(pattern=REGISTRY_PATTERN,
                          description="Default image registry and namespace.", examples=["ghcr.io/acme"])
    registry_auth: Literal["pull-secret", "public", "node-credentials"] = Field(
        "pull-secret", description="How the cluster authenticates to the image registries. `pull-secret` "
        "(the default: GHCR images of an organisation are private unless made public): Terraform creates "
        "the Secret `registry-pull-secret` in every workload namespace from its sensitive variable "
        "`registry_credentials`, and every workload's ServiceAccount and pod use it. `public` and "
        "`node-credentials` create no Secret.",
        json_schema_extra={"markdownEnumDescriptions": [
            "Terraform creates a `kubernetes.io/dockerconfigjson` Secret per workload namespace from the "
            "variable `registry_credentials` (registry host -> username and token) and attaches it to "
            "every workload ServiceAccount and pod.",
            "The images can be pulled anonymously: no credentials anywhere.",
            "The nodes pull with credentials of their own (an ECR/GAR/ACR node role, a kubelet "
            "credential provider): no Secret in the cluster."]})
    kubernetes_version: str = Field("1.35", pattern=r"^1\.[0-9]+$", description="Kubernetes version the "
                                    "output targets (and is validated against).", examples=["1.35"])
    gitops: GitOps = Field(description="The GitOps repository Argo CD syncs from.")
    environments: dict[str, Environment] = Field(description="Where the platform is delivered, in "
                                                 "promotion order.")
    storage: Storage = Field(default_factory=Storage, description="Buckets, volumes and databases.")
    messaging: Messaging = Field(default_factory=Messaging, description="Queues.")
    guardrails: Guardrails = Field(default_factory=Guardrails, description="Resource limits, quotas and "
                                   "allowed registries.")
    workloads: dict[str, Workload] = Field(default_factory=dict, description="Services, workers and jobs, by name "
                                           "(here and in the files under `include`).")
    include: list[str] = Field(default_factory=list, description="Team files (glob patterns relative to this "
                               "file) that declare more workloads, queues, buckets and volumes. Each holds "
                               "`team`, `workloads`, `messaging.queues`, `storage.buckets` and `storage.volumes`; "
                               "names are unique across all files.", examples=[["teams/*.yaml"]])
    owner: str | None = Field(None, pattern=GITHUB_OWNER_PATTERN, description="GitHub owner (`@org/team`) of "
                              "everything in the generated tree that no team owns: the CODEOWNERS default.",
                              examples=["@acme/platform"])
    teams: dict[str, Team] = Field(default_factory=dict, description="The teams that own workloads, and the "
                                   "limits the platform team sets for each. Only this root spec declares them.")
    toolchain: Toolchain = Field(default_factory=Toolchain, description="Where the generated CI gets its "
                                 "tools (gpc itself), pinned.")
    previews: Previews | None = Field(None, description="A preview environment per pull request on a "
                                      "workload's repository (compiler/model_preview.py).")


# Last: the previews block builds on this module's types (Strict, Text, Quantity, Whole).
from compiler.model_preview import Previews  # noqa: E402

Platform.model_rebuild()
