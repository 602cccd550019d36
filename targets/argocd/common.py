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
from compiler.rootapp import destination, metadata, repo_path, sync_policy

# Every object's metadata, sync policy and destination are the root application's (compiler/rootapp.py);
# so are these constants, under this target's names.
API_VERSION = names.ARGOCD_API_VERSION
ARGOCD_NAMESPACE = names.ARGOCD_NAMESPACE
IN_CLUSTER = names.IN_CLUSTER
FINALIZER = names.ARGOCD_FINALIZER
SYNC_WAVE = names.ARGOCD_SYNC_WAVE
ROOT_FILE = names.ARGOCD_ROOT_FILE

# The root application syncs its directory in waves; each wave must be healthy before the next
# starts: the project first, then what must exist before any workload pod is admitted (policies,
# namespace-wide NetworkPolicies), then the shared infrastructure, then the workloads.
WAVE_PROJECT = -3
WAVE_PLATFORM = -2
WAVE_INFRA = -1
WAVE_WORKLOADS = 0


def project_name(platform: Platform, env: Environment) -> str:
    """The AppProject every Application of `env` belongs to (except the root)."""
    return f"{platform.name}-{env.name}"


def role_name(platform: Platform, env: Environment, role: str) -> str:
    """An Argo CD object of `env` that is not a workload's Application (see the module docstring)."""
    return f"{platform.name}-{env.name}.{role}"


def default_namespace(env: Environment) -> str:
    """Destination namespace of Applications whose objects each name their own namespace (or none).

    Argo CD checks an Application's destination against its project, so it must be one of the
    environment's namespaces even when every object sets `metadata.namespace`.
    """
    return next(env.namespaces[group] for group in names.GROUPS if group in env.namespaces)


def git_source(platform: Platform, relative: str) -> dict[str, Any]:
    return {"repoURL": platform.gitops_repo, "targetRevision": platform.gitops_branch,
            "path": repo_path(platform, relative)}


def application(platform: Platform, env: Environment, *, name: str, project: str, source: dict[str, Any],
                namespace: str, wave: int) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": metadata(platform, name, wave, finalizer=True),
        "spec": {
            "project": project,
            "source": source,
            "destination": destination(namespace),
            "syncPolicy": sync_policy(env),
        },
    }
