"""Reading a batch of events: every message is validated; invalid ones are dead-lettered at once.

Valid messages stay unacknowledged until the caller has stored the model trained on them
(`ack_through`); if the trainer dies first, the broker delivers them again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema.protocols import Validator
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic, BasicProperties

from .schema import problems

log = logging.getLogger("fraud_trainer.consume")

Delivery = tuple[Basic.Deliver | None, BasicProperties | None, bytes | None]


@dataclass
class Batch:
    events: list[dict[str, Any]] = field(default_factory=list)
    last_tag: int | None = None  # highest delivery tag of a valid event
    rejected: int = 0
    redelivered: int = 0


def collect(channel: BlockingChannel, deliveries: Iterator[Delivery], validator: Validator,
            max_events: int) -> Batch:
    """Valid events until `max_events` or until the queue stays idle (the consumer's inactivity timeout)."""
    batch = Batch()
    for method, properties, body in deliveries:
        if method is None:
            break
        assert body is not None
        found = _problems(validator, body)
        if found:
            # requeue=False: the broker moves it to the dead-letter queue, where an operator can
            # read it; retrying a message that breaks the schema would fail forever.
            message_id = properties.message_id if properties else None
            log.warning("dead-lettering message %s (delivery %d): %s", message_id or "without id",
                        method.delivery_tag, "; ".join(f"{p['field']}: {p['message']}" for p in found))
            channel.basic_nack(method.delivery_tag, requeue=False)
            batch.rejected += 1
            continue
        batch.events.append(json.loads(body))
        batch.last_tag = method.delivery_tag
        batch.redelivered += bool(method.redelivered)
        if len(batch.events) >= max_events:
            break
    return batch


def ack_through(channel: BlockingChannel, batch: Batch) -> None:
    if batch.last_tag is not None:
        # multiple=True acknowledges every outstanding delivery up to this tag: exactly the valid
        # events of this batch, since the invalid ones were already settled by their nack.
        channel.basic_ack(batch.last_tag, multiple=True)


def _problems(validator: Validator, body: bytes) -> list[dict[str, str]]:
    try:
        event = json.loads(body)
    except ValueError as e:
        return [{"field": "(message)", "message": f"not JSON: {e}"}]
    return problems(validator, event)
