"""The one writer: stage the compiled tree beside out/<spec>/, then swap it in atomically.

- Unchanged files are hard-linked into the stage, not rewritten, and a compile that changes
  nothing touches nothing: creating many small files is what is slow on ordinary disks.
- The swap is one renameat2(RENAME_EXCHANGE) where the kernel has it, so readers see the old
  tree or the new one, never a mix. A crash leaves at most a stray `.<spec>.gpc-stage-*` folder.
- Only files listed in the tree's manifest as gpc's are ever replaced or removed. Files CI owns
  (image tags) are created once and then left alone. Anything else in the folder is kept, and a
  file gpc would overwrite but did not write is a conflict, reported and not touched.
"""

from __future__ import annotations

import ctypes
import difflib
import json
import os
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from compiler.target import Artifact

MANIFEST = ".gpc-manifest.json"
Change = Literal["create", "update", "delete"]


@dataclass
class Plan:
    tree: Path
    files: dict[str, Artifact]  # everything the tree must hold that gpc owns or seeds
    create: list[str] = field(default_factory=list)
    update: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    old_text: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.create or self.update or self.delete)

    @property
    def changes(self) -> list[tuple[str, Change]]:
        """Every file the plan changes, sorted by path, with the kind of change."""
        kinds: dict[str, Change] = {**dict.fromkeys(self.create, "create"), **dict.fromkeys(self.update, "update"),
                                    **dict.fromkeys(self.delete, "delete")}
        return sorted(kinds.items())

    def file_diff(self, path: str, label: str) -> str:
        """The unified diff of one changed file; `label` is the tree as the user sees it."""
        old = self.old_text.get(path, "")
        new = self.files[path].text if path in self.files and path not in self.delete else ""
        return "".join(difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True),
            fromfile=f"a/{label}/{path}" if path not in self.create else "/dev/null",
            tofile=f"b/{label}/{path}" if path not in self.delete else "/dev/null",
        ))

    def diff(self, label: str) -> str:
        return "".join(self.file_diff(path, label) for path, _ in self.changes)


class WriteConflict(Exception):
    def __init__(self, paths: list[str]) -> None:
        super().__init__(", ".join(paths))
        self.paths = paths


def _manifest(artifacts: list[Artifact]) -> Artifact:
    body = {
        "generated": sorted(a.path for a in artifacts if a.owner == "gpc"),
        "ci": sorted(a.path for a in artifacts if a.owner == "ci"),
    }
    return Artifact(MANIFEST, json.dumps(body, indent=1) + "\n")


def _read_manifest(tree: Path) -> tuple[set[str], set[str]]:
    try:
        body = json.loads((tree / MANIFEST).read_text("utf-8"))
        return set(body.get("generated", [])) | {MANIFEST}, set(body.get("ci", []))
    except (OSError, ValueError, AttributeError):
        return set(), set()


def _kept(tree: Path, keep: Collection[str], owned: set[str], ci_owned: set[str], produced: set[str]) -> list[Artifact]:
    kept = []
    for path in sorted((owned | ci_owned) - produced):
        if path.split("/", 1)[0] in keep and (tree / path).is_file():
            kept.append(Artifact(path, (tree / path).read_text("utf-8"), "ci" if path in ci_owned else "gpc"))
    return kept


def plan(artifacts: list[Artifact], tree: Path, keep: Collection[str] = ()) -> Plan:
    """Compare what gpc would write with what `tree` holds. Reads, never writes.

    `keep` names top-level folders that were not rendered this time (`gpc compile --target`
    compiles some targets): the files the manifest lists under them stay as they are, and owned.
    """
    owned, ci_owned = _read_manifest(tree)
    artifacts = artifacts + _kept(tree, keep, owned, ci_owned, {a.path for a in artifacts})
    files = {a.path: a for a in artifacts}
    if len(files) != len(artifacts):
        dupes = sorted({a.path for a in artifacts if sum(b.path == a.path for b in artifacts) > 1})
        raise ValueError(f"two artifacts share a path: {dupes}")
    for a in artifacts:
        if not a.text.endswith("\n") or "\r" in a.text or a.path.startswith("/") or ".." in a.path.split("/"):
            raise ValueError(f"artifact {a.path} breaks the output rules (LF, final newline, relative path)")
    files[MANIFEST] = _manifest(artifacts)
    result = Plan(tree, files)
    if not tree.exists():  # a first compile: nothing to read, compare or delete
        result.create = sorted(files)
        return result
    # Bytes first, text only for a file that differs (its diff): a `--check` or a no-op compile
    # reads every file, and pathlib's read_text (Path objects, a text decoder per file) was most of
    # that at N=1000 (21k files). A CI-owned file is only looked for, never read.
    base = os.fspath(tree)
    for path, artifact in sorted(files.items()):
        target = f"{base}/{path}"
        if artifact.owner == "ci":
            if not os.path.exists(target):
                result.create.append(path)
            continue  # exists: CI owns it from now on
        try:
            with open(target, "rb") as fh:
                old = fh.read()
        except FileNotFoundError:
            result.create.append(path)
            continue
        except OSError:
            old = None
        if old is not None and old == artifact.text.encode("utf-8"):
            continue
        if path not in owned and path not in ci_owned:
            result.conflicts.append(path)
            continue
        result.old_text[path] = _decoded(old)
        result.update.append(path)
    for path in sorted((owned | ci_owned) - set(files)):
        gone = tree / path
        if gone.is_file():
            try:
                result.old_text[path] = gone.read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                result.old_text[path] = ""
            result.delete.append(path)
    return result


def _decoded(data: bytes | None) -> str:
    try:
        return data.decode("utf-8") if data else ""
    except UnicodeDecodeError:
        return ""


def apply(p: Plan) -> None:
    """Make the tree match the plan, atomically. Does nothing when nothing changed."""
    if p.conflicts:
        raise WriteConflict(p.conflicts)
    if not p.changed:
        return
    tree = p.tree
    tree.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{tree.name}.gpc-stage-", dir=tree.parent))
    try:
        os.chmod(stage, 0o755)
        skip = set(p.delete) | set(p.update)
        if tree.is_dir():
            _link_tree(tree, stage, skip)
        # Strings and bytes rather than Path objects and text mode: pathlib and the text layer were a
        # third of this loop at N=1000 (19k files). plan() has checked every text is LF-only.
        base = os.fspath(stage)
        made: set[str] = set()
        for path in p.create + p.update:
            target = f"{base}/{path}"
            parent = target.rpartition("/")[0]
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            with open(target, "wb") as fh:
                fh.write(p.files[path].text.encode("utf-8"))
        if tree.is_dir():
            _exchange(stage, tree)
        else:
            os.rename(stage, tree)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _link_tree(src: Path, dst: Path, skip: set[str]) -> None:
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        out = dst if rel == "." else dst / rel
        out.mkdir(exist_ok=True)
        for name in files:
            path = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
            if path in skip:
                continue
            try:
                os.link(os.path.join(root, name), out / name)
            except OSError:
                shutil.copy2(os.path.join(root, name), out / name)
        dirs.sort()


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> None:
    """Swap two directories in one step (Linux renameat2), or as close to it as the OS allows."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        renameat2 = None
    if renameat2 is not None:
        if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
            return
    backup = b.with_name(b.name + ".gpc-old")
    os.rename(b, backup)
    os.rename(a, b)
    os.rename(backup, a)  # the caller removes `a`, which now holds the old tree
