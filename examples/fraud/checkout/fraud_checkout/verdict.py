"""Asking inference for a verdict, bounded by FRAUD_TIMEOUT_SECONDS: an answer or a clear "unavailable"."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def ask(client: httpx.AsyncClient, fraud_url: str, event: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        # httpx's timeout bounds each phase; the outer one bounds the whole exchange.
        async with asyncio.timeout(timeout):
            response = await client.post(f"{fraud_url}/predict", json=event, timeout=timeout)
    except (TimeoutError, httpx.TimeoutException):
        return _unavailable(f"inference did not answer within {timeout:g}s")
    except httpx.HTTPError as e:
        return _unavailable(f"inference unreachable ({type(e).__name__})")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        reason = body.get("error") if isinstance(body, dict) else None
        return _unavailable(f"inference answered {response.status_code}" + (f": {reason}" if reason else ""))
    try:
        return {
            "available": True,
            "is_fraud": bool(body["is_fraud"]),
            "score": float(body["score"]),
            "model_version": str(body["model_version"]),
        }
    except (KeyError, TypeError, ValueError):
        return _unavailable("inference answered with an unexpected body")


def _unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "is_fraud": None, "reason": reason}
