"""The README of the platform (GitOps) repository's CI: the drift gate, where gpc comes from, and
the guard that keeps each workload's CI identity to its own image files."""

from __future__ import annotations

import json
import posixpath

from compiler import names
from compiler.ir import GpcSource, Platform
from targets.github import guard
from targets.github.platform import ARTIFACT as PLATFORM_WORKFLOW
from targets.github.platform import WORKFLOW as INSTALLED_PLATFORM_WORKFLOW
from targets.github.readme import header, pins_section
from targets.github.steps import component_path, gitops_repo
from targets.github.values import md_code


def platform_readme(platform: Platform) -> str:
    folder = posixpath.dirname(PLATFORM_WORKFLOW)
    repo = md_code(gitops_repo(platform))
    lines = [
        *header(platform),
        "# CI of the platform repository",
        "",
        f"Copy the two workflows of {md_code(folder.removeprefix('github/platform/') + '/')} in this folder to "
        f"{md_code(posixpath.dirname(INSTALLED_PLATFORM_WORKFLOW) + '/')} in {repo}, and again whenever "
        "`gpc compile` changes them (`gpc.yaml` fails until the installed copies are the compiled ones).",
        "",
        f"`gpc.yaml` runs on every pull request and every push to {md_code(platform.gitops_branch)} that touches "
        f"{md_code(platform.spec_file)}, {md_code(platform.gitops_path + '/')} or the workflows. It installs gpc "
        "(below) and runs:",
        "",
        f"- `gpc validate --format github {platform.spec_file}`: problems show up as annotations on the "
        "pull request;",
        f"- `gpc compile {platform.spec_file} --check`: fails, with the diff, when "
        f"{md_code(platform.gitops_path + '/')} is not what the spec compiles to (image files CI owns are "
        "not compared);",
        "- a check that the installed workflows are still the compiled ones.",
        "",
        f"`gpc-guard.yaml` runs on every pull request to {md_code(platform.gitops_branch)}; it is the check "
        "that keeps each workload's CI to its own image files (below).",
        "",
        *_install_section(platform.gpc_source),
        "",
        *_guard_section(platform),
        "",
        "## What the repository must define",
        "",
        "| name | kind | what it is for |",
        "|---|---|---|",
        f"| `{guard.IDENTITIES_VARIABLE}` | variable (Settings → Secrets and variables → Actions → Variables) | "
        "the CI identity of each workload: a JSON object from workload name to the login of that workload's "
        "own GitHub App, `<app-slug>[bot]`. The guard fails while a workload is missing or two share a login |",
        "",
        *_identities_example(platform),
        "",
        *_protection_section(platform),
        "",
        *pins_section(),
    ]
    return "\n".join(lines) + "\n"


def _install_section(source: GpcSource) -> list[str]:
    lines = ["## Where gpc comes from", ""]
    if source.kind == "path":
        lines += [
            f"The spec names no `toolchain.gpc`, so the workflow installs gpc from the folder "
            f"{md_code(source.location)} of this repository: `pip install ./{source.location}`. No package "
            "index is involved, and no package named `gpc` is ever looked up. Add gpc's source there once, as "
            "a git submodule, which pins it to one commit; the workflow checks submodules out:",
            "",
            "```sh",
            f"git submodule add <URL of gpc's git repository> {source.location}",
            f"git -C {source.location} checkout <the commit of the gpc that compiled this tree>",
            f"git add .gitmodules {source.location} && git commit -m 'gpc for the platform CI'",
            "```",
            "",
            "Upgrading gpc is then one pull request: move the submodule to the new commit and commit the tree "
            "that gpc compiles. A private gpc repository needs a checkout token with read access to it. Or "
            "name another source in the spec: `toolchain.gpc.git` with a 40-hex `commit`, or "
            "`toolchain.gpc.index` with an exact `version` and its `sha256` `hashes`.",
        ]
    elif source.kind == "git":
        lines += [
            f"The spec names the git repository {md_code(source.location)} at commit "
            f"{md_code(source.commit or '')}: the workflow runs "
            f"`pip install \"gpc @ git+{source.location}@{source.commit}\"`. A commit cannot be moved to other "
            "code, and no package index is asked for `gpc`. gpc's own dependencies come from PyPI at the "
            "versions gpc pins.",
        ]
    else:
        lines += [
            f"The spec names the package index {md_code(source.location)}, gpc {md_code(source.version or '')} "
            f"and {len(source.hashes)} sha256 hash(es). The workflow installs gpc with `pip install --index-url "
            f"<that index> --require-hashes --no-deps`: only from that index (never an extra index, where a "
            "look-alike package could win), and only a file with one of the hashes. gpc's own dependencies then "
            "come from the same index.",
        ]
    return lines


