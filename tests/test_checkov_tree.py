"""checkov over each whole compiled tree, all frameworks, as a platform team runs it on its GitOps
repository: `checkov -d out/<spec>` from the repository root, no --framework filter. The tree must
scan clean as generated; the only skips are the documented ones of its `.checkov.yaml`.

A control file proves the run is real and the skips narrow: a copy of an AWS access key planted at
a path where `.checkov.yaml` skips CKV_SECRET_6 must still fail (CKV_SECRET_2), and be the only
failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CHECKOV_ENV, ROOT, all_spec_files, load_ir, require_tool, spec_id

from compiler.checkov import PATH, SKIPS, STORE_SKIPS, Skip

# Built at run time so that no scanner reads this test file as holding a key.
CONTROL_KEY = "AKIA" + "Z7QW3RT5YU2LP4MX"
CONTROL = "argocd/control/broker.yaml"  # where .checkov.yaml skips CKV_SECRET_6, not CKV_SECRET_2
FRAMEWORKS = {"kubernetes", "kustomize", "terraform", "github_actions", "secrets"}


def reports(stdout: str) -> list[dict[str, Any]]:
    """checkov's JSON output: one report, a list of reports, or (one `-d` each) several of those."""
    decoder, found, i = json.JSONDecoder(), [], 0
    while i < len(stdout):
        if stdout[i].isspace():
            i += 1
            continue
        data, i = decoder.raw_decode(stdout, i)
        found += data if isinstance(data, list) else [data]
    return found


def compile_trees(repo: Path, specs: list[Path]) -> list[str]:
    """Each spec's tree in one repository (<case>/out/<spec>/), with the planted control key."""
    trees = []
    for spec in specs:
        platform = load_ir(spec)
        out = f"{spec_id(spec)}/out"  # several test specs are called platform.yaml: one folder each
        done = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(spec), "-o", str(repo / out)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        tree = f"{out}/{platform.spec_name}"
        assert (repo / tree / PATH).is_file()
        control = repo / tree / CONTROL
        control.parent.mkdir(parents=True)
        control.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: control\n  namespace: control\n"
                           f"data:\n  aws_access_key_id: {CONTROL_KEY}\n")
        trees.append(tree)
    assert len(set(trees)) == len(trees)
    return trees


def scan(repo: Path, trees: list[str], *flags: str) -> list[dict[str, Any]]:
    """One checkov run with one `-d` per tree: each tree is its own root, and checkov reads each
    tree's `.checkov.yaml`."""
    run = subprocess.run([require_tool("checkov"), "--skip-download", *(a for t in trees for a in ("-d", t)),
                          *flags, "-o", "json"],
                         cwd=repo, capture_output=True, text=True, timeout=1200, env={**os.environ, **CHECKOV_ENV})
    results = reports(run.stdout)
    assert results, run.stderr[-2000:]
    return results


def skip_of(check: dict[str, Any], trees: list[str]) -> set[Skip]:
    """The skips of .checkov.yaml that explain one skipped finding."""
    _, path = _in_tree(check, trees)
    return {s for s in SKIPS + STORE_SKIPS if s.check == check["check_id"] and re.search(s.files, path)}


# One tree per test, all frameworks: a whole run over every tree took checkov more than 25 minutes on
# two cores (it scans one root after another), so the trees are spread over the test workers.
@pytest.mark.slow
@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_every_compiled_tree_scans_clean_with_every_framework(spec: Path, tmp_path: Path) -> None:
    trees = compile_trees(tmp_path / "gitops", [spec])
    results = scan(tmp_path / "gitops", trees)
    assert {r["check_type"] for r in results} >= FRAMEWORKS, "checkov skipped a framework it should run"
    failed = {(c["check_id"], _in_tree(c, trees)) for r in results for c in r["results"]["failed_checks"]}
    assert failed == {("CKV_SECRET_2", (t, CONTROL)) for t in trees}, failed
    for r in results:
        assert r["summary"]["parsing_errors"] == 0, (r["check_type"], r["results"].get("parsing_errors"))
    # Every skipped secret finding is one that .checkov.yaml explains.
    for r in (r for r in results if r["check_type"] == "secrets"):
        for c in r["results"]["skipped_checks"]:
            assert skip_of(c, trees), (c["check_id"], _in_tree(c, trees))


@pytest.mark.slow
def test_every_skip_is_still_needed(tmp_path: Path) -> None:
    """Over every tree (secrets only, the framework the skips are for): each skip explains a finding."""
    trees = compile_trees(tmp_path / "gitops", all_spec_files())
    # One run per tree (a few seconds each): a run with one `-d` per tree reported no finding of the
    # secret-store tree's ExternalSecrets, which a run over that tree alone skips as configured.
    results = [r for tree in trees for r in scan(tmp_path / "gitops", [tree], "--framework", "secrets")]
    used: set[Skip] = set()
    for r in results:
        for c in r["results"]["skipped_checks"]:
            used |= skip_of(c, trees)
    # (the store's skip is written only into trees with ExternalSecrets, which a valid case has)
    assert used == set(SKIPS + STORE_SKIPS), f"stale skips in .checkov.yaml: {set(SKIPS + STORE_SKIPS) - used}"


def _in_tree(check: dict[str, Any], trees: list[str]) -> tuple[str, str]:
    """(tree, path inside the tree) of a finding."""
    path = check["file_abs_path"]
    tree = next(t for t in trees if f"/{t}/" in path)
    return tree, path.split(f"/{tree}/", 1)[1]


def test_the_config_is_what_checkov_reads() -> None:
    platform = load_ir(all_spec_files()[0])
    from compiler.checkov import render_checkov_config

    text = render_checkov_config(platform).text
    assert not any(w.store_secrets for w in platform.workloads)
    assert yaml.safe_load(text) == {"skip-check": [f"{s.check}:{s.files}" for s in SKIPS]}
    assert platform.spec_file in text.splitlines()[0]
    for skip in SKIPS:
        assert ":" not in skip.files, "checkov splits an entry at its colon"
        assert f"# {skip.check}: {skip.reason}" in text
    # A tree with secrets from a store skips the ExternalSecrets' key names too.
    store = next(load_ir(p) for p in all_spec_files() if any(w.store_secrets for w in load_ir(p).workloads))
    text = render_checkov_config(store).text
    assert yaml.safe_load(text) == {"skip-check": [f"{s.check}:{s.files}" for s in SKIPS + STORE_SKIPS]}
    for skip in STORE_SKIPS:
        assert ":" not in skip.files and f"# {skip.check}: {skip.reason}" in text
