"""The owner's migration: a one-off Job, an Argo CD PreSync hook of the owner workload's
Application, that runs the owner's image (the same image Component sets its tag) with the
declared `migrate` command and the owner's whole wiring contract, before anything of the new
version is applied. A failed migration fails the sync: the old version keeps running.

Its pods are labelled `<workload>-migrate`, not with the workload's name, so that the workload's
Service never routes to them and the Deployment never counts them; a NetworkPolicy of their own
(a PreSync hook too, one wave earlier, so it exists before the first run) lets them reach DNS and
the owned database's primary, nothing else, and the database admits them (databases.py).
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, EnvVar, Platform, Workload
from targets.kustomize import meta
from targets.kustomize.layers import Values
from targets.kustomize.network import dns_rule, peer, tcp
from targets.kustomize.pod import pod_spec
from targets.kustomize.writable import with_home

HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
SYNC_WAVE = names.ARGOCD_SYNC_WAVE
# A migration that hangs must not hold every later sync: one attempt, at most this long.
DEADLINE_SECONDS = 1800


def command(workload: Workload) -> tuple[str, ...] | None:
    use = workload.database
    return use.migrate if use is not None and use.access == "owner" else None


def pods(workload: Workload) -> dict[str, str]:
    return {meta.NAME: names.migration_job(workload.name)}


def _labels(platform: Platform, workload: Workload) -> dict[str, str]:
    return {**meta.labels(platform, workload), meta.NAME: names.migration_job(workload.name),
            meta.COMPONENT: "migration"}


def _hook(wave: int) -> dict[str, str]:
    return {HOOK: "PreSync", HOOK_DELETE_POLICY: "BeforeHookCreation", SYNC_WAVE: str(wave)}


def job(platform: Platform, workload: Workload, env: Environment, env_vars: tuple[EnvVar, ...] | None = None,
        hook: dict[str, str] | None = None, backoff_limit: int = 0) -> dict[str, Any]:
    """`env_vars`, `hook`, `backoff_limit`: a preview's (targets/kustomize/preview_db.py)."""
    migrate = command(workload)
    assert migrate is not None
    placement = workload.placement(env.name)
    values = Values(replicas=1, resources=placement.effective_resources, schedule=None,
                    env=with_home(workload, placement.env_vars if env_vars is None else env_vars))
    spec = pod_spec(platform, workload, values)
    container = spec["containers"][0]
    container["command"] = list(migrate)
    for key in ("args", "ports", "livenessProbe", "readinessProbe"):
        container.pop(key, None)
    spec["restartPolicy"] = "Never"
    spec["activeDeadlineSeconds"] = DEADLINE_SECONDS
    labels = _labels(platform, workload)
    annotations = {**(_hook(0) if hook is None else hook), **meta.skips(meta.SKIP_NAMESPACE, meta.SKIP_TAG, meta.SKIP_DIGEST,
                                            meta.SKIP_SECRET_ENV)}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta.metadata(names.migration_job(workload.name), labels, annotations),
        "spec": {"backoffLimit": backoff_limit, "activeDeadlineSeconds": DEADLINE_SECONDS,
                 "template": {"metadata": {"labels": labels}, "spec": spec}},
    }


def network_policy(platform: Platform, workload: Workload, env: Environment) -> dict[str, Any]:
    assert workload.database is not None
    database = {names.DATABASE_POD_LABEL: names.database_cluster(workload.database.target)}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta.metadata(names.migration_job(workload.name), _labels(platform, workload), _hook(-1)),
        "spec": {
            "podSelector": {"matchLabels": pods(workload)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [dns_rule(env.dns),
                       {"to": [peer(env.infra_namespace, database)], "ports": tcp(names.DATABASE_PORT)}],
        },
    }


def delete_patch(workload: Workload) -> dict[str, Any]:
    """Until CI delivers the first image there is nothing to migrate with: no Job."""
    return {"$patch": "delete", "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": names.migration_job(workload.name)}}
