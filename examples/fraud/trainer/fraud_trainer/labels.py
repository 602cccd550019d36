"""Where the training labels come from.

Events replayed from history carry `label` (the known outcome, e.g. a chargeback). Only those
are trained on. When no event has a label yet (a fresh platform), the trainer bootstraps with an
explicit rule over two signals, recorded in the model's metadata as its label source, so nobody
mistakes the result for a model learned from outcomes.
"""

from __future__ import annotations

from typing import Any

HEURISTIC = "amount >= 1000 with the card not present, or amount >= 5000"


def heuristic(event: dict[str, Any]) -> bool:
    amount = float(event["amount"])
    return (amount >= 1000 and event.get("card_present") is False) or amount >= 5000


def labelled(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[bool], str]:
    """(events to train on, their labels, the label source)."""
    with_label = [e for e in events if isinstance(e.get("label"), bool)]
    if with_label:
        return with_label, [bool(e["label"]) for e in with_label], "label"
    return list(events), [heuristic(e) for e in events], f"heuristic: {HEURISTIC}"
