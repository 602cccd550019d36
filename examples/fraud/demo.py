"""`make demo`: the fraud platform running for real on this machine, step by step.

Starts a RabbitMQ, an S3 server (SeaweedFS) and a PostgreSQL on loopback, sets them up as the
platform would for specs/fraud.yaml (vhost, queues with a dead-letter queue, one broker user,
one object-store identity and one database role per workload, each limited to what the spec
declares; checkout's migration creates its table), starts checkout and inference with their
`gpc env` variables, sends scripted transactions, runs the trainer, shows predictions from the
model it trained and the transactions checkout recorded with their verdicts. Where Debian's
`prometheus` and `prometheus-pushgateway` are installed, a Prometheus scrapes it all with the scrape
jobs and rules gpc generates for `prod` (fraud_harness/observe.py) and the trainer pushes its run
metrics: the demo prints where to look (`--hold` keeps everything up until Enter). Everything it
started is stopped at the end, also on Ctrl-C or a failure.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from urllib.parse import quote

import psycopg
from fraud_harness import data, objectstore, postgres, rabbitmq
from fraud_harness import prometheus as prom
from fraud_harness.observe import compiled
from fraud_harness.observe import prometheus as derived_prometheus
from fraud_harness.prometheus import Prometheus
from fraud_harness.stack import LocalPlatform
from minio.error import S3Error

QUEUE, DLQ, BUCKET = "checkout-events", "checkout-events.dlq", "fraud-models"


def step(number: int, text: str) -> None:
    print(f"\n== {number}. {text}", flush=True)


def say(text: str = "") -> None:
    print(f"   {text}", flush=True)


def _interrupted(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=300, help="historical transactions to send (300)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (logs, data) at the end")
    parser.add_argument("--hold", action="store_true", help="keep everything running until Enter (to look around)")
    args = parser.parse_args()
    for problem in (rabbitmq.available(), objectstore.available(), postgres.available()):
        if problem:
            print(f"demo: {problem}", file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, _interrupted)
    workdir = Path(tempfile.mkdtemp(prefix="gpc-fraud-demo-"))
    observed = prom.available() is None
    if not observed:
        print(f"demo: no Prometheus this time: {prom.available()}", file=sys.stderr)
    platform = LocalPlatform(workdir, observed=observed)
    started = time.monotonic()
    try:
        run(platform, workdir, args.transactions)
        if args.hold:
            input("\n   Everything is still running: press Enter to stop it. ")
        return 0
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    except Exception as e:
        print(f"\ndemo failed: {type(e).__name__}: {e}", file=sys.stderr)
        print(f"logs are in {workdir}", file=sys.stderr)
        args.keep = True
        return 1
    finally:
        # A second Ctrl-C must not cut the cleanup short and leave servers running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\n== Stopping everything the demo started", flush=True)
        platform.close()
        say(f"apps, RabbitMQ (and its epmd), SeaweedFS and PostgreSQL{', Prometheus, Pushgateway' if observed else ''} "
            f"stopped; {time.monotonic() - started:.0f}s in all")
        if args.keep:
            say(f"working folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run(platform: LocalPlatform, workdir: Path, count: int) -> None:
    plan = platform.plan
    step(1, f"What the platform creates for {plan.spec.relative_to(plan.spec.parents[1])}")
    say(f"broker vhost {plan.vhost!r}; durable queues: {', '.join(q.name for q in plan.queues)}")
    for q in plan.queues:
        bounds = f"at most {q.arguments['x-max-length-bytes']} bytes, then {q.arguments['x-overflow']}"
        dead_letters = q.arguments.get("x-dead-letter-routing-key")
        say(f"  {q.name}: {bounds}" + (f"; dead-letters to {dead_letters!r}" if dead_letters else ""))
    for e in plan.exchanges:
        say(f"exchange {e.name!r} ({e.type}) routes to {e.queue!r} only")
    for workload, user in plan.broker_users.items():
        say(f"broker user {user.name!r} ({workload}): configure {user.configure!r} write {user.write!r} "
            f"read {user.read!r}")
    for workload, identity in plan.store_users.items():
        say(f"object-store identity {identity.name!r} ({workload}): {', '.join(identity.actions)}")
    for workload, role in sorted(plan.databases["database_roles"].items()):
        grants = role["table_privileges"] or ["owns schema " + plan.databases["databases"][role["database"]]["schema"]]
        say(f"database role {role['role']!r} ({workload}) on {role['database']!r}: {role['access']} "
            f"({', '.join(grants)})")
    say("checkout gets no object-store credentials; inference gets no broker user and no database role")

    step(2, "Starting RabbitMQ, SeaweedFS (S3) and PostgreSQL on loopback; checkout's migration runs")
    t = time.monotonic()
    platform.start()
    say(f"RabbitMQ on 127.0.0.1:{platform.broker.port} (PID {platform.broker.server.pid if platform.broker.server else '?'}),"
        f" S3 at {platform.store.endpoint} (PID {platform.store.server.pid if platform.store.server else '?'}),"
        f" PostgreSQL on 127.0.0.1:{platform.postgres.port}, ready in {time.monotonic() - t:.1f}s")
    say(f"python -m fraud_checkout.migrate (checkout's role): tables "
        f"{[r[0] for r in platform.rows('checkout', 'SELECT tablename FROM pg_tables WHERE tableowner = current_user')]}")

    step(3, "Starting inference and checkout with their `gpc env` variables")
    logs = workdir / "logs"
    inference = platform.service("fraud-inference", logs, overrides={"MODEL_POLL_SECONDS": "1"})
    inference.start_and_wait()
    checkout = platform.service("checkout", logs, service_urls={"fraud-inference": inference.url})
    checkout.start_and_wait()
    checkout.wait_ready()
    say(f"inference {inference.url} (PID {inference.pid}); MODEL_POLL_SECONDS=1 for the demo (30 in the spec)")
    say(f"checkout  {checkout.url} (PID {checkout.pid})")
    ready = inference.get("/readyz")
    say(f"inference /readyz -> {ready.status_code} {ready.json()['reason']}")
    server = watch(platform, workdir, checkout.port, inference.port)

    step(4, f"Sending {count} historical transactions (with known outcomes) through checkout")
    history = data.stream(count, fraud_rate=0.2, seed=2026)
    answers = [checkout.post("/checkout", event) for event in history]
    accepted = sum(a.status_code == 200 for a in answers)
    say(f"{accepted}/{count} accepted and published with publisher confirms; "
        f"{sum(e['label'] for e in history)} of them were fraud")
    say(f"verdict meanwhile: {answers[-1].json()['fraud']['reason']}")

    step(5, "Sending invalid transactions: checkout refuses them (422), nothing is published")
    for what, body in data.invalid_examples():
        answer = checkout.post("/checkout", body)
        problem = answer.json()["problems"][0]
        say(f"{answer.status_code} {what}: {problem['field']}: {problem['message']}")

    step(6, "A buggy producer bypasses checkout and publishes two malformed events")
    platform.broker.publish_as("checkout", QUEUE, [b'{"userId": "legacy", "amount": "12.5"}', b"not json"])
    say(f"queue {QUEUE!r} now holds {platform.broker.depth(QUEUE)} messages")

    step(7, "Running the trainer (python -m fraud_trainer)")
    trainer = platform.trainer(logs / "trainer.log", workdir / "scratch")
    code = trainer.run()
    for line in trainer.output().splitlines():
        if " fraud_trainer" in line:
            say(line.split(" ", 2)[2])
    if code != 0:
        raise RuntimeError(f"the trainer exited with {code}:\n{trainer.tail()}")
    dead = platform.broker.drain(DLQ)
    say(f"queue {QUEUE!r}: {platform.broker.depth(QUEUE)} left; dead-letter queue {DLQ!r}: {len(dead)} "
        f"message(s): {', '.join(repr(d[:40]) for d in dead)}")
    admin = platform.store.admin()
    keys = sorted(o.object_name for o in admin.list_objects(BUCKET, prefix="models/", recursive=True))
    say(f"bucket {BUCKET!r}: {', '.join(keys)}")
    if server is not None:
        runs = '{__name__=~"job_run_.*|fraud_trainer_.*",job="fraud-trainer"}'
        found = server.wait_query(runs)
        say("run metrics in Prometheus, pushed by the run to the Pushgateway: "
            + ", ".join(f"{r['metric']['__name__']}={float(r['value'][1]):g}" for r in found))
        say(f"  {server_url(server)}/graph?g0.expr={quote(runs)}")
    metadata = json.loads(admin.get_object(BUCKET, keys[0]).read())
    say(f"metadata: {metadata['n_samples']} samples, {metadata['class_balance']}, labels from "
        f"{metadata['label_source']!r}, holdout ROC AUC {metadata['evaluation'].get('holdout_roc_auc')}, "
        f"scikit-learn {metadata['sklearn_version']}")

    step(8, "Inference picks up the new model without a restart")
    inference.wait_ready(timeout=30)
    say(f"inference /readyz -> {inference.get('/readyz').json()} (same PID {inference.pid})")

    step(9, "New transactions through checkout, with verdicts from the trained model")
    say(f"{'amount':>9} {'category':<12} {'country':<7} {'card':<5} {'truth':<6} {'verdict':<8} score")
    fresh = data.stream(12, fraud_rate=0.4, seed=99)
    right = 0
    for event in fresh:
        fraud = checkout.post("/checkout", event).json()["fraud"]
        verdict = "FRAUD" if fraud["is_fraud"] else "ok"
        truth = "fraud" if event["label"] else "ok"
        right += fraud["is_fraud"] == event["label"]
        say(f"{event['amount']:>9.2f} {event['merchant_category']:<12} {event['country']:<7} "
            f"{'yes' if event['card_present'] else 'no':<5} {truth:<6} {verdict:<8} {fraud['score']:.3f}")
    say(f"{right}/{len(fresh)} verdicts match the known outcome; model version {fraud['model_version']}")

    step(10, "The transactions database: what checkout recorded, read with the trainer's read-only role")
    (total, judged, flagged), = platform.rows("fraud-trainer", "SELECT count(*), count(*) FILTER (WHERE verdict_available), "
                                              "count(*) FILTER (WHERE is_fraud) FROM transactions")
    say(f"{total} transactions recorded: {judged} with a verdict from the model, {flagged} flagged as fraud")
    for row in platform.rows("fraud-trainer", "SELECT transaction_id, amount, currency, is_fraud, round(score::numeric, 3), "
                                              "model_version FROM transactions WHERE verdict_available "
                                              "ORDER BY recorded_at DESC, transaction_id LIMIT 5"):
        say("  " + " | ".join(str(v) for v in row))
    second = platform.trainer(logs / "trainer-2.log", workdir / "scratch")
    if second.run() != 0:
        raise RuntimeError(f"the second trainer run failed:\n{second.tail()}")
    newest = sorted(o.object_name for o in admin.list_objects(BUCKET, prefix="models/", recursive=True)
                    if o.object_name.endswith("metadata.json"))[-1]
    say(f"the trainer's next run scores the served model's recorded verdicts against the outcomes: "
        f"{json.loads(admin.get_object(BUCKET, newest).read())['served_model']}")

    step(11, "Least privilege: inference may read models but not write them; the trainer may read "
             "transactions but not write them")
    reader = platform.store.client_for("fraud-inference")
    try:
        reader.put_object(BUCKET, "models/99999999T000000000000Z/model.json", io.BytesIO(b"{}"), 2)
        raise RuntimeError("inference could write the model bucket")
    except S3Error as e:
        say(f"inference writing {BUCKET!r}: {e.code}")
    try:
        platform.rows("fraud-trainer", "UPDATE transactions SET is_fraud = false RETURNING 1")
        raise RuntimeError("the trainer could change recorded transactions")
    except psycopg.errors.InsufficientPrivilege as e:
        say(f"the trainer updating transactions: {str(e).strip()}")


def server_url(server: Prometheus) -> str:
    return f"http://127.0.0.1:{server.port}"


def watch(platform: LocalPlatform, workdir: Path, checkout: int, inference: int) -> Prometheus | None:
    """A Prometheus configured from the monitors and rules gpc generates for `prod`, scraping the apps,
    the broker and the Pushgateway here (stopped with the apps)."""
    if platform.pushgateway is None or platform.broker.metrics_port is None:
        return None
    local = {"checkout": f"127.0.0.1:{checkout}", "fraud-inference": f"127.0.0.1:{inference}",
             "rabbitmq": f"127.0.0.1:{platform.broker.metrics_port}",
             "pushgateway": f"127.0.0.1:{platform.pushgateway.port}"}
    server = derived_prometheus(workdir / "prometheus", compiled(), "prod", local, interval="2s",
                                not_here={"minio": "SeaweedFS stands in for MinIO and exports other metrics"})
    platform.adopt(server)
    server.start_and_wait()
    url = server_url(server)
    say(f"Prometheus {url} (PID {server.pid}): scrape jobs and rules from gpc's prod monitors and PrometheusRules")
    say(f"  targets {url}/targets   alerts {url}/alerts   rules {url}/rules")
    say(f"  queue depth: {url}/graph?g0.expr=rabbitmq_queue_messages_ready")
    return server


if __name__ == "__main__":
    sys.exit(main())
