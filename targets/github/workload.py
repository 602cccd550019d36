"""The workflows of one workload's repository: ci (pull requests), deliver (default branch) and
one promote workflow per environment after the first."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from compiler import names
from compiler.ir import Environment, Platform, Workload
from targets.github import pins, scripts
from targets.github.steps import (
    DOCS_ONLY,
    GITOPS_CHECKOUT,
    app_token,
    bot_identity,
    build_image,
    build_test_stage,
    checkout,
    checkout_gitops,
    component_path,
    gitops_repo,
    registry_login,
    setup_buildx,
    uses_ghcr,
)
from targets.github.values import literal

Workflow = dict[str, Any]

DEFAULT_BRANCH = names.WORKLOAD_DEFAULT_BRANCH  # the workload repositories' default branch
GITOPS_ENVIRONMENT = "gitops"  # the workload repositories' environment holding the GitOps App's key

# Pull request builds are never pushed, so there is no image to sign; deliver.yaml signs every
# image it pushes and attests its SBOM. checkov's cosign checks look for a signature after any
# build, so this file says why it has none.
CI_CHECKOV_SKIPS = (
    "# checkov:skip=CKV_GHA_5: pull request builds are never pushed; deliver.yaml signs every pushed image\n"
    "# checkov:skip=CKV_GHA_6: pull request builds are never pushed; deliver.yaml attests every pushed image's SBOM\n"
)


def workflow_files(platform: Platform, workload: Workload) -> dict[str, Workflow]:
    """File name under .github/workflows/ -> workflow."""
    files = {"ci.yaml": ci(workload), names.DELIVER_WORKFLOW: deliver(platform, workload)}
    envs = platform.environments_of(workload)  # a promotion skips an environment it is switched off in
    for source, target in pairwise(envs):
        files[f"promote-{target.name}.yaml"] = promote(platform, workload, source, target)
    return files


def ci(workload: Workload) -> Workflow:
    return {
        "name": "ci",
        "on": {"pull_request": {"paths-ignore": DOCS_ONLY}},
        "permissions": {},
        # A new push to the pull request makes the running build worthless: cancel it.
        "concurrency": {"group": "ci-${{ github.ref }}", "cancel-in-progress": True},
        "jobs": {
            "test": {
                "name": "Test and build",
                "runs-on": pins.RUNNER,
                "timeout-minutes": 30,
                "permissions": {"contents": "read"},
                "steps": [checkout(), setup_buildx(), build_test_stage(), build_image(workload, push=False)],
            },
        },
    }


def deliver(platform: Platform, workload: Workload) -> Workflow:
    first = platform.environments_of(workload)[0]
    publish_permissions = {"contents": "read", "id-token": "write"}  # id-token: keyless cosign signing
    if uses_ghcr(workload):
        publish_permissions["packages"] = "write"
    image_env = {"IMAGE": literal(workload.image), "DIGEST": "${{ steps.build.outputs.digest }}"}
    return {
        "name": "deliver",
        "on": {"push": {"branches": [DEFAULT_BRANCH], "paths-ignore": DOCS_ONLY}},
        "permissions": {},
        # Deliveries queue up and never cancel each other: a deploy stopped between pushing the
        # image and opening its pull request in the GitOps repository would leave the environment
        # behind.
        "concurrency": {"group": "deliver-${{ github.ref }}", "cancel-in-progress": False},
        "jobs": {
            "publish": {
                "name": "Test, build, push and sign the image",
                "runs-on": pins.RUNNER,
                "timeout-minutes": 30,
                "permissions": dict(sorted(publish_permissions.items())),
                "steps": [
                    checkout(),
                    setup_buildx(),
                    registry_login(workload),
                    build_test_stage(),
                    build_image(workload, push=True),
                    {"name": "Install cosign", "uses": pins.uses("cosign-installer"),
                     "with": {"cosign-release": pins.COSIGN_VERSION}},
                    {"name": "Sign the image", "env": image_env, "run": scripts.SIGN_IMAGE},
                    {"name": "Attest the image's SBOM", "env": image_env, "run": scripts.ATTEST_SBOM},
                ],
            },
            "deploy": {
                "name": f"Deploy to {literal(first.name)}",
                "needs": "publish",
                "runs-on": pins.RUNNER,
                "timeout-minutes": 10,
                "permissions": {},  # the GitOps repository is reached with the App token only
                **_gitops_writer(),
                "env": {
                    "COMPONENT_PATH": literal(component_path(platform, workload, first)),
                    "WORKLOAD": workload.name,
                    "ENVIRONMENT": first.name,
                    "IMAGE_TAG": "${{ github.sha }}",
                    "PR_BRANCH": literal(deploy_branch(workload, first)),
                    "GITOPS_REPO": literal(gitops_repo(platform)),
                    "GITOPS_BRANCH": literal(platform.gitops_branch),
                },
                "steps": [
                    app_token(platform, pull_requests=True),
                    checkout_gitops(platform),
                    {
                        "name": f"Point {literal(first.name)} at the new image",
                        "working-directory": GITOPS_CHECKOUT,
                        "env": {"IMAGE_NAME": literal(workload.image),
                                "SOURCE_REPO": literal(workload.repo or "")},
                        "run": scripts.WRITE_IMAGE_COMPONENT,
                    },
                    {
                        "name": "Commit the image on the deploy branch",
                        "id": "commit",
                        "working-directory": GITOPS_CHECKOUT,
                        "env": {"GITOPS_TOKEN": "${{ steps.app-token.outputs.token }}", **bot_identity()},
                        "run": scripts.COMMIT_DEPLOY,
                    },
                    _open_pull_request(
                        f"Deploys {workload.name} at the commit just built to {first.name}, by setting its tag in "
                        f"{component_path(platform, workload, first)}. GitHub merges it once the required "
                        "checks pass."),
                    {
                        "name": "Merge it once the required checks pass",
                        "if": "steps.commit.outputs.changed == 'true'",
                        "env": {"GH_TOKEN": "${{ steps.app-token.outputs.token }}"},
                        "run": scripts.ENABLE_AUTO_MERGE,
                    },
                ],
            },
        },
    }


def _gitops_writer() -> dict[str, str]:
    """What every job that holds the GitOps App's key carries: the key is a secret of the
    `gitops` environment, whose deployment branch policy admits only the default branch, so a
    workflow on any other branch (or a fork's pull request) never receives it; the `if:` skips the
    job there instead of failing it."""
    return {"if": f"github.ref == 'refs/heads/{DEFAULT_BRANCH}'", "environment": GITOPS_ENVIRONMENT}


def _open_pull_request(body: str) -> dict[str, Any]:
    return {
        "name": "Open or update the pull request",
        "if": "steps.commit.outputs.changed == 'true'",
        "env": {"GH_TOKEN": "${{ steps.app-token.outputs.token }}",
                "TITLE": "${{ steps.commit.outputs.title }}", "PR_BODY": literal(body)},
        "run": scripts.OPEN_PULL_REQUEST,
    }


def deploy_branch(workload: Workload, env: Environment) -> str:
    return f"gpc/deploy/{workload.name}/{env.name}"


def promote_branch(workload: Workload, target: Environment) -> str:
    return f"gpc/promote/{workload.name}/{target.name}"


def promote(platform: Platform, workload: Workload, source: Environment, target: Environment) -> Workflow:
    # No inputs: each environment has its own workflow, so nothing typed by a user reaches a step.
    return {
        "name": f"promote to {literal(target.name)}",
        "on": {"workflow_dispatch": {}},
        "permissions": {},
        "concurrency": {"group": f"promote-{literal(target.name)}", "cancel-in-progress": False},
        "jobs": {
            "promote": {
                "name": f"Open a pull request promoting {literal(source.name)} to {literal(target.name)}",
                "runs-on": pins.RUNNER,
                "timeout-minutes": 10,
                "permissions": {},  # the GitOps repository is reached with the App token only
                **_gitops_writer(),
                "env": {
                    "WORKLOAD": workload.name,
                    "FROM_ENV": source.name,
                    "TO_ENV": target.name,
                    "FROM_PATH": literal(component_path(platform, workload, source)),
                    "TO_PATH": literal(component_path(platform, workload, target)),
                    "IMAGE_NAME": literal(workload.image),
                    "SOURCE_REPO": literal(workload.repo or ""),
                    "BOOTSTRAP_TAG": names.BOOTSTRAP_TAG,
                    "PR_BRANCH": literal(promote_branch(workload, target)),
                    "GITOPS_REPO": literal(gitops_repo(platform)),
                    "GITOPS_BRANCH": literal(platform.gitops_branch),
                },
                "steps": [
                    app_token(platform, pull_requests=True),
                    checkout_gitops(platform),
                    {
                        "name": "Commit the promotion on its own branch",
                        "id": "commit",
                        "working-directory": GITOPS_CHECKOUT,
                        "env": {"GITOPS_TOKEN": "${{ steps.app-token.outputs.token }}", **bot_identity()},
                        "run": scripts.COMMIT_PROMOTION,
                    },
                    _open_pull_request(
                        f"Gives {target.name} the image of {workload.name} that {source.name} runs, by setting its "
                        f"tag in {component_path(platform, workload, target)} to the one in "
                        f"{component_path(platform, workload, source)}. Merging deploys it to {target.name}; "
                        "closing rejects it."),
                ],
            },
        },
    }
