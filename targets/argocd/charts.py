"""The shared infrastructure of an environment: pinned Helm charts for the object store and broker.

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

SECCOMP = {"type": "RuntimeDefault"}


@dataclass(frozen=True)
class Chart:
    """One pinned chart and the Kubernetes kinds it renders with gpc's values."""

    role: str  # the Application's role name, e.g. "object-store"
    repo: str  # OCI repository of the chart (no tag)
    version: str  # exact chart version, never a range
    release: str  # Helm release name; with fullnameOverride it names the Services
    kinds: tuple[tuple[str, str], ...]  # (group, kind) the chart renders with the values below
    images: tuple[str, ...]  # every image the chart runs, pinned by digest

    @property
    def source_repo(self) -> str:
        return f"oci://{self.repo}"


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


MINIO_IMAGE = ("docker.io", "cloudpirates/image-minio",
               "RELEASE.2025-10-15T17-29-55Z-hardened@sha256:8dc02a7e509336c8bbb67962086d691bdcde20a2c9327ed68e5081a681f6dbfc")
RABBITMQ_IMAGE = ("docker.io", "rabbitmq",
                  "4.3.6-management@sha256:316ffd2a847e59112eee2c65f04bbd0989d93aaf1486c07b721f8d22d863b968")
BUSYBOX_IMAGE = ("docker.io", "busybox",
                 "1.37.0@sha256:b3255e7dfbcd10cb367af0d409747d511aeb66dfac98cf30e97e87e4207dd76f")


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


def object_store_values() -> dict[str, Any]:
    pod, container = _security(1001)
    registry, repository, tag = MINIO_IMAGE
    return {
        "fullnameOverride": names.OBJECT_STORE_SERVICE,
        "image": {"registry": registry, "repository": repository, "tag": tag, "imagePullPolicy": "IfNotPresent"},
        "auth": {
            "existingSecret": names.OBJECT_STORE_ROOT_SECRET,
            "existingSecretUserKey": names.OBJECT_STORE_ROOT_USER_KEY,
            "existingSecretPasswordKey": names.OBJECT_STORE_ROOT_PASSWORD_KEY,
        },
        # No web console: Terraform and the workloads only speak the S3 and admin APIs.
        "config": {"browserEnabled": False},
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


VALUES = {OBJECT_STORE.role: object_store_values, BROKER.role: broker_values}
