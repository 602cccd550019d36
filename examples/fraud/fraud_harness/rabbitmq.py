"""A RabbitMQ node of our own (Debian's rabbitmq-server) on loopback, with its own data dir.

Everything the platform's Terraform would create (vhost, durable queues with their dead-letter
arguments, per-workload users and permission regexes) is loaded at boot from a definitions file,
so no rabbitmqctl round trip (about 1 s each) is needed. The node runs in the foreground as our
child (`RUNNING_UNDER_SYSTEMD` makes the script exec the Erlang VM, so the PID we hold is the
broker's), with an epmd of our own on its own port, both stopped by PID.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from .plan import Plan
from .ports import free_ports, listening
from .processes import Process, wait_for

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
ADMIN = "gpc-admin"


def available() -> str | None:
    """Why the broker cannot run here, or None."""
    if not SERVER.exists():
        return f"{SERVER} is missing (apt-get install rabbitmq-server; `make system-deps`)"
    if shutil.which("epmd") is None:
        return "epmd is missing (it comes with rabbitmq-server's Erlang)"
    return None


def password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(plan: Plan, admin_password: str) -> dict[str, Any]:
    users = [{"name": ADMIN, "password_hash": password_hash(admin_password),
              "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}]
    permissions = [{"user": ADMIN, "vhost": plan.vhost, "configure": ".*", "write": ".*", "read": ".*"}]
    for user in plan.broker_users.values():
        users.append({"name": user.name, "password_hash": password_hash(user.password),
                      "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []})
        permissions.append({"user": user.name, "vhost": plan.vhost, "configure": user.configure,
                            "write": user.write, "read": user.read})
    queues = [{"name": q.name, "vhost": plan.vhost, "durable": True, "auto_delete": False,
               "arguments": q.arguments} for q in plan.queues]
    exchanges = [{"name": e.name, "vhost": plan.vhost, "type": e.type, "durable": True, "auto_delete": False,
                  "internal": False, "arguments": {}} for e in plan.exchanges]
    bindings = [{"source": e.name, "vhost": plan.vhost, "destination": e.queue, "destination_type": "queue",
                 "routing_key": e.routing_key, "arguments": {}} for e in plan.exchanges]
    return {"users": users, "vhosts": [{"name": plan.vhost}], "permissions": permissions, "queues": queues,
            "exchanges": exchanges, "bindings": bindings, "policies": [], "parameters": [],
            "global_parameters": []}


# How a node says a port it was given is taken: a listener's (the AMQP or metrics port) and the
# Erlang distribution port's, which the node binds before any listener.
_PORT_TAKEN = ("eaddrinuse", "dist_port_already_used")


class Broker:
    def __init__(self, workdir: Path, plan: Plan, *, prometheus: bool = False) -> None:
        self.dir = workdir
        self.plan = plan
        self.admin_password = secrets.token_urlsafe(18)
        # rabbitmq_prometheus, as the broker image runs it in the cluster (tests/test_monitoring.py).
        self.prometheus = prometheus
        self.metrics_port: int | None = None
        self._pick_ports()
        self.epmd: Process | None = None
        self.server: Process | None = None

    def url(self, user: str, password: str) -> str:
        from urllib.parse import quote

        return f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}/" \
               f"{quote(self.plan.vhost, safe='')}"

    def _environ(self) -> dict[str, str]:
        d = self.dir
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(d / "home"), "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"), "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq"), "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"), "RABBITMQ_PID_FILE": str(d / "rabbit.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1", "ERL_EPMD_PORT": str(self.epmd_port),
            "RUNNING_UNDER_SYSTEMD": "1",
        }

    def start(self, timeout: float = 60) -> Broker:
        """Start the node. A port picked free can be taken by another test's server before the
        broker binds it (parallel workers); a first start then retries on fresh ports."""
        first_start = self.server is None and not (self.dir / "mnesia").exists()
        for attempt in range(3):
            try:
                return self._start(timeout)
            except RuntimeError as err:
                output = self.dir / "server.log"
                said = str(err) + (output.read_text(errors="replace") if output.is_file() else "")
                clash = any(sign in said for sign in _PORT_TAKEN)
                if not (first_start and clash) or attempt == 2:
                    raise
                self.close()
                for stale in ("mnesia", "log"):
                    shutil.rmtree(self.dir / stale, ignore_errors=True)
                output.unlink(missing_ok=True)
                self._pick_ports()
        raise AssertionError("unreachable")

    def _pick_ports(self) -> None:
        # All in one call, so that no two of them can be the same port.
        ports = free_ports(4 if self.prometheus else 3)
        self.port, self.dist_port, self.epmd_port = ports[:3]
        self.metrics_port = ports[3] if self.prometheus else None
        self.node = f"fraud{os.getpid()}p{self.port}@localhost"

    def _start(self, timeout: float) -> Broker:
        problem = available()
        if problem:
            raise RuntimeError(problem)
        d = self.dir
        (d / "home").mkdir(parents=True, exist_ok=True)
        plugins = "rabbitmq_prometheus" if self.metrics_port is not None else ""
        (d / "enabled_plugins").write_text(f"[{plugins}].\n")
        (d / "rabbitmq-env.conf").write_text("")
        (d / "definitions.json").write_text(json.dumps(definitions(self.plan, self.admin_password), indent=1))
        (d / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            f"load_definitions = {d / 'definitions.json'}\n"
            "log.console = false\nlog.file.level = info\n"
            + (f"prometheus.tcp.port = {self.metrics_port}\nprometheus.tcp.ip = 127.0.0.1\n"
               if self.metrics_port is not None else "")
        )
        if self.epmd is None:
            self.epmd = Process("epmd", [shutil.which("epmd") or "epmd", "-port", str(self.epmd_port),
                                         "-address", "127.0.0.1"], d / "epmd.log").start()
            wait_for("epmd", lambda: listening(self.epmd_port), 10, self.epmd)
        self.server = Process("rabbitmq", [str(SERVER)], d / "server.log", env=self._environ()).start()
        wait_for(f"RabbitMQ on port {self.port}", self._usable, timeout, self.server, interval=0.1)
        return self

    def _usable(self) -> bool:
        with self.admin_channel() as channel:  # definitions loaded: the admin, queues and exchanges exist
            for q in self.plan.queues:
                channel.queue_declare(q.name, passive=True)
            for e in self.plan.exchanges:
                channel.exchange_declare(e.name, passive=True)
        return True

    def stop(self) -> None:
        """Stop the node (SIGTERM: a clean shutdown that keeps persistent messages)."""
        if self.server is not None:
            self.server.stop(grace=30)
            self.server = None

    def restart(self, timeout: float = 60) -> None:
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        self.stop()
        if self.epmd is not None:
            self.epmd.stop(grace=5)
            self.epmd = None

    @contextmanager
    def admin_channel(self) -> Iterator[BlockingChannel]:
        params = pika.URLParameters(self.url(ADMIN, self.admin_password))
        params.connection_attempts = 1
        params.socket_timeout = 2
        connection = pika.BlockingConnection(params)
        try:
            yield connection.channel()
        finally:
            if connection.is_open:
                connection.close()

    def depth(self, queue: str) -> int:
        """Messages ready in `queue` (not counting delivered-but-unacknowledged ones)."""
        with self.admin_channel() as channel:
            return int(channel.queue_declare(queue, passive=True).method.message_count)

    def drain(self, queue: str) -> list[bytes]:
        """Take (and acknowledge) every ready message of `queue`."""
        return [body for _, body in self.messages(queue)]

    def messages(self, queue: str) -> list[tuple[pika.BasicProperties, bytes]]:
        """Take (and acknowledge) every ready message of `queue`, with its properties."""
        taken: list[tuple[pika.BasicProperties, bytes]] = []
        with self.admin_channel() as channel:
            while True:
                method, properties, body = channel.basic_get(queue)
                if method is None:
                    return taken
                taken.append((properties, body))
                channel.basic_ack(method.delivery_tag)

    def purge(self) -> None:
        with self.admin_channel() as channel:
            for q in self.plan.queues:
                channel.queue_purge(q.name)

    def exchange_of(self, queue: str) -> str:
        return next(e.name for e in self.plan.exchanges if e.queue == queue)

    def publish_as(self, workload: str, queue: str, bodies: list[bytes]) -> None:
        """Publish to `queue`'s exchange as `workload`'s broker user, persistently, with confirms,
        bypassing checkout's validation."""
        user = self.plan.broker_users[workload]
        connection = pika.BlockingConnection(pika.URLParameters(self.url(user.name, user.password)))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            for body in bodies:
                channel.basic_publish(self.exchange_of(queue), queue, body, pika.BasicProperties(delivery_mode=2),
                                      mandatory=True)
        finally:
            connection.close()

    def fill(self, queue: str, chunk: int = 1 << 20) -> int:
        """Publish `chunk`-byte messages as the admin until the broker refuses one (basic.nack):
        the queue is then at its bound. Returns how many it accepted."""
        accepted = 0
        with self.admin_channel() as channel:
            channel.confirm_delivery()
            while True:
                try:
                    channel.basic_publish(self.exchange_of(queue), queue, b"\0" * chunk, mandatory=True)
                except pika.exceptions.NackError:
                    return accepted
                accepted += 1
