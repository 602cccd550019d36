"""Scripted transactions: mostly legitimate, some fraudulent (with labels), a few invalid."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

CATEGORIES = ("groceries", "fuel", "restaurants", "travel", "electronics", "gift_cards")
HOME = ("DE", "FR", "NL")
ABROAD = ("US", "BR", "NG", "RU")


def transaction(rng: random.Random, fraud: bool, when: datetime, labelled: bool = True) -> dict[str, Any]:
    """A transaction shaped like fraud (large, card not present, risky category, abroad, at night)
    or like ordinary spending. Patterns overlap, so the model has something to learn."""
    if fraud:
        amount = round(rng.lognormvariate(5.6, 1.0), 2)
        category = rng.choice(("electronics", "gift_cards", "travel", *CATEGORIES))
        country = rng.choice(ABROAD + HOME)
        card_present = rng.random() < 0.3
        when = when.replace(hour=rng.choice((1, 2, 3, 4, 10, 13, 18, 22)))
    else:
        amount = round(rng.lognormvariate(3.9, 1.0), 2)
        category = rng.choice((*CATEGORIES[:4], "electronics"))
        country = rng.choice(HOME * 4 + ABROAD[:1])
        card_present = rng.random() < 0.75
        when = when.replace(hour=rng.randint(7, 22))
    event: dict[str, Any] = {
        "transaction_id": f"tx-{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}",
        "user_id": f"user-{rng.randint(1, 400):04d}",
        "amount": min(amount, 999_999.0),
        "currency": "EUR",
        "merchant_category": category,
        "country": country,
        "card_present": card_present,
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if labelled:
        event["label"] = fraud
    return event


def stream(count: int, fraud_rate: float = 0.2, seed: int = 7, labelled: bool = True,
           start: datetime | None = None) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = start or datetime(2026, 11, 1, tzinfo=UTC)
    return [transaction(rng, rng.random() < fraud_rate, start + timedelta(days=i // 50, minutes=i), labelled)
            for i in range(count)]


def invalid_examples() -> list[tuple[str, dict[str, Any]]]:
    """(what is wrong, body) pairs that the queue's message_schema rejects."""
    good = stream(1, seed=99)[0]
    return [
        ("amount is negative", {**good, "transaction_id": "bad-1", "amount": -5}),
        ("currency is not ISO 4217 shaped", {**good, "transaction_id": "bad-2", "currency": "euro"}),
        ("user_id is missing", {k: v for k, v in good.items() if k != "user_id"} | {"transaction_id": "bad-3"}),
        ("an unknown field", {**good, "transaction_id": "bad-4", "userId": "legacy-client"}),
        ("timestamp is not a date-time", {**good, "transaction_id": "bad-5", "timestamp": "yesterday"}),
    ]
