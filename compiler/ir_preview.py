"""The IR of previews (issue 17): what one pull request's preview is, computed once for the
kustomize, argocd and github targets and for `gpc explain --preview`.

A preview is one namespace, `pr-<repo>-<number>`: every workload of the `from` environment, its own
small broker and object store, its own generated credentials, a ResourceQuota and NetworkPolicies
that admit nothing from outside the namespace but the Gateway's proxy. One namespace (not the three
groups of an environment) because every address inside a preview is then namespace-relative
(`http://fraud-inference:8000`, `rabbitmq:5672`): the same manifests serve every pull request and
Argo CD's `kustomize.namespace` places every object; nothing can name another environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import names

if TYPE_CHECKING:  # in an annotation only: `gpc validate` reads READY_SUFFIX and imports no IR
    from compiler.ir import EnvVar

# GitHub allows 50 characters in a label name; CI adds `<label>-ready` after pushing the image.
READY_SUFFIX = "-ready"
# The highest pull request number that still fits the namespace budget: 10 digits.
NUMBER_DIGITS = 10
NAMESPACE_PREFIX = "pr-"
LABEL_MAX = 63
# `pr-` + slug + `-` + 10 digits is at most 44 characters, which leaves a hostname label room for
# `-<workload>` (18 characters of it) within 63.
SLUG_MAX = 30
# What a preview's own broker and object store ask for (requests = limits): small, throwaway.
INFRA_CPU = "250m"
INFRA_MEMORY = "512Mi"
# A preview's own database (one CloudNativePG Cluster per database, one instance): the same CPU and
# memory, and a small volume, the only PersistentVolumeClaim a preview may hold.
DATABASE_STORAGE = "1Gi"


# The one Secret of a preview's credentials, generated inside the preview by the External Secrets
# Operator's Password generator: every workload's broker URL and object-store keys, the broker's
# definitions (users included) and the object store's root user. It never exists anywhere else.
PREVIEW_SECRET = "preview-credentials"
# In a preview, every Argo CD Application, namespace and object carries this label (its value: the
# platform name), and the Gateway admits routes only from namespaces labelled so.
PREVIEW_LABEL = "gpc.dev/preview-of"


def preview_key(workload: str, key: str) -> str:
    """`checkout`, `AMQP_URL` -> `checkout.AMQP_URL`: a key of PREVIEW_SECRET."""
    return f"{workload}.{key}"


def database_secret(workload: str) -> str:
    """The Secret of a workload's database role in a preview: `username` and `password` (what
    CloudNativePG's `managed.roles` sets the role's password from, `kubernetes.io/basic-auth`) and
    the workload's DATABASE_URL and PGPASSWORD, made from that same password."""
    return f"preview-db-{workload}"


def preview_dir(slug: str) -> str:
    """The kustomize folder every preview of one repository is built from (relative to out/<spec>/)."""
    return f"kustomize/_preview/{slug}"


@dataclass(frozen=True)
class PreviewSource:
    """A repository whose pull requests get previews, and the workloads it builds (more than one
    in a monorepo: a preview then runs the pull request's image of each)."""

    owner: str  # GitHub owner of the repository
    repo: str  # repository name
    slug: str  # the repository in names: `pr-<slug>-<number>` fits 63 characters with any number
    workloads: tuple[str, ...]
    images: tuple[str, ...]  # each workload's image repository, without tag, in `workloads` order

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    def namespace(self, number: int | str) -> str:
        return f"{NAMESPACE_PREFIX}{self.slug}-{number}"

    @property
    def namespace_template(self) -> str:
        """The namespace as the ApplicationSet's Go template writes it."""
        return self.namespace("{{ .number }}")


def image_ref(image: tuple[str, str, str]) -> str:
    """(registry, repository, tag@digest) -> the reference a container names."""
    return f"{image[0]}/{image[1]}:{image[2]}"


