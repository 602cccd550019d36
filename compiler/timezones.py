"""IANA time zones, as a CronJob's `timeZone` accepts them.

The API server loads `timeZone` from its tz database and rejects unknown names, so gpc checks the
name against the IANA list at validate time. The list comes from the `tzdata` package (a runtime
dependency), not from `zoneinfo.available_timezones()`: that one also walks the machine's
/usr/share/zoneinfo, whose content differs between machines (Debian adds `localtime`, which no
API server knows), and gpc must give the same verdict everywhere.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from compiler.hints import closest


@cache
def zones() -> frozenset[str]:
    return frozenset(resources.files("tzdata").joinpath("zones").read_text("utf-8").split())


def time_zone_error(name: str) -> tuple[str, str] | None:
    """(problem, hint) when `name` is not an IANA time zone, else None."""
    if not name.strip():
        return "is empty", "remove it for the controller's time zone (usually UTC), or name one, e.g. 'Etc/UTC'"
    if name in zones():
        return None
    return "is not an IANA time zone", suggest(name)


def suggest(name: str) -> str:
    # `Berlin` -> `Europe/Berlin`: people write the city, the database names it Area/City.
    last = name.rsplit("/", 1)[-1].replace(" ", "_").lower()
    by_city = sorted(z for z in zones() if z.rsplit("/", 1)[-1].lower() == last)
    by_city = [z for z in by_city if not z.startswith(("Etc/", "SystemV/"))] or by_city
    if by_city:
        return "did you mean " + " or ".join(f"'{z}'" for z in by_city[:3]) + "?"
    near = closest(name, zones())
    if near is not None:
        return f"did you mean '{near}'?"
    return "use an Area/City name from the IANA database, e.g. 'Europe/Berlin', 'America/New_York' or 'Etc/UTC'"
