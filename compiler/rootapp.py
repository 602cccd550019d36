"""Each environment's root application and its bootstrap AppProject, as data from the IR.

These two documents are `argocd/<env>/root.yaml`: the argocd target writes them with the other
files Argo CD syncs, and the terraform target installs the same documents (dumped with the same
dumper, so byte for byte the same file) as the first thing Argo CD runs. Both read them here,
so neither target renders or parses the other's output.

The shape every Argo CD object of gpc shares (metadata, sync policy, destination, repository
paths) lives here too: the argocd target builds its other Applications with the same helpers,
so the root application can never drift from them.
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, Platform

GroupKind = tuple[str, str]

# The only kinds the root application may manage: Argo CD's own objects.
ARGO_KINDS: tuple[GroupKind, ...] = (
    ("argoproj.io", "AppProject"), ("argoproj.io", "Application"), ("argoproj.io", "ApplicationSet"),
)


def repo_path(platform: Platform, relative: str) -> str:
    """A folder of the compiled tree as a path inside the GitOps repository."""
    return "/".join(part for part in (platform.gitops_path, relative) if part)


def bootstrap_project_name(platform: Platform, env: Environment) -> str:
    """The AppProject of the root application (it may only manage Argo CD objects), named after it.

    A DNS label, unlike gpc's other object names: Terraform installs it with the root application
    through the argocd-apps chart, which passes the name through `tpl` unquoted.
    """
    return names.argocd_root_application(platform.name, env.name)


def labels(platform: Platform) -> dict[str, str]:
    return {names.LABEL_MANAGED_BY: "gpc", names.LABEL_PART_OF: platform.name}


def metadata(platform: Platform, name: str, wave: int | None, finalizer: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": names.ARGOCD_NAMESPACE, "labels": labels(platform)}
    if wave is not None:
        meta["annotations"] = {names.ARGOCD_SYNC_WAVE: str(wave)}
    if finalizer:
        meta["finalizers"] = [names.ARGOCD_FINALIZER]
    return meta


def sync_policy(env: Environment) -> dict[str, Any]:
    """Automated prune and self-heal only where the environment allows it; otherwise a human syncs."""
    policy: dict[str, Any] = {}
    if env.auto_sync:
        policy["automated"] = {"prune": True, "selfHeal": True}
    policy["syncOptions"] = list(names.ARGOCD_APP_SYNC_OPTIONS)
    policy["retry"] = {"limit": names.ARGOCD_RETRY_LIMIT, "backoff": dict(names.ARGOCD_RETRY_BACKOFF)}
    return policy


def destination(namespace: str) -> dict[str, str]:
    return {"server": names.IN_CLUSTER, "namespace": namespace}


def group_kinds(kinds: list[GroupKind] | tuple[GroupKind, ...]) -> list[dict[str, str]]:
    return [{"group": group, "kind": kind} for group, kind in kinds]


def bootstrap_project(platform: Platform, env: Environment) -> dict[str, Any]:
    return {
        "apiVersion": names.ARGOCD_API_VERSION,
        "kind": "AppProject",
        "metadata": metadata(platform, bootstrap_project_name(platform, env), None, finalizer=False),
        "spec": {
            "description": f"{platform.name} in {env.name}: the root application and nothing else",
            "sourceRepos": [platform.gitops_repo],
            "destinations": [destination(names.ARGOCD_NAMESPACE)],
            "clusterResourceWhitelist": [],
            # No orphan monitoring: Argo CD's own namespace is full of objects no Application manages.
            "namespaceResourceWhitelist": group_kinds(ARGO_KINDS),
        },
    }


def root_application(platform: Platform, env: Environment) -> dict[str, Any]:
    """The app-of-apps Terraform applies once; it syncs every other file of `argocd/<env>/`.

    Its own file is excluded from its source: Terraform owns the root application, so Argo CD never
    tries to manage (or prune) the object that drives it.
    """
    source = {
        "repoURL": platform.gitops_repo,
        "targetRevision": platform.gitops_branch,
        "path": repo_path(platform, names.argocd_dir(env.name)),
        "directory": {"recurse": False, "exclude": names.ARGOCD_ROOT_FILE},
    }
    return {
        "apiVersion": names.ARGOCD_API_VERSION,
        "kind": "Application",
        "metadata": metadata(platform, names.argocd_root_application(platform.name, env.name), None,
                             finalizer=True),
        "spec": {
            "project": bootstrap_project_name(platform, env),
            "source": source,
            "destination": destination(names.ARGOCD_NAMESPACE),
            "syncPolicy": sync_policy(env),
        },
    }


def root_documents(platform: Platform, env: Environment) -> list[dict[str, Any]]:
    """The documents of `argocd/<env>/root.yaml`, in file order."""
    return [bootstrap_project(platform, env), root_application(platform, env)]


def root_source(env: Environment) -> str:
    """The path of that file in the compiled tree."""
    return f"{names.argocd_dir(env.name)}/{names.ARGOCD_ROOT_FILE}"
