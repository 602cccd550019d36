"""CronJob schedules, validated the way Kubernetes validates them.

Kubernetes parses `spec.schedule` with robfig/cron's standard parser: five fields, names for
months and weekdays, `*`, `?`, ranges, lists, steps, and the @-macros. Libraries such as cronsim
and croniter accept more (L, W, #, seconds) than the API server does, so gpc checks the
Kubernetes grammar itself.
"""

from __future__ import annotations

import re

_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _DAYS),
)
_TZ = re.compile(r"^(CRON_TZ|TZ)=")


def cron_error(schedule: str) -> str | None:
    """Why `schedule` is not a valid Kubernetes schedule, or None when it is."""
    text = schedule.strip()
    if _TZ.match(text):
        return "time zones belong in 'time_zone', not in the schedule (Kubernetes rejects TZ= here)"
    if text.startswith("@"):
        if text.startswith("@every"):
            return "'@every' is not supported by Kubernetes CronJobs"
        return None if text in _MACROS else f"unknown macro '{text}'"
    fields = text.split()
    if len(fields) != 5:
        return f"expected 5 fields (minute hour day-of-month month day-of-week), found {len(fields)}"
    for value, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        problem = _field_error(value, low, high, names)
        if problem:
            return f"{name} field '{value}': {problem}"
    return None


def _field_error(value: str, low: int, high: int, names: dict[str, int]) -> str | None:
    for part in value.split(","):
        if not part:
            return "empty list element"
        rng, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return f"step '{step}' must be a positive number"
        if rng in ("*", "?"):
            continue
        start, dash, end = rng.partition("-")
        bounds = []
        for item in (start, end) if dash else (start,):
            number = names.get(item.lower()) if item.lower() in names else (int(item) if item.isdigit() else None)
            if number is None:
                return f"'{item}' is not a number"
            if not low <= number <= high:
                return f"{number} is outside {low}-{high}"
            bounds.append(number)
        if dash and bounds[0] > bounds[1]:
            return f"range {bounds[0]}-{bounds[1]} runs backwards"
    return None
