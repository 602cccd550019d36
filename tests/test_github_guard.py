"""The GitOps repository's guard, run for real: a real git repository holding the compiled tree,
pull requests made of commits by a workload's CI identity (the generated deliver and promote steps
themselves, or hand-made forbidden changes), and the guard step of gpc-guard.yaml run exactly as
GitHub runs it (its own `run:` and `env:`, the event's values filled in) in a checkout of the pull
request's head. A workload's identity may change its own image files and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, load_ir
from test_github_scripts import SHA, find_step, git, run_step, workflow

from compiler import names
from compiler.ir import Platform, Workload
from targets.github import TARGET, guard

SPEC = ROOT / "specs" / "fraud.yaml"
IDENTITIES = {"checkout": "acme-checkout-ci[bot]", "fraud-inference": "acme-inference-ci[bot]",
              "fraud-trainer": "acme-trainer-ci[bot]"}
PEOPLE = ("Platform Team", "platform@acme.example")


def guard_step() -> tuple[dict[str, Any], dict[str, Any]]:
    text = next(a.text for a in TARGET.render(load_ir(SPEC)) if a.path == guard.ARTIFACT)
    wf = yaml.safe_load(text)
    assert wf["on"]["pull_request"]["branches"] == ["main"]
    job = wf["jobs"]["guard"]
    assert job["name"] == guard.CHECK_NAME
    return job, next(s for s in job["steps"] if "run" in s)


class GitOps:
    """A bare GitOps repository (origin) holding the whole compiled tree of fraud.yaml on main."""

    def __init__(self, tmp: Path) -> None:
        self.tmp, self.platform = tmp, load_ir(SPEC)
        self.origin = tmp / "origin.git"
        seed = tmp / "seed"
        git("init", "--quiet", "--bare", "-b", "main", str(self.origin), cwd=tmp, home=tmp)
        git("init", "--quiet", "-b", "main", str(seed), cwd=tmp, home=tmp)
        out = seed / Path(self.platform.gitops_path).parent
        done = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", str(SPEC), "-o", str(out)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        self.tree = seed / self.platform.gitops_path
        self.commit(seed, "the compiled tree", PEOPLE)
        git("remote", "add", "origin", self.origin.as_uri(), cwd=seed, home=tmp)
        git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=seed, home=tmp)
        self.base = self.rev("main")
        self.seed = seed

    def rev(self, ref: str) -> str:
        return git("rev-parse", ref, cwd=self.origin, home=self.tmp).strip()

    def commit(self, repo: Path, message: str, who: tuple[str, str]) -> None:
        git("add", "-A", cwd=repo, home=self.tmp)
        subprocess.run(["git", "-c", f"user.name={who[0]}", "-c", f"user.email={who[1]}", "commit", "--quiet",
                        "-m", message], cwd=repo, check=True, capture_output=True,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(self.tmp), "GIT_CONFIG_NOSYSTEM": "1",
                            "GIT_CONFIG_GLOBAL": str(self.tmp / "gitconfig")})

    def branch(self, name: str, change: Callable[[Path], None], who: tuple[str, str]) -> str:
        """A branch off main with one commit by `who` that makes `change` (on the tree folder)."""
        work = self.tmp / f"work-{name.replace('/', '-')}"
        git("clone", "--quiet", self.origin.as_uri(), str(work), cwd=self.tmp, home=self.tmp)
        git("switch", "--quiet", "-c", name, cwd=work, home=self.tmp)
        change(work / self.platform.gitops_path)
        self.commit(work, f"change by {who[0]}", who)
        git("push", "--quiet", "origin", f"HEAD:refs/heads/{name}", cwd=work, home=self.tmp)
        return self.rev(name)

    def judge(self, head: str, author: str, identities: object = IDENTITIES) -> subprocess.CompletedProcess[str]:
        """gpc-guard as GitHub runs it on a pull request: a full clone at the head commit."""
        checkout = self.tmp / f"checkout-{head[:12]}-{len(list(self.tmp.iterdir()))}"
        git("clone", "--quiet", "--no-checkout", self.origin.as_uri(), str(checkout), cwd=self.tmp, home=self.tmp)
        git("checkout", "--quiet", "--detach", head, cwd=checkout, home=self.tmp)
        job, step = guard_step()
        values = {
            "github.event.pull_request.base.sha": self.base,
            "github.event.pull_request.head.sha": head,
            "github.event.pull_request.user.login": author,
            f"vars.{guard.IDENTITIES_VARIABLE}": identities if isinstance(identities, str) else json.dumps(identities),
        }
        return run_step(job, step, checkout, self.tmp, values)


def bot(workload: str) -> tuple[str, str]:
    login = IDENTITIES[workload]
    return login, f"{login}@users.noreply.github.com"


def image_file(platform: Platform, workload: str, env: str) -> str:
    return f"{names.image_component_dir(workload, env)}/kustomization.yaml"


def component(w: Workload, tag: str, extra: str = "") -> str:
    return (f"# CI-owned\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n"
            f'- name: "{w.image}"\n  newTag: "{tag}"\n{extra}')


def first_file_of_kind(tree: Path, folder: str, kind: Callable[[str], bool]) -> str:
    for path in sorted((tree / folder).rglob("*.yaml")):
        docs = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
        if any(kind(str(d.get("kind", ""))) for d in docs):
            return str(path.relative_to(tree))
    raise AssertionError(f"no such file under {folder}")


@pytest.fixture(scope="module")
def gitops(tmp_path_factory: pytest.TempPathFactory) -> GitOps:
    return GitOps(tmp_path_factory.mktemp("guard"))


def accepted(ran: subprocess.CompletedProcess[str]) -> bool:
    assert ran.returncode in (0, 1), ran.stdout + ran.stderr
    assert ("::error" in ran.stdout) == (ran.returncode == 1), ran.stdout
    return ran.returncode == 0


# -- what a workload's identity may do ---------------------------------------------------------


def test_the_generated_delivery_passes_the_guard(gitops: GitOps, tmp_path: Path) -> None:
    platform = gitops.platform
    w = platform.workload("checkout")
    wf = workflow(platform, w, "deliver.yaml")
    clone = tmp_path / "gitops"
    git("clone", "--quiet", "--depth", "1", "--branch", "main", gitops.origin.as_uri(), str(clone),
        cwd=tmp_path, home=tmp_path)
    slug = IDENTITIES["checkout"].removesuffix("[bot]")
    for name in ("Point ", "Commit the image"):
        job, step = find_step(wf, "deploy", name)
        ran = run_step(job, step, clone, tmp_path, {"steps.app-token.outputs.app-slug": slug})
        assert ran.returncode == 0, ran.stdout + ran.stderr
    head = gitops.rev("gpc/deploy/checkout/dev")
    assert gitops.rev("main") == gitops.base, "delivery never pushes to the GitOps branch"
    changed = git("diff", "--name-only", f"{gitops.base}...{head}", cwd=gitops.origin, home=tmp_path).split()
    assert changed == [f"{platform.gitops_path}/{image_file(platform, 'checkout', 'dev')}"]
    ran = gitops.judge(head, IDENTITIES["checkout"])
    assert accepted(ran) and "accepted" in ran.stdout

    # The same pull request opened by another workload's identity is refused.
    assert not accepted(gitops.judge(head, IDENTITIES["fraud-trainer"]))


def test_the_generated_promotion_passes_the_guard(gitops: GitOps, tmp_path: Path) -> None:
    platform = gitops.platform
    w = platform.workload("fraud-trainer")
    job, step = find_step(workflow(platform, w, "promote-prod.yaml"), "promote", "Commit the promotion")
    clone = tmp_path / "promote"
    git("clone", "--quiet", "--depth", "1", "--branch", "main", gitops.origin.as_uri(), str(clone),
        cwd=tmp_path, home=tmp_path)
    # Give dev a delivered tag first, so that there is something to promote.
    dev = clone / platform.gitops_path / image_file(platform, w.name, "dev")
    dev.write_text(component(w, SHA))
    git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "--quiet", "-am", "dev", cwd=clone, home=tmp_path)
    slug = IDENTITIES["fraud-trainer"].removesuffix("[bot]")
    ran = run_step(job, step, clone, tmp_path, {"steps.app-token.outputs.app-slug": slug})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    head = gitops.rev("gpc/promote/fraud-trainer/prod")
    # The pull request holds the seeded dev commit too; judged as a whole, fraud-trainer's identity
    # changed only its own image files.
    assert accepted(gitops.judge(head, IDENTITIES["fraud-trainer"]))


@pytest.mark.parametrize("case", ["other-image-file", "app-project", "policy", "guard-script",
                                  "own-file-new-name", "own-file-other-image", "own-file-patches",
                                  "own-file-deleted", "workflow-copy", "hostile-file-name"])
def test_a_workload_identity_cannot_change_anything_else(gitops: GitOps, case: str) -> None:
    platform = gitops.platform
    tree = gitops.tree
    checkout = platform.workload("checkout")
    own = image_file(platform, "checkout", "dev")
    app_project = first_file_of_kind(tree, "argocd", lambda k: k == "AppProject")
    policy = first_file_of_kind(tree, names.KYVERNO_DIR, lambda k: k.endswith("Policy"))

    def append(path: str, text: str) -> Callable[[Path], None]:
        return lambda t: (t / path).write_text((t / path).read_text() + text)

    def write(path: str, text: str) -> Callable[[Path], None]:
        return lambda t: (t / path).write_text(text)

    changes: dict[str, Callable[[Path], None]] = {
        "other-image-file": write(image_file(platform, "fraud-trainer", "dev"),
                                  component(platform.workload("fraud-trainer"), SHA)),
        "app-project": append(app_project, "  - group: '*'\n    kind: '*'\n"),
        "policy": append(policy, "# disabled\n"),
        "guard-script": write(guard.SCRIPT, "import sys\nsys.exit(0)\n"),
        "own-file-new-name": write(own, component(checkout, SHA, '  newName: "evil.example/miner"\n')),
        "own-file-other-image": write(own, component(platform.workload("fraud-trainer"), SHA)),
        "own-file-patches": write(own, component(checkout, SHA) + "patches:\n- path: privileged.yaml\n"),
        "own-file-deleted": lambda t: (t / own).unlink(),
        "workflow-copy": append(f"github/platform/{guard.WORKFLOW}", "# off\n"),
        "hostile-file-name": write("x\n::warning file=a,line=1::pwned%0A", "x\n"),
    }
    head = gitops.branch(f"evil/{case}", changes[case], bot("checkout"))
    ran = gitops.judge(head, IDENTITIES["checkout"])
    assert not accepted(ran), ran.stdout
    if case in ("other-image-file", "app-project", "policy", "guard-script", "workflow-copy"):
        assert "which is not one of checkout's image files" in ran.stdout
    # Paths come from the pull request: each reason is one `::error` line, whatever the path holds.
    assert all(line.startswith("::error") for line in ran.stdout.splitlines()), ran.stdout
    # The guard that judged it is the base's: the pull request's own (here replaced by `exit 0`) never ran.


def test_its_commits_are_judged_inside_anyone_elses_pull_request(gitops: GitOps) -> None:
    app_project = first_file_of_kind(gitops.tree, "argocd", lambda k: k == "AppProject")
    widen = lambda t: (t / app_project).write_text((t / app_project).read_text() + "# widened\n")  # noqa: E731
    head = gitops.branch("sneak/app-project", widen, bot("fraud-inference"))
    ran = gitops.judge(head, "alice")  # a person opened it
    assert not accepted(ran) and "fraud-inference's CI identity" in ran.stdout
    # The same change made by a person is a person's reviewed change: not the guard's business.
    head = gitops.branch("people/app-project", widen, PEOPLE)
    assert accepted(gitops.judge(head, "alice"))


def test_its_own_image_file_in_every_environment_is_accepted(gitops: GitOps) -> None:
    platform = gitops.platform
    w = platform.workload("fraud-inference")

    def bump(t: Path) -> None:
        for env in platform.environments:
            (t / image_file(platform, w.name, env.name)).write_text(component(w, "1.2.3"))

    head = gitops.branch("gpc/promote/fraud-inference/all", bump, bot("fraud-inference"))
    assert accepted(gitops.judge(head, IDENTITIES["fraud-inference"]))


# -- failing closed ----------------------------------------------------------------------------


def test_other_apps_and_a_bad_identities_variable_are_refused(gitops: GitOps) -> None:
    platform = gitops.platform
    w = platform.workload("checkout")
    head = gitops.branch("gpc/deploy/checkout/ok", lambda t: (t / image_file(platform, "checkout", "dev")).write_text(
        component(w, SHA)), bot("checkout"))
    assert accepted(gitops.judge(head, IDENTITIES["checkout"]))
    ran = gitops.judge(head, "renovate[bot]")
    assert not accepted(ran) and "not the CI identity of any workload" in ran.stdout
    for identities, why in [
        ("", "must be a JSON object"),
        ("{not json", "is not JSON"),
        ({k: v for k, v in IDENTITIES.items() if k != "fraud-trainer"}, "no identity for workload 'fraud-trainer'"),
        ({**IDENTITIES, "fraud-trainer": IDENTITIES["checkout"]}, "share the identity"),
        ({**IDENTITIES, "payments": "x[bot]"}, "'payments', which is not a workload"),
    ]:
        ran = gitops.judge(head, IDENTITIES["checkout"], identities)
        assert not accepted(ran) and why in ran.stdout, (identities, ran.stdout)


def test_a_base_without_the_guard_fails_with_a_clear_message(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git("init", "--quiet", "-b", "main", str(repo), cwd=tmp_path, home=tmp_path)
    (repo / "README.md").write_text("x\n")
    git("add", "-A", cwd=repo, home=tmp_path)
    git("commit", "--quiet", "-m", "x", cwd=repo, home=tmp_path)
    head = git("rev-parse", "HEAD", cwd=repo, home=tmp_path).strip()
    job, step = guard_step()
    ran = run_step(job, step, repo, tmp_path, {
        "github.event.pull_request.base.sha": head, "github.event.pull_request.head.sha": head,
        "github.event.pull_request.user.login": "alice", f"vars.{guard.IDENTITIES_VARIABLE}": "{}"})
    assert ran.returncode == 1 and "is not on the base branch yet" in ran.stdout
