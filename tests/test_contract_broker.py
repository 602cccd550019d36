"""Contract, over every spec: every queue is bounded, and on a real RabbitMQ every workload's broker
user can publish to exactly the queues it declared and consume exactly the queues it declared, and
a publish over a queue's bound is refused (reject-publish) or pushes out the oldest (drop-head).

The broker is loaded with what the terraform target declares, read back from the compiled tree
(`terraform/<env>/services/locals.tf`, parsed): vhost, queues with their arguments, exchanges with
their bindings, users and permission regexes. Nothing is copied by hand: a new spec, queue or
workload is covered by adding it.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, compiled_tree, unavailable
from test_terraform_support import blocks, call, locals_of, parse

MIB = 2**20
OVERFLOWS = {"reject-publish", "drop-head"}


def _broker_modules(platform: Any) -> dict[str, dict[str, Any]]:
    """env -> the parsed services module (locals and resources) of every environment with a broker."""
    tree = compiled_tree(platform)
    modules = {}
    for env in platform.environments:
        prefix = f"terraform/{env.name}/services/"
        if 'module "broker"' in tree.get(f"{prefix}main.tf", ""):
            modules[env.name] = {"locals.tf": parse(tree[f"{prefix}locals.tf"]), "main.tf": parse(tree[f"{prefix}main.tf"]),
                                 "broker.tf": parse(tree["terraform/modules/broker/main.tf"])}
    return modules


def _local(module: dict[str, Any]) -> dict[str, Any]:
    return locals_of(module["locals.tf"])


def test_every_queue_is_bounded_in_the_compiled_broker_configuration(platform: Any) -> None:
    modules = _broker_modules(platform)
    assert bool(modules) == bool(platform.queues)
    for env, module in modules.items():
        local = _local(module)
        expected = {q.name for q in platform.queues} | {q.dead_letter_queue for q in platform.queues
                                                         if q.dead_letter_queue}
        assert set(local["queues"]) == expected, env
        for name, queue in local["queues"].items():
            arguments = queue["arguments"]
            assert isinstance(arguments["x-max-length-bytes"], int) and arguments["x-max-length-bytes"] >= 1, name
            assert arguments["x-overflow"] in OVERFLOWS, name
            for key in ("x-max-length", "x-message-ttl"):
                assert key not in arguments or (isinstance(arguments[key], int) and arguments[key] >= 1), name
        # The arguments reach the broker as JSON, so the bounds stay numbers (the provider's
        # `arguments` map would send them as strings, which RabbitMQ refuses).
        settings = blocks(module["broker.tf"], "resource", "rabbitmq_queue")["queue"]["settings"][0]
        assert settings["arguments_json"] == "${jsonencode(each.value.arguments)}"
        assert "arguments" not in settings


def test_every_queue_has_an_exchange_of_its_own_and_publishers_may_write_only_there(platform: Any) -> None:
    for env, module in _broker_modules(platform).items():
        local = _local(module)
        exchanges = local["exchanges"]
        assert sorted(e["queue"] for e in exchanges.values()) == sorted(q.name for q in platform.queues), env
        assert not set(exchanges) & set(local["queues"])  # permission regexes see one namespace
        binding = blocks(module["broker.tf"], "resource", "rabbitmq_binding")["queue"]
        assert binding["for_each"] == "${var.exchanges}" and binding["destination_type"] == "queue"
        assert call(module["main.tf"], "broker")["exchanges"] == "${local.exchanges}"


@pytest.fixture(scope="module")
def brokers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Any], Any]]:
    """A RabbitMQ node per spec (the fraud example's harness: own data dir, free ports, stopped by
    PID), loaded at boot with the first environment's broker configuration, started on first use."""
    sys.path.insert(0, str(ROOT / "examples" / "fraud"))
    from fraud_harness.plan import Plan, broker_setup
    from fraud_harness.rabbitmq import Broker, available

    started: dict[str, Any] = {}

    def broker_for(platform: Any) -> Any:
        if platform.spec_file not in started:
            problem = available()
            if problem:
                unavailable(problem)
            modules = _broker_modules(platform)
            first = _local(modules[platform.environments[0].name])
            for env, module in modules.items():  # every environment declares the same broker objects
                other = _local(module)
                assert {k: other[k] for k in ("broker_vhost", "queues", "exchanges")} == \
                    {k: first[k] for k in ("broker_vhost", "queues", "exchanges")}, env
                # ... and the same users, but for the workloads an environment switches off.
                every = {n: u for m in modules.values() for n, u in _local(m)["broker_users"].items()}
                here = {w.name for w in platform.workloads_in(env)}
                assert other["broker_users"] == {n: u for n, u in every.items() if n in here}, env
            queues, exchanges, users = broker_setup(first)
            plan = Plan(spec=Path(platform.spec_file), vhost=first["broker_vhost"], queues=queues,
                        exchanges=exchanges, buckets={}, store_users={}, uses={}, broker_users=users)
            node = Broker(tmp_path_factory.mktemp("rabbitmq"), plan)
            started[platform.spec_file] = node
            node.start(timeout=90)
        return started[platform.spec_file]

    try:
        yield broker_for
    finally:
        for node in started.values():
            node.close()


