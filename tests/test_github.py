"""The github target's workflows, read as data: the security properties a reviewer checks by
hand (pinned actions, least privilege, nothing untrusted in a script, no secret printed), the
delivery design (the first environment's CI-owned image file, promotion by pull request only),
the READMEs and determinism. The real tools run in test_github_tools.py, the generated scripts in
test_github_scripts.py, the diagnostics and hostile values in test_github_checks.py."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import posixpath
import re
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, all_spec_files, load_ir, spec_id

from compiler import names
from compiler.ir import GpcSource, Platform, Workload
from compiler.target import Artifact
from targets.github import TARGET, pins, scripts
from targets.github.values import github_repo, registry_host

SHA = re.compile(r"^[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:- )?uses: (?P<ref>\S+)(?P<rest>.*)$")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")


def workflows(artifacts: list[Artifact]) -> dict[str, str]:
    return {a.path: a.text for a in artifacts if "/.github/workflows/" in a.path}


def load(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def workload_files(artifacts: list[Artifact], workload: Workload) -> dict[str, dict[str, Any]]:
    prefix = f"github/{workload.name}/.github/workflows/"
    return {a.path.removeprefix(prefix): load(a.text) for a in artifacts if a.path.startswith(prefix)}


@pytest.fixture(scope="module", params=all_spec_files(), ids=spec_id)
def compiled(request: pytest.FixtureRequest) -> tuple[Platform, list[Artifact]]:
    platform = load_ir(request.param)
    return platform, TARGET.render(platform)


# -- what is emitted ---------------------------------------------------------------------------


def test_every_workload_with_a_repo_gets_its_workflows(compiled: tuple[Platform, list[Artifact]]) -> None:
    platform, artifacts = compiled
    paths = {a.path for a in artifacts}
    expected = {"github/platform/README.md", "github/platform/.github/workflows/gpc.yaml",
                "github/platform/.github/workflows/gpc-guard.yaml", "github/platform/guard/ci_guard.py",
                "github/platform/guard/policy.json", "github/platform/ruleset.json"}
    for w in platform.workloads:
        if not w.repo:
            continue
        folder = f"github/{w.name}"
        expected |= {f"{folder}/README.md", f"{folder}/.github/workflows/ci.yaml",
                     f"{folder}/.github/workflows/deliver.yaml"}
        expected |= {f"{folder}/.github/workflows/promote-{e.name}.yaml" for e in platform.environments_of(w)[1:]}
    for source in platform.previews.sources if platform.previews else ():
        folder = f"github/{source.workloads[0]}"  # one copy per repository (tests/test_preview_ci.py)
        expected |= {f"{folder}/.github/workflows/preview.yaml", f"{folder}/.github/workflows/preview-janitor.yaml",
                     f"{folder}/.github/preview/janitor.py"}
    assert paths == expected
    for a in artifacts:
        assert a.owner == "gpc"
        assert a.text.endswith("\n") and "\r" not in a.text
        if a.path.endswith("ruleset.json"):
            continue  # GitHub imports it as it is: no room for a comment
        first_lines = "\n".join(a.text.splitlines()[:2])  # JSON: the first key says it
        assert platform.spec_file in first_lines, f"{a.path} lacks the generated header"


def test_a_workload_without_a_repo_gets_no_workflows() -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    w = platform.workload("checkout")
    stripped = dataclasses.replace(platform, workloads=tuple(
        dataclasses.replace(x, repo=None) if x.name == w.name else x for x in platform.workloads))
    paths = {a.path for a in TARGET.render(stripped)}
    assert not any(p.startswith("github/checkout/") for p in paths)
    assert any(p.startswith("github/fraud-trainer/") for p in paths)


def test_on_is_the_string_key_on(compiled: tuple[Platform, list[Artifact]]) -> None:
    # YAML 1.1 reads a bare `on:` as the boolean true; GitHub wants the key "on".
    for path, text in workflows(compiled[1]).items():
        data = load(text)
        assert "on" in data and True not in data, path


# -- supply chain: pinned actions and tools ----------------------------------------------------


def test_every_action_is_pinned_to_a_commit_with_its_release_in_a_comment(
        compiled: tuple[Platform, list[Artifact]]) -> None:
    known = {p.ref: p.version for p in pins.ACTIONS.values()}
    for path, text in workflows(compiled[1]).items():
        lines = [m for m in map(USES_LINE.match, text.splitlines()) if m]
        assert lines, path
        for m in lines:
            repo, _, sha = m["ref"].partition("@")
            assert re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo), m[0]
            assert SHA.match(sha), f"{path}: {m['ref']} is not pinned to a full commit SHA"
            assert m["rest"] == f" # {known[m['ref']]}", f"{path}: {m['ref']} lacks its release comment"
        parsed = [s["uses"] for s in steps(load(text)) if "uses" in s]
        assert len(parsed) == len(lines)


def test_pins_are_well_formed() -> None:
    for pin in pins.ACTIONS.values():
        assert SHA.match(pin.sha) and re.fullmatch(r"v\d+\.\d+\.\d+", pin.version), pin
    assert pins.RUNNER != "ubuntu-latest"
    for version in (pins.BUILDX_VERSION, pins.COSIGN_VERSION):
        assert re.fullmatch(r"v\d+\.\d+\.\d+", version)
    assert re.fullmatch(r"moby/buildkit:v\d+\.\d+\.\d+", pins.BUILDKIT_IMAGE)


def test_annotate_refuses_an_unknown_pin() -> None:
    with pytest.raises(ValueError, match="unpinned"):
        pins.annotate(f"    - uses: evil/action@{'a' * 40}\n")


def test_tools_are_installed_pinned_and_never_piped_into_a_shell(compiled: tuple[Platform, list[Artifact]]) -> None:
    for path, text in workflows(compiled[1]).items():
        data = load(text)
        for job in data["jobs"].values():
            assert job["runs-on"] == pins.RUNNER
        for step in steps(data):
            run = step.get("run", "")
            assert not re.search(r"\|\s*(ba|z)?sh\b", run), f"{path}: pipes into a shell"
            assert "curl" not in run and "wget" not in run, path
            if "pip install" in run:
                assert "pip install" in scripts.INSTALL_GPC_FROM_PATH + scripts.INSTALL_GPC_FROM_GIT \
                    + scripts.INSTALL_GPC_FROM_INDEX and run in (
                        scripts.INSTALL_GPC_FROM_PATH, scripts.INSTALL_GPC_FROM_GIT, scripts.INSTALL_GPC_FROM_INDEX)
            if step.get("uses", "").startswith("docker/setup-buildx-action@"):
                assert step["with"]["version"] == pins.BUILDX_VERSION
            if step.get("uses", "").startswith("sigstore/cosign-installer@"):
                assert step["with"]["cosign-release"] == pins.COSIGN_VERSION


# -- least privilege ---------------------------------------------------------------------------


def test_permissions_are_minimal(compiled: tuple[Platform, list[Artifact]]) -> None:
    platform, artifacts = compiled
    for path, text in workflows(artifacts).items():
        data = load(text)
        assert data["permissions"] in ({}, {"contents": "read"}), path
        for name, job in data["jobs"].items():
            assert isinstance(job["timeout-minutes"], int) and 0 < job["timeout-minutes"] <= 30, (path, name)
            granted = job["permissions"]
            assert isinstance(granted, dict), (path, name)
            writes = {k for k, v in granted.items() if v == "write"}
            if path.endswith("/deliver.yaml") and name == "publish":
                w = platform.workload(path.split("/")[1])
                assert writes == ({"id-token", "packages"} if registry_host(w.image) == "ghcr.io" else {"id-token"})
            elif path.endswith("/preview.yaml") and name == "image":  # push, sign, label, record a Deployment
                w = platform.workload(path.split("/")[1])
                packages = {"packages"} if registry_host(w.image) == "ghcr.io" else set()
                assert writes == packages | {"id-token", "pull-requests", "deployments"}
            elif path.endswith("/preview.yaml") and name == "teardown":
                assert writes == {"deployments"}
            elif path.endswith("/preview-janitor.yaml"):  # take labels off, mark Deployments inactive
                assert writes == {"pull-requests", "deployments"}
            else:
                assert not writes, f"{path}: job {name} can write {writes}"
            assert set(granted.values()) <= {"read", "write"}
            assert "write-all" not in text and "read-all" not in text


# The only event fields any workflow reads: the guard's commit hashes and the pull request author's
# login (GitHub restricts logins to letters, digits, '-' and a '[bot]' suffix); no title, body or
# branch name, and only in `env:` or the guard's checkout ref.
EVENT_FIELDS = {"github.event.pull_request.base.sha", "github.event.pull_request.head.sha",
                "github.event.pull_request.user.login", "github.event.pull_request.number"}
ANYWHERE = {"github.event.pull_request.number"}  # an integer: safe in a concurrency group too


def test_no_pull_request_target_and_no_untrusted_context(compiled: tuple[Platform, list[Artifact]]) -> None:
    for path, text in workflows(compiled[1]).items():
        assert "pull_request_target" not in text, path
        assert "github.head_ref" not in text, path
        assert "workflow_run" not in text, path
        used = {m.strip() for m in EXPRESSION.findall(text) if "github.event." in m}
        assert used <= EVENT_FIELDS, f"{path}: {used - EVENT_FIELDS}"
        data = load(text)
        allowed_places = [v for job in data["jobs"].values() for v in (
            *job.get("env", {}).values(), *(s.get("with", {}).get("ref", "") for s in job["steps"]))]
        for field in used - ANYWHERE:
            in_places = sum(str(v).count(field) for v in allowed_places)
            assert text.count(field) == in_places, f"{path}: {field} outside env/ref"


def test_no_expression_inside_a_script(compiled: tuple[Platform, list[Artifact]]) -> None:
    # Values reach scripts through env:, so no expression (a secret, a branch name, a title) is
    # ever pasted into shell code.
    for path, text in workflows(compiled[1]).items():
        for step in steps(load(text)):
            assert "${{" not in step.get("run", ""), f"{path}: {step['name']}"


def test_secrets_are_never_printed(compiled: tuple[Platform, list[Artifact]]) -> None:
    for path, text in workflows(compiled[1]).items():
        data = load(text)
        for job in data["jobs"].values():
            for step in job["steps"]:
                run = step.get("run")
                if run is None:
                    continue
                assert "set -x" not in run and "set -o xtrace" not in run
                env = {**job.get("env", {}), **step.get("env", {})}
                secret_vars = [k for k, v in env.items()
                               if "secrets." in str(v) or "outputs.token" in str(v)]
                for var in secret_vars:
                    for line in run.splitlines():
                        if var in line:
                            # Only git's credential helper hands the token over, to git, at push time.
                            assert line.startswith("git config credential.helper '!f()"), f"{path}: {line}"
                # A secret reaches a step only when that step needs it.
                if not secret_vars:
                    continue
                assert secret_vars in (["GITOPS_TOKEN"], ["GH_TOKEN"]), f"{path}: {step['name']}"
        for step in steps(data):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, path


# -- delivery ----------------------------------------------------------------------------------


def test_ci_builds_and_tests_pull_requests_without_pushing(compiled: tuple[Platform, list[Artifact]]) -> None:
    platform, artifacts = compiled
    for w in (w for w in platform.workloads if w.repo):
        ci = workload_files(artifacts, w)["ci.yaml"]
        assert set(ci["on"]) == {"pull_request"}
        assert "**.md" in ci["on"]["pull_request"]["paths-ignore"]
        assert ci["concurrency"]["cancel-in-progress"] is True
        builds = [s for s in steps(ci) if s.get("uses", "").startswith("docker/build-push-action@")]
        assert [b["with"].get("target") for b in builds] == ["test", None]
        assert all(b["with"]["push"] is False for b in builds)
        assert all("type=gha" in b["with"]["cache-from"] for b in builds)
        assert not any("login-action" in s.get("uses", "") for s in steps(ci))


def test_deliver_pushes_the_commit_image_then_bumps_the_first_environment(
        compiled: tuple[Platform, list[Artifact]]) -> None:
    platform, artifacts = compiled
    gitops = github_repo(platform.gitops_repo)
    for w in (w for w in platform.workloads if w.repo):
        first = platform.environments_of(w)[0]  # the first environment the workload is switched on in
        deliver = workload_files(artifacts, w)["deliver.yaml"]
        assert deliver["on"]["push"]["branches"] == ["main"]
        assert "**.md" in deliver["on"]["push"]["paths-ignore"]
        assert deliver["concurrency"]["cancel-in-progress"] is False
        publish, deploy = deliver["jobs"]["publish"], deliver["jobs"]["deploy"]
        push = next(s for s in publish["steps"] if s.get("id") == "build")
        assert push["with"]["push"] is True and push["with"]["tags"] == f"{w.image}:${{{{ github.sha }}}}"
        assert "type=gha" in push["with"]["cache-from"] and "type=gha" in push["with"]["cache-to"]
        runs = "\n".join(s.get("run", "") for s in publish["steps"])
        assert "cosign sign --yes" in runs and "cosign attest --yes --type spdxjson" in runs
        login = next(s for s in publish["steps"] if s.get("uses", "").startswith("docker/login-action@"))
        assert login["with"]["registry"] == registry_host(w.image)
        if registry_host(w.image) == "ghcr.io":
            assert login["with"]["password"] == "${{ secrets.GITHUB_TOKEN }}"
        else:
            assert login["with"]["password"] == "${{ secrets.REGISTRY_PASSWORD }}"
        assert deploy["needs"] == "publish"
        expected = (f"{platform.gitops_path}/{names.image_component_dir(w.name, first.name)}"
                    "/kustomization.yaml")
        assert deploy["env"]["COMPONENT_PATH"] == expected
        assert deploy["env"]["IMAGE_TAG"] == "${{ github.sha }}"
        assert deploy["env"]["PR_BRANCH"] == f"gpc/deploy/{w.name}/{first.name}"
        assert deploy["env"]["GITOPS_BRANCH"] == platform.gitops_branch
        token = deploy["steps"][0]
        assert token["uses"].startswith("actions/create-github-app-token@")
        assert token["with"]["owner"] + "/" + token["with"]["repositories"] == gitops
        assert {k: v for k, v in token["with"].items() if k.startswith("permission-")} == {
            "permission-contents": "write", "permission-pull-requests": "write"}
        checkout = deploy["steps"][1]
        assert checkout["with"]["repository"] == gitops and checkout["with"]["ref"] == platform.gitops_branch
        runs = "\n".join(s.get("run", "") for s in deploy["steps"])
        # The first environment is deployed by a pull request that GitHub merges once the GitOps
        # repository's required checks pass: nothing pushes to the GitOps branch.
        assert re.findall(r"git push[^\n]*", runs) == ['git push --quiet --force origin "HEAD:refs/heads/${PR_BRANCH}"']
        assert "gh pr create" in runs and 'gh pr merge "${PR_BRANCH}" --repo "${GITOPS_REPO}" --auto --squash' in runs


def test_later_environments_are_promoted_by_pull_request_only(compiled: tuple[Platform, list[Artifact]]) -> None:
    platform, artifacts = compiled
    for w in (w for w in platform.workloads if w.repo):
        envs = platform.environments_of(w)  # a promotion skips an environment the workload is off in
        files = workload_files(artifacts, w)
        promotions = {k: v for k, v in files.items() if k.startswith("promote-")}
        assert set(promotions) == {f"promote-{e.name}.yaml" for e in envs[1:]}
        for source, target in pairwise(envs):
            wf = promotions[f"promote-{target.name}.yaml"]
            assert wf["on"] == {"workflow_dispatch": {}}, "no inputs: nothing typed by a user reaches a step"
            assert wf["concurrency"]["cancel-in-progress"] is False
            job = wf["jobs"]["promote"]
            env = job["env"]
            assert env["FROM_PATH"].endswith(f"/{names.image_component_dir(w.name, source.name)}/kustomization.yaml")
            assert env["TO_PATH"].endswith(f"/{names.image_component_dir(w.name, target.name)}/kustomization.yaml")
            assert env["PR_BRANCH"] == f"gpc/promote/{w.name}/{target.name}" != platform.gitops_branch
            scripts = "\n".join(s.get("run", "") for s in job["steps"])
            pushes = re.findall(r"git push[^\n]*", scripts)
            assert pushes == ['git push --quiet --force origin "HEAD:refs/heads/${PR_BRANCH}"']
            assert "gh pr create" in scripts
            token = job["steps"][0]["with"]
            assert token["permission-pull-requests"] == "write"
    # No workflow ever pushes to the GitOps branch: every push goes to a branch of its own.
    for path, text in workflows(artifacts).items():
        for push in re.findall(r"git push[^\n]*", text):
            assert push.endswith('"HEAD:refs/heads/${PR_BRANCH}"'), (path, push)
        for step in steps(load(text)):
            if "PR_BRANCH" in step.get("env", {}):
                assert step["env"]["PR_BRANCH"] != platform.gitops_branch


def test_platform_workflow_validates_and_checks_drift(compiled: tuple[Platform, list[Artifact]]) -> None:
    platform, artifacts = compiled
    wf = load(next(a.text for a in artifacts if a.path == "github/platform/.github/workflows/gpc.yaml"))
    spec_dir = posixpath.dirname(platform.spec_file)
    team_files = [posixpath.join(spec_dir, pattern) for pattern in platform.include]  # they change the tree too
    paths = [platform.spec_file, *team_files, f"{platform.gitops_path}/**", ".github/workflows/gpc.yaml",
             ".github/workflows/gpc-guard.yaml"]
    assert wf["on"] == {"pull_request": {"paths": paths},
                        "push": {"branches": [platform.gitops_branch], "paths": paths}}
    # Pull requests share a group per ref and cancel; pushes get a group per commit.
    assert wf["concurrency"] == {"group": "gpc-${{ github.event_name == 'pull_request' && github.ref || github.sha }}",
                                 "cancel-in-progress": True}
    job = wf["jobs"]["check"]
    assert job["env"]["SPEC"] == platform.spec_file
    assert f"{job['env']['OUT']}/{platform.spec_name}" == platform.gitops_path
    runs = [s.get("run", "") for s in job["steps"]]
    assert any('gpc validate --format github "${SPEC}"' in r for r in runs)
    assert any('gpc compile "${SPEC}" --out "${OUT}" --check' in r for r in runs)


# -- READMEs -----------------------------------------------------------------------------------


def test_readme_lists_every_secret_and_variable_the_workflows_read(compiled: tuple[Platform, list[Artifact]]) -> None:
    platform, artifacts = compiled
    by_path = {a.path: a.text for a in artifacts}
    for folder in [f"github/{w.name}" for w in platform.workloads if w.repo] + ["github/platform"]:
        texts = "\n".join(t for p, t in by_path.items() if p.startswith(f"{folder}/.github/"))
        readme = by_path[f"{folder}/README.md"]
        used = set(re.findall(r"\b(?:secrets|vars)\.([A-Z_]+)", texts))
        listed = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, re.MULTILINE))
        assert used <= listed, f"{folder}: README misses {used - listed}"
        assert listed <= used, f"{folder}: README lists unused {listed - used}"
    for w in (w for w in platform.workloads if w.repo):
        readme = by_path[f"github/{w.name}/README.md"]
        assert "stage named `test`" in readme
        for env in platform.environments_of(w)[1:]:
            assert f"promote-{env.name}.yaml" in readme
        if len(platform.environments_of(w)) > 1:
            assert "pull request" in readme and "No workflow ever pushes directly" in readme


# -- determinism -------------------------------------------------------------------------------


def test_render_is_deterministic(compiled: tuple[Platform, list[Artifact]]) -> None:
    platform, artifacts = compiled
    assert TARGET.render(platform) == artifacts
    assert [a.path for a in artifacts] == sorted(a.path for a in artifacts)


_DIGEST = """
import hashlib, sys
sys.path.insert(0, "tests")
from conftest import all_spec_files, load_ir
from targets.github import TARGET
h = hashlib.sha256()
for spec in all_spec_files():
    for a in TARGET.render(load_ir(spec)):
        h.update(a.path.encode() + b"\\0" + a.text.encode() + b"\\0")
