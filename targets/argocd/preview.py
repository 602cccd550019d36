"""Previews (issue 17) in Argo CD: an AppProject that may deploy only into `pr-<repo>-*` namespaces,
and one ApplicationSet per workload repository with the pull-request generator.

Delivered by the `from` environment's root application (`argocd/<from>/previews.yaml`), so only the
platform's reviewed tree creates them: the generator's docs warn that only admins may create such
ApplicationSets, and that `project` must never come from pull request data; here it is a literal.

Which pull requests get one: the generator lists the repository's open pull requests that carry
both the opt-in label and `<label>-ready`, which the workload's CI sets only after it pushed the
pull request's image (never for drafts, bots or forks; the janitor workflow takes it away after the
TTL or beyond `max`). A closed pull request leaves the list: the ApplicationSet deletes its
Application, whose resources finalizer deletes every object, the Namespace included.
"""

from __future__ import annotations

from typing import Any

from compiler import names, rootapp
from compiler.ir import Platform
from compiler.ir_preview import PREVIEW_LABEL, Preview, PreviewSource, image_tag, preview_dir

# What a preview's objects are (targets/kustomize/preview.py and preview_infra.py), and nothing more.
NAMESPACED_KINDS = (
    ("", "ConfigMap"), ("", "ResourceQuota"), ("", "Service"), ("", "ServiceAccount"),
    ("apps", "Deployment"), ("batch", "CronJob"), ("batch", "Job"),
    ("external-secrets.io", "ExternalSecret"), ("gateway.networking.k8s.io", "HTTPRoute"),
    ("generators.external-secrets.io", "Password"), ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
)


def token_secret(platform: Platform) -> str:
    """The Secret (namespace argocd) holding a read-only GitHub token the generator lists pull requests with."""
    return f"{platform.name}-previews-github"


def project_name(platform: Platform) -> str:
    return f"{platform.name}-previews"


def files(platform: Platform, env_name: str) -> dict[str, list[dict[str, Any]]]:
    preview = platform.previews
    if preview is None or preview.from_env != env_name:
        return {}
    documents = [project(platform, preview)] + [application_set(platform, preview, s) for s in preview.sources]
    return {"previews.yaml": documents}


def project(platform: Platform, preview: Preview) -> dict[str, Any]:
    return {
        "apiVersion": names.ARGOCD_API_VERSION,
        "kind": "AppProject",
        "metadata": rootapp.metadata(platform, project_name(platform), -3, finalizer=False),
        "spec": {
            "description": f"{platform.name}: previews of pull requests, copies of {preview.from_env}",
            "sourceRepos": [platform.gitops_repo],
            # Argo CD checks a Namespace object's own name against these destinations too, so the
            # one cluster-scoped kind allowed below can only be a preview's namespace.
            "destinations": [{"server": names.IN_CLUSTER, "namespace": s.namespace("*")} for s in preview.sources],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
            "namespaceResourceWhitelist": rootapp.group_kinds(NAMESPACED_KINDS),
        },
    }


def host_patches(preview: Preview, source: PreviewSource) -> list[dict[str, Any]]:
    namespace = source.namespace_template
    return [{"target": {"group": "gateway.networking.k8s.io", "version": "v1", "kind": "HTTPRoute", "name": w},
             "patch": f"- op: replace\n  path: /spec/hostnames\n  value: [{host}]\n"}
            for w, host in sorted(preview.hosts(namespace).items())]


def application_set(platform: Platform, preview: Preview, source: PreviewSource) -> dict[str, Any]:
    namespace = source.namespace_template
    kustomize: dict[str, Any] = {
        "namespace": namespace,
        "images": [f"{image}:{image_tag('{{ .number }}', '{{ .head_sha }}')}" for image in source.images],
    }
    patches = host_patches(preview, source)
    if patches:
        kustomize["patches"] = patches
    labels = {**rootapp.labels(platform), PREVIEW_LABEL: platform.name}
    return {
        "apiVersion": names.ARGOCD_API_VERSION,
        "kind": "ApplicationSet",
        "metadata": rootapp.metadata(platform, f"{platform.name}-previews.{source.slug}", 0, finalizer=False),
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [{"pullRequest": {
                "github": {"owner": source.owner, "repo": source.repo,
                           "tokenRef": {"secretName": token_secret(platform), "key": "token"},
                           "labels": [preview.label, preview.ready_label]},
                "requeueAfterSeconds": preview.requeue_after_seconds,
            }}],
            "template": {
                "metadata": {
                    "name": namespace,
                    "labels": {**labels, names.LABEL_NAME: source.slug},
                    "annotations": {"gpc.dev/pull-request": f"https://github.com/{source.full_name}/pull/{{{{ .number }}}}",
                                    "gpc.dev/head-sha": "{{ .head_sha }}"},
                    "finalizers": [names.ARGOCD_FINALIZER],
                },
                "spec": {
                    "project": project_name(platform),  # never templated from pull request data
                    "source": {"repoURL": platform.gitops_repo, "targetRevision": platform.gitops_branch,
                               "path": rootapp.repo_path(platform, preview_dir(source.slug)),
                               "kustomize": kustomize},
                    "destination": {"server": names.IN_CLUSTER, "namespace": namespace},
                    # No CreateNamespace: the Namespace is one of the Application's objects, so the
                    # prune that follows a closed pull request deletes it.
                    "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                                   "syncOptions": list(names.ARGOCD_APP_SYNC_OPTIONS),
                                   "retry": {"limit": names.ARGOCD_RETRY_LIMIT,
                                             "backoff": dict(names.ARGOCD_RETRY_BACKOFF)}},
                },
            },
        },
    }
