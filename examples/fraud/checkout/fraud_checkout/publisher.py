"""Persistent publishing with publisher confirms on one broker connection owned by one thread.

pika's BlockingConnection is not thread-safe, so every broker call happens on the publisher
thread; request handlers hand it a message and wait on a Future. A Future completes with
success only after the broker confirmed the message (it is then on disk in a durable queue).
When the connection drops (broker restart, network), the thread reconnects with backoff and
publishes the messages still waiting, until each one's deadline; a message that misses its
deadline fails, and the client is told it was not accepted. A message may be published twice
when the connection drops between the broker's confirm and our receipt of it: consumers
de-duplicate on `message_id` (the transaction id).

Messages go to the queue's own exchange (`EVENTS_EXCHANGE`), the only one this workload's broker
user may write to. The queue is bounded and refuses new messages when full (`x-overflow:
reject-publish`): the broker answers the publish with `basic.nack`. That is back-pressure, not a
lost connection, so the message is not retried here: it fails at once with `QueueFull`, and the
client is told to come back later. Retrying inside checkout would hold every request for the
whole deadline while the consumer (a scheduled job) may not drain the queue for hours.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field

import pika
import pika.exceptions

log = logging.getLogger("fraud_checkout.publisher")

PUBLISH_TIMEOUT_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 2.0


class NotPublished(Exception):
    """The broker did not confirm the message; the reason is safe to show to the client."""


class QueueFull(NotPublished):
    """The broker refused the message (`basic.nack`): the queue is at its bound."""


@dataclass
class _Request:
    body: bytes
    message_id: str
    deadline: float
    future: Future[None] = field(default_factory=Future)
    started: bool = False


def _settle(future: Future[None], error: Exception | None = None) -> None:
    try:
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
    except InvalidStateError:  # cancelled by the waiting handler meanwhile
        pass


class Publisher:
    def __init__(self, amqp_url: str, exchange: str, queue_name: str) -> None:
        params = pika.URLParameters(amqp_url)
        params.connection_attempts = 1
        params.socket_timeout = 5
        params.blocked_connection_timeout = 10  # a broker in a resource alarm must not hang us
        params.heartbeat = 30
        params.client_properties = {"connection_name": "checkout"}
        self._params = params
        self._exchange = exchange
        self._queue_name = queue_name
        self._inbox: queue.Queue[_Request] = queue.Queue()
        self._waiting: deque[_Request] = deque()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._connection: pika.BlockingConnection | None = None
        self._channel: pika.adapters.blocking_connection.BlockingChannel | None = None
        self._thread = threading.Thread(target=self._run, name="amqp-publisher", daemon=True)

    @property
    def ready(self) -> bool:
        return self._connected.is_set() and self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def submit(self, body: bytes, message_id: str, timeout: float = PUBLISH_TIMEOUT_SECONDS) -> Future[None]:
        request = _Request(body=body, message_id=message_id, deadline=time.monotonic() + timeout)
        if self._stop.is_set():
            _settle(request.future, NotPublished("checkout is shutting down"))
        else:
            self._inbox.put(request)
        return request.future

    # --- the publisher thread -------------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            if self._channel is None:
                try:
                    self._connect()
                    backoff = 0.2
                except Exception as e:  # any failure to connect: retry, never die
                    log.warning("broker not reachable (%s: %s); retrying in %.1fs", type(e).__name__, e, backoff)
                    self._expire(wait=backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                    continue
            request = self._next(timeout=0.5)
            try:
                if request is None:
                    assert self._connection is not None
                    self._connection.process_data_events(time_limit=0)  # heartbeats, notice a close
                else:
                    self._publish(request)
            except pika.exceptions.ChannelClosedByBroker as e:
                # The broker refused this message on this channel (e.g. 403 no permission,
                # 404 no such exchange); retrying would fail the same way.
                log.error("broker closed the channel: %s %s", e.reply_code, e.reply_text)
                if request is not None:
                    _settle(request.future, NotPublished(f"broker refused the message: {e.reply_text}"))
                self._channel = None
            except Exception as e:  # connection lost: keep the message and publish it again
                if request is not None and not request.future.done():
                    self._waiting.appendleft(request)
                log.warning("broker connection lost (%s: %s); reconnecting", type(e).__name__, e)
                self._disconnect()
        self._disconnect()
        self._expire(wait=0, everything=True)

    def _connect(self) -> None:
        if self._connection is None or not self._connection.is_open:
            self._connection = pika.BlockingConnection(self._params)
        channel = self._connection.channel()
        channel.confirm_delivery()
        self._channel = channel
        self._connected.set()
        log.info("connected to the broker; publishing to exchange %r (queue %r)", self._exchange, self._queue_name)

    def _disconnect(self) -> None:
        self._connected.clear()
        self._channel = None
        connection, self._connection = self._connection, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # already broken; nothing to clean up
                pass

    def _next(self, timeout: float) -> _Request | None:
        while True:
            if self._waiting:
                request = self._waiting.popleft()
            else:
                try:
                    request = self._inbox.get(timeout=timeout)
                except queue.Empty:
                    return None
            if not request.started:
                if not request.future.set_running_or_notify_cancel():
                    continue  # the client went away before we started
                request.started = True
            if time.monotonic() > request.deadline:
                _settle(request.future, NotPublished("the broker did not confirm the message in time"))
                continue
            return request

    def _expire(self, wait: float, everything: bool = False) -> None:
        """While disconnected: fail what is past its deadline (or everything), keep the rest."""
        deadline = time.monotonic() + wait
        while True:
            try:
                self._waiting.append(self._inbox.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        now = time.monotonic()
        keep: deque[_Request] = deque()
        for request in self._waiting:
            if request.future.done():
                continue
            if everything or now > request.deadline:
                if request.started or request.future.set_running_or_notify_cancel():
                    reason = "checkout is shutting down" if everything else "the broker is unavailable"
                    _settle(request.future, NotPublished(reason))
            else:
                keep.append(request)
        self._waiting = keep

    def _publish(self, request: _Request) -> None:
        assert self._channel is not None
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=request.message_id,
            timestamp=int(time.time()),
            app_id="checkout",
        )
        try:
            # The platform declares the exchange, the queue and the binding; we only publish. The
            # exchange routes to the queue alone; the routing key is the queue's name for readability.
            self._channel.basic_publish(
                exchange=self._exchange, routing_key=self._queue_name, body=request.body, properties=properties,
                mandatory=True,
            )
        except pika.exceptions.UnroutableError:
            _settle(request.future, NotPublished(f"exchange {self._exchange!r} routes to no queue"))
            return
        except pika.exceptions.NackError:
            log.warning("queue %r is full: the broker refused message %s", self._queue_name, request.message_id)
            _settle(request.future, QueueFull(f"queue {self._queue_name!r} is full; the broker refused the message"))
            return
        _settle(request.future)
