"""The inference HTTP API (starlette)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .config import Settings
from .metrics import HttpMetrics, Measured
from .store import ModelHolder, client

log = logging.getLogger("fraud_inference")


def check_transaction(body: Any) -> list[dict[str, str]]:
    """What is wrong with a prediction request (the fields the model reads)."""
    if not isinstance(body, dict):
        return [{"field": "(message)", "message": "the body must be a JSON object"}]
    found = []
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount) or amount < 0:
        found.append({"field": "amount", "message": "required, a number >= 0"})
    if "card_present" in body and not isinstance(body["card_present"], bool):
        found.append({"field": "card_present", "message": "must be true or false"})
    for field in ("transaction_id", "merchant_category", "country", "timestamp"):
        if field in body and not isinstance(body[field], str):
            found.append({"field": field, "message": "must be a string"})
    return found


def create_app(settings: Settings, holder: ModelHolder | None = None) -> Starlette:
    holder = holder or ModelHolder(client(settings), settings.bucket)
    stop = threading.Event()

    def why_no_model() -> str:
        reason = f"no model in bucket {settings.bucket!r} yet"
        return reason + (f"; object store: {holder.last_error}" if holder.last_error else "")

    def no_model() -> JSONResponse:
        retry = str(math.ceil(settings.poll_seconds))
        return JSONResponse({"error": "no model available yet", "reason": why_no_model()}, status_code=503,
                            headers={"Retry-After": retry})

    async def predict(request: Request) -> JSONResponse:
        loaded = holder.current
        if loaded is None:
            return no_model()
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "the body is not valid JSON"}, status_code=400)
        found = check_transaction(body)
        if found:
            return JSONResponse({"error": "invalid transaction", "problems": found}, status_code=422)
        score = loaded.model.score(body)
        return JSONResponse({
            "transaction_id": body.get("transaction_id"),
            "is_fraud": score >= loaded.model.threshold,
            "score": round(score, 6),
            "threshold": loaded.model.threshold,
            "model_version": loaded.model.version,
        })

    async def model(_: Request) -> JSONResponse:
        loaded = holder.current
        if loaded is None:
            return no_model()
        return JSONResponse({"version": loaded.model.version, "kind": loaded.model.kind, "metadata": loaded.metadata})

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        if holder.current is None:
            return JSONResponse({"ready": False, "reason": why_no_model()}, status_code=503)
        return JSONResponse({"ready": True, "model_version": holder.current.model.version,
                             "store_error": holder.last_error})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        log.info("inference starting: bucket %r at %s, polling every %gs",
                 settings.bucket, settings.s3_endpoint, settings.poll_seconds)
        poller = threading.Thread(target=holder.poll, args=(stop, settings.poll_seconds), name="model-poller",
                                  daemon=True)
        poller.start()
        try:
            yield
        finally:
            stop.set()
            await asyncio.to_thread(poller.join, 10)

    metrics = HttpMetrics({"/predict", "/model", "/healthz", "/readyz"})
    return Starlette(
        routes=[
            Route("/predict", predict, methods=["POST"]),
            Route("/model", model, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics.endpoint, methods=["GET"]),
        ],
        middleware=[Middleware(Measured, metrics=metrics)],
        lifespan=lifespan,
    )
