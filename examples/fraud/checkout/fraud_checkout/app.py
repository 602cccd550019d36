"""The checkout HTTP API (starlette)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

import httpx
import psycopg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import verdict
from .config import Settings, redact
from .ledger import Ledger
from .metrics import HttpMetrics, Measured
from .publisher import PUBLISH_TIMEOUT_SECONDS, NotPublished, Publisher, QueueFull
from .schema import load_validator, problems

log = logging.getLogger("fraud_checkout")
QUEUE_FULL_RETRY_SECONDS = 60


def create_app(settings: Settings, publisher: Publisher | None = None) -> Starlette:
    validator = load_validator(settings.message_schema)
    publisher = publisher or Publisher(settings.amqp_url, settings.exchange, settings.queue)
    ledger = Ledger(settings.database_url)
    http = httpx.AsyncClient()

    async def checkout(request: Request) -> JSONResponse:
        try:
            event = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "the body is not valid JSON"}, status_code=400)
        found = problems(validator, event)
        if found:
            return JSONResponse({"error": "invalid transaction", "problems": found}, status_code=422)
        transaction_id = event["transaction_id"]
        body = json.dumps(event, separators=(",", ":"), sort_keys=True).encode()
        try:
            await _confirmed(publisher, body, transaction_id)
        except NotPublished as e:
            log.warning("transaction %s not accepted: %s", transaction_id, e)
            # A full queue drains only when the trainer runs: ask clients to back off for longer
            # than after a broker hiccup, and say which of the two it was.
            full = isinstance(e, QueueFull)
            return JSONResponse(
                {"status": "not_accepted", "transaction_id": transaction_id, "error": str(e),
                 "reason": "queue_full" if full else "broker_unavailable",
                 "hint": "retry later with the same transaction_id"},
                status_code=503,
                headers={"Retry-After": str(QUEUE_FULL_RETRY_SECONDS if full else 2)},
            )
        fraud = await verdict.ask(http, settings.fraud_url, event, settings.fraud_timeout_seconds)
        # The event is published (the trainer will learn from it) whether or not the record lands:
        # a database outage costs the record, and the answer says so, not the transaction.
        try:
            await ledger.record(event, fraud)
            recorded = True
        except psycopg.Error as e:
            log.warning("transaction %s not recorded: %s", transaction_id, e)
            recorded = False
        return JSONResponse({"status": "accepted", "transaction_id": transaction_id, "event": event, "fraud": fraud,
                             "recorded": recorded})

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        if publisher.ready:
            return JSONResponse({"ready": True})
        return JSONResponse({"ready": False, "reason": "no working broker connection"}, status_code=503)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        log.info("checkout starting: broker %s, exchange %r, inference %s, database %s",
                 redact(settings.amqp_url), settings.exchange, settings.fraud_url, redact(settings.database_url))
        publisher.start()
        try:
            yield
        finally:
            await asyncio.to_thread(publisher.stop)
            await http.aclose()
            await ledger.close()

    metrics = HttpMetrics({"/checkout", "/healthz", "/readyz"})
    return Starlette(
        routes=[
            Route("/checkout", checkout, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
        ],
        middleware=[Middleware(Measured, metrics=metrics)],
        lifespan=lifespan,
    )


async def _confirmed(publisher: Publisher, body: bytes, message_id: str) -> None:
    future = publisher.submit(body, message_id, PUBLISH_TIMEOUT_SECONDS)
    # The publisher thread enforces the deadline and always settles the future; the slack only
    # covers a publish already in flight at the deadline.
    try:
        await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), PUBLISH_TIMEOUT_SECONDS + 10)
    except TimeoutError:
        raise NotPublished("the broker did not confirm the message in time") from None


