"""Inference units: model.json is checked strictly, predictions follow the stored parameters."""

from __future__ import annotations

import contextlib
import copy
import math
from typing import Any

import pytest
from fraud_inference.app import check_transaction
from fraud_inference.model import FORMAT, ModelError, parse
from fraud_inference.store import VERSION

DOC: dict[str, Any] = {
    "format": FORMAT,
    "version": "20261125T120000000000Z",
    "kind": "logistic_regression",
    "features": {"numeric": ["amount", "card_present"], "categorical": {"country": ["DE"]}},
    "threshold": 0.5,
    "scaler": {"mean": [100.0, 0.5, 0.5, 0.5], "scale": [50.0, 0.5, 0.5, 0.5]},
    "coefficients": [2.0, -1.0, -0.5, 0.5],
    "intercept": -1.0,
}


def test_logistic_score_is_computed_from_the_parameters() -> None:
    model = parse(DOC)
    tx = {"amount": 200.0, "card_present": False, "country": "US"}
    assert model.vector(tx) == [200.0, 0.0, 0.0, 1.0]  # US is not in the vocabulary: <other>
    z = -1.0 + 2.0 * (200 - 100) / 50 + -1.0 * (0 - 0.5) / 0.5 + -0.5 * (0 - 0.5) / 0.5 + 0.5 * (1 - 0.5) / 0.5
    assert model.score(tx) == pytest.approx(1 / (1 + math.exp(-z)))
    assert model.score({"amount": 0.0, "card_present": True, "country": "DE"}) < 0.05


def test_a_constant_model_scores_every_transaction_the_same() -> None:
    doc = {k: v for k, v in DOC.items() if k not in ("scaler", "coefficients", "intercept")}
    model = parse({**doc, "kind": "constant", "fraud_probability": 0.0})
    assert model.score({"amount": 1e6}) == 0.0


def _broken(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = doc
        for p in parents:
            target = target[p]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return doc


@pytest.mark.parametrize("doc, message", [
    (_broken(format="pickle"), "unsupported model format"),
    (_broken(kind="random_forest"), "unsupported model kind"),
    (_broken(coefficients=[1.0, 2.0]), "coefficients must be a list of 4 numbers"),
    (_broken(scaler__scale=[50.0, 0.0, 1.0, 1.0]), "scale must be positive"),
    (_broken(intercept=float("nan")), "intercept must be a finite number"),
    (_broken(intercept=True), "intercept must be a finite number"),
    (_broken(features__numeric=["amount", "shell_command"]), "unknown numeric features"),
    (_broken(version=KeyError), "version must be a non-empty string"),
    ([1, 2, 3], "not an object"),
])
def test_malformed_model_documents_are_refused(doc: Any, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse(doc)


def test_prediction_requests_are_checked() -> None:
    assert check_transaction({"amount": 12.5, "card_present": True, "country": "DE"}) == []
    fields = {p["field"] for p in check_transaction({"amount": "12", "card_present": "yes", "country": 3})}
    assert fields == {"amount", "card_present", "country"}
    assert check_transaction({"amount": -1})[0]["field"] == "amount"
    assert check_transaction([])[0]["field"] == "(message)"


def test_only_timestamp_shaped_folders_are_versions() -> None:
    assert VERSION.match("20261125T120000000000Z")
    for name in ("latest", "20261125", "20261125T120000Z", "../20261125T120000000000Z"):
        assert not VERSION.match(name)


def _requests(make_client: Any) -> list[tuple[str, str]]:
    """(Host header, path) of the requests an SDK client sends to a local HTTP server."""
    import http.server
    import threading

    seen: list[tuple[str, str]] = []

    class Record(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the http.server API names it
            seen.append((self.headers["Host"], self.path))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with contextlib.suppress(Exception):  # the answer does not matter, the request does
            list(make_client(f"http://localhost:{server.server_port}").list_objects("fraud-models", prefix="models/"))
    finally:
        server.shutdown()
        server.server_close()
    return seen


def test_the_s3_client_uses_the_contract_region_and_path_style_addressing() -> None:
    from fraud_harness import plan
    from fraud_inference.config import ConfigError, from_env
    from fraud_inference.store import client

    contract = {name: value for name, value, _ in plan.contract(plan.SPEC, "fraud-inference")}
    assert (contract["S3_REGION"], contract["S3_FORCE_PATH_STYLE"]) == ("us-east-1", "true")
    [(host, path)] = _requests(lambda endpoint: client(from_env({**contract, "S3_ENDPOINT": endpoint})))
    # Path style: the bucket is in the path and the Host is the endpoint's. The region spares a
    # GetBucketLocation call (`?location=`), which the workload is not granted.
    assert host.startswith("localhost:") and path.startswith("/fraud-models?") and "location" not in path, path
    # Without the flag the SDK addresses `<bucket>.<host>`, a name that resolves nowhere (here,
    # like in a cluster) or, where *.localhost resolves, a Host the server does not serve.
    virtual = {**contract, "S3_FORCE_PATH_STYLE": "false"}
    sent = _requests(lambda endpoint: client(from_env({**virtual, "S3_ENDPOINT": endpoint})))
    assert all(host.startswith("fraud-models.localhost:") for host, _ in sent), sent
    with pytest.raises(ConfigError, match="S3_FORCE_PATH_STYLE"):
        from_env({**contract, "S3_FORCE_PATH_STYLE": "yes"})
    with pytest.raises(ConfigError, match="S3_REGION"):
        from_env({k: v for k, v in contract.items() if k != "S3_REGION"})
