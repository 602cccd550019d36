"""The cluster's operators gpc installs through Argo CD: External Secrets Operator and Stakater Reloader.

Both are pinned charts from their projects' own Helm repositories (External Secrets:
https://charts.external-secrets.io, Reloader: https://stakater.github.io/stakater-charts), in the
environment's infra namespace, one wave before the shared infrastructure, so their CRDs and
controllers exist before anything uses them.

External Secrets Operator runs when a workload takes its secrets from a store: the controller only,
no admission webhook and no certificate controller (nothing to reach from the API server), and only
the kinds gpc writes (ClusterSecretStore, ExternalSecret): cluster external secrets, push secrets and
generators are neither installed nor watched, so a `PushSecret` cannot copy a Secret out of the
cluster through it.

Reloader runs when a long-running workload reads a Secret. It restarts exactly the Deployments that
carry `secret.reloader.stakater.com/reload: <their Secrets>` (never `auto`: a Secret nobody named
restarts nothing), with the `annotations` strategy, which Reloader documents for GitOps: it writes
an annotation on the pod template instead of an environment variable (see targets/argocd/apps.py for
how Argo CD leaves it alone). Jobs and CronJobs are ignored: every run reads its Secrets at start,
and Reloader would otherwise start an unplanned run of a CronJob on each rotation.

Both are cluster-wide. When environments share a cluster, the first of them (in spec order)
installs them and they serve the others (`ir.Platform.operators`).

Images are pinned by the exact tag of the chart's release (its appVersion); digests could not be
looked up where this was written and are to be added like the broker's.
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, Platform
from targets.argocd.charts import SECCOMP, Chart, _resources

_RBAC = "rbac.authorization.k8s.io"
_CLUSTER_RBAC = ((_RBAC, "ClusterRole"), (_RBAC, "ClusterRoleBinding"))

EXTERNAL_SECRETS = Chart(
    role="external-secrets",
    repo="https://charts.external-secrets.io",
    chart="external-secrets",
    version="2.9.0",
    release=names.EXTERNAL_SECRETS,
    kinds=(("", "ServiceAccount"), ("apps", "Deployment"), (_RBAC, "Role"), (_RBAC, "RoleBinding")),
    cluster_kinds=(("apiextensions.k8s.io", "CustomResourceDefinition"), *_CLUSTER_RBAC),
    images=("ghcr.io/external-secrets/external-secrets:v2.9.0",),
)

RELOADER = Chart(
    role="reloader",
    repo="https://stakater.github.io/stakater-charts",
    chart="reloader",
    version="2.2.16",
    release=names.RELOADER,
    kinds=(("", "ServiceAccount"), ("apps", "Deployment")),
    cluster_kinds=_CLUSTER_RBAC,
    images=("ghcr.io/stakater/reloader:v1.4.21",),
)

CHARTS = {names.EXTERNAL_SECRETS: EXTERNAL_SECRETS, names.RELOADER: RELOADER}


def operator_charts(platform: Platform, env: Environment) -> tuple[Chart, ...]:
    return tuple(CHARTS[name] for name in platform.operators(env))


def _container_security(uid: int) -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True,
            "runAsNonRoot": True, "runAsUser": uid, "seccompProfile": dict(SECCOMP)}


def external_secrets_values() -> dict[str, Any]:
    return {
        "image": {"repository": "ghcr.io/external-secrets/external-secrets", "tag": "v2.9.0",
                  "pullPolicy": "IfNotPresent"},
        "installCRDs": True,
        "crds": {"createClusterExternalSecret": False, "createClusterGenerator": False,
                 "createClusterPushSecret": False, "createPushSecret": False, "conversion": {"enabled": False}},
        # gpc writes ClusterSecretStores and ExternalSecrets only; nothing else is reconciled.
        "processClusterExternalSecret": False,
        "processClusterPushSecret": False,
        "processPushSecret": False,
        "processClusterGenerator": False,
        "processSecretStore": False,
        "processClusterStore": True,
        "webhook": {"create": False},
        "certController": {"create": False},
        "replicaCount": 1,
        "serviceAccount": {"create": True, "automount": True},  # it talks to the API server
        "resources": _resources("100m", "256Mi"),
        "podSecurityContext": {"enabled": True, "runAsNonRoot": True, "seccompProfile": dict(SECCOMP)},
        "securityContext": {"enabled": True, **_container_security(1000)},
    }


def reloader_values() -> dict[str, Any]:
    return {
        "image": {"repository": "ghcr.io/stakater/reloader", "tag": "v1.4.21", "pullPolicy": "IfNotPresent"},
        "reloader": {
            "autoReloadAll": False,
            "reloadStrategy": "annotations",
            "ignoreConfigMaps": True,
            "ignoreJobs": True,
            "ignoreCronJobs": True,
            "watchGlobally": True,
            "readOnlyRootFileSystem": True,
            "deployment": {
                "replicas": 1,
                "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": dict(SECCOMP)},
                "containerSecurityContext": _container_security(65534),
                "resources": _resources("50m", "128Mi"),
            },
        },
    }


VALUES = {EXTERNAL_SECRETS.role: external_secrets_values, RELOADER.role: reloader_values}
