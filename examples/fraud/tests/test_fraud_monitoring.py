"""A real Prometheus (Debian's `prometheus`) scrapes the running fraud example and evaluates the
rules gpc generated for it (issue 16's main proof).

The Prometheus configuration is derived from what `gpc compile specs/fraud.yaml` writes for one
environment, never written by hand (fraud_harness/observe.py): one scrape job per generated
ServiceMonitor and PodMonitor, with a static target where the selected pods run here (the apps
started like the other example tests, the real RabbitMQ's rabbitmq_prometheus listener, a real
Pushgateway); and every PrometheusRule of that environment as a rule file. Two things differ from
the cluster, both to keep the test short: scrapes and evaluations run every second (the monitors
say 30s), and a target is an address on loopback, not a pod found through the Kubernetes API.

With the example running, the services' request metrics and the queue's depth are in Prometheus;
inference stopped, its availability alert (`NotAnswering`) goes pending (its `for:` then delays the
firing; pending is the proof the expression matches); a training run's metrics appear through the
Pushgateway, and the dashboard's run-history queries return them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fraud_harness import data, objectstore, postgres, rabbitmq
from fraud_harness import prometheus as prom
from fraud_harness.observe import compiled, dashboard_queries, prometheus, rule_files
from fraud_harness.plan import SPEC
from fraud_harness.stack import LocalPlatform
from fraud_harness.tools import require

from compiler import names

pytestmark = pytest.mark.slow
QUEUE = "checkout-events"
ENV = "prod"  # alerts route to teams there; `dev` routes them to a null receiver (same rules)
INTERVAL = "1s"  # the monitors' 30s, shortened for the test


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    """The fraud platform with the broker's metrics listener and a Pushgateway."""
    for problem in (rabbitmq.available(), objectstore.available(), postgres.available(), prom.available()):
        require(problem)
    platform = LocalPlatform(tmp_path_factory.mktemp("observed"), observed=True).start()
    try:
        yield platform
    finally:
        platform.close()


def value(result: list[dict[str, Any]]) -> float:
    (sample,) = result
    return float(sample["value"][1])


