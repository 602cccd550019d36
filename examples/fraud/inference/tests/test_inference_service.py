"""The inference process against a real S3 server: not ready without a model, hot reload, outages."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fraud_harness import data
from fraud_harness.processes import wait_for
from fraud_harness.proxy import Proxy
from fraud_harness.stack import LocalPlatform
from fraud_trainer import model, store

pytestmark = pytest.mark.slow
BUCKET = "fraud-models"
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _publish_model(fraud: LocalPlatform, when: datetime, fraud_rate: float = 0.2, complete: bool = True) -> str:
    """Store a model version the way the trainer does, with the trainer's own identity."""
    version = store.new_version(when)
    document, metadata = model.train(data.stream(120, fraud_rate=fraud_rate, seed=81), version, when)
    s3 = fraud.store.client_for("fraud-trainer")
    if complete:
        store.put_version(s3, BUCKET, version, document, metadata)
    else:
        body = b'{"format": "gpc-fraud-model/1"}'
        s3.put_object(BUCKET, f"models/{version}/model.json", io.BytesIO(body), len(body))
    return version


def test_not_ready_without_a_model_then_ready_without_a_restart(fraud: LocalPlatform, tmp_path: Path) -> None:
    inference = fraud.service("fraud-inference", tmp_path, overrides={"MODEL_POLL_SECONDS": "0.2"})
    inference.start_and_wait()
    transaction = data.stream(1, seed=82)[0]
    ready = inference.get("/readyz")
    assert ready.status_code == 503 and ready.json()["reason"] == "no model in bucket 'fraud-models' yet"
    predict = inference.post("/predict", transaction)
    assert predict.status_code == 503 and predict.json()["error"] == "no model available yet"
    assert predict.headers["retry-after"] == "1"

    incomplete = _publish_model(fraud, T0, complete=False)  # model.json without metadata.json: not a version yet
    first = _publish_model(fraud, T0 - timedelta(days=1))
    assert incomplete > first
    inference.wait_ready(timeout=10)
    served = inference.post("/predict", transaction).json()
    assert served["model_version"] == first and 0 <= served["score"] <= 1
    assert inference.get("/model").json()["metadata"]["n_samples"] == 120

    second = _publish_model(fraud, T0 + timedelta(hours=1), fraud_rate=0.0)  # newer: a constant model
    wait_for("the newer model", lambda: inference.post("/predict", transaction).json()["model_version"] == second,
             10, inference)
    assert inference.post("/predict", transaction).json()["score"] == 0.0
    assert inference.alive() and "refusing model version" not in inference.output()


def test_a_broken_newer_version_is_refused_and_the_current_one_kept(fraud: LocalPlatform, tmp_path: Path) -> None:
    good = _publish_model(fraud, T0)
    inference = fraud.service("fraud-inference", tmp_path, overrides={"MODEL_POLL_SECONDS": "0.2"})
    inference.start_and_wait()
    inference.wait_ready()
    s3 = fraud.store.client_for("fraud-trainer")
    broken = store.new_version(T0 + timedelta(hours=1))
    for name, body in (("model.json", b'{"format": "gpc-fraud-model/1", "kind": "logistic_regression"}'),
                       ("metadata.json", b"{}")):
        s3.put_object(BUCKET, f"models/{broken}/{name}", io.BytesIO(body), len(body))
    wait_for("the refusal", lambda: f"refusing model version {broken}" in inference.output(), 10, inference)
    assert inference.get("/readyz").json()["model_version"] == good


def test_an_object_store_outage_does_not_stop_predictions(fraud: LocalPlatform, tmp_path: Path) -> None:
    version = _publish_model(fraud, T0)
    link = Proxy(fraud.store.s3_port)
    try:
        inference = fraud.service("fraud-inference", tmp_path,
                                  overrides={"MODEL_POLL_SECONDS": "0.2", "S3_ENDPOINT": link.url})
        inference.start_and_wait()
        inference.wait_ready()
        link.refuse()  # the store goes away
        wait_for("the outage to be noticed", lambda: inference.get("/readyz").json()["store_error"], 10, inference)
        answer = inference.post("/predict", data.stream(1, seed=83)[0])
        assert answer.status_code == 200 and answer.json()["model_version"] == version
        assert inference.get("/readyz").status_code == 200
        link.forward()  # and comes back
        wait_for("recovery", lambda: inference.get("/readyz").json()["store_error"] is None, 10, inference)
    finally:
        link.close()
    assert inference.alive() and "cannot check bucket" in inference.output()


def _requests_total(text: str, route: str, code: str) -> float:
    """The `http_requests_total` sample of a route and status code in a Prometheus exposition."""
    import re

    pattern = rf'^http_requests_total\{{(?=[^}}]*route="{re.escape(route)}")(?=[^}}]*code="{code}")[^}}]*\}} (\S+)$'
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def test_requests_are_counted_by_status_code_where_prometheus_scrapes(fraud: LocalPlatform, tmp_path: Path) -> None:
    """The metrics gpc's availability alerts read (http_requests_total by code, on GET /metrics at
    the service's port, its ServiceMonitor's endpoint): each answer counted under its status code."""
    _publish_model(fraud, T0 - timedelta(days=2))
    inference = fraud.service("fraud-inference", tmp_path, overrides={"MODEL_POLL_SECONDS": "0.2"})
    inference.start_and_wait()
    inference.wait_ready(timeout=10)
    transaction = data.stream(1, seed=83)[0]
    for _ in range(3):
        assert inference.post("/predict", transaction).status_code == 200
    bad = inference.post("/predict", {"amount": "a lot"})
    assert bad.status_code // 100 == 4
    exposition = inference.get("/metrics")
    assert exposition.status_code == 200 and exposition.headers["content-type"].startswith("text/plain")
    text = exposition.text
    assert _requests_total(text, "/predict", "200") == 3
    assert _requests_total(text, "/predict", str(bad.status_code)) == 1
    assert 'http_request_duration_seconds_bucket{le="0.005",method="POST",route="/predict"}' in text
