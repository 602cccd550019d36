"""Invalid specs: each case folder holds a spec and the exact transcript gpc must print.

Adding a case is adding a folder; `make goldens` writes its expected.txt, which is reviewed like
code. Every diagnostic must carry a code and file:line:col, exit 1 for errors, never a traceback,
and `gpc compile` must write nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from goldens import INVALID, case_argv, invalid_cases, transcript

from compiler.codes import CODES

CASES = invalid_cases()
LINE = re.compile(r"^(?:[\w.-]+/)*[\w.-]+\.ya?ml:(\d+):(\d+): (error|warning) (GPC\d{3}) \S")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_transcript_matches(case: Path) -> None:
    expected = (case / "expected.txt").read_text("utf-8")
    assert transcript(case, case_argv(case)) == expected


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_every_diagnostic_points_at_the_spec(case: Path) -> None:
    text = (case / "expected.txt").read_text("utf-8")
    assert "Traceback" not in text
    exit_code = int(re.search(r"\[exit (\d+)\]", text).group(1))  # type: ignore[union-attr]
    diagnostics = [line for line in text.splitlines()[2:] if not line.startswith(("  hint:", "found ", "ok:"))]
    assert diagnostics, "a case must produce at least one diagnostic"
    for line in diagnostics:
        match = LINE.match(line)
        assert match, f"not a diagnostic line: {line!r}"
        n_lines = len((case / line.split(":", 1)[0]).read_bytes().splitlines()) or 1  # a team file, too
        assert 1 <= int(match[1]) <= n_lines
        assert match[4] in CODES
    has_error = any(" error GPC" in line for line in diagnostics)
    assert exit_code == (1 if has_error else 0)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_compile_writes_nothing_for_a_broken_spec(case: Path, tmp_path: Path) -> None:
    """Errors: exit 1 and nothing written. Warnings only: the spec compiles, warnings shown."""
    text = (case / "expected.txt").read_text("utf-8")
    out = tmp_path / "out"
    result = transcript(case, ["compile", "platform.yaml", "-o", str(out)])
    if "[exit 0]" in text:
        assert "[exit 0]" in result
        assert " warning GPC" in result
        assert (out / "platform" / "README.md").is_file()
    else:
        assert "[exit 1]" in result
        assert not out.exists()


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40
    assert INVALID.is_dir()


# Codes whose bad example cannot be a committed file, and the test that covers them instead.
COVERED_ELSEWHERE = {"GPC010": "tests/test_source.py::test_file_too_large (an 8 MiB file is not committed)"}


def test_every_code_has_a_case_and_documentation() -> None:
    texts = "\n".join((case / "expected.txt").read_text("utf-8") for case in CASES)
    docs = (Path(__file__).parent.parent / "docs" / "diagnostics.md").read_text("utf-8")
    for code in CODES:
        assert f" {code} " in texts or code in COVERED_ELSEWHERE, f"{code} has no invalid test case"
        assert f"## {code}" in docs, f"{code} is not documented in docs/diagnostics.md"
        assert CODES[code].good.strip(), f"{code} has no good example"
