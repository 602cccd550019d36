"""Fixtures of the fraud example's tests: one real RabbitMQ, one real S3 server and one real
PostgreSQL per pytest worker (started on first use, stopped by PID at the end), reset between tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE / "checkout", HERE / "trainer", HERE / "inference"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from fraud_harness import objectstore, postgres, rabbitmq  # noqa: E402
from fraud_harness.stack import LocalPlatform  # noqa: E402
from fraud_harness.tools import require  # noqa: E402


@pytest.fixture(scope="session")
def local_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    require(rabbitmq.available())
    require(objectstore.available())
    require(postgres.available())
    platform = LocalPlatform(tmp_path_factory.mktemp("fraud-platform")).start()
    try:
        yield platform
    finally:
        platform.close()


@pytest.fixture
def fraud(local_platform: LocalPlatform) -> Iterator[LocalPlatform]:
    """The platform with empty queues, buckets and tables; app processes started in the test are stopped after it."""
    local_platform.reset()
    try:
        yield local_platform
    finally:
        local_platform.stop_apps()
