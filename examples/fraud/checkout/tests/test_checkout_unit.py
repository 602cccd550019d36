"""Checkout units: configuration, schema problems, the bounded call to inference."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fraud_checkout import verdict
from fraud_checkout.config import ConfigError, from_env, redact
from fraud_checkout.schema import load_validator, problems
from fraud_harness import data, plan
from fraud_harness.ports import free_port
from fraud_harness.proxy import Proxy

CONTRACT = {name: value for name, value, _ in plan.contract(plan.SPEC, "checkout")}


def test_settings_come_from_the_contract_variables() -> None:
    settings = from_env(CONTRACT)
    assert settings.port == 8080 and settings.queue == "checkout-events"
    assert settings.exchange == "checkout-events.exchange"
    assert settings.fraud_timeout_seconds == 2.0 and settings.fraud_url == "http://127.0.0.1:8000"
    with pytest.raises(ConfigError, match="AMQP_URL, EVENTS_EXCHANGE, EVENTS_QUEUE"):
        from_env({k: v for k, v in CONTRACT.items() if k not in ("AMQP_URL", "EVENTS_EXCHANGE", "EVENTS_QUEUE")})
    with pytest.raises(ConfigError, match="FRAUD_TIMEOUT_SECONDS"):
        from_env({**CONTRACT, "FRAUD_TIMEOUT_SECONDS": "soon"})


def test_logs_never_show_the_broker_password() -> None:
    assert redact("amqp://checkout:s3cr%2Ft@rabbitmq:5672/fraud-detection") == \
        "amqp://checkout:***@rabbitmq:5672/fraud-detection"


def test_problems_name_the_offending_field() -> None:
    validator = load_validator(CONTRACT["EVENTS_MESSAGE_SCHEMA"])
    assert problems(validator, data.stream(1)[0]) == []
    fields = {what: [p["field"] for p in problems(validator, body)] for what, body in data.invalid_examples()}
    assert fields == {
        "amount is negative": ["amount"],
        "currency is not ISO 4217 shaped": ["currency"],
        "user_id is missing": ["user_id"],
        "an unknown field": ["userId"],
        "timestamp is not a date-time": ["timestamp"],
    }
    assert problems(validator, ["not", "an", "object"])[0]["field"] == "(message)"


def _ask(url: str, timeout: float) -> tuple[dict[str, object], float]:
    async def go() -> dict[str, object]:
        async with httpx.AsyncClient() as client:
            return await verdict.ask(client, url, {"amount": 1}, timeout)

    started = time.monotonic()
    answer = asyncio.run(go())
    return answer, time.monotonic() - started


def test_an_unreachable_inference_is_reported_at_once() -> None:
    answer, took = _ask(f"http://127.0.0.1:{free_port()}", timeout=5)
    assert answer["available"] is False and "unreachable" in str(answer["reason"])
    assert took < 2


def test_a_hung_inference_is_cut_off_at_the_timeout() -> None:
    hung = Proxy(free_port())
    hung.blackhole()  # accepts the connection, never answers
    try:
        answer, took = _ask(hung.url, timeout=0.5)
    finally:
        hung.close()
    assert answer == {"available": False, "is_fraud": None, "reason": "inference did not answer within 0.5s"}
    assert 0.4 < took < 2
