"""What a target is: a pure function from the IR to artifacts, plus its own checks (GPC3xx)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from compiler.diagnostics import Diagnostic
from compiler.ir import Platform

Owner = Literal["gpc", "ci"]


@dataclass(frozen=True)
class Artifact:
    """One file of the compiled tree, relative to out/<spec>/.

    `owner="ci"` marks a file gpc creates once and never rewrites (an environment's image tag,
    which the workload's CI bumps): regenerating or `--check` never reverts what CI set.
    """

    path: str
    text: str
    owner: Owner = "gpc"


class Target(Protocol):
    name: str
    description: str

    def check(self, platform: Platform) -> list[Diagnostic]: ...

    def render(self, platform: Platform) -> list[Artifact]:
        """Every file, sorted by path: what tests and `pipeline.render` compare."""
        ...

    def render_parts(self, platform: Platform) -> Iterator[list[Artifact]]:
        """The same files a part at a time (a workload's, then the platform-wide ones), in no
        particular order: a compile plans and drops each part before the next renders, so it never
        holds a whole target's output (at N=5000 the kustomize target's is ~250 MB of text)."""
        ...


def whole(parts: Iterable[list[Artifact]]) -> list[Artifact]:
    """A target's `render` from its `render_parts`: every part, sorted by path."""
    return sorted((a for part in parts for a in part), key=lambda a: a.path)
