"""The platform (GitOps) repository's workflow: validate the spec and fail on a stale tree."""

from __future__ import annotations

import posixpath
from typing import Any

from compiler import __version__
from compiler.ir import Platform
from targets.github import pins, scripts
from targets.github.steps import checkout
from targets.github.values import glob_literal, literal

WORKFLOW = ".github/workflows/gpc.yaml"  # where it is installed in the GitOps repository
ARTIFACT = f"github/platform/{WORKFLOW}"  # where gpc compiles it, inside the tree


def gpc_workflow(platform: Platform) -> dict[str, Any]:
    tree = platform.gitops_path
    spec_dir = posixpath.dirname(platform.spec_file)
    team_files = [posixpath.normpath(posixpath.join(spec_dir, pattern)) for pattern in platform.include]
    paths = [glob_literal(platform.spec_file), *team_files, f"{glob_literal(tree)}/**", WORKFLOW]
    return {
        "name": "gpc",
        "on": {
            "pull_request": {"paths": paths},
            "push": {"branches": [glob_literal(platform.gitops_branch)], "paths": paths},
        },
        "permissions": {},
        # A newer push to a pull request cancels its running check; every push to the branch
        # gets a group of its own (its commit), so no commit of the branch goes unchecked.
        "concurrency": {"group": "gpc-${{ github.event_name == 'pull_request' && github.ref || github.sha }}",
                        "cancel-in-progress": True},
        "jobs": {
            "check": {
                "name": "Validate the spec and check the compiled tree",
                "runs-on": pins.RUNNER,
                "timeout-minutes": 10,
                "permissions": {"contents": "read"},
                "env": {
                    "GPC_VERSION": __version__,
                    "SPEC": literal(platform.spec_file),
                    # `gpc compile -o OUT` writes OUT/<spec name>/, which is gitops.path.
                    "OUT": literal(posixpath.dirname(tree) or "."),
                },
                "steps": [
                    checkout(),
                    {"name": "Set up Python", "uses": pins.uses("setup-python"),
                     "with": {"python-version": pins.PYTHON_VERSION}},
                    {
                        "name": "Install gpc",
                        # A private index can serve gpc; without the variable it comes from PyPI.
                        "env": {"PIP_INDEX_URL": "${{ vars.GPC_INDEX_URL || 'https://pypi.org/simple' }}"},
                        "run": scripts.INSTALL_GPC,
                    },
                    {"name": "Validate the spec", "run": scripts.VALIDATE_SPEC},
                    {"name": "Check the compiled tree is up to date", "run": scripts.CHECK_DRIFT},
                    {
                        "name": "Check this workflow is the compiled one",
                        "env": {"COMPILED_WORKFLOW": literal(f"{tree}/{ARTIFACT}"), "INSTALLED_WORKFLOW": WORKFLOW},
                        "run": scripts.CHECK_INSTALLED_WORKFLOW,
                    },
                    *_codeowners_check(platform),
                ],
            },
        },
    }


def _codeowners_check(platform: Platform) -> list[dict[str, Any]]:
    """GitHub reads CODEOWNERS only where the repository keeps it: fail while it is not the compiled one."""
    from compiler.codeowners import INSTALLED, PATH, render_codeowners

    if render_codeowners(platform) is None:
        return []
    return [{
        "name": "Check CODEOWNERS is the compiled one",
        "env": {"COMPILED_WORKFLOW": literal(f"{platform.gitops_path}/{PATH}"), "INSTALLED_WORKFLOW": INSTALLED},
        "run": scripts.CHECK_INSTALLED_WORKFLOW,
    }]
