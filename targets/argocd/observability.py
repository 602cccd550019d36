"""Monitoring infrastructure gpc installs per environment (issue 16): the Pushgateway that jobs push
their run metrics to, in environments with `monitoring` where the platform has jobs.

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
