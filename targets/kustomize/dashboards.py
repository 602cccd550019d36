"""Grafana dashboards from the graph, as ConfigMaps the Grafana sidecar loads (label
`grafana_dashboard: "1"`; kube-prometheus-stack's sidecar must search every namespace, its
`sidecar.dashboards.searchNamespace: ALL`).

One per workload and environment: its own health (requests by status code and latency for a service,
available replicas for a long-running workload, runs for a job) and a panel per declared dependency
(the queue's depth and dead letters, the called service's errors as the caller sees its target, the
bucket's requests and server errors as MinIO counts them; a volume or database, which export no
metrics here, as a text panel saying what is used and how). One per environment with the whole
graph: every workload's health, every queue's depth and flow, the object store's health and every
bucket's size and requests.

Queries use fixed rate windows, not Grafana's `$__rate_interval`, so the tests parse each one with
promtool and check its metric names against what the exporters provide.
"""

from __future__ import annotations

import hashlib
from typing import Any

from compiler import jsonout, names
from compiler.ir import Environment, Platform, Workload
from targets.kustomize import meta
from targets.kustomize.alerts import OBJECT_STORE_JOB, selector

SIDECAR_LABEL = {"grafana_dashboard": "1"}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
WIDTH, HEIGHT = 12, 8