def _connect(node: Any, workload: str | None) -> Any:
    import pika
    from fraud_harness.rabbitmq import ADMIN

    if workload is None:
        url = node.url(ADMIN, node.admin_password)
    else:
        user = node.plan.broker_users[workload]
        url = node.url(user.name, user.password)
    return pika.BlockingConnection(pika.URLParameters(url))


def _allowed(connection: Any, action: Callable[[Any], object]) -> bool:
    """Run `action` on a fresh channel with publisher confirms: True if the broker let it
    through, False if it refused it for want of permission (403 closes the channel)."""
    import pika.exceptions

    channel = connection.channel()
    channel.confirm_delivery()
    try:
        action(channel)
    except pika.exceptions.ChannelClosedByBroker as closed:
        assert closed.reply_code == 403, closed
        return False
    channel.close()
    return True


_tokens = itertools.count()


def _publish(exchange: str, key: str) -> tuple[bytes, Callable[[Any], object]]:
    body = f"probe-{next(_tokens)}".encode()
    return body, lambda ch: ch.basic_publish(exchange, key, body, mandatory=True)


def _take(node: Any, queue: str) -> list[bytes]:
    return node.drain(queue)


@pytest.mark.slow
def test_on_a_real_broker_each_workload_reaches_exactly_its_declared_queues(platform: Any, brokers: Any) -> None:
    if not platform.queues:
        assert not _broker_modules(platform)
        return
    node = brokers(platform)
    queues = [q.name for q in node.plan.queues]
    exchanges = {e.name: e.queue for e in node.plan.exchanges}
    node.purge()
    for w in platform.workloads_in(platform.environments[0].name):  # the node holds the first environment
        if not w.queues:
            assert w.name not in node.plan.broker_users
            continue
        publishes = {u.target for u in w.queues if u.access == "publish"}
        consumes = {u.target for u in w.queues if u.access == "consume"}
        connection = _connect(node, w.name)
        try:
            for exchange, queue in exchanges.items():
                body, action = _publish(exchange, queue)
                assert _allowed(connection, action) == (queue in publishes), (w.name, exchange)
                assert _take(node, queue) == ([body] if queue in publishes else []), (w.name, exchange)
            for queue in queues:
                # The default exchange reaches every queue of the vhost: nobody may use it.
                assert not _allowed(connection, _publish("", queue)[1]), (w.name, queue)
                assert _take(node, queue) == []
                assert _allowed(connection, lambda ch, q=queue: ch.basic_consume(q, lambda *_: None)) == \
                    (queue in consumes), (w.name, queue)
                assert _allowed(connection, lambda ch, q=queue: ch.basic_get(q)) == (queue in consumes), (w.name, queue)
                # Nobody rewires the broker: no declare, delete or bind, on anything.
                for action in (lambda ch, q=queue: ch.queue_declare(q, durable=True),
                               lambda ch, q=queue: ch.queue_delete(q),
                               lambda ch, q=queue: ch.queue_declare(f"{q}-mine", durable=True)):
                    assert not _allowed(connection, action), (w.name, queue)
                for exchange in exchanges:
                    assert not _allowed(connection, lambda ch, q=queue, e=exchange: ch.queue_bind(q, e, "extra")), \
                        (w.name, queue, exchange)
            for exchange in exchanges:
                for source in [*exchanges, "amq.direct", "amq.topic"]:
                    assert not _allowed(connection, lambda ch, s=source, d=exchange: ch.exchange_bind(d, s, "x")), \
                        (w.name, source, exchange)
            assert not _allowed(connection, lambda ch: ch.basic_publish("amq.topic", "x", b"x"))
            assert not _allowed(connection, lambda ch: ch.exchange_declare("mine", "fanout"))
        finally:
            connection.close()


