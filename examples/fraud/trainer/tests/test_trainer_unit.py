"""Trainer units: features, labels, training (incl. single-class data), the JSON export, versions, history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fraud_harness import data
from fraud_harness.ports import free_port
from fraud_trainer import features, labels, model, served, store
from fraud_trainer.dataset import Dataset
from fraud_trainer.schema import load_validator, problems

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_numeric_features_of_one_transaction() -> None:
    event = {"amount": 99.0, "card_present": False, "timestamp": "2026-11-25T03:30:00+01:00"}
    values = {name: features.numeric(name, event) for name in features.NUMERIC}
    assert values == pytest.approx({"amount": 99.0, "log_amount": np.log1p(99.0), "card_present": 0.0,
                                    "card_present_unknown": 0.0, "night_time": 1.0})  # 02:30 UTC
    unknown = {"amount": 5, "timestamp": "2026-11-25T12:00:00Z"}
    assert features.numeric("card_present_unknown", unknown) == 1.0
    assert features.numeric("night_time", unknown) == 0.0


def test_categorical_vocabulary_keeps_common_values_and_an_other_column() -> None:
    events = [{"amount": 1, "merchant_category": c, "country": "DE"} for c in ("fuel", "fuel", "travel", "rare")]
    spec = features.spec(events)
    assert spec["categorical"] == {"merchant_category": ["fuel"], "country": ["DE"]}
    names = features.names(spec)
    assert names[-4:] == ["country=DE", "country=<other>", "merchant_category=fuel", "merchant_category=<other>"]
    x = features.matrix(spec, [*events, {"amount": 2}])
    assert x.shape == (5, len(names))
    other = names.index("merchant_category=<other>")
    assert x[:, other].tolist() == [0, 0, 1, 1, 1]  # travel and rare fall in <other>, so does a missing value


def test_labels_come_from_the_events_when_any_has_one() -> None:
    events = data.stream(20, labelled=False) + data.stream(10, seed=3)
    used, y, source = labels.labelled(events)
    assert source == "label"
    assert len(used) == 10 and y == [e["label"] for e in used]


def test_the_heuristic_needs_two_signals_not_one_feature() -> None:
    _, _, source = labels.labelled(data.stream(5, labelled=False))
    assert source.startswith("heuristic:")
    base = {"amount": 1500.0, "currency": "EUR"}
    assert labels.heuristic({**base, "card_present": False}) is True
    assert labels.heuristic({**base, "card_present": True}) is False  # same amount, card present
    assert labels.heuristic({**base, "amount": 6000.0, "card_present": True}) is True


def test_training_on_labelled_events_learns_the_pattern_and_the_json_reproduces_sklearn() -> None:
    events = data.stream(600, fraud_rate=0.2, seed=1)
    document, metadata = model.train(events, "20261125T120000000000Z", NOW)
    assert document["kind"] == "logistic_regression"
    assert metadata["n_samples"] == 600 and metadata["label_source"] == "label"
    assert metadata["class_balance"]["fraud"] + metadata["class_balance"]["legitimate"] == 600
    assert metadata["evaluation"]["holdout_roc_auc"] > 0.9, metadata["evaluation"]
    assert metadata["features"] == document["feature_names"]
    # model.json survives a JSON round trip bit for bit, and reproduces the fitted model.
    again = json.loads(json.dumps(document))
    x = features.matrix(again["features"], events)
    np.testing.assert_allclose(model.predict(again, x), model.predict(document, x), rtol=0, atol=0)
    fresh = data.stream(200, fraud_rate=0.5, seed=2)
    scores = model.predict(again, features.matrix(again["features"], fresh))
    fraud = np.asarray([e["label"] for e in fresh])
    assert scores[fraud].mean() > 0.7 > 0.3 > scores[~fraud].mean()


@pytest.mark.parametrize("fraud_rate, probability", [(0.0, 0.0), (1.0, 1.0)])
def test_single_class_data_gives_a_constant_model_recorded_in_metadata(fraud_rate: float,
                                                                       probability: float) -> None:
    events = data.stream(30, fraud_rate=fraud_rate, seed=4)
    document, metadata = model.train(events, "20261125T120000000000Z", NOW)
    assert document["kind"] == "constant" and document["fraud_probability"] == probability
    assert metadata["single_class"] is True and metadata["model_kind"] == "constant"
    assert model.predict(document, features.matrix(document["features"], events)).tolist() == [probability] * 30


def test_versions_sort_in_time_order_as_strings() -> None:
    times = [NOW + timedelta(microseconds=1), NOW, NOW + timedelta(days=400), NOW - timedelta(seconds=1),
             datetime(2026, 11, 25, 13, 0, tzinfo=UTC).astimezone()]
    versions = [store.new_version(t) for t in times]
    assert sorted(versions) == [store.new_version(t) for t in sorted(times)]
    assert all(len(v) == 22 and v.endswith("Z") for v in versions)
    assert store.new_version(NOW) == "20261125T120000000000Z"


def test_the_history_counts_a_redelivered_event_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    dataset = Dataset(tmp_path)
    first = data.stream(10, seed=5)
    assert len(dataset.merge(first)) == 10
    assert len(dataset.merge(first[:4] + data.stream(3, seed=6))) == 13
    assert sorted(dataset.load()) == sorted(e["transaction_id"] for e in first + data.stream(3, seed=6))
    assert not dataset.path.with_suffix(".tmp").exists()


def test_the_schema_rejects_each_scripted_invalid_event(spec_schema: str) -> None:
    validator = load_validator(spec_schema)
    assert problems(validator, data.stream(1)[0]) == []
    for what, body in data.invalid_examples():
        assert problems(validator, body), what


@pytest.fixture
def spec_schema() -> str:
    from fraud_harness import plan

    env = {name: value for name, value, _ in plan.contract(plan.SPEC, "fraud-trainer")}
    return env["EVENTS_MESSAGE_SCHEMA"]


def test_scoring_the_served_model_needs_labels_and_never_stops_training() -> None:
    """No labelled event: nothing to score, no connection. A database that is down: the metadata
    says so instead of the run failing (the events would go back to the queue for nothing)."""
    down = f"postgresql://fraud-trainer:x@127.0.0.1:{free_port()}/transactions?sslmode=disable"
    unlabelled = [{k: v for k, v in e.items() if k != "label"} for e in data.stream(5, fraud_rate=0.5, seed=7)]
    assert served.score(down, unlabelled) == {"labelled": 0, "with_verdict": 0, "caught": 0, "missed": 0,
                                              "false_alarms": 0, "correct_passes": 0}
    result = served.score(down, data.stream(5, fraud_rate=0.5, seed=7))
    assert result["labelled"] == 5 and result["with_verdict"] is None
    assert result["error"].startswith("transactions database unavailable:") and ":x@" not in result["error"]
