"""`did you mean ...?`: the closest known word, only when it is close enough to be a typo.

difflib's ratio suggested `secrets` for `egress` and `payments-api` for `cart-api` (both 0.6): a
wrong suggestion costs more than none. A typo is a few edits away, so gpc counts edits
(insertions, deletions, substitutions and swapped neighbours, ignoring case and `-`/`_`) and
allows about one per four characters. Failing that, a known word the word contains, or that
contains it, is a likely meaning too (`cronjob` -> `job`, `envs` -> `env`).
"""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    match = closest(word, choices)
    return f"did you mean '{match}'?" if match is not None else None


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The nearest of `choices` within the typo budget of `word`; ties go to the first in sorted order."""
    budget = max(1, len(word) // 4)
    best: tuple[int, str] | None = None
    for choice in sorted(set(choices)):
        if abs(len(choice) - len(word)) > budget:
            continue
        distance = edits(_fold(word), _fold(choice))
        if distance <= budget and (best is None or distance < best[0]):
            best = (distance, choice)
    if best is not None:
        return best[1]
    folded = _fold(word)
    within = [c for c in sorted(set(choices)) if min(len(c), len(word)) >= 3
              and (_fold(c) in folded or folded in _fold(c))]
    return min(within, key=lambda c: abs(len(c) - len(word))) if within else None


def _fold(word: str) -> str:
    return word.lower().replace("_", "-")


def edits(a: str, b: str) -> int:
    """Optimal string alignment distance: Levenshtein plus the swap of two neighbours."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]