def test_a_real_prometheus_scrapes_the_example_and_evaluates_gpcs_rules(observed: LocalPlatform,
                                                                         tmp_path: Path) -> None:
    from compiler.pipeline import check

    ir = check(SPEC).platform
    assert ir is not None
    env = ir.environment(ENV)
    tree = compiled()
    assert observed.broker.metrics_port is not None and observed.pushgateway is not None
    inference = observed.service("fraud-inference", tmp_path)
    checkout = observed.service("checkout", tmp_path, service_urls={"fraud-inference": inference.url})
    local = {"checkout": f"127.0.0.1:{checkout.port}", "fraud-inference": f"127.0.0.1:{inference.port}",
             names.BROKER_SERVICE: f"127.0.0.1:{observed.broker.metrics_port}",
             names.PUSHGATEWAY_SERVICE: f"127.0.0.1:{observed.pushgateway.port}"}
    rules = rule_files(tree, ENV)
    # The object store here is SeaweedFS, whose metrics are not MinIO's: the MinIO PodMonitor has no
    # target here (its rules still load; tests/test_monitoring.py proves them on synthetic series).
    not_here = {names.OBJECT_STORE_SERVICE: "SeaweedFS stands in for MinIO and exports other metrics"}
    server = prometheus(tmp_path / "prometheus", tree, ENV, local, INTERVAL, not_here)
    try:
        inference.start_and_wait()
        checkout.start_and_wait()
        server.start_and_wait()
        events = data.stream(240, fraud_rate=0.2, seed=5)
        for event in events:
            assert checkout.post("/checkout", event).status_code == 200

        # Every generated rule is loaded and evaluates without error.
        loaded = {r["name"] for g in server.api("rules")["groups"] for r in g["rules"]}
        expected = {r.get("alert") for spec in rules.values() for g in spec["groups"] for r in g["rules"]}
        assert loaded == expected and {"NotAnswering", "QueueBacklogGrowing", "ErrorBudgetBurn1h",
                                      "QueueOldestMessageTooOld", "ObjectStoreDown", "BucketServerErrors"} <= loaded
        # Every derived target answers: the monitors' paths and ports are the ones the apps serve.
        # Prometheus starts its scrape pools one by one, so wait for every target, not the first.
        server.wait_query(f"count(up == 1) == {len(local)}")
        assert {t["health"] for t in server.api("targets")["activeTargets"]} == {"up"}

        checkout_ns = ir.workload("checkout").placement(ENV).namespace
        inference_ns = ir.workload("fraud-inference").placement(ENV).namespace
        ok = server.wait_query(f'sum(http_requests_total{{namespace="{checkout_ns}",job="checkout",code="200"}})')
        assert value(ok) >= len(events)
        server.wait_query(f'http_requests_total{{namespace="{inference_ns}",job="fraud-inference"}}')
        ready = f'rabbitmq_queue_messages_ready{{vhost="{names.broker_vhost(ir.name)}",queue="{QUEUE}"}}'
        server.wait_query(f"{ready} == {len(events)}", timeout=60)  # the plugin refreshes every few seconds
        # The environment dashboard's queue flow: the oldest message's age (checkout stamps each
        # message), the net growth and the consumers, all answered by the real broker's metrics.
        age, growth, consumers = dashboard_queries(tree, ENV, "environment", f"queue {QUEUE}: flow")
        assert 0 <= value(server.wait_query(age)) < 600
        assert server.wait_query(growth, timeout=60)
        assert value(server.wait_query(consumers)) == 0  # the trainer runs later
        # QueueOldestMessageTooOld selects the real broker's series: with its threshold (max_age,
        # 12h) lowered to 0s, its expression holds for the queue checkout fills.
        (too_old,) = [r["expr"] for spec in rules.values() for g in spec["groups"] for r in g["rules"]
                      if r.get("alert") == "QueueOldestMessageTooOld"]
        lowered = re.sub(r"\) > [0-9]+$", ") > 0", too_old)
        assert lowered != too_old
        (aged,) = server.wait_query(lowered)
        assert aged["metric"]["queue"] == QUEUE and 0 < float(aged["value"][1]) < 600
        assert not [a for a in server.alerts() if a["labels"].get("workload") == "fraud-inference"
                    and a["labels"]["alertname"] == "NotAnswering"]

        # Inference stops: no replica answers, and its availability alert goes pending.
        inference.stop()
        alert = server.wait_alert("pending", alertname="NotAnswering", workload="fraud-inference")
        assert alert["labels"]["namespace"] == inference_ns and alert["labels"]["severity"] == "page"
        assert alert["labels"]["team"] == "platform"  # the spec names no team for inference
        assert not [a for a in server.alerts() if a["labels"]["alertname"] == "NotAnswering"
                    and a["labels"]["workload"] == "checkout"]

        # A training run pushes its run metrics; Prometheus reads them from the Pushgateway.
        trainer = observed.trainer(tmp_path / "trainer.log", tmp_path / "scratch")
        started = time.time()
        assert trainer.run() == 0, trainer.tail()
        infra = env.infra_namespace
        run = f'{{namespace="{infra}",job="fraud-trainer"}}'
        assert value(server.wait_query(f"job_run_success{run}")) == 1
        assert started <= value(server.wait_query(f"job_run_finished_timestamp_seconds{run}")) <= time.time()
        assert value(server.wait_query(f"fraud_trainer_dataset_size{run}")) == len(events)
        assert value(server.wait_query(f"job_run_duration_seconds{run}")) > 0
        (info,) = server.wait_query(f"fraud_trainer_model_info{run}")
        assert info["metric"]["model_version"]
        assert server.wait_query(f"fraud_trainer_evaluation_roc_auc{run}")
        # The generated dashboard's run history reads exactly those series.
        history = dashboard_queries(tree, ENV, "fraud-trainer", "run history")
        assert len(history) == 2
        for query in history:
            assert server.query(query), query
        server.wait_query(f"{ready} == 0", timeout=60)  # the run drained the queue
    finally:
        server.stop()
        if server.popen is not None and server.popen.returncode not in (0, None):
            print(server.tail())
