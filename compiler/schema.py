"""The JSON Schema of platform.yaml, generated from the model (schema/platform.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from compiler.model import NAME_PATTERN, Platform

SCHEMA_ID = "https://gpc.dev/schema/platform.schema.json"


def build_schema() -> dict[str, Any]:
    schema = Platform.model_json_schema(mode="validation")
    _decorate(schema)
    name = {"pattern": NAME_PATTERN, "maxLength": 63}
    props = schema["properties"]
    props["workloads"]["propertyNames"] = name
    props["environments"]["propertyNames"] = name
    defs = schema["$defs"]
    defs["Storage"]["properties"]["buckets"]["propertyNames"] = {**name, "minLength": 3}
    defs["Storage"]["properties"]["volumes"]["propertyNames"] = name
    defs["Messaging"]["properties"]["queues"]["propertyNames"] = name
    for kind in ("Service", "Job"):
        defs[kind]["properties"]["uses"]["propertyNames"] = {"pattern": "^[a-z][a-z0-9_-]*$"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _decorate(node: Any) -> None:
    """Give every description a markdownDescription, which the YAML language server prefers."""
    if isinstance(node, dict):
        if isinstance(node.get("description"), str) and "markdownDescription" not in node:
            node["markdownDescription"] = node["description"]
        for value in node.values():
            _decorate(value)
    elif isinstance(node, list):
        for value in node:
            _decorate(value)


def schema_text() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
