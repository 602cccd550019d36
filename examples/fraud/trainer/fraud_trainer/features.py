"""Features of a transaction. The inference service computes the same ones from the names and
vocabularies stored in model.json; tests/test_fraud_contract.py checks both sides agree."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import numpy as np

NUMERIC = ("amount", "log_amount", "card_present", "card_present_unknown", "night_time")
CATEGORICAL = ("merchant_category", "country")
OTHER = "<other>"
MAX_VOCABULARY = 30
MIN_COUNT = 2  # a category seen once would be a feature fitted to one transaction


def utc_hour(timestamp: Any) -> int | None:
    if not isinstance(timestamp, str):
        return None
    try:
        parsed = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).hour


def numeric(name: str, event: dict[str, Any]) -> float:
    if name == "amount":
        return float(event["amount"])
    if name == "log_amount":
        return math.log1p(float(event["amount"]))
    if name == "card_present":
        return 1.0 if event.get("card_present") is True else 0.0
    if name == "card_present_unknown":
        return 0.0 if isinstance(event.get("card_present"), bool) else 1.0
    if name == "night_time":  # 00:00-05:59 UTC
        hour = utc_hour(event.get("timestamp"))
        return 1.0 if hour is not None and hour < 6 else 0.0
    raise KeyError(name)


def spec(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Feature names and, per categorical field, the values common enough to get their own column."""
    categorical = {}
    for field in CATEGORICAL:
        counts = Counter(e[field] for e in events if isinstance(e.get(field), str))
        common = [v for v, n in counts.most_common(MAX_VOCABULARY) if n >= MIN_COUNT]
        categorical[field] = sorted(common)
    return {"numeric": list(NUMERIC), "categorical": categorical}


def names(feature_spec: dict[str, Any]) -> list[str]:
    columns = list(feature_spec["numeric"])
    for field, vocabulary in sorted(feature_spec["categorical"].items()):
        columns += [f"{field}={v}" for v in vocabulary] + [f"{field}={OTHER}"]
    return columns


def matrix(feature_spec: dict[str, Any], events: list[dict[str, Any]]) -> np.ndarray:
    rows = []
    for event in events:
        row = [numeric(n, event) for n in feature_spec["numeric"]]
        for field, vocabulary in sorted(feature_spec["categorical"].items()):
            value = event.get(field)
            hot = vocabulary.index(value) if value in vocabulary else len(vocabulary)
            row += [1.0 if i == hot else 0.0 for i in range(len(vocabulary) + 1)]
        rows.append(row)
    return np.asarray(rows, dtype=float).reshape(len(events), len(names(feature_spec)))
