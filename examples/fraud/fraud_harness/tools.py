"""Finding the real tools the tests need; a missing one fails in CI and skips on a laptop."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .plan import ROOT

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(problem: str | None) -> None:
    """Like tests/conftest.py's require_tool: CI=true fails, a laptop skips."""
    if problem is None:
        return
    if IN_CI:
        pytest.fail(problem)
    pytest.skip(problem)


def checkov() -> str:
    """checkov lives in a venv of its own (it pins packages that conflict with pytest)."""
    local = ROOT / ".venv-checkov" / "bin" / "checkov"
    found = str(local) if local.exists() else shutil.which("checkov")
    require(None if found else "checkov is not installed (make setup-test)")
    assert found is not None
    return found


def app_dirs() -> list[Path]:
    here = Path(__file__).resolve().parents[1]
    return [here / "checkout", here / "trainer", here / "inference"]
