"""The generated workflows checked by the real tools: the GitHub workflow JSON Schema
(check-jsonschema), actionlint and checkov, once per spec over all of its workflows. Each tool is
also shown a planted bad workflow in the same run, so a tool that silently checks nothing fails
the test instead of passing it."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, all_spec_files, load_ir, require_tool, spec_id

from compiler import writer
from targets.github import TARGET, pins

# Checks skipped in the output, each with its reason written next to the skip in the file.
ALLOWED_SKIPS = {
    ("CKV_GHA_5", "ci.yaml"): "pull request builds are never pushed",
    ("CKV_GHA_6", "ci.yaml"): "pull request builds are never pushed",
}

PLANTED = """\
name: planted
on:
  pull_request_target:
    branchs: [main]
jobs:
  bad:
    runs-on: ubuntu-24.04
    timeout-minutes: fifteen
    steps:
      - run: echo "${{ github.event.pull_request.title }}" and ${{ github.shaa }}
"""


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every spec's github tree side by side (root/<spec name>/), plus a planted bad workflow."""
    root = tmp_path_factory.mktemp("github-trees")
    for spec in all_spec_files():
        platform = load_ir(spec)
        writer.apply(writer.plan(TARGET.render(platform), root / platform.spec_name))
    plant(root)
    return root


def workflow_files(root: Path) -> list[Path]:
    files = sorted(root.glob("github/*/.github/workflows/*.yaml"))
    assert files
    return files


def all_workflows(root: Path) -> list[Path]:
    return [f for spec in all_spec_files() for f in workflow_files(root / load_ir(spec).spec_name)]


def plant(root: Path) -> Path:
    bad = root / "planted" / ".github" / "workflows" / "planted.yaml"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text(PLANTED)
    return bad


# Each tool runs once over every spec's workflows and the planted one (one test per tool, so
# pytest-xdist never repeats a run).


def _spec_of(path: str, root: Path) -> str:
    return Path(path).resolve().relative_to(root.resolve()).parts[0]


def test_workflows_match_githubs_schema(trees: Path) -> None:
    tool = require_tool("check-jsonschema")
    files = all_workflows(trees)
    run = subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", "-o", "json",
                          *map(str, files), str(plant(trees))], capture_output=True, text=True)
    report = json.loads(run.stdout)
    bad = sorted({_spec_of(e["filename"], trees) + ": " + e.get("best_deep_match", e)["message"]
                  for e in report["errors"] + report.get("parse_errors", [])})
    assert run.returncode == 1 and bad and all(b.startswith("planted: ") for b in bad), bad
    assert any("timeout-minutes" in str(e) for e in report["errors"])


def test_actionlint_finds_nothing(trees: Path) -> None:
    tool = require_tool("actionlint")
    run = subprocess.run([tool, "-no-color", "-oneline", *map(str, all_workflows(trees)), str(plant(trees))],
                         capture_output=True, text=True, cwd=trees)
    findings = run.stdout.splitlines()
    assert run.returncode == 1 and any("potentially untrusted" in line for line in findings), run.stdout
    assert all(line.startswith("planted/") for line in findings), "\n".join(findings)


