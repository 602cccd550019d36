"""compiler/cron_gap.py's longest gap, checked against listing every run in the scanned years
(what it computed before it took the gaps per firing day instead)."""

from __future__ import annotations

import random
from datetime import timedelta
from itertools import pairwise

import pytest

from compiler.cron import _FIELDS
from compiler.cron_gap import _DAYS_SCANNED, _START, MACROS, _values, longest_gap_seconds


def _every_run(schedule: str) -> int | None:
    fields = MACROS.get(schedule.strip(), schedule.strip()).split()
    minute, hour, dom, month, dow = (_values(f, lo, hi, nm) for f, (_, lo, hi, nm) in zip(fields, _FIELDS, strict=True))
    dow = {d % 7 for d in dow}
    star = fields[2][0] in "*?" or fields[4][0] in "*?"
    times = sorted(h * 60 + m for h in hour for m in minute)
    fires: list[int] = []
    for offset in range(_DAYS_SCANNED):
        day = _START + timedelta(days=offset)
        hits = (day.day in dom, (day.weekday() + 1) % 7 in dow)
        if day.month in month and (all(hits) if star else any(hits)):
            fires += [offset * 1440 + t for t in times]
    gaps = [b - a for a, b in pairwise(fires)]
    return max(gaps) * 60 if gaps else None


def _field(rng: random.Random, low: int, high: int) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return "*"
    if kind == 1:
        return str(rng.randint(low, high))
    if kind == 2:
        first = rng.randint(low, high)
        return f"{first}-{rng.randint(first, high)}"
    if kind == 3:
        return f"*/{rng.randint(1, high - low + 1)}"
    return ",".join(str(rng.randint(low, high)) for _ in range(rng.randint(1, 3)))


FIXED = ["0 0 30 2 *", "0 0 29 2 *", "*/5 * * * *", "0 0 1 1 *", "@hourly", "@weekly", "15 3 * * 1-5",
         "0 0 31 * *", "0 12 * * 0,6", "*/17 */5 13 */2 5", "0 0 13 * 5", "59 23 31 12 *"]


@pytest.mark.parametrize("schedule", FIXED)
def test_fixed_schedules(schedule: str) -> None:
    assert longest_gap_seconds(schedule) == _every_run(schedule)


def test_random_schedules() -> None:
    rng = random.Random(19)
    for _ in range(150):
        schedule = " ".join([_field(rng, 0, 59), _field(rng, 0, 23), _field(rng, 1, 31), _field(rng, 1, 12),
                             _field(rng, 0, 6)])
        assert longest_gap_seconds(schedule) == _every_run(schedule), schedule
