"""The three images: hardened Dockerfiles (checked by checkov and by reading them), pinned requirements."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from fraud_harness.tools import app_dirs, checkov

HERE = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>[0-9][A-Za-z0-9.+-]*)$")
BASE = re.compile(r"^FROM python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64} AS \w+$")


def _checkov(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([checkov(), "--skip-download", "--framework", "dockerfile", "-d", str(directory),
                           "--compact", "--quiet", "--output", "cli"], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_checkov_finds_nothing_in_the_dockerfiles_and_would_catch_a_bad_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Dockerfile").write_text('FROM python:latest\nRUN pip install flask\nCMD ["python"]\n')
    for app in app_dirs():
        (tmp_path / app.name).mkdir()
        (tmp_path / app.name / "Dockerfile").write_text((app / "Dockerfile").read_text())
    result = _checkov(tmp_path)
    failed = set(re.findall(r"Check: (CKV2?_DOCKER_\d+).*?\n\s*FAILED for resource: (\S+)", result.stdout))
    assert {res.split(".")[0] for _, res in failed} == {"/bad/Dockerfile"}, result.stdout[-3000:]
    assert {"CKV_DOCKER_2", "CKV_DOCKER_3", "CKV_DOCKER_7"} <= {check for check, _ in failed}
    assert "Skipped checks: 0" in result.stdout


@pytest.mark.parametrize("app", app_dirs(), ids=lambda p: p.name)
def test_the_dockerfile_is_multi_stage_pinned_and_non_root(app: Path) -> None:
    lines = [line.strip() for line in (app / "Dockerfile").read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) == 2 and all(BASE.match(s) for s in stages), stages
    final = lines[lines.index(stages[-1]):]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", users[-1]), users  # numeric, not root
    assert not any(re.search(r"\b(apt-get|apk|gcc|curl|wget)\b", line) for line in lines)
    assert any(line.startswith("HEALTHCHECK ") for line in final)
    assert (app / ".dockerignore").read_text().splitlines()[1] == "*"  # allowlist: nothing else enters


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            match = PIN.match(line)
            assert match, f"{path}: not pinned: {line!r}"
            pins[match["name"].lower().replace("_", "-")] = match["version"]
    return pins


def test_requirements_are_pinned_and_agree_across_the_apps() -> None:
    pins = {app.name: _pins(app / "requirements.txt") for app in app_dirs()}
    assert {"starlette", "uvicorn", "pika", "httpx", "jsonschema"} <= set(pins["checkout"])
    assert {"pika", "minio", "scikit-learn", "jsonschema"} <= set(pins["trainer"])
    assert {"starlette", "uvicorn", "minio"} <= set(pins["inference"])
    assert "scikit-learn" not in pins["inference"]  # serving reads JSON parameters: no sklearn, no pickle
    for name in set().union(*pins.values()):
        versions = {app: p[name] for app, p in pins.items() if name in p}
        assert len(set(versions.values())) == 1, f"{name} pinned differently: {versions}"
    includes = (HERE / "requirements-test.txt").read_text().splitlines()
    assert {f"-r {app.name}/requirements.txt" for app in app_dirs()} <= set(includes)
