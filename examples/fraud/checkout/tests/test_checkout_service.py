"""The checkout process against a real broker: what it publishes, what it refuses, how it degrades."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fraud_harness import data
from fraud_harness.ports import free_port
from fraud_harness.proxy import Proxy
from fraud_harness.stack import LocalPlatform

pytestmark = pytest.mark.slow
QUEUE = "checkout-events"


def test_a_valid_transaction_is_published_persistently_and_answered(fraud: LocalPlatform, tmp_path: Path) -> None:
    hung = Proxy(free_port())
    hung.blackhole()  # inference hangs
    try:
        checkout = fraud.service("checkout", tmp_path, service_urls={"fraud-inference": hung.url},
                                 overrides={"FRAUD_TIMEOUT_SECONDS": "1"})
        checkout.start_and_wait()
        checkout.wait_ready()
        event = data.stream(1, seed=71)[0]
        started = time.monotonic()
        answer = checkout.post("/checkout", event)
        took = time.monotonic() - started
    finally:
        hung.close()
    assert answer.status_code == 200, answer.text
    assert answer.json()["fraud"] == {"available": False, "is_fraud": None,
                                      "reason": "inference did not answer within 1s"}
    assert took < 3  # bounded by FRAUD_TIMEOUT_SECONDS, not hanging
    [(properties, body)] = fraud.broker.messages(QUEUE)
    assert json.loads(body) == event
    assert properties.delivery_mode == 2 and properties.message_id == event["transaction_id"]
    assert properties.content_type == "application/json"


def test_invalid_transactions_are_refused_and_never_published(fraud: LocalPlatform, tmp_path: Path) -> None:
    checkout = fraud.service("checkout", tmp_path, service_urls={"fraud-inference": "http://127.0.0.1:9"})
    checkout.start_and_wait()
    checkout.wait_ready()
    for what, body in data.invalid_examples():
        answer = checkout.post("/checkout", body)
        assert answer.status_code == 422, what
        assert answer.json()["error"] == "invalid transaction"
        assert answer.json()["problems"][0]["message"], what
    not_json = checkout.http.post(checkout.url + "/checkout", content=b"{amount: 3")
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["error"]
    assert fraud.broker.depth(QUEUE) == 0


def test_without_a_broker_checkout_is_alive_but_not_ready(fraud: LocalPlatform, tmp_path: Path) -> None:
    nowhere = f"amqp://checkout:wrong@127.0.0.1:{free_port()}/fraud-detection"
    checkout = fraud.service("checkout", tmp_path, service_urls={"fraud-inference": "http://127.0.0.1:9"},
                             overrides={"AMQP_URL": nowhere})
    checkout.start_and_wait()
    time.sleep(0.5)
    assert checkout.get("/healthz").status_code == 200
    ready = checkout.get("/readyz")
    assert ready.status_code == 503 and ready.json()["reason"] == "no working broker connection"
    assert "wrong@" not in checkout.output()  # the password never reaches the log
