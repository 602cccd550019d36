"""The editor-facing parts of the schema agree with the model: every snippet an editor inserts is
valid for gpc, and what the schema adds for editors (enum descriptions, nullable merges) matches
the model's choices."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from compiler import model
from compiler.pipeline import check
from compiler.schema import build_schema

SCHEMA = build_schema()
DEFS = SCHEMA["$defs"]


def instantiate(body: Any) -> Any:
    """A snippet as inserted, with every placeholder left at its default (`${1:x}` -> x, `^` = unquoted)."""
    if isinstance(body, dict):
        return {instantiate(k): instantiate(v) for k, v in body.items()}
    if isinstance(body, str):
        text = re.sub(r"\$\{\d+:([^}]*)\}", r"\1", body)
        return yaml.safe_load(text[1:]) if text.startswith("^") else text
    return body


def snippets(node: dict[str, Any]) -> list[Any]:
    return [instantiate(s["body"]) for s in node["defaultSnippets"]]


def test_the_whole_platform_snippet_is_a_valid_spec(tmp_path: Path) -> None:
    (platform,) = snippets(SCHEMA)
    workloads = SCHEMA["properties"]["workloads"]
    for i, workload in enumerate(snippets(workloads["additionalProperties"])):
        platform["workloads"][f"w{i}"] = workload
    spec = tmp_path / "platform.yaml"
    spec.write_text(yaml.safe_dump(platform), "utf-8")
    result = check(spec)
    assert result.ok and result.diagnostics == [], [f"{d.code} {d.message}" for d in result.diagnostics]
    assert {w.type for w in result.platform.workloads} == set(model.WORKLOAD_TYPES)  # type: ignore[union-attr]


def test_new_workload_snippets_wrap_the_workload_snippets() -> None:
    workloads = SCHEMA["properties"]["workloads"]
    inner = snippets(workloads["additionalProperties"])
    outer = snippets(workloads)
    assert [next(iter(o.values())) for o in outer] == inner
    assert all(list(o) == ["name"] for o in outer)


@pytest.mark.parametrize("kind", ["Service", "Worker", "Job"])
def test_use_snippets_are_valid_uses(kind: str) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(model.Use)
    uses = DEFS[kind]["properties"]["uses"]["additionalProperties"]
    bodies = snippets(uses)
    assert {next(iter(b)) for b in bodies} == {"queue", "bucket", "volume", "service"}
    for body in bodies:
        adapter.validate_python(body)
    accesses = {(next(iter(b)), b.get("access")) for b in bodies}
    assert {a for k, a in accesses if k == "queue"} == {"publish", "consume"}
    assert {a for k, a in accesses if k == "bucket"} == {"read", "write", "readwrite"}


def test_other_snippets_fit_their_models() -> None:
    (env,) = snippets(SCHEMA["properties"]["environments"])
    for value in env.values():
        model.Environment.model_validate(value)
    (resources,) = snippets(DEFS["WorkloadOverride"]["properties"]["resources"])
    model.Resources.model_validate(resources)
    for group in ("services", "jobs"):
        (quota,) = snippets(DEFS["Quotas"]["properties"][group])
        model.Quota.model_validate(quota)


@pytest.mark.parametrize(("path", "field"), [
    (("QueueUse", "access"), model.QueueUse.model_fields["access"]),
    (("BucketUse", "access"), model.BucketUse.model_fields["access"]),
    (("Job", "concurrency"), model.Job.model_fields["concurrency"]),
    (("Volume", "access_mode"), model.Volume.model_fields["access_mode"]),
])
def test_every_choice_is_explained(path: tuple[str, str], field: Any) -> None:
    node = DEFS[path[0]]["properties"][path[1]]
    assert node["enum"] == list(field.annotation.__args__)
    assert len(node["markdownEnumDescriptions"]) == len(node["enum"]) == len(node["enumDescriptions"])
    assert all(text.strip() for text in node["markdownEnumDescriptions"])


def test_optional_fields_complete_as_their_type() -> None:
    # `args:` completes to a list item, not to the text `null`; null stays valid, as in gpc.
    args = DEFS["Service"]["properties"]["args"]
    assert args["type"] == ["array", "null"] and "default" not in args
    assert "anyOf" not in args
    nulls = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "default" in node and node["default"] is None:
                nulls.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(SCHEMA, "#")
    assert nulls == []


def test_defaults_are_shown_in_hover_text() -> None:
    port = DEFS["Service"]["properties"]["port"]
    assert port["markdownDescription"].endswith("Default: `8080`")
    assert port["description"] == model.Service.model_fields["port"].description
