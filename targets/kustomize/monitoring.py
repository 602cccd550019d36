"""What an environment with `monitoring` adds to the overlays: a ServiceMonitor or PodMonitor per
scraped workload, a PrometheusRule per workload (targets/kustomize/alerts.py) and one for the
queues, a ServiceMonitor for the jobs' Pushgateway, a PodMonitor and rules for the object store and its buckets, Grafana dashboards (targets/kustomize/dashboards.py), Alertmanager routes per team
(targets/kustomize/alertmanager.py), a PodMonitor for the broker's own metrics, and the NetworkPolicy rules that admit the
environment's Prometheus pods to exactly the metrics ports (targets/kustomize/network.py).

Every monitor and rule carries the labels the Prometheus selects them by (`monitoring.prometheus
.selector`), merged last so no gpc label can shadow them: a monitor whose labels miss the selector
is silently ignored, the most reported way monitoring fails.
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, Platform, Workload
from targets.kustomize import alertmanager, alerts, dashboards, meta
from targets.kustomize.network import BROKER_POD, OBJECT_STORE_POD

API = alerts.API
# RabbitMQ's rabbitmq_prometheus plugin (enabled in the official image): per-queue metrics on the
# per-object endpoint; the aggregated `/metrics` sums them over all queues.
BROKER_METRICS_PORT = names.BROKER_METRICS_PORT
BROKER_METRICS_PATH = "/metrics/per-object"
SCRAPE_INTERVAL = "30s"
# MinIO's Prometheus endpoints (metrics v2): the whole store, and per bucket. Served without a
# token (`MINIO_PROMETHEUS_AUTH_TYPE=public`, targets/argocd/charts.py): docs/monitoring.md says why.
OBJECT_STORE_CLUSTER_PATH = "/minio/v2/metrics/cluster"
OBJECT_STORE_BUCKET_PATH = "/minio/v2/metrics/bucket"


def _labels(base: dict[str, str], env: Environment) -> dict[str, str]:
    assert env.monitoring is not None
    return {**base, **dict(env.monitoring.selector)}


def monitor(platform: Platform, w: Workload, env: Environment) -> dict[str, Any] | None:
    if env.monitoring is None or w.metrics is None:
        return None
    labels = _labels(meta.labels(platform, w), env)
    # job = the workload's name on both kinds, which the rules select by.
    if w.metrics.monitor == "ServiceMonitor":
        endpoint: dict[str, Any] = {"port": "http", "path": w.metrics.path, "interval": SCRAPE_INTERVAL}
        spec: dict[str, Any] = {"jobLabel": meta.NAME, "selector": {"matchLabels": meta.selector(w)},
                                "endpoints": [endpoint]}
    else:
        endpoint = {"port": "metrics", "path": w.metrics.path, "interval": SCRAPE_INTERVAL}
        spec = {"jobLabel": meta.NAME, "selector": {"matchLabels": meta.selector(w)},
                "podMetricsEndpoints": [endpoint]}
    return {"apiVersion": API, "kind": w.metrics.monitor, "metadata": meta.metadata(w.name, labels), "spec": spec}


def overlay_files(platform: Platform, w: Workload, env: Environment) -> dict[str, dict[str, Any]]:
    """File name -> object, added to the workload's overlay in environments with monitoring."""
    if env.monitoring is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    mon = monitor(platform, w, env)
    if mon is not None:
        out[f"{mon['kind'].lower()}.yaml"] = mon
    rules = alerts.workload_alerts(w, env)
    if rules:
        out["prometheusrule.yaml"] = alerts.prometheus_rule(
            w.name, None, _labels(meta.labels(platform, w), env), rules, alerts.routing(env, w.team))
    # The namespace written out (the overlay sets the same): scanners read the file alone.
    out["dashboard.yaml"] = dashboards.config_map(f"{w.name}-dashboard", meta.labels(platform, w), w.name,
                                                  dashboards.workload_dashboard(platform, w, env),
                                                  namespace=w.placement(env.name).namespace)
    return out


