"""The whole flow on one screen: load -> model -> semantic -> IR -> targets -> writer's plan.

`compile_spec` is the one compile flow: the CLI and tests/goldens.py call it and decide what to do
with the plan (apply it, diff it). Nothing here writes to the tree: at most (`stage=True`) the
writer's stage beside it, which only writer.apply swaps in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from compiler import diagnostics as diag
from compiler.diagnostics import Diagnostic
from compiler.includes import display_path, load_platform
from compiler.source import Source, load_source

if TYPE_CHECKING:  # the IR and the lowering are imported where used: `gpc validate` needs neither
    from compiler.ir import Platform
    from compiler.target import Artifact
    from compiler.writer import Plan


@dataclass
class Checked:
    """A spec after validation: its diagnostics and, when it has no errors, its IR."""

    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    platform: Platform | None = None
    source: Source | None = None

    @property
    def ok(self) -> bool:
        return not diag.has_errors(self.diagnostics)


def spec_name(path: Path) -> str:
    return path.name.removesuffix(".yaml").removesuffix(".yml")


def check(path: Path, lower_spec: bool = True) -> Checked:
    """Everything `gpc validate` does for one spec file: source, model and semantic checks; then,
    when it has no errors and `lower_spec`, its IR (`gpc validate` needs no IR)."""
    from compiler.semantic import check_semantics
    from compiler.shape import check_shape

    file = display_path(path)
    result = Checked(file)
    source, loading = load_platform(path, file)
    result.source = source
    if any(d.code.startswith("GPC0") for d in loading):  # a file that could not be read as YAML
        result.diagnostics = diag.sort_diagnostics(loading)
        return result
    spec, problems = check_shape(source)
    if spec is None:
        result.diagnostics = diag.sort_diagnostics(loading + problems)
        return result
    result.diagnostics = diag.sort_diagnostics(loading + check_semantics(spec, source))
    if result.ok and lower_spec:
        from compiler.lower import lower

        result.platform = lower(spec, file, spec_name(path), source)
    return result


def target_checks(platform: Platform, target_names: list[str]) -> list[Diagnostic]:
    """Each target's checks of the IR, without rendering: what a compile reports besides the
    front end's diagnostics."""
    from targets import load_target

    problems: list[Diagnostic] = []
    for name in target_names:
        problems += load_target(name).check(platform)
    return diag.sort_diagnostics(problems)


def render(platform: Platform, target_names: list[str]) -> tuple[list[Artifact], list[Diagnostic]]:
    """Run each target's checks and renderer. Pure: nothing touches the disk. Each target's files
    come sorted by path (its `render`), then the tree's own files."""
    from targets import load_target

    artifacts = [a for name in target_names for a in load_target(name).render(platform)]
    return artifacts + tree_files(platform), target_checks(platform, target_names)


def render_each(platform: Platform, target_names: list[str]) -> Iterator[list[Artifact]]:
    """Each target's artifacts a part at a time (its `render_parts`: a workload's files, then the
    platform-wide ones), then the tree's own files: a compile hands each part to the writer and
    drops it before the next renders, so it never holds a whole target's output."""
    from targets import load_target

    for name in target_names:
        yield from load_target(name).render_parts(platform)
    yield tree_files(platform)


def tree_files(platform: Platform) -> list[Artifact]:
    """The tree's own files, outside every target's folder: README, checkov config, CODEOWNERS."""
    from compiler.checkov import render_checkov_config
    from compiler.codeowners import render_codeowners
    from compiler.readme import render_readme

    codeowners = render_codeowners(platform)
    return [render_readme(platform), render_checkov_config(platform), *([codeowners] if codeowners else [])]


@dataclass
class Compiled:
    """A compile: every diagnostic and, when there is no error, the writer's plan for the tree."""

    file: str
    diagnostics: list[Diagnostic]
    plan: Plan | None = None


def compile_spec(path: Path, out_dir: Path | None = None, targets: Sequence[str] = (), *,
                 repo: Path | None = None, reuse: bool = False, lean: bool = False, stage: bool = False) -> Compiled:
    """check -> render -> locate -> plan of OUT/<spec file stem>/.

    `out_dir` None: the parent of gitops.path (compiler/location.py, which also checks an
    explicit one against gitops.path in `repo`, by default the git repository holding it).
    `targets`: only these (default: all); the files of the others stay as they are.
    `reuse`: when the tree's manifest recorded these inputs and its files still hash to what it
    recorded, skip rendering (writer.up_to_date): the plan then has no `files` and changes nothing.
    The front end, the targets' checks, the location and GPC402 still run, so the diagnostics are
    exactly those of a full compile; anything else falls back to rendering.
    `lean`: the plan holds the text of changed files only (their diffs), and each target's
    artifacts are dropped once planned; `stage` (a compile about to apply the plan) also writes
    each new or changed file into the writer's stage as it is planned (writer.Planner). Both keep
    the peak memory near the IR plus one target's output rather than the whole tree's.
    """
    from compiler import writer
    from compiler.deployed import check_deployed_tags
    from compiler.inputs import inputs_digest
    from compiler.location import locate
    from targets import TARGETS

    checked = check(path)
    if not checked.ok or checked.platform is None or checked.source is None:
        return Compiled(checked.file, checked.diagnostics)
    names = [t for t in TARGETS if not targets or t in targets]
    inputs = inputs_digest(checked.source)
    # Everything that decides whether there is a plan runs before rendering: the output is then
    # planned (and staged) a target at a time, and an error has rendered and written nothing.
    tree, misplaced = locate(checked.platform, out_dir, repo)
    diagnostics = checked.diagnostics + target_checks(checked.platform, names) + misplaced
    if diag.has_errors(diagnostics):
        return Compiled(checked.file, diagnostics)
    diagnostics += check_deployed_tags(checked.platform, tree)
    fresh = writer.up_to_date(tree, inputs) if reuse else None
    if fresh is not None:
        return Compiled(checked.file, diagnostics, fresh)
    keep = [t for t in TARGETS if t not in names]
    platform = checked.platform
    if lean:
        # Every check that points at the spec's lines has run: the renderers need no positions.
        # The Source (each value's position, the parsed data, the text) was ~27% of the heap after
        # lowering; nothing else holds it (the one cycle that did is gone: compiler/shape.py `_walk`).
        platform, checked.platform, checked.source = dataclasses.replace(platform, source=None), None, None
    planner = writer.Planner(tree, keep, inputs, hold=not lean, stage=stage)
    try:
        for artifacts in render_each(platform, names):
            planner.add(artifacts)
            del artifacts  # or this part would stay alive while the next one renders
    except BaseException:
        planner.discard()  # a failing renderer (a bug: exit 3) leaves no stage behind
        raise
    return Compiled(checked.file, diagnostics, planner.finish())


def specs_to_check(paths: Sequence[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The root specs behind `paths`: a root spec is itself; a team file (a platform fragment, as
    pre-commit passes a changed one) stands for every spec that includes it (GPC244 if none does)."""
    from compiler.diagnostics import Position
    from compiler.includes import including_specs, is_fragment

    roots: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        source, errors = load_source(path.read_bytes(), display_path(path))
        if errors or not is_fragment(source.data):
            candidates = [path]
        else:
            candidates = including_specs(path)
            if not candidates:
                problems.append(Diagnostic(
                    "GPC244", "this team file is not included by any spec in its folder or the folders above",
                    source.file, Position(1, 1), "list it under the root spec's 'include', e.g. [teams/*.yaml]"))
        for candidate in candidates:
            if all(candidate.resolve() != r.resolve() for r in roots):
                roots.append(candidate)
    return roots, problems
