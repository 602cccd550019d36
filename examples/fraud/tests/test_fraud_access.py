"""Least privilege, proven on the real servers: each workload's own broker user and S3 identity
can do what specs/fraud.yaml declares for it and nothing else."""

from __future__ import annotations

import io
from collections.abc import Callable

import pika
import pika.exceptions
import pytest
from fraud_harness import plan
from fraud_harness.stack import LocalPlatform
from minio import Minio
from minio.error import S3Error

pytestmark = pytest.mark.slow
QUEUE, DLQ, BUCKET = "checkout-events", "checkout-events.dlq", "fraud-models"
EXCHANGE = "checkout-events.exchange"


def _denied(action: Callable[[], object]) -> str:
    with pytest.raises(S3Error) as refused:
        action()
    return refused.value.code


def _put(s3: Minio, key: str) -> object:
    return s3.put_object(BUCKET, key, io.BytesIO(b"{}"), 2)


def test_object_store_identities_have_exactly_their_declared_access(fraud: LocalPlatform) -> None:
    trainer, inference = fraud.store.client_for("fraud-trainer"), fraud.store.client_for("fraud-inference")
    anonymous = fraud.store.client()
    assert fraud.plan.store_users["fraud-trainer"].actions == ("List:fraud-models", "Write:fraud-models")
    assert fraud.plan.store_users["fraud-inference"].actions == ("List:fraud-models", "Read:fraud-models")

    _put(trainer, "models/20261125T120000000000Z/model.json")  # write: allowed
    # A writer lists (SDKs check keys before overwriting and look for stale uploads) but never reads.
    assert [o.object_name for o in trainer.list_objects(BUCKET, prefix="models/", recursive=True)] == \
        ["models/20261125T120000000000Z/model.json"]
    assert _denied(lambda: trainer.get_object(BUCKET, "models/20261125T120000000000Z/model.json")) == "AccessDenied"
    assert _denied(lambda: trainer.make_bucket("another-bucket")) == "AccessDenied"

    assert [o.object_name for o in inference.list_objects(BUCKET, prefix="models/", recursive=True)] == \
        ["models/20261125T120000000000Z/model.json"]
    assert inference.get_object(BUCKET, "models/20261125T120000000000Z/model.json").read() == b"{}"
    # The hole in the original demo: any service could overwrite the model everyone loads.
    assert _denied(lambda: _put(inference, "models/20261125T130000000000Z/model.json")) == "AccessDenied"
    assert _denied(lambda: inference.remove_object(BUCKET, "models/20261125T120000000000Z/model.json")) \
        == "AccessDenied"

    assert _denied(lambda: list(anonymous.list_objects(BUCKET))) == "AccessDenied"
    assert _denied(lambda: anonymous.get_object(BUCKET, "models/20261125T120000000000Z/model.json")) \
        == "AccessDenied"
    assert _denied(lambda: _put(anonymous, "x")) == "AccessDenied"


def test_checkout_gets_no_object_store_credentials_at_all(fraud: LocalPlatform) -> None:
    names = {name for name, _, _ in plan.contract(plan.SPEC, "checkout")}
    assert not names & {"S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY", "MODELS_BUCKET"}
    assert "checkout" not in fraud.plan.store_users
    impostor = fraud.store.client("checkout", "guessed-secret")
    assert _denied(lambda: list(impostor.list_objects(BUCKET))) in ("InvalidAccessKeyId", "AccessDenied")


def _channel(fraud: LocalPlatform, workload: str, password: str | None = None) -> pika.BlockingConnection:
    user = fraud.plan.broker_users[workload]
    return pika.BlockingConnection(pika.URLParameters(fraud.broker.url(user.name, password or user.password)))


def _refused(fraud: LocalPlatform, workload: str, action: Callable[[object], object]) -> int:
    connection = _channel(fraud, workload)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
            action(channel)
        return refused.value.reply_code
    finally:
        if connection.is_open:
            connection.close()


def _publish(queue: str, exchange: str = EXCHANGE) -> Callable[[object], object]:
    return lambda ch: ch.basic_publish(exchange, queue, b"{}", pika.BasicProperties(delivery_mode=2),  # type: ignore[attr-defined]
                                       mandatory=True)


def test_broker_users_have_exactly_their_declared_permissions(fraud: LocalPlatform) -> None:
    users = fraud.plan.broker_users
    assert (users["checkout"].configure, users["checkout"].write, users["checkout"].read) == \
        ("^$", r"^checkout-events\.exchange$", "^$")
    assert (users["fraud-trainer"].configure, users["fraud-trainer"].write, users["fraud-trainer"].read) == \
        ("^$", "^$", "^checkout-events$")
    assert "fraud-inference" not in users  # it uses no queue: no broker user

    # checkout publishes; it cannot read events back, nor declare anything (a passive declare,
    # which only checks that the queue exists, needs no permission).
    connection = _channel(fraud, "checkout")
    channel = connection.channel()
    channel.confirm_delivery()
    _publish(QUEUE)(channel)
    assert channel.queue_declare(QUEUE, passive=True).method.message_count == 1
    connection.close()
    assert _refused(fraud, "checkout", lambda ch: ch.basic_get(QUEUE)) == 403  # type: ignore[attr-defined]
    assert _refused(fraud, "checkout", lambda ch: ch.queue_declare("mine", durable=True)) == 403  # type: ignore[attr-defined]
    # The default exchange would reach every queue of the vhost: checkout may not use it at all.
    assert _refused(fraud, "checkout", _publish(QUEUE, exchange="")) == 403
    assert _refused(fraud, "checkout", _publish(DLQ, exchange="")) == 403

    # The trainer consumes (and rejects to the dead-letter queue, which the broker does for it);
    # it cannot publish, declare, or read the dead-letter queue.
    connection = _channel(fraud, "fraud-trainer")
    channel = connection.channel()
    method, _, body = channel.basic_get(QUEUE)
    assert method is not None and body == b"{}"
    channel.basic_nack(method.delivery_tag, requeue=False)
    connection.close()
    assert fraud.broker.drain(DLQ) == [b"{}"]
    assert _refused(fraud, "fraud-trainer", _publish(QUEUE)) == 403
    assert _refused(fraud, "fraud-trainer", lambda ch: ch.queue_declare(QUEUE, durable=True)) == 403  # type: ignore[attr-defined]
    assert _refused(fraud, "fraud-trainer", lambda ch: ch.basic_get(DLQ)) == 403  # type: ignore[attr-defined]

    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        _channel(fraud, "fraud-trainer", password="not-the-password")