def test_checkov_finds_nothing(trees: Path) -> None:
    tool = require_tool("checkov")
    run = subprocess.run([tool, "--skip-download", "--framework", "github_actions", "-d", str(trees),
                          "-o", "json"], capture_output=True, text=True)
    report = json.loads(run.stdout)
    results: dict[str, list[dict[str, Any]]] = (report if isinstance(report, dict) else report[0])["results"]
    failed = [(c["check_id"], c["file_path"]) for c in results.get("failed_checks", [])]
    assert ("CKV_GHA_2", "/planted/.github/workflows/planted.yaml") in failed, "checkov must flag the planted file"
    assert all(path.startswith("/planted/") for _, path in failed), failed
    scanned = {c["file_path"] for c in results.get("passed_checks", [])}
    expected = {"/" + str(f.relative_to(trees)) for f in all_workflows(trees)}
    assert expected <= scanned, f"checkov did not scan {sorted(expected - scanned)}"
    for c in results.get("skipped_checks", []):
        key = (c["check_id"], Path(c["file_path"]).name)
        assert key in ALLOWED_SKIPS, f"unexpected skip {key}"
        assert ALLOWED_SKIPS[key] in c["check_result"].get("suppress_comment", ""), c


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_action_inputs_exist(spec: Path, trees: Path, tmp_path: Path) -> None:
    """actionlint knows the inputs of popular actions by release tag, not by commit: check every
    `with:` against the release each pinned commit belongs to."""
    tool = require_tool("actionlint")
    by_tag = tmp_path / ".github" / "workflows"
    by_tag.mkdir(parents=True)
    majors = {pin.ref: f"{pin.repo}@{pin.version.split('.')[0]}" for pin in pins.ACTIONS.values()}
    for i, path in enumerate(workflow_files(trees / load_ir(spec).spec_name)):
        text = path.read_text()
        for ref, major in majors.items():
            text = text.replace(ref, major)
        assert not re.search(r"@[0-9a-f]{40}", text)
        (by_tag / f"{i}-{path.name}").write_text(text)
    # One misspelt input proves actionlint checks inputs at all.
    sample = next(by_tag.glob("*deliver.yaml"))
    typo = by_tag / "typo.yaml"
    typo.write_text(sample.read_text().replace("persist-credentials:", "persist-credential:", 1))
    run = subprocess.run([tool, "-no-color", "-oneline", *map(str, sorted(by_tag.iterdir()))],
                         capture_output=True, text=True)
    findings = run.stdout.splitlines()
    assert len(findings) == 1 and 'input "persist-credential" is not defined' in findings[0], run.stdout


def test_hostile_spec_strings_still_lint(tmp_path: Path) -> None:
    """Quotes, `$`, globs and expressions in spec values stay values (GPC382 refuses the few that
    no trigger filter can express)."""
    tool = require_tool("actionlint")
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    hostile = dataclasses.replace(
        platform,
        gitops_branch="it's-\"$HOME\"-+!",
        gitops_path="out/[x] y*/fraud",
        workloads=tuple(dataclasses.replace(w, image=w.image + "${{ secrets.GITOPS_APP_PRIVATE_KEY }}")
                        for w in platform.workloads),
    )
    assert [p.code for p in TARGET.check(hostile)] == []
    writer.apply(writer.plan(TARGET.render(hostile), tmp_path / "fraud"))
    run = subprocess.run([tool, "-no-color", "-oneline", *map(str, workflow_files(tmp_path / "fraud"))],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout


def test_every_kind_of_gpc_source_lints(tmp_path: Path) -> None:
    """The spec's gpc source reaches the platform workflow through `env:` only, whatever its kind."""
    from compiler.ir import GpcSource

    actionlint, schema = require_tool("actionlint"), require_tool("check-jsonschema")
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    files = []
    for i, source in enumerate([
        GpcSource("index", "https://pypi.acme.example/${{ github.token }}/simple", version="0.1.0",
                  hashes=("sha256:" + "a" * 64,)),
        GpcSource("git", "https://github.com/acme/gpc.git", commit="b" * 40),
        GpcSource("path", "vendor/gpc"),
    ]):
        text = next(a.text for a in TARGET.render(dataclasses.replace(platform, gpc_source=source))
                    if a.path.endswith("/gpc.yaml"))
        path = tmp_path / ".github" / "workflows" / f"gpc-{i}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        files.append(str(path))
    lint = subprocess.run([actionlint, "-no-color", "-oneline", *files], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    valid = subprocess.run([schema, "--builtin-schema", "vendor.github-workflows", *files], capture_output=True,
                           text=True)
    assert valid.returncode == 0, valid.stdout + valid.stderr
