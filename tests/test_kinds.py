"""The `uses` kinds table (compiler/kinds.py) is the one description of each kind: the model,
the schema, lowering and the wiring contract must agree with it."""

from __future__ import annotations

import json

import pytest
from conftest import all_spec_files, load_ir, spec_id

from compiler.kinds import USE_KINDS
from compiler.model import USE_MODELS
from compiler.schema import schema_text


def test_one_model_class_per_kind_in_table_order() -> None:
    assert [m.kind for m in USE_MODELS] == list(USE_KINDS)
    for model in USE_MODELS:
        assert model.kind in model.model_fields, f"{model.__name__} names its target by the key '{model.kind}'"


def test_accesses_are_the_models_literals() -> None:
    for model in USE_MODELS:
        field = model.model_fields.get("access")
        allowed = tuple(field.annotation.__args__) if field is not None else ()  # type: ignore[union-attr]
        assert allowed == USE_KINDS[model.kind].accesses


def test_schema_picks_every_kind_by_its_key() -> None:
    """Editors choose a use's branch by the key it names, one `if` per kind of the table."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "if" in node and "then" in node:
                found.extend(node["if"]["required"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(schema_text())["$defs"]["Service"]["properties"]["uses"])
    assert found == list(USE_KINDS)


@pytest.mark.parametrize("path", all_spec_files(), ids=spec_id)
def test_wiring_produces_only_declared_variables(path) -> None:  # type: ignore[no-untyped-def]
    """The collision check (GPC218) reserves the names the table declares; lowering must never
    produce a contract variable outside them, or a collision could go unreported."""
    from compiler import names
    from compiler.names import TELEMETRY_VARIABLES

    platform = load_ir(path)
    for w in platform.workloads:
        declared = {"PORT", *TELEMETRY_VARIABLES, names.PUSHGATEWAY_URL_KEY, *w.secrets, *(v for v in w.placements[0].plain_env)}
        for use in w.uses:
            kind = USE_KINDS[use.kind]
            declared |= {v.name for v in kind.shared} | set(kind.variable_names(use.alias))
        for placement in w.placements:
            produced = {v.name for v in placement.env_vars}
            assert produced <= declared, (w.name, produced - declared)
            for var in placement.env_vars:
                if var.name not in placement.plain_env:
                    assert var.origin[:2] == ("workloads", w.name), var
        assert names.credentials_secret(w.name) == w.credentials_secret or not w.credential_keys
