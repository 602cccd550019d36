"""No workflow job that can run for a fork's pull request can read a secret or write anything.

For every workflow of every spec triggered by `pull_request`, each job's `if:` is evaluated
(tests/gha_expr.py) for a fork's pull request on every activity type the workflow listens to, with
the preview opt-in label set (the worst case: a maintainer labelled it). A job that would run must
reference no `secrets.` at all and request no write permission. `pull_request_target` is never used.
A mutated workflow (the same-repository guard dropped) proves the check bites.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import all_spec_files, load_ir, spec_id
from gha_expr import evaluate
from preview_fraud import fraud_with_previews

from targets.github import TARGET

ACTIVITIES = ["opened", "synchronize", "reopened", "labeled", "ready_for_review", "closed", "edited"]
FORK = "someone/checkout-service"
SECRET = re.compile(r"secrets\.[A-Za-z_][A-Za-z0-9_]*")


def fork_contexts(repository: str, labels: list[str]) -> list[dict[str, Any]]:
    out = []
    for action in ACTIVITIES:
        pull = {"number": 9, "draft": False, "labels": [{"name": n} for n in labels],
                "user": {"login": "someone", "type": "User"},
                "head": {"sha": "9" * 40, "repo": {"full_name": FORK}}, "base": {"repo": {"full_name": repository}}}
        event = {"action": action, "pull_request": pull, "label": {"name": labels[0] if labels else ""}}
        out.append({"github": {"repository": repository, "event_name": "pull_request", "event": event,
                               "ref": "refs/pull/9/merge"}})
    return out


def fork_problems(workflow: dict[str, Any], text: str, repository: str, labels: list[str]) -> list[str]:
    problems = []
    triggers = workflow.get("on") or {}
    if "pull_request_target" in text:
        problems.append("uses pull_request_target")
    if "pull_request" not in triggers:
        return problems
    for name, job in workflow["jobs"].items():
        condition = job.get("if")
        runs = condition is None or any(evaluate(str(condition), c) for c in fork_contexts(repository, labels))
        if not runs:
            continue
        job_text = yaml.safe_dump(job)
        read = sorted(set(SECRET.findall(job_text)))
        if read:
            problems.append(f"job {name} runs for a fork and reads {read}")
        writes = sorted(k for k, v in (job.get("permissions") or {}).items() if v == "write")
        if writes or job.get("permissions") in ("write-all", None):
            problems.append(f"job {name} runs for a fork with write permissions {writes or job.get('permissions')}")
    return problems


def _workflows(spec: Path) -> tuple[Any, dict[str, str]]:
    platform = load_ir(spec)
    return platform, {a.path: a.text for a in TARGET.render(platform) if "/.github/workflows/" in a.path}


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_no_job_a_fork_can_start_reads_a_secret_or_writes(spec: Path) -> None:
    platform, workflows = _workflows(spec)
    labels = [platform.previews.label] if platform.previews else ["preview"]
    problems = []
    for path, text in workflows.items():
        workload = platform.workload(path.split("/")[1]) if path.split("/")[1] != "platform" else None
        repository = workload.repo if workload is not None and workload.repo else "acme/platform-gitops"
        problems += [f"{path}: {p}" for p in fork_problems(yaml.safe_load(text), text, repository, labels)]
    assert not problems, "\n".join(problems)


def test_the_check_bites_on_a_preview_job_without_the_same_repository_guard() -> None:
    platform, workflows = _workflows(fraud_with_previews())
    assert platform.previews is not None
    text = workflows["github/checkout/.github/workflows/preview.yaml"]
    workflow = yaml.safe_load(text)
    assert fork_problems(workflow, text, "acme/checkout-service", [platform.previews.label]) == []
    broken = copy.deepcopy(workflow)
    guard = "github.event.pull_request.head.repo.full_name == github.repository && "
    assert guard in broken["jobs"]["image"]["if"]
    broken["jobs"]["image"]["if"] = broken["jobs"]["image"]["if"].replace(guard, "")
    found = fork_problems(broken, yaml.safe_dump(broken), "acme/checkout-service", [platform.previews.label])
    assert any("job image runs for a fork and reads ['secrets.GITHUB_TOKEN']" in p for p in found), found
    assert any("job image runs for a fork with write permissions" in p for p in found), found
    target = copy.deepcopy(workflow)
    target["on"] = {"pull_request_target": target["on"]["pull_request"]}
    assert "uses pull_request_target" in fork_problems(target, yaml.safe_dump(target), "acme/checkout-service", [])
