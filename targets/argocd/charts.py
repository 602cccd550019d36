"""The shared infrastructure of an environment: pinned Helm charts for the object store and broker,
and KEDA where a workload scales on queue depth.

Both charts are CloudPirates' (Apache-2.0, https://github.com/CloudPirates-io/helm-charts), which
run the upstream images (Bitnami's charts need Bitnami images, which stopped being published freely
in August 2025). They come from an OCI registry through Argo CD's native OCI source (Argo CD >= 3.1):
`repoURL: oci://...`, `path: .`, `targetRevision: <exact chart version>`.

gpc decides every value that matters here instead of trusting chart defaults: names (so Services
are `names.OBJECT_STORE_SERVICE` and `names.BROKER_SERVICE`), ports, credentials from the Secrets
Terraform creates, resources (requests = limits), probes, persistence, non-root security contexts,
images pinned by digest, no service-account token, no RBAC. Buckets, users, vhosts and queues are
created by Terraform, never by the charts, and so are the data volumes: each chart mounts a claim
Terraform owns (`persistence.existingClaim`, a value of both charts at the pinned versions), so no
Application can prune or cascade-delete the only copy of the models or of the queued messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler import names
from compiler.names import BUSYBOX_IMAGE, CNPG_IMAGE, MINIO_IMAGE, RABBITMQ_IMAGE

SECCOMP = {"type": "RuntimeDefault"}


@dataclass(frozen=True)
class Chart:
    """One pinned chart and the Kubernetes kinds it renders with gpc's values."""

    role: str  # the Application's role name, e.g. "object-store"
    repo: str  # OCI repository of the chart (no tag)
    version: str  # exact chart version, never a range
    release: str  # Helm release name; with fullnameOverride it names the Services
    kinds: tuple[tuple[str, str], ...]  # (group, kind) the chart renders with the values below
    images: tuple[str, ...]  # every image the chart runs, pinned by digest (KEDA: by version, see below)
    chart: str | None = None  # the chart's name in a Helm (HTTP) repository; None: `repo` is an OCI one
    namespace: str | None = None  # its own namespace; None: the environment's infra namespace
    cluster_kinds: tuple[tuple[str, str], ...] = ()  # cluster-scoped (group, kind) it renders
    wave: int = -1  # its Application's sync wave (names the order; argocd/common.py's WAVE_*)

    @property
    def source_repo(self) -> str:
        return self.repo if self.chart is not None else f"oci://{self.repo}"

    def source(self, values: dict[str, Any]) -> dict[str, Any]:
        """The Application's source: a chart of a Helm repository, or the root of an OCI artifact."""
        where = {"chart": self.chart} if self.chart is not None else {"path": "."}
        return {"repoURL": self.source_repo, "targetRevision": self.version, **where,
                "helm": {"releaseName": self.release, "valuesObject": values}}


def _security(uid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    pod = {"fsGroup": uid, "fsGroupChangePolicy": "OnRootMismatch", "runAsNonRoot": True,
           "seccompProfile": dict(SECCOMP)}
    container = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid,
                 "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]},
                 "seccompProfile": dict(SECCOMP)}
    return pod, container


def _resources(cpu: str, memory: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}}


def _probe(initial: int, period: int, timeout: int) -> dict[str, Any]:
    return {"enabled": True, "initialDelaySeconds": initial, "periodSeconds": period, "timeoutSeconds": timeout,
            "failureThreshold": 3, "successThreshold": 1}


def _ref(image: tuple[str, str, str]) -> str:
    return f"{image[0]}/{image[1]}:{image[2]}"


OBJECT_STORE = Chart(
    role="object-store",
    repo="registry-1.docker.io/cloudpirates/minio",
    version="0.14.0",
    release=names.OBJECT_STORE_SERVICE,
    # No PersistentVolumeClaim: the data volume is Terraform's (`names.OBJECT_STORE_CLAIM`).
    kinds=(("", "Service"), ("", "ServiceAccount"), ("apps", "Deployment")),
    images=(_ref(MINIO_IMAGE),),
)

BROKER = Chart(
    role="broker",
    repo="registry-1.docker.io/cloudpirates/rabbitmq",
    version="0.21.16",
    release=names.BROKER_SERVICE,
    # With `existingClaim` the StatefulSet has no volumeClaimTemplates: the data volume is
    # Terraform's (`names.BROKER_CLAIM`).
    kinds=(("", "ConfigMap"), ("", "Service"), ("", "ServiceAccount"), ("apps", "StatefulSet")),
    images=(_ref(RABBITMQ_IMAGE), _ref(BUSYBOX_IMAGE)),
)


