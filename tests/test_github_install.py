"""The platform CI's "Install gpc" step, run for real with pip in a fresh virtualenv, for each kind
of `toolchain.gpc`: the default (a folder of the GitOps repository, such as a git submodule) with no
package index asked for gpc at all, a git repository at one commit, and a package index with
`--require-hashes`, which refuses a file whose hash the spec does not name. No package called gpc is
published anywhere; each install uses this checkout's source."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, load_ir
from test_github_scripts import git

from compiler.ir import GpcSource, Platform
from targets.github import TARGET

SOURCE_FILES = ("compiler", "targets", "pyproject.toml", "README.md")


def install_step(platform: Platform) -> tuple[dict[str, Any], dict[str, Any]]:
    wf = yaml.safe_load(next(a.text for a in TARGET.render(platform) if a.path.endswith("/gpc.yaml")))
    job = wf["jobs"]["check"]
    return job, next(s for s in job["steps"] if s["name"].startswith("Install gpc"))


def run(step: dict[str, Any], cwd: Path, venv: Path, tmp: Path, isolated: bool = False) -> subprocess.CompletedProcess[str]:
    """The step's script as GitHub runs it, with the virtualenv's python first on PATH (what
    actions/setup-python leaves). `isolated`: no pip configuration of this machine at all."""
    assert "${{" not in json.dumps(step["env"])
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    script = tmp / "install.sh"
    script.write_text(step["run"])
    env = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "HTTP", "HTTPS", "NO_PROXY", "SSL_"))
           and not isolated}
    env.update({"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "HOME": str(tmp), "LANG": "C.UTF-8",
                "RUNNER_TEMP": str(runner_temp), **step["env"]})
    if isolated:
        env["PIP_CONFIG_FILE"] = os.devnull
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def copy_source(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in SOURCE_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def installed(venv: Path) -> dict[str, Any]:
    """What pip recorded about the installed gpc: its version and, for a URL install, where from."""
    code = ("import importlib.metadata as m, json; d = m.distribution('gpc'); "
            "print(json.dumps({'version': d.version, 'direct_url': json.loads(d.read_text('direct_url.json') or 'null')}))")
    # From the venv's folder: `python -c` puts the working directory on sys.path, and this checkout
    # has a gpc.egg-info of its own.
    done = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True,
                          cwd=venv)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def uninstall(venv: Path) -> None:
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "uninstall", "--yes", "--quiet", "gpc"], check=True,
                   capture_output=True)


@pytest.mark.slow
def test_each_gpc_source_installs_exactly_what_the_spec_names(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    platform = load_ir(ROOT / "specs" / "fraud.yaml")

    # 1. The default: the folder tools/gpc of the GitOps repository. Without it, a clear error.
    repo = tmp_path / "gitops"
    repo.mkdir()
    _, step = install_step(platform)
    assert step["env"] == {"GPC_PATH": "tools/gpc"}
    missing = run(step, repo, venv, tmp_path)
    assert missing.returncode == 1 and "::error::no gpc source in tools/gpc" in missing.stdout
    copy_source(repo / "tools" / "gpc")
    done = run(step, repo, venv, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gpc, version" in done.stdout
    assert installed(venv)["version"] == load_version()

    # 2. A git repository at one commit: pip records that commit.
    source = copy_source(tmp_path / "gpc-src")
    git("init", "--quiet", "-b", "main", str(source), cwd=tmp_path, home=tmp_path)
    git("add", "-A", cwd=source, home=tmp_path)
    git("commit", "--quiet", "-m", "gpc", cwd=source, home=tmp_path)
    commit = git("rev-parse", "HEAD", cwd=source, home=tmp_path).strip()
    uninstall(venv)
    # file://localhost/: PEP 508 direct references need a host (the workflow's URL is https://).
    url = f"file://localhost{source.as_posix()}"
    _, step = install_step(dataclasses.replace(platform, gpc_source=GpcSource("git", url, commit=commit)))
    done = run(step, repo, venv, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert installed(venv)["direct_url"]["vcs_info"]["commit_id"] == commit

    # 3. A package index: only a file with one of the spec's hashes is installed.
    index = tmp_path / "index"
    built = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                            str(index / "gpc"), str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    (wheel,) = (index / "gpc").glob("gpc-*.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (index / "gpc" / "index.html").write_text(f'<a href="{wheel.name}#sha256={digest}">{wheel.name}</a>\n')
    version = load_version()
    for hashes, ok in [((f"sha256:{'0' * 64}",), False), ((f"sha256:{'0' * 64}", f"sha256:{digest}"), True)]:
        uninstall(venv)
        _, step = install_step(dataclasses.replace(platform, gpc_source=GpcSource(
            "index", index.as_uri(), version=version, hashes=hashes)))
        done = run(step, repo, venv, tmp_path, isolated=True)
        if ok:
            assert done.returncode == 0, done.stdout + done.stderr
            assert installed(venv)["version"] == version
        else:
            assert done.returncode != 0 and "DO NOT MATCH THE HASHES" in done.stderr, done.stderr


def load_version() -> str:
    from compiler import __version__

    return __version__
