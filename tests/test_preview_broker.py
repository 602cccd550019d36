"""A preview's own broker, run for real: the ExternalSecret's template (ESO engine v2, Go templates)
is rendered with generated passwords as the operator would, the resulting `definitions.json` is
loaded at boot by a RabbitMQ node of our own (the fraud example's harness: Debian's rabbitmq-server,
loopback, own data dir, stopped by PID), and each workload connects with the AMQP URL the same
Secret gives it: checkout publishes, the trainer consumes, and neither may do the other's part.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from conftest import ROOT, unavailable
from preview_fraud import fraud_with_previews

from compiler.pipeline import check, render

pytestmark = pytest.mark.slow
_INDEX = re.compile(r'\{\{ index \. "([^"]+)" \}\}')


def render_eso(text: str, values: dict[str, str]) -> str:
    """ESO's v2 engine for the one action the preview's template uses: `{{ index . "key" }}`."""
    rest = _INDEX.sub(lambda m: values[m[1]], text)
    assert "{{" not in rest, f"a template action outside the tested subset: {rest}"
    return rest


def secret_data() -> dict[str, str]:
    """The Secret `preview-credentials` as ESO would write it for a fresh preview of fraud (without its
    database: previews of a platform with databases are refused, GPC299)."""
    checked = check(fraud_with_previews())
    assert checked.ok, [d.message for d in checked.diagnostics]
    assert checked.platform is not None
    artifacts, _ = render(checked.platform, ["kustomize"])
    text = next(a.text for a in artifacts if a.path == "kustomize/_preview/_platform/credentials.yaml")
    generator, external = yaml.safe_load_all(text)
    spec = generator["spec"]
    alphabet = string.ascii_letters + (string.digits if spec["digits"] else "")
    assert spec["symbols"] == 0
    values = {}
    for source in external["spec"]["dataFrom"]:
        (rewrite,) = source["rewrite"]
        assert rewrite["regexp"]["source"] == "^password$"
        values[rewrite["regexp"]["target"]] = "".join(secrets.choice(alphabet) for _ in range(spec["length"]))
    return {k: render_eso(v, values) for k, v in external["spec"]["target"]["template"]["data"].items()}


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    sys.path.insert(0, str(ROOT / "examples" / "fraud"))
    from fraud_harness import rabbitmq
    from fraud_harness.plan import Plan

    problem = rabbitmq.available()
    if problem:
        unavailable(problem)
    data = secret_data()
    loaded = json.loads(data["definitions.json"])

    class PreviewBroker(rabbitmq.Broker):
        """The harness's node, booted with the preview's own definitions (no admin user)."""

        def _start(self, timeout: float) -> rabbitmq.Broker:
            d = self.dir
            (d / "home").mkdir(parents=True, exist_ok=True)
            (d / "enabled_plugins").write_text("[].\n")
            (d / "rabbitmq-env.conf").write_text("")
            (d / "definitions.json").write_text(data["definitions.json"])
            (d / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
                                             f"load_definitions = {d / 'definitions.json'}\nlog.console = false\n")
            if self.epmd is None:
                self.epmd = rabbitmq.Process("epmd", [rabbitmq.shutil.which("epmd") or "epmd", "-port",
                                                      str(self.epmd_port), "-address", "127.0.0.1"],
                                             d / "epmd.log").start()
                rabbitmq.wait_for("epmd", lambda: rabbitmq.listening(self.epmd_port), 10, self.epmd)
            self.server = rabbitmq.Process("rabbitmq", [str(rabbitmq.SERVER)], d / "server.log",
                                           env=self._environ()).start()
            rabbitmq.wait_for(f"RabbitMQ on port {self.port}", lambda: self._connects(), timeout, self.server,
                              interval=0.2)
            return self

        def _connects(self) -> bool:
            import pika

            pika.BlockingConnection(pika.URLParameters(local(data["checkout.AMQP_URL"], self.port))).close()
            return True

    plan = Plan(spec=ROOT / "specs" / "fraud.yaml", vhost=loaded["vhosts"][0]["name"], queues=[], exchanges=[],
                buckets={}, broker_users={}, store_users={}, uses={})
    broker = PreviewBroker(tmp_path_factory.mktemp("preview-rabbitmq"), plan).start(timeout=90)
    try:
        yield broker, data
    finally:
        broker.close()


def local(url: str, port: int) -> str:
    assert "@rabbitmq:5672/" in url  # the preview's own broker, by its namespace-relative name
    return url.replace("@rabbitmq:5672/", f"@127.0.0.1:{port}/")


def test_the_preview_secret_holds_a_valid_definitions_file_and_urls() -> None:
    data = secret_data()
    loaded = json.loads(data["definitions.json"])
    assert {u["name"] for u in loaded["users"]} == {"checkout", "fraud-trainer"}
    assert all(len(u["password"]) == 32 for u in loaded["users"])
    assert data["checkout.AMQP_URL"].startswith("amqp://checkout:")
    assert data["fraud-inference.S3_SECRET_KEY"] == data["object-store.rootPassword"]


def test_each_workload_does_what_it_declared_and_nothing_else(node: tuple[Any, dict[str, str]]) -> None:
    import pika
    import pika.exceptions

    broker, data = node
    publisher = pika.BlockingConnection(pika.URLParameters(local(data["checkout.AMQP_URL"], broker.port)))
    channel = publisher.channel()
    channel.confirm_delivery()
    channel.basic_publish("checkout-events.exchange", "checkout-events", b'{"transaction_id": "t1"}')
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
        publisher.channel().basic_get("checkout-events")  # checkout may not read the queue
    assert refused.value.reply_code == 403
    publisher.close()
    consumer = pika.BlockingConnection(pika.URLParameters(local(data["fraud-trainer.AMQP_URL"], broker.port)))
    method, _, body = consumer.channel().basic_get("checkout-events", auto_ack=True)
    assert method is not None and body == b'{"transaction_id": "t1"}'
    channel = consumer.channel()
    channel.confirm_delivery()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
        channel.basic_publish("checkout-events.exchange", "checkout-events", b"x")  # the trainer may not publish
    assert refused.value.reply_code == 403
    consumer.close()
    wrong = local(data["checkout.AMQP_URL"], broker.port).replace("amqp://checkout:", "amqp://checkout:x")
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        pika.BlockingConnection(pika.URLParameters(wrong))
