"""The github target's own checks (GPC380-399): what would make the generated CI fail for sure."""

from __future__ import annotations

from compiler.diagnostics import Diagnostic
from compiler.ir import Platform
from targets.github.values import ghcr_owner, github_repo, valid_branch


def check(platform: Platform) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    if github_repo(platform.gitops_repo) is None:
        problems.append(Diagnostic(
            "GPC380", f"gitops repository '{platform.gitops_repo}' is not a github.com repository; the "
            "generated workflows push image tags and promotions to it with a GitHub App token",
            platform.spec_file, platform.position(("gitops", "repo")),
            hint="use https://github.com/<owner>/<name>.git, or compile without the github target "
            "(--target kustomize --target argocd ...)",
        ))
    branch, path = platform.gitops_branch, platform.gitops_path
    if not valid_branch(branch) or "${{" in branch or "${{" in path:
        problems.append(Diagnostic(
            "GPC382", f"gitops branch '{branch}' or path '{path}' cannot be written into a workflow trigger "
            "filter", platform.spec_file, platform.position(("gitops", "branch")),
            hint="use a plain git branch name (see `git check-ref-format --branch`) and a path without '${{'",
        ))
    for workload in platform.workloads:
        owner = ghcr_owner(workload.image)
        if workload.repo and owner and owner.lower() != workload.repo.split("/")[0].lower():
            problems.append(Diagnostic(
                "GPC381", f"workload '{workload.name}' pushes image '{workload.image}' to ghcr.io/{owner}, but "
                f"its repository '{workload.repo}' belongs to '{workload.repo.split('/')[0]}'",
                platform.spec_file, platform.position((*workload.path, "image")),
                hint=f"use an image under ghcr.io/{workload.repo.split('/')[0].lower()}/, or a registry the "
                "REGISTRY_USERNAME / REGISTRY_PASSWORD secrets can push to",
            ))
    return problems
