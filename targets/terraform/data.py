"""What each root module knows about the platform, as plain data (its `locals.tf`).

The `.tf` templates are fixed text that iterates over these maps with `for_each`; the spec only
ever reaches HCL through them. Every map is sorted, every entry of a map has the same shape,
and nothing here refers to a resource, so `terraform console` can evaluate `locals.tf` offline.

One frozen dataclass per root module: its fields are the module's locals, in the order
`locals.tf` lists them; a field that is None is not part of the module (the services module
of a platform without buckets has no object-store locals).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from compiler import names
from compiler.database_grants import (
    DATABASE_PRIVILEGES,
    SCHEMA_PRIVILEGES,
    SEQUENCE_PRIVILEGES,
    TABLE_PRIVILEGES,
)
from compiler.ir import DEFAULT_RESOURCES, RAILS_OF_TYPE, Environment, Platform, QueueBounds, Workload
from compiler.quantity import parse_quantity
from targets.terraform import backups

QUOTA_NAME = "gpc-quota"
LIMIT_RANGE_NAME = "gpc-limits"
OBJECT_STORE_ROOT_USER = "gpc-admin"
SYSTEM_NAMESPACES = {"argocd": names.ARGOCD_NAMESPACE, "kyverno": names.KYVERNO_NAMESPACE}
REPOSITORY_SECRET_LABEL = "argocd.argoproj.io/secret-type"
INFRA_GROUP = "infra"
# One replica each, ReadWriteOnce; the sizes the charts' own claims had before Terraform owned them.
INFRA_VOLUME_SIZES = {names.OBJECT_STORE_CLAIM: "10Gi", names.BROKER_CLAIM: "8Gi"}

# S3 actions per declared access (design §8 decisions): read = get + list, write = put + delete
# + list (plus what a multipart upload needs once started: CreateMultipartUpload, UploadPart and
# CompleteMultipartUpload are authorised as s3:PutObject). Writers list because SDKs do (to
# check a key before overwriting it, to sync a folder, to find and abort stale uploads).
OBJECT_ACTIONS = {
    "read": ("s3:GetObject",),
    "write": ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts", "s3:PutObject"),
}
BUCKET_ACTIONS = {"read": ("s3:ListBucket",), "write": ("s3:ListBucket",)}
# A versioned bucket keeps every version so that an older one can be read back: its readers get
# the versions too. Nobody gets s3:DeleteObjectVersion: a delete only adds a delete marker, and
# history is removed by the platform team, never by a workload.
VERSIONED_OBJECT_ACTIONS = {"read": ("s3:GetObjectVersion",), "write": ()}
VERSIONED_BUCKET_ACTIONS = {"read": ("s3:ListBucketVersions",), "write": ()}
# RabbitMQ checks basic.publish against the exchange (write) and basic.consume/basic.get against
# the queue (read); a passive declare needs nothing. Each queue has an exchange of its own that
# routes to it alone, so a publisher's write regex names exactly its queues' exchanges and no
# workload may use the default exchange (which routes to every queue of the vhost). '^$'
# matches no resource name.
NOTHING = "^$"
# Postgres privileges per declared access: compiler/database_grants.py (previews grant the same).
EXCHANGE_TYPE = "fanout"  # routes every message to the one bound queue, whatever the routing key
_PCRE_SPECIAL = re.compile(r"([\\^$.|?*+()\[\]{}])")


def pcre_literal(text: str) -> str:
    """`text` as a PCRE pattern that matches exactly `text` (RabbitMQ compiles permissions with re)."""
    return _PCRE_SPECIAL.sub(r"\\\1", text)


def any_of(items: list[str]) -> str:
    if not items:
        return NOTHING
    if len(items) == 1:
        return f"^{pcre_literal(items[0])}$"
    return "^(?:" + "|".join(pcre_literal(i) for i in items) + ")$"


Strings = dict[str, str]
Entries = dict[str, dict[str, Any]]  # name -> one entry; every entry of a map has the same keys


@dataclass(frozen=True)
class _Locals:
    def entries(self) -> dict[str, object]:
        """`locals.tf`: every field that is part of the module, in field order."""
        present = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {name: item for name, item in present if item is not None}


@dataclass(frozen=True)
class ClusterLocals(_Locals):
    """The locals of terraform/<env>/cluster/."""

    platform: str
    environment: str
    labels: Strings
    namespaces: Strings  # group -> namespace
    namespace_annotations: Strings
    namespace_labels: Strings
    system_namespaces: Strings  # Argo CD's and Kyverno's
    system_namespace_labels: Strings
    workloads: Entries  # group, service_account, description
    api_readers: Entries  # group, service_account, role
    quotas: dict[str, Strings]  # group -> hard limits
    limit_ranges: dict[str, dict[str, Strings]]  # group -> default, default_request, max
    volumes: Entries  # group, size, access_mode, storage_class
    infra_volumes: Entries  # the shared infrastructure's data: group, size, access_mode
    app_secrets: Entries  # group, name, keys
    image_pull_secret: str | None  # the registry's pull secret; None: registry_auth needs none
    registry_hosts: list[str] | None  # the registries the pull secret must log in to
    image_pull_groups: list[str] | None  # the groups whose namespace gets the pull secret
    argocd_repository: dict[str, Any]  # name, labels, url of Argo CD's repository Secret
    argocd_root_application: str
    kyverno_values: dict[str, Any]


@dataclass(frozen=True)
class ServicesLocals(_Locals):
    """The locals of terraform/<env>/services/. The object-store fields are None without buckets,
    the broker's without queues."""

    platform: str
    environment: str
    labels: Strings
    namespaces: Strings
    object_store_root_secret: str | None
    broker_admin_secret: str | None
    broker_admin_user: str  # written even without queues (unused there; dropping it would change the output)
    broker_vhost: str | None
    broker_host: str | None
    broker_port: int | None
    buckets: Entries | None  # versioning, description
    versioned_buckets: list[str] | None
    queues: Entries | None  # arguments (bounds, dead-lettering), description
    exchanges: Entries | None  # each queue's own exchange: type, queue, routing_key
    object_store_users: Strings | None  # workload -> user
    object_store_policies: dict[str, dict[str, Any]] | None  # workload -> IAM policy document
    broker_users: dict[str, Strings] | None  # workload -> user, configure, write, read
    databases: Entries | None  # host, port, schema, owner (role), superuser_secret
    database_roles: Entries | None  # workload -> database, role, access, *_privileges
    database_backups: Entries | None  # database -> bucket, user, keys_secret, ... (targets/terraform/backups.py)
    credentials: Entries  # group, name, keys


