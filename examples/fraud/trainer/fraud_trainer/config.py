"""Configuration: only the wiring-contract variables of specs/fraud.yaml (`gpc env specs/fraud.yaml fraud-trainer`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


class ConfigError(Exception):
    """One or more contract variables are missing or malformed."""


@dataclass(frozen=True)
class Settings:
    amqp_url: str
    queue: str
    dead_letter_queue: str
    message_schema: str
    bucket: str
    s3_endpoint: str  # host:port, as the minio SDK wants it
    s3_secure: bool
    s3_region: str
    s3_path_style: bool
    s3_access_key: str
    s3_secret_key: str
    scratch: Path
    database_url: str  # the transactions database, as the trainer's own read-only role
    log_level: str
    pushgateway_url: str | None = None  # only in environments with monitoring
    job_name: str = "fraud-trainer"  # the Pushgateway grouping key: OTEL_SERVICE_NAME


def from_env(env: Mapping[str, str] = os.environ) -> Settings:
    required = ("AMQP_URL", "EVENTS_QUEUE", "EVENTS_MESSAGE_SCHEMA", "MODELS_BUCKET", "S3_ENDPOINT",
                "S3_REGION", "S3_FORCE_PATH_STYLE", "S3_ACCESS_KEY", "S3_SECRET_KEY", "SCRATCH_PATH", "DATABASE_URL")
    missing = [n for n in required if not env.get(n)]
    if missing:
        raise ConfigError(f"missing environment variables: {', '.join(missing)} (see `gpc env specs/fraud.yaml fraud-trainer`)")
    endpoint = urlsplit(env["S3_ENDPOINT"])
    if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
        raise ConfigError(f"S3_ENDPOINT must be an http(s) URL, got {env['S3_ENDPOINT']!r}")
    if env["S3_FORCE_PATH_STYLE"] not in ("true", "false"):
        raise ConfigError(f"S3_FORCE_PATH_STYLE must be true or false, got {env['S3_FORCE_PATH_STYLE']!r}")
    return Settings(
        amqp_url=env["AMQP_URL"],
        queue=env["EVENTS_QUEUE"],
        dead_letter_queue=env.get("EVENTS_DEAD_LETTER_QUEUE", f"{env['EVENTS_QUEUE']}.dlq"),
        message_schema=env["EVENTS_MESSAGE_SCHEMA"],
        bucket=env["MODELS_BUCKET"],
        s3_endpoint=endpoint.netloc,
        s3_secure=endpoint.scheme == "https",
        s3_region=env["S3_REGION"],
        s3_path_style=env["S3_FORCE_PATH_STYLE"] == "true",
        s3_access_key=env["S3_ACCESS_KEY"],
        s3_secret_key=env["S3_SECRET_KEY"],
        scratch=Path(env["SCRATCH_PATH"]),
        database_url=env["DATABASE_URL"],
        log_level=env.get("LOG_LEVEL", "info").lower(),
        pushgateway_url=env.get("PUSHGATEWAY_URL") or None,
        job_name=env.get("OTEL_SERVICE_NAME") or "fraud-trainer",
    )


def redact(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
