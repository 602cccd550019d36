"""`gpc compile --check` (and a no-op compile) without rendering: the manifest records a digest of
the compile's inputs and one of the generated files (compiler/inputs.py, compiler/writer.py
up_to_date). Every way the tree or the inputs can differ must still be found, with the full
compile's messages, and an up-to-date tree must really be judged without rendering."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from test_compile import bump, gpc, write_spec

from compiler import cli, pipeline, writer

# A bucket nobody uses: the front end warns (GPC222) on every compile, also an up-to-date one.
UNUSED_BUCKET = "storage:\n  buckets:\n    spare: {}\n"


def compiled(tmp_path: Path, extra: str = "") -> Path:
    spec = write_spec(tmp_path)
    if extra:
        spec.write_text(spec.read_text() + extra)
    done = gpc("compile", "shop.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "out/shop"


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *args: str) -> tuple[int, str, str]:
    """`gpc ARGS` in this process, so a test can observe (and forbid) rendering."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    capsys.readouterr()
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def no_render(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered, though the tree is up to date")
    monkeypatch.setattr(pipeline, "render", forbidden)


def took_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.chdir(tmp_path)
    plan = pipeline.compile_spec(Path("shop.yaml"), reuse=True).plan
    assert plan is not None
    return plan.fresh > 0


def snapshot(tree: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_ino, p.stat().st_mtime_ns) for p in tree.rglob("*")}


def test_an_up_to_date_tree_is_checked_and_recompiled_without_rendering(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    tree = compiled(tmp_path)
    monkeypatch.chdir(tmp_path)
    full = pipeline.compile_spec(Path("shop.yaml")).plan  # what rendering says: nothing to do
    assert full is not None and not full.changed and not full.refresh
    before = snapshot(tree)
    no_render(monkeypatch)
    assert run(tmp_path, monkeypatch, capsys, "compile", "shop.yaml", "--check") == \
        (0, "", "ok: out/shop is up to date\n")
    assert run(tmp_path, monkeypatch, capsys, "compile", "shop.yaml") == \
        (0, "", f"wrote out/shop: 0 created, 0 updated, 0 deleted, {len(full.files)} unchanged\n")
    assert snapshot(tree) == before  # nothing written, nothing re-linked
    code, out, _ = run(tmp_path, monkeypatch, capsys, "compile", "shop.yaml", "--check", "--format", "json")
    assert code == 0 and json.loads(out)["stale"] is False and json.loads(out)["changes"] == []
    # A check of some targets of a tree compiled whole is judged the same way.
    assert run(tmp_path, monkeypatch, capsys, "compile", "shop.yaml", "--check", "-t", "kustomize")[0] == 0


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_warnings_are_the_full_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    spec = write_spec(tmp_path, tag="1.0.0")
    spec.write_text(spec.read_text() + UNUSED_BUCKET)
    assert gpc("compile", "shop.yaml", cwd=tmp_path).returncode == 0
    bump(tmp_path / "out/shop", "api", "prod", "2.0.0")  # GPC402: what CI deployed is not image_tag
    assert took_fast_path(tmp_path, monkeypatch)
    args = ("compile", "shop.yaml", "--check", "--format", fmt)
    with monkeypatch.context() as m:
        no_render(m)
        fast = run(tmp_path, m, capsys, *args)
    with monkeypatch.context() as m:
        m.setattr(writer, "up_to_date", lambda tree, inputs: None)  # the full compile's path
        full = run(tmp_path, m, capsys, *args)
    assert fast == full
    assert "GPC222" in fast[1] + fast[2] and "GPC402" in fast[1] + fast[2]


def test_a_hand_edited_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = compiled(tmp_path)
    readme = tree / "README.md"
    readme.write_text(readme.read_text() + "edited by hand\n")
    assert not took_fast_path(tmp_path, monkeypatch)
    done = gpc("compile", "shop.yaml", "--check", cwd=tmp_path)
    assert done.returncode == 1 and "-edited by hand\n" in done.stdout
    assert "0 to create, 1 to update, 0 to delete" in done.stderr
    # With the spec's inputs changed too (a comment): the compile restores the file and records the
    # new inputs in the same swap, so the next check is fast.
    spec = tmp_path / "shop.yaml"
    spec.write_text("# the shop\n" + spec.read_text())
    done = gpc("compile", "shop.yaml", cwd=tmp_path)
    assert done.returncode == 0 and ": 0 created, 2 updated, 0 deleted" in done.stderr, done.stderr
    assert "edited by hand" not in readme.read_text() and took_fast_path(tmp_path, monkeypatch)


def test_a_deleted_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = compiled(tmp_path)
    (tree / "kyverno/kustomization.yaml").unlink()
    assert not took_fast_path(tmp_path, monkeypatch)
    done = gpc("compile", "shop.yaml", "--check", cwd=tmp_path)
    assert done.returncode == 1 and "1 to create, 0 to update, 0 to delete" in done.stderr


def test_a_deleted_ci_owned_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = compiled(tmp_path)
    manifest = json.loads((tree / writer.MANIFEST).read_text())
    (tree / manifest["ci"][0]).unlink()
    assert not took_fast_path(tmp_path, monkeypatch)
    done = gpc("compile", "shop.yaml", "--check", cwd=tmp_path)
    assert done.returncode == 1 and "1 to create, 0 to update, 0 to delete" in done.stderr


def test_an_extra_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    tree = compiled(tmp_path)
    # A file the manifest lists as gpc's that gpc does not generate (a stray), the manifest otherwise
    # exactly as gpc writes it: only the digest of the generated files can tell.
    shutil.copy(tree / "README.md", tree / "argocd/old.yaml")
    body = json.loads((tree / writer.MANIFEST).read_text())
    body["generated"] = sorted([*body["generated"], "argocd/old.yaml"])
    (tree / writer.MANIFEST).write_text(json.dumps(body, indent=1) + "\n")
    assert not took_fast_path(tmp_path, monkeypatch)
    done = gpc("compile", "shop.yaml", "--check", cwd=tmp_path)
    assert done.returncode == 1 and "0 to create, 1 to update, 1 to delete" in done.stderr
    assert "+++ /dev/null" in done.stdout
    # A file the manifest does not list is not gpc's: kept and not reported, rendering or not.
    assert gpc("compile", "shop.yaml", cwd=tmp_path).returncode == 0
    (tree / "argocd/notes.txt").write_text("mine\n")
    assert took_fast_path(tmp_path, monkeypatch)
    with monkeypatch.context() as m:
        m.setattr(writer, "up_to_date", lambda tree, inputs: None)
        assert run(tmp_path, m, capsys, "compile", "shop.yaml", "--check") == (0, "", "ok: out/shop is up to date\n")


def test_a_changed_spec_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    compiled(tmp_path)
    spec = tmp_path / "shop.yaml"
    spec.write_text(spec.read_text().replace("port: 8080", "port: 8081"))
    assert not took_fast_path(tmp_path, monkeypatch)
    done = gpc("compile", "shop.yaml", "--check", cwd=tmp_path)
    assert done.returncode == 1 and "8081" in done.stdout
    assert gpc("compile", "shop.yaml", cwd=tmp_path).returncode == 0
    # A change that changes no generated file (a comment) is no drift, as before; the compile
    # records the new inputs, and the check after it is fast again.
    spec.write_text("# the shop\n" + spec.read_text())
    assert not took_fast_path(tmp_path, monkeypatch)
    assert gpc("compile", "shop.yaml", "--check", cwd=tmp_path).returncode == 0
    done = gpc("compile", "shop.yaml", cwd=tmp_path)
    assert done.returncode == 0 and ": 0 created, 1 updated, 0 deleted" in done.stderr  # the manifest
    assert took_fast_path(tmp_path, monkeypatch)


TEAM = "workloads:\n  {name}:\n    type: service\n    repo: acme/{name}\n    port: 80\n"


def test_a_changed_team_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "teams").mkdir()
    team = tmp_path / "teams/pay.yaml"
    team.write_text(TEAM.format(name="billing"))
    compiled(tmp_path, "include: [teams/*.yaml]\n")
    assert took_fast_path(tmp_path, monkeypatch)
    team.write_text(team.read_text().replace("port: 80", "port: 81"))
    assert not took_fast_path(tmp_path, monkeypatch)
    done = gpc("compile", "shop.yaml", "--check", cwd=tmp_path)
    assert done.returncode == 1 and "81" in done.stdout
    assert gpc("compile", "shop.yaml", cwd=tmp_path).returncode == 0
    assert took_fast_path(tmp_path, monkeypatch)
    (tmp_path / "teams/ops.yaml").write_text(TEAM.format(name="pager"))  # the include matches it
    assert not took_fast_path(tmp_path, monkeypatch)
    done = gpc("compile", "shop.yaml", "--check", cwd=tmp_path)
    assert done.returncode == 1 and "pager" in done.stdout


