"""compiler/jsonout.py writes what json.dumps writes: on every dashboard the kustomize target renders
for the specs in specs/ and tests/cases/valid/, and on random plain data with hostile strings."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from conftest import all_spec_files, load_ir, spec_id

from compiler import jsonout

HOSTILE = ["", " ", "\n", "\t\r", '"', "\\", "é", "😀", "\u2028", "\x00\x1f\x7f", "</script>", "a\"b\\c\nd", "{}[],:"]


def _random(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return rng.choice(HOSTILE) + str(rng.random())
    if kind == 1:
        return rng.randint(-10**20, 10**20)
    if kind == 2:
        return rng.choice([0.0, -0.0, 1.5, 1e-7, 1e300, rng.random() * 1000])
    if kind == 3:
        return rng.choice([True, False, None])
    if kind in (4, 5):
        return rng.choice(HOSTILE)
    if kind in (6, 7):
        return {rng.choice(HOSTILE) + str(i): _random(rng, depth + 1) for i in range(rng.randrange(4))}
    return [_random(rng, depth + 1) for _ in range(rng.randrange(4))]


@pytest.mark.parametrize("indent", [1, 2])
@pytest.mark.parametrize("sort_keys", [True, False])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_random_documents(indent: int, sort_keys: bool, ensure_ascii: bool) -> None:
    rng = random.Random(indent * 4 + sort_keys * 2 + ensure_ascii)
    for _ in range(3000):
        doc = _random(rng)
        assert jsonout.dumps(doc, indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii) == json.dumps(
            doc, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii)


def test_what_it_does_not_lay_out_goes_to_json() -> None:
    for doc in ({1: "a", "b": 2}, [float("nan")], {"x": float("inf")}, {"t": (1, 2)}, {}):
        assert jsonout.dumps(doc, 1) == json.dumps(doc, indent=1)
    with pytest.raises(TypeError):
        jsonout.dumps({"s": {1, 2}}, 1)


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_every_dashboard_is_what_json_writes(spec: Any) -> None:
    """Each Grafana dashboard in the compiled tree, read back, is laid out exactly as json.dumps lays it out."""
    import yaml

    from targets import load_target

    boards = 0
    for artifact in load_target("kustomize").render(load_ir(spec)):
        if not artifact.path.endswith("dashboard.yaml"):
            continue
        for doc in yaml.safe_load_all(artifact.text):
            for key, text in (doc or {}).get("data", {}).items():
                if key.endswith(".json"):
                    boards += 1
                    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True) + "\n", artifact.path
    if "fraud" in str(spec):
        assert boards > 0  # fraud has monitoring: the test looked at something
