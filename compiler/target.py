"""What a target is: a pure function from the IR to artifacts, plus its own checks (GPC3xx)."""

from __future__ import annotations

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

    def render(self, platform: Platform) -> list[Artifact]: ...
