"""The whole flow on one screen: load -> model -> semantic -> IR -> targets -> (writer)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from compiler import diagnostics as diag
from compiler.diagnostics import Diagnostic
from compiler.ir import Platform
from compiler.lower import lower
from compiler.source import Source, load_source
from compiler.target import Artifact


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


def display_path(path: Path) -> str:
    """The spec's path as diagnostics and generated headers show it: relative, never absolute."""
    rel = os.path.relpath(path)
    return rel.replace(os.sep, "/") if not rel.startswith("..") else path.name


def spec_name(path: Path) -> str:
    return path.name.removesuffix(".yaml").removesuffix(".yml")


def check(path: Path) -> Checked:
    """Everything `gpc validate` does for one spec file: source, model and semantic checks."""
    from compiler.semantic import check_semantics
    from compiler.shape import check_shape

    file = display_path(path)
    result = Checked(file)
    source, problems = load_source(path.read_bytes(), file)
    result.source = source
    if problems:
        result.diagnostics = problems
        return result
    spec, problems = check_shape(source)
    if spec is None:
        result.diagnostics = diag.sort_diagnostics(problems)
        return result
    result.diagnostics = diag.sort_diagnostics(check_semantics(spec, source))
    if result.ok:
        result.platform = lower(spec, file, spec_name(path), source)
    return result


def render(platform: Platform, target_names: list[str]) -> tuple[list[Artifact], list[Diagnostic]]:
    """Run each target's checks and renderer. Pure: nothing touches the disk."""
    from targets import load_target

    artifacts: list[Artifact] = []
    problems: list[Diagnostic] = []
    for name in target_names:
        target = load_target(name)
        problems += target.check(platform)
        artifacts += target.render(platform)
    if "readme" not in target_names:
        from compiler.checkov import render_checkov_config
        from compiler.readme import render_readme

        artifacts.append(render_readme(platform, target_names))
        artifacts.append(render_checkov_config(platform))
    return artifacts, diag.sort_diagnostics(problems)
