"""Configuration: only the wiring-contract variables of specs/fraud.yaml (`gpc env fraud-inference`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


class ConfigError(Exception):
    """One or more contract variables are missing or malformed."""


@dataclass(frozen=True)
class Settings:
    port: int
    bucket: str
    s3_endpoint: str  # host:port, as the minio SDK wants it
    s3_secure: bool
    s3_region: str
    s3_path_style: bool
    s3_access_key: str
    s3_secret_key: str
    poll_seconds: float
    log_level: str


def from_env(env: Mapping[str, str] = os.environ) -> Settings:
    required = ("PORT", "MODELS_BUCKET", "S3_ENDPOINT", "S3_REGION", "S3_FORCE_PATH_STYLE", "S3_ACCESS_KEY",
                "S3_SECRET_KEY")
    missing = [n for n in required if not env.get(n)]
    if missing:
        raise ConfigError(f"missing environment variables: {', '.join(missing)} (see `gpc env fraud-inference`)")
    endpoint = urlsplit(env["S3_ENDPOINT"])
    if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
        raise ConfigError(f"S3_ENDPOINT must be an http(s) URL, got {env['S3_ENDPOINT']!r}")
    if env["S3_FORCE_PATH_STYLE"] not in ("true", "false"):
        raise ConfigError(f"S3_FORCE_PATH_STYLE must be true or false, got {env['S3_FORCE_PATH_STYLE']!r}")
    try:
        port = int(env["PORT"])
        poll = float(env.get("MODEL_POLL_SECONDS", "30"))
    except ValueError as e:
        raise ConfigError(f"PORT and MODEL_POLL_SECONDS must be numbers: {e}") from None
    if poll <= 0:
        raise ConfigError("MODEL_POLL_SECONDS must be positive")
    return Settings(
        port=port,
        bucket=env["MODELS_BUCKET"],
        s3_endpoint=endpoint.netloc,
        s3_secure=endpoint.scheme == "https",
        s3_region=env["S3_REGION"],
        s3_path_style=env["S3_FORCE_PATH_STYLE"] == "true",
        s3_access_key=env["S3_ACCESS_KEY"],
        s3_secret_key=env["S3_SECRET_KEY"],
        poll_seconds=poll,
        log_level=env.get("LOG_LEVEL", "info").lower(),
    )