def copy_of_gpc(dest: Path) -> Path:
    for package in ("compiler", "targets"):
        shutil.copytree(ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def identity(src: Path) -> str:
    done = subprocess.run([sys.executable, "-c", "from compiler.inputs import gpc_identity; print(gpc_identity())"],
                          capture_output=True, text=True, check=True, cwd=src,
                          env={**os.environ, "PYTHONPATH": str(src)})
    return done.stdout.strip()


def test_a_changed_gpc_is_found(tmp_path: Path) -> None:
    compiled(tmp_path / "work")
    src = copy_of_gpc(tmp_path / "src")
    assert identity(src) == identity(ROOT)  # a copy of the same source is the same gpc
    # A renderer that changed: the check renders with it and shows what it changes.
    readme = src / "compiler/readme.py"
    text = readme.read_text()
    assert text.count("## Workloads") == 1
    readme.write_text(text.replace("## Workloads", "## The workloads"))
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    done = subprocess.run([sys.executable, "-m", "compiler.cli", "compile", "shop.yaml", "--check"],
                          cwd=tmp_path / "work", capture_output=True, text=True, env={**env, "PYTHONPATH": str(src)})
    assert done.returncode == 1 and "+## The workloads" in done.stdout, done.stderr
    # Any byte of any file gpc ships is part of its identity, a template's too.
    before = identity(src)
    template = sorted((src / "targets").rglob("*.j2"))[0]
    template.write_text(template.read_text() + "\n")
    assert identity(src) != before


def test_a_changed_option_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = compiled(tmp_path)
    spec = tmp_path / "shop.yaml"
    spec.write_text(spec.read_text().replace("  dev: {}\n", "  dev: {}\n  qa: {}\n"))  # every target changes
    done = gpc("compile", "shop.yaml", "-t", "kustomize", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # The tree now holds Kustomize for the new spec and the rest for the old one: no compile's output.
    assert json.loads((tree / writer.MANIFEST).read_text())["inputs_sha256"] is None
    assert not took_fast_path(tmp_path, monkeypatch)
    done = gpc("compile", "shop.yaml", "--check", cwd=tmp_path)
    assert done.returncode == 1 and "out/shop/terraform/" in done.stdout
    assert gpc("compile", "shop.yaml", cwd=tmp_path).returncode == 0
    assert took_fast_path(tmp_path, monkeypatch)
