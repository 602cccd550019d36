"""compiler/metaschema.py only ever vouches for schemas jsonschema accepts: it decides what is
right, jsonschema what is wrong (GPC106). Checked on generated schemas, half of them invalid."""

from __future__ import annotations

from typing import Any

import jsonschema
import yaml
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.metaschema import _KEYWORDS, certainly_valid

# Values a keyword may get: right ones for some keyword, and wrong ones for every keyword.
_values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["string", "object", "integer", "nope", "", "^[A-Z]{3}$", "[", "(?P<x", "a{2,1}", "\\d+",
                     "https://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft-07/schema#"]),
    st.lists(st.sampled_from(["string", "number", "null", "a", "b", 1, True]), max_size=3),
)


def _schema(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keyword = st.sampled_from([*_KEYWORDS, "$id", "$ref", "$defs", "if", "x-custom"])
    value = st.one_of(_values, children, st.lists(children, max_size=2),
                      st.dictionaries(st.one_of(st.sampled_from(["a", "b"]), st.integers(0, 1)), children, max_size=2))
    return st.dictionaries(keyword, value, max_size=4)


schemas = st.recursive(st.one_of(st.booleans(), st.just({})), _schema, max_leaves=12)


def _jsonschema_accepts(schema: Any) -> bool:
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError:
        return False
    return True


_POOL: list[Any] = [None, True, False, -1, 0, 1, 2.5, 0.0, -0.5, float("inf"), float("nan"), "", "string", "object",
                    "nope", "^[A-Z]{3}$", "[", "(?P<x", "a{2,1}", "https://json-schema.org/draft/2020-12/schema",
                    "http://json-schema.org/draft-07/schema#", [], ["string"], ["string", "null"], ["a", "a"],
                    ["string", "nope"], [1], [True, 1], [{}], [{"type": "nope"}], {}, {"type": "string"},
                    {"a": {}}, {"a": {"type": "nope"}}, {1: {}}, {"a": 1}]


def test_each_keyword_alone_agrees_with_jsonschema_where_it_vouches() -> None:
    vouched = 0
    for keyword in _KEYWORDS:
        for value in _POOL:
            if certainly_valid({keyword: value}):
                vouched += 1
                assert _jsonschema_accepts({keyword: value}), {keyword: value}
    assert vouched > len(_KEYWORDS)  # it vouches for some value of every keyword, not for nothing


@settings(max_examples=3000, deadline=None)
@given(schemas)
def test_it_vouches_only_for_schemas_jsonschema_accepts(schema: Any) -> None:
    if certainly_valid(schema):
        assert _jsonschema_accepts(schema), schema


def test_the_usual_message_schemas_need_no_jsonschema() -> None:
    # The message schemas of the specs gpc ships: each would otherwise import jsonschema (~35 ms).
    found = 0
    for spec in sorted((ROOT / "specs").glob("*.yaml")):
        for queue in (yaml.safe_load(spec.read_text()).get("messaging") or {}).get("queues", {}).values():
            if queue.get("message_schema") is not None:
                found += 1
                assert certainly_valid(queue["message_schema"]), (spec.name, queue["message_schema"])
    assert found


def test_it_leaves_every_wrong_schema_to_jsonschema() -> None:
    wrong = [{"type": "strin"}, {"type": []}, {"type": ["string", "string"]}, {"required": ["a", "a"]},
             {"required": "a"}, {"minLength": -1}, {"minLength": True}, {"multipleOf": 0}, {"pattern": "["},
             {"properties": {"a": {"type": 1}}}, {"anyOf": []}, {"items": {"maximum": "1"}}, {"enum": 1}]
    for schema in wrong:
        assert not _jsonschema_accepts(schema), schema
        assert not certainly_valid(schema), schema
