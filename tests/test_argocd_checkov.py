"""checkov (kubernetes framework) over the Argo CD tree of every spec: nothing to report.

checkov has no checks specific to Argo CD's kinds; its generic ones (e.g. CKV_K8S_21, no default
namespace) apply. A control document proves the files are really parsed: one extra ConfigMap
without a namespace, appended to one of the generated files, must be the only failure.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import all_spec_files, load_ir, require_tool, spec_id

from targets.argocd import TARGET

CONTROL = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: control\ndata:\n  a: b\n"


def checkov() -> str:
    return require_tool("checkov")


def test_checkov_finds_nothing_in_any_argocd_tree(tmp_path: Path) -> None:
    tool = checkov()
    written = []
    for spec in all_spec_files():
        for artifact in TARGET.render(load_ir(spec)):
            path = tmp_path / "trees" / spec_id(spec) / artifact.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(artifact.text, "utf-8")
            written.append(path)
    control = tmp_path / "control" / "project.yaml"
    control.parent.mkdir()
    control.write_text((tmp_path / "trees" / "fraud" / "argocd" / "dev" / "project.yaml").read_text("utf-8") + CONTROL)

    run = subprocess.run([tool, "--skip-download", "-d", str(tmp_path), "--framework", "kubernetes", "-o", "json"],
                         capture_output=True, text=True)
    report = json.loads(run.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["summary"]["parsing_errors"] == 0
    failed = {(c["check_id"], c["file_path"], c["resource"]) for c in report["results"]["failed_checks"]}
    assert failed == {("CKV_K8S_21", "/control/project.yaml", "ConfigMap.default.control")}, failed
    assert report["results"]["skipped_checks"] == [], "gpc's Argo CD objects need no checkov skips"
    assert len(written) > 20
