"""The transactions database (DATABASE_URL, checkout's own role): the table, created by the
migration, and one row per accepted transaction with the verdict checkout got for it.

The migration runs before a new version starts (`python -m fraud_checkout.migrate`, the Argo CD
PreSync hook gpc generates from `migrate:` in specs/fraud.yaml), so the service only inserts.
Tables are named without a schema: the role's search_path is the schema checkout owns.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

log = logging.getLogger("fraud_checkout.ledger")

MIGRATION = """
CREATE TABLE IF NOT EXISTS transactions (
    transaction_id text PRIMARY KEY,
    user_id text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    currency char(3) NOT NULL,
    occurred_at timestamptz NOT NULL,
    event jsonb NOT NULL,
    verdict_available boolean NOT NULL,
    is_fraud boolean,
    score double precision,
    model_version text,
    recorded_at timestamptz NOT NULL DEFAULT now()
)
"""

# A retried checkout (same transaction_id) records the newest verdict, once.
INSERT = """
INSERT INTO transactions (transaction_id, user_id, amount, currency, occurred_at, event,
                          verdict_available, is_fraud, score, model_version)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (transaction_id) DO UPDATE SET
    event = EXCLUDED.event, verdict_available = EXCLUDED.verdict_available, is_fraud = EXCLUDED.is_fraud,
    score = EXCLUDED.score, model_version = EXCLUDED.model_version, recorded_at = now()
"""

CONNECT_TIMEOUT_SECONDS = 5


def migrate(database_url: str) -> None:
    with psycopg.connect(database_url, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True) as conn:
        conn.execute(MIGRATION)


class Ledger:
    """One connection, opened on first use and again after it broke; one insert at a time."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()

    async def record(self, event: dict[str, Any], fraud: dict[str, Any]) -> None:
        row = (event["transaction_id"], event["user_id"], event["amount"], event["currency"], event["timestamp"],
               Jsonb(event, dumps=lambda o: json.dumps(o, sort_keys=True)), bool(fraud["available"]),
               fraud.get("is_fraud"), fraud.get("score"), fraud.get("model_version"))
        async with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await psycopg.AsyncConnection.connect(
                        self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
                await self._conn.execute(INSERT, row)
            except psycopg.OperationalError:
                await self.close()  # the next transaction reconnects
                raise

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
