"""Kyverno's own CRD schemas (v1 of ClusterPolicy, ValidatingPolicy, ImageValidatingPolicy and GeneratingPolicy,
from Kyverno v1.19.0, the app version of the chart terraform pins; refreshed by update.py), used
strictly: a key the schema does not declare is an error, where the API server would prune it
silently. Also the API server's defaulting, so a test can tell what it would add to a policy.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FILES = {"ClusterPolicy": "clusterpolicies", "ValidatingPolicy": "validatingpolicies",
         "ImageValidatingPolicy": "imagevalidatingpolicies", "GeneratingPolicy": "generatingpolicies"}
METADATA = {
    "type": "object", "required": ["name"], "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _strict(node: Any) -> Any:
    """`additionalProperties: false` on every object that neither declares its own nor preserves
    unknown fields: what the API server would prune becomes an error."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _strict(v) for k, v in node.items()}
    if (out.get("type") == "object" and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@functools.cache
def crd(kind: str) -> dict[str, Any]:
    return json.loads((HERE / f"{FILES[kind]}.v1.json").read_text("utf-8"))  # type: ignore[no-any-return]


@functools.cache
def _validator(kind: str) -> Any:
    import jsonschema

    definition = crd(kind)
    schema = _strict(definition["openAPIV3Schema"])
    schema["properties"]["apiVersion"] = {"const": f"{definition['group']}/v1"}
    schema["properties"]["kind"] = {"const": definition["kind"]}
    schema["properties"]["metadata"] = METADATA
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    schema["properties"].pop("status", None)
    return jsonschema.Draft7Validator(schema)


def errors(doc: dict[str, Any]) -> list[str]:
    """Every way `doc` is not a valid v1 object of its kind (an unknown key included)."""
    if doc.get("kind") not in FILES:
        return [f"kind {doc.get('kind')!r} is not one gpc emits"]
    return sorted(f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
                  for e in _validator(doc["kind"]).iter_errors(doc))


def _default(schema: dict[str, Any], value: Any) -> Any:
    if isinstance(value, dict):
        out = dict(value)
        for key, sub in schema.get("properties", {}).items():
            if key not in out and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
            if key in out:
                out[key] = _default(sub, out[key])
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_default(schema["items"], v) for v in value]
    return value


def with_defaults(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` as the API server stores it after structural defaulting (defaults of absent fields,
    applied again inside every default it adds)."""
    return _default(crd(doc["kind"])["openAPIV3Schema"], doc)  # type: ignore[no-any-return]
