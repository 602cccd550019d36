"""`gpc compile` as a user runs it: where the tree goes (-o and gitops.path, GPC401), what CI
deployed (GPC402), and drift in every format (--check --format json/github)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT

from compiler import names
from compiler.deployed import deployed_image
from compiler.pipeline import check

GPC = [sys.executable, "-m", "compiler.cli"]
SPEC = """\
version: 1
name: shop
registry: ghcr.io/acme
gitops:
  repo: https://github.com/acme/shop-gitops.git
{path}environments:
  dev: {{}}
  prod: {{cluster: https://prod.k8s.example.com}}
workloads:
  api:
    type: service
    repo: acme/api
    port: 8080
{tag}"""


def gpc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}  # text output, also in CI
    return subprocess.run([*GPC, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONPATH": str(ROOT)})


def write_spec(folder: Path, *, path: str | None = None, tag: str | None = None, name: str = "shop.yaml") -> Path:
    spec = folder / name
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(SPEC.format(path=f"  path: {path}\n" if path else "", tag=f'    image_tag: "{tag}"\n' if tag else ""))
    return spec


def git_repo(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(folder)], check=True, capture_output=True)
    return folder


def bump(tree: Path, workload: str, env: str, tag: str) -> Path:
    """What the workload's CI does after a build: rewrite the CI-owned image file (as
    targets/github/scripts.py writes it)."""
    path = tree / names.image_component_dir(workload, env) / "kustomization.yaml"
    path.write_text("# The image runs in this environment. Owned by CI.\n"
                    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n"
                    f'- name: "ghcr.io/acme/{workload}"\n  newTag: "{tag}"\n')
    return path


# -- -o and gitops.path (issue 13, item 7) ------------------------------------------------------


def test_o_elsewhere_than_gitops_path_in_a_repository_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "platform")
    write_spec(repo)
    done = gpc("compile", "shop.yaml", "-o", "build/gitops", cwd=repo)
    assert done.returncode == 1, done.stderr
    line = next(i for i, text in enumerate((repo / "shop.yaml").read_text().splitlines(), 1) if text == "gitops:")
    assert f"shop.yaml:{line}:1: error GPC401 -o build/gitops writes the tree to 'build/gitops/shop' in the " \
        "repository at '.', but gitops.path (default 'out/shop') tells Argo CD and CI to read it elsewhere" \
        in done.stderr
    assert "hint: set gitops.path: build/gitops/shop, or compile with -o out" in done.stderr
    assert not (repo / "build").exists()


def test_a_set_gitops_path_is_where_the_diagnostic_points(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "platform")
    write_spec(repo, path="deploy/shop")
    done = gpc("compile", "shop.yaml", "-o", "out", "--check", cwd=repo)
    assert done.returncode == 1
    assert re.search(r"shop\.yaml:6:9: error GPC401 -o out writes the tree to 'out/shop' .* gitops\.path "
                     r"'deploy/shop' tells", done.stderr), done.stderr


def test_without_o_the_tree_goes_to_gitops_path_from_anywhere_in_the_repository(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "platform")
    write_spec(repo / "specs", path="build/gitops/shop")
    done = gpc("compile", "shop.yaml", cwd=repo / "specs")
    assert done.returncode == 0, done.stderr
    assert "wrote ../build/gitops/shop:" in done.stderr
    assert (repo / "build/gitops/shop/README.md").is_file()
    assert not (repo / "specs/out").exists()
    # -o that agrees is fine, and the Argo CD applications point where the files are.
    assert gpc("compile", "shop.yaml", "-o", "../build/gitops", "--check", cwd=repo / "specs").returncode == 0
    apps = (repo / "build/gitops/shop/argocd/dev").rglob("*.yaml")
    assert any("path: build/gitops/shop/kustomize/" in p.read_text() for p in apps)


def test_gitops_path_must_end_with_the_spec_stem(tmp_path: Path) -> None:
    write_spec(tmp_path, path="deploy/prod")
    done = gpc("compile", "shop.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert "error GPC401 gitops.path 'deploy/prod' does not end with 'shop', the stem of shop.yaml" in done.stderr
    assert not (tmp_path / "deploy").exists() and not (tmp_path / "out").exists()
    repo = git_repo(tmp_path / "repo")
    write_spec(repo, path="deploy/prod")
    done = gpc("compile", "shop.yaml", "-o", "deploy", cwd=repo)
    assert done.returncode == 1 and "GPC401 gitops.path 'deploy/prod' does not end with 'shop'" in done.stderr
    # Outside any repository -o is a scratch folder: nothing to disagree with.
    assert gpc("compile", "shop.yaml", "-o", str(tmp_path / "scratch"), cwd=tmp_path).returncode == 0


def test_outside_any_repository_o_is_a_scratch_folder(tmp_path: Path) -> None:
    write_spec(tmp_path / "spec")
    done = gpc("compile", str(tmp_path / "spec/shop.yaml"), "-o", str(tmp_path / "anywhere"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "anywhere/shop/README.md").is_file()


# -- what CI deployed (issue 13, item 4) ----------------------------------------------------------


def test_compile_warns_when_image_tag_is_not_the_deployed_tag(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, tag="1.0.0")
    assert gpc("compile", "shop.yaml", cwd=tmp_path).returncode == 0
    tree = tmp_path / "out/shop"
    assert gpc("compile", "shop.yaml", "--check", cwd=tmp_path).stderr == "ok: out/shop is up to date\n"
    bump(tree, "api", "prod", "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432")
    spec.write_text(spec.read_text().replace('"1.0.0"', '"1.1.0"'))  # the silent no-op the user tries
    done = gpc("compile", "shop.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    line = spec.read_text().splitlines().index('    image_tag: "1.1.0"') + 1
    assert f"shop.yaml:{line}:16: warning GPC402 image_tag '1.1.0' is not what is deployed: the image files " \
        "CI owns hold '1.0.0' in dev, '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432' in prod, so this value changes " \
        "nothing" in done.stderr
    assert "change it in out/shop/kustomize/api/overlays/<env>/image/kustomization.yaml (or let acme/api's CI " \
        "bump it)" in done.stderr
    github = gpc("compile", "shop.yaml", "--check", "--format", "github", cwd=tmp_path)
    assert f"::warning file=shop.yaml,line={line},col=16,title=GPC402::image_tag '1.1.0'" in github.stdout
    # Without image_tag in the spec, CI's tags are simply what runs: nothing to warn about.
    spec.write_text(spec.read_text().replace('    image_tag: "1.1.0"\n', ""))
    done = gpc("compile", "shop.yaml", "--check", cwd=tmp_path)
    assert "GPC402" not in done.stderr


def test_explain_shows_the_deployed_tag_and_who_owns_it(tmp_path: Path) -> None:
    write_spec(tmp_path, tag="1.0.0")
    assert gpc("compile", "shop.yaml", "-o", "gitops", cwd=tmp_path).returncode == 0
    before = json.loads(gpc("explain", "shop.yaml", "api", "--env", "prod", "-o", "gitops", "--format", "json",
                            cwd=tmp_path).stdout)
    row = next(r for r in before["rows"] if r["field"] == "image_tag")
    assert (row["value"], row["layer"]) == ("1.0.0", "CI")
    assert row["where"] == "gitops/shop/kustomize/api/overlays/prod/image/kustomization.yaml:8:11"
    assert "owned by acme/api's CI" in row["note"] and "only seeded it" in row["note"]
    bump(tmp_path / "gitops/shop", "api", "prod", "sha-after-ci")
    text = gpc("explain", "shop.yaml", "api", "--env", "prod", "-o", "gitops", cwd=tmp_path).stdout
    line = next(t for t in text.splitlines() if t.strip().startswith("image_tag"))
    assert line.split()[1:3] == ["sha-after-ci", "CI"]
    assert "gitops/shop/kustomize/api/overlays/prod/image/kustomization.yaml:6:11" in line
    assert "the spec's image_tag '1.0.0' (shop.yaml:14:16) changes nothing" in line
    # No tree yet: the spec's value, and where CI will take over.
    fresh = gpc("explain", "shop.yaml", "api", "-o", "nowhere", cwd=tmp_path).stdout
    assert re.search(r"image_tag +1\.0\.0 +workload +shop\.yaml:14:16", fresh), fresh


def test_deployed_image_reads_only_kustomize_image_entries(tmp_path: Path) -> None:
    platform = check(write_spec(tmp_path, tag="1.0.0")).platform
    assert platform is not None
    api = platform.workload("api")
    path = tmp_path / names.image_component_dir("api", "dev") / "kustomization.yaml"
    assert deployed_image(tmp_path, api, "dev") is None
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump({"kind": "Component", "labels": [{"pairs": {"a": "b"}}], "images": [
        {"name": "busybox", "newTag": "1"},
        {"name": "ghcr.io/acme/api", "newName": "ghcr.io/acme/api-fast", "digest": "sha256:" + "a" * 64}]}))
    got = deployed_image(tmp_path, api, "dev")
    assert got is not None and got.problem is None and got.ref == "@sha256:" + "a" * 64
    path.write_text("images: [{name: ghcr.io/other/x, newTag: '2'}, {name: y, newTag: '3'}]\n")
    assert "no `images:` entry" in str(deployed_image(tmp_path, api, "dev").problem)  # type: ignore[union-attr]
    path.write_text("images: [unclosed\n")
    assert "not YAML" in str(deployed_image(tmp_path, api, "dev").problem)  # type: ignore[union-attr]


# -- drift in every format (issue 13, item 5) ------------------------------------------------------


def stale_tree(tmp_path: Path) -> Path:
    """A compiled tree with one file edited by hand, one missing and one gpc no longer generates."""
    write_spec(tmp_path)
    assert gpc("compile", "shop.yaml", cwd=tmp_path).returncode == 0
    tree = tmp_path / "out/shop"
    readme = tree / "README.md"
    lines = readme.read_text().splitlines(keepends=True)
    lines[3] = "edited by hand\n"
    readme.write_text("".join(lines))
    (tree / "kyverno/kustomization.yaml").unlink()
    shutil.copy(tree / "README.md", tree / "argocd/old.yaml")
    manifest = json.loads((tree / ".gpc-manifest.json").read_text())
    manifest["generated"].append("argocd/old.yaml")
    (tree / ".gpc-manifest.json").write_text(json.dumps(manifest))
    return tree


def test_check_format_json_prints_only_json_with_the_drift(tmp_path: Path) -> None:
    stale_tree(tmp_path)
    done = gpc("compile", "shop.yaml", "--check", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1
    doc = json.loads(done.stdout)  # the whole of stdout is one JSON document
    assert (doc["diagnostics"], doc["tree"], doc["check"], doc["stale"]) == ([], "out/shop", True, True)
    changes = {c["file"]: c for c in doc["changes"]}
    assert {f: c["change"] for f, c in changes.items()} == {
        "out/shop/.gpc-manifest.json": "update", "out/shop/README.md": "update",
        "out/shop/argocd/old.yaml": "delete", "out/shop/kyverno/kustomization.yaml": "create"}
    assert "-edited by hand\n" in changes["out/shop/README.md"]["diff"]
    assert changes["out/shop/kyverno/kustomization.yaml"]["diff"].startswith("--- /dev/null\n+++ b/out/shop/")
    assert "is stale" in done.stderr
    fixed = gpc("compile", "shop.yaml", "--format", "json", cwd=tmp_path)
    assert fixed.returncode == 0 and json.loads(fixed.stdout)["check"] is False
    clean = gpc("compile", "shop.yaml", "--check", "--format", "json", cwd=tmp_path)
    assert clean.returncode == 0 and json.loads(clean.stdout)["stale"] is False
    assert json.loads(clean.stdout)["changes"] == []


def test_check_format_json_of_a_broken_spec_is_json_too(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    spec.write_text(spec.read_text().replace("port: 8080", "port: eighty"))
    done = gpc("compile", "shop.yaml", "--check", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["tree"] is None and [d["code"] for d in doc["diagnostics"]] == ["GPC103"]


def test_check_format_github_annotates_each_stale_file(tmp_path: Path) -> None:
    stale_tree(tmp_path)
    done = gpc("compile", "shop.yaml", "--check", "--format", "github", cwd=tmp_path)
    assert done.returncode == 1
    notes = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert notes == [
        "::error file=out/shop/.gpc-manifest.json,line=1,title=gpc compile --check::is stale: it is not what "
        "shop.yaml compiles to. Run `gpc compile shop.yaml` and commit the result",
        "::error file=out/shop/README.md,line=4,title=gpc compile --check::is stale: it is not what shop.yaml "
        "compiles to. Run `gpc compile shop.yaml` and commit the result",
        "::error file=out/shop/argocd/old.yaml,line=1,title=gpc compile --check::should not exist any more: it "
        "is not what shop.yaml compiles to. Run `gpc compile shop.yaml` and commit the result",
        "::error file=out/shop/kyverno/kustomization.yaml,title=gpc compile --check::is missing: it is not what "
        "shop.yaml compiles to. Run `gpc compile shop.yaml` and commit the result",
    ]
    assert "-edited by hand" in done.stdout  # the diff follows, for the log
