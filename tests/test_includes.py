"""A platform split across team files compiles to the same tree as the single file, whatever the
grouping of declarations into files and whatever the order of the files; diagnostics point into
the file where the problem is; a team file is validated in the context of its platform."""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

from compiler import writer
from compiler.cli import main
from compiler.pipeline import compile_spec

sys.path.insert(0, str(ROOT / "bench"))
import specgen

TABLES = (("workloads",), ("messaging", "queues"), ("storage", "buckets"), ("storage", "volumes"))
PLATFORM_WORKFLOW = "github/platform/.github/workflows/gpc.yaml"


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _tree(folder: Path, spec: str) -> dict[str, str]:
    with _cwd(folder):
        compiled = compile_spec(Path(spec), Path("out"))
    assert compiled.plan is not None, [f"{d.file}:{d.pos} {d.code} {d.message}" for d in compiled.diagnostics]
    tree = {path: artifact.text for path, artifact in compiled.plan.files.items()}
    # The manifest's digests record which files were read and the other files' bytes (compared
    # here one by one): the list of what gpc and CI own must agree.
    manifest = json.loads(tree.pop(writer.MANIFEST))
    tree[writer.MANIFEST] = json.dumps({k: manifest[k] for k in ("generated", "ci")})
    return tree


def split(data: dict[str, Any], rng: random.Random, folder: Path) -> None:
    """Write `data` as specs/platform.yaml plus team files holding a random grouping of its
    workloads, queues, buckets and volumes, under random names (so their order is random too)."""
    root = {k: v for k, v in data.items()}
    files = rng.randint(1, 6)
    parts: list[dict[str, Any]] = [{} for _ in range(files)]
    for table in TABLES:
        source = root
        for key in table[:-1]:
            source = source.get(key) or {}
        entries = dict(source.get(table[-1]) or {})
        keep: dict[str, Any] = {}
        for name in rng.sample(sorted(entries), len(entries)):
            if rng.random() < 0.2:
                keep[name] = entries[name]  # some stay in the root spec
                continue
            target = parts[rng.randrange(files)]
            for key in table[:-1]:
                target = target.setdefault(key, {})
            target.setdefault(table[-1], {})[name] = entries[name]
        if table[:-1]:
            root[table[0]] = {**root.get(table[0], {}), table[-1]: keep}
        else:
            root[table[0]] = keep
    names = rng.sample(range(1000), files)
    (folder / "specs" / "teams").mkdir(parents=True)
    for index, part in zip(names, parts, strict=True):
        (folder / "specs" / "teams" / f"part-{index:03}.yaml").write_text(yaml.safe_dump(part), encoding="utf-8")
    root["include"] = rng.choice([["teams/*.yaml"], [f"teams/part-{i:03}.yaml" for i in reversed(names)]])
    (folder / "specs" / "platform.yaml").write_text(yaml.safe_dump(root), encoding="utf-8")


def _without_team_paths(text: str, include: list[str]) -> Any:
    workflow = yaml.safe_load(text)
    for trigger in workflow["on"].values():  # gpc quotes the key `on`
        trigger["paths"] = [p for p in trigger["paths"] if not any(p.endswith(i) for i in include)]
    return workflow


@pytest.mark.parametrize("source", ["fraud", "bench-60"])
def test_any_split_compiles_to_the_same_tree(source: str, tmp_path: Path) -> None:
    if source == "fraud":
        data = yaml.safe_load((ROOT / "specs" / "fraud.yaml").read_text("utf-8"))
    else:
        data = specgen.build(60)
    whole = tmp_path / "whole"
    (whole / "specs").mkdir(parents=True)
    (whole / "specs" / "platform.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    expected = _tree(whole, "specs/platform.yaml")
    for seed in range(6):
        folder = tmp_path / f"split-{seed}"
        split(data, random.Random(seed), folder)
        actual = _tree(folder, "specs/platform.yaml")
        assert set(actual) == set(expected), seed
        include = yaml.safe_load((folder / "specs" / "platform.yaml").read_text("utf-8"))["include"]
        different = [p for p in expected if actual[p] != expected[p]]
        # The drift gate also runs when a team file changes: its trigger paths name them, and only those.
        assert different in ([], [PLATFORM_WORKFLOW]), (seed, different)
        if different:
            assert (_without_team_paths(actual[PLATFORM_WORKFLOW], include)
                    == _without_team_paths(expected[PLATFORM_WORKFLOW], []))


def _run(folder: Path, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with _cwd(folder):
        code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_team_file_is_validated_in_its_platform(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = ROOT / "tests" / "cases" / "valid" / "teams"
    code, out = _run(case, "validate", "teams/web.yaml", capsys=capsys)
    assert code == 0, out
    # The same team file with a reference only the whole platform can resolve wrongly.
    (tmp_path / "teams").mkdir()
    (tmp_path / "platform.yaml").write_text((case / "platform.yaml").read_text("utf-8"), encoding="utf-8")
    (tmp_path / "teams" / "data.yaml").write_text((case / "teams" / "data.yaml").read_text("utf-8"), encoding="utf-8")
    web = (case / "teams" / "web.yaml").read_text("utf-8").replace("{service: catalog}", "{service: catalogue}")
    (tmp_path / "teams" / "web.yaml").write_text(web, encoding="utf-8")
    code, out = _run(tmp_path, "validate", "teams/web.yaml", capsys=capsys)
    assert code == 1
    assert "teams/web.yaml:" in out and "GPC203 service 'catalogue'" in out and "did you mean 'catalog'?" in out


def test_github_annotations_name_the_team_file(capsys: pytest.CaptureFixture[str]) -> None:
    case = ROOT / "tests" / "cases" / "invalid" / "team-limits"
    code, out = _run(case, "validate", "--format", "github", "platform.yaml", capsys=capsys)
    assert code == 1
    assert "::error file=teams/web.yaml,line=8,col=22" in out, out