TOKEN = 4  # every probe message starts with its index, so the test sees which one was dropped


LENGTH_PROBE_MOST = 5000  # a length bound above this is exercised through the byte bound only


def _fill_plan(arguments: dict[str, Any]) -> list[tuple[int, int]]:
    """(message size, how many the queue holds before its bound bites) for each bound to exercise:
    the byte bound with messages that fill it in about 64 publishes, and a length bound of up to
    LENGTH_PROBE_MOST messages with the smallest messages (each publish costs a round of Python
    and syscalls; 100000 of them would take minutes on a busy machine). RabbitMQ refuses a publish
    once the queue is at a bound (reject-publish) and drops from the head while it is over one
    (drop-head)."""
    max_bytes, length = arguments["x-max-length-bytes"], arguments.get("x-max-length")
    reject = arguments["x-overflow"] == "reject-publish"
    plans = []
    if length is not None and length <= LENGTH_PROBE_MOST and TOKEN * (length + 1) <= max_bytes:
        plans.append((TOKEN, length))
    size = max(TOKEN, min(max(MIB, -(-max_bytes // 64)), max_bytes))
    assert size <= 64 * MIB, f"x-max-length-bytes {max_bytes} is too large to exercise on a test broker"
    fits = -(-max_bytes // size) if reject else max_bytes // size
    if length is None or fits < length:
        plans.append((size, fits))
    assert plans, f"no bound of {arguments} can be exercised on a test broker"
    return plans


def _wait_for_depth(node: Any, queue: str, depth: int) -> None:
    deadline = time.monotonic() + 60
    while node.depth(queue) != depth:
        assert time.monotonic() < deadline, (queue, node.depth(queue), depth)
        time.sleep(0.05)


def _head(node: Any, queue: str) -> int:
    """The index of the message at the head of `queue` (taken off it)."""
    with node.admin_channel() as channel:
        method, _, body = channel.basic_get(queue, auto_ack=True)
    assert method is not None, f"{queue} is empty"
    return int.from_bytes(body[:TOKEN], "big")


@pytest.mark.slow
def test_on_a_real_broker_a_publish_over_the_bound_is_refused_or_drops_the_oldest(platform: Any,
                                                                                  brokers: Any) -> None:
    import pika.exceptions

    if not platform.queues:
        return
    node = brokers(platform)
    exchange_of = {e.queue: e.name for e in node.plan.exchanges}
    publisher_of = {u.target: w.name for w in platform.workloads for u in w.queues if u.access == "publish"}
    for queue in node.plan.queues:
        arguments = queue.arguments
        dead_letters = arguments.get("x-dead-letter-routing-key")
        for size, fits in _fill_plan(arguments):
            node.purge()
            # Through the queue's own exchange as its publisher when it has one (the production
            # path); a dead-letter queue, which only the broker writes to, through the admin.
            via = publisher_of.get(queue.name)
            exchange, key = (exchange_of[queue.name], queue.name) if via else ("", queue.name)

            def message(index: int, n: int = size) -> bytes:
                return index.to_bytes(TOKEN, "big") + b"\0" * (n - TOKEN)

            connection = _connect(node, via)
            try:
                # Up to the bound without confirms (fast: nothing is refused below it), then the
                # publish that meets the bound, with publisher confirms as a real publisher does.
                bulk = connection.channel()
                for index in range(fits):
                    bulk.basic_publish(exchange, key, message(index))
                _wait_for_depth(node, queue.name, fits)
                channel = connection.channel()
                channel.confirm_delivery()
                if arguments["x-overflow"] == "reject-publish":
                    with pytest.raises(pika.exceptions.NackError):
                        channel.basic_publish(exchange, key, message(fits), mandatory=True)
                    assert node.depth(queue.name) == fits, (queue.name, size)
                    assert _head(node, queue.name) == 0
                else:
                    channel.basic_publish(exchange, key, message(fits), mandatory=True)  # accepted
                    assert node.depth(queue.name) == fits, (queue.name, size)
                    assert _head(node, queue.name) == 1, queue.name  # the oldest made room
                    if dead_letters:
                        _wait_for_depth(node, dead_letters, 1)
                        assert _head(node, dead_letters) == 0
            finally:
                if connection.is_open:
                    connection.close()
    node.purge()