def image_tag(number: int | str, sha: str) -> str:
    """The tag CI pushes a pull request's build under: never one the delivery workflows use (those
    are bare commit SHAs), and new for each commit, so a preview follows the head commit."""
    return f"pr-{number}-{sha}"


def host_label(namespace: str, workload: str) -> str:
    """The first DNS label of an exposed workload's preview hostname: unique per preview and
    workload, at most 63 characters (a namespace is at most 44, see SLUG_MAX)."""
    return f"{namespace}-{workload[:LABEL_MAX - len(namespace) - 1]}".rstrip("-")


@dataclass(frozen=True)
class PreviewWorkload:
    """A workload as a preview runs it: the `from` environment's settings, one replica, and its
    variables pointed at the preview's own services (namespace-relative names)."""

    name: str
    env_vars: tuple[EnvVar, ...]
    cpu_request: str
    memory_request: str
    memory_limit: str
    gpu: int = 0  # GPUs of its container


@dataclass(frozen=True)
class Preview:
    from_env: str
    cluster: str
    label: str
    ttl_seconds: int
    max: int
    quota_cpu: str
    quota_memory: str
    quota_pods: int
    allow_bots: bool
    allow_drafts: bool
    requeue_after_seconds: int
    sources: tuple[PreviewSource, ...]
    workloads: tuple[PreviewWorkload, ...]
    broker: bool  # the platform has queues: the preview runs its own RabbitMQ
    object_store: bool  # the platform has buckets: the preview runs its own MinIO
    domain: str | None  # the `from` environment's exposure domain, when gpc creates its Gateway
    exposed: tuple[str, ...]  # workloads the `from` environment serves publicly
    databases: tuple[str, ...] = ()  # the platform's databases: the preview runs a Cluster of each
    database_images: tuple[str, ...] = ()  # their PostgreSQL images (pinned, by digest)

    def cluster_wide_operator(self, env: str) -> bool:
        """Whether `env`'s CloudNativePG operator watches every namespace: it must, to run the
        Clusters of this platform's previews (targets/argocd/charts.py says why)."""
        return bool(self.databases) and env == self.from_env

    def hosts(self, namespace: str) -> dict[str, str]:
        """Exposed workload -> its hostname in the preview in `namespace` (none without a domain)."""
        if self.domain is None:
            return {}
        return {w: f"{host_label(namespace, w)}.{self.domain}" for w in self.exposed}

    @property
    def ready_label(self) -> str:
        return self.label + READY_SUFFIX

    @property
    def namespace_prefixes(self) -> tuple[str, ...]:
        """`pr-<slug>-`: what every preview namespace of this platform starts with (the Kyverno
        policies match them so, as `pr-<slug>-*` or with CEL's startsWith)."""
        return tuple(sorted(f"{NAMESPACE_PREFIX}{s.slug}-" for s in self.sources))

    @property
    def infra_images(self) -> tuple[str, ...]:
        """The pinned images of the preview's own broker, object store and databases (targets/kustomize/
        preview_infra.py runs exactly these): the only images besides the workloads' a preview runs."""
        images = [names.RABBITMQ_IMAGE] if self.broker else []
        images += [names.MINIO_IMAGE, names.BUSYBOX_IMAGE] if self.object_store else []
        # A database pod: PostgreSQL, and the operator's image in its bootstrap init container.
        refs = [*self.database_images, *([image_ref(names.CNPG_IMAGE)] if self.databases else [])]
        return tuple(sorted({*(image_ref(i) for i in images), *refs}))

    @property
    def gpus(self) -> int:
        """GPUs one preview runs at once: its ResourceQuota allows that many and no more."""
        return sum(w.gpu for w in self.workloads)

    def source(self, full_name: str) -> PreviewSource:
        return next(s for s in self.sources if s.full_name == full_name)

    def workload(self, name: str) -> PreviewWorkload:
        return next(w for w in self.workloads if w.name == name)
