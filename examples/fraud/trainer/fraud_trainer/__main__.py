"""`python -m fraud_trainer`: train on the events waiting in the queue, store a new model version.

Exit 0 after storing a model, or when there is nothing new; non-zero on any failure, with
every valid event still unacknowledged, so the broker delivers it again to the next run.
"""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime

import pika

from . import served, store
from .config import ConfigError, Settings, from_env, redact
from .consume import ack_through, collect
from .dataset import Dataset
from .runmetrics import Run, push
from .schema import load_validator

log = logging.getLogger("fraud_trainer")

MAX_EVENTS_PER_MODEL = 5000  # also the prefetch: every event of a batch is held unacked
MAX_MODELS_PER_RUN = 20  # bounds one run when events arrive as fast as we train
IDLE_SECONDS = 1.5  # the queue counts as drained after this long without a delivery


def run(settings: Settings, report: Run | None = None) -> int:
    """The number of model versions stored (and what each stored, in `report`)."""
    report = report if report is not None else Run()
    validator = load_validator(settings.message_schema)
    dataset = Dataset(settings.scratch)
    params = pika.URLParameters(settings.amqp_url)
    params.heartbeat = 300  # no heartbeats are sent while training
    params.client_properties = {"connection_name": "fraud-trainer"}
    log.info("consuming %r at %s (invalid messages go to %r)", settings.queue, redact(settings.amqp_url),
             settings.dead_letter_queue)
    connection = pika.BlockingConnection(params)
    try:
        channel = connection.channel()
        channel.basic_qos(prefetch_count=MAX_EVENTS_PER_MODEL)
        deliveries = channel.consume(settings.queue, inactivity_timeout=IDLE_SECONDS)
        s3 = store.client(settings)
        stored = 0
        for _ in range(MAX_MODELS_PER_RUN):
            batch = collect(channel, deliveries, validator, MAX_EVENTS_PER_MODEL)
            if batch.rejected:
                log.warning("%d invalid message(s) dead-lettered to %r", batch.rejected, settings.dead_letter_queue)
            if not batch.events:
                break
            log.info("received %d valid event(s) (%d redelivered)", len(batch.events), batch.redelivered)
            from .model import train  # scikit-learn takes seconds to import: only when there is work

            history = dataset.merge(batch.events)
            now = datetime.now(UTC)
            version = store.new_version(now)
            document, metadata = train(history, version, now)
            metadata["served_model"] = served.score(settings.database_url, batch.events)
            log.info("the served model on this batch: %s", metadata["served_model"])
            log.info("trained %s on %d event(s) (%s; fraud %d, legitimate %d)", document["kind"],
                     metadata["n_samples"], metadata["label_source"], metadata["class_balance"]["fraud"],
                     metadata["class_balance"]["legitimate"])
            log.info("storing model version %s in bucket %r", version, settings.bucket)
            store.put_version(s3, settings.bucket, version, document, metadata)
            ack_through(channel, batch)  # only now: the model trained on these events is stored
            log.info("stored model version %s; acknowledged %d event(s)", version, len(batch.events))
            stored += 1
            report.models_stored = stored
            report.dataset_size = metadata["n_samples"]
            report.model_version = version
            report.roc_auc = metadata["evaluation"].get("holdout_roc_auc")
            if len(batch.events) < MAX_EVENTS_PER_MODEL:
                break
        if not stored:
            log.info("nothing new to train on")
        return stored  # closing the connection returns any message delivered but not used
    finally:
        if connection.is_open:
            connection.close()


def main() -> int:
    try:
        settings = from_env()
    except ConfigError as e:
        print(f"fraud-trainer: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    report, started = Run(), time.monotonic()
    try:
        run(settings, report)
    except Exception:
        log.exception("training run failed; every event not acknowledged goes back to the queue")
        succeeded = False
    else:
        succeeded = True
    if settings.pushgateway_url:
        push(settings.pushgateway_url, settings.job_name, report, succeeded, time.monotonic() - started, time.time())
    return 0 if succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
