"""The Applications that are not a workload's: platform overlay, policies, shared infra, root."""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, Platform
from targets.argocd import charts
from targets.argocd.common import (
    API_VERSION,
    ARGOCD_NAMESPACE,
    ROOT_FILE,
    WAVE_INFRA,
    WAVE_PLATFORM,
    application,
    bootstrap_project_name,
    default_namespace,
    destination,
    git_source,
    metadata,
    project_name,
    repo_path,
    role_name,
    sync_policy,
)

PLATFORM_ROLE = "platform"
POLICIES_ROLE = "policies"


def platform_overlay(platform: Platform, env: Environment) -> dict[str, Any]:
    """Namespace-wide objects of the environment (default-deny and DNS NetworkPolicies)."""
    return application(platform, env, name=role_name(platform, env, PLATFORM_ROLE),
                       project=project_name(platform, env),
                       source=git_source(platform, names.platform_overlay_dir(env.name)),
                       namespace=default_namespace(env), wave=WAVE_PLATFORM)


def policies(platform: Platform, env: Environment) -> dict[str, Any]:
    """The Kyverno policies, in place before any workload is admitted."""
    return application(platform, env, name=role_name(platform, env, POLICIES_ROLE),
                       project=project_name(platform, env), source=git_source(platform, names.KYVERNO_DIR),
                       namespace=default_namespace(env), wave=WAVE_PLATFORM)


def infrastructure(platform: Platform, env: Environment, chart: charts.Chart) -> dict[str, Any]:
    source = {
        "repoURL": chart.source_repo,
        "targetRevision": chart.version,
        "path": ".",
        "helm": {"releaseName": chart.release, "valuesObject": charts.VALUES[chart.role]()},
    }
    return application(platform, env, name=role_name(platform, env, chart.role),
                       project=project_name(platform, env), source=source, namespace=env.infra_namespace,
                       wave=WAVE_INFRA)


def root(platform: Platform, env: Environment) -> dict[str, Any]:
    """The app-of-apps Terraform applies once; it syncs every other file of `argocd/<env>/`.

    Its own file is excluded from its source: Terraform owns the root application, so Argo CD never
    tries to manage (or prune) the object that drives it.
    """
    source = {
        "repoURL": platform.gitops_repo,
        "targetRevision": platform.gitops_branch,
        "path": repo_path(platform, names.argocd_dir(env.name)),
        "directory": {"recurse": False, "exclude": ROOT_FILE},
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "Application",
        "metadata": metadata(platform, names.argocd_root_application(platform.name, env.name), None,
                             finalizer=True),
        "spec": {
            "project": bootstrap_project_name(platform, env),
            "source": source,
            "destination": destination(ARGOCD_NAMESPACE),
            "syncPolicy": sync_policy(env),
        },
    }
