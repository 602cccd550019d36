"""The one writer: stage the compiled tree beside out/<spec>/, then swap it in atomically.

- Unchanged files are hard-linked into the stage, not rewritten, and a compile that changes
  nothing touches nothing: creating many small files is what is slow on ordinary disks.
- The swap is one renameat2(RENAME_EXCHANGE) where the kernel has it, so readers see the old
  tree or the new one, never a mix. A crash leaves at most a stray `.<spec>.gpc-stage-*` folder.
- The manifest also records a digest of the compile's inputs and one of the generated files: a
  `--check` or a no-op compile that finds both unchanged (up_to_date) need not render at all.
- Only files listed in the tree's manifest as gpc's are ever replaced or removed. Files CI owns
  (image tags) are created once and then left alone. Anything else in the folder is kept, and a
  file gpc would overwrite but did not write is a conflict, reported and not touched.
"""

from __future__ import annotations

import ctypes
import difflib
import hashlib
import json
import os
import shutil
import tempfile
import weakref
from collections.abc import Collection, Iterable
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
    fresh: int = 0  # files up_to_date() found unchanged without rendering (then `files` is empty)
    # Only the manifest's record of the inputs differs (a comment in the spec, another gpc): not
    # drift, since every generated file is right, but a compile rewrites it so the next check is fast.
    refresh: bool = False
    size: int = 0  # files the tree holds after apply, manifest included (`files` may hold fewer)
    # Planner(stage=True): the folder holding the new and changed files, already written; `staged`
    # are their paths (not in `files`). `cleanup` removes it unless apply swapped it in.
    stage: Path | None = None
    staged: set[str] = field(default_factory=set)
    cleanup: weakref.finalize[[Path, bool], Plan] | None = field(default=None, repr=False)

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
        new = "" if path in self.delete else self.files[path].text if path in self.files else \
            _decoded(_read(self.stage / path)) if self.stage is not None and path in self.staged else ""
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


def _manifest(generated: list[str], ci: list[str], inputs: str | None, digest: str) -> Artifact:
    """The manifest: what gpc owns, what CI owns, and two digests a `--check` can trust instead of
    rendering: the compile's inputs (compiler/inputs.py; null when this tree is not one compile's
    output, see plan) and the generated files (one digest, not one per file: small, a readable diff)."""
    body = {"generated": generated, "ci": ci, "inputs_sha256": inputs, "generated_sha256": digest}
    return Artifact(MANIFEST, json.dumps(body, indent=1) + "\n")


def _read_manifest(tree: Path) -> tuple[set[str], set[str], str | None]:
    try:
        body = json.loads((tree / MANIFEST).read_text("utf-8"))
        inputs = body.get("inputs_sha256")
        return (set(body.get("generated", [])) | {MANIFEST}, set(body.get("ci", [])),
                inputs if isinstance(inputs, str) else None)
    except (OSError, ValueError, AttributeError):
        return set(), set(), None


def _entry(path: str, data: bytes) -> bytes:
    """One generated file's line in the tree's digest: its path and the sha256 of its bytes."""
    return path.encode("utf-8") + b"\0" + hashlib.sha256(data).digest()


