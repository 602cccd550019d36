"""Lowering: from the validated spec model to the IR (defaults applied, references resolved,
every derived name and the wiring contract computed once)."""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.guardrails import lower_guardrails
from compiler.ir import (
    DEFAULT_RESOURCES,
    Bucket,
    ConfigMapRef,
    Environment,
    EnvVar,
    Layer,
    Placement,
    Platform,
    Queue,
    SecretRef,
    Sourced,
    Use,
    Volume,
    Workload,
)
from compiler.model import Job, Service, duration_seconds
from compiler.source import Source

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
        kind="Deployment" if isinstance(w, Service) else ("CronJob" if w.schedule else "Job"),
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
    time_zone = None
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
        if schedule is not None and override and override.time_zone is not None:
            time_zone = Sourced(override.time_zone, "environment override")
        elif schedule is not None and w.time_zone is not None:
            time_zone = Sourced(w.time_zone, "workload")
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
        time_zone=time_zone,
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
