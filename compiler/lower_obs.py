"""Lowering of observability: an environment's Prometheus, a workload's metrics endpoint and its
objective (spec model: compiler/model_obs.py)."""

from __future__ import annotations

from compiler.ir import Monitoring, Objective, Peer, Scrape
from compiler.model import AnyWorkload, Environment, Service
from compiler.model import Platform as Spec


def monitoring(env: Environment, jobs: bool) -> Monitoring | None:
    """`jobs`: the platform has jobs, whose runs end before a scrape could read them, so they push
    to a Pushgateway gpc installs (the infra namespace exists then: see `needs_infra`)."""
    spec = env.monitoring
    if spec is None:
        return None
    prometheus = spec.prometheus
    scraper = Peer(prometheus.namespace, tuple(sorted(prometheus.pod_labels.items())), "Prometheus")
    return Monitoring(tuple(sorted(prometheus.selector.items())), scraper, spec.alerts == "team", jobs,
                      spec.install)


def needs_infra(spec: Spec) -> bool:
    """An environment with monitoring runs the jobs' Pushgateway in the infra namespace."""
    return any(w.type == "job" for w in spec.workloads.values()) and \
        any(e.monitoring is not None for e in spec.environments.values())


def metrics(w: AnyWorkload) -> Scrape | None:
    """A service is scraped on its port at /metrics unless it says otherwise; a worker only when it
    names a port (it has no port of its own); a job is never scraped (it pushes)."""
    if w.type == "job" or (w.metrics is not None and not w.metrics.enabled):
        return None
    port = w.metrics.port if w.metrics is not None else None
    path = w.metrics.path if w.metrics is not None else "/metrics"
    if port is None and isinstance(w, Service):
        port = w.port
    if port is None:
        return None
    return Scrape(port, path, "ServiceMonitor" if isinstance(w, Service) and port == w.port else "PodMonitor")


def objective(w: AnyWorkload) -> Objective | None:
    if not isinstance(w, Service) or metrics(w) is None:
        return None
    return Objective(w.slo.target, int(w.slo.window.rstrip("d")))