def _accesses(access: str) -> tuple[str, ...]:
    return ("read", "write") if access == "readwrite" else (access,)


def _labels(platform: Platform) -> dict[str, str]:
    return {names.LABEL_MANAGED_BY: "terraform", names.LABEL_PART_OF: platform.name}


def _pod_security(enforce: str, version: str) -> dict[str, str]:
    labels = {}
    for mode, level in (("enforce", enforce), ("audit", "restricted"), ("warn", "restricted")):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = version
    return dict(sorted(labels.items()))


def cluster(platform: Platform, env: Environment, root_application: str) -> ClusterLocals:
    """The locals of terraform/<env>/cluster/."""
    workloads = platform.workloads_in(env.name)
    version = f"v{platform.kubernetes_version}"
    description = {"kubernetes.io/description": platform.description} if platform.description else {}
    pull_secret = platform.pull_secret if workloads else None
    # Groups running a workload without a CPU limit in this environment: a quota on `limits.cpu`
    # would refuse its pods, and a LimitRange CPU default or maximum would give it a limit anyway.
    unlimited = {w.group for w in workloads if not w.placement(env.name).effective_resources.cpu_limited}
    return ClusterLocals(
        platform=platform.name,
        environment=env.name,
        labels=_labels(platform),
        namespaces=dict(sorted(env.namespaces.items())),
        namespace_annotations=description,
        # Workload namespaces run only what gpc renders, which meets the restricted profile.
        namespace_labels=_pod_security("restricted", version),
        # Argo CD, Kyverno (and KEDA) are third-party charts gpc does not render: enforce baseline and
        # report (audit, warn) anything below restricted.
        # KEDA's namespace too where Argo CD installs it (a workload scales on queue depth): the
        # namespaces are Terraform's, and Argo CD never creates one.
        system_namespaces=SYSTEM_NAMESPACES | ({"keda": names.KEDA_NAMESPACE}
                                               if platform.scales_on_queues(env.name) else {})
        # And the Prometheus's where Argo CD installs kube-prometheus-stack (`monitoring.install`).
        | ({"monitoring": env.monitoring.scraper.namespace}
           if env.monitoring is not None and env.monitoring.install else {}),
        system_namespace_labels=_pod_security("baseline", version),
        workloads={
            w.name: {"group": w.group, "service_account": w.service_account, "description": w.description or ""}
            for w in workloads
        },
        api_readers={
            w.name: {"group": w.group, "service_account": w.service_account, "role": f"{w.service_account}-api-reader"}
            for w in workloads if w.api_access
        },
        quotas={q.group: _quota(q.cpu, q.memory, q.gpu, q.pods, cpu_limits=q.group not in unlimited)
                for q in platform.guardrails.quotas if q.group in env.namespaces},
        limit_ranges={group: _limits(platform, wtype, cpu_limits=group not in unlimited)
                      for wtype, group in sorted(names.GROUP_OF_TYPE.items())
                      if group in env.namespaces and RAILS_OF_TYPE[wtype] == wtype},
        volumes={
            v.name: {"group": v.group, "size": v.size, "access_mode": v.access_mode, "storage_class": v.storage_class}
            for v in platform.volumes if v.group in env.namespaces
        },
        infra_volumes=_infra_volumes(platform, env),
        app_secrets={
            w.name: {"group": w.group, "name": w.app_secret, "keys": list(w.secrets)}
            for w in workloads if w.terraform_secrets
        },
        image_pull_secret=pull_secret,
        registry_hosts=list(platform.registry_hosts) if pull_secret else None,
        image_pull_groups=sorted({w.group for w in workloads}) if pull_secret else None,
        argocd_repository={
            "name": names.argocd_repository_secret(platform.name),
            # Argo CD finds a repository's credentials by this label and by the URL, which must be
            # exactly the one every Application names.
            "labels": {**_labels(platform), REPOSITORY_SECRET_LABEL: "repository"},
            "url": platform.gitops_repo,
        },
        argocd_root_application=root_application,
        kyverno_values=kyverno_values(env, pull_secret, platform),
    )


