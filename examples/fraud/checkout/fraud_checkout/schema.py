"""Validation of events against the queue's message_schema (EVENTS_MESSAGE_SCHEMA)."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import ValidationError, validators
from jsonschema.protocols import Validator


def load_validator(schema_text: str) -> Validator:
    """A validator for the schema text, honouring its `$schema` dialect and `format` keywords."""
    schema = json.loads(schema_text)
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    # Without a format checker `format: date-time` is only an annotation; the contract means it.
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def problems(validator: Validator, event: Any) -> list[dict[str, str]]:
    """Every way `event` breaks the schema, as {field, message}, sorted for stable answers."""
    found = [{"field": _field(error), "message": error.message} for error in validator.iter_errors(event)]
    return sorted(found, key=lambda p: (p["field"], p["message"]))


def _field(error: ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    instance = error.instance
    # A missing or unexpected property is reported on the object; name the property itself.
    if error.validator == "required" and isinstance(instance, dict) and isinstance(error.validator_value, list):
        # One error per missing property, each quoting its name first: "'user_id' is a required property".
        missing = [r for r in error.validator_value if r not in instance and error.message.startswith(repr(r))]
        path += missing[:1]
    elif error.validator == "additionalProperties" and isinstance(instance, dict) and isinstance(error.schema, dict):
        known = error.schema.get("properties", {})
        path += sorted(k for k in instance if k not in known)[:1]
    return ".".join(path) or "(message)"
