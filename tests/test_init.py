"""`gpc init`: a commented starter spec that validates, compiles and builds as written, and never
overwrites a file (issue 13, item 12)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT, require_tool

GPC = [sys.executable, "-m", "compiler.cli"]


def gpc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    return subprocess.run([*GPC, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONPATH": str(ROOT)})


def test_init_then_validate_then_compile_then_build(tmp_path: Path) -> None:
    kubectl = require_tool("kubectl")
    done = gpc("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    spec = tmp_path / "platform.yaml"
    text = spec.read_text("utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=schema/platform.schema.json"
    assert (tmp_path / "schema/platform.schema.json").read_text() == (ROOT / "schema/platform.schema.json").read_text()
    assert "name: my-platform" in text
    validated = gpc("validate", "platform.yaml", cwd=tmp_path)
    assert (validated.returncode, validated.stderr) == (0, "ok: 1 spec valid\n")
    compiled = gpc("compile", "platform.yaml", cwd=tmp_path)
    assert compiled.returncode == 0 and "warning" not in compiled.stderr, compiled.stderr
    assert compiled.stderr.startswith("wrote out/platform:")
    overlay = tmp_path / "out/platform/kustomize/hello/overlays/dev"
    built = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    kinds = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(built.stdout) if d}
    assert ("Deployment", "hello") in kinds and ("Service", "hello") in kinds


def test_the_editor_schema_accepts_the_starter(tmp_path: Path) -> None:
    tool = require_tool("check-jsonschema")
    assert gpc("init", "specs/shop.yaml", cwd=tmp_path).returncode == 0
    spec = tmp_path / "specs/shop.yaml"
    assert spec.read_text().splitlines()[0] == "# yaml-language-server: $schema=../schema/platform.schema.json"
    assert "name: shop " in spec.read_text()
    done = subprocess.run([tool, "--schemafile", str(tmp_path / "schema/platform.schema.json"), str(spec)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_commented_examples_are_valid_when_uncommented(tmp_path: Path) -> None:
    assert gpc("init", "shop.yaml", cwd=tmp_path).returncode == 0
    head, body = (tmp_path / "shop.yaml").read_text().split("version: 1\n", 1)
    # Uncomment every commented key (not `path:`, whose comment shows the default).
    full = re.sub(r"(?m)^(\s*)# (\s*(?!path:)[a-z_-]+:.*)$", r"\1\2", body)
    assert full.count("\n") == body.count("\n") and "nightly-report:" in full and "prod:" in full
    (tmp_path / "full.yaml").write_text(head + "version: 1\n" + full)
    done = gpc("validate", "full.yaml", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "ok: 1 spec valid\n")


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "platform.yaml").write_text("mine\n")
    done = gpc("init", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "gpc init: platform.yaml already exists; not overwriting it (give another PATH, " \
        "or move it away)\n"
    assert (tmp_path / "platform.yaml").read_text() == "mine\n"
    assert not (tmp_path / "schema").exists()


def test_init_keeps_an_existing_schema_and_refuses_a_bad_name(tmp_path: Path) -> None:
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema/platform.schema.json").write_text("{}\n")
    done = gpc("init", "--name", "Shop", cwd=tmp_path)
    assert done.returncode == 2 and "'Shop' is not a platform name" in done.stderr
    assert not (tmp_path / "platform.yaml").exists()
    assert gpc("init", "--name", "shop", cwd=tmp_path).stderr.startswith("wrote platform.yaml. Edit")
    assert (tmp_path / "schema/platform.schema.json").read_text() == "{}\n"