# Kyverno's admission webhooks fail closed (failurePolicy Fail): with the chart's single replica,
# one evicted or crashed pod would refuse every Argo CD sync and every CronJob run. Three replicas
# (spread over nodes by the chart's default anti-affinity) and a PodDisruptionBudget keep two up
# through a drain; an unhealthy replica may always be evicted, so it cannot block the drain itself.
KYVERNO_REPLICAS = 3
KYVERNO_MIN_AVAILABLE = 2


def kyverno_values(env: Environment, pull_secret: str | None, platform: Platform | None = None) -> dict[str, Any]:
    """Values of the pinned Kyverno chart (charts/kyverno/values.yaml of Kyverno v1.19)."""
    values: dict[str, Any] = {"admissionController": {
        "replicas": KYVERNO_REPLICAS,
        "podDisruptionBudget": {"enabled": True, "minAvailable": KYVERNO_MIN_AVAILABLE,
                                "unhealthyPodEvictionPolicy": "AlwaysAllow"},
    }}
    # The webhooks see only this environment's workload namespaces (the policies apply nowhere
    # else), so Kyverno being down or slow never touches kube-system, Argo CD or the shared
    # infrastructure. The chart adds the exclusion of Kyverno's own namespace.
    workload_groups = set(names.GROUP_OF_TYPE.values())
    namespaces = sorted(ns for group, ns in env.namespaces.items() if group in workload_groups)
    previews = platform is not None and platform.previews is not None and platform.previews.from_env == env.name
    if namespaces and previews:
        assert platform is not None
        # The environment previews run in: a pull request's namespace has no name known here, so
        # the webhooks see every namespace labelled as this platform's (Terraform's and the
        # previews' own Namespace objects carry the label) except the system and infra ones.
        others = sorted({*SYSTEM_NAMESPACES.values(), names.KEDA_NAMESPACE,
                         *(ns for group, ns in env.namespaces.items() if group not in workload_groups)})
        values["config"] = {"webhooks": {"namespaceSelector": {"matchExpressions": [
            {"key": names.LABEL_PART_OF, "operator": "In", "values": [platform.name]},
            {"key": names.LABEL_NAMESPACE_NAME, "operator": "NotIn", "values": others}]}}}
    elif namespaces:
        values["config"] = {"webhooks": {"namespaceSelector": {"matchExpressions": [
            {"key": names.LABEL_NAMESPACE_NAME, "operator": "In", "values": namespaces}]}}}
    if previews and pull_secret is not None:
        # kyverno/preview-pull-secret.yaml: the background controller copies the pull secret into
        # each preview namespace, which the chart's default role does not allow.
        values["backgroundController"] = {"rbac": {"clusterRole": {"extraResources": [
            {"apiGroups": [""], "resources": ["secrets"],
             "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]}}}
    # The signature policies read signatures from the workloads' registries: with a private one,
    # Kyverno logs in with its own copy of the pull secret (`--imagePullSecrets`, which both the
    # ImageValidatingPolicy and ClusterPolicy verifyImages use when a policy names no credentials).
    if pull_secret is not None:
        values["existingImagePullSecrets"] = [pull_secret]
    return values


def _infra_volumes(platform: Platform, env: Environment) -> dict[str, dict[str, str]]:
    """The claims the object store and the broker keep their data on (their charts mount them)."""
    if INFRA_GROUP not in env.namespaces:
        return {}
    claims = {names.OBJECT_STORE_CLAIM: bool(platform.buckets), names.BROKER_CLAIM: bool(platform.queues)}
    return {claim: {"group": INFRA_GROUP, "size": INFRA_VOLUME_SIZES[claim], "access_mode": "ReadWriteOnce"}
            for claim, needed in sorted(claims.items()) if needed}


_APP_HEALTH = """hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then hs.message = obj.status.health.message end
end
return hs
"""
# The same in every environment: the argocd module's own (a local of terraform/modules/argocd/).
ARGOCD_VALUES: dict[str, Any] = {
    "dex": {"enabled": False},
    # Argo CD 1.8+ no longer reports an Application's health to its parent, so sync waves of
    # the app-of-apps would not wait for infrastructure to be healthy without this check.
    "configs": {"cm": {"resource.customizations.health.argoproj.io_Application": _APP_HEALTH}},
}


def _quota(cpu: str | None, memory: str | None, gpu: int | None, pods: int | None, *,
           cpu_limits: bool = True) -> dict[str, Any]:
    hard: dict[str, Any] = {}
    if cpu is not None:
        hard.update({"limits.cpu": cpu, "requests.cpu": cpu} if cpu_limits else {"requests.cpu": cpu})
    if memory is not None:
        hard.update({"limits.memory": memory, "requests.memory": memory})
    if gpu is not None:
        hard["requests.nvidia.com/gpu"] = str(gpu)
    if pods is not None:
        hard["pods"] = str(pods)
    return dict(sorted(hard.items()))


def _limits(platform: Platform, wtype: str, *, cpu_limits: bool = True) -> dict[str, dict[str, str]]:
    """Container defaults and maxima of one group. gpc's manifests always set resources; the
    defaults are for anything else started in the namespace, so a ResourceQuota on requests
    never rejects it, and they never exceed the guardrail maximum. Where a workload runs without
    a CPU limit, the LimitRange sets no CPU limit default or maximum (either would impose one);
    the Kyverno maximum then caps the CPU request."""
    maxima = {r.resource: r.limit for r in platform.guardrails.max_rules
              if r.workload_type == wtype and r.resource in ("cpu", "memory")}
    declared = platform.guardrails.defaults.get(wtype)
    defaults = {}
    for resource in ("cpu", "memory"):
        default = str(getattr(declared, resource) if declared else DEFAULT_RESOURCES[wtype][resource])
        if resource in maxima and parse_quantity(maxima[resource]) < parse_quantity(default):
            default = maxima[resource]
        defaults[resource] = default
    if not cpu_limits:
        return {"default": {"memory": defaults["memory"]}, "default_request": dict(defaults),
                "max": {k: v for k, v in sorted(maxima.items()) if k != "cpu"}}
    return {"default": defaults, "default_request": dict(defaults), "max": dict(sorted(maxima.items()))}


def services(platform: Platform, env: Environment) -> ServicesLocals:
    """The locals of terraform/<env>/services/: the object store and the broker."""
    # Only the workloads deployed here: a switched-off one gets no user, key or credentials Secret.
    queue_users = {w.name: w for w in platform.workloads_in(env.name) if w.queues}
    bucket_users = {w.name: w for w in platform.workloads_in(env.name) if w.buckets}
    versioned = {b.name for b in platform.buckets if b.versioning}
    queues: dict[str, Any] = {}
    for q in platform.queues:
        arguments = queue_arguments(q.bounds)
        if q.dead_letter_queue is not None:
            arguments.update({"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q.dead_letter_queue})
            queues[q.dead_letter_queue] = {"arguments": queue_arguments(q.dead_letter_bounds),
                                           "description": f"dead letters of {q.name}"}
        queues[q.name] = {"arguments": dict(sorted(arguments.items())), "description": q.description or ""}
    object_store = bool(platform.buckets)
    broker = bool(platform.queues)
    return ServicesLocals(
        platform=platform.name,
        environment=env.name,
        labels=_labels(platform),
        namespaces=dict(sorted(env.namespaces.items())),
        object_store_root_secret=names.OBJECT_STORE_ROOT_SECRET if object_store else None,
        broker_admin_secret=names.BROKER_ADMIN_SECRET if broker else None,
        broker_admin_user=names.BROKER_ADMIN_USER,
        broker_vhost=names.broker_vhost(platform.name) if broker else None,
        broker_host=names.service_host(names.BROKER_SERVICE, env.infra_namespace) if broker else None,
        broker_port=names.BROKER_PORT if broker else None,
        buckets={b.name: {"versioning": b.versioning, "description": b.description or ""}
                 for b in platform.buckets} if object_store else None,
        versioned_buckets=[b.name for b in platform.buckets if b.versioning] if object_store else None,
        queues=dict(sorted(queues.items())) if broker else None,
        exchanges={q.exchange: {"type": EXCHANGE_TYPE, "queue": q.name, "routing_key": q.name}
                   for q in platform.queues} if broker else None,
        object_store_users={n: names.object_store_user(n) for n in sorted(bucket_users)} if object_store else None,
        object_store_policies={n: _policy(w, versioned) for n, w in sorted(bucket_users.items())} if object_store else None,
        broker_users={n: _permissions(platform, w) for n, w in sorted(queue_users.items())} if broker else None,
        databases={d.name: {"host": names.database_host(d.name, env.infra_namespace), "port": names.DATABASE_PORT,
                            "schema": names.DATABASE_SCHEMA, "owner": d.owner.role,
                            "superuser_secret": names.database_superuser_secret(d.name)}
                   for d in platform.databases} if platform.databases else None,
        database_roles=database_roles(platform) if platform.databases else None,
        database_backups=backups.database_backups(platform, env),
        credentials={
            w.name: {"group": w.group, "name": w.credentials_secret, "keys": list(w.credential_keys)}
            for w in platform.workloads_in(env.name) if w.credentials_secret is not None
        },
    )


def database_roles(platform: Platform) -> dict[str, dict[str, Any]]:
    """One login role per workload that uses a database, with exactly its access's privileges."""
    roles = {}
    for d in platform.databases:
        for r in d.roles:
            roles[r.workload] = {
                "database": d.name, "role": r.role, "access": r.access,
                "database_privileges": list(DATABASE_PRIVILEGES[r.access]),
                "schema_privileges": list(SCHEMA_PRIVILEGES[r.access]),
                "table_privileges": list(TABLE_PRIVILEGES[r.access]),
                "sequence_privileges": list(SEQUENCE_PRIVILEGES[r.access]),
            }
    return dict(sorted(roles.items()))


def queue_arguments(bounds: QueueBounds) -> dict[str, Any]:
    """A queue's bounds as RabbitMQ queue arguments (numbers stay numbers: the broker refuses a
    length given as a string)."""
    arguments: dict[str, Any] = {"x-max-length-bytes": bounds.max_bytes, "x-overflow": bounds.overflow}
    if bounds.max_length is not None:
        arguments["x-max-length"] = bounds.max_length
    if bounds.message_ttl_ms is not None:
        arguments["x-message-ttl"] = bounds.message_ttl_ms
    return dict(sorted(arguments.items()))


def _policy(w: Workload, versioned: set[str]) -> dict[str, Any]:
    """One IAM policy document: the declared access on the declared buckets, nothing else."""
    object_actions: dict[str, set[str]] = {}
    bucket_actions: dict[str, set[str]] = {}
    for use in w.buckets:
        for access in _accesses(use.access or ""):
            object_actions.setdefault(use.target, set()).update(OBJECT_ACTIONS[access])
            bucket_actions.setdefault(use.target, set()).update(BUCKET_ACTIONS[access])
            if use.target in versioned:
                object_actions[use.target].update(VERSIONED_OBJECT_ACTIONS[access])
                bucket_actions[use.target].update(VERSIONED_BUCKET_ACTIONS[access])
    statements = []
    for bucket in sorted(object_actions):
        statements.append({"Effect": "Allow", "Action": sorted(object_actions[bucket]),
                           "Resource": [f"arn:aws:s3:::{bucket}/*"]})
        if bucket_actions[bucket]:
            statements.append({"Effect": "Allow", "Action": sorted(bucket_actions[bucket]),
                               "Resource": [f"arn:aws:s3:::{bucket}"]})
    return {"Version": "2012-10-17", "Statement": statements}


def _permissions(platform: Platform, w: Workload) -> dict[str, str]:
    """One broker user: publish is a write on the queue's own exchange, consume a read on the
    queue; exchanges, queues and bindings are declared by Terraform, so nobody configures anything."""
    published = sorted({platform.queue(u.target).exchange for u in w.queues if u.access == "publish"})
    consumed = sorted({u.target for u in w.queues if u.access == "consume"})
    return {"user": names.broker_user(w.name), "configure": NOTHING, "write": any_of(published),
            "read": any_of(consumed)}

