"""The wiring contract of design §3: the environment variables each `uses` entry gives a workload
in one environment, with the spec path each variable comes from (for `gpc explain`).

Names and descriptions come from the kinds table (compiler/kinds.py); what is computed per kind
(values, Secret and ConfigMap references, what `gpc env` prints for a local run) is here.
"""

from __future__ import annotations

from compiler import ir, names
from compiler.kinds import USE_KINDS, UseKind
from compiler.model import (
    AnyWorkload,
    BucketUse,
    DatabaseUse,
    Platform,
    QueueUse,
    Service,
    ServiceUse,
    UseBase,
    VolumeUse,
)
from compiler.source import Path

LOCAL_BROKER_PORT = 5672
LOCAL_OBJECT_STORE = "http://127.0.0.1:9000"
LOCAL_DATABASE_PORT = 5432


def wiring(spec: Platform, name: str, w: AnyWorkload, env: ir.Environment) -> tuple[ir.EnvVar, ...]:
    """Every contract variable of workload `name` in `env`: the service port, the variables each
    kind in use shares, each use's own variables, and the declared secrets."""
    base: Path = ("workloads", name)
    uses = sorted(w.uses.items())
    out: list[ir.EnvVar] = []
    if isinstance(w, Service):
        out.append(ir.EnvVar("PORT", "port the service listens on", value=str(w.port), origin=(*base, "port")))
    out += telemetry(spec, name, env)
    if w.type == "job" and env.monitoring is not None and env.monitoring.pushgateway:
        out.append(run_metrics(name, env))
    for kind in USE_KINDS.values():
        first = next((alias for alias, use in uses if use.kind == kind.name), None)
        if first is not None:
            out += _shared(spec, name, kind, env, (*base, "uses", first))
    for alias, use in uses:
        out += _per_use(spec, name, alias, use, env, (*base, "uses", alias))
    for secret, index in sorted((s, i) for i, s in enumerate(w.secrets)):
        out.append(ir.EnvVar(secret, "declared secret", secret=ir.SecretRef(names.app_secret(name), secret),
                             origin=(*base, "secrets", index)))
    return tuple(out)



def telemetry(spec: Platform, name: str, env: ir.Environment) -> list[ir.EnvVar]:
    attributes = f"deployment.environment.name={env.name},service.namespace={spec.name},gpc.workload={name}"
    origin: Path = ("workloads", name)
    return [
        ir.EnvVar(names.OTEL_SERVICE_NAME, "OpenTelemetry service name: the workload's name", value=name, origin=origin),
        ir.EnvVar(names.OTEL_RESOURCE_ATTRIBUTES, "OpenTelemetry resource attributes: environment, platform, workload",
                  value=attributes, origin=origin),
    ]


def run_metrics(name: str, env: ir.Environment) -> ir.EnvVar:
    """Where a job pushes its run metrics: the environment's Pushgateway (its own metrics would be
    gone with its pod before a scrape). Only jobs are admitted there (the NetworkPolicy)."""
    host = names.service_host(names.PUSHGATEWAY_SERVICE, env.infra_namespace)
    return ir.EnvVar(names.PUSHGATEWAY_URL_KEY, "Pushgateway for the job's run metrics (grouping key: job = "
                     "the workload's name)", value=f"http://{host}:{names.PUSHGATEWAY_PORT}",
                     local_value=f"http://127.0.0.1:{names.PUSHGATEWAY_PORT}", origin=("workloads", name))


def _shared(spec: Platform, name: str, kind: UseKind, env: ir.Environment, origin: Path) -> list[ir.EnvVar]:
    creds = names.credentials_secret(name)
    var = {v.name: v.description for v in kind.shared}
    if kind.name == "queue":
        return [ir.EnvVar(names.AMQP_URL_KEY, var[names.AMQP_URL_KEY],
                          secret=ir.SecretRef(creds, names.AMQP_URL_KEY), origin=origin,
                          local_value=f"amqp://{names.broker_user(name)}:CHANGE-ME@127.0.0.1:"
                                      f"{LOCAL_BROKER_PORT}/{spec.name}")]
    if kind.name == "bucket":
        host = names.service_host(names.OBJECT_STORE_SERVICE, env.infra_namespace)
        return [
            ir.EnvVar("S3_ENDPOINT", var["S3_ENDPOINT"], value=f"http://{host}:{names.OBJECT_STORE_PORT}",
                      local_value=LOCAL_OBJECT_STORE, origin=origin),
            ir.EnvVar("S3_REGION", var["S3_REGION"], value=names.OBJECT_STORE_REGION, origin=origin),
            ir.EnvVar("S3_FORCE_PATH_STYLE", var["S3_FORCE_PATH_STYLE"], value="true", origin=origin),
            ir.EnvVar(names.S3_ACCESS_KEY, var[names.S3_ACCESS_KEY], secret=ir.SecretRef(creds, names.S3_ACCESS_KEY),
                      local_value=names.object_store_user(name), origin=origin),
            ir.EnvVar(names.S3_SECRET_KEY, var[names.S3_SECRET_KEY], secret=ir.SecretRef(creds, names.S3_SECRET_KEY),
                      local_value="CHANGE-ME", origin=origin),
        ]
    if kind.name == "database":
        database = next(u.target for u in spec.workloads[name].uses.values() if isinstance(u, DatabaseUse))
        return _database(name, database, env, var, creds, origin)
    return []


