"""The targets gpc compiles to, registered in one explicit dict.

Each entry names the module that defines `TARGET` (an object satisfying compiler.target.Target).
Modules are imported only when a command needs that target, so `gpc validate` never pays for
Jinja2 or a target's templates.
"""

from __future__ import annotations

import importlib

from compiler.target import Target

TARGETS: dict[str, str] = {
    "kustomize": "targets.kustomize",
    "argocd": "targets.argocd",
    "kyverno": "targets.kyverno",
    "terraform": "targets.terraform",
    "github": "targets.github",
}


def load_target(name: str) -> Target:
    module = importlib.import_module(TARGETS[name])
    target: Target = module.TARGET
    return target
