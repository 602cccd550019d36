"""End to end on a real broker and S3 server: transactions in, model trained, predictions out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fraud_harness import data
from fraud_harness.stack import LocalPlatform

pytestmark = pytest.mark.slow
QUEUE, BUCKET = "checkout-events", "fraud-models"


def test_transactions_in_model_trained_predictions_out(fraud: LocalPlatform, tmp_path: Path) -> None:
    inference = fraud.service("fraud-inference", tmp_path, overrides={"MODEL_POLL_SECONDS": "0.3"})
    inference.start_and_wait()
    checkout = fraud.service("checkout", tmp_path, service_urls={"fraud-inference": inference.url})
    checkout.start_and_wait()
    checkout.wait_ready()

    # No model yet: checkout still accepts and says why there is no verdict; inference is not ready.
    assert inference.get("/readyz").status_code == 503
    history = data.stream(240, fraud_rate=0.2, seed=21)
    for event in history:
        answer = checkout.post("/checkout", event)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "accepted"
        assert answer.json()["fraud"]["available"] is False
    assert "no model available yet" in answer.json()["fraud"]["reason"]
    for what, body in data.invalid_examples():
        answer = checkout.post("/checkout", body)
        assert answer.status_code == 422, what
        assert answer.json()["problems"], what
    assert fraud.broker.depth(QUEUE) == len(history)  # invalid transactions never reach the queue

    trainer = fraud.trainer(tmp_path / "trainer.log", tmp_path / "scratch")
    assert trainer.run() == 0, trainer.tail()
    assert fraud.broker.depth(QUEUE) == 0

    admin = fraud.store.admin()
    keys = sorted(o.object_name for o in admin.list_objects(BUCKET, prefix="models/", recursive=True))
    version = keys[0].split("/")[1]
    assert keys == [f"models/{version}/metadata.json", f"models/{version}/model.json"]
    metadata = json.loads(admin.get_object(BUCKET, keys[0]).read())
    assert metadata["n_samples"] == len(history) and metadata["label_source"] == "label"
    assert metadata["class_balance"]["fraud"] == sum(e["label"] for e in history)
    assert json.loads(admin.get_object(BUCKET, keys[1]).read())["kind"] == "logistic_regression"

    inference.wait_ready(timeout=15)  # picked up without a restart
    fresh = data.stream(40, fraud_rate=0.5, seed=22)
    verdicts = [checkout.post("/checkout", e).json()["fraud"] for e in fresh]
    assert all(v["available"] and v["model_version"] == version for v in verdicts), verdicts[:3]
    correct = sum(v["is_fraud"] == e["label"] for v, e in zip(verdicts, fresh, strict=True))
    assert correct >= 0.8 * len(fresh), [(v["score"], e["label"]) for v, e in zip(verdicts, fresh, strict=True)]
