"""Alerting rules (PrometheusRule) derived from the spec: what gpc knows about each workload and queue
becomes the alerts an operator would otherwise write by hand.

- services: multi-window, multi-burn-rate alerts on their availability objective (the Google SRE
  workbook's pairs, scaled to the objective's window), no ready replicas, crash-looping, and no
  replica answering its scrape;
- workers: no ready replicas, crash-looping (and not answering, when scraped);
- jobs: a failed run, a run over its timeout, a GPU run waiting unscheduled, and for a CronJob no
  successful run within its longest interval plus a margin (compiler/cron_gap.py);
- queues: a growing backlog, a non-empty dead-letter queue, and (with `max_age`) an oldest message
  older than the spec allows;
- the object store (MinIO, where the platform has buckets): down, unhealthy, nodes or drives offline,
  nearly full; per bucket, a share of server errors.

The metrics come from the workloads themselves (`http_requests_total` with a `code` label, the
convention the example apps follow), kube-state-metrics (`kube_*`) and RabbitMQ's own Prometheus
endpoint (`rabbitmq_*`, per object), MinIO's (`minio_*`, its cluster and bucket endpoints) and Prometheus itself (`up`). Annotations are plain text (no templates), so what an alert
says is what the spec says. Every alert carries `team` (the owner, or `platform`) and `severity`
(`page` or `ticket`) for Alertmanager to route; an environment with `alerts: none` adds
`route: none` for a null receiver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler import names
from compiler.cron_gap import longest_gap_seconds
from compiler.ir import Bucket, Environment, Platform, Queue, Workload

API = "monitoring.coreos.com/v1"
PLATFORM_TEAM = "platform"
# (severity, long window, short window, share of the error budget spent in the long window,
# `for`): the SRE workbook's table for a 30-day objective; burn rates follow from the window.
BURN_WINDOWS = (
    ("page", "1h", "5m", 0.02, "2m"),
    ("page", "6h", "30m", 0.05, "15m"),
    ("ticket", "1d", "2h", 0.10, "1h"),
    ("ticket", "3d", "6h", 0.10, "3h"),
)
HOURS = {"5m": 5 / 60, "30m": 0.5, "1h": 1, "2h": 2, "6h": 6, "1d": 24, "3d": 72}
# A CronJob's run may start up to its starting deadline late and then take its whole budget.
UNBOUNDED_RUN_SECONDS = 3600


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    duration: str  # `for`
    severity: str
    summary: str
    labels: tuple[tuple[str, str], ...]  # what identifies the alert's subject (workload, queue)

    def rule(self, routing: dict[str, str]) -> dict[str, Any]:
        labels = {**dict(self.labels), **routing, "severity": self.severity}
        rule: dict[str, Any] = {"alert": self.name, "expr": self.expr}
        if self.duration != "0m":
            rule["for"] = self.duration
        return {**rule, "labels": dict(sorted(labels.items())), "annotations": {"summary": self.summary}}


def selector(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' if not v.startswith("~") else f'{k}=~"{v[1:]}"'
                          for k, v in labels.items()) + "}"


def routing(env: Environment, team: str | None) -> dict[str, str]:
    assert env.monitoring is not None
    out = {"team": team or PLATFORM_TEAM}
    if not env.monitoring.route_to_teams:
        out["route"] = "none"
    return out


def _ratio(requests: str, errors: str, window: str) -> str:
    return f"(sum(rate(http_requests_total{errors}[{window}])) / sum(rate(http_requests_total{requests}[{window}])))"


def slo_alerts(w: Workload, namespace: str) -> list[Alert]:
    if w.objective is None:
        return []
    budget = w.objective.error_budget
    window_hours = w.objective.window_days * 24
    requests = selector(namespace=namespace, job=w.name)
    errors = selector(namespace=namespace, job=w.name, code="~5..")
    out = []
    for severity, long, short, spent, duration in BURN_WINDOWS:
        # Below 1 (a short objective window), the pair would page on a burn the budget affords.
        rate = max(1.0, round(spent * window_hours / HOURS[long], 4))
        threshold = f"({rate:g} * {budget:g})"
        expr = (f"{_ratio(requests, errors, long)} > {threshold}\nand\n"
                f"{_ratio(requests, errors, short)} > {threshold}")
        out.append(Alert(f"ErrorBudgetBurn{long}", expr, duration, severity,
                         f"{w.name} spends its error budget ({w.objective.target:g}% over "
                         f"{w.objective.window_days}d) {rate:g} times too fast over {long} and {short}",
                         (("namespace", namespace), ("workload", w.name), ("window", long))))
    return out


def deployment_alerts(w: Workload, namespace: str) -> list[Alert]:
    subject = (("namespace", namespace), ("workload", w.name))
    ns = selector(namespace=namespace, deployment=w.name)
    out = [
        Alert("NoReadyReplicas", f"kube_deployment_status_replicas_available{ns} == 0\nand\n"
              f"kube_deployment_spec_replicas{ns} > 0", "5m", "page",
              f"{w.name} wants replicas and has none available", subject),
        Alert("CrashLooping", "max_over_time(kube_pod_container_status_waiting_reason"
              f"{selector(namespace=namespace, container=w.name, reason='CrashLoopBackOff')}[5m]) >= 1",
              "15m", "page", f"a container of {w.name} keeps crashing (CrashLoopBackOff)", subject),
    ]
    if w.metrics is not None:
        # Prometheus's own `up` per target: pods that run but whose process hangs or died answer
        # no scrape, which kube-state-metrics does not see (a Deployment scaled to nothing has no
        # target at all: NoReadyReplicas covers that).
        out.append(Alert("NotAnswering", f"max by (namespace, job) (up{selector(namespace=namespace, job=w.name)})"
                         " == 0", "5m", "page", f"no replica of {w.name} answers on its metrics endpoint", subject))
    return out


def job_names(w: Workload) -> str:
    """The Jobs of a workload: a CronJob names each run `<cronjob>-<minutes since epoch>`."""
    return f"~{w.name}-[0-9]+" if w.kind == "CronJob" else w.name


def job_alerts(w: Workload, namespace: str, gpu: bool, schedule: str | None) -> list[Alert]:
    subject = (("namespace", namespace), ("workload", w.name))
    jobs = selector(namespace=namespace, job_name=job_names(w))
    out = [Alert("JobFailed", f"kube_job_failed{selector(namespace=namespace, job_name=job_names(w), condition='true')}"
                 " == 1", "0m", "ticket", f"a run of {w.name} failed after all its retries", subject)]
    if w.timeout_seconds is not None:
        out.append(Alert("JobOverTimeout", f"(time() - kube_job_status_start_time{jobs}) > {w.timeout_seconds}\n"
                         f"and on(namespace, job_name)\nkube_job_status_active{jobs} > 0", "0m", "ticket",
                         f"a run of {w.name} is taking longer than its timeout ({_human(w.timeout_seconds)})", subject))
    if gpu:
        runs = f"{w.name}-[0-9]+" if w.kind == "CronJob" else w.name
        pods = selector(namespace=namespace, pod=f"~{runs}-[a-z0-9]{{5}}")  # a Job's pods: `<job>-<5 chars>`
        out.append(Alert("GpuJobUnscheduled", f"kube_pod_status_unschedulable{pods} == 1", "15m", "ticket",
                         f"a run of {w.name} waits for a GPU node", subject))
    if schedule is not None:
        threshold = missed_after(w, schedule)
        if threshold is not None:
            cron = selector(namespace=namespace, cronjob=w.name)
            out.append(Alert("CronJobMissedSchedule",
                             f"(time() - kube_cronjob_status_last_successful_time{cron}) > {threshold}\n"
                             f"and on(namespace, cronjob)\nkube_cronjob_spec_suspend{cron} == 0", "0m", "page",
                             f"{w.name} has not succeeded for {_human(threshold)} (schedule '{schedule}')", subject))
    return out


def _human(seconds: int) -> str:
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{n}{unit}" for n, unit in ((d, "d"), (h, "h"), (m, "m"), (s, "s")) if n) or "0s"


def missed_after(w: Workload, schedule: str) -> int | None:
    """Seconds without a successful run after which a run was missed: the schedule's longest gap,
    plus how late a run may start, plus how long it may take (all its attempts)."""
    gap = longest_gap_seconds(schedule)
    if gap is None:
        return None
    run = w.deadline_seconds if w.deadline_seconds is not None else max(gap, UNBOUNDED_RUN_SECONDS)
    return gap + (w.starting_deadline_seconds or 0) + run


def workload_alerts(w: Workload, env: Environment) -> list[Alert]:
    placement = w.placement(env.name)
    if w.kind == "Deployment":
        return slo_alerts(w, placement.namespace) + deployment_alerts(w, placement.namespace)
    schedule = str(placement.schedule.value) if placement.schedule is not None else None
    return job_alerts(w, placement.namespace, placement.effective_resources.gpu > 0, schedule)


def queue_team(platform: Platform, queue: Queue) -> str | None:
    """The team a queue's alerts go to: its consumers' (who fall behind), else None (the platform's)."""
    teams = {w.team for w in platform.consumers(queue.name) if w.team}
    return min(teams) if teams else None


def queue_alerts(platform: Platform, queue: Queue, namespace: str) -> list[Alert]:
    vhost = names.broker_vhost(platform.name)
    subject = (("namespace", namespace), ("queue", queue.name))
    ready = f"rabbitmq_queue_messages_ready{selector(vhost=vhost, queue=queue.name)}"
    out = [Alert("QueueBacklogGrowing", f"{ready} > 0\nand\ndelta({ready}[30m]) > 0", "30m", "ticket",
                 f"queue {queue.name} has kept growing for an hour: its consumers fall behind or stopped",
                 subject)]
    if queue.dead_letter_queue is not None:
        dlq = selector(vhost=vhost, queue=queue.dead_letter_queue)
        out.append(Alert("DeadLetterQueueNotEmpty", f"rabbitmq_queue_messages{dlq} > 0", "0m", "ticket",
                         f"{queue.dead_letter_queue} holds rejected or expired messages of {queue.name}",
                         subject))
    if queue.max_age_seconds is not None:
        # The head message's AMQP `timestamp` (its publisher's clock): NaN without one, so such a
        # message never counts as too old.
        head = f"rabbitmq_queue_head_message_timestamp{selector(vhost=vhost, queue=queue.name)}"
        out.append(Alert("QueueOldestMessageTooOld", f"(time() - {head}) > {queue.max_age_seconds}", "0m",
                         "ticket", f"the oldest message in queue {queue.name} has waited longer than "
                         f"{_human(queue.max_age_seconds)}: its consumers fall behind or stopped", subject))
    return out


# MinIO's own metrics (targets/kustomize/monitoring.py scrapes them), `job` = the pods' name label.
OBJECT_STORE_JOB = "minio"
NEARLY_FULL = 0.1  # share of usable capacity left
BUCKET_ERRORS = 0.05  # share of a bucket's requests answered 5xx


def object_store_alerts(namespace: str) -> list[Alert]:
    """The object store itself: every bucket is down when it is."""
    subject = (("namespace", namespace), ("object_store", names.OBJECT_STORE_SERVICE))
    job = selector(namespace=namespace, job=OBJECT_STORE_JOB)
    deployment = selector(namespace=namespace, deployment=names.OBJECT_STORE_SERVICE)
    return [
        # No target answering, or no pod to scrape at all (the target is then gone, not down).
        Alert("ObjectStoreDown", f"max by (namespace) (up{job}) == 0\nor\n"
              f"max by (namespace) (kube_deployment_status_replicas_available{deployment}) == 0", "5m", "page",
              "the object store (MinIO) does not answer: no bucket can be read or written", subject),
        Alert("ObjectStoreUnhealthy", f"min by (namespace) (minio_cluster_health_status{job}) == 0", "5m", "page",
              "the object store (MinIO) reports itself unhealthy: it lost read or write quorum", subject),
        Alert("ObjectStoreNodesOffline", f"max by (namespace) (minio_cluster_nodes_offline_total{job}) > 0", "5m",
              "page", "nodes of the object store (MinIO) are offline", subject),
        Alert("ObjectStoreDrivesOffline", f"max by (namespace) (minio_cluster_drive_offline_total{job}) > 0", "5m",
              "page", "drives of the object store (MinIO) are offline", subject),
        Alert("ObjectStoreNearlyFull", f"max by (namespace) (minio_cluster_capacity_usable_free_bytes{job})\n/\n"
              f"max by (namespace) (minio_cluster_capacity_usable_total_bytes{job}) < {NEARLY_FULL:g}", "15m",
              "ticket", f"the object store (MinIO) has less than {NEARLY_FULL:.0%} of its capacity left: "
              "writes to every bucket fail when it is full", subject),
    ]


def bucket_alerts(bucket: Bucket, namespace: str) -> list[Alert]:
    key = selector(namespace=namespace, job=OBJECT_STORE_JOB, bucket=bucket.name)
    ratio = (f"sum(rate(minio_bucket_requests_5xx_errors_total{key}[15m]))\n/\n"
             f"sum(rate(minio_bucket_requests_total{key}[15m])) > {BUCKET_ERRORS:g}")
    return [Alert("BucketServerErrors", ratio, "15m", "ticket",
                  f"more than {BUCKET_ERRORS:.0%} of the requests to bucket {bucket.name} fail with a server error",
                  (("namespace", namespace), ("bucket", bucket.name)))]


def prometheus_rule(name: str, namespace: str | None, labels: dict[str, str], alerts: list[Alert],
                    route: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if namespace is not None:
        metadata = {"name": name, "namespace": namespace, "labels": labels}
    return {"apiVersion": API, "kind": "PrometheusRule", "metadata": metadata,
            "spec": {"groups": [{"name": f"gpc.{name}", "rules": [a.rule(route) for a in alerts]}]}}
