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


def test_a_full_queue_refuses_the_transaction_with_a_clear_error_until_there_is_room(fraud: LocalPlatform,
                                                                                     tmp_path: Path) -> None:
    checkout = fraud.service("checkout", tmp_path, service_urls={"fraud-inference": "http://127.0.0.1:9"})
    checkout.start_and_wait()
    checkout.wait_ready()
    # The trainer has stopped: the queue fills up to the spec's bound, then the broker refuses
    # (x-overflow: reject-publish answers the publish with basic.nack).
    arguments = next(q.arguments for q in fraud.plan.queues if q.name == QUEUE)
    assert arguments["x-overflow"] == "reject-publish"
    assert fraud.broker.fill(QUEUE) == arguments["x-max-length-bytes"] // 2**20
    event = data.stream(1, seed=73)[0]
    started = time.monotonic()
    answer = checkout.post("/checkout", event)
    assert time.monotonic() - started < 3  # refused at once, not held until the publish deadline
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "60"
    assert answer.json() == {"status": "not_accepted", "transaction_id": event["transaction_id"],
                             "error": f"queue {QUEUE!r} is full; the broker refused the message",
                             "reason": "queue_full", "hint": "retry later with the same transaction_id"}
    assert checkout.get("/readyz").status_code == 200  # the connection is fine; only the queue is full
    assert "is full" in checkout.output()
    # The consumer catches up: the same transaction, retried, goes through.
    fraud.broker.purge()
    answer = checkout.post("/checkout", event)
    assert answer.status_code == 200, answer.text
    [(properties, body)] = fraud.broker.messages(QUEUE)
    assert properties.message_id == event["transaction_id"] and json.loads(body) == event
