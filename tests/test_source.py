"""Hostile and malformed YAML: every case is a diagnostic with a position, never a crash or hang."""

from __future__ import annotations

import time

import pytest

from compiler.source import MAX_BYTES, MAX_NODES, load_source


def codes(raw: bytes) -> list[str]:
    _, diagnostics = load_source(raw, "spec.yaml")
    return [d.code for d in diagnostics]


def test_positions_are_one_based_for_keys_and_values() -> None:
    source, problems = load_source(b"a: 1\nb:\n  c: [x, y]\n", "spec.yaml")
    assert not problems
    assert (source.keys[("b", "c")].line, source.keys[("b", "c")].col) == (3, 3)
    assert (source.values[("b", "c", 1)].line, source.values[("b", "c", 1)].col) == (3, 10)


def test_file_too_large() -> None:
    assert codes(b"a: 1\n" + b"#" * MAX_BYTES) == ["GPC010"]


def test_duplicate_key_is_reported_at_the_second_one() -> None:
    _, problems = load_source(b"a: 1\nb: 2\na: 3\n", "spec.yaml")
    assert [(p.code, p.pos.line, p.pos.col) for p in problems] == [("GPC003", 3, 1)]
    assert "line 1" in problems[0].message


def test_duplicate_keys_inside_flow_mappings() -> None:
    assert codes(b"a: {x: 1, x: 2}\n") == ["GPC003"]


@pytest.mark.parametrize("raw, code", [
    (b"? [a, b]\n: 1\n", "GPC004"),
    (b"null: 1\n", "GPC004"),
    (b"1.5: x\n", "GPC004"),
    (b"a: !!binary aGVsbG8=\n", "GPC007"),
    (b"a: !!set {x}\n", "GPC007"),
    (b"a: !!python/name:os.system\n", "GPC007"),
    (b"!!omap [a: 1]\n", "GPC007"),
    (b"a: *nowhere\n", "GPC002"),
    (b"a: 'unterminated\n", "GPC002"),
    (b"\xff\xfe", "GPC001"),
    (b"--- a\n--- b\n", "GPC006"),
    (b"42\n", "GPC005"),
])
def test_hostile_inputs(raw: bytes, code: str) -> None:
    assert codes(raw) == [code]


def test_alias_bomb_is_stopped_quickly() -> None:
    lines = [b'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 12):
        refs = ",".join([f"*a{i - 1}"] * 10).encode()
        lines.append(b"a%d: &a%d [%s]" % (i, i, refs))
    # CPU time of this process, not wall time: a loaded machine stretches the wall clock, while an
    # unbounded expansion of 10^12 nodes would burn minutes of CPU.
    start = time.process_time()
    assert codes(b"\n".join(lines) + b"\n") == ["GPC008"]
    assert time.process_time() - start < 2.0
    assert MAX_NODES >= 1_000_000  # legitimate specs with thousands of workloads still load


def test_aliases_and_merge_keys_that_are_reasonable_work() -> None:
    source, problems = load_source(b"d: &d {cpu: 1m, memory: 1Mi}\nr:\n  <<: *d\n  cpu: 2m\n", "spec.yaml")
    assert not problems
    assert source.data["r"] == {"cpu": "2m", "memory": "1Mi"}


def test_deep_nesting_does_not_recurse() -> None:
    assert codes(b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n") == ["GPC009"]
    assert codes(b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 200))) == ["GPC009"]


def test_bom_is_accepted() -> None:
    assert codes(b"\xef\xbb\xbfa: 1\n") == []


def test_timestamps_stay_strings() -> None:
    source, _ = load_source(b"a: 2024-01-01\nb: 12:30\n", "spec.yaml")
    assert source.data["a"] == "2024-01-01"


def test_unquoted_scalars_keep_their_text_through_aliases_and_merge_keys() -> None:
    # gpc needs the written text of `0755` to say what YAML made of it, wherever the value lands.
    raw = (b"common: &common {MODE: 0755, NAME: x, QUOTED: '0755'}\n"
           b"list: &list [1:30, yes]\n"
           b"a: *common\n"
           b"b: *list\n"
           b"c:\n  <<: *common\n  NAME: 0x1F\n"
           b"d:\n  <<: [{MODE: 0o17}, *common]\n")
    source, problems = load_source(raw, "spec.yaml")
    assert not problems
    assert source.data["a"]["MODE"] == 493 and source.data["d"]["MODE"] == "0o17"
    plain = source.plain
    assert plain[("common", "MODE")] == plain[("a", "MODE")] == plain[("c", "MODE")] == "0755"
    assert plain[("b", 0)] == "1:30" and plain[("b", 1)] == "yes"
    assert plain[("c", "NAME")] == "0x1F"
    assert plain[("d", "MODE")] == "0o17"  # the first merged mapping wins, as in YAML
    assert ("a", "QUOTED") not in plain and ("a", "NAME") not in plain  # quoted or plain text


@pytest.mark.parametrize("raw, line, col, words", [
    (b"a:\n  b: 1\n\tc: 2\n", 3, 1, "indented with a tab"),
    (b"schedule: */5 * * * *\n", 1, 11, "YAML reads as an alias"),
    (b"schedule: @daily\n", 1, 11, "which YAML reserves"),
    (b"w:\n  api:\n   type: service\n    port: 8080\n", 3, 4, "'type' is indented by 3 spaces"),
    (b"w:\n  api:\n    type: service\n      port: 8080\n", 4, 7, "'port' is indented by 6 spaces"),
    (b"w:\n  env:\n    A: b\n   B: c\n", 4, 4, "'B' is indented by 3 spaces"),
    (b"a:\n  - x\n - y\n", 3, 2, "'- y' is indented by 1 space,"),
    (b"d: note: this\n", 1, 4, "contains ': '"),
])
def test_common_yaml_mistakes_are_named(raw: bytes, line: int, col: int, words: str) -> None:
    _, problems = load_source(raw, "spec.yaml")
    (problem,) = problems
    assert (problem.code, problem.pos.line, problem.pos.col) == ("GPC002", line, col), problem
    assert words in problem.message and problem.hint, problem


def test_loading_keeps_no_yaml_node_alive() -> None:
    """The shared scalar constructor memoizes each node it builds; kept, every scalar's node,
    event and marks outlived the load (~70 MB at N=5000, the bench spec)."""
    from compiler import source as module

    source, problems = load_source(b"a: 1\nb: [x, 2.5, true]\nc: {d: '2024-01-01', e: !!str 3}\n", "spec.yaml")
    assert not problems and source.data == {"a": 1, "b": ["x", 2.5, True], "c": {"d": "2024-01-01", "e": "3"}}
    assert not module._CONSTRUCTOR.constructed_objects and not module._CONSTRUCTOR.recursive_objects
    _, problems = load_source(b"a: !!int nope\n", "spec.yaml")  # a value the constructor rejects
    assert [p.code for p in problems] == ["GPC002"]
    assert not module._CONSTRUCTOR.constructed_objects and not module._CONSTRUCTOR.recursive_objects