# CloudNativePG's operator (Apache-2.0, https://github.com/cloudnative-pg/charts), from its OCI
# registry. It syncs a wave before the databases' Clusters (its CRDs and webhooks must exist and
# be healthy first), which sync a wave before the workloads. It watches only the environment's
# infra namespace (`config.clusterWide: false`: a Role, not a ClusterRoleBinding), but a chart
# installs CRDs, webhook configurations and ClusterRoles, which are cluster-wide: environments
# that share a cluster share them (the same pinned version renders the same objects).
#
# Except in the environment that previews of a platform with databases copy: there it watches
# every namespace (`clusterWide: true`: a ClusterRole bound cluster-wide), because each preview's
# Cluster lives in the preview's own namespace, created per pull request. The chart's only other
# choice, WATCH_NAMESPACE, is a fixed comma-separated list of names (no pattern), and a preview
# cannot bring an operator of its own: an operator installs CRDs and webhooks, cluster-scoped
# kinds the previews' AppProject never admits. The wider watch is bounded where it matters: the
# operator reaches (NetworkPolicy) only its environment's instances and those of pods in this
# platform's preview namespaces, and GPC299 keeps such an environment alone on its cluster, so no
# other environment's operator reconciles the same Clusters.
DATABASE_OPERATOR = Chart(
    role="database-operator",
    repo="ghcr.io/cloudnative-pg/charts/cloudnative-pg",
    version="0.29.0",
    release=names.DATABASE_OPERATOR,
    kinds=(("", "ConfigMap"), ("", "Service"), ("", "ServiceAccount"), ("apps", "Deployment"),
           ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding")),
    images=(_ref(CNPG_IMAGE),),
    cluster_kinds=(("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
                   ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
                   ("apiextensions.k8s.io", "CustomResourceDefinition"),
                   ("rbac.authorization.k8s.io", "ClusterRole")),
    wave=-2,
)


CLUSTER_WIDE_KINDS = (("rbac.authorization.k8s.io", "ClusterRoleBinding"),)


def database_operator_values(cluster_wide: bool = False) -> dict[str, Any]:
    """`cluster_wide`: the environment that previews of databases copy (see DATABASE_OPERATOR)."""
    registry, repository, tag = CNPG_IMAGE
    return {
        "fullnameOverride": names.DATABASE_OPERATOR,
        "image": {"repository": f"{registry}/{repository}", "tag": tag, "pullPolicy": "IfNotPresent"},
        "crds": {"create": True},
        "config": {"clusterWide": cluster_wide},
        "rbac": {"create": True},
        "serviceAccount": {"create": True},
        "monitoring": {"podMonitorEnabled": False},
        "resources": _resources("100m", "256Mi"),
        "containerSecurityContext": {
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
            "runAsUser": 10001, "runAsGroup": 10001, "seccompProfile": dict(SECCOMP),
            "capabilities": {"drop": ["ALL"]}},
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": dict(SECCOMP)},
    }


def object_store_values(public_metrics: bool = False) -> dict[str, Any]:
    """`public_metrics`: the environment's Prometheus scrapes MinIO (docs/monitoring.md). MinIO's
    only other mode wants a JWT signed with an access key's secret (what `mc admin prometheus
    generate` writes), which nothing here can mint without a credential of its own; its metrics
    port is the S3 port, which the NetworkPolicy opens only to the bucket users and the Prometheus."""
    pod, container = _security(1001)
    registry, repository, tag = MINIO_IMAGE
    config: dict[str, Any] = {"browserEnabled": False}
    if public_metrics:
        config["extraEnvVars"] = [{"name": "MINIO_PROMETHEUS_AUTH_TYPE", "value": "public"}]
    return {
        "fullnameOverride": names.OBJECT_STORE_SERVICE,
        "image": {"registry": registry, "repository": repository, "tag": tag, "imagePullPolicy": "IfNotPresent"},
        "auth": {
            "existingSecret": names.OBJECT_STORE_ROOT_SECRET,
            "existingSecretUserKey": names.OBJECT_STORE_ROOT_USER_KEY,
            "existingSecretPasswordKey": names.OBJECT_STORE_ROOT_PASSWORD_KEY,
        },
        # No web console: Terraform and the workloads only speak the S3 and admin APIs.
        "config": config,
        "defaultBuckets": "",
        "replicaCount": 1,
        "service": {"type": "ClusterIP", "port": names.OBJECT_STORE_PORT},
        "resources": _resources("500m", "1Gi"),
        "persistence": {"enabled": True, "existingClaim": names.OBJECT_STORE_CLAIM},
        "podSecurityContext": pod,
        "containerSecurityContext": container,
        "serviceAccount": {"create": True, "automountServiceAccountToken": False},
        "livenessProbe": _probe(30, 10, 5),
        "readinessProbe": _probe(5, 5, 3),
    }


def broker_values() -> dict[str, Any]:
    pod, container = _security(999)
    registry, repository, tag = RABBITMQ_IMAGE
    init_registry, init_repository, init_tag = BUSYBOX_IMAGE
    return {
        "fullnameOverride": names.BROKER_SERVICE,
        "image": {"registry": registry, "repository": repository, "tag": tag, "imagePullPolicy": "IfNotPresent"},
        "initContainer": {
            "image": {"registry": init_registry, "repository": init_repository, "tag": init_tag,
                      "pullPolicy": "IfNotPresent"},
            "resources": _resources("50m", "32Mi"),
        },
        "auth": {
            "enabled": True,
            "username": names.BROKER_ADMIN_USER,
            "existingSecret": names.BROKER_ADMIN_SECRET,
            "existingPasswordKey": names.BROKER_ADMIN_PASSWORD_KEY,
            "existingErlangCookieKey": names.BROKER_ERLANG_COOKIE_KEY,
        },
        # The management API stays on: Terraform's RabbitMQ provider configures vhosts, users and
        # queues through it. One node: no peer discovery, so no RBAC and no API token.
        "managementPlugin": {"enabled": True},
        "peerDiscoveryK8sPlugin": {"enabled": False},
        "rbac": {"create": False},
        "replicaCount": 1,
        "pdb": {"create": False},
        # rabbitmq_prometheus on names.BROKER_METRICS_PORT: an environment's Prometheus scrapes it
        # with the PodMonitor the kustomize target writes; the NetworkPolicy admits only that one.
        "metrics": {"enabled": True, "port": names.BROKER_METRICS_PORT},
        "config": {"memoryHighWatermark": {"enabled": True, "type": "relative", "value": 0.4}},
        "service": {"type": "ClusterIP", "amqpPort": names.BROKER_PORT},
        "resources": _resources("500m", "1Gi"),
        "persistence": {"enabled": True, "existingClaim": names.BROKER_CLAIM},
        "podSecurityContext": pod,
        "containerSecurityContext": container,
        "serviceAccount": {"create": True, "automountServiceAccountToken": False},
        "livenessProbe": _probe(120, 30, 20),
        "readinessProbe": _probe(10, 30, 20),
    }


# KEDA (https://github.com/kedacore/charts, Apache-2.0), the chart the KEDA project publishes from its
# classic Helm repository. It is cluster infrastructure (CRDs, an external-metrics APIService, an
# admission webhook, ClusterRoles), so it gets a namespace and an Argo CD project of its own
# (targets/argocd/project.py `cluster_project`) rather than widening the workloads' project.
# Its images are pinned to the chart's app version, not by digest: no digest of them was measured
# here, and a guessed one would not pull.
KEDA_VERSION = "2.20.2"
KEDA = Chart(
    role="keda",
    repo="https://kedacore.github.io/charts",
    chart="keda",
    version=KEDA_VERSION,
    release=names.KEDA_RELEASE,
    namespace=names.KEDA_NAMESPACE,
    # With the values below (rbac.create, metricsServer and webhooks on; no cert-manager, no
    # Prometheus operator, no network policies), from the chart's templates at the pinned version.
    kinds=(("", "Service"), ("", "ServiceAccount"), ("apps", "Deployment"),
           ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding")),
    cluster_kinds=(("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
                   ("apiextensions.k8s.io", "CustomResourceDefinition"),
                   ("apiregistration.k8s.io", "APIService"),
                   ("rbac.authorization.k8s.io", "ClusterRole"),
                   ("rbac.authorization.k8s.io", "ClusterRoleBinding")),
    images=tuple(f"ghcr.io/kedacore/{name}:{KEDA_VERSION}"
                 for name in ("keda", "keda-admission-webhooks", "keda-metrics-apiserver")),
)
# The chart's metrics API server binds the API server's authentication reader Role there.
KEDA_EXTRA_NAMESPACES = ("kube-system",)


def keda_values() -> dict[str, Any]:
    components = ("operator", "metricServer", "webhooks")
    return {
        "image": {
            "keda": {"registry": "ghcr.io", "repository": "kedacore/keda", "tag": KEDA_VERSION},
            "metricsApiServer": {"registry": "ghcr.io", "repository": "kedacore/keda-metrics-apiserver",
                                 "tag": KEDA_VERSION},
            "webhooks": {"registry": "ghcr.io", "repository": "kedacore/keda-admission-webhooks",
                         "tag": KEDA_VERSION},
            "pullPolicy": "IfNotPresent",
        },
        "crds": {"install": True},
        "watchNamespace": "",  # every namespace: the workloads' ScaledObjects live in theirs
        "rbac": {"create": True},
        "podSecurityContext": {c: {"runAsNonRoot": True, "seccompProfile": dict(SECCOMP)} for c in components},
        "securityContext": {c: {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}, "seccompProfile": dict(SECCOMP)}
                            for c in components},
        "resources": {c: _resources("500m", "512Mi") for c in components},
    }


VALUES = {OBJECT_STORE.role: object_store_values, BROKER.role: broker_values,
          DATABASE_OPERATOR.role: database_operator_values, KEDA.role: keda_values}
