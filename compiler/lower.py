"""Lowering: from the validated spec model to the IR (defaults applied, references resolved,
every derived name and the wiring contract computed once)."""

from __future__ import annotations

from compiler import lower_edges, lower_obs, names, resolve
from compiler.ir import (
    Bucket,
    Database,
    DatabaseBackup,
    DatabaseRole,
    DatabaseSize,
    Dns,
    Environment,
    EnvVar,
    GpcSource,
    Layer,
    Placement,
    Platform,
    Queue,
    QueueBounds,
    Scaling,
    Sourced,
    Team,
    Use,
    Volume,
    Workload,
)
from compiler.ir_secrets import Store, StoreSecret
from compiler.kinds import credential_keys
from compiler.model import (
    AnyWorkload,
    BucketUse,
    DatabaseUse,
    Job,
    LongRunning,
    QueueUse,
    Service,
    ServiceUse,
    UseBase,
    VolumeUse,
    Worker,
    duration_seconds,
)
from compiler.model import GpcSource as GpcSourceSpec
from compiler.model import Platform as Spec
from compiler.model import Queue as SpecQueue
from compiler.model_scaling import DEFAULT_CPU_PERCENT, AutoscaleOverride, merged
from compiler.model_secrets import SecretStore as SecretStoreSpec
from compiler.quantity import parse_quantity
from compiler.source import Source
from compiler.wiring import wiring


def lower(spec: Spec, spec_file: str, spec_name: str, source: Source | None = None) -> Platform:
    """Build the IR from a spec that passed the model and semantic checks."""
    groups_used = {names.GROUP_OF_TYPE[w.type] for w in spec.workloads.values()}
    readers = any(w.secret_sources for w in spec.workloads.values())
    # Reloader and External Secrets Operator run in the infra namespace too.
    if spec.storage.buckets or spec.messaging.queues or spec.storage.databases or readers or _reloads(spec) \
            or lower_obs.needs_infra(spec):
        groups_used.add("infra")
    environments = []
    for env_name, env in spec.environments.items():
        prefix = names.namespace_prefix(spec.name, env_name, env.namespace_prefix)
        dns = env.dns
        environments.append(Environment(
            name=env_name, cluster=env.cluster, prefix=prefix, auto_sync=env.auto_sync,
            namespaces={g: names.namespace(prefix, g) for g in names.GROUPS if g in groups_used},
            dns=Dns(dns.namespace, tuple(sorted(dns.pod_labels.items())), tuple(sorted(set(dns.ports))),
                    dns.node_local_address),
            edge=lower_edges.edge(env, prefix), network=lower_edges.network(env),
            secret_store=_store(env.secret_store, prefix) if readers and env.secret_store else None,
            monitoring=lower_obs.monitoring(env, any(w.type == "job" for w in spec.workloads.values())),
        ))
    volume_groups = {
        use.volume: names.GROUP_OF_TYPE[w.type]
        for w in spec.workloads.values() for use in w.uses.values() if isinstance(use, VolumeUse)
    }
    workloads = tuple(_lower_workload(spec, name, w, environments) for name, w in sorted(spec.workloads.items()))
    roles = _database_roles(spec)
    platform = Platform(
        name=spec.name,
        spec_name=spec_name,
        spec_file=spec_file,
        description=spec.description,
        registry=spec.registry,
        registry_auth=spec.registry_auth,
        kubernetes_version=spec.kubernetes_version,
        gitops_repo=spec.gitops.repo,
        gitops_branch=spec.gitops.branch,
        gitops_path=(spec.gitops.path or f"out/{spec_name}").strip("/"),
        environments=tuple(environments),
        buckets=tuple(Bucket(n, b.versioning, b.description, b.team) for n, b in sorted(spec.storage.buckets.items())),
        volumes=tuple(
            Volume(n, v.size, v.access_mode, v.storage_class, volume_groups.get(n, "jobs"))
            for n, v in sorted(spec.storage.volumes.items())
        ),
        queues=tuple(_lower_queue(n, q) for n, q in sorted(spec.messaging.queues.items())),
        guardrails=resolve.guardrails(spec),
        workloads=workloads,
        databases=tuple(_lower_database(spec, n, roles.get(n, ())) for n in sorted(spec.storage.databases)),
        gpc_source=lower_gpc_source(spec.toolchain.gpc),
        owner=spec.owner,
        team_files=tuple(sorted(source.included)) if source is not None else (),
        include=tuple(spec.include),
        teams=tuple(Team(name, t.github, resolve.max_rules(t.max) if t.max else ())
                    for name, t in sorted(spec.teams.items())),
        source=source,
    )
    if spec.previews is None:
        return platform
    from dataclasses import replace

    from compiler.lower_preview import lower_previews

    exposure = spec.environments[spec.previews.from_].exposure
    domain = exposure.domain if exposure is not None else None
    return replace(platform, previews=lower_previews(spec.previews, platform, domain))


