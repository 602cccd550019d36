"""The writer, driven by a target defined here: staging, atomic swap, pruning only what gpc
owns, CI-owned files, conflicts and --check diffs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import load_ir

from compiler import writer
from compiler.diagnostics import Diagnostic
from compiler.ir import Platform
from compiler.target import Artifact, Target

ROOT = Path(__file__).resolve().parent.parent


class NotesTarget:
    """A toy target: one file per workload, plus a CI-owned file per workload."""

    name = "notes"
    description = "test target"

    def __init__(self, suffix: str = "") -> None:
        self.suffix = suffix

    def check(self, platform: Platform) -> list[Diagnostic]:
        return []

    def render(self, platform: Platform) -> list[Artifact]:
        out = []
        for w in platform.workloads:
            out.append(Artifact(f"notes/{w.name}/about.txt", f"{w.name} is a {w.type}{self.suffix}\n"))
            out.append(Artifact(f"notes/{w.name}/tag.txt", f"{w.image_tag}\n", owner="ci"))
        return out


def _target(t: Target) -> Target:
    return t


@pytest.fixture(scope="module")
def fraud() -> Platform:
    return load_ir(ROOT / "specs" / "fraud.yaml")


def write(tree: Path, artifacts: list[Artifact]) -> writer.Plan:
    plan = writer.plan(artifacts, tree)
    writer.apply(plan)
    return plan


def test_first_write_creates_everything_and_a_manifest(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    plan = write(tree, _target(NotesTarget()).render(fraud))
    assert (tree / "notes/checkout/about.txt").read_text() == "checkout is a service\n"
    assert (tree / writer.MANIFEST).is_file()
    assert len(plan.create) == 7
    assert not list(tmp_path.glob(".*gpc-stage*"))


def test_unchanged_compile_touches_nothing(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    write(tree, NotesTarget().render(fraud))
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tree.rglob("*") if p.is_file()}
    plan = write(tree, NotesTarget().render(fraud))
    assert not plan.changed
    after = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tree.rglob("*") if p.is_file()}
    assert before == after


def test_changes_are_swapped_in_and_unchanged_files_are_linked_not_rewritten(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    write(tree, NotesTarget().render(fraud))
    untouched = tree / "notes/checkout/tag.txt"
    inode = untouched.stat().st_ino
    plan = write(tree, NotesTarget(" (v2)").render(fraud))
    # The manifest too: it holds the digest of the generated files.
    assert sorted(plan.update) == [writer.MANIFEST, "notes/checkout/about.txt", "notes/fraud-inference/about.txt",
                                   "notes/fraud-trainer/about.txt"]
    assert (tree / "notes/checkout/about.txt").read_text() == "checkout is a service (v2)\n"
    assert untouched.stat().st_ino == inode  # hard-linked into the stage, not rewritten


def test_ci_owned_files_are_created_once_and_never_reverted(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    write(tree, NotesTarget().render(fraud))
    (tree / "notes/checkout/tag.txt").write_text("sha-abc123\n")  # CI bumped the tag
    plan = writer.plan(NotesTarget().render(fraud), tree)
    assert not plan.changed  # --check stays green after a bump
    writer.apply(plan)
    assert (tree / "notes/checkout/tag.txt").read_text() == "sha-abc123\n"
    (tree / "notes/checkout/tag.txt").unlink()
    assert writer.plan(NotesTarget().render(fraud), tree).create == ["notes/checkout/tag.txt"]


def test_prunes_only_files_it_generated(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    write(tree, NotesTarget().render(fraud))
    (tree / "notes/mine.txt").write_text("hand-written\n")
    fewer = [a for a in NotesTarget().render(fraud) if "checkout" not in a.path]
    plan = write(tree, fewer)
    assert sorted(plan.delete) == ["notes/checkout/about.txt", "notes/checkout/tag.txt"]
    assert not (tree / "notes/checkout/about.txt").exists()
    assert (tree / "notes/mine.txt").read_text() == "hand-written\n"


def test_refuses_to_overwrite_a_file_it_did_not_write(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    (tree / "notes/checkout").mkdir(parents=True)
    (tree / "notes/checkout/about.txt").write_text("precious\n")
    plan = writer.plan(NotesTarget().render(fraud), tree)
    assert plan.conflicts == ["notes/checkout/about.txt"]
    with pytest.raises(writer.WriteConflict):
        writer.apply(plan)
    assert (tree / "notes/checkout/about.txt").read_text() == "precious\n"
    assert not (tree / "notes/fraud-trainer").exists()  # nothing half-written


def test_check_diff_is_a_unified_diff(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    write(tree, NotesTarget().render(fraud))
    plan = writer.plan(NotesTarget(" (v2)").render(fraud), tree)
    diff = plan.diff("out/fraud")
    assert "--- a/out/fraud/notes/checkout/about.txt" in diff
    assert "+checkout is a service (v2)" in diff
    assert "-checkout is a service" in diff


def test_a_failed_write_leaves_the_old_tree(tmp_path: Path, fraud: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "fraud"
    write(tree, NotesTarget().render(fraud))
    snapshot = {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*") if p.is_file()}

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writer, "_exchange", boom)
    with pytest.raises(OSError):
        writer.apply(writer.plan(NotesTarget(" (v2)").render(fraud), tree))
    assert {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*") if p.is_file()} == snapshot
    assert not [p for p in tmp_path.iterdir() if p.name != "fraud"]  # the stage is cleaned up


def test_artifacts_must_follow_the_output_rules(tmp_path: Path) -> None:
    for bad in (Artifact("a.txt", "no final newline"), Artifact("a.txt", "crlf\r\n"),
                Artifact("/abs.txt", "x\n"), Artifact("../up.txt", "x\n")):
        with pytest.raises(ValueError):
            writer.plan([bad], tmp_path / "t")
    with pytest.raises(ValueError):
        writer.plan([Artifact("a.txt", "x\n"), Artifact("a.txt", "y\n")], tmp_path / "t")


def test_directory_permissions_are_normal(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    write(tree, NotesTarget().render(fraud))
    write(tree, NotesTarget(" (v2)").render(fraud))
    assert oct(os.stat(tree).st_mode & 0o777) == "0o755"


def test_keep_leaves_the_folders_not_rendered_as_they_are_and_owned(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    write(tree, [*NotesTarget().render(fraud), Artifact("other/a.txt", "a\n")])
    (tree / "notes/checkout/tag.txt").write_text("sha-abc123\n")  # CI bumped the tag
    only_other = [Artifact("other/a.txt", "a2\n")]
    plan = writer.plan(only_other, tree, keep=["notes"])
    assert plan.update == [writer.MANIFEST, "other/a.txt"] and not plan.delete and not plan.create
    writer.apply(plan)
    assert (tree / "notes/checkout/about.txt").read_text() == "checkout is a service\n"
    assert (tree / "notes/checkout/tag.txt").read_text() == "sha-abc123\n"
    # Still listed in the manifest: a later compile of everything owns, updates and prunes them.
    assert writer.plan(only_other, tree).delete == sorted(a.path for a in NotesTarget().render(fraud))


def lean(tree: Path, artifacts: list[Artifact], *, stage: bool, keep: tuple[str, ...] = ()) -> writer.Plan:
    """What `gpc compile` does: hand the artifacts over in parts (a target at a time), holding the
    text of changed files only, and (not --check) staging each new or changed file at once."""
    planner = writer.Planner(tree, keep, hold=False, stage=stage)
    planner.add(artifacts[: len(artifacts) // 2])
    planner.add(iter(artifacts[len(artifacts) // 2:]))  # as a renderer that yields its files
    return planner.finish()


def tree_bytes(tree: Path) -> dict[Path, bytes]:
    return {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*") if p.is_file()}


def test_a_staged_plan_writes_the_same_tree_and_holds_no_text(tmp_path: Path, fraud: Platform) -> None:
    held, staged = tmp_path / "a" / "fraud", tmp_path / "b" / "fraud"
    for version in ("", " (v2)", ""):
        artifacts = NotesTarget(version).render(fraud)
        if version:  # and one file fewer: a deletion
            artifacts = [a for a in artifacts if a.path != "notes/checkout/about.txt"]
        expected = write(held, artifacts)
        plan = lean(staged, artifacts, stage=True)
        assert (plan.create, plan.update, plan.delete, plan.size) == \
            (expected.create, expected.update, expected.delete, len(expected.files))
        assert set(plan.files) <= {writer.MANIFEST}  # every other change is already in the stage
        assert plan.stage is not None and plan.staged and not (staged.exists() and
                                                                 tree_bytes(staged) == tree_bytes(held))
        assert plan.diff("out/fraud") == expected.diff("out/fraud")  # read back from the stage
        writer.apply(plan)
        assert tree_bytes(staged) == tree_bytes(held)
        assert not list(staged.parent.glob(".*gpc-stage*"))
    plan = lean(staged, NotesTarget().render(fraud), stage=True)  # nothing changed: nothing staged
    assert not plan.changed and plan.stage is None and plan.files.keys() == {writer.MANIFEST}


def test_a_lean_check_holds_only_the_changed_files_and_writes_nothing(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    write(tree, NotesTarget().render(fraud))
    before = tree_bytes(tree)
    v2 = NotesTarget(" (v2)").render(fraud)
    plan = lean(tree, v2, stage=False)
    assert set(plan.files) == {*plan.update}
    assert plan.diff("out/fraud") == writer.plan(v2, tree).diff("out/fraud")
    assert tree_bytes(tree) == before and set(tmp_path.iterdir()) == {tree}


def test_a_staged_plan_that_cannot_apply_leaves_no_stage(tmp_path: Path, fraud: Platform) -> None:
    tree = tmp_path / "fraud"
    (tree / "notes/checkout").mkdir(parents=True)
    (tree / "notes/checkout/about.txt").write_text("precious\n")
    plan = lean(tree, NotesTarget().render(fraud), stage=True)
    assert plan.conflicts == ["notes/checkout/about.txt"] and plan.stage is None
    assert set(tmp_path.iterdir()) == {tree}
    with pytest.raises(writer.WriteConflict):
        writer.apply(plan)
    assert (tree / "notes/checkout/about.txt").read_text() == "precious\n"
    # A renderer that fails halfway (a bug) and a plan nobody applies: no stage either.
    planner = writer.Planner(tmp_path / "other", hold=False, stage=True)
    planner.add(NotesTarget().render(fraud))
    with pytest.raises(ValueError):
        planner.add([Artifact("bad.txt", "no final newline")])
    planner = writer.Planner(tmp_path / "other", hold=False, stage=True)
    planner.add(NotesTarget().render(fraud))
    unapplied = planner.finish()
    assert unapplied.stage is not None and unapplied.stage.is_dir()
    del planner, unapplied  # the plan's finalizer removes its stage
    assert set(tmp_path.iterdir()) == {tree}
