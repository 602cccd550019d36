"""Steps and job pieces the workflows share."""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, Platform, Workload
from targets.github import pins
from targets.github.values import GHCR, github_repo, literal, registry_host

Step = dict[str, Any]

# Commits that only touch these never build or deploy.
DOCS_ONLY = ["**.md", "docs/**", "LICENSE"]

APP_ID_VARIABLE = "GITOPS_APP_ID"
APP_KEY_SECRET = "GITOPS_APP_PRIVATE_KEY"
REGISTRY_USER_SECRET = "REGISTRY_USERNAME"
REGISTRY_PASSWORD_SECRET = "REGISTRY_PASSWORD"
GITOPS_CHECKOUT = "gitops"  # where jobs check the GitOps repository out


def checkout(name: str = "Check out", **extra: str) -> Step:
    return {"name": name, "uses": pins.uses("checkout"), "with": {**extra, "persist-credentials": False}}


def gitops_repo(platform: Platform) -> str:
    """owner/name of the GitOps repository (GPC380 reports a URL that is not on GitHub)."""
    return github_repo(platform.gitops_repo) or "invalid/not-on-github"


def app_token(platform: Platform, pull_requests: bool = False) -> Step:
    """A GitHub App installation token limited to the GitOps repository, revoked when the job ends."""
    owner, _, name = gitops_repo(platform).partition("/")
    step: Step = {
        "name": "Get a short-lived token for the GitOps repository",
        "id": "app-token",
        "uses": pins.uses("app-token"),
        "with": {
            "app-id": f"${{{{ vars.{APP_ID_VARIABLE} }}}}",
            "private-key": f"${{{{ secrets.{APP_KEY_SECRET} }}}}",
            "owner": literal(owner),
            "repositories": literal(name),
            "permission-contents": "write",
        },
    }
    if pull_requests:
        step["with"]["permission-pull-requests"] = "write"
    return step


def checkout_gitops(platform: Platform) -> Step:
    return checkout(
        "Check out the GitOps repository",
        repository=literal(gitops_repo(platform)),
        ref=literal(platform.gitops_branch),
        token="${{ steps.app-token.outputs.token }}",
        path=GITOPS_CHECKOUT,
    )


def bot_identity() -> dict[str, str]:
    """Commits in the GitOps repository are authored by the GitHub App that pushes them."""
    name = "${{ steps.app-token.outputs.app-slug }}[bot]"
    email = "${{ steps.app-token.outputs.app-slug }}[bot]@users.noreply.github.com"
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}


def component_path(platform: Platform, workload: Workload, env: Environment) -> str:
    """The CI-owned image Component of `workload` in `env`, relative to the GitOps repository root."""
    return f"{platform.gitops_path}/{names.image_component_dir(workload.name, env.name)}/kustomization.yaml"


def setup_buildx() -> Step:
    return {
        "name": "Set up Docker Buildx",
        "uses": pins.uses("setup-buildx"),
        "with": {"version": pins.BUILDX_VERSION, "driver-opts": f"image={pins.BUILDKIT_IMAGE}"},
    }


def uses_ghcr(workload: Workload) -> bool:
    return registry_host(workload.image) == GHCR


def registry_login(workload: Workload) -> Step:
    host = registry_host(workload.image)
    if host == GHCR:
        user, password = "${{ github.actor }}", "${{ secrets.GITHUB_TOKEN }}"
    else:
        user = f"${{{{ secrets.{REGISTRY_USER_SECRET} }}}}"
        password = f"${{{{ secrets.{REGISTRY_PASSWORD_SECRET} }}}}"
    return {
        "name": f"Log in to {literal(host)}",
        "uses": pins.uses("login"),
        "with": {"registry": literal(host), "username": user, "password": password},
    }


def _cache(scope: str) -> str:
    return f"type=gha,scope={scope}"


def build_test_stage() -> Step:
    """The Dockerfile's `test` stage runs the tests while it builds; a failing test fails the step."""
    return {
        "name": "Test (the Dockerfile's test stage)",
        "uses": pins.uses("build-push"),
        "with": {
            "context": ".",
            "target": "test",
            "push": False,
            "cache-from": _cache("test"),
            "cache-to": f"{_cache('test')},mode=max",
        },
    }


def build_image(workload: Workload, push: bool) -> Step:
    step: Step = {"name": "Build and push the image" if push else "Build the image"}
    if push:
        step["id"] = "build"
    step["uses"] = pins.uses("build-push")
    options: dict[str, Any] = {
        "context": ".",
        "platforms": "linux/amd64",
        "push": push,
        "cache-from": f"{_cache('image')}\n{_cache('test')}\n",
        "cache-to": f"{_cache('image')},mode=max",
    }
    if push:
        options.update({
            "tags": f"{literal(workload.image)}:${{{{ github.sha }}}}",
            "provenance": "mode=max",
            "sbom": True,
        })
    step["with"] = options
    return step
