"""The command line as a user runs it: real processes, exit codes, formats, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from compiler import __version__

GPC = [sys.executable, "-m", "compiler.cli"]
BROKEN = ROOT / "tests/cases/invalid/unknown-queue/platform.yaml"


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GPC, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("validate", "compile", "schema", "env"):
        assert command in result.stdout


def test_validate_ok() -> None:
    result = run("validate", "specs/fraud.yaml", "specs/minimal.yaml")
    assert result.returncode == 0, result.stderr
    assert "ok: 2 specs valid" in result.stderr


def test_validate_reports_with_code_and_position() -> None:
    result = run("validate", str(BROKEN.relative_to(ROOT)))
    assert result.returncode == 1
    assert "tests/cases/invalid/unknown-queue/platform.yaml:33:23: error GPC203 queue 'order'" in result.stderr
    assert "did you mean 'orders'?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_json_format() -> None:
    result = run("validate", "--format", "json", str(BROKEN))
    assert result.returncode == 1
    items = json.loads(result.stdout)
    assert {i["code"] for i in items} == {"GPC203", "GPC215"}
    assert all({"file", "line", "col", "severity", "message", "hint"} <= set(i) for i in items)


def test_github_format_is_the_default_in_actions() -> None:
    result = run("validate", str(BROKEN.relative_to(ROOT)), env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 1
    assert "::error file=tests/cases/invalid/unknown-queue/platform.yaml,line=33,col=23,title=GPC203::" \
        in result.stdout


@pytest.mark.parametrize("args", [
    ("validate",), ("validate", "no-such-file.yaml"), ("frobnicate",), ("validate", "--format", "xml",
                                                                          "specs/fraud.yaml"),
    ("env", "specs/fraud.yaml", "nobody"), ("env", "specs/fraud.yaml", "checkout", "--env", "qa"),
    ("compile", "specs/fraud.yaml", "--target", "helm"),
])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_a_bug_exits_3_without_a_bare_traceback(tmp_path: Path) -> None:
    script = ("import compiler.pipeline as p\n"
              "def boom(path, **options): raise RuntimeError('synthetic bug')\n"
              "p.check = boom\n"
              "from compiler.cli import main\n"
              "raise SystemExit(main(['validate', 'specs/fraud.yaml']))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 3
    assert "this is a bug in gpc" in result.stderr
    assert "RuntimeError: synthetic bug" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_does_not_import_what_it_does_not_need() -> None:
    # storefront, not fraud: a spec with previews lowers once to size the preview quota (GPC293).
    script = ("import sys, contextlib, io\nfrom compiler.cli import main\n"
              "with contextlib.redirect_stderr(io.StringIO()):\n    code = main(['validate', 'specs/storefront.yaml'])\n"
              "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
              "('jinja2', 'targets', 'hcl2', 'celpy', 'cloudcoil', 'kubernetes_validate') or m == 'compiler.lower')\n"
              "print(code, heavy)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "0 []", result.stdout + result.stderr


@pytest.mark.parametrize(("spec", "absent"), [
    # fraud's message schema is one compiler/metaschema.py vouches for; fraud has previews, so it
    # lowers once (GPC293) and imports the IR
    ("specs/fraud.yaml", ["jsonschema"]),
    # no previews: no lowering, and the checks' values come from compiler/ir_values.py
    ("specs/minimal.yaml", ["compiler.ir", "compiler.lower", "compiler.wiring", "jsonschema"]),
])
def test_validate_start_up_is_what_the_spec_needs(spec: str, absent: list[str]) -> None:
    # Issue 19: a validate's time is mostly start-up (bench/README.md). Each name here cost
    # 20-35 ms; pydantic's plugin scan reads every installed distribution's entry points.
    script = ("import sys, contextlib, io\nfrom compiler.cli import main\n"
              f"with contextlib.redirect_stderr(io.StringIO()):\n    code = main(['validate', {spec!r}])\n"
              f"loaded = [m for m in {absent!r} if m in sys.modules]\n"
              "print(code, loaded, sys.modules['pydantic.plugin._loader']._plugins)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            env={**env, "PYTHONPATH": str(ROOT)})
    assert result.stdout.strip() == "0 [] None", result.stdout + result.stderr


def test_env_prints_the_wiring_contract() -> None:
    result = run("env", "specs/fraud.yaml", "fraud-trainer")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if not line.startswith("#"))
    assert lines["EVENTS_QUEUE"] == "checkout-events"
    assert lines["MODELS_BUCKET"] == "fraud-models"
    assert lines["SCRATCH_PATH"] == "/artifacts"
    assert "secret fraud-trainer-credentials/AMQP_URL" in lines["AMQP_URL"]
    assert "FRAUD_URL" not in lines  # the trainer calls no service
    rows = json.loads(run("env", "specs/fraud.yaml", "checkout", "--format", "json").stdout)
    by_name = {r["name"]: r for r in rows}
    assert by_name["FRAUD_URL"]["value"] == "http://127.0.0.1:8000"
    assert by_name["AMQP_URL"]["secret"] is True
    assert json.loads(by_name["EVENTS_MESSAGE_SCHEMA"]["value"])["required"][:2] == ["transaction_id", "user_id"]


def test_env_uses_the_environment_overrides() -> None:
    prod = run("env", "tests/cases/valid/gpu-cron/platform.yaml", "api", "--env", "prod").stdout
    dev = run("env", "tests/cases/valid/gpu-cron/platform.yaml", "api").stdout
    assert "LOG_LEVEL=warning" in prod
    assert "LOG_LEVEL=info" in dev


def test_schema_command_writes_the_committed_schema(tmp_path: Path) -> None:
    result = run("schema", "-o", str(tmp_path / "s.json"))
    assert result.returncode == 0
    assert (tmp_path / "s.json").read_text() == (ROOT / "schema/platform.schema.json").read_text()


def test_compile_then_check_is_clean_and_drift_is_a_diff(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run("compile", "specs/minimal.yaml", "-o", str(out))
    assert first.returncode == 0, first.stderr
    assert run("compile", "specs/minimal.yaml", "-o", str(out), "--check").returncode == 0
    readme = out / "minimal" / "README.md"
    readme.write_text(readme.read_text() + "hand edit\n")
    drift = run("compile", "specs/minimal.yaml", "-o", str(out), "--check")
    assert drift.returncode == 1
    assert "-hand edit" in drift.stdout
    assert "is stale" in drift.stderr
    assert readme.read_text().endswith("hand edit\n")  # --check writes nothing


def test_compile_output_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    trees = []
    for seed in ("0", "12345"):
        out = tmp_path / seed
        result = run("compile", "tests/cases/valid/gpu-cron/platform.yaml", "-o", str(out),
                     env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        trees.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert trees[0] == trees[1]
    assert len(trees[0]) > 10


def test_compile_of_one_target_keeps_the_others(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("compile", "specs/fraud.yaml", "-o", str(out)).returncode == 0
    before = {p: p.read_bytes() for p in (out / "fraud").rglob("*") if p.is_file()}
    assert run("compile", "specs/fraud.yaml", "-o", str(out), "--target", "kyverno").returncode == 0
    assert {p: p.read_bytes() for p in (out / "fraud").rglob("*") if p.is_file()} == before
    assert run("compile", "specs/fraud.yaml", "-o", str(out), "--check").returncode == 0
