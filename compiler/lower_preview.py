"""Lowering of `previews` (compiler/model_preview.py) into compiler/ir_preview.py's IR."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING

from compiler import ir, names
from compiler.durations import duration_seconds
from compiler.ir_preview import (
    INFRA_CPU,
    INFRA_MEMORY,
    PREVIEW_SECRET,
    SLUG_MAX,
    Preview,
    PreviewSource,
    PreviewWorkload,
    database_secret,
    preview_key,
)
from compiler.quantity import parse_quantity

if TYPE_CHECKING:
    from compiler.model_preview import Previews

def slug(repo: str) -> str:
    """A repository name as a DNS label part: lowercase, runs of other characters as '-', at most
    SLUG_MAX characters, starting with a letter."""
    text = re.sub(r"[^a-z0-9]+", "-", repo.lower()).strip("-")
    text = text[:SLUG_MAX].rstrip("-")
    return text if text[:1].isalpha() else f"r{text}"[:SLUG_MAX].rstrip("-")


def local_value(value: str | None, env: ir.Environment) -> str | None:
    """A variable's value with the `from` environment's in-cluster names made namespace-relative:
    `http://fraud-inference.<ns>.svc.cluster.local:8000` -> `http://fraud-inference:8000`, which in
    a preview resolves to the preview's own service and nothing else."""
    if value is None:
        return None
    for namespace in (*env.namespaces.values(), env.infra_namespace):
        value = value.replace(f".{namespace}.svc.cluster.local", "")
    return value


def preview_var(var: ir.EnvVar, workload: str, env: ir.Environment) -> ir.EnvVar:
    """A variable as the preview sets it: in-cluster names namespace-relative, and the
    credentials Terraform makes per environment read from the preview's own generated Secret."""
    var = replace(var, value=local_value(var.value, env))
    if var.secret is not None and var.secret.name == names.credentials_secret(workload):
        if var.secret.key in (names.DATABASE_URL_KEY, names.PGPASSWORD_KEY):
            # the preview's own database role: its Secret holds the URL and the password together
            return replace(var, secret=ir.SecretRef(database_secret(workload), var.secret.key))
        var = replace(var, secret=ir.SecretRef(PREVIEW_SECRET, preview_key(workload, var.secret.key)))
    return var


def preview_workload(workload: ir.Workload, env: ir.Environment) -> PreviewWorkload:
    placement = workload.placement(env.name)
    res = placement.effective_resources
    cpu, memory = res.requests
    # A preview has no monitoring of its own (no Pushgateway, no monitors): a job there gets no
    # PUSHGATEWAY_URL rather than one naming a Service that does not exist in its namespace.
    env_vars = tuple(preview_var(v, workload.name, env) for v in placement.env_vars
                     if v.name != names.PUSHGATEWAY_URL_KEY)
    return PreviewWorkload(workload.name, env_vars, cpu, memory, res.memory, res.gpu)


def lower_previews(spec: Previews, platform: ir.Platform, domain: str | None) -> Preview:
    """Called only for a spec that passed compiler/semantic_preview.py. `domain`: the `from`
    environment's exposure domain."""
    env = platform.environment(spec.from_)
    by_repo: dict[str, list[ir.Workload]] = {}
    for w in platform.workloads:
        if w.repo is not None:
            by_repo.setdefault(w.repo, []).append(w)
    sources = []
    for full_name, workloads in sorted(by_repo.items()):
        owner, repo = full_name.split("/", 1)
        sources.append(PreviewSource(owner, repo, slug(repo), tuple(w.name for w in workloads),
                                     tuple(w.image for w in workloads)))
    exposed = tuple(w.name for w in platform.workloads if w.placement(env.name).route is not None)
    if env.edge is None or not env.edge.create_gateway or env.edge.api != "gateway":
        domain = None  # previews get a hostname on a listener of the Gateway gpc creates, nowhere else
    ttl = duration_seconds(spec.ttl)
    requeue = duration_seconds(spec.requeue_after)
    assert ttl is not None and requeue is not None, "semantic_preview.check_previews refuses other durations"
    return Preview(
        from_env=env.name, cluster=env.cluster, label=spec.label, ttl_seconds=ttl, max=spec.max,
        quota_cpu=spec.quota.cpu, quota_memory=spec.quota.memory, quota_pods=spec.quota.pods,
        allow_bots=spec.allow.bots, allow_drafts=spec.allow.drafts, requeue_after_seconds=requeue,
        sources=tuple(sources), workloads=tuple(preview_workload(w, env) for w in platform.workloads),
        broker=bool(platform.queues), object_store=bool(platform.buckets), domain=domain, exposed=exposed,
        databases=tuple(db.name for db in platform.databases),
        database_images=tuple(sorted({names.postgres_image(db.version) for db in platform.databases})),
    )


def needs(preview: Preview, migrating: tuple[str, ...] = ()) -> tuple[Fraction, Fraction, int]:
    """(cpu requests, memory limits, pods) one preview runs at once: one replica of every
    Deployment, one run of every job, the preview's own broker, object store and database
    instances, and a run of each migration (`migrating`: the owner workloads that migrate; their
    Job runs at a sync while the previous version still runs)."""
    running = [*preview.workloads, *(preview.workload(w) for w in migrating)]
    cpu = sum((parse_quantity(w.cpu_request) for w in running), Fraction(0))
    memory = sum((parse_quantity(w.memory_limit) for w in running), Fraction(0))
    infra = int(preview.broker) + int(preview.object_store) + len(preview.databases)
    return (cpu + infra * parse_quantity(INFRA_CPU), memory + infra * parse_quantity(INFRA_MEMORY),
            len(running) + infra)


def migrating(platform: ir.Platform) -> tuple[str, ...]:
    """The owner workloads whose migration a preview runs (those that declare `migrate`)."""
    return tuple(w.name for w in platform.workloads
                 if (use := w.database) is not None and use.access == "owner" and use.migrate is not None)
