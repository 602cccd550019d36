"""The longest wait between two runs of a valid CronJob schedule (compiler/cron.py checked it), for
the alert that a scheduled job missed its runs: robfig/cron's semantics, as Kubernetes runs them."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from itertools import pairwise

from compiler.cron import _FIELDS

MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
# Two whole years from a leap year: every month length, and every weekday on every date.
_START, _DAYS_SCANNED = date(2028, 1, 1), 366 + 365 + 365 + 365 + 366


def _values(field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    out: set[int] = set()
    for part in field.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if rng in ("*", "?"):
            start, end = low, high
        else:
            first, dash, last = rng.partition("-")
            start = names[first.lower()] if first.lower() in names else int(first)
            end_value = (names[last.lower()] if last.lower() in names else int(last)) if dash else None
            # robfig: `5/15` runs from 5 to the field's end; `5` alone is just 5.
            end = end_value if end_value is not None else (high if step_text else start)
        out |= set(range(start, end + 1, step))
    return out


@lru_cache(maxsize=1)
def _calendar() -> list[tuple[int, int, int, int]]:
    """(offset, month, day of month, weekday counted from Sunday) of every scanned day: the same for
    every schedule, so the dates are computed once (60 schedules at N=1000)."""
    days = (_START + timedelta(days=offset) for offset in range(_DAYS_SCANNED))
    return [(offset, day.month, day.day, (day.weekday() + 1) % 7) for offset, day in enumerate(days)]


@lru_cache(maxsize=1024)  # a platform's jobs share a few schedules; each scan walks five years
def longest_gap_seconds(schedule: str) -> int | None:
    """None: the schedule runs less than twice in five years (`0 0 30 2 *` never runs)."""
    text = MACROS.get(schedule.strip(), schedule.strip())
    fields = text.split()
    minute, hour, dom, month, dow = (_values(f, lo, hi, nm) for f, (_, lo, hi, nm) in zip(fields, _FIELDS, strict=True))
    dow = {d % 7 for d in dow}
    # robfig: when either day field is `*` or `?`, a day must match both; else either one.
    star = fields[2][0] in "*?" or fields[4][0] in "*?"
    times = sorted(h * 60 + m for h in hour for m in minute)
    days: list[int] = []  # the offsets of the days the schedule fires on
    for offset, day_month, day_of_month, weekday in _calendar():
        if day_month not in month:
            continue
        hits = (day_of_month in dom, weekday in dow)
        if all(hits) if star else any(hits):
            days.append(offset)
    # Every firing day fires at the same `times`, so the gaps are those within a day and those from
    # one firing day's last run to the next one's first: the same maximum as over every run in the
    # five years, without listing them (288 a day for `*/5 * * * *`: 0.2 s at N=1000).
    gaps = [b - a for a, b in pairwise(times)] if days else []
    gaps += [(b - a) * 1440 - (times[-1] - times[0]) for a, b in pairwise(days)]
    return max(gaps) * 60 if gaps else None
