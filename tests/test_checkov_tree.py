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

from compiler.checkov import PATH, SKIPS, STORE_SKIPS

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


@pytest.mark.slow
def test_every_compiled_tree_scans_clean_with_every_framework(tmp_path: Path) -> None:
    """One repository holding every spec's tree (<case>/out/<spec>/), scanned in one checkov run with
    one `-d` per tree: each tree is its own root, and checkov reads each tree's `.checkov.yaml`."""
    tool = require_tool("checkov")
    repo = tmp_path / "gitops"
    trees = []
    for spec in all_spec_files():
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

    run = subprocess.run([tool, "--skip-download", *(arg for t in trees for arg in ("-d", t)), "-o", "json"],
                         cwd=repo, capture_output=True, text=True, timeout=1500, env={**os.environ, **CHECKOV_ENV})
    results = reports(run.stdout)
    assert {r["check_type"] for r in results} >= FRAMEWORKS, "checkov skipped a framework it should run"
    failed = {(c["check_id"], _in_tree(c, trees)) for r in results for c in r["results"]["failed_checks"]}
    assert failed == {("CKV_SECRET_2", (t, CONTROL)) for t in trees}, failed
    for r in results:
        assert r["summary"]["parsing_errors"] == 0, (r["check_type"], r["results"].get("parsing_errors"))
    # Every skipped secret finding is one .checkov.yaml explains, and every skip is still needed.
    used = set()
    for r in (r for r in results if r["check_type"] == "secrets"):
        for c in r["results"]["skipped_checks"]:
            _, path = _in_tree(c, trees)
            matching = {s for s in SKIPS + STORE_SKIPS if s.check == c["check_id"] and re.search(s.files, path)}
            assert matching, (c["check_id"], path)
            used |= matching
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