def lower_gpc_source(gpc: GpcSourceSpec | None) -> GpcSource:
    """`toolchain.gpc` after the semantic pass (GPC230-232): exactly one pinned source."""
    if gpc is not None and gpc.git is not None:
        return GpcSource("git", gpc.git, commit=gpc.commit)
    if gpc is not None and gpc.index is not None:
        return GpcSource("index", gpc.index, version=gpc.version, hashes=tuple(gpc.hashes))
    return GpcSource("path", (gpc.path if gpc is not None and gpc.path else names.DEFAULT_GPC_PATH).strip("/"))


def _database_roles(spec: Spec) -> dict[str, tuple[DatabaseRole, ...]]:
    """Database name -> the roles of the workloads that use it, by workload name: one pass over the
    workloads, not one per database (sorting and scanning 1,000 workloads for each of 100
    databases at N=1000)."""
    roles: dict[str, list[DatabaseRole]] = {}
    for wname, w in sorted(spec.workloads.items()):
        for use in w.uses.values():
            if isinstance(use, DatabaseUse):
                roles.setdefault(use.database, []).append(DatabaseRole(wname, names.database_role(wname), use.access))
    return {name: tuple(found) for name, found in roles.items()}


def _lower_database(spec: Spec, name: str, roles: tuple[DatabaseRole, ...]) -> Database:
    db = spec.storage.databases[name]
    sizes = []
    for env_name in spec.environments:
        size = db.environments.get(env_name)

        def pick(field: str, size: object = size) -> object:
            value = getattr(size, field) if size is not None else None
            return getattr(db, field) if value is None else value

        backup = size.backup if size is not None else None
        sizes.append(DatabaseSize(env_name, int(str(pick("instances"))), str(pick("storage")), str(pick("cpu")),
                                  str(pick("memory")),
                                  DatabaseBackup(backup.schedule.strip(), backup.retention) if backup else None))
    return Database(name, db.version, db.description, tuple(sizes), roles, db.team)


def _lower_queue(name: str, q: SpecQueue) -> Queue:
    bounds = QueueBounds(
        max_bytes=int(parse_quantity(q.max_bytes)), max_length=q.max_length, overflow=q.overflow,
        message_ttl_ms=duration_seconds(q.message_ttl) * 1000 if q.message_ttl else None,
    )
    return Queue(name, q.dead_letter, names.dead_letter_queue(name) if q.dead_letter else None, q.message_schema,
                 q.description, exchange=names.queue_exchange(name), bounds=bounds,
                 max_age_seconds=duration_seconds(q.max_age) if q.max_age else None)


