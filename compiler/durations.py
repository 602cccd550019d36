"""Durations as the spec's preview block writes them (`72h`, `3d`, `1d12h`, `5m`).

Its own module, importing nothing of gpc: compiler/model_preview.py checks them and
compiler/lower_preview.py converts them, and the lowering is imported on its own (`gpc preview`)
where importing model_preview first would close the model <-> model_preview import cycle half-way.
"""

from __future__ import annotations

import re

_DURATION = re.compile(r"^(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$")


def duration_seconds(text: str) -> int | None:
    """`72h`, `3d`, `1d12h`, `5m` -> seconds; None when it is not such a duration."""
    match = _DURATION.match(text)
    if not text or match is None:
        return None
    d, h, m, s = (int(g) if g else 0 for g in match.groups())
    return ((d * 24 + h) * 60 + m) * 60 + s
