"""The JSON Schema editors use and gpc must agree: every valid spec passes it, every spec the
model rejects fails it too (except what a JSON Schema cannot express, listed below)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT, all_spec_files, spec_id
from goldens import invalid_cases

from compiler.schema import schema_text
from compiler.source import load_source

SCHEMA = json.loads((ROOT / "schema" / "platform.schema.json").read_text("utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
# A JSON Schema cannot say "this nested object is itself a valid JSON Schema" without fetching
# the meta-schema, which editors must not do (yaml-language-server hangs on unreachable URLs); nor
# how a scalar was written (GPC111), nor which time zones exist today (GPC112). See
# tests/test_schema_agreement.py for the field-by-field agreement.
NOT_EXPRESSIBLE = {"GPC106", "GPC111", "GPC112"}


def test_committed_schema_is_current() -> None:
    assert (ROOT / "schema" / "platform.schema.json").read_text("utf-8") == schema_text(), \
        "schema/platform.schema.json is stale: run `make goldens`"


def test_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_valid_specs_pass_the_schema(spec: Path) -> None:
    source, problems = load_source(spec.read_bytes(), spec.name)
    assert not problems
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(source.data)]
    assert not errors


def test_specs_start_with_the_schema_modeline() -> None:
    for spec in all_spec_files():
        first = spec.read_text("utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), spec
        target = (spec.parent / first.split("=", 1)[1]).resolve()
        assert target == ROOT / "schema" / "platform.schema.json", spec


def _codes(case: Path) -> set[str]:
    return set(re.findall(r" (GPC\d{3}) ", (case / "expected.txt").read_text("utf-8")))


# Cases whose shape errors are in the root spec (the team-file schema covers team files).
SHAPE_CASES = [c for c in invalid_cases() if any(re.match(r"GPC1\d\d", code) for code in _codes(c))
               and not _codes(c) & NOT_EXPRESSIBLE
               and re.search(r"^platform\.yaml:\d+:\d+: error GPC1", (c / "expected.txt").read_text("utf-8"), re.M)]


@pytest.mark.parametrize("case", SHAPE_CASES, ids=lambda p: p.name)
def test_specs_the_model_rejects_fail_the_schema(case: Path) -> None:
    source, problems = load_source((case / "platform.yaml").read_bytes(), "platform.yaml")
    assert not problems
    assert list(VALIDATOR.iter_errors(source.data)), f"the schema accepts {case.name}, gpc does not"


def test_names_gpc_rejects_fail_the_schema() -> None:
    for case in ("invalid-workload-name", "invalid-platform-name", "workload-name-too-long", "invalid-alias"):
        source, _ = load_source((ROOT / "tests/cases/invalid" / case / "platform.yaml").read_bytes(), "p")
        assert list(VALIDATOR.iter_errors(source.data)), case


def test_every_property_is_described() -> None:
    missing = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for name, prop in node.get("properties", {}).items():
                if "description" not in prop:
                    missing.append(f"{path}.{name}")
            for key, value in node.items():
                if key not in ("examples", "default", "const", "enum"):
                    walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(SCHEMA, "$")
    assert not missing, missing


def test_team_files_the_platform_rejects_fail_the_team_file_schema() -> None:
    """The team-file schema flags what gpc refuses in a team file (root-only keys)."""
    import json

    import jsonschema

    schema = json.loads((ROOT / "schema" / "fragment.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    case = ROOT / "tests" / "cases" / "invalid" / "team-file-errors" / "teams" / "web.yaml"
    source, _ = load_source(case.read_bytes(), "web.yaml")
    assert list(validator.iter_errors(source.data)), "environments: in a team file must be flagged"
    for good in sorted((ROOT / "tests" / "cases" / "valid" / "teams" / "teams").glob("*.yaml")):
        source, _ = load_source(good.read_bytes(), good.name)
        assert not list(validator.iter_errors(source.data)), good
