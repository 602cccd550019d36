"""`did you mean ...?` suggests typos only: a wrong suggestion sends a user the wrong way."""

from __future__ import annotations

import pytest

from compiler.hints import closest, edits
from compiler.timezones import suggest, time_zone_error


@pytest.mark.parametrize("word, choices, expected", [
    ("replica", ["replicas", "resources"], "replicas"),
    ("memroy", ["memory", "cpu"], "memory"),  # swapped neighbours are one edit
    ("imageTag", ["image_tag", "image"], "image_tag"),
    ("enviroments", ["environments", "workloads"], "environments"),
    ("cronjob", ["service", "job"], "job"),  # a known word inside the word
    ("egress", ["secrets", "env", "uses", "schedule"], None),  # difflib said 'secrets'
    ("cart-api", ["payments-api", "checkout-web"], None),  # difflib said 'payments-api'
    ("region", ["version", "registry", "name"], None),
])
def test_only_close_words_are_suggested(word: str, choices: list[str], expected: str | None) -> None:
    assert closest(word, choices) == expected


def test_edit_distance() -> None:
    assert edits("kitten", "sitting") == 3
    assert edits("ab", "ba") == 1
    assert edits("", "abc") == 3


@pytest.mark.parametrize("name, hint", [
    ("Berlin", "did you mean 'Europe/Berlin'?"),
    ("berlin", "did you mean 'Europe/Berlin'?"),
    ("America/New_Yrok", "did you mean 'America/New_York'?"),
    ("New York", "did you mean 'America/New_York'?"),
])
def test_time_zone_hints(name: str, hint: str) -> None:
    problem = time_zone_error(name)
    assert problem is not None and problem[1] == hint
    assert suggest(name) == hint


def test_valid_and_empty_time_zones() -> None:
    assert time_zone_error("Europe/Berlin") is None
    assert time_zone_error("Etc/UTC") is None
    assert time_zone_error("localtime") is not None  # on Debian's disk, unknown to an API server
    assert time_zone_error("") == time_zone_error("  ") and time_zone_error("")[0] == "is empty"  # type: ignore[index]
