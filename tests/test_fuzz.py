"""Property-based: random and mutated specs never crash gpc. A traceback or exit 3 is a bug;
a spec gpc accepts must also compile with every target without an exception."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.cli import main
from compiler.pipeline import check, render
from compiler.source import load_source
from targets import TARGETS

BASE = load_source((ROOT / "specs" / "fraud.yaml").read_bytes(), "fraud.yaml")[0].data
GPU = load_source((ROOT / "tests/cases/valid/gpu-cron/platform.yaml").read_bytes(), "p.yaml")[0].data

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12), st.sampled_from(["", "0", "-1", "1e9", "250m", "8Gi", "service", "job", "read",
                                           "publish", "/x", "x" * 80, "@daily", "{{ }}", "a: b", "'\"\n"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=6)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    import copy

    data = copy.deepcopy(draw(st.sampled_from([BASE, GPU])))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "rename", "copy"]))
        last = path[-1]
        if action == "replace":
            parent[last] = draw(values)
        elif action == "delete":
            del parent[last]
        elif action == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = parent.pop(last)
        elif action == "copy" and isinstance(parent, dict):
            parent[f"{last}x"] = copy.deepcopy(parent[last])
    return data


def _run_cli(path: Path) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(["validate", str(path)])


def _compile_if_valid(path: Path) -> None:
    result = check(path)
    assert all(d.pos.line >= 1 and d.pos.col >= 1 for d in result.diagnostics)
    if result.ok and result.platform is not None:
        render(result.platform, list(TARGETS))


@settings(max_examples=int(os.environ.get("GPC_FUZZ_EXAMPLES", "120")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(spec=mutated_specs())
def test_mutated_specs_never_crash(spec: Any, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "platform.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    assert _run_cli(path) in (0, 1)
    _compile_if_valid(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_random_bytes_never_crash(raw: bytes, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "platform.yaml"
    path.write_bytes(raw)
    assert _run_cli(path) in (0, 1)


yaml_fragments = st.lists(st.sampled_from([
    "version: 1\n", "name: x\n", "a: &a [1, 2]\n", "b: *a\n", "<<: {k: 1}\n", "- item\n", "? complex\n",
    "key: [unclosed\n", "k: {a: 1, a: 2}\n", "!!python/object:x {}\n", "---\n", "  indented: 1\n",
    "\t: tab\n", "x: |\n  block\n", "%YAML 1.1\n", "'q': \"q\"\n", "1: one\n", "~: null\n",
]), max_size=12).map(lambda parts: "".join(parts).encode())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=yaml_fragments)
def test_yaml_shaped_garbage_never_crashes(raw: bytes, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "platform.yaml"
    path.write_bytes(raw)
    assert _run_cli(path) in (0, 1)
