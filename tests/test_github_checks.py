"""The github target's own diagnostics (GPC380-382) and what it does with hostile spec values:
each is escaped for the place it lands in, so it stays a value and never becomes an expression,
a glob or shell code."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml
from conftest import ROOT, all_spec_files, load_ir, spec_id

from compiler.target import Artifact
from targets.github import TARGET
from targets.github.values import github_repo, glob_literal, literal, md_code, registry_host


def workflows(artifacts: list[Artifact]) -> dict[str, str]:
    return {a.path: a.text for a in artifacts if "/.github/workflows/" in a.path}


def load(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_shipped_specs_raise_no_github_diagnostics(spec: Any) -> None:
    assert TARGET.check(load_ir(spec)) == []


def test_gitops_repository_must_be_on_github() -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    elsewhere = dataclasses.replace(platform, gitops_repo="https://gitlab.com/acme/platform-gitops.git")
    problems = TARGET.check(elsewhere)
    assert [p.code for p in problems] == ["GPC380"]
    assert "gitlab.com/acme/platform-gitops.git" in problems[0].message
    assert problems[0].severity.value == "error"


@pytest.mark.parametrize(("branch", "path"), [
    ("main branch", "out/fraud"), ("a..b", "out/fraud"), ("release/", "out/fraud"), ("x.lock", "out/fraud"),
    ("main${{ github.token }}", "out/fraud"), ("main", "out/${{ github.token }}/fraud"),
])
def test_gitops_branch_and_path_must_fit_a_trigger_filter(branch: str, path: str) -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    problems = TARGET.check(dataclasses.replace(platform, gitops_branch=branch, gitops_path=path))
    assert [p.code for p in problems] == ["GPC382"]
    assert f"'{branch}'" in problems[0].message


def test_ghcr_image_must_belong_to_the_repository_owner() -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    moved = dataclasses.replace(platform, workloads=tuple(
        dataclasses.replace(w, image="ghcr.io/someone-else/checkout") if w.name == "checkout" else w
        for w in platform.workloads))
    problems = TARGET.check(moved)
    assert [p.code for p in problems] == ["GPC381"]
    assert "'checkout'" in problems[0].message and "someone-else" in problems[0].message
    # Owner names are case-insensitive on GitHub; image names are lowercase.
    upper = dataclasses.replace(platform, workloads=tuple(
        dataclasses.replace(w, repo="Acme/" + w.repo.split("/")[1]) if w.repo else w for w in platform.workloads))
    assert TARGET.check(upper) == []


@pytest.mark.parametrize(("url", "repo"), [
    ("https://github.com/acme/platform-gitops.git", "acme/platform-gitops"),
    ("https://github.com/acme/platform-gitops", "acme/platform-gitops"),
    ("git@github.com:acme/vision-gitops.git", "acme/vision-gitops"),
    ("ssh://git@github.com/acme/x.y.git", "acme/x.y"),
    ("https://gitlab.com/acme/platform.git", None),
    ("https://github.com.evil.example/acme/x.git", None),
    ("https://github.com/acme/x/tree/main", None),
])
def test_github_repo(url: str, repo: str | None) -> None:
    assert github_repo(url) == repo


@pytest.mark.parametrize(("image", "host"), [
    ("ghcr.io/acme/checkout", "ghcr.io"),
    ("registry.acme.example:5000/ml/api", "registry.acme.example:5000"),
    ("localhost/app", "localhost"),
    ("acme/app", "docker.io"),
    ("app", "docker.io"),
])
def test_registry_host(image: str, host: str) -> None:
    assert registry_host(image) == host


# -- hostile values ----------------------------------------------------------------------------


def _expressions(value: str) -> tuple[list[str], str]:
    """The `${{ }}` expressions of a workflow string, scanned the way GitHub does (a `}}` inside a
    '...' literal does not close one), and the string with each replaced by what a literal
    expression yields."""
    found, out, i = [], [], 0
    while (start := value.find("${{", i)) >= 0:
        out.append(value[i:start])
        j, quoted = start + 3, False
        while j < len(value):
            if value[j] == "'":
                quoted = not quoted
            elif not quoted and value.startswith("}}", j):
                break
            j += 1
        assert j < len(value), f"unterminated expression in {value!r}"
        expr = value[start + 3:j].strip()
        found.append(expr)
        out.append(expr[1:-1].replace("''", "'") if expr.startswith("'") and expr.endswith("'") else f"<{expr}>")
        i = j + 2
    out.append(value[i:])
    return found, "".join(out)


def test_a_hostile_spec_string_stays_a_string() -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    branch = "main${{ secrets.GITOPS_APP_PRIVATE_KEY }}*"
    hostile = dataclasses.replace(platform, gitops_branch=branch, gitops_path="out/[x]/fraud")
    assert [p.code for p in TARGET.check(hostile)] == ["GPC382"]  # no trigger filter can hold it
    texts = workflows(TARGET.render(hostile))
    allowed = {
        "github.sha", "github.ref", "github.actor", "secrets.GITHUB_TOKEN", "vars.GITOPS_APP_ID",
        "secrets.GITOPS_APP_PRIVATE_KEY", "steps.app-token.outputs.token", "steps.app-token.outputs.app-slug",
        "steps.build.outputs.digest", "steps.commit.outputs.title", "'${{'",
        "github.event_name == 'pull_request' && github.ref || github.sha",
        "github.event.pull_request.base.sha", "github.event.pull_request.head.sha",
        "github.event.pull_request.user.login", "vars.GPC_CI_IDENTITIES",
        "github.repository", "github.event.pull_request.number", "env.PR_TAG",  # previews: owner/name and an integer
    }
    seen = 0
    for path, text in texts.items():
        data = load(text)
        for value in _string_values(data):
            expressions, evaluated = _expressions(value)
            assert set(expressions) <= allowed, f"{path}: {value!r}"
            if branch in evaluated:
                # The spec's text comes out exactly, and only literal expressions produced it.
                assert expressions == ["'${{'"], f"{path}: {value!r}"
                seen += 1
        for step in steps(data):
            if "GITOPS_BRANCH" in step.get("env", {}):
                assert _expressions(step["env"]["GITOPS_BRANCH"])[1] == branch
    assert seen >= 6
    gpc = load(texts["github/platform/.github/workflows/gpc.yaml"])
    assert gpc["on"]["push"]["branches"] == [glob_literal(branch)]
    assert gpc["on"]["pull_request"]["paths"][1] == "out/\\[x\\]/fraud/**"


def _string_values(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for x in node.values() for v in _string_values(x)]
    if isinstance(node, list):
        return [v for x in node for v in _string_values(x)]
    return [node] if isinstance(node, str) else []


def test_literal_and_markdown_escaping() -> None:
    assert literal("plain") == "plain"
    assert literal("a${{ b }}") == "a${{ '${{' }} b }}"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x") == "`` `x ``"
    assert glob_literal("release/*") == "release/\\*"


