"""The generated shell steps, run for real: bash with the step's own `env:` (expressions replaced
by sample values), real git against local repositories, kustomize on the result, and
`gpc compile --check` on the bumped tree. The steps that need GitHub itself (the App token,
`gh pr create`, the registry, cosign) are covered by the static tests only."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, all_spec_files, load_ir, require_tool, spec_id

from compiler import names
from compiler.ir import Platform, Workload
from targets.github import TARGET

SHA = "3f2a9c4e5b6d7081920a1b2c3d4e5f60718293a4"
TOKEN = "ghs_sampleinstallationtoken0123456789"  # what the App token step would output
VALUES = {
    "github.sha": SHA,
    "steps.app-token.outputs.token": TOKEN,
    "steps.app-token.outputs.app-slug": "gpc-deploy",
}


def kustomize_target_ready() -> bool:
    try:
        return hasattr(importlib.import_module("targets.kustomize"), "TARGET")
    except ImportError:
        return False


TARGETS = ["kustomize", "github"] if kustomize_target_ready() else ["github"]


# -- running a step ----------------------------------------------------------------------------


def workflow(platform: Platform, workload: Workload, file: str) -> dict[str, Any]:
    path = f"github/{workload.name}/.github/workflows/{file}"
    text = next(a.text for a in TARGET.render(platform) if a.path == path)
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def find_step(wf: dict[str, Any], job: str, name_start: str) -> tuple[dict[str, Any], dict[str, Any]]:
    j = wf["jobs"][job]
    return j, next(s for s in j["steps"] if s["name"].startswith(name_start))


def evaluate(value: object, values: dict[str, str]) -> str:
    def expr(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        assert key in values, f"no sample value for ${{{{ {key} }}}}"
        return values[key]

    return re.sub(r"\$\{\{(.*?)\}\}", expr, str(value))


def run_step(job: dict[str, Any], step: dict[str, Any], cwd: Path, home: Path,
             values: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a `run:` step as GitHub does (`bash --noprofile --norc -eo pipefail`), in `cwd`."""
    env = {k: evaluate(v, {**VALUES, **(values or {})}) for k, v in {**job.get("env", {}),
                                                                         **step.get("env", {})}.items()}
    (home / "runner-temp").mkdir(exist_ok=True)
    script = home / "step.sh"
    script.write_text(step["run"])
    base = {
        "PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "RUNNER_TEMP": str(home / "runner-temp"), "GITHUB_OUTPUT": str(home / "github-output"),
    }
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                          env={**base, **env}, capture_output=True, text=True, timeout=120)


