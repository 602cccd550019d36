"""A compile plans each target's output a part at a time (Target.render_parts: a workload's files,
then the platform-wide ones) so it never holds a whole target's output. The parts must be exactly
the files `render` returns, and planning them part by part must give the plan and the tree that
planning the whole sorted list gives."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, load_ir

from compiler import pipeline, writer
from compiler.inputs import inputs_digest
from compiler.ir import Platform
from compiler.target import Artifact
from targets import TARGETS, load_target

# Specs with databases, previews, monitoring, switched-off workloads and several teams: the
# platform-wide parts of the kustomize target differ most between them.
SPECS = [ROOT / "specs" / "fraud.yaml", *(ROOT / "tests" / "cases" / "valid" / name / "platform.yaml"
                                        for name in ("databases", "previews-monorepo", "monitoring", "switched-off"))]


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.parent.name if p.name == "platform.yaml" else p.stem)
def test_each_target_renders_the_same_files_part_by_part(spec: Path) -> None:
    platform: Platform = load_ir(spec)
    for name in TARGETS:
        target = load_target(name)
        parts = list(target.render_parts(platform))
        flat = [a for part in parts for a in part]
        assert len({a.path for a in flat}) == len(flat), f"{name}: a path in two parts"
        assert sorted(flat, key=lambda a: a.path) == sorted(target.render(platform), key=lambda a: a.path)
        if name in ("kustomize", "github"):  # the big ones: a part per workload at least
            builds = [w for w in platform.workloads if w.repo] if name == "github" else platform.workloads
            assert len(parts) > len(builds)
            assert all(len(part) < len(flat) for part in parts)


def tree_bytes(tree: Path) -> dict[str, bytes]:
    return {str(p.relative_to(tree)): p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file()}


def whole_plan(spec: Path, tree: Path) -> writer.Plan:
    """The plan of the whole sorted output, handed to the writer at once."""
    checked = pipeline.check(spec)
    assert checked.platform is not None and checked.source is not None
    artifacts, _ = pipeline.render(checked.platform, list(TARGETS))
    return writer.plan(artifacts, tree, inputs=inputs_digest(checked.source))


def test_a_compile_part_by_part_plans_and_writes_what_the_whole_list_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(ROOT / "specs" / "fraud.yaml", tmp_path / "fraud.yaml")
    monkeypatch.chdir(tmp_path)
    spec, tree = Path("fraud.yaml"), Path("out/fraud")
    for step in ("first compile", "changed spec", "unchanged"):
        if step == "changed spec":  # updates and a deletion: a replica more, no backup in prod
            text = (tmp_path / "fraud.yaml").read_text()
            backup = '          backup: {schedule: "0 3 * * *", retention: 14d}\n'
            assert "replicas: 2\n" in text and backup in text
            (tmp_path / "fraud.yaml").write_text(text.replace("replicas: 2\n", "replicas: 4\n").replace(backup, ""))
        before = tree_bytes(tree) if tree.exists() else {}
        expected = whole_plan(spec, tree)
        compiled = pipeline.compile_spec(spec, lean=True, stage=True)  # what `gpc compile` runs
        plan = compiled.plan
        assert plan is not None and not compiled.diagnostics
        assert (plan.changes, plan.conflicts, plan.size) == (expected.changes, expected.conflicts, expected.size), step
        assert plan.files[writer.MANIFEST] == expected.files[writer.MANIFEST]
        assert plan.diff("out/fraud") == expected.diff("out/fraud")
        if step == "changed spec":
            assert expected.update and expected.delete
        assert (tree_bytes(tree) if tree.exists() else {}) == before  # planning wrote nothing there
        writer.apply(expected)
        whole = tree_bytes(tree)
        shutil.rmtree(tree)
        if before:  # the same starting tree for the staged plan
            for path, data in before.items():
                os.makedirs((tree / path).parent, exist_ok=True)
                (tree / path).write_bytes(data)
            plan = pipeline.compile_spec(spec, lean=True, stage=True).plan
            assert plan is not None
        writer.apply(plan)
        assert tree_bytes(tree) == whole, step
        assert not plan.changed if step == "unchanged" else plan.changed


def test_a_path_two_parts_both_hold_is_still_caught(tmp_path: Path) -> None:
    for first, second in ((Artifact("a/x.yaml", "1\n"), Artifact("a/x.yaml", "2\n")),
                          (Artifact("a/x.yaml", "1\n", owner="ci"), Artifact("a/x.yaml", "2\n")),
                          (Artifact("a/x.yaml", "1\n"), Artifact("a/x.yaml", "1\n", owner="ci"))):
        for stage in (False, True):
            planner = writer.Planner(tmp_path / "tree", hold=False, stage=stage)
            planner.add([Artifact("a/first.yaml", "f\n"), first])
            planner.add(iter([Artifact("b/other.yaml", "o\n")]))
            planner.add(iter([second]))  # a later part, as a renderer yields it
            with pytest.raises(ValueError, match=r"two artifacts share a path: \['a/x.yaml'\]"):
                planner.finish()
            assert not list(tmp_path.glob(".*gpc-stage*")), "a refused plan leaves no stage"
    assert not (tmp_path / "tree").exists()
