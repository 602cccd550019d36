"""Semantic checks of observability (GPC280-289): what the spec model cannot judge alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import names
from compiler.model import Job, Platform, Worker

if TYPE_CHECKING:
    from compiler.semantic import Reporter

# Labels gpc sets on every object it writes, per workload or per Argo CD application: a Prometheus
# selecting by one of them would select some monitors or none.
OWN_LABELS = (names.LABEL_INSTANCE, names.LABEL_NAME, names.LABEL_COMPONENT)


def check_monitoring(spec: Platform, report: Reporter) -> None:
    for env_name, env in spec.environments.items():
        if env.monitoring is None:
            continue
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
