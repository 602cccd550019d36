"""Prometheus metrics of the inference API: the HTTP convention gpc's alerts read (`http_requests_total`
by `code`, for the availability objective's burn rates) and the latency histogram, on GET /metrics."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

Scope = dict[str, Any]


class HttpMetrics:
    """One registry per app instance, so tests can build several apps in one process."""

    def __init__(self, routes: set[str]) -> None:
        self.routes = routes  # a path outside them counts as "other": no label per scanned URL
        self.registry = CollectorRegistry()
        self.requests = Counter("http_requests", "HTTP requests answered, by method, route and status code",
                                ["method", "route", "code"], registry=self.registry)
        self.duration = Histogram("http_request_duration_seconds", "Time to answer an HTTP request",
                                  ["method", "route"], registry=self.registry)

    def record(self, method: str, path: str, code: int, seconds: float) -> None:
        route = path if path in self.routes else "other"
        self.requests.labels(method, route, str(code)).inc()
        self.duration.labels(method, route).observe(seconds)

    async def endpoint(self, _: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class Measured:
    """ASGI middleware: counts and times every HTTP response (a crash counts as a 500)."""

    def __init__(self, app: Any, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def answer(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, answer)
        finally:
            self.metrics.record(scope["method"], scope["path"], status, time.perf_counter() - start)
