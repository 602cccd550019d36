"""The trainer's model.json, read by inference, gives the trainer's (and scikit-learn's) predictions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest
from fraud_harness import data
from fraud_inference.model import NUMERIC_FEATURES
from fraud_inference.model import parse as inference_parse
from fraud_inference.store import VERSION
from fraud_trainer import features, model, store


@pytest.mark.parametrize("fraud_rate", [0.0, 0.15])
def test_inference_reproduces_the_trainers_predictions(fraud_rate: float) -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    version = store.new_version(now)
    assert VERSION.match(version)
    document, _ = model.train(data.stream(500, fraud_rate=fraud_rate, seed=11), version, now)
    served = inference_parse(json.loads(json.dumps(document)))
    unseen = data.stream(300, fraud_rate=0.5, seed=12)
    # Shapes the training data never had: unknown category and country, no card_present, no timestamp.
    unseen += [{"amount": 10.0, "merchant_category": "casino", "country": "ZZ"}, {"amount": 0}]
    expected = model.predict(document, features.matrix(document["features"], unseen))
    got = np.asarray([served.score(t) for t in unseen])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert served.vector(unseen[0]) == features.matrix(document["features"], unseen[:1])[0].tolist()


def test_both_sides_know_the_same_numeric_features() -> None:
    assert set(features.NUMERIC) == set(NUMERIC_FEATURES)
    for event in [*data.stream(50, seed=13), {"amount": 3, "timestamp": "not a time"}]:
        for name in features.NUMERIC:
            assert features.numeric(name, event) == NUMERIC_FEATURES[name](event), (name, event)
