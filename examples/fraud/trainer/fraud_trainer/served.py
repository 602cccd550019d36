"""How the served model did: the verdicts checkout recorded in the transactions database
(DATABASE_URL, the trainer's own read-only role), scored against the known outcomes (`label`)
of the events the trainer learns from. Recorded in each new model's metadata, so the next
version is judged against what its predecessor actually answered in production.
"""

from __future__ import annotations

from typing import Any

import psycopg

CONNECT_TIMEOUT_SECONDS = 10

SELECT = """
SELECT transaction_id, is_fraud FROM transactions
WHERE verdict_available AND transaction_id = ANY(%s)
"""


def score(database_url: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over the labelled events that have a recorded verdict."""
    labels = {e["transaction_id"]: e["label"] for e in events if isinstance(e.get("label"), bool)}
    counts = {"labelled": len(labels), "with_verdict": 0, "caught": 0, "missed": 0, "false_alarms": 0,
              "correct_passes": 0}
    if not labels:
        return counts
    try:
        with psycopg.connect(database_url, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn:
            rows = conn.execute(SELECT, (sorted(labels),)).fetchall()
    except psycopg.OperationalError as e:
        # Scoring the served model must not stop training: the metadata says it could not be done.
        return counts | {"with_verdict": None, "error": f"transactions database unavailable: {str(e).strip()[:200]}"}
    for transaction_id, is_fraud in rows:
        fraud = labels[transaction_id]
        counts["with_verdict"] += 1
        key = ("caught" if is_fraud else "missed") if fraud else ("false_alarms" if is_fraud else "correct_passes")
        counts[key] += 1
    return counts
