"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real pre-commit against a sample repo.

The hook repository is a temporary git repository holding a copy of this gpc tree (try-repo and
`repo:` need committed hooks; nothing is ever committed in the working tree). The sample
repository is what a platform team has: specs/shop.yaml and its compiled out/shop/.

`pre-commit try-repo` builds its hook environments in a fresh store on every call, so a
`language: python` hook costs a full install of gpc (30-40 s here) per call. The scenarios
therefore run through try-repo with the `-system` twins of the hooks (same entry, files and
filename passing, asserted below; they use the gpc on PATH), and once more through a
`.pre-commit-config.yaml` with the `language: python` hooks, the way users run them, whose
environment pre-commit builds once and caches.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, require_tool

HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
SPEC = (ROOT / "specs" / "minimal.yaml").read_text("utf-8").replace("name: hello", "name: shop")


def hooks() -> dict[str, dict[str, object]]:
    return {h["id"]: h for h in yaml.safe_load(HOOKS_FILE.read_text("utf-8"))}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", "-c", "user.name=gpc tests", "-c", "user.email=tests@gpc.invalid",
                           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def pre_commit(cwd: Path, *args: str, home: Path, gpc_bin: Path | None) -> subprocess.CompletedProcess[str]:
    """Run pre-commit with `gpc_bin` first on PATH, or (None) with no `gpc` on PATH at all."""
    exe = require_tool("pre-commit")
    path = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "gpc").exists()]
    env = {**os.environ, "PATH": os.pathsep.join(([str(gpc_bin)] if gpc_bin else []) + path),
           "PRE_COMMIT_HOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "PRE_COMMIT_COLOR": "never", "SKIP": ""}
    env.pop("PRE_COMMIT", None)
    return subprocess.run([exe, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with this gpc tree committed: what users point `repo:` at.

    Its `bin/gpc` runs that snapshot, for the `-system` hooks and to compile the sample: the
    hooks judge a tree made by exactly the code they run, even while the working tree changes.
    """
    require_tool("git")
    repo = tmp_path_factory.mktemp("gpc-hooks")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")
    for name in ("compiler", "targets"):
        shutil.copytree(ROOT / name, repo / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "gpc")
    shim = repo.parent / f"{repo.name}-bin" / "gpc"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{repo}" exec "{sys.executable}" -m compiler.cli "$@"\n', "utf-8")
    shim.chmod(0o755)
    return repo


def gpc_bin(hook_repo: Path) -> Path:
    return hook_repo.parent / f"{hook_repo.name}-bin"


def gpc(hook_repo: Path, cwd: Path, *args: str) -> None:
    subprocess.run([str(gpc_bin(hook_repo) / "gpc"), *args], cwd=cwd, check=True, capture_output=True, text=True)


@pytest.fixture
def sample(tmp_path: Path, hook_repo: Path) -> Path:
    """A platform repository: one spec and its freshly compiled tree."""
    repo = tmp_path / "platform"
    (repo / "specs").mkdir(parents=True)
    (repo / "specs" / "shop.yaml").write_text(SPEC, "utf-8")
    (repo / "docs").mkdir()
    (repo / "docs" / "notes.yaml").write_text("not: [a, spec\n", "utf-8")  # broken YAML, not a spec
    gpc(hook_repo, repo, "compile", "specs/shop.yaml")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    return repo


def try_repo(sample: Path, hook_repo: Path, hook: str, *args: str) -> subprocess.CompletedProcess[str]:
    return pre_commit(sample, "try-repo", str(hook_repo), hook, "--verbose", *args, home=sample.parent / "pc-home",
                      gpc_bin=gpc_bin(hook_repo))


def edit(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text("utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), "utf-8")
    git(repo, "add", "-A")


def position(repo: Path, path: str, needle: str) -> str:
    lines = (repo / path).read_text("utf-8").splitlines()
    line = next(i for i, text in enumerate(lines) if needle in text)
    return f"{path}:{line + 1}:{lines[line].index(needle) + 1}"


# -- the hooks file ----------------------------------------------------------------------------


def test_hooks_file_declares_the_hooks() -> None:
    declared = hooks()
    assert set(declared) == {"gpc-validate", "gpc-compile-check", "gpc-validate-system", "gpc-compile-check-system"}
    for name in ("gpc-validate", "gpc-compile-check"):
        python, system = declared[name], declared[f"{name}-system"]
        assert python["language"] == "python" and system["language"] == "system"
        for key in ("entry", "files", "types", "pass_filenames", "require_serial"):
            assert python.get(key) == system.get(key), f"{name} and its -system twin differ in {key}"
    assert declared["gpc-compile-check"]["pass_filenames"] is False, "gpc compile takes one spec at a time"


@pytest.mark.parametrize(("path", "is_spec"), [
    ("specs/fraud.yaml", True), ("specs/shop.yml", True), ("platform.yaml", True), ("team/platform.yaml", True),
    ("specs/teams/x.yaml", True), ("teams/web.yaml", True), ("docs/notes.yaml", False), ("out/shop/kustomize/a.yaml", False),
    ("myplatform.yaml", False),
])
def test_which_files_the_hooks_see(path: str, is_spec: bool) -> None:
    import re

    declared = hooks()
    assert bool(re.search(str(declared["gpc-validate"]["files"]), path)) is is_spec
    compile_check = bool(re.search(str(declared["gpc-compile-check"]["files"]), path))
    # A team file changes the compiled tree as much as its spec does; a spec in another folder
    # (team/platform.yaml) is not one the compile-check hook's loop compiles.
    assert compile_check is (path.startswith("out/") or (is_spec and path != "team/platform.yaml"))


# -- try-repo, every scenario --------------------------------------------------------------------


def test_a_valid_spec_and_a_fresh_tree_pass(sample: Path, hook_repo: Path) -> None:
    done = try_repo(sample, hook_repo, "gpc-validate-system", "--all-files")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gpc validate (gpc from PATH)" in done.stdout and "Passed" in done.stdout
    assert "ok: 1 spec valid" in done.stdout, "only the spec was passed: docs/notes.yaml is not a spec"
    done = try_repo(sample, hook_repo, "gpc-compile-check-system", "--all-files")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok: out/shop is up to date" in done.stdout


def test_a_broken_spec_fails_with_the_code_and_position(sample: Path, hook_repo: Path) -> None:
    edit(sample, "specs/shop.yaml", "port: 8080", "port: eighty")
    done = try_repo(sample, hook_repo, "gpc-validate-system", "--all-files")
    assert done.returncode == 1
    assert "Failed" in done.stdout
    assert f"{position(sample, 'specs/shop.yaml', 'eighty')}: error GPC103" in done.stdout


def test_a_stale_tree_fails_and_a_recompiled_one_passes(sample: Path, hook_repo: Path) -> None:
    edit(sample, "specs/shop.yaml", "port: 8080", "port: 8081")
    done = try_repo(sample, hook_repo, "gpc-compile-check-system", "--files", "specs/shop.yaml")
    assert done.returncode == 1
    assert "out/shop is stale" in done.stdout and "Run: gpc compile specs/shop.yaml" in done.stdout
    assert "+" in done.stdout and "8081" in done.stdout, "the diff shows what would change"
    gpc(hook_repo, sample, "compile", "specs/shop.yaml")
    git(sample, "add", "-A")
    done = try_repo(sample, hook_repo, "gpc-compile-check-system", "--files", "specs/shop.yaml")
    assert done.returncode == 0, done.stdout


def test_a_hand_edit_in_out_fails(sample: Path, hook_repo: Path) -> None:
    edit(sample, "out/shop/README.md", "# shop", "# shop (edited by hand)")
    done = try_repo(sample, hook_repo, "gpc-compile-check-system", "--files", "out/shop/README.md")
    assert done.returncode == 1
    assert "out/shop is stale" in done.stdout


def test_hooks_skip_commits_without_specs(sample: Path, hook_repo: Path) -> None:
    for hook in ("gpc-validate-system", "gpc-compile-check-system"):
        done = try_repo(sample, hook_repo, hook, "--files", "docs/notes.yaml")
        assert done.returncode == 0
        assert "(no files to check)Skipped" in done.stdout


def test_compile_check_says_when_there_is_no_spec(tmp_path: Path, hook_repo: Path) -> None:
    repo = tmp_path / "empty"
    (repo / "out").mkdir(parents=True)
    (repo / "out" / "x.txt").write_text("x\n", "utf-8")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    done = try_repo(repo, hook_repo, "gpc-compile-check-system", "--all-files")
    assert "no specs/*.yaml or platform.yaml found" in done.stdout


# -- the language: python hooks, as users run them ---------------------------------------------


@pytest.mark.slow
def test_python_hooks_install_gpc_and_gate_commits(sample: Path, hook_repo: Path) -> None:
    """One story, so that pre-commit builds the hook environment (an install of gpc) once."""
    rev = git(hook_repo, "rev-parse", "HEAD")
    config = {"repos": [{"repo": str(hook_repo), "rev": rev,
                         "hooks": [{"id": "gpc-validate"}, {"id": "gpc-compile-check"}]}]}
    (sample / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), "utf-8")
    git(sample, "add", "-A")
    home = sample.parent / "pc-home"

    def run() -> subprocess.CompletedProcess[str]:
        # No gpc on PATH: the hooks can only run the gpc pre-commit installed for them.
        return pre_commit(sample, "run", "--all-files", "--verbose", home=home, gpc_bin=None)

    done = run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gpc validate" in done.stdout and "gpc compile --check" in done.stdout
    assert "ok: out/shop is up to date" in done.stdout
    env_python = next(home.glob("repo*/py_env-*/bin/gpc"), None)
    assert env_python is not None, "pre-commit installed gpc into the hook's own environment"

    edit(sample, "specs/shop.yaml", "port: 8080", "port: eighty")
    done = run()
    assert done.returncode == 1
    assert f"{position(sample, 'specs/shop.yaml', 'eighty')}: error GPC103" in done.stdout

    edit(sample, "specs/shop.yaml", "port: eighty", "port: 8081")
    done = run()
    assert done.returncode == 1
    assert "out/shop is stale" in done.stdout

    gpc(hook_repo, sample, "compile", "specs/shop.yaml")
    git(sample, "add", "-A")
    done = run()
    assert done.returncode == 0, done.stdout
    assert "Installing environment" not in done.stdout + done.stderr, "the environment is built once"