def pushgateway_monitor(platform: Platform, env: Environment, infra: str) -> dict[str, Any]:
    """The jobs' Pushgateway, scraped with `honorLabels`: each series keeps the `job` its run pushed
    (the grouping key, the workload's name) instead of the Pushgateway's own."""
    labels = _labels({meta.NAME: names.PUSHGATEWAY_SERVICE, meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"},
                     env)
    endpoint = {"port": "http", "path": "/metrics", "interval": SCRAPE_INTERVAL, "honorLabels": True}
    return {"apiVersion": API, "kind": "ServiceMonitor",
            "metadata": {"name": names.PUSHGATEWAY_SERVICE, "namespace": infra, "labels": labels},
            "spec": {"selector": {"matchLabels": dict(names.PUSHGATEWAY_POD)}, "endpoints": [endpoint]}}


def platform_docs(platform: Platform, env: Environment) -> list[dict[str, Any]]:
    """The environment's dashboard; the broker's PodMonitor and the queues' rules, in the infra namespace."""
    if env.monitoring is None or not env.namespaces:
        return []
    home = env.namespaces.get("services") or sorted(env.namespaces.values())[0]
    routes = alertmanager.configs(platform, env, _labels({meta.NAME: alertmanager.NAME, meta.PART_OF: platform.name,
                                                          meta.MANAGED_BY: "gpc"}, env))
    board = dashboards.config_map(
        "environment-dashboard", {meta.NAME: "environment", meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"},
        "environment", dashboards.environment_dashboard(platform, env), namespace=home)
    infra = env.namespaces.get("infra")
    pushed = [pushgateway_monitor(platform, env, infra)] if infra is not None and env.monitoring.pushgateway else []
    if infra is None:
        return [board, *routes, *pushed]
    stored = object_store_docs(platform, env, infra) if platform.buckets else []
    if not platform.queues:
        return [board, *routes, *pushed, *stored]
    labels = _labels({meta.NAME: names.BROKER_SERVICE, meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"}, env)
    broker = {"apiVersion": API, "kind": "PodMonitor",
              "metadata": {"name": names.BROKER_SERVICE, "namespace": infra, "labels": labels},
              "spec": {"selector": {"matchLabels": dict(BROKER_POD)},
                       "podMetricsEndpoints": [{"portNumber": BROKER_METRICS_PORT, "path": BROKER_METRICS_PATH,
                                                "interval": SCRAPE_INTERVAL}]}}
    docs = [board, *routes, broker, *pushed]
    for queue in platform.queues:
        docs.append(alerts.prometheus_rule(f"queue-{queue.name}", infra, labels,
                                           alerts.queue_alerts(platform, queue, infra),
                                           alerts.routing(env, alerts.queue_team(platform, queue))))
    return docs + stored


def object_store_docs(platform: Platform, env: Environment, infra: str) -> list[dict[str, Any]]:
    """MinIO's PodMonitor (its cluster and per-bucket endpoints, on the S3 port: MinIO has no
    separate metrics port), the object store's rules and one rule per bucket, to its owner."""
    labels = _labels({meta.NAME: names.OBJECT_STORE_SERVICE, meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"},
                     env)
    endpoints = [{"portNumber": names.OBJECT_STORE_PORT, "path": path, "interval": SCRAPE_INTERVAL}
                 for path in (OBJECT_STORE_CLUSTER_PATH, OBJECT_STORE_BUCKET_PATH)]
    # job = the pods' name label (`minio`), which the rules and panels select by.
    monitor = {"apiVersion": API, "kind": "PodMonitor",
               "metadata": {"name": names.OBJECT_STORE_SERVICE, "namespace": infra, "labels": labels},
               "spec": {"jobLabel": meta.NAME, "selector": {"matchLabels": dict(OBJECT_STORE_POD)},
                        "podMetricsEndpoints": endpoints}}
    docs = [monitor, alerts.prometheus_rule("object-store", infra, labels, alerts.object_store_alerts(infra),
                                            alerts.routing(env, None))]
    for bucket in platform.buckets:
        docs.append(alerts.prometheus_rule(f"bucket-{bucket.name}", infra, labels,
                                           alerts.bucket_alerts(bucket, infra), alerts.routing(env, bucket.team)))
    return docs