def _panel(title: str, queries: list[tuple[str, str]], index: int, unit: str = "short") -> dict[str, Any]:
    return {
        "type": "timeseries", "title": title, "datasource": DATASOURCE,
        "gridPos": {"x": (index % 2) * WIDTH, "y": (index // 2) * HEIGHT, "w": WIDTH, "h": HEIGHT},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": DATASOURCE}
                    for i, (expr, legend) in enumerate(queries)],
    }


def _text(title: str, content: str, index: int) -> dict[str, Any]:
    return {"type": "text", "title": title, "options": {"mode": "markdown", "content": content},
            "gridPos": {"x": (index % 2) * WIDTH, "y": (index // 2) * HEIGHT, "w": WIDTH, "h": HEIGHT}}


def health_panels(w: Workload, namespace: str, pushgateway: str | None = None
                  ) -> list[tuple[str, list[tuple[str, str]], str]]:
    """(title, [(query, legend)], unit) of a workload's own health; for a job whose runs push to the
    Pushgateway in namespace `pushgateway`, the history of its runs (each run replaces the last
    push, so the series over time are the runs)."""
    if w.kind == "Deployment":
        out = [(f"{w.name}: available replicas", [
            (f"kube_deployment_status_replicas_available{selector(namespace=namespace, deployment=w.name)}",
             "available"),
            (f"kube_deployment_spec_replicas{selector(namespace=namespace, deployment=w.name)}", "wanted")], "short")]
        if w.metrics is not None and w.type == "service":
            job = selector(namespace=namespace, job=w.name)
            out += [
                (f"{w.name}: requests by status code",
                 [(f"sum by (code) (rate(http_requests_total{job}[5m]))", "{{code}}")], "reqps"),
                (f"{w.name}: latency p95",
                 [(f"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job}[5m])))",
                   "p95")], "s"),
            ]
        return out
    runs = selector(namespace=namespace, job_name=f"~{w.name}-[0-9]+" if w.kind == "CronJob" else w.name)
    out = [(f"{w.name}: runs", [(f"sum(kube_job_status_succeeded{runs})", "succeeded pods"),
                                (f"sum(kube_job_status_failed{runs})", "failed pods"),
                                (f"sum(kube_job_status_active{runs})", "running pods")], "short")]
    if pushgateway is not None:
        pushed = selector(namespace=pushgateway, job=w.name)
        out += [(f"{w.name}: run history, outcome", [(f"job_run_success{pushed}", "succeeded (1) or failed (0)")],
                 "short"),
                (f"{w.name}: run history, duration", [(f"job_run_duration_seconds{pushed}", "duration")], "s")]
    return out


def _queue_panel(platform: Platform, queue: str) -> tuple[str, list[tuple[str, str]], str]:
    vhost = names.broker_vhost(platform.name)
    q = platform.queue(queue)
    queries = [(f"rabbitmq_queue_messages_ready{selector(vhost=vhost, queue=queue)}", "ready"),
               (f"rabbitmq_queue_messages_unacked{selector(vhost=vhost, queue=queue)}", "unacknowledged")]
    if q.dead_letter_queue is not None:
        queries.append((f"rabbitmq_queue_messages{selector(vhost=vhost, queue=q.dead_letter_queue)}", "dead letters"))
    return (f"queue {queue}", queries, "short")


def _bucket_requests(bucket: str, infra: str) -> list[tuple[str, str]]:
    key = selector(namespace=infra, job=OBJECT_STORE_JOB, bucket=bucket)
    return [(f"sum(rate(minio_bucket_requests_total{key}[5m]))", "requests"),
            (f"sum(rate(minio_bucket_requests_5xx_errors_total{key}[5m]))", "server errors (5xx)")]


def object_store_panels(platform: Platform, infra: str) -> list[tuple[str, list[tuple[str, str]], str]]:
    """The object store's health, and each bucket's size and requests (MinIO's own metrics)."""
    job = selector(namespace=infra, job=OBJECT_STORE_JOB)
    out = [("object store: capacity", [
        (f"max(minio_cluster_capacity_usable_total_bytes{job}) - max(minio_cluster_capacity_usable_free_bytes{job})",
         "used"), (f"max(minio_cluster_capacity_usable_free_bytes{job})", "free")], "bytes"),
           ("object store: health", [(f"min(minio_cluster_health_status{job})", "healthy (1)"),
                                     (f"max(minio_cluster_nodes_offline_total{job})", "nodes offline"),
                                     (f"max(minio_cluster_drive_offline_total{job})", "drives offline")], "short")]
    for b in platform.buckets:
        key = selector(namespace=infra, job=OBJECT_STORE_JOB, bucket=b.name)
        # Counted by MinIO's scanner, which walks the store in cycles: the size lags writes.
        out += [(f"bucket {b.name}: size", [(f"max(minio_bucket_usage_total_bytes{key})", "bytes")], "bytes"),
                (f"bucket {b.name}: objects", [(f"max(minio_bucket_usage_object_total{key})", "objects")], "short"),
                (f"bucket {b.name}: requests", _bucket_requests(b.name, infra), "reqps")]
    return out


def workload_dashboard(platform: Platform, w: Workload, env: Environment) -> dict[str, Any]:
    namespace = w.placement(env.name).namespace
    panels: list[dict[str, Any]] = []
    pushgateway = env.infra_namespace if env.monitoring is not None and env.monitoring.pushgateway else None
    for title, queries, unit in health_panels(w, namespace, pushgateway):
        panels.append(_panel(title, queries, len(panels), unit))
    for use in sorted(w.uses, key=lambda u: u.alias):
        if use.kind == "queue":
            title, queries, unit = _queue_panel(platform, use.target)
            panels.append(_panel(f"{use.alias}: {title} ({use.access})", queries, len(panels), unit))
        elif use.kind == "service":
            callee = platform.workload(use.target)
            ns = callee.placement(env.name).namespace
            if callee.metrics is not None:
                job = selector(namespace=ns, job=callee.name)
                panels.append(_panel(f"{use.alias}: service {callee.name}, requests by status code",
                                     [(f"sum by (code) (rate(http_requests_total{job}[5m]))", "{{code}}")],
                                     len(panels), "reqps"))
            else:
                panels.append(_text(f"{use.alias}: service {callee.name}", f"`{callee.name}` is not scraped.",
                                    len(panels)))
        elif use.kind == "bucket" and env.namespaces.get("infra") is not None:
            panels.append(_panel(f"{use.alias}: bucket {use.target} ({use.access}), requests",
                                 _bucket_requests(use.target, env.infra_namespace), len(panels), "reqps"))
        else:
            how = f"access `{use.access}`" if use.access else f"mounted at `{use.mount}`"
            panels.append(_text(f"{use.alias}: {use.kind} {use.target}",
                                f"{use.kind} `{use.target}`, {how}: no metrics are collected for it.", len(panels)))
    return _dashboard(platform, env, f"{platform.name} {env.name}: {w.name}", w.name, panels)


def environment_dashboard(platform: Platform, env: Environment) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    for w in platform.workloads_in(env.name):  # one switched off there has no placement there
        title, queries, unit = health_panels(w, w.placement(env.name).namespace)[0]
        panels.append(_panel(title, queries, len(panels), unit))
    vhost = names.broker_vhost(platform.name)
    for q in platform.queues:
        title, queries, unit = _queue_panel(platform, q.name)
        panels.append(_panel(title, queries, len(panels), unit))
        # The head message's AMQP `timestamp` (set by its publisher; NaN without one or when empty).
        # Per-queue publish and deliver counts are per channel in rabbitmq_prometheus (present only
        # while the channels are open), so the flow shown is the consumers and the net growth.
        key = selector(vhost=vhost, queue=q.name)
        panels.append(_panel(f"queue {q.name}: flow", [
            (f"time() - rabbitmq_queue_head_message_timestamp{key}", "age of the oldest message (s)"),
            (f"deriv(rabbitmq_queue_messages{key}[5m])", "net growth (messages/s)"),
            (f"rabbitmq_queue_consumers{key}", "consumers")], len(panels)))
    if platform.buckets and env.namespaces.get("infra") is not None:
        for title, queries, unit in object_store_panels(platform, env.infra_namespace):
            panels.append(_panel(title, queries, len(panels), unit))
    return _dashboard(platform, env, f"{platform.name} {env.name}", "environment", panels)


def _dashboard(platform: Platform, env: Environment, title: str, key: str,
               panels: list[dict[str, Any]]) -> dict[str, Any]:
    digest = hashlib.sha256(f"{platform.name}/{env.name}/{key}".encode()).hexdigest()[:16]
    return {
        "title": title, "uid": f"gpc-{digest}", "tags": ["gpc", platform.name, env.name], "schemaVersion": 39,
        "editable": False, "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": panels,
    }


def config_map(name: str, labels: dict[str, str], key: str, dashboard: dict[str, Any],
               namespace: str | None = None) -> dict[str, Any]:
    metadata = meta.metadata(name, {**labels, **SIDECAR_LABEL}, namespace=namespace)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
            "data": {f"{key}.json": jsonout.dumps(dashboard, 1, sort_keys=True) + "\n"}}
