"""Issue 19, item 7: does the tree's layout make it smaller? Two comparisons of the same spec.

- `kustomize/` with the shared Components against the same gpc writing every overlay whole
  (`KustomizeTarget(share=False)`, the layout tests/test_kustomize_shared.py proves builds alike):
  the same content, only the layout differs.
- The whole tree, per top-level folder, against gpc at BEFORE, the last commit before
  `terraform/modules/` and the Components (items 5 and 6): its `compiler/` and `targets/` come
  from git into the workspace and compile the same spec. Everything gpc learned since
  (object-store monitoring, preview databases, ...) counts against the new layout, so a folder
  that is smaller now than at BEFORE fell despite that.

    .venv/bin/python bench/layouts.py whole-overlays SPEC    # prints {"files": .., "bytes": ..}
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# hi-perf's last commit: main's byte-identical speed-ups and the hyphenated-database fix (the bench
# spec needs it), one root module per environment and every overlay whole.
BEFORE = "d0cba11"
FOLDERS = ("kustomize", "terraform", "github", "argocd", "kyverno")


def folder_stats(tree: Path) -> dict[str, dict[str, int]]:
    """Files and bytes of the whole tree ("total") and of each target's top-level folder."""
    out = {}
    for name, root in [("total", tree), *((f, tree / f) for f in FOLDERS)]:
        sizes = [p.stat().st_size for p in root.rglob("*") if p.is_file()]
        out[name] = {"files": len(sizes), "bytes": sum(sizes)}
    return out


def whole_overlays(spec: Path) -> dict[str, int]:
    """The kustomize/ subtree this gpc would write for `spec` with every overlay whole."""
    from compiler.pipeline import check
    from targets.kustomize import KustomizeTarget

    checked = check(spec)
    if not checked.ok or checked.platform is None:
        raise SystemExit(f"{spec}: has diagnostics")
    sizes = [len(a.text.encode("utf-8")) for a in KustomizeTarget(share=False).render(checked.platform)]
    return {"files": len(sizes), "bytes": sum(sizes)}


def measure(spec: Path, tree: Path, ws: Path, python: str, env: dict[str, str]) -> dict[str, Any]:
    """Item 7's figures for `spec`, whose tree this gpc wrote to `tree`; BEFORE compiles into `ws`."""
    result: dict[str, Any] = {"before_ref": BEFORE, "now": folder_stats(tree)}
    done = subprocess.run([python, str(Path(__file__)), "whole-overlays", str(spec)], cwd=spec.parent,
                          capture_output=True, text=True, env=env)
    result["kustomize_whole_overlays"] = json.loads(done.stdout) if done.returncode == 0 else None
    if done.returncode != 0:
        result["whole_overlays_error"] = done.stderr[-800:]
    src = ws / f"gpc-{BEFORE}"
    archive = subprocess.run(["git", "archive", BEFORE, "compiler", "targets"], cwd=REPO, capture_output=True)
    if archive.returncode != 0:  # e.g. a shallow clone without that commit
        result["before_error"] = archive.stderr.decode(errors="replace")[-400:]
        return result
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(src, filter="data")
    out = ws / f"out-{BEFORE}"
    done = subprocess.run([python, "-m", "compiler.cli", "compile", str(spec), "-o", str(out)], cwd=spec.parent,
                          capture_output=True, text=True, env={**env, "PYTHONPATH": str(src)})
    if done.returncode == 0:
        result["before"] = folder_stats(out / spec.stem)
    else:
        result["before_error"] = done.stderr[-800:]
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(src, ignore_errors=True)
    return result


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "whole-overlays":
        raise SystemExit(__doc__)
    print(json.dumps(whole_overlays(Path(sys.argv[2]))))