def git(*args: str, cwd: Path, home: Path) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": str(home / "gitconfig"), "GIT_AUTHOR_NAME": "someone",
           "GIT_AUTHOR_EMAIL": "someone@example.com", "GIT_COMMITTER_NAME": "someone",
           "GIT_COMMITTER_EMAIL": "someone@example.com"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def gpc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "compiler.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def compile_into(platform: Platform, repo: Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    """`gpc compile` into `repo` laid out like the GitOps repository (tree at gitops.path)."""
    out = repo / Path(platform.gitops_path).parent
    targets = [arg for t in TARGETS for arg in ("--target", t)]
    return gpc("compile", str(ROOT / platform.spec_file), "-o", str(out), *targets, *(["--check"] if check else []))


def expected_component(workload: Workload, tag: str) -> str:
    return (
        f"# The image {workload.name} runs in this environment. Owned by CI: gpc created this file once and\n"
        f"# never rewrites it; {workload.repo}'s workflows rewrite it on every delivery and promotion.\n"
        "apiVersion: kustomize.config.k8s.io/v1alpha1\n"
        "kind: Component\n"
        "images:\n"
        f'- name: "{workload.image}"\n'
        f'  newTag: "{tag}"\n'
    )


def built_images(overlay: Path) -> set[str]:
    kubectl = require_tool("kubectl")
    built = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    images = set()
    for doc in yaml.safe_load_all(built.stdout):
        if not doc:
            continue
        spec = doc.get("spec", {})
        pod = spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec") \
            or spec.get("template", {}).get("spec")
        if pod:
            images |= {c["image"] for c in pod.get("containers", []) + pod.get("initContainers", [])}
    return images


# -- the first environment's bump --------------------------------------------------------------


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_deploy_rewrites_the_ci_owned_component_and_check_stays_green(spec: Path, tmp_path: Path) -> None:
    platform = load_ir(spec)
    repo = tmp_path / "gitops"
    done = compile_into(platform, repo)
    assert done.returncode == 0, done.stderr
    ci_owned = set()
    if "kustomize" in TARGETS:
        manifest = yaml.safe_load((repo / platform.gitops_path / ".gpc-manifest.json").read_text())
        ci_owned = set(manifest["ci"])
    for w in (w for w in platform.workloads if w.repo):
        first, *later = platform.environments_of(w)  # its CI delivers to the first environment it runs in
        job, step = find_step(workflow(platform, w, "deliver.yaml"), "deploy", "Point ")
        assert step["working-directory"] == "gitops"
        ran = run_step(job, step, repo, tmp_path)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        relative = f"{names.image_component_dir(w.name, first.name)}/kustomization.yaml"
        written = repo / platform.gitops_path / relative
        assert written.read_text() == expected_component(w, SHA)
        assert yaml.safe_load(written.read_text()) == {
            "apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
            "images": [{"name": w.image, "newTag": SHA}]}
        if "kustomize" in TARGETS:
            assert relative in ci_owned, "the bump must write the file the kustomize target hands to CI"
            overlay = repo / platform.gitops_path / names.overlay_dir(w.name, first.name)
            assert built_images(overlay) == {f"{w.image}:{SHA}"}
            # The other environments still run the tag gpc seeded.
            for env in later:
                assert built_images(repo / platform.gitops_path / names.overlay_dir(w.name, env.name)) == \
                    {f"{w.image}:{w.initial_tag}"}
        else:
            assert _standalone_overlay_image(written.parent, w, tmp_path) == f"{w.image}:{SHA}"
    # The bumped files are CI's: the drift gate does not see them as drift.
    check = compile_into(platform, repo, check=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _standalone_overlay_image(component: Path, workload: Workload, tmp_path: Path) -> str:
    """Without the kustomize target: a minimal overlay that uses the Component."""
    overlay = tmp_path / f"overlay-{workload.name}"
    overlay.mkdir()
    (overlay / "deploy.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": workload.name},
        "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": {
            "metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [{"name": "app", "image": f"{workload.image}:seed"}]}}}}))
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": ["deploy.yaml"], "components": [os.path.relpath(component, overlay)]}))
    (image,) = built_images(overlay)
    return image


def test_deploy_refuses_a_tag_that_is_not_a_commit(tmp_path: Path) -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    w = platform.workload("checkout")
    job, step = find_step(workflow(platform, w, "deliver.yaml"), "deploy", "Point ")
    repo = tmp_path / "gitops"
    repo.mkdir()
    ran = run_step(job, step, repo, tmp_path, {"github.sha": "latest"})
    assert ran.returncode == 1 and "::error::" in ran.stdout
    assert not any(repo.rglob("kustomization.yaml"))


# -- pushing to the GitOps repository ----------------------------------------------------------


def _origin_with_tree(platform: Platform, tmp_path: Path) -> tuple[Path, Path]:
    """A bare GitOps repository holding the compiled tree on gitops.branch, and a work clone."""
    origin, work = tmp_path / "origin.git", tmp_path / "seed"
    git("init", "--quiet", "--bare", "-b", platform.gitops_branch, str(origin), cwd=tmp_path, home=tmp_path)
    git("init", "--quiet", "-b", platform.gitops_branch, str(work), cwd=tmp_path, home=tmp_path)
    done = compile_into(platform, work)
    assert done.returncode == 0, done.stderr
    if "kustomize" not in TARGETS:  # seed the CI-owned files the kustomize target would
        for w in platform.workloads:
            for env in platform.environments_of(w):
                f = work / platform.gitops_path / names.image_component_dir(w.name, env.name) / "kustomization.yaml"
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text(f"kind: Component\napiVersion: kustomize.config.k8s.io/v1alpha1\nimages:\n"
                             f"- name: {w.image}\n  newTag: {w.initial_tag}\n")
    git("add", "-A", cwd=work, home=tmp_path)
    git("commit", "--quiet", "-m", "compiled tree", cwd=work, home=tmp_path)
    git("remote", "add", "origin", origin.as_uri(), cwd=work, home=tmp_path)
    git("push", "--quiet", "origin", f"HEAD:refs/heads/{platform.gitops_branch}", cwd=work, home=tmp_path)
    return origin, work


def _ci_clone(platform: Platform, origin: Path, dest: Path, home: Path) -> Path:
    """What actions/checkout leaves: a depth-1 clone of gitops.branch."""
    git("clone", "--quiet", "--depth", "1", "--branch", platform.gitops_branch, origin.as_uri(), str(dest),
        cwd=home, home=home)
    return dest


def test_deploy_commits_on_its_own_branch_and_never_pushes_to_the_gitops_branch(tmp_path: Path) -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    w, first = platform.workload("checkout"), platform.environments[0]
    origin, _ = _origin_with_tree(platform, tmp_path)
    main_before = git("rev-parse", platform.gitops_branch, cwd=origin, home=tmp_path).strip()
    clone = _ci_clone(platform, origin, tmp_path / "gitops", tmp_path)
    wf = workflow(platform, w, "deliver.yaml")
    branch = wf["jobs"]["deploy"]["env"]["PR_BRANCH"]
    assert branch == f"gpc/deploy/{w.name}/{first.name}"
    for name in ("Point ", "Commit the image"):
        job, step = find_step(wf, "deploy", name)
        ran = run_step(job, step, clone, tmp_path)
        assert ran.returncode == 0, ran.stdout + ran.stderr
    output = (tmp_path / "github-output").read_text()
    assert output == f"changed=true\ntitle=deploy checkout {SHA} to {first.name}\n"

    assert git("rev-parse", platform.gitops_branch, cwd=origin, home=tmp_path).strip() == main_before
    log = git("log", "--format=%P|%an|%cn|%s", f"{platform.gitops_branch}..{branch}", cwd=origin,
              home=tmp_path).splitlines()
    assert log == [f"{main_before}|gpc-deploy[bot]|gpc-deploy[bot]|deploy checkout {SHA} to {first.name}"]
    path = f"{platform.gitops_path}/{names.image_component_dir(w.name, first.name)}/kustomization.yaml"
    changed = git("diff", "--name-only", platform.gitops_branch, branch, cwd=origin, home=tmp_path).split()
    assert changed == [path]
    assert git("show", f"{branch}:{path}", cwd=origin, home=tmp_path) == expected_component(w, SHA)

    # The token reached git through the helper only: it is nowhere in the clone.
    for f in (clone / ".git").rglob("*"):
        if f.is_file():
            assert TOKEN.encode() not in f.read_bytes(), f
    helper = subprocess.run(["git", "credential", "fill"], cwd=clone, input="protocol=https\nhost=github.com\n\n",
                            capture_output=True, text=True, env={
                                "PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
                                "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"), "GITOPS_TOKEN": TOKEN,
                                "GIT_TERMINAL_PROMPT": "0"})
    assert helper.returncode == 0 and f"password={TOKEN}" in helper.stdout
    assert "username=x-access-token" in helper.stdout

    # A newer build replaces the unmerged one: still one commit on top of the GitOps branch.
    newer = "d" * 40
    again = _ci_clone(platform, origin, tmp_path / "newer", tmp_path)
    for name in ("Point ", "Commit the image"):
        job, step = find_step(wf, "deploy", name)
        assert run_step(job, step, again, tmp_path, {"github.sha": newer}).returncode == 0
    assert git("rev-list", "--count", f"{platform.gitops_branch}..{branch}", cwd=origin, home=tmp_path).strip() == "1"
    assert git("show", f"{branch}:{path}", cwd=origin, home=tmp_path) == expected_component(w, newer)

    # Once merged, delivering the same commit again has nothing to do.
    git("push", "--quiet", origin.as_uri(), f"{branch}:refs/heads/{platform.gitops_branch}", cwd=origin,
        home=tmp_path)
    (tmp_path / "github-output").unlink()
    merged = _ci_clone(platform, origin, tmp_path / "merged", tmp_path)
    for name in ("Point ", "Commit the image"):
        job, step = find_step(wf, "deploy", name)
        ran = run_step(job, step, merged, tmp_path, {"github.sha": newer})
        assert ran.returncode == 0, ran.stderr
    assert "nothing to deploy" in ran.stdout and (tmp_path / "github-output").read_text() == "changed=false\n"


# -- promotion ---------------------------------------------------------------------------------


def test_promotion_goes_through_a_branch_never_the_environment(tmp_path: Path) -> None:
    spec = next(s for s in all_spec_files() if spec_id(s) == "gpu-cron")
    platform = load_ir(spec)
    w = platform.workload("api")
    dev, staging, prod = platform.environments
    origin, _ = _origin_with_tree(platform, tmp_path)
    deliver = workflow(platform, w, "deliver.yaml")
    clone = _ci_clone(platform, origin, tmp_path / "deliver", tmp_path)
    for name in ("Point ", "Commit the image"):
        job, step = find_step(deliver, "deploy", name)
        assert run_step(job, step, clone, tmp_path).returncode == 0
    # GitHub merges the deploy pull request once the GitOps repository's checks pass.
    deploy_branch = deliver["jobs"]["deploy"]["env"]["PR_BRANCH"]
    git("push", "--quiet", origin.as_uri(), f"{deploy_branch}:refs/heads/{platform.gitops_branch}", cwd=origin,
        home=tmp_path)
    (tmp_path / "github-output").unlink()
    main_before = git("rev-parse", platform.gitops_branch, cwd=origin, home=tmp_path).strip()

    promote = workflow(platform, w, f"promote-{staging.name}.yaml")
    job, step = find_step(promote, "promote", "Commit the promotion")
    branch = job["env"]["PR_BRANCH"]
    work = _ci_clone(platform, origin, tmp_path / "promote", tmp_path)
    ran = run_step(job, step, work, tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    output = (tmp_path / "github-output").read_text()
    assert "changed=true\n" in output
    assert f"title=promote api {SHA} from {dev.name} to {staging.name}\n" in output

    assert git("rev-parse", platform.gitops_branch, cwd=origin, home=tmp_path).strip() == main_before
    changed = git("diff", "--name-only", platform.gitops_branch, branch, cwd=origin, home=tmp_path).split()
    to_path = f"{platform.gitops_path}/{names.image_component_dir(w.name, staging.name)}/kustomization.yaml"
    assert changed == [to_path]
    assert git("show", f"{branch}:{to_path}", cwd=origin, home=tmp_path) == expected_component(w, SHA)
    if "kustomize" in TARGETS:
        git("checkout", "--quiet", branch, cwd=work, home=tmp_path)
        overlay = work / platform.gitops_path / names.overlay_dir(w.name, staging.name)
        assert built_images(overlay) == {f"{w.image}:{SHA}"}
        # prod is not touched by promoting to staging.
        assert built_images(work / platform.gitops_path / names.overlay_dir(w.name, prod.name)) == \
            {f"{w.image}:{w.initial_tag}"}

    # Promoting to prod now would propose what staging runs on gitops.branch: still gpc's day-one
    # marker, which is no image at all. The promotion refuses it and pushes nothing.
    assert w.initial_tag == names.BOOTSTRAP_TAG
    job_p, step_p = find_step(workflow(platform, w, f"promote-{prod.name}.yaml"), "promote", "Commit the promotion")
    (tmp_path / "github-output").unlink()
    refs_before = git("for-each-ref", cwd=origin, home=tmp_path)
    ran = run_step(job_p, step_p, _ci_clone(platform, origin, tmp_path / "prod", tmp_path), tmp_path)
    assert ran.returncode == 1 and f"::error::{staging.name} has no delivered image of api yet" in ran.stdout
    assert not (tmp_path / "github-output").exists()
    assert git("for-each-ref", cwd=origin, home=tmp_path) == refs_before

    # Once the staging pull request is merged, the same promotion has nothing left to do.
    git("push", "--quiet", origin.as_uri(), f"{branch}:refs/heads/{platform.gitops_branch}", cwd=origin,
        home=tmp_path)
    ran = run_step(job, step, _ci_clone(platform, origin, tmp_path / "merged", tmp_path), tmp_path)
    assert ran.returncode == 0 and "nothing to promote" in ran.stdout


def test_promotion_refuses_a_source_without_a_tag(tmp_path: Path) -> None:
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    w = platform.workload("checkout")
    job, step = find_step(workflow(platform, w, "promote-prod.yaml"), "promote", "Commit the promotion")
    repo = tmp_path / "gitops"
    source = repo / job["env"]["FROM_PATH"]
    source.parent.mkdir(parents=True)
    source.write_text("kind: Component\nimages:\n- name: x\n  newTag: 'a b; rm -rf /'\n")
    git("init", "--quiet", str(repo), cwd=tmp_path, home=tmp_path)
    ran = run_step(job, step, repo, tmp_path)
    assert ran.returncode == 1 and "names no valid image tag" in ran.stdout
    assert not (repo / job["env"]["TO_PATH"]).exists()
