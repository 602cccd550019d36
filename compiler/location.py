"""Where `gpc compile` writes a tree, and the check that it is where Argo CD and CI read it.

A tree is always OUT/<spec file stem>/, and `gitops.path` names the same folder inside the GitOps
repository, so the two must agree (GPC401):
- without -o, OUT is the parent of gitops.path, in the git repository gpc runs in (or the current
  directory outside one): the tree lands at gitops.path by construction;
- with -o, the tree's path inside the git repository that holds OUT must be gitops.path.
Either way gitops.path must end with the spec file's stem. A folder given with -o outside any git
repository is a scratch compile: there is no repository to disagree with, so nothing is checked.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from compiler.diagnostics import Diagnostic
from compiler.ir import Platform

CODE = "GPC401"


def repository_root(path: Path) -> Path | None:
    """The git work tree around `path` (the nearest folder holding `.git`), if there is one."""
    here = Path(os.path.abspath(path))
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _shown(path: Path) -> str:
    """A path as gpc prints it: relative to the current directory, with slashes."""
    return os.path.relpath(path).replace(os.sep, "/")


def locate(platform: Platform, out_dir: Path | None, repo: Path | None = None) -> tuple[Path, list[Diagnostic]]:
    """The tree's folder, and GPC401 if it is not at gitops.path. `repo`: the repository's root
    (default: found from OUT, or from the current directory without -o)."""
    gitops = PurePosixPath(platform.gitops_path)
    stem = platform.spec_name
    set_in_spec = platform.source is not None and ("gitops", "path") in platform.source.values
    pos = platform.position(("gitops", "path")) if set_in_spec else platform.position(("gitops",), key=True)
    said = f"gitops.path '{platform.gitops_path}'" if set_in_spec else \
        f"gitops.path (default '{platform.gitops_path}')"
    stem_problem = [] if gitops.name == stem else [Diagnostic(
        CODE, f"{said} does not end with '{stem}', the stem of {platform.spec_file}: gpc writes the tree "
        f"to OUT/{stem}/, so Argo CD and CI would read a folder gpc never writes", platform.spec_file, pos,
        hint=f"set gitops.path: {gitops.parent / stem}, or rename the spec file to {gitops.name or '<name>'}.yaml")]
    if out_dir is None:
        here = repo or repository_root(Path.cwd()) or Path.cwd()
        return Path(_shown(here / gitops.parent)) / stem, stem_problem
    tree = out_dir / stem
    root = repo or repository_root(out_dir)
    if root is None or stem_problem:
        return tree, stem_problem if root is not None else []
    inside = os.path.relpath(os.path.abspath(tree), os.path.abspath(root)).replace(os.sep, "/")
    if PurePosixPath(inside) == gitops:
        return tree, []
    return tree, [Diagnostic(
        CODE, f"-o {_shown(out_dir)} writes the tree to '{inside}' in the repository at '{_shown(root)}', but "
        f"{said} tells Argo CD and CI to read it elsewhere", platform.spec_file, pos,
        hint=f"set gitops.path: {inside}, or compile with -o {_shown(root / gitops.parent)} "
        "(or without -o: it defaults to the parent of gitops.path)")]