# In the cluster TLS is required (names.DATABASE_SSLMODE). Locally `prefer`: TLS whenever the server
# offers it, and still a connection to a server started by hand without a certificate (the
# postgres image's default); never `disable`, which would refuse TLS even where it is offered.
LOCAL_SSLMODE = "prefer"


def _database(name: str, database: str, env: ir.Environment, var: dict[str, str], creds: str,
              origin: Path) -> list[ir.EnvVar]:
    role = names.database_role(name)
    host = names.database_host(database, env.infra_namespace)
    local_url = (f"postgresql://{role}:CHANGE-ME@127.0.0.1:{LOCAL_DATABASE_PORT}/{database}"
                 f"?sslmode={LOCAL_SSLMODE}")
    return [
        ir.EnvVar(names.DATABASE_URL_KEY, var[names.DATABASE_URL_KEY],
                  secret=ir.SecretRef(creds, names.DATABASE_URL_KEY), local_value=local_url, origin=origin),
        ir.EnvVar("PGDATABASE", var["PGDATABASE"], value=database, origin=origin),
        ir.EnvVar("PGHOST", var["PGHOST"], value=host, local_value="127.0.0.1", origin=origin),
        ir.EnvVar(names.PGPASSWORD_KEY, var[names.PGPASSWORD_KEY],
                  secret=ir.SecretRef(creds, names.PGPASSWORD_KEY), local_value="CHANGE-ME", origin=origin),
        ir.EnvVar("PGPORT", var["PGPORT"], value=str(names.DATABASE_PORT), local_value=str(LOCAL_DATABASE_PORT),
                  origin=origin),
        ir.EnvVar("PGSSLMODE", var["PGSSLMODE"], value=names.DATABASE_SSLMODE, local_value=LOCAL_SSLMODE,
                  origin=origin),
        ir.EnvVar("PGUSER", var["PGUSER"], value=role, origin=origin),
    ]


def _per_use(spec: Platform, name: str, alias: str, use: UseBase, env: ir.Environment,
             origin: Path) -> list[ir.EnvVar]:
    prefix = names.env_prefix(alias)
    described = {v.name: v.description for v in USE_KINDS[use.kind].per_use}

    def var(suffix: str, value: str | None = None, *, config_map: ir.ConfigMapRef | None = None,
            local_value: str | None = None) -> ir.EnvVar:
        description = described[suffix].format(access=getattr(use, "access", ""), target=use.target)
        return ir.EnvVar(f"{prefix}_{suffix}", description, value=value, config_map=config_map,
                         local_value=local_value, origin=origin)

    match use:
        case QueueUse(queue=queue_name, access=access):
            queue = spec.messaging.queues[queue_name]
            out = [var("QUEUE", queue_name)]
            if access == "publish":
                out.append(var("EXCHANGE", names.queue_exchange(queue_name)))
            if queue.dead_letter:
                out.append(var("DEAD_LETTER_QUEUE", names.dead_letter_queue(queue_name)))
            if queue.message_schema is not None:
                ref = ir.ConfigMapRef(names.contract_config_map(name), names.schema_key(queue_name))
                out.append(var("MESSAGE_SCHEMA", config_map=ref))
            return out
        case BucketUse(bucket=bucket):
            return [var("BUCKET", bucket)]
        case VolumeUse(mount=mount):
            return [var("PATH", mount)]
        case DatabaseUse():
            return []  # the shared PG* variables say everything (one database per workload, GPC263)
        case ServiceUse(service=callee_name):
            callee = spec.workloads[callee_name]
            assert isinstance(callee, Service)  # the semantic pass refuses calls to jobs (GPC205)
            ns = env.namespaces[names.GROUP_OF_TYPE[callee.type]]
            return [var("URL", f"http://{names.service_host(callee_name, ns)}:{callee.port}",
                        local_value=f"http://127.0.0.1:{callee.port}")]
    raise AssertionError(f"no wiring for use kind {use.kind!r}")
