"""The training history on the scratch volume (SCRATCH_PATH): every valid event seen, once.

The queue only holds events not yet trained on; the model is trained on the whole history, so
each run adds to what the previous ones learned from. Events are keyed by transaction_id, so a
redelivered message (after a crash, or a duplicate publish) is counted once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MAX_HISTORY = 500_000


class Dataset:
    def __init__(self, scratch: Path) -> None:
        self.path = scratch / "fraud-trainer" / "events.jsonl"

    def load(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        with self.path.open(encoding="utf-8") as f:
            return {e["transaction_id"]: e for e in map(json.loads, f)}

    def merge(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add events (a newer copy replaces an older one) and return the whole history, oldest first."""
        history = self.load()
        for event in events:
            history[event["transaction_id"]] = event
        ordered = sorted(history.values(), key=lambda e: (e["timestamp"], e["transaction_id"]))[-MAX_HISTORY:]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_suffix(".tmp")
        with staging.open("w", encoding="utf-8") as f:
            for event in ordered:
                f.write(json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(staging, self.path)  # never a half-written history
        return ordered
