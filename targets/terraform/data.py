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
from compiler.ir import DEFAULT_RESOURCES, Environment, Platform, Workload
from compiler.quantity import parse_quantity

QUOTA_NAME = "gpc-quota"
LIMIT_RANGE_NAME = "gpc-limits"
OBJECT_STORE_ROOT_USER = "gpc-admin"
SYSTEM_NAMESPACES = {"argocd": names.ARGOCD_NAMESPACE, "kyverno": "kyverno"}

# S3 actions per declared access (design §8 decisions): read = get + list, write = put + delete
# (plus what a multipart upload needs once started: CreateMultipartUpload, UploadPart and
# CompleteMultipartUpload are authorised as s3:PutObject).
OBJECT_ACTIONS = {
    "read": ("s3:GetObject",),
    "write": ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts", "s3:PutObject"),
}
BUCKET_ACTIONS = {"read": ("s3:ListBucket",), "write": ()}
# RabbitMQ checks basic.publish against the exchange (the default exchange is named
# `amq.default` for permission checks) and basic.consume/basic.get against the queue; a passive
# queue.declare needs nothing. '^$' matches no resource name.
NOTHING = "^$"
DEFAULT_EXCHANGE = r"^amq\.default$"
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
    app_secrets: Entries  # group, name, keys
    image_pull_secret: str | None  # the registry's pull secret; None: registry_auth needs none
    registry_hosts: list[str] | None  # the registries the pull secret must log in to
    image_pull_groups: list[str] | None  # the groups whose namespace gets the pull secret
    argocd_values: dict[str, Any]
    argocd_root_application: str


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
    queues: Entries | None  # arguments, description
    object_store_users: Strings | None  # workload -> user
    object_store_policies: dict[str, dict[str, Any]] | None  # workload -> IAM policy document
    broker_users: dict[str, Strings] | None  # workload -> user, configure, write, read
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
    workloads = platform.workloads
    version = f"v{platform.kubernetes_version}"
    description = {"kubernetes.io/description": platform.description} if platform.description else {}
    pull_secret = platform.pull_secret if workloads else None
    return ClusterLocals(
        platform=platform.name,
        environment=env.name,
        labels=_labels(platform),
        namespaces=dict(sorted(env.namespaces.items())),
        namespace_annotations=description,
        # Workload namespaces run only what gpc renders, which meets the restricted profile.
        namespace_labels=_pod_security("restricted", version),
        # Argo CD and Kyverno are third-party charts gpc does not render: enforce baseline and
        # report (audit, warn) anything below restricted.
        system_namespaces=SYSTEM_NAMESPACES,
        system_namespace_labels=_pod_security("baseline", version),
        workloads={
            w.name: {"group": w.group, "service_account": w.service_account, "description": w.description or ""}
            for w in workloads
        },
        api_readers={
            w.name: {"group": w.group, "service_account": w.service_account, "role": f"{w.service_account}-api-reader"}
            for w in workloads if w.api_access
        },
        quotas={q.group: _quota(q.cpu, q.memory, q.gpu, q.pods) for q in platform.guardrails.quotas
                if q.group in env.namespaces},
        limit_ranges={group: _limits(platform, wtype) for wtype, group in sorted(names.GROUP_OF_TYPE.items())
                      if group in env.namespaces},
        volumes={
            v.name: {"group": v.group, "size": v.size, "access_mode": v.access_mode, "storage_class": v.storage_class}
            for v in platform.volumes if v.group in env.namespaces
        },
        app_secrets={
            w.name: {"group": w.group, "name": w.app_secret, "keys": list(w.secrets)}
            for w in workloads if w.app_secret is not None
        },
        image_pull_secret=pull_secret,
        registry_hosts=list(platform.registry_hosts) if pull_secret else None,
        image_pull_groups=sorted({w.group for w in workloads}) if pull_secret else None,
        argocd_values={
            "dex": {"enabled": False},
            # Argo CD 1.8+ no longer reports an Application's health to its parent, so sync waves of
            # the app-of-apps would not wait for infrastructure to be healthy without this check.
            "configs": {"cm": {"resource.customizations.health.argoproj.io_Application": _APP_HEALTH}},
        },
        argocd_root_application=root_application,
    )


