"""What the platform creates for a spec, read from gpc's own IR and names (as the Terraform
target does): the broker vhost, queues, per-workload users and permissions; the buckets and
per-workload object-store identities; and each workload's environment, which is the
`gpc env` wiring contract with the local endpoints and real credentials filled in. The
databases, roles and grants are the Terraform services module's own data (`databases`,
`database_roles`), loaded by fraud_harness.postgres as tests/test_terraform_postgres.py does."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "specs" / "fraud.yaml"


@dataclass(frozen=True)
class BrokerUser:
    name: str
    configure: str
    write: str
    read: str
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18), compare=False)


@dataclass(frozen=True)
class StoreUser:
    name: str
    actions: tuple[str, ...]  # SeaweedFS identity actions, e.g. "Read:fraud-models"
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24), compare=False)


@dataclass(frozen=True)
class Queue:
    name: str
    arguments: dict[str, Any]  # x-max-length-bytes, x-overflow, x-dead-letter-*, ...


@dataclass(frozen=True)
class Exchange:
    """A queue's own exchange: the only thing its publishers may write to."""

    name: str
    type: str
    queue: str  # the one queue it is bound to
    routing_key: str


@dataclass
class Plan:
    spec: Path
    vhost: str
    queues: list[Queue]
    exchanges: list[Exchange]
    buckets: dict[str, bool]  # name -> versioning
    broker_users: dict[str, BrokerUser]  # by workload
    store_users: dict[str, StoreUser]  # by workload
    uses: dict[str, list[Any]]  # workload -> its ir.Use entries
    # The services module's locals `databases` and `database_roles` (none: no database).
    databases: dict[str, Any] = field(default_factory=lambda: {"databases": {}, "database_roles": {}})


def store_actions(uses: list[tuple[str, str]]) -> tuple[str, ...]:
    """Object-store grants: read = get + list, write = put + delete + list, readwrite = both."""
    actions: list[str] = []
    for bucket, access in uses:
        if access in ("read", "readwrite"):
            actions += [f"Read:{bucket}", f"List:{bucket}"]
        if access in ("write", "readwrite"):
            actions += [f"Write:{bucket}", f"List:{bucket}"]
    return tuple(sorted(set(actions)))


def broker_setup(local: dict[str, Any]) -> tuple[list[Queue], list[Exchange], dict[str, BrokerUser]]:
    """Queues, exchanges (with their bindings) and users, from the terraform services module's
    locals: the same names, arguments and permission regexes `terraform apply` would create."""
    queues = [Queue(name, q["arguments"]) for name, q in sorted(local["queues"].items())]
    exchanges = [Exchange(name, e["type"], e["queue"], e["routing_key"]) for name, e in sorted(local["exchanges"].items())]
    users = {w: BrokerUser(u["user"], u["configure"], u["write"], u["read"]) for w, u in local["broker_users"].items()}
    return queues, exchanges, users


def load(spec: Path = SPEC) -> Plan:
    from compiler import names
    from compiler.pipeline import check
    from targets.terraform.data import services

    result = check(spec)
    if not result.ok or result.platform is None:
        raise ValueError(f"{spec} does not validate: {[d.message for d in result.diagnostics]}")
    platform = result.platform
    # The broker is set up exactly as the Terraform target's services module would: the same
    # queues, dead-letter arguments and per-workload permission regexes, read from its data.
    broker = services(platform, platform.environments[0]).entries()
    queues, exchanges, broker_users = broker_setup(broker)
    store_users, uses = {}, {}
    for w in platform.workloads:
        uses[w.name] = list(w.uses)
        bucket_uses = [(u.target, u.access or "") for u in w.uses if u.kind == "bucket"]
        if bucket_uses:
            store_users[w.name] = StoreUser(names.object_store_user(w.name), store_actions(bucket_uses))
    return Plan(spec=spec, vhost=broker["broker_vhost"], queues=queues, exchanges=exchanges,
                buckets={b.name: b.versioning for b in platform.buckets}, broker_users=broker_users,
                store_users=store_users, uses=uses,
                databases={k: broker[k] for k in ("databases", "database_roles")})


