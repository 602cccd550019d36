"""Which message schemas are certainly valid JSON Schemas (draft 2020-12), without jsonschema.

Importing jsonschema costs ~35 ms, a tenth of a `gpc validate` (issue 19), only to learn that the
usual message schema (types, properties, required, bounds, patterns) is valid. `certainly_valid`
proves that for schemas made only of the keywords below, each value checked as the 2020-12
metaschema checks it; anything else (another keyword, an odd value, a broken pattern) answers
False and compiler/model.py asks jsonschema, whose error is the one reported (GPC106). So this
never decides what is wrong, only what is right, and tests/test_metaschema.py checks it against
jsonschema on generated schemas.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_SIMPLE_TYPES = frozenset({"array", "boolean", "integer", "null", "number", "object", "string"})
# `$schema` must be a URI (format "uri", checked when rfc3987 is installed): only the one gpc's
# docs write is taken here, any other goes to jsonschema.
_METASCHEMAS = frozenset({"https://json-schema.org/draft/2020-12/schema"})


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _type(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(t, str) for t in value) and len(set(value)) == len(value) \
            and set(value) <= _SIMPLE_TYPES
    return isinstance(value, str) and value in _SIMPLE_TYPES


def _strings(value: Any) -> bool:  # the metaschema's stringArray: unique strings
    return isinstance(value, list) and all(isinstance(s, str) for s in value) and len(set(value)) == len(value)


def _regex(value: Any) -> bool:
    # What jsonschema's "regex" format checker does (jsonschema._format.is_regex): Python's re.
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _schemas(value: Any) -> bool:  # a mapping of names to schemas (`properties`)
    return isinstance(value, dict) and all(isinstance(k, str) and certainly_valid(v) for k, v in value.items())


def _schema_list(value: Any) -> bool:  # schemaArray: at least one schema
    return isinstance(value, list) and bool(value) and all(certainly_valid(v) for v in value)


def _anything(value: Any) -> bool:
    return True


_KEYWORDS: dict[str, Callable[[Any], bool]] = {
    "$schema": lambda value: isinstance(value, str) and value in _METASCHEMAS,
    "$comment": _string,
    "title": _string,
    "description": _string,
    "default": _anything,
    "examples": lambda value: isinstance(value, list),
    "deprecated": _boolean,
    "readOnly": _boolean,
    "writeOnly": _boolean,
    "format": _string,
    "type": _type,
    "const": _anything,
    "enum": lambda value: isinstance(value, list),
    "multipleOf": lambda value: _number(value) and value > 0,
    "minimum": _number,
    "maximum": _number,
    "exclusiveMinimum": _number,
    "exclusiveMaximum": _number,
    "minLength": _count,
    "maxLength": _count,
    "minItems": _count,
    "maxItems": _count,
    "minProperties": _count,
    "maxProperties": _count,
    "uniqueItems": _boolean,
    "pattern": _regex,
    "required": _strings,
    "properties": _schemas,
    "additionalProperties": lambda value: certainly_valid(value),
    "items": lambda value: certainly_valid(value),
    "allOf": _schema_list,
    "anyOf": _schema_list,
    "oneOf": _schema_list,
    "not": lambda value: certainly_valid(value),
}


def certainly_valid(schema: Any) -> bool:
    """True when `schema` is a valid draft 2020-12 JSON Schema; False when it may not be."""
    if isinstance(schema, bool):
        return True
    return isinstance(schema, dict) and all(
        isinstance(key, str) and key in _KEYWORDS and _KEYWORDS[key](value) for key, value in schema.items())