def _lower_workload(spec: Spec, name: str, w: AnyWorkload, envs: list[Environment]) -> Workload:
    uses = tuple(lower_use(alias, u) for alias, u in sorted(w.uses.items()))
    keys = credential_keys({u.kind for u in uses})
    has_schema = any(
        isinstance(u, QueueUse) and spec.messaging.queues[u.queue].message_schema is not None
        for u in w.uses.values()
    )
    group = names.GROUP_OF_TYPE[w.type]
    service = w if isinstance(w, Service) else None
    worker = w if isinstance(w, Worker) else None
    job = w if isinstance(w, Job) else None
    timeout = duration_seconds(job.timeout) if job and job.timeout else None
    return Workload(
        name=name,
        type=w.type,
        kind="Deployment" if service or worker else ("CronJob" if job and job.schedule else "Job"),
        group=group,
        description=w.description,
        repo=w.repo,
        image=w.image or f"{spec.registry}/{name}",
        image_tag=w.image_tag,
        command=tuple(w.command) if w.command is not None else None,
        args=tuple(w.args) if w.args is not None else None,
        port=service.port if service else None,
        health_path=service.health.path if service else None,
        readiness_path=(service.health.readiness_path or service.health.path) if service else None,
        health_initial_delay=(service.health.initial_delay if service
                              else worker.probe.initial_delay if worker and worker.probe else 0),
        probe_exec=tuple(worker.probe.exec) if worker and worker.probe and worker.probe.exec else None,
        probe_tcp_port=worker.probe.tcp_port if worker and worker.probe else None,
        concurrency=job.concurrency if job else None,
        retries=job.retries if job else None,
        timeout_seconds=timeout,
        deadline_seconds=job_deadline(timeout, job.retries) if job and timeout else None,
        ttl_seconds=duration_seconds(job.ttl_after_finished) if job and job.ttl_after_finished else None,
        starting_deadline_seconds=duration_seconds(job.starting_deadline) if job and job.schedule else None,
        uses=uses,
        secrets=tuple(sorted(w.secrets)),
        api_access=w.api_access,
        service_account=name,
        credentials_secret=names.credentials_secret(name) if keys else None,
        credential_keys=keys,
        app_secret=names.app_secret(name) if w.secrets else None,
        contract_config_map=names.contract_config_map(name) if has_schema else None,
        placements=tuple(_place(spec, name, w, env, group) for env in envs if _enabled(spec, name, env.name)),
        team=w.team,
        admit=lower_edges.admitted(w),
        egress=lower_edges.egress(w),
        store_secrets=tuple(StoreSecret(n, src.key, src.property) for n, src in sorted(w.secret_sources.items())),
        metrics=lower_obs.metrics(w),
        objective=lower_obs.objective(w),
    )


def _reloads(spec: Spec) -> bool:
    """As `ir.Platform.reloads`, before the IR exists: a long-running workload reads a Secret."""
    return any(w.type != "job" and (w.secrets or credential_keys({u.kind for u in w.uses.values()}))
               for w in spec.workloads.values())


def _store(store: SecretStoreSpec, prefix: str) -> Store:
    common = {"name": names.secret_store(prefix), "refresh_interval": store.refresh_interval}
    if store.vault is not None:
        v = store.vault
        return Store("vault", server=v.server.rstrip("/"), path=v.path, version=v.version, namespace=v.namespace,
                     approle_path=v.approle_path, **common)
    assert store.aws is not None, "semantic_secrets.check_stores lets no store without a provider pass"
    return Store("aws", region=store.aws.region, role=store.aws.role, **common)


# A pod's deadline counts from its start on a node; before that it may wait for the scheduler
# (and for the autoscaler to add a GPU node). The Job's bound leaves each attempt this much for it.
SCHEDULING_ALLOWANCE = 600
# The Job controller waits 10s, 20s, 40s ... (at most 6 minutes) before re-creating a failed pod.
BACKOFF_FIRST, BACKOFF_MAX = 10, 360


