"""The broker side of the terraform output, run for real: the vhost, queues, users and permission
regexes gpc writes into `services/locals.tf` are loaded into a RabbitMQ node of our own (Debian's
rabbitmq-server, loopback, free ports, own data dir, stopped by PID), and each workload's user
is made to do what it declared, and what it did not.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ROOT, load_ir, unavailable
from test_terraform_support import locals_of, parse, terraform_artifacts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A RabbitMQ node (the fraud example's harness: own data dir, free ports, stopped by PID)
    loaded with exactly the vhost, queues, users and permissions of `services/locals.tf`."""
    sys.path.insert(0, str(ROOT / "examples" / "fraud"))
    from fraud_harness.plan import Plan, broker_setup
    from fraud_harness.rabbitmq import ADMIN, Broker, available

    problem = available()
    if problem:
        unavailable(problem)
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    files = {a.path: a.text for a in terraform_artifacts(platform)}
    local = locals_of(parse(files["terraform/dev/services/locals.tf"]))
    queues, exchanges, users = broker_setup(local)
    plan = Plan(spec=ROOT / "specs" / "fraud.yaml", vhost=local["broker_vhost"], queues=queues,
                exchanges=exchanges, buckets={}, store_users={}, uses={}, broker_users=users)
    node = Broker(tmp_path_factory.mktemp("rabbitmq"), plan).start(timeout=90)
    try:
        yield {"admin": node.url(ADMIN, node.admin_password), "local": local,
               "users": {w: node.url(u.name, u.password) for w, u in plan.broker_users.items()}}
    finally:
        node.close()


def _channel(url: str) -> Any:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    return connection, connection.channel()


def _refused(action: Any) -> bool:
    import pika.exceptions

    try:
        action()
    except pika.exceptions.ChannelClosedByBroker as closed:
        return closed.reply_code == 403
    return False


def test_a_publisher_can_publish_and_nothing_else(broker: dict[str, Any]) -> None:
    connection, channel = _channel(broker["users"]["checkout"])
    try:
        channel.confirm_delivery()
        channel.basic_publish("checkout-events.exchange", "checkout-events", b"one", mandatory=True)
        channel.queue_declare("checkout-events", passive=True)  # using a queue needs no permission
        assert _refused(lambda: channel.basic_get("checkout-events"))
    finally:
        connection.close()
    for attempt in (lambda ch: ch.queue_declare("made-up", durable=True),
                    lambda ch: ch.queue_delete("checkout-events"),
                    lambda ch: ch.exchange_declare("fanout-out", "fanout"),
                    lambda ch: ch.basic_publish("", "checkout-events", b"x"),  # the default exchange
                    lambda ch: ch.basic_publish("", "checkout-events.dlq", b"x"),
                    lambda ch: ch.queue_bind("checkout-events", "checkout-events.exchange", "again"),
                    lambda ch: ch.basic_publish("amq.topic", "x", b"x")):
        connection, channel = _channel(broker["users"]["checkout"])
        try:
            channel.confirm_delivery()
            assert _refused(lambda: attempt(channel))  # noqa: B023
        finally:
            if connection.is_open:
                connection.close()


def test_a_consumer_reads_its_queue_only_and_rejects_into_the_dead_letter_queue(broker: dict[str, Any]) -> None:
    connection, channel = _channel(broker["admin"])
    channel.confirm_delivery()
    channel.basic_publish("checkout-events.exchange", "checkout-events", b"reject me", mandatory=True)
    connection.close()
    connection, channel = _channel(broker["users"]["fraud-trainer"])
    try:
        bodies = []
        while True:
            method, _, body = channel.basic_get("checkout-events")
            if method is None:
                break
            bodies.append(body)
            channel.basic_reject(method.delivery_tag, requeue=False)
        assert b"reject me" in bodies
        assert _refused(lambda: channel.basic_get("checkout-events.dlq"))
    finally:
        if connection.is_open:
            connection.close()
    connection, channel = _channel(broker["users"]["fraud-trainer"])
    try:
        channel.confirm_delivery()
        assert _refused(lambda: channel.basic_publish("checkout-events.exchange", "checkout-events", b"x",
                                                      mandatory=True))
    finally:
        if connection.is_open:
            connection.close()
    connection, channel = _channel(broker["admin"])
    try:
        deadline = time.monotonic() + 10
        dead = []
        while b"reject me" not in dead and time.monotonic() < deadline:
            method, _, body = channel.basic_get("checkout-events.dlq", auto_ack=True)
            if method is None:
                time.sleep(0.1)
            else:
                dead.append(body)
        assert b"reject me" in dead
    finally:
        connection.close()
