"""Training, and the model as JSON parameters (format gpc-fraud-model/1; no pickle anywhere)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
import sklearn
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from . import features, labels

FORMAT = "gpc-fraud-model/1"
THRESHOLD = 0.5
MIN_PER_CLASS_FOR_HOLDOUT = 5


def train(events: list[dict[str, Any]], version: str, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model.json, metadata.json) for the events."""
    used, y_list, label_source = labels.labelled(events)
    feature_spec = features.spec(used)
    x = features.matrix(feature_spec, used)
    y = np.asarray(y_list, dtype=bool)
    n_fraud = int(y.sum())
    document: dict[str, Any] = {"format": FORMAT, "version": version, "features": feature_spec,
                                "feature_names": features.names(feature_spec), "threshold": THRESHOLD}
    evaluation: dict[str, Any] = {}
    if n_fraud in (0, len(y)):
        # One class only: a classifier cannot separate anything. The prior is the honest model.
        prior = DummyClassifier(strategy="prior").fit(x, y)
        document |= {"kind": "constant", "fraud_probability": _fraud_probability(prior, x)}
    else:
        evaluation = _holdout(x, y)
        scaler, classifier = _fit(x, y)
        document |= {
            "kind": "logistic_regression",
            "scaler": {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
            "coefficients": classifier.coef_[0].tolist(),
            "intercept": float(classifier.intercept_[0]),
        }
        _check_export(document, x, classifier.predict_proba(scaler.transform(x))[:, 1])
    metadata = {
        "version": version,
        "trained_at": now.isoformat(),
        "model_kind": document["kind"],
        "single_class": document["kind"] == "constant",
        "n_samples": len(y),
        "n_events_in_history": len(events),
        "class_balance": {"fraud": n_fraud, "legitimate": len(y) - n_fraud},
        "label_source": label_source,
        "features": document["feature_names"],
        "evaluation": evaluation,
        "sklearn_version": sklearn.__version__,
        "format": FORMAT,
    }
    return document, metadata


def predict(document: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Fraud probabilities from the JSON parameters alone, as the inference service computes them."""
    if document["kind"] == "constant":
        return np.full(len(x), document["fraud_probability"])
    scaled = (x - np.asarray(document["scaler"]["mean"])) / np.asarray(document["scaler"]["scale"])
    z = scaled @ np.asarray(document["coefficients"]) + document["intercept"]
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=float)


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[StandardScaler, LogisticRegression]:
    scaler = StandardScaler().fit(x)
    # Fraud is rare: balanced class weights keep the minority class from being ignored.
    classifier = LogisticRegression(class_weight="balanced", max_iter=2000).fit(scaler.transform(x), y)
    return scaler, classifier


def _fraud_probability(prior: DummyClassifier, x: np.ndarray) -> float:
    return float(prior.predict_proba(x[:1])[0][list(prior.classes_).index(True)]) if True in prior.classes_ else 0.0


def _holdout(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """ROC AUC on a stratified 25% held out, when each class has enough examples."""
    if min(int(y.sum()), int((~y).sum())) < MIN_PER_CLASS_FOR_HOLDOUT:
        return {"holdout": "skipped: too few examples of a class"}
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, stratify=y, random_state=0)
    scaler, classifier = _fit(x_train, y_train)
    scores = classifier.predict_proba(scaler.transform(x_test))[:, 1]
    return {"holdout_roc_auc": round(float(roc_auc_score(y_test, scores)), 4), "holdout_size": len(y_test)}


def _check_export(document: dict[str, Any], x: np.ndarray, expected: np.ndarray) -> None:
    got = predict(document, x)
    worst = float(np.max(np.abs(got - expected))) if len(x) else 0.0
    if not math.isfinite(worst) or worst > 1e-9:
        raise AssertionError(f"exported parameters do not reproduce the model (max difference {worst})")