def up_to_date(tree: Path, inputs: str) -> Plan | None:
    """The plan of a tree the manifest shows up to date: `inputs` is what the manifest recorded, the
    manifest is exactly what gpc writes, every generated file it lists hashes to its digest and every
    CI-owned file exists. Reads only the tree; None when any of that is not so (then render and plan).

    Nothing else can differ: the files gpc would write are the manifest's (same inputs), so the
    full plan's strays (listed but not written) and conflicts (written but not listed) cannot occur."""
    base = os.fspath(tree)
    try:
        with open(f"{base}/{MANIFEST}", "rb") as fh:
            raw = fh.read()
        body = json.loads(raw)
        generated, ci, digest = body["generated"], body["ci"], body["generated_sha256"]
        if body["inputs_sha256"] != inputs or not isinstance(digest, str) or \
                _manifest(generated, ci, inputs, digest).text.encode("utf-8") != raw:
            return None
        if generated != sorted(set(generated)) or not all(os.path.exists(f"{base}/{p}") for p in ci):
            return None
        tree_digest = hashlib.sha256()
        for path in generated:
            with open(f"{base}/{path}", "rb") as fh:
                tree_digest.update(_entry(path, fh.read()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if tree_digest.hexdigest() != digest:
        return None
    return Plan(tree, {}, fresh=len(generated) + len(ci) + 1)


def _kept(tree: Path, keep: Collection[str], owned: set[str], ci_owned: set[str], produced: Collection[str]) -> list[Artifact]:
    kept = []
    for path in sorted((owned | ci_owned) - set(produced)):
        if path.split("/", 1)[0] in keep and (tree / path).is_file():
            kept.append(Artifact(path, (tree / path).read_text("utf-8"), "ci" if path in ci_owned else "gpc"))
    return kept


def plan(artifacts: list[Artifact], tree: Path, keep: Collection[str] = (), inputs: str | None = None) -> Plan:
    """Compare what gpc would write with what `tree` holds. Reads, never writes.

    `keep` names top-level folders that were not rendered this time (`gpc compile --target`
    compiles some targets): the files the manifest lists under them stay as they are, and owned.
    `inputs` is the digest of this compile's inputs (compiler/inputs.py), recorded in the manifest
    when the whole tree is their output: always after a compile of every target; after one of some
    targets only when the manifest already recorded the same inputs and nothing changed, since the
    kept files are otherwise output of other inputs.
    """
    planner = Planner(tree, keep, inputs)
    planner.add(artifacts)
    return planner.finish()


class Planner:
    """`plan`, handed the artifacts a target at a time, so a compile need not hold the whole tree.

    `hold=False` keeps the text only of files that change (their diff, or their write); `stage=True`
    (a compile that will apply: not `--check`) writes each new or changed file at once, as bytes,
    into the stage folder beside the tree that `apply` then swaps in, and keeps only its path. At
    N=5000 the tree is 420 MB of text: held whole until the plan, it was most of the peak RSS.
    The tree itself is not touched before `apply`; a plan with conflicts, or a render that fails,
    removes its stage (and so does the plan's finalizer, should nothing apply it).
    """

    def __init__(self, tree: Path, keep: Collection[str] = (), inputs: str | None = None, *,
                 hold: bool = True, stage: bool = False) -> None:
        self.tree, self.keep, self.inputs, self.hold, self.stage = tree, keep, inputs, hold, stage
        self.owned, self.ci_owned, self.old_inputs = _read_manifest(tree)
        self.result = Plan(tree, {})
        self.exists = tree.exists()
        self.digests: dict[str, bytes] = {}  # a generated file's sha256, for the manifest's digest
        self.ci: set[str] = set()  # a set: `in` per file (a list was 0.5 s at N=1000)
        self.dupes: set[str] = set()
        self.made: set[str] = set()

    def add(self, artifacts: Iterable[Artifact]) -> None:
        """Plan these files (one target's; a renderer that yields them is planned a file at a time,
        its text dropped once staged). Bytes first, text only for a file that differs (its
        diff): a `--check` or a no-op compile reads every file, and pathlib's read_text was most of
        that at N=1000 (21k files). A CI-owned file is only looked for, never read."""
        result, base = self.result, os.fspath(self.tree)
        try:
            for a in artifacts:
                if not a.text.endswith("\n") or "\r" in a.text or a.path.startswith("/") or ".." in a.path.split("/"):
                    raise ValueError(f"artifact {a.path} breaks the output rules (LF, final newline, relative path)")
                if a.path == MANIFEST:
                    raise ValueError(f"an artifact takes the manifest's path {MANIFEST}")
                if a.path in self.digests or a.path in self.ci:
                    self.dupes.add(a.path)
                    continue
                data = None
                if a.owner == "ci":
                    self.ci.add(a.path)
                    if self.exists and os.path.exists(f"{base}/{a.path}"):
                        self._keep(a, False)  # exists: CI owns it from now on
                        continue
                    result.create.append(a.path)
                else:
                    data = a.text.encode("utf-8")
                    self.digests[a.path] = hashlib.sha256(data).digest()
                    if not self.exists:  # a first compile: nothing to read, compare or delete
                        result.create.append(a.path)
                    elif not _compare(result, a.path, data, self.owned, self.ci_owned):
                        self._keep(a, False)
                        continue
                self._keep(a, True, data)
        except BaseException:
            self.discard()
            raise

    def _keep(self, a: Artifact, changed: bool, data: bytes | None = None) -> None:
        if changed and self.stage and a.path not in self.result.conflicts:
            self._write(a.path, data if data is not None else a.text.encode("utf-8"))
            if not self.hold:
                return
        if self.hold or changed:
            self.result.files[a.path] = a

    def _write(self, path: str, data: bytes) -> None:
        p = self.result
        if p.stage is None:
            self.tree.parent.mkdir(parents=True, exist_ok=True)
            p.stage = Path(tempfile.mkdtemp(prefix=f".{self.tree.name}.gpc-stage-", dir=self.tree.parent))
            os.chmod(p.stage, 0o755)
            p.cleanup = weakref.finalize(p, shutil.rmtree, p.stage, True)
        target = f"{os.fspath(p.stage)}/{path}"
        parent = target.rpartition("/")[0]
        if parent not in self.made:
            os.makedirs(parent, exist_ok=True)
            self.made.add(parent)
        with open(target, "wb") as fh:  # the umask's mode, like every file apply writes
            fh.write(data)
        p.staged.add(path)

    def discard(self) -> None:
        if self.result.cleanup is not None:
            self.result.cleanup()
        self.result.stage, self.result.staged = None, set()

    def finish(self) -> Plan:
        """The plan, once every target's artifacts were added: kept folders, deletions, manifest."""
        tree, result, exists, owned, ci_owned = self.tree, self.result, self.exists, self.owned, self.ci_owned
        try:
            self.add(_kept(tree, self.keep, owned, ci_owned, {*self.digests, *self.ci}))
            if self.dupes:
                raise ValueError(f"two artifacts share a path: {sorted(self.dupes)}")
            for path in sorted((owned | ci_owned) - set(self.digests) - set(self.ci) - {MANIFEST}) if exists else []:
                gone = tree / path
                if gone.is_file():
                    try:
                        result.old_text[path] = gone.read_text("utf-8")
                    except (OSError, UnicodeDecodeError):
                        result.old_text[path] = ""
                    result.delete.append(path)
            whole = not self.keep or (self.old_inputs == self.inputs and not (result.changed or result.conflicts))
            generated, ci = sorted(self.digests), sorted(self.ci)
            digest = hashlib.sha256()
            for path in generated:  # the tree's digest, in path order whatever order targets came in
                digest.update(path.encode("utf-8") + b"\0" + self.digests[path])
            manifest = result.files[MANIFEST] = _manifest(generated, ci, self.inputs if whole else None,
                                                          digest.hexdigest())
            result.size = len(generated) + len(ci) + 1
            if not exists:
                result.create.append(MANIFEST)
            elif self.old_inputs != (self.inputs if whole else None) and MANIFEST in owned and \
                    _read(tree / MANIFEST) == _manifest(generated, ci, self.old_inputs, digest.hexdigest()).text.encode("utf-8"):
                result.refresh = True
            else:
                _compare(result, MANIFEST, manifest.text.encode("utf-8"), owned, ci_owned)
            if result.conflicts:  # apply refuses this plan: write nothing, not even a stage
                self.discard()
        except BaseException:
            self.discard()
            raise
        result.create.sort()
        result.update.sort()
        result.conflicts.sort()
        return result


def _read(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _compare(result: Plan, path: str, data: bytes, owned: set[str], ci_owned: set[str]) -> bool:
    """Record how `path` changes; False when the tree already holds `data` there."""
    try:
        with open(f"{os.fspath(result.tree)}/{path}", "rb") as fh:
            old: bytes | None = fh.read()
    except FileNotFoundError:
        result.create.append(path)
        return True
    except OSError:
        old = None
    if old is not None and old == data:
        return False
    if path not in owned and path not in ci_owned:
        result.conflicts.append(path)
        return True
    result.old_text[path] = _decoded(old)
    result.update.append(path)
    return True


def _decoded(data: bytes | None) -> str:
    try:
        return data.decode("utf-8") if data else ""
    except UnicodeDecodeError:
        return ""


def apply(p: Plan) -> None:
    """Make the tree match the plan, atomically. Does nothing when nothing changed."""
    try:
        _apply(p)
    finally:
        if p.cleanup is not None:
            p.cleanup()  # the stage, unless it became the tree (then it holds the old one, or is gone)


def _apply(p: Plan) -> None:
    if p.conflicts:
        raise WriteConflict(p.conflicts)
    if not p.changed:
        if p.refresh:  # the manifest alone, replaced in one rename: the tree is right either way
            temp = p.tree / f".{MANIFEST}.{os.getpid()}"
            try:
                with open(temp, "wb") as fh:  # the umask's mode, like every file apply writes
                    fh.write(p.files[MANIFEST].text.encode("utf-8"))
                os.replace(temp, p.tree / MANIFEST)
            finally:
                temp.unlink(missing_ok=True)
        return
    tree = p.tree
    tree.parent.mkdir(parents=True, exist_ok=True)
    stage = p.stage or Path(tempfile.mkdtemp(prefix=f".{tree.name}.gpc-stage-", dir=tree.parent))
    try:
        os.chmod(stage, 0o755)
        written = p.create + p.update + ([MANIFEST] if p.refresh else [])
        skip = set(p.delete) | set(written)
        if tree.is_dir():
            _link_tree(tree, stage, skip)
        # Strings and bytes rather than Path objects and text mode: pathlib and the text layer were a
        # third of this loop at N=1000 (19k files). plan() has checked every text is LF-only.
        base = os.fspath(stage)
        made: set[str] = set()
        for path in written:
            if path in p.staged:
                continue
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
