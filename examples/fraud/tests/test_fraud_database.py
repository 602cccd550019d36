"""The transactions database, on a real PostgreSQL loaded with the roles and grants of the
generated Terraform data: checkout (the owner, migrated before it starts) records every accepted
transaction with its verdict; the trainer reads those verdicts with its read-only role and can
change nothing; inference has no role at all."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import psycopg
import psycopg.errors
import pytest
from fraud_harness import data, plan
from fraud_harness.ports import free_port
from fraud_harness.stack import LocalPlatform

pytestmark = pytest.mark.slow
BUCKET = "fraud-models"
COLUMNS = "transaction_id, user_id, amount, verdict_available, is_fraud, score, model_version"


def _recorded(fraud: LocalPlatform) -> dict[str, tuple[object, ...]]:
    """Every recorded transaction, read as the trainer (the declared reader)."""
    return {r[0]: r[1:] for r in fraud.rows("fraud-trainer", f"SELECT {COLUMNS} FROM transactions")}


def test_checkout_records_each_transaction_with_its_verdict_and_the_trainer_scores_them(
        fraud: LocalPlatform, tmp_path: Path) -> None:
    inference = fraud.service("fraud-inference", tmp_path, overrides={"MODEL_POLL_SECONDS": "0.3"})
    inference.start_and_wait()
    checkout = fraud.service("checkout", tmp_path, service_urls={"fraud-inference": inference.url})
    checkout.start_and_wait()
    checkout.wait_ready()

    history = data.stream(120, fraud_rate=0.25, seed=31)
    for event in history:
        answer = checkout.post("/checkout", event).json()
        assert answer["recorded"] is True, answer
    for what, body in data.invalid_examples():  # refused transactions are not recorded
        assert checkout.post("/checkout", body).status_code == 422, what
    rows = _recorded(fraud)
    assert set(rows) == {e["transaction_id"] for e in history}
    first = history[0]
    assert rows[first["transaction_id"]] == (first["user_id"], Decimal(str(first["amount"])).quantize(Decimal("0.01")),
                                             False, None, None, None)  # no model yet: no verdict

    trainer = fraud.trainer(tmp_path / "trainer.log", tmp_path / "scratch")
    assert trainer.run() == 0, trainer.tail()
    inference.wait_ready(timeout=15)
    fresh = data.stream(30, fraud_rate=0.5, seed=32)
    verdicts = {e["transaction_id"]: checkout.post("/checkout", e).json()["fraud"] for e in fresh}
    rows = _recorded(fraud)
    assert len(rows) == len(history) + len(fresh)
    for transaction_id, v in verdicts.items():
        assert v["available"], v
        assert rows[transaction_id][2:] == (True, v["is_fraud"], v["score"], v["model_version"])

    # The next run reads the recorded verdicts (its read-only role) and scores them on the labels.
    second = fraud.trainer(tmp_path / "trainer-2.log", tmp_path / "scratch")
    assert second.run() == 0, second.tail()
    admin = fraud.store.admin()
    newest = sorted(o.object_name for o in admin.list_objects(BUCKET, prefix="models/", recursive=True)
                    if o.object_name.endswith("metadata.json"))[-1]
    served = json.loads(admin.get_object(BUCKET, newest).read())["served_model"]
    labels = {e["transaction_id"]: e["label"] for e in fresh}
    caught = sum(v["is_fraud"] and labels[t] for t, v in verdicts.items())
    false_alarms = sum(v["is_fraud"] and not labels[t] for t, v in verdicts.items())
    assert served == {"labelled": len(fresh), "with_verdict": len(fresh), "caught": caught,
                      "missed": sum(labels.values()) - caught, "false_alarms": false_alarms,
                      "correct_passes": len(fresh) - sum(labels.values()) - false_alarms}


def test_the_reader_reads_and_cannot_write_and_inference_has_no_role(fraud: LocalPlatform) -> None:
    event = data.stream(1, fraud_rate=0.0, seed=33)[0]
    owner = fraud.offline_env("checkout")["DATABASE_URL"]
    with psycopg.connect(owner, autocommit=True) as conn:  # the owner writes (checkout's own insert)
        conn.execute(b"INSERT INTO transactions (transaction_id, user_id, amount, currency, occurred_at, event, "
                     b"verdict_available) VALUES (%s, %s, %s, %s, %s, '{}', false)",
                     (event["transaction_id"], event["user_id"], event["amount"], event["currency"], event["timestamp"]))
    assert set(_recorded(fraud)) == {event["transaction_id"]}

    reader = fraud.offline_env("fraud-trainer")
    assert reader["PGUSER"] == "fraud-trainer" and reader["DATABASE_URL"] != owner
    with psycopg.connect(reader["DATABASE_URL"], autocommit=True) as conn:
        for statement in (b"INSERT INTO transactions (transaction_id, user_id, amount, currency, occurred_at, event, "
                          b"verdict_available) VALUES ('x', 'u', 1, 'EUR', now(), '{}', false)",
                          b"UPDATE transactions SET is_fraud = true",
                          b"DELETE FROM transactions",
                          b"TRUNCATE transactions",
                          b"ALTER TABLE transactions ADD COLUMN note text",
                          b"CREATE TABLE mine (id int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    # Its password is its own: it does not open checkout's role.
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(owner.replace(fraud.postgres.passwords["checkout"], reader["PGPASSWORD"])).close()
    contract = {name for name, _, _ in plan.contract(plan.SPEC, "fraud-inference")}
    assert not {"DATABASE_URL", "PGUSER", "PGPASSWORD"} & contract
    assert "fraud-inference" not in fraud.postgres.passwords


def test_checkout_still_accepts_when_the_database_is_down_and_says_it_did_not_record(
        fraud: LocalPlatform, tmp_path: Path) -> None:
    down = fraud.offline_env("checkout")["DATABASE_URL"].replace(f":{fraud.postgres.port}/", f":{free_port()}/")
    checkout = fraud.service("checkout", tmp_path, service_urls={"fraud-inference": f"http://127.0.0.1:{free_port()}"},
                             overrides={"DATABASE_URL": down})
    checkout.start_and_wait()
    checkout.wait_ready()
    event = data.stream(1, fraud_rate=0.0, seed=34)[0]
    answer = checkout.post("/checkout", event)
    assert answer.status_code == 200 and answer.json()["status"] == "accepted"
    assert answer.json()["recorded"] is False
    assert fraud.broker.depth("checkout-events") == 1  # published all the same
    assert _recorded(fraud) == {}