print(h.hexdigest())
"""


def test_output_does_not_depend_on_the_hash_seed() -> None:
    digests = set()
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", _DIGEST], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1
    local = hashlib.sha256()
    for spec in all_spec_files():
        for a in TARGET.render(load_ir(spec)):
            local.update(a.path.encode() + b"\0" + a.text.encode() + b"\0")
    assert digests == {local.hexdigest()}


def test_nothing_absolute_or_secret_in_the_output(compiled: tuple[Platform, list[Artifact]]) -> None:
    for a in compiled[1]:
        assert str(ROOT) not in a.text and "/home/" not in a.text and "/tmp/" not in a.text, a.path
        assert "BEGIN" not in a.text and "PRIVATE KEY-----" not in a.text, a.path


def test_paths_are_relative_to_the_tree(compiled: tuple[Platform, list[Artifact]]) -> None:
    for a in compiled[1]:
        assert a.path.startswith("github/") and ".." not in Path(a.path).parts


# -- the GitOps App's key: main-only environment jobs ------------------------------------------

KEY = "secrets.GITOPS_APP_PRIVATE_KEY"


def key_exposures(path: str, workflow: dict[str, Any]) -> list[str]:
    """How a workflow could hand the GitOps App's key to code that is not on the default branch.

    The key is a secret of the `gitops` environment, whose deployment branch policy admits only
    `main`; that holds only for a job that names the environment. So every job that reads the key
    must name it (and skip itself elsewhere), and the workflow may run only from `main`: on a push
    to `main` or by hand (where the environment refuses another ref)."""
    problems = []
    reads_key = {name for name, job in workflow["jobs"].items() if KEY in str(job)}
    if not reads_key:
        return problems
    if KEY in str({k: v for k, v in workflow.items() if k != "jobs"}):
        problems.append(f"{path}: the key is read outside a job")
    for name in sorted(reads_key):
        job = workflow["jobs"][name]
        if job.get("environment") != "gitops":
            problems.append(f"{path}: job {name} reads the key without `environment: gitops`")
        if job.get("if") != "github.ref == 'refs/heads/main'":
            problems.append(f"{path}: job {name} does not skip itself off main")
    triggers = workflow["on"]
    for event, config in (triggers.items() if isinstance(triggers, dict) else [(triggers, None)]):
        if event == "workflow_dispatch":
            continue
        if event != "push" or not isinstance(config, dict) or config.get("branches") != ["main"] \
                or {"tags", "branches-ignore", "tags-ignore"} & set(config):
            problems.append(f"{path}: runs on {event} {config}, not only on pushes to main")
    return problems


def test_the_gitops_key_reaches_only_main_only_environment_jobs(compiled: tuple[Platform, list[Artifact]]) -> None:
    platform, artifacts = compiled
    readers = 0
    for path, text in workflows(artifacts).items():
        data = load(text)
        assert key_exposures(path, data) == []
        readers += sum(KEY in str(job) for job in data["jobs"].values())
        for name, job in data["jobs"].items():
            if KEY not in str(job):
                # No other job names the environment or reads any secret but its own registry's.
                assert "environment" not in job, (path, name)
                assert set(re.findall(r"secrets\.([A-Z_]+)", str(job))) <= {
                    "GITHUB_TOKEN", "REGISTRY_USERNAME", "REGISTRY_PASSWORD"}, (path, name)
    # deliver's deploy job and one promotion job per later environment, for each CI-built workload.
    assert readers == sum(len(platform.environments_of(w)) for w in platform.workloads if w.repo)


@pytest.mark.parametrize("mutate", [
    lambda wf: wf["jobs"]["deploy"].pop("environment"),
    lambda wf: wf["jobs"]["deploy"].update(environment="production"),
    lambda wf: wf["jobs"]["deploy"].pop("if"),
    lambda wf: wf["on"].update(pull_request={}),
    lambda wf: wf["on"]["push"].update(branches=["**"]),
    lambda wf: wf["on"]["push"].update(tags=["v*"]),
    lambda wf: wf["on"].update(workflow_run={"workflows": ["ci"]}),
    lambda wf: wf["jobs"]["publish"]["steps"].append({"run": "echo", "env": {"K": "${{ secrets.GITOPS_APP_PRIVATE_KEY }}"}}),
], ids=["no-environment", "other-environment", "no-if", "pull-request", "any-branch", "tags", "workflow-run",
        "key-in-another-job"])
def test_key_exposures_catches_each_way_the_key_could_leak(mutate: Any) -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    w = platform.workload("checkout")
    wf = workload_files(TARGET.render(platform), w)["deliver.yaml"]
    assert key_exposures("deliver.yaml", wf) == []
    mutate(wf)
    assert key_exposures("deliver.yaml", wf) != []


def test_promotion_jobs_run_only_from_main() -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    for w in (w for w in platform.workloads if w.repo):
        wf = workload_files(TARGET.render(platform), w)["promote-prod.yaml"]
        assert wf["on"] == {"workflow_dispatch": {}}
        job = wf["jobs"]["promote"]
        assert (job["environment"], job["if"]) == ("gitops", "github.ref == 'refs/heads/main'")
        wf["on"]["push"] = {"branches": ["feature"]}
        assert key_exposures("promote-prod.yaml", wf) != []


# -- where the platform CI gets gpc (toolchain.gpc) --------------------------------------------


def _install_step(platform: Platform) -> dict[str, Any]:
    wf = load(next(a.text for a in TARGET.render(platform) if a.path.endswith("/gpc.yaml")))
    return next(s for s in wf["jobs"]["check"]["steps"] if s["name"].startswith("Install gpc"))


def test_the_default_installs_gpc_from_a_folder_of_the_repository_never_from_an_index() -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    assert platform.gpc_source == GpcSource("path", "tools/gpc")
    step = _install_step(platform)
    assert step["env"] == {"GPC_PATH": "tools/gpc"}
    assert 'pip install --disable-pip-version-check --no-input "./${GPC_PATH}"' in step["run"]
    assert "gpc==" not in step["run"] and "index" not in step["run"]
    wf = load(next(a.text for a in TARGET.render(platform) if a.path.endswith("/gpc.yaml")))
    assert wf["jobs"]["check"]["steps"][0]["with"]["submodules"] is True
    readme = next(a.text for a in TARGET.render(platform) if a.path == "github/platform/README.md")
    assert "git submodule add <URL of gpc's git repository> tools/gpc" in readme
    assert "No package index is involved" in readme


def test_a_git_source_is_installed_at_its_commit() -> None:
    spec = next(s for s in all_spec_files() if spec_id(s) == "gpu-cron")
    platform = load_ir(spec)
    assert platform.gpc_source.kind == "git" and SHA.match(platform.gpc_source.commit or "")
    step = _install_step(platform)
    assert step["env"] == {"GPC_GIT_URL": "https://github.com/acme/gpc.git",
                           "GPC_COMMIT": "4b825dc642cb6eb9a060e54bf8d69288fbee4904"}
    assert '"gpc @ git+${GPC_GIT_URL}@${GPC_COMMIT}"' in step["run"]
    wf = load(next(a.text for a in TARGET.render(platform) if a.path.endswith("/gpc.yaml")))
    assert "submodules" not in wf["jobs"]["check"]["steps"][0]["with"]


def test_an_index_source_is_installed_with_require_hashes_from_that_index_only() -> None:
    platform = dataclasses.replace(load_ir(ROOT / "specs" / "fraud.yaml"), gpc_source=GpcSource(
        "index", "https://pypi.acme.example/simple", version="0.1.0", hashes=("sha256:" + "a" * 64, "sha256:" + "b" * 64)))
    step = _install_step(platform)
    assert step["env"] == {
        "GPC_INDEX_URL": "https://pypi.acme.example/simple", "GPC_VERSION": "0.1.0",
        "GPC_REQUIREMENT": f"gpc==0.1.0 --hash=sha256:{'a' * 64} --hash=sha256:{'b' * 64}"}
    pips = [line for line in step["run"].splitlines() if "pip install" in line]
    assert '--index-url "${GPC_INDEX_URL}" --require-hashes --no-deps -r "${requirements}"' in pips[0]
    assert all('--index-url "${GPC_INDEX_URL}"' in line for line in pips)
    assert "extra-index-url" not in step["run"]
