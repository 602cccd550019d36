"""Monitoring infrastructure gpc installs per environment (issue 16): the Pushgateway that jobs push
their run metrics to, in environments with `monitoring` where the platform has jobs, and the
Prometheus itself where an environment says `install: true` (kube-prometheus-stack, below).

The chart is the Prometheus community's (Apache-2.0, https://github.com/prometheus-community/helm-charts,
`charts/prometheus-pushgateway`), from its classic Helm repository, in the environment's infra
namespace like the broker. gpc decides what matters: the names (`fullnameOverride` and the release
name give the Service `names.PUSHGATEWAY_SERVICE` and the pod labels `names.PUSHGATEWAY_POD` that
the NetworkPolicy and the ServiceMonitor select), no ServiceMonitor and no NetworkPolicy of the
chart's (gpc writes both: the monitor with the Prometheus's selector labels, the policy admitting
exactly the jobs and the Prometheus), no API token, resources, non-root read-only containers.

Per-client credentials: the Pushgateway's web configuration has one set of basic-auth users for
every path, so it cannot bind a credential to a job's group; the NetworkPolicy (only this
environment's jobs reach it) and the grouping key (job = the workload's name) are what separates
the jobs. No persistence: a restart loses the last pushed run of each job until its next run
(the history stays in Prometheus).

The image is pinned to the chart's appVersion tag, not by digest: no digest of it could be
measured here, and a guessed one would not pull.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from compiler import names
from compiler.ir import Environment, Platform
from targets.argocd.charts import SECCOMP, Chart, _resources

PUSHGATEWAY_VERSION = "v1.11.3"  # the chart's appVersion at the pinned chart version
PUSHGATEWAY = Chart(
    role="pushgateway",
    repo="https://prometheus-community.github.io/helm-charts",
    chart="prometheus-pushgateway",
    version="3.8.0",
    release=names.PUSHGATEWAY_SERVICE,
    # With the values below (no persistence, no web configuration, no ServiceMonitor, no
    # NetworkPolicy, no PodDisruptionBudget), from the chart's templates at the pinned version.
    kinds=(("", "Service"), ("", "ServiceAccount"), ("apps", "Deployment")),
    images=(f"quay.io/prometheus/pushgateway:{PUSHGATEWAY_VERSION}",),
)
USER = 65534  # the image's `nobody`, the chart's default


def charts(platform: Platform, env: Environment) -> tuple[Chart, ...]:
    """The monitoring charts of `env`: the Pushgateway where its jobs push their runs."""
    if env.monitoring is None or not env.monitoring.pushgateway or "infra" not in env.namespaces:
        return ()
    return (PUSHGATEWAY,)


def pushgateway_values() -> dict[str, Any]:
    return {
        "fullnameOverride": names.PUSHGATEWAY_SERVICE,
        "image": {"repository": "quay.io/prometheus/pushgateway", "tag": PUSHGATEWAY_VERSION,
                  "pullPolicy": "IfNotPresent"},
        "service": {"type": "ClusterIP", "port": names.PUSHGATEWAY_PORT, "targetPort": names.PUSHGATEWAY_PORT,
                    "portName": "http"},
        "replicaCount": 1,
        "automountServiceAccountToken": False,
        "serviceAccount": {"create": True},
        "resources": _resources("100m", "128Mi"),
        "securityContext": {"fsGroup": USER, "runAsUser": USER, "runAsNonRoot": True, "seccompProfile": dict(SECCOMP)},
        "containerSecurityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                     "runAsNonRoot": True, "runAsUser": USER, "runAsGroup": USER,
                                     "capabilities": {"drop": ["ALL"]}, "seccompProfile": dict(SECCOMP)},
        "serviceMonitor": {"enabled": False},
        "persistentVolume": {"enabled": False},
    }


VALUES = {PUSHGATEWAY.role: pushgateway_values}


# kube-prometheus-stack (Apache-2.0, same repository, `charts/kube-prometheus-stack`), where an
# environment says `monitoring: {install: true}`: the Prometheus Operator with its CRDs, one
# Prometheus, one Alertmanager, kube-state-metrics (which gpc's job and replica alerts read) and
# Grafana (whose sidecar loads gpc's dashboard ConfigMaps from every namespace). In its own
# namespace (`monitoring.prometheus.namespace`, created by Terraform like KEDA's) and its own
# AppProject, so the workloads' project never allows CRDs or cluster roles.
#
# The Helm release is named after the selector's `release` label (semantic check GPC285), which
# the chart's own monitors and rules carry: the Prometheus selects exactly gpc's and the chart's.
# Switched off, to keep the cluster kinds to CRDs and cluster roles: node-exporter (a privileged
# DaemonSet), the control-plane exporters' Services in kube-system, and the admission webhooks
# (gpc checks its rules with promtool before they are written). Grafana's admin credentials come
# from a Secret the platform team creates (`GRAFANA_ADMIN_SECRET`): a password in the values would
# sit in Git, and a generated one would change on every render.
#
# The kinds below were read from the chart's templates and its subcharts' at the pinned version
# (no Helm binary was at hand to render them). Images: the chart's defaults, by tag.
KUBE_PROMETHEUS_STACK_VERSION = "88.5.3"
GRAFANA_ADMIN_SECRET = names.GRAFANA_ADMIN_SECRET
_RBAC = "rbac.authorization.k8s.io"
_MONITORING = "monitoring.coreos.com"
KUBE_PROMETHEUS_STACK = Chart(
    role="monitoring",
    repo="https://prometheus-community.github.io/helm-charts",
    chart="kube-prometheus-stack",
    version=KUBE_PROMETHEUS_STACK_VERSION,
    release="monitoring",  # replaced per environment by its selector's `release` label (`stack`)
    kinds=(("", "ConfigMap"), ("", "Secret"), ("", "Service"), ("", "ServiceAccount"), ("apps", "Deployment"),
           (_RBAC, "Role"), (_RBAC, "RoleBinding"), (_MONITORING, "Alertmanager"), (_MONITORING, "Prometheus"),
           (_MONITORING, "PrometheusRule"), (_MONITORING, "ServiceMonitor")),
    cluster_kinds=(("apiextensions.k8s.io", "CustomResourceDefinition"), (_RBAC, "ClusterRole"),
                   (_RBAC, "ClusterRoleBinding")),
    images=("quay.io/prometheus-operator/prometheus-operator:v0.93.1",
            "quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1",
            "quay.io/prometheus/prometheus:v3.14.0-distroless", "quay.io/prometheus/alertmanager:v0.34.0"),
)


def stack(env: Environment) -> Chart | None:
    """kube-prometheus-stack as `env` installs it (its release named by the selector), or None."""
    if env.monitoring is None or not env.monitoring.install:
        return None
    release = dict(env.monitoring.selector)["release"]
    return replace(KUBE_PROMETHEUS_STACK, release=release, namespace=env.monitoring.scraper.namespace)


def stack_values(env: Environment) -> dict[str, Any]:
    assert env.monitoring is not None
    select = {"matchLabels": dict(env.monitoring.selector)}
    everywhere: dict[str, Any] = {}  # every namespace (nil would be the Prometheus's own only)
    off = {"enabled": False}
    return {
        "crds": {"enabled": True},
        "prometheus": {"prometheusSpec": {
            "serviceMonitorSelectorNilUsesHelmValues": False, "serviceMonitorSelector": select,
            "serviceMonitorNamespaceSelector": everywhere,
            "podMonitorSelectorNilUsesHelmValues": False, "podMonitorSelector": select,
            "podMonitorNamespaceSelector": everywhere,
            "ruleSelectorNilUsesHelmValues": False, "ruleSelector": select, "ruleNamespaceSelector": everywhere,
        }},
        "alertmanager": {"alertmanagerSpec": {"alertmanagerConfigSelector": select,
                                              "alertmanagerConfigNamespaceSelector": everywhere}},
        "grafana": {"enabled": True, "admin": {"existingSecret": GRAFANA_ADMIN_SECRET},
                    "sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1",
                                               "searchNamespace": "ALL"}}},
        "kubeStateMetrics": {"enabled": True},
        "nodeExporter": off,
        "kubeControllerManager": off, "kubeEtcd": off, "kubeScheduler": off, "kubeProxy": off, "coreDns": off,
        "prometheusOperator": {"admissionWebhooks": off, "tls": off},
    }
