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
DATABASE_KINDS = (("postgresql.cnpg.io", "Cluster"),)  # a preview's own databases (preview_db.py)


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
            # The one cluster-scoped kind is Namespace. Which Namespace is fixed by construction, not
            # by the project (whether Argo CD checks a Namespace object's name against these
            # destinations was not verified): every preview is built from this reviewed tree, whose
            # only Namespace kustomize renames to the Application's destination, `pr-<repo>-<n>`.
            "destinations": [{"server": names.IN_CLUSTER, "namespace": s.namespace("*")} for s in preview.sources],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
            "namespaceResourceWhitelist": rootapp.group_kinds(sorted(
                {*NAMESPACED_KINDS, *(DATABASE_KINDS if preview.databases else ())})),
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


def readme(platform: Platform) -> str | None:
    """argocd/previews.md: what a preview is, how one starts, and exactly what removes what."""
    preview = platform.previews
    if preview is None:
        return None
    ttl_h = preview.ttl_seconds // 3600
    source = preview.sources[0]
    example = source.namespace(42)
    rows = "\n".join(f"| `{s.full_name}` | `{s.namespace('<number>')}` | `{', '.join(s.workloads)}` | "
                     f"`{rootapp.repo_path(platform, preview_dir(s.slug))}` |" for s in preview.sources)
    hosts = preview.hosts(example)
    host_line = (", ".join(f"`{w}` at `https://{h}`" for w, h in sorted(hosts.items()))
                 if hosts else "no public hostname (the `from` environment has no Gateway gpc creates)")
    dbs = ", ".join(f"`{d}`" for d in preview.databases)
    db_line = f", its own database{'s' if len(preview.databases) > 1 else ''} ({dbs})" if preview.databases else ""
    return f"""<!-- Generated by gpc from {' '.join(platform.spec_file.split())}. Do not edit. -->
# Previews of pull requests

A pull request on a workload's repository labelled `{preview.label}` gets a preview: the whole
`{preview.from_env}` platform in a namespace of its own, with the pull request's image for that
repository's workloads and `{preview.from_env}`'s images for the others, its own broker and object
store{db_line}, its own generated credentials, a ResourceQuota (CPU requests {preview.quota_cpu}, memory
{preview.quota_memory}, {preview.quota_pods} pods) and NetworkPolicies that admit nothing from any
other namespace but the Gateway's proxy. It lives at most {ttl_h}h; at most {preview.max} exist per
repository. Drafts{'' if preview.allow_drafts else ', bots'} and forks get none.

| repository | namespace | its workloads | built from |
|---|---|---|---|
{rows}

Pull request 42 of `{source.full_name}` runs in `{example}`; {host_line}.

## Before the first preview

1. **External Secrets Operator** with its generator CRDs, in `{preview.from_env}`'s cluster: each
   preview's credentials come from its `Password` generator (nothing in Git holds them).
2. **A read-only GitHub token** for Argo CD's pull-request generator: a Secret
   `{token_secret(platform)}` with key `token` in namespace `argocd` (a fine-grained token or App
   with Pull requests: read on the repositories above). Without it the generator is limited to
   GitHub's anonymous 60 requests an hour.
3. **A webhook** (optional, recommended): point each repository's `pull_request` webhook at Argo CD's
   `/api/webhook`; the generator then reacts at once instead of every {preview.requeue_after_seconds}s
   (`requeueAfterSeconds`).
4. **Images**: previews pull the same way the environment does; with `registry_auth: pull-secret`
   the preview namespace needs that Secret too, which gpc does not create there.
{_operator_step(preview)}{5 + bool(preview.databases)}. In each repository, copy `preview.yaml`, `preview-janitor.yaml` and `.github/preview/janitor.py`
   and create the labels `{preview.label}` and `{preview.ready_label}`.

## How a preview starts

1. Someone adds `{preview.label}` to a pull request that is not a draft, not a bot's and not from a fork.
2. The repository's `preview` workflow (on `pull_request`) takes `{preview.ready_label}` off, builds
   and pushes `<image>:pr-<number>-<head sha>`, puts `{preview.ready_label}` back and records a GitHub
   Deployment `preview-pr-<number>` with the preview's URL. Every new commit repeats this, so Argo
   CD never points at an image that does not exist yet.
3. Argo CD's ApplicationSet `{platform.name}-previews.<repo>` lists open pull requests carrying both
   labels and creates the Application `pr-<repo>-<number>` in project `{project_name(platform)}`,
   which may deploy only into `pr-<repo>-*` namespaces and create no cluster-scoped object but their
   Namespace.
4. The Application syncs in waves: the Namespace (-3), its ResourceQuota (-2), the credential
   generator (-1){_database_waves(preview)}, then everything else.

## What removes what, in this order

A real teardown was not run when this was generated (no cluster); this is the designed order.

1. **The trigger.** The pull request is closed or merged, or someone removes `{preview.label}`, or
   the hourly `preview-janitor` workflow removes both labels because the preview is older than
   {ttl_h}h, because more than {preview.max} previews exist (the oldest go first), or because the pull
   request became a draft, a bot's or a fork's.
2. **Argo CD's generator** no longer lists the pull request (at the next webhook or within
   {preview.requeue_after_seconds}s) and the ApplicationSet deletes the Application `pr-<repo>-<number>`.
3. **The Application's `resources-finalizer.argocd.argoproj.io`** (foreground) makes Argo CD delete
   every object it synced, the Namespace `pr-<repo>-<number>` included; only then is the Application gone.
4. **Kubernetes' namespace deletion** removes what is left inside: pods, the Secret
   `preview-credentials` (also owned by its ExternalSecret), everything else. No object of a preview
   carries a finalizer that waits on another one (the workloads' volumes are emptyDirs; the
   ExternalSecret's Secret is garbage-collected by owner{_database_teardown(preview)}), so no step
   waits on a deleted controller.
5. **GitHub**: on close the `preview` workflow marks the Deployment `preview-pr-<number>` inactive;
   the janitor does the same for what it removes.

Stuck? `kubectl -n argocd get application pr-<repo>-<number> -o yaml` shows which object Argo CD
still waits for; `kubectl get namespace pr-<repo>-<number> -o yaml` shows the namespace's conditions.
"""


def _operator_step(preview: Preview) -> str:
    if not preview.databases:
        return ""
    return (f"""5. **CloudNativePG's operator of `{preview.from_env}` watches every namespace** (gpc sets
   `config.clusterWide: true` there, and no other environment may share `{preview.from_env}`'s
   cluster: GPC299): each preview's database is a `Cluster` in the preview's namespace, and its
   chart can watch only a fixed list of namespaces, not `pr-*`. Its NetworkPolicy lets it reach
   instance pods in this platform's preview namespaces, nothing else there; each preview's own
   policy admits, besides the operator, only the workloads that declared the database (and the
   owner's migration).
""")


def _database_waves(preview: Preview) -> str:
    if not preview.databases:
        return ""
    return (", each database's `Cluster` and its roles' Secrets (-1: the roles and grants of "
            f"`{preview.from_env}`, made by the Cluster's bootstrap), the owner's migration Job (0, a `Sync` "
            "hook: a PreSync hook would run before the namespace and the database exist), the workloads (1)")


def _database_teardown(preview: Preview) -> str:
    if not preview.databases:
        return ""
    return ("; the database instances' PersistentVolumeClaims, the only ones, belong to their Cluster and "
            "wait only for its pod to stop, and the operator that runs the Cluster lives outside the preview")