def job_deadline(timeout: int, retries: int) -> int:
    """The Job's `activeDeadlineSeconds`: every attempt may use its whole `timeout`, so the bound
    of all of them together is derived from `retries`, never the timeout itself (that would
    leave no time for a retry after a slow first attempt)."""
    attempts = retries + 1
    backoff = sum(min(BACKOFF_FIRST << i, BACKOFF_MAX) for i in range(retries))
    return attempts * (timeout + SCHEDULING_ALLOWANCE) + backoff


def lower_use(alias: str, use: UseBase) -> Use:
    match use:
        case QueueUse(queue=queue, access=access) | BucketUse(bucket=queue, access=access):
            return Use(alias, use.kind, queue, access=access)
        case VolumeUse(volume=volume, mount=mount, read_only=read_only):
            return Use(alias, "volume", volume, mount=mount, read_only=read_only)
        case ServiceUse(service=service):
            return Use(alias, "service", service)
        case DatabaseUse(database=database, access=access, migrate=migrate):
            return Use(alias, "database", database, access=access,
                       migrate=tuple(migrate) if migrate is not None else None)
    raise AssertionError(f"no lowering for use kind {use.kind!r}")


def _layer(workload: AnyWorkload, field_name: str) -> Layer:
    return "workload" if field_name in workload.model_fields_set else "gpc default"


def _place(spec: Spec, name: str, w: AnyWorkload, env: Environment, group: str) -> Placement:
    override = spec.environments[env.name].overrides.workloads.get(name)
    schedule: Sourced | None = None
    time_zone: Sourced | None = None
    scaling: Scaling | None = None
    if isinstance(w, LongRunning) and w.autoscale is not None:
        scaling = _scaling(w, override.autoscale if override else None, name)
        overridden = override is not None and override.autoscale is not None and \
            override.autoscale.min_replicas is not None
        replicas = Sourced(scaling.min_replicas, "environment override" if overridden else "workload")
    elif isinstance(w, LongRunning):
        replicas = (Sourced(override.replicas, "environment override") if override and override.replicas is not None
                    else Sourced(w.replicas, _layer(w, "replicas")))
    else:
        replicas = Sourced(1, "gpc default")
        if override and override.schedule is not None:
            schedule = Sourced(override.schedule, "environment override")
        elif w.schedule:
            schedule = Sourced(w.schedule, "workload")
        if schedule is not None and override and override.time_zone is not None:
            time_zone = Sourced(override.time_zone, "environment override")
        elif schedule is not None and w.time_zone is not None:
            time_zone = Sourced(w.time_zone, "workload")
    plain_env = {k: Sourced(v, "workload") for k, v in w.env.items()}
    if override and override.env:
        plain_env.update({k: Sourced(v, "environment override") for k, v in override.env.items()})
    env_vars = wiring(spec, name, w, env) + tuple(
        EnvVar(k, "set in the spec", value=str(v.value)) for k, v in plain_env.items()
    )
    return Placement(
        env=env.name,
        namespace=env.namespaces[group],
        replicas=replicas,
        resources=resolve.effective_resources(spec, name, w, env.name),
        env_vars=tuple(sorted(env_vars, key=lambda v: v.name)),
        schedule=schedule,
        plain_env=plain_env,
        route=lower_edges.route(spec, name, w, env.name, env.edge),
        time_zone=time_zone,
        autoscale=scaling,
    )


def _enabled(spec: Spec, name: str, env: str) -> bool:
    override = spec.environments[env].overrides.workloads.get(name)
    return override is None or override.enabled


def _scaling(w: Service | Worker, override: AutoscaleOverride | None, name: str) -> Scaling:
    assert w.autoscale is not None
    spec = merged(w.autoscale, override)
    queue = w.uses[spec.queue].target if spec.queue is not None else None
    cpu = spec.cpu if spec.cpu is not None or spec.memory is not None or queue else DEFAULT_CPU_PERCENT
    return Scaling(spec.min_replicas, spec.max_replicas, None if queue else cpu, None if queue else spec.memory,
                   queue, spec.messages_per_replica, origin=("workloads", name, "autoscale"))
