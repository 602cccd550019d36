"""The platform (GitOps) repository's workflow: validate the spec and fail on a stale tree."""

from __future__ import annotations

import posixpath
from typing import Any

from compiler.ir import GpcSource, Platform
from targets.github import guard, pins, scripts
from targets.github.steps import Step, checkout
from targets.github.values import glob_literal, literal

WORKFLOW = ".github/workflows/gpc.yaml"  # where it is installed in the GitOps repository
ARTIFACT = f"github/platform/{WORKFLOW}"  # where gpc compiles it, inside the tree


def gpc_workflow(platform: Platform) -> dict[str, Any]:
    tree = platform.gitops_path
    check_out = checkout()
    if platform.gpc_source.kind == "path":
        # A path source is usually a git submodule: check it out at the commit this one pins.
        check_out["with"] = {"submodules": True, **check_out["with"]}
    spec_dir = posixpath.dirname(platform.spec_file)
    team_files = [posixpath.normpath(posixpath.join(spec_dir, pattern)) for pattern in platform.include]
    paths = [glob_literal(platform.spec_file), *team_files, f"{glob_literal(tree)}/**", WORKFLOW, guard.WORKFLOW]
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
                    "SPEC": literal(platform.spec_file),
                    # `gpc compile -o OUT` writes OUT/<spec name>/, which is gitops.path.
                    "OUT": literal(posixpath.dirname(tree) or "."),
                },
                "steps": [
                    check_out,
                    {"name": "Set up Python", "uses": pins.uses("setup-python"),
                     "with": {"python-version": pins.PYTHON_VERSION}},
                    install_gpc(platform.gpc_source),
                    {"name": "Validate the spec", "run": scripts.VALIDATE_SPEC},
                    {"name": "Check the compiled tree is up to date", "run": scripts.CHECK_DRIFT},
                    {
                        "name": "Check the installed workflows are the compiled ones",
                        "env": {"COMPILED_WORKFLOWS": literal(f"{tree}/{posixpath.dirname(ARTIFACT)}"),
                                "INSTALLED_WORKFLOWS": posixpath.dirname(WORKFLOW)},
                        "run": scripts.CHECK_INSTALLED_WORKFLOWS,
                    },
                    *_codeowners_check(platform),
                ],
            },
        },
    }


def install_gpc(source: GpcSource) -> Step:
    """Install exactly the gpc the spec names (`toolchain.gpc`), pinned by commit or by hash."""
    env: dict[str, str]
    if source.kind == "git":
        env, run = {"GPC_GIT_URL": literal(source.location), "GPC_COMMIT": source.commit or ""}, \
            scripts.INSTALL_GPC_FROM_GIT
    elif source.kind == "index":
        version = source.version or ""
        requirement = " ".join([f"gpc=={version}", *(f"--hash={h}" for h in source.hashes)])
        env, run = {"GPC_INDEX_URL": literal(source.location), "GPC_VERSION": literal(version),
                    "GPC_REQUIREMENT": literal(requirement)}, scripts.INSTALL_GPC_FROM_INDEX
    else:
        env, run = {"GPC_PATH": literal(source.location)}, scripts.INSTALL_GPC_FROM_PATH
    return {"name": f"Install gpc ({source.kind} source)", "env": env, "run": run}


def _codeowners_check(platform: Platform) -> list[dict[str, Any]]:
    """GitHub reads CODEOWNERS only where the repository keeps it: fail while it is not the compiled one."""
    from compiler.codeowners import INSTALLED, PATH, render_codeowners

    if render_codeowners(platform) is None:
        return []
    return [{
        "name": "Check CODEOWNERS is the compiled one",
        "env": {"COMPILED_WORKFLOW": literal(f"{platform.gitops_path}/{PATH}"), "INSTALLED_WORKFLOW": INSTALLED},
        "run": scripts.CHECK_INSTALLED_FILE,
    }]
