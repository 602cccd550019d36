"""The targets gpc compiles to, registered in one explicit dict.

Each entry is a loader that imports the target's module and returns its `TARGET`. The imports are
written out (not computed from the name) so mypy checks every `TARGET` against the
compiler.target.Target Protocol, and so a module is imported only when a command needs that
target: `gpc validate` never pays for Jinja2 or a target's templates. Each target writes under a
top-level folder of its own name (`kustomize/`, `argocd/`...). The order is the order of `--help`.
"""

from __future__ import annotations

from collections.abc import Callable

from compiler.target import Target


def _kustomize() -> Target:
    from targets.kustomize import TARGET

    return TARGET


def _argocd() -> Target:
    from targets.argocd import TARGET

    return TARGET


def _kyverno() -> Target:
    from targets.kyverno import TARGET

    return TARGET


def _terraform() -> Target:
    from targets.terraform import TARGET

    return TARGET


def _github() -> Target:
    from targets.github import TARGET

    return TARGET


TARGETS: dict[str, Callable[[], Target]] = {
    "kustomize": _kustomize,
    "argocd": _argocd,
    "kyverno": _kyverno,
    "terraform": _terraform,
    "github": _github,
}


def load_target(name: str) -> Target:
    return TARGETS[name]()