def _guard_section(platform: Platform) -> list[str]:
    example = next((w for w in platform.workloads if w.repo), None)
    files = (f" (for {md_code(example.name)}: "
             f"{md_code(component_path(platform, example, platform.environments_of(example)[0]))} and its siblings of the "
             "other environments)") if example else ""
    return [
        "## The guard: each workload's CI changes only its own image files",
        "",
        "Each workload's `deliver.yaml` and promotion workflows write to this repository with a token of "
        "that workload's own GitHub App. A GitHub App token cannot be limited to some files, so this "
        f"repository limits them: `{guard.CHECK_NAME}` runs {md_code(f'{platform.gitops_path}/{guard.SCRIPT}')} "
        f"(a copy of gpc's, with its policy {md_code(f'{platform.gitops_path}/{guard.POLICY}')}) on every pull "
        "request and refuses it when:",
        "",
        f"- it was opened by a workload's App and changes anything but that workload's CI-owned image files"
        f"{files}, deletes one, or writes one that sets more than that workload's own image tag "
        "(another image, `newName`, patches, resources);",
        "- any of its commits names a workload's App as author or committer and changes anything else;",
        "- it was opened by any other GitHub App (in this repository a change is a person's reviewed pull "
        "request or a workload's image bump).",
        "",
        "It reads the guard and its policy from the pull request's base commit, so a pull request cannot "
        "change the check that judges it; and the Apps lack the *Workflows* permission, so none can change "
        "the workflow either. With the ruleset below (every change is a pull request, the check is required, "
        "nobody bypasses), a workload's token can change nothing but image files, each only to a tag of its "
        "own workload's image; the per-workload branch rulesets that follow close the last gap.",
        *_branch_rulesets(platform),
    ]


def _branch_rulesets(platform: Platform) -> list[str]:
    """The one thing git cannot tell the guard: who pushed a commit. Per-workload branch rulesets close it."""
    example = next((w for w in platform.workloads if w.repo), None)
    if example is None:
        return []
    placeholder = f"<App ID of {example.name}'s App>"
    ruleset = {
        "name": f"gpc: only {example.name}'s App writes its branches",
        "target": "branch",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": [f"refs/heads/gpc/deploy/{example.name}/**",
                                                f"refs/heads/gpc/promote/{example.name}/**"], "exclude": []}},
        "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}],
        "bypass_actors": [{"actor_id": placeholder, "actor_type": "Integration",
                           "bypass_mode": "always"}],
    }
    return [
        "",
        "One thing the guard cannot see is who pushed a commit: git records only the names a commit claims. "
        "A workload's App can push to any branch no rule protects, including another workload's open "
        "deploy or promotion branch, with commits that claim the other workload's identity; the pull "
        "request stays that workload's, so the guard would let it set that workload's tag to another tag "
        "of that workload's own image (never another image, file or key). Close this with one branch "
        "ruleset per workload that lets only its App create, update or delete its branches, for example "
        f"for {md_code(example.name)} (the App ID is on the App's settings page):",
        "",
        "```sh",
        f"gh api --method POST repos/{gitops_repo(platform)}/rulesets --input - <<'EOF'",
        # The App ID is a number: the placeholder stands where the number goes, unquoted.
        json.dumps(ruleset, indent=2).replace(f'"{placeholder}"', placeholder),
        "EOF",
        "```",
    ]


def _identities_example(platform: Platform) -> list[str]:
    built = [w for w in platform.workloads if w.repo]
    if not built:
        return ["No workload is built by CI here, so the variable may stay unset."]
    example = {w.name: f"{platform.name}-{w.name}-ci[bot]" for w in built}
    return [
        "For example (the logins are those of the Apps you created):",
        "",
        "```sh",
        f"gh variable set {guard.IDENTITIES_VARIABLE} --repo {gitops_repo(platform)} --body "
        f"'{json.dumps(example, sort_keys=True)}'",
        "```",
    ]


def _codeowners(platform: Platform) -> list[str]:
    from compiler.codeowners import INSTALLED, PATH, render_codeowners

    first = platform.environments[0]
    if render_codeowners(platform) is not None:
        return [
            f"3. Install the compiled {md_code(f'{platform.gitops_path}/{PATH}')} as {md_code(INSTALLED)} "
            "(`gpc.yaml` fails while they differ). Everything in it needs its owner's review except the first "
            f"environment's image files ({md_code(first.name)}), which its last line leaves unowned: CI "
            "deploys them on its own, and the guard checks each such change.",
        ]
    unowned = f"/{platform.gitops_path}/{names.image_component_dir('*', first.name)}/".replace(" ", "\\ ")
    return [
        "3. Add a `CODEOWNERS` file (or set `owner` in the spec, and gpc compiles one) so that everything needs a "
        "code owner's review except the first environment's image files, which CI deploys on its own "
        f"({md_code(first.name)}: a line without an owner makes a file unowned):",
        "",
        "```",
        "* @<your platform team>",
        unowned,
        "```",
    ]


def _protection_section(platform: Platform) -> list[str]:
    return [
        f"## Making the guard required on {md_code(platform.gitops_branch)}",
        "",
        "Do this once, after the compiled tree (with the guard) is on the branch:",
        "",
        f"1. Import {md_code(f'{platform.gitops_path}/{guard.RULESET}')}: Settings → Rules → Rulesets → New ruleset → *Import a ruleset*. "
        f"It targets {md_code(platform.gitops_branch)} and requires: a pull request for every change (squash "
        f"merges), the status check `{guard.CHECK_NAME}` reported by GitHub Actions, no deletion and no force "
        "push, with an empty bypass list. Do not add a workload's App to it; an administrator who adds "
        "themselves for an emergency bypasses the guard too. With classic branch protection instead: "
        f"*Require a pull request before merging* and *Require status checks to pass* with `{guard.CHECK_NAME}`, "
        "*Do not allow bypassing the above settings*.",
        "2. Settings → General: turn on *Allow auto-merge* and *Allow squash merging*; deliveries enable "
        "auto-merge on their pull requests.",
        *_codeowners(platform),
        "",
        "The ruleset asks for no approval where nobody owns a file and dismisses approvals when new commits "
        "arrive. `gpc.yaml` runs only when the spec, the tree or the workflows change, so it cannot be a "
        "required check itself; the guard runs on every pull request and can.",
    ]
