"""Configuration: only the wiring-contract variables of specs/fraud.yaml (`gpc env specs/fraud.yaml checkout`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit


class ConfigError(Exception):
    """One or more contract variables are missing or malformed."""


@dataclass(frozen=True)
class Settings:
    port: int
    amqp_url: str
    exchange: str
    queue: str
    message_schema: str
    fraud_url: str
    fraud_timeout_seconds: float
    database_url: str  # the transactions database, as checkout's own role (the owner)
    log_level: str


def from_env(env: Mapping[str, str] = os.environ) -> Settings:
    required = ("PORT", "AMQP_URL", "EVENTS_EXCHANGE", "EVENTS_QUEUE", "EVENTS_MESSAGE_SCHEMA", "FRAUD_URL",
                "DATABASE_URL")
    missing = [n for n in required if not env.get(n)]
    if missing:
        raise ConfigError(f"missing environment variables: {', '.join(missing)} (see `gpc env specs/fraud.yaml checkout`)")
    try:
        port = int(env["PORT"])
        timeout = float(env.get("FRAUD_TIMEOUT_SECONDS", "2"))
    except ValueError as e:
        raise ConfigError(f"PORT and FRAUD_TIMEOUT_SECONDS must be numbers: {e}") from None
    if timeout <= 0:
        raise ConfigError("FRAUD_TIMEOUT_SECONDS must be positive")
    return Settings(
        port=port,
        amqp_url=env["AMQP_URL"],
        exchange=env["EVENTS_EXCHANGE"],
        queue=env["EVENTS_QUEUE"],
        message_schema=env["EVENTS_MESSAGE_SCHEMA"],
        fraud_url=env["FRAUD_URL"].rstrip("/"),
        fraud_timeout_seconds=timeout,
        database_url=env["DATABASE_URL"],
        log_level=env.get("LOG_LEVEL", "info").lower(),
    )


def redact(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