@cache
def contract(spec: Path, workload: str) -> tuple[tuple[str, str, bool], ...]:
    """`gpc env --format json`: (name, value, secret) of every variable, as a user would run it."""
    gpc = Path(sys.executable).with_name("gpc")
    out = subprocess.run([str(gpc), "env", str(spec), workload, "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    return tuple((v["name"], v["value"], bool(v["secret"])) for v in json.loads(out))


def workload_env(plan: Plan, workload: str, *, amqp_port: int, s3_endpoint: str,
                 service_urls: dict[str, str], volume_paths: dict[str, str], port: int | None = None,
                 overrides: dict[str, str] | None = None, pg_port: int | None = None,
                 pg_passwords: dict[str, str] | None = None, pushgateway_url: str | None = None) -> dict[str, str]:
    """The contract's variables, with values for this local platform. Only contract names; a job's
    PUSHGATEWAY_URL only when a local Pushgateway runs (else the run pushes nothing)."""
    from compiler import names

    env = {name: value for name, value, _ in contract(plan.spec, workload)}
    if names.AMQP_URL_KEY in env:
        url = urlsplit(env[names.AMQP_URL_KEY])
        user = plan.broker_users[workload]
        assert unquote(url.username or "") == user.name, (url.username, user.name)
        vhost = unquote(url.path.lstrip("/"))
        assert vhost == plan.vhost, (vhost, plan.vhost)
        env[names.AMQP_URL_KEY] = (f"amqp://{quote(user.name, safe='')}:{quote(user.password, safe='')}"
                                   f"@127.0.0.1:{amqp_port}/{quote(vhost, safe='')}")
    if names.S3_ACCESS_KEY in env:
        store_user = plan.store_users[workload]
        assert env[names.S3_ACCESS_KEY] == store_user.name
        env[names.S3_SECRET_KEY] = store_user.secret_key
        env["S3_ENDPOINT"] = s3_endpoint
    if "DATABASE_URL" in env:
        # The role and database are the contract's (asserted to be Terraform's); the port and
        # this workload's own password are the local server's.
        url = urlsplit(env["DATABASE_URL"])
        role = plan.databases["database_roles"][workload]
        assert unquote(url.username or "") == role["role"] == env["PGUSER"], (url.username, role)
        assert url.path.lstrip("/") == role["database"] == env["PGDATABASE"], (url.path, role)
        assert pg_port is not None and pg_passwords is not None, f"{workload} uses a database: start Postgres"
        password = pg_passwords[workload]
        env["DATABASE_URL"] = url._replace(netloc=f"{quote(role['role'], safe='')}:{quote(password, safe='')}"
                                                  f"@127.0.0.1:{pg_port}").geturl()
        env["PGHOST"], env["PGPORT"], env["PGPASSWORD"] = "127.0.0.1", str(pg_port), password
    if names.PUSHGATEWAY_URL_KEY in env:
        if pushgateway_url is None:
            del env[names.PUSHGATEWAY_URL_KEY]
        else:
            env[names.PUSHGATEWAY_URL_KEY] = pushgateway_url
    for use in plan.uses[workload]:
        prefix = names.env_prefix(use.alias)
        if use.kind == "service":
            env[_known(env, f"{prefix}_URL")] = service_urls[use.target]
        if use.kind == "volume":
            env[_known(env, f"{prefix}_PATH")] = volume_paths[use.target]
    if port is not None:
        env[_known(env, "PORT")] = str(port)
    for name, value in (overrides or {}).items():
        env[_known(env, name)] = value
    left = [n for n, v in env.items() if "CHANGE-ME" in v]
    assert not left, f"placeholders left in {workload}'s environment: {left}"
    return env


def _known(env: dict[str, str], name: str) -> str:
    if name not in env:
        raise KeyError(f"{name} is not in the wiring contract (gpc env): {sorted(env)}")
    return name