_APP_HEALTH = """hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then hs.message = obj.status.health.message end
end
return hs
"""


def _quota(cpu: str | None, memory: str | None, gpu: int | None, pods: int | None) -> dict[str, Any]:
    hard: dict[str, Any] = {}
    if cpu is not None:
        hard.update({"limits.cpu": cpu, "requests.cpu": cpu})
    if memory is not None:
        hard.update({"limits.memory": memory, "requests.memory": memory})
    if gpu is not None:
        hard["requests.nvidia.com/gpu"] = str(gpu)
    if pods is not None:
        hard["pods"] = str(pods)
    return dict(sorted(hard.items()))


def _limits(platform: Platform, wtype: str) -> dict[str, dict[str, str]]:
    """Container defaults and maxima of one group. gpc's manifests always set resources; the
    defaults are for anything else started in the namespace, so a ResourceQuota on requests
    never rejects it, and they never exceed the guardrail maximum."""
    maxima = {r.resource: r.limit for r in platform.guardrails.max_rules
              if r.workload_type == wtype and r.resource in ("cpu", "memory")}
    declared = platform.guardrails.defaults.get(wtype)
    defaults = {}
    for resource in ("cpu", "memory"):
        default = str(getattr(declared, resource) if declared else DEFAULT_RESOURCES[wtype][resource])
        if resource in maxima and parse_quantity(maxima[resource]) < parse_quantity(default):
            default = maxima[resource]
        defaults[resource] = default
    return {"default": defaults, "default_request": dict(defaults), "max": dict(sorted(maxima.items()))}


def services(platform: Platform, env: Environment) -> ServicesLocals:
    """The locals of terraform/<env>/services/: the object store and the broker."""
    queue_users = {w.name: w for w in platform.workloads if w.queues}
    bucket_users = {w.name: w for w in platform.workloads if w.buckets}
    queues: dict[str, Any] = {}
    for q in platform.queues:
        arguments = {}
        if q.dead_letter_queue is not None:
            arguments = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q.dead_letter_queue}
            queues[q.dead_letter_queue] = {"arguments": {}, "description": f"dead letters of {q.name}"}
        queues[q.name] = {"arguments": arguments, "description": q.description or ""}
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
        object_store_users={n: names.object_store_user(n) for n in sorted(bucket_users)} if object_store else None,
        object_store_policies={n: _policy(w) for n, w in sorted(bucket_users.items())} if object_store else None,
        broker_users={n: _permissions(w) for n, w in sorted(queue_users.items())} if broker else None,
        credentials={
            w.name: {"group": w.group, "name": w.credentials_secret, "keys": list(w.credential_keys)}
            for w in platform.workloads if w.credentials_secret is not None
        },
    )


def _policy(w: Workload) -> dict[str, Any]:
    """One IAM policy document: the declared access on the declared buckets, nothing else."""
    object_actions: dict[str, set[str]] = {}
    bucket_actions: dict[str, set[str]] = {}
    for use in w.buckets:
        for access in _accesses(use.access or ""):
            object_actions.setdefault(use.target, set()).update(OBJECT_ACTIONS[access])
            bucket_actions.setdefault(use.target, set()).update(BUCKET_ACTIONS[access])
    statements = []
    for bucket in sorted(object_actions):
        statements.append({"Effect": "Allow", "Action": sorted(object_actions[bucket]),
                           "Resource": [f"arn:aws:s3:::{bucket}/*"]})
        if bucket_actions[bucket]:
            statements.append({"Effect": "Allow", "Action": sorted(bucket_actions[bucket]),
                               "Resource": [f"arn:aws:s3:::{bucket}"]})
    return {"Version": "2012-10-17", "Statement": statements}


def _permissions(w: Workload) -> dict[str, str]:
    """One broker user: publish is a write on the default exchange, consume a read on the queue;
    queues are declared by Terraform, so nobody configures anything."""
    publishes = any(u.access == "publish" for u in w.queues)
    consumed = sorted({u.target for u in w.queues if u.access == "consume"})
    return {"user": names.broker_user(w.name), "configure": NOTHING,
            "write": DEFAULT_EXCHANGE if publishes else NOTHING, "read": any_of(consumed)}

