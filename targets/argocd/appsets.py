"""ApplicationSets: one Application per workload and environment, from an explicit list.

The list generator names every overlay directory the kustomize target writes; no directory is
discovered at runtime, so what Argo CD deploys is exactly what `gpc compile` shows.

The template is a Go template (`goTemplate`, `missingkey=error`) that contains no value from the
spec: every string is either gpc's own constant or exactly `{{ .key }}`, and the values come from
the list elements, which Argo CD never evaluates as templates. A branch or path containing `{{`
therefore stays a literal string instead of becoming template code.
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, Platform, Workload
from compiler.rootapp import metadata, repo_path, workload_sync_policy
from targets.argocd.common import (
    API_VERSION,
    FINALIZER,
    IN_CLUSTER,
    WAVE_WORKLOADS,
    project_name,
    role_name,
)

GROUP_ROLES = ("services", "jobs")  # workers run in the services group


def param(key: str) -> str:
    """A reference to the list element's `key`: the only form of template action gpc writes."""
    return "{{ ." + key + " }}"


def element(platform: Platform, env: Environment, workload: Workload, teams: bool) -> dict[str, str]:
    """`teams`: uses_teams(platform), asked once per ApplicationSet (it scans every workload)."""
    team = {"team": workload.team or ""} if teams else {}
    return team | {
        "name": names.argocd_application(platform.name, env.name, workload.name),
        "workload": workload.name,
        "platform": platform.name,
        "project": project_name(platform, env),
        "repoURL": platform.gitops_repo,
        "revision": platform.gitops_branch,
        "path": repo_path(platform, names.overlay_dir(workload.name, env.name)),
        "namespace": workload.placement(env.name).namespace,
    }


def uses_teams(platform: Platform) -> bool:
    return any(w.team is not None for w in platform.workloads)


# Reloader restarts a Deployment by writing this annotation on its pod template (the `annotations`
# strategy, targets/argocd/operators.py). Git never has it: without this, self-heal would remove it
# again (one more rollout, and an Application that is never in sync).
RELOADED_FROM = '.spec.template.metadata.annotations."reloader.stakater.com/last-reloaded-from"'


def template(platform: Platform, env: Environment, workloads: list[Workload]) -> dict[str, Any]:
    team = {names.LABEL_TEAM: param("team")} if uses_teams(platform) else {}
    sync_policy = workload_sync_policy(env)
    ignored: dict[str, Any] = {}
    if any(w.kind == "Deployment" and w.secret_refs for w in workloads):
        ignored = {"ignoreDifferences": [{"group": "apps", "kind": "Deployment", "jqPathExpressions": [RELOADED_FROM]}]}
        sync_policy["syncOptions"] = [*sync_policy["syncOptions"], "RespectIgnoreDifferences=true"]
    return {
        "metadata": {
            "name": param("name"),
            "labels": {
                names.LABEL_MANAGED_BY: "gpc",
                names.LABEL_NAME: param("workload"),
                names.LABEL_PART_OF: param("platform"),
                **team,
            },
            "finalizers": [FINALIZER],
        },
        "spec": {
            "project": param("project"),
            "source": {"repoURL": param("repoURL"), "targetRevision": param("revision"), "path": param("path")},
            "destination": {"server": IN_CLUSTER, "namespace": param("namespace")},
            "syncPolicy": sync_policy,
            **ignored,
        },
    }


def application_sets(platform: Platform, env: Environment) -> dict[str, dict[str, Any]]:
    """`{group: ApplicationSet}` for each workload group (services, jobs) that has workloads."""
    result: dict[str, dict[str, Any]] = {}
    for group in GROUP_ROLES:
        workloads = [w for w in platform.workloads_in(env.name) if w.group == group]
        teams = uses_teams(platform)
        if not workloads:
            continue
        result[group] = {
            "apiVersion": API_VERSION,
            "kind": "ApplicationSet",
            "metadata": metadata(platform, role_name(platform, env, group), WAVE_WORKLOADS, finalizer=False),
            "spec": {
                "goTemplate": True,
                "goTemplateOptions": ["missingkey=error"],
                "generators": [{"list": {"elements": [element(platform, env, w, teams) for w in workloads]}}],
                "template": template(platform, env, workloads),
            },
        }
    return result
