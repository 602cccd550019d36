"""The fraud model as plain JSON parameters, and predictions computed from them.

The trainer stores `model.json` (parameters, no code); loading it can never execute anything,
unlike a pickle from a bucket. A document that does not have exactly the expected shape is
refused, so a bad upload leaves the previous model in service.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FORMAT = "gpc-fraud-model/1"
OTHER = "<other>"

# Each numeric feature the trainer may use, computed from one transaction. A model that names a
# feature missing here was made by a newer trainer: it is refused rather than guessed at.
NUMERIC_FEATURES = {
    "amount": lambda t: float(t["amount"]),
    "log_amount": lambda t: math.log1p(float(t["amount"])),
    "card_present": lambda t: 1.0 if t.get("card_present") is True else 0.0,
    "card_present_unknown": lambda t: 0.0 if isinstance(t.get("card_present"), bool) else 1.0,
    "night_time": lambda t: 1.0 if (h := utc_hour(t.get("timestamp"))) is not None and h < 6 else 0.0,
}


class ModelError(ValueError):
    """The document is not a model this service can serve."""


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


@dataclass(frozen=True)
class FraudModel:
    version: str
    kind: str
    numeric: tuple[str, ...]
    categorical: tuple[tuple[str, tuple[str, ...]], ...]
    threshold: float
    mean: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()
    coefficients: tuple[float, ...] = ()
    intercept: float = 0.0
    fraud_probability: float = 0.0

    def vector(self, transaction: dict[str, Any]) -> list[float]:
        values = [NUMERIC_FEATURES[name](transaction) for name in self.numeric]
        for field, vocabulary in self.categorical:
            value = transaction.get(field)
            hot = vocabulary.index(value) if value in vocabulary else len(vocabulary)
            values.extend(1.0 if i == hot else 0.0 for i in range(len(vocabulary) + 1))
        return values

    def score(self, transaction: dict[str, Any]) -> float:
        """The probability that the transaction is fraudulent."""
        if self.kind == "constant":
            return self.fraud_probability
        x = self.vector(transaction)
        z = self.intercept + sum(
            c * (v - m) / s for c, v, m, s in zip(self.coefficients, x, self.mean, self.scale, strict=True)
        )
        # Numerically stable logistic function.
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def parse(document: Any) -> FraudModel:
    """Check a decoded model.json and build the model; ModelError says what is wrong."""
    if not isinstance(document, dict):
        raise ModelError("model.json is not an object")
    if document.get("format") != FORMAT:
        raise ModelError(f"unsupported model format {document.get('format')!r} (expected {FORMAT!r})")
    version = _str(document, "version")
    kind = _str(document, "kind")
    features = document.get("features")
    if not isinstance(features, dict):
        raise ModelError("features must be an object")
    numeric = features.get("numeric")
    if not isinstance(numeric, list) or not all(isinstance(n, str) for n in numeric):
        raise ModelError("features.numeric must be a list of names")
    unknown = [n for n in numeric if n not in NUMERIC_FEATURES]
    if unknown:
        raise ModelError(f"unknown numeric features {unknown}")
    raw_categorical = features.get("categorical")
    if not isinstance(raw_categorical, dict):
        raise ModelError("features.categorical must be an object")
    categorical = []
    for field, vocabulary in sorted(raw_categorical.items()):
        if not isinstance(vocabulary, list) or not all(isinstance(v, str) for v in vocabulary):
            raise ModelError(f"features.categorical.{field} must be a list of strings")
        categorical.append((field, tuple(vocabulary)))
    threshold = _number(document, "threshold")
    width = len(numeric) + sum(len(v) + 1 for _, v in categorical)
    if kind == "constant":
        p = _number(document, "fraud_probability")
        if not 0.0 <= p <= 1.0:
            raise ModelError("fraud_probability must be within [0, 1]")
        return FraudModel(version, kind, tuple(numeric), tuple(categorical), threshold, fraud_probability=p)
    if kind != "logistic_regression":
        raise ModelError(f"unsupported model kind {kind!r}")
    scaler = document.get("scaler")
    if not isinstance(scaler, dict):
        raise ModelError("scaler must be an object")
    mean = _vector(scaler, "mean", width)
    scale = _vector(scaler, "scale", width)
    if any(s <= 0 for s in scale):
        raise ModelError("scaler.scale must be positive")
    coefficients = _vector(document, "coefficients", width)
    intercept = _number(document, "intercept")
    return FraudModel(version, kind, tuple(numeric), tuple(categorical), threshold,
                      mean=mean, scale=scale, coefficients=coefficients, intercept=intercept)


def _str(document: dict[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise ModelError(f"{key} must be a non-empty string")
    return value


def _number(document: dict[str, Any], key: str) -> float:
    value = document.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ModelError(f"{key} must be a finite number")
    return float(value)


def _vector(document: dict[str, Any], key: str, width: int) -> tuple[float, ...]:
    value = document.get(key)
    if not isinstance(value, list) or len(value) != width:
        raise ModelError(f"{key} must be a list of {width} numbers")
    if not all(not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v) for v in value):
        raise ModelError(f"{key} must contain only finite numbers")
    return tuple(float(v) for v in value)
