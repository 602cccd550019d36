"""What every Argo CD object gpc writes has in common: where it lives, how it syncs, how it is named.

Argo CD objects of environment E live in E's own cluster, in Argo CD's namespace, and deliver only
to that cluster (`IN_CLUSTER`). Names of gpc's own Applications and ApplicationSets (everything but
a workload's Application and the root) contain a '.', which no platform, environment or workload
name can contain, so they never collide with `names.argocd_application(...)` of some workload
(`<platform>-<env>.broker` vs a workload named `broker`).
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, Platform

API_VERSION = "argoproj.io/v1alpha1"
ARGOCD_NAMESPACE = "argocd"  # where Terraform installs Argo CD (the chart's default namespace)
IN_CLUSTER = names.IN_CLUSTER

# Deleting an Application deletes what it deployed (foreground cascade).
FINALIZER = "resources-finalizer.argocd.argoproj.io"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"

# The root application syncs its directory in waves; each wave must be healthy before the next
# starts: the project first, then what must exist before any workload pod is admitted (policies,
# namespace-wide NetworkPolicies), then the shared infrastructure, then the workloads.
WAVE_PROJECT = -3
WAVE_PLATFORM = -2
WAVE_INFRA = -1
WAVE_WORKLOADS = 0

# PruneLast: delete what left the spec only after everything else is synced and healthy.
# ServerSideApply: no last-applied annotation size limit, field ownership shared cleanly with
# controllers. No CreateNamespace: Terraform owns the namespaces.
SYNC_OPTIONS = ("PruneLast=true", "ServerSideApply=true")
RETRY_LIMIT = 5
RETRY_BACKOFF = (("duration", "10s"), ("factor", 2), ("maxDuration", "3m"))  # 10s, 20s, 40s, 80s, 160s

ROOT_FILE = "root.yaml"


def repo_path(platform: Platform, relative: str) -> str:
    """A folder of the compiled tree as a path inside the GitOps repository."""
    return "/".join(part for part in (platform.gitops_path, relative) if part)


def project_name(platform: Platform, env: Environment) -> str:
    """The AppProject every Application of `env` belongs to (except the root)."""
    return f"{platform.name}-{env.name}"


def bootstrap_project_name(platform: Platform, env: Environment) -> str:
    """The AppProject of the root application (it may only manage Argo CD objects), named after it.

    A DNS label, unlike gpc's other object names: Terraform installs it with the root application
    through the argocd-apps chart, which passes the name through `tpl` unquoted.
    """
    return names.argocd_root_application(platform.name, env.name)


def role_name(platform: Platform, env: Environment, role: str) -> str:
    """An Argo CD object of `env` that is not a workload's Application (see the module docstring)."""
    return f"{platform.name}-{env.name}.{role}"


def labels(platform: Platform) -> dict[str, str]:
    return {names.LABEL_MANAGED_BY: "gpc", names.LABEL_PART_OF: platform.name}


def metadata(platform: Platform, name: str, wave: int | None, finalizer: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ARGOCD_NAMESPACE, "labels": labels(platform)}
    if wave is not None:
        meta["annotations"] = {SYNC_WAVE: str(wave)}
    if finalizer:
        meta["finalizers"] = [FINALIZER]
    return meta


def _sync_policy(automated: bool) -> dict[str, Any]:
    policy: dict[str, Any] = {}
    if automated:
        policy["automated"] = {"prune": True, "selfHeal": True}
    policy["syncOptions"] = list(SYNC_OPTIONS)
    policy["retry"] = {"limit": RETRY_LIMIT, "backoff": dict(RETRY_BACKOFF)}
    return policy


def platform_sync_policy() -> dict[str, Any]:
    """The platform layers (root, policies, platform overlay, shared infrastructure) sync, prune and
    self-heal on their own in every environment, whatever its `auto_sync`.

    The root application waits for each wave to be healthy, and an Application nobody synced is
    Missing, never healthy: with manual platform layers, the first rollout of an environment would
    stop at the first wave until someone synced every layer by hand, in order. What they deliver
    changes only through a reviewed spec and `gpc compile --check`; no stateful data is theirs to
    prune (the data volumes belong to Terraform).
    """
    return _sync_policy(True)


def workload_sync_policy(env: Environment) -> dict[str, Any]:
    """Workload delivery: automated prune and self-heal only where the environment allows it;
    elsewhere a human syncs each workload's Application after a promotion is merged."""
    return _sync_policy(env.auto_sync)


def destination(namespace: str) -> dict[str, str]:
    return {"server": IN_CLUSTER, "namespace": namespace}


def default_namespace(env: Environment) -> str:
    """Destination namespace of Applications whose objects each name their own namespace (or none).

    Argo CD checks an Application's destination against its project, so it must be one of the
    environment's namespaces even when every object sets `metadata.namespace`.
    """
    return next(env.namespaces[group] for group in names.GROUPS if group in env.namespaces)


def git_source(platform: Platform, relative: str) -> dict[str, Any]:
    return {"repoURL": platform.gitops_repo, "targetRevision": platform.gitops_branch,
            "path": repo_path(platform, relative)}


def platform_application(platform: Platform, *, name: str, project: str, source: dict[str, Any], namespace: str,
                         wave: int) -> dict[str, Any]:
    """An Application of a platform layer: synced automatically in every environment."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": metadata(platform, name, wave, finalizer=True),
        "spec": {
            "project": project,
            "source": source,
            "destination": destination(namespace),
            "syncPolicy": platform_sync_policy(),
        },
    }
