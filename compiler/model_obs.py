"""The spec model of observability: where an environment's Prometheus lives (on environments), and
what a workload exposes and promises (its metrics endpoint and its objective, on workloads).

Field descriptions become editor hover text. What the model cannot judge alone (a metrics port on
a workload that has none) is checked by compiler/semantic_obs.py, so the message can say why.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from compiler.model_edges import LABEL_KEY_PATTERN, NAMESPACE_PATTERN, URL_PATH_PATTERN, Labels

# The labels kube-prometheus-stack's Prometheus selects monitors and rules by (its Helm release
# label), and the label its Prometheus pods carry: the defaults fit a release named `monitoring`.
DEFAULT_SELECTOR = {"release": "monitoring"}
DEFAULT_PROMETHEUS_PODS = {"app.kubernetes.io/name": "prometheus"}
WINDOW_PATTERN = r"^[1-9][0-9]?d$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class Prometheus(_Strict):
    """An existing Prometheus (run by the Prometheus Operator) that scrapes this environment."""

    model_config = ConfigDict(title="Prometheus")
    namespace: str = Field("monitoring", pattern=NAMESPACE_PATTERN, description="Namespace of the Prometheus "
                           "pods: the only pods admitted to the workloads' metrics ports.",
                           examples=["monitoring"])
    selector: Labels = Field(default_factory=lambda: dict(DEFAULT_SELECTOR), min_length=1,
                             json_schema_extra={"propertyNames": {"pattern": LABEL_KEY_PATTERN}},
                             description="Labels the Prometheus selects ServiceMonitors, PodMonitors and "
                             "PrometheusRules by (its `serviceMonitorSelector`, `podMonitorSelector` and "
                             "`ruleSelector`): every monitor and rule gpc writes carries them. A monitor "
                             "whose labels miss the selector is silently ignored.",
                             examples=[{"release": "monitoring"}])
    pod_labels: Labels = Field(default_factory=lambda: dict(DEFAULT_PROMETHEUS_PODS), min_length=1,
                               json_schema_extra={"propertyNames": {"pattern": LABEL_KEY_PATTERN}},
                               description="Labels of the Prometheus pods, admitted to the metrics ports.",
                               examples=[{"app.kubernetes.io/name": "prometheus"}])


class Monitoring(_Strict):
    """How this environment is monitored: gpc writes a monitor and alerting rules per workload, and
    admits the Prometheus to each metrics port."""

    model_config = ConfigDict(title="Monitoring")
    install: bool = Field(False, description="`true`: gpc installs the Prometheus (the pinned "
                          "kube-prometheus-stack chart through Argo CD: Prometheus Operator, Prometheus, "
                          "Alertmanager, kube-state-metrics, Grafana) in `prometheus.namespace`, selecting "
                          "monitors and rules by `prometheus.selector`. `false`: an existing Prometheus, "
                          "which `prometheus` describes.")
    prometheus: Prometheus = Field(default_factory=Prometheus, description="The Prometheus that scrapes "
                                   "this environment and evaluates its rules.")
    alerts: Literal["team", "none"] = Field(
        "team", description="Where alerts go: `team` labels each with the owning team (`team` of the "
        "workload, else `platform`) for Alertmanager to route; `none` labels them `route: none` for a "
        "null receiver (a dev or preview environment).",
        json_schema_extra={"markdownEnumDescriptions": [
            "Route to the owning team.", "Route to a null receiver: evaluated, never paged."]})


class Metrics(_Strict):
    """Where a workload serves Prometheus metrics."""

    model_config = ConfigDict(title="Metrics endpoint")
    port: int | None = Field(None, ge=1, le=65535, description="Port of the metrics endpoint. Defaults to a "
                             "service's port; a worker must name one.", examples=[9090])
    path: str = Field("/metrics", pattern=URL_PATH_PATTERN, description="HTTP path of the metrics endpoint.",
                      examples=["/metrics"])
    enabled: bool = Field(True, description="`false`: not scraped (no monitor, no SLO alerts).")


class Slo(_Strict):
    """An availability objective: the share of requests answered without a server error."""

    model_config = ConfigDict(title="Service level objective")
    target: float = Field(99.5, gt=50, lt=100, description="Percent of requests that succeed (not 5xx) "
                          "over `window`.", examples=[99.9])
    window: str = Field("30d", pattern=WINDOW_PATTERN, description="The objective's window, in days.",
                        examples=["28d"])

