"""A platform split across files: the root spec's `include` names team files (platform fragments),
each holding workloads and the queues, buckets and volumes they own. They are merged into one
Source before the model sees it, so every later stage works on one platform, and every node keeps
the file it came from (`Position.file`): a diagnostic always points at the file, line and column
where the problem is.

Merging is order-free: files are read in sorted order of their paths, every name may be declared
once across all files (GPC240 names both places), and nothing after this depends on the order of
declarations, so any order or grouping of the same declarations compiles to the same tree.
"""

from __future__ import annotations

import glob
import hashlib
import os
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Position
from compiler.source import Path as NodePath
from compiler.source import Source, load_source

# What a fragment may declare: these tables (merged into the root's) and its owning team.
FRAGMENT_TABLES: tuple[tuple[str, ...], ...] = (
    ("workloads",),
    ("messaging", "queues"),
    ("storage", "buckets"),
    ("storage", "volumes"),
    ("storage", "databases"),
)
FRAGMENT_KEYS = ("team", "workloads", "messaging", "storage")
_KINDS = {"workloads": "workload", "queues": "queue", "buckets": "bucket", "volumes": "volume",
          "databases": "database"}


def display_path(path: Path) -> str:
    """A path as diagnostics and generated headers show it: relative, never absolute."""
    rel = os.path.relpath(path)
    return rel.replace(os.sep, "/") if not rel.startswith("..") else path.name


def load_platform(path: Path, file: str) -> tuple[Source, list[Diagnostic]]:
    """The root spec at `path`, with every file its `include` names merged in."""
    raw = path.read_bytes()
    root, problems = load_source(raw, file)
    root.read.append((file, hashlib.sha256(raw).hexdigest()))
    if problems or not isinstance(root.data, dict) or not isinstance(root.data.get("include"), list):
        return root, problems  # no includes (or not a list: the model reports it)
    files: list[tuple[Path, NodePath]] = []
    for index, pattern in enumerate(root.data["include"]):
        if not isinstance(pattern, str):
            continue  # the model reports it
        matches = included_files(path, pattern)
        if not matches:
            problems.append(Diagnostic("GPC011", f"include '{pattern}' matches no file", file,
                                       root.position(("include", index)),
                                       f"patterns are relative to {file}'s folder, e.g. 'teams/*.yaml'"))
        files += [(m, ("include", index)) for m in matches]
    seen: set[Path] = set()
    for fragment_path, _ in sorted(files, key=lambda f: display_path(f[0])):
        if fragment_path in seen or fragment_path == path.resolve():
            continue
        seen.add(fragment_path)
        raw = fragment_path.read_bytes()
        fragment, fragment_problems = load_source(raw, display_path(fragment_path))
        root.read.append((fragment.file, hashlib.sha256(raw).hexdigest()))
        problems += fragment_problems
        if not fragment_problems:
            problems += _merge(root, fragment)
            team = fragment.data.get("team") if isinstance(fragment.data, dict) else None
            root.included.append((fragment.file, team if isinstance(team, str) else None))
    return root, problems


def included_files(root: Path, pattern: str) -> list[Path]:
    """The files a root spec's include pattern names (relative to the root's folder), resolved."""
    base = root.resolve().parent
    found = sorted(glob.glob(str(base / pattern), recursive=True))
    return [Path(f).resolve() for f in found if Path(f).is_file()]


def _merge(root: Source, fragment: Source) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    data = fragment.data
    file = fragment.file
    if not isinstance(data, dict):
        return [Diagnostic("GPC005", "a team file is one mapping of workloads, queues, buckets and volumes",
                           file, Position(1, 1))]
    for key in data:
        if key not in FRAGMENT_KEYS:
            problems.append(Diagnostic(
                "GPC101", f"unknown key '{key}' in a team file", file, fragment.position((key,), key=True),
                f"a file included by {root.file} declares only: {', '.join(FRAGMENT_KEYS)}; "
                "environments, guardrails and teams belong to the root spec"))
    team = data.get("team")
    for table in FRAGMENT_TABLES:
        entries = _lookup(data, table)
        if not isinstance(entries, dict):
            continue  # absent here, or not a mapping: shape checks the merged data
        target = _table(root.data, table)
        if target is None:
            problems.append(Diagnostic("GPC103", f"{'.'.join(table[:-1])}: expected a mapping", root.file,
                                       root.position(table[:-1])))
            continue
        for name, value in entries.items():
            here = fragment.position((*table, name), key=True)
            if name in target:
                first = _where(root, (*table, name))
                problems.append(Diagnostic(
                    "GPC240", f"{_KINDS[table[-1]]} '{name}' is declared twice: here and at {first}", file,
                    here, "every name is declared once across the root spec and the files it includes"))
                continue
            target[name] = value
            _copy_positions(root, fragment, (*table, name))
            if team is not None and isinstance(value, dict) and "team" not in value:
                value["team"] = team  # the file's owner owns what it declares unless an entry says otherwise
                root.values[(*table, name, "team")] = _at(fragment, fragment.position(("team",)))
    return problems


def _lookup(data: dict[str, Any], table: tuple[str, ...]) -> Any:
    node: Any = data
    for key in table:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _table(data: dict[str, Any], table: tuple[str, ...]) -> dict[str, Any] | None:
    """The root's mapping at `table`, created where the root does not declare it."""
    node = data
    for key in table:
        child = node.setdefault(key, {})
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            return None
        node = child
    return node


def _copy_positions(root: Source, fragment: Source, prefix: NodePath) -> None:
    n = len(prefix)
    for mine, theirs in ((root.values, fragment.values), (root.keys, fragment.keys)):
        for node, pos in theirs.items():
            if node[:n] == prefix:
                mine[node] = _at(fragment, pos)
    root.plain.update((node, text) for node, text in fragment.plain.items() if node[:n] == prefix)


def _at(fragment: Source, pos: Position) -> Position:
    return Position(pos.line, pos.col, pos.file or fragment.file)


def _where(source: Source, path: NodePath) -> str:
    pos = source.position(path, key=True)
    return f"{pos.file or source.file}:{pos.line}:{pos.col}"


def is_fragment(data: Any) -> bool:
    """A team file rather than a root spec: no `version`, and only what a team file declares."""
    return isinstance(data, dict) and "version" not in data and bool(data) and set(data) <= set(FRAGMENT_KEYS)


def including_specs(fragment: Path, max_levels: int = 6) -> list[Path]:
    """The root specs that include `fragment`: YAML files in its folder and the folders above it
    (up to the repository's root) whose `include` names it. `gpc validate` of a team file checks
    these, so a team file is always validated in the context of its whole platform."""
    target = fragment.resolve()
    found: list[Path] = []
    folder = target.parent
    for _ in range(max_levels):
        for candidate in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            if candidate.resolve() == target:
                continue
            try:
                source, problems = load_source(candidate.read_bytes(), candidate.name)
            except OSError:
                continue
            patterns = source.data.get("include") if isinstance(source.data, dict) else None
            if problems or not isinstance(patterns, list):
                continue
            if any(isinstance(p, str) and target in included_files(candidate, p) for p in patterns):
                found.append(candidate)
        if (folder / ".git").exists() or folder.parent == folder:
            break
        folder = folder.parent
    return found
