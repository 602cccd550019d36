"""Shared test helpers: the real tools, the specs, the compiled IR."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
VALID_CASES = sorted(p for p in (ROOT / "tests" / "cases" / "valid").iterdir() if (p / "platform.yaml").is_file())
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BIN = Path(sys.executable).parent


def unavailable(message: str) -> NoReturn:
    """Something a test needs is missing: a failure in CI (CI=true), a skip on a laptop."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def require_tool(name: str) -> str:
    """The path of a real tool. Missing: a failure in CI (CI=true), a skip on a laptop."""
    # The project's own tool venvs first (checkov lives apart: it pins conflicting packages).
    local = next((d / name for d in (BIN, ROOT / ".venv-checkov" / "bin", ROOT / "tests/lsp/node_modules/.bin")
                  if (d / name).exists()), None)
    found = str(local) if local is not None else shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed (run `make setup-test`)")
    return found


# checkov's default fork pool deadlocked in CI (a worker hit a broken pipe and the parent waited for the
# full timeout); run its checks in one process: the scan is no slower on two cores and never hangs.
CHECKOV_ENV = {"CHECKOV_PARALLELIZATION_TYPE": "none"}


def all_spec_files() -> list[Path]:
    """Every valid spec: specs/*.yaml and tests/cases/valid/*/platform.yaml."""
    return SPECS + [case / "platform.yaml" for case in VALID_CASES]


def spec_id(path: Path) -> str:
    return path.parent.name if path.name == "platform.yaml" else path.stem


def load_ir(path: Path):  # type: ignore[no-untyped-def]
    from compiler.pipeline import check

    result = check(path)
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics]
    return result.platform


@pytest.fixture(params=all_spec_files(), ids=spec_id)
def platform(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The IR of every valid spec, one test per spec."""
    return load_ir(request.param)


_TREES: dict[str, dict[str, str]] = {}


def compiled_tree(platform) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every file the compile of `platform` writes (path relative to out/<spec>/ -> text), all
    targets, computed once per spec per test process. Contract tests (tests/test_contract_*.py)
    assert rollout invariants over this for every spec, so a new spec is covered for free."""
    from compiler.pipeline import render
    from targets import TARGETS

    key = platform.spec_file
    if key not in _TREES:
        artifacts, problems = render(platform, list(TARGETS))
        assert not [p for p in problems if p.severity.value == "error"], problems
        _TREES[key] = {a.path: a.text for a in artifacts}
    return _TREES[key]


def whole_overlays(tree: dict[str, str]) -> dict[str, str]:
    """`tree` with the files of the Components gpc factors out of a workload's overlays (what
    several environments share, targets/kustomize/shared.py) read as if each overlay that lists a
    Component held them itself, and without the Components' folders: for tests that look up an
    overlay's object by file name. Both layouts build the same objects
    (tests/test_kustomize_shared.py)."""
    import posixpath

    import yaml

    out = {path: text for path, text in tree.items() if "/components/" not in path}
    for path, text in tree.items():
        parts = path.split("/")
        if not (len(parts) == 5 and parts[0] == "kustomize" and parts[2] == "overlays"
                and parts[4] == "kustomization.yaml"):
            continue
        here = posixpath.dirname(path)
        for component in yaml.safe_load(text).get("components", []):
            folder = posixpath.normpath(posixpath.join(here, component))
            if not folder.startswith(f"kustomize/{parts[1]}/components/"):
                continue  # CI's image Component, which stays where it is
            for inner, content in tree.items():
                name = inner[len(folder) + 1:]
                if inner.startswith(folder + "/") and "/" not in name and name != "kustomization.yaml":
                    out[f"{here}/{name}"] = content
    return out
