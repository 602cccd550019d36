"""The run metrics of one training run, pushed to the environment's Pushgateway (`PUSHGATEWAY_URL`,
in the wiring contract of jobs in environments with monitoring) when the run ends.

A job's pod is gone before Prometheus could scrape it, so it pushes: one group per job (grouping
key `job` = the workload's name, `OTEL_SERVICE_NAME`), replaced by each run, which Prometheus
scrapes from the Pushgateway; the history of runs is the history of those series. The names of
the first three follow gpc's job-run convention (docs/monitoring.md), which gpc's run-history
dashboard panel reads; the rest are the trainer's own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

log = logging.getLogger("fraud_trainer")


@dataclass
class Run:
    """What one run did, filled in as it goes."""

    models_stored: int = 0
    dataset_size: int | None = None  # samples the newest model was trained on
    model_version: str | None = None
    roc_auc: float | None = None  # on the held-out quarter, when each class had enough examples
    extra: dict[str, float] = field(default_factory=dict)


def registry(run: Run, succeeded: bool, seconds: float, finished: float) -> CollectorRegistry:
    reg = CollectorRegistry()
    Gauge("job_run_success", "1 if the last run succeeded, 0 if it failed", registry=reg).set(int(succeeded))
    Gauge("job_run_duration_seconds", "How long the last run took", registry=reg).set(seconds)
    Gauge("job_run_finished_timestamp_seconds", "When the last run ended (Unix time)", registry=reg).set(finished)
    Gauge("fraud_trainer_models_stored", "Model versions the last run stored", registry=reg).set(run.models_stored)
    if run.dataset_size is not None:
        Gauge("fraud_trainer_dataset_size", "Samples the newest model was trained on",
              registry=reg).set(run.dataset_size)
    if run.roc_auc is not None:
        Gauge("fraud_trainer_evaluation_roc_auc", "ROC AUC of the newest model on its held-out quarter",
              registry=reg).set(run.roc_auc)
    if run.model_version is not None:
        Gauge("fraud_trainer_model_info", "The model version the last run stored (always 1)", ["model_version"],
              registry=reg).labels(run.model_version).set(1)
    return reg


def push(url: str, job: str, run: Run, succeeded: bool, seconds: float, finished: float) -> None:
    """Replace the job's group on the Pushgateway. A Pushgateway that is down costs the run its
    metrics, never its outcome: the model is stored either way."""
    try:
        push_to_gateway(url, job=job, registry=registry(run, succeeded, seconds, finished), timeout=10)
    except OSError as e:
        log.warning("could not push the run metrics to %s: %s", url, e)
