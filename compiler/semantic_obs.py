"""Semantic checks of observability (GPC280-289): what the spec model cannot judge alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import names
from compiler.model import Job, Platform, Worker, duration_seconds
from compiler.model_obs import DEFAULT_PROMETHEUS_PODS

if TYPE_CHECKING:
    from compiler.semantic import Reporter

# Labels gpc sets on every object it writes, per workload or per Argo CD application: a Prometheus
# selecting by one of them would select some monitors or none.
OWN_LABELS = (names.LABEL_INSTANCE, names.LABEL_NAME, names.LABEL_COMPONENT)


def check_monitoring(spec: Platform, report: Reporter) -> None:
    installs: dict[str, str] = {}  # cluster -> the environment that installs monitoring there
    for env_name, env in spec.environments.items():
        if env.monitoring is None:
            continue
        where = ("environments", env_name, "monitoring")
        if env.monitoring.install and "pod_labels" in env.monitoring.prometheus.model_fields_set \
                and env.monitoring.prometheus.pod_labels != DEFAULT_PROMETHEUS_PODS:
            report("GPC283", f"environment '{env_name}' installs its Prometheus, whose pods carry the labels the "
                   "Prometheus Operator gives them, not the pod_labels given here",
                   (*where, "prometheus", "pod_labels"), key=True,
                   hint="remove 'pod_labels' (gpc admits the installed Prometheus's pods to the metrics ports)")
        selector = env.monitoring.prometheus.selector
        if env.monitoring.install and list(selector) != ["release"]:
            report("GPC285", f"environment '{env_name}' installs its Prometheus, which selects monitors and rules "
                   "by the label `release` alone (the chart's own monitors carry it, named after the Helm release)",
                   (*where, "prometheus", "selector"), key=True,
                   hint="select by 'release: monitoring' (gpc names the Helm release after its value)")
        if env.monitoring.install:
            other = installs.setdefault(env.cluster, env_name)
            if other != env_name:
                report("GPC284", f"environments '{other}' and '{env_name}' share the cluster {env.cluster} and both "
                       "install monitoring: two releases would fight over the same CRDs and cluster roles",
                       (*where, "install"), key=True,
                       hint=f"install it in '{other}' only, and name that Prometheus here ('install: false')")
        for key in env.monitoring.prometheus.selector:
            if key in OWN_LABELS:
                report("GPC280", f"prometheus selector label '{key}' of environment '{env_name}' is one gpc sets "
                       "per workload, so no monitor could carry the one value the selector asks for",
                       ("environments", env_name, "monitoring", "prometheus", "selector", key), key=True,
                       hint="select by a label of the Prometheus's own, such as 'release: monitoring'")
    for wname, w in spec.workloads.items():
        metrics = w.metrics
        if metrics is None or not metrics.enabled:
            continue
        where = ("workloads", wname, "metrics")
        if isinstance(w, Job):
            report("GPC281", f"job '{wname}' declares metrics, but a job's runs are not scraped", where, key=True,
                   hint="remove 'metrics': gpc watches a job's runs through kube-state-metrics")
        elif isinstance(w, Worker) and metrics.port is None:
            report("GPC282", f"worker '{wname}' declares metrics without a port, and a worker has no port of "
                   "its own to scrape", where, key=True, hint="add 'port: 9090' (the port its metrics are on)")
    for qname, queue in spec.messaging.queues.items():
        if queue.max_age is not None and queue.message_ttl is not None \
                and duration_seconds(queue.max_age) >= duration_seconds(queue.message_ttl):
            report("GPC286", f"queue '{qname}' alerts when a message is {queue.max_age} old, but its message_ttl "
                   f"({queue.message_ttl}) expires every message before that", ("messaging", "queues", qname,
                                                                              "max_age"),
                   hint=f"make max_age shorter than {queue.message_ttl}, or remove it")
