"""What CI deployed: each workload's image in each environment, read from the compiled tree.

gpc writes the image Component of an overlay once (compiler/names.py image_component_dir) and
never again; the workload's CI rewrites it on every delivery. So the tag in the tree, not the
spec's `image_tag`, is what runs. Only kustomize's `images:` entries (name, newName, newTag,
digest) are read: whatever else CI or gpc puts in that file is not gpc's business here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from compiler import names
from compiler.diagnostics import Diagnostic
from compiler.ir import Platform, Workload

CODE = "GPC402"
# libyaml's composer where PyYAML has it (nodes keep their marks): the pure-Python one took ~1 s
# of every `--check` and no-op compile at N=1000 (3,000 files; bench/README.md).
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class DeployedImage:
    env: str
    file: str  # the CI-owned file, relative to the current directory
    tag: str | None = None
    digest: str | None = None
    line: int = 1  # of the entry's newTag (or digest, or the entry)
    col: int = 1
    problem: str | None = None  # why the file could not be read

    @property
    def ref(self) -> str:
        """`1.2.0`, `1.2.0@sha256:...` or `@sha256:...`: how kustomize will pin the image."""
        return (self.tag or "") + (f"@{self.digest}" if self.digest else "")

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


def deployed_image(tree: Path, workload: Workload, env: str) -> DeployedImage | None:
    """The image CI set for `workload` in `env`, or None when the tree has no such file yet."""
    path = tree / names.image_component_dir(workload.name, env) / "kustomization.yaml"
    shown = os.path.relpath(path).replace(os.sep, "/")
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        return DeployedImage(env, shown, problem=f"cannot read it ({err.__class__.__name__})")
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as err:
        return DeployedImage(env, shown, problem=f"not YAML ({str(err).splitlines()[0]})")
    entries = [e for e in map(_fields, _images(root)) if e]
    mine = [e for e in entries if _value(e.get("name")) == workload.image] or (entries if len(entries) == 1 else [])
    if not mine:
        return DeployedImage(env, shown, problem=f"no `images:` entry for {workload.image}")
    entry = mine[0]
    at = entry.get("newTag") or entry.get("digest") or next(iter(entry.values()))
    return DeployedImage(env, shown, _value(entry.get("newTag")), _value(entry.get("digest")),
                         at.start_mark.line + 1, at.start_mark.column + 1)


def _images(root: yaml.Node | None) -> list[yaml.Node]:
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "images" and isinstance(value, yaml.SequenceNode):
                return list(value.value)
    return []


def _fields(node: yaml.Node) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _value(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) and node.value != "" else None


def check_deployed_tags(platform: Platform, tree: Path) -> list[Diagnostic]:
    """GPC402 where the spec sets `image_tag` and CI has deployed something else: editing
    image_tag would silently change nothing."""
    problems: list[Diagnostic] = []
    for w in platform.workloads:
        path = (*w.path, "image_tag")
        if not w.image_tag or platform.source is None or path not in platform.source.values:
            continue
        deployed = [d for p in w.placements if (d := deployed_image(tree, w, p.env)) is not None]
        other = [d for d in deployed if d.problem is None and d.ref != w.image_tag]
        if not other:
            continue
        where = other[0].file if len(other) == 1 else \
            os.path.relpath(tree / names.image_component_dir(w.name, "<env>") / "kustomization.yaml")
        by = f"{w.repo}'s CI" if w.repo else "the workload's CI"
        problems.append(Diagnostic(
            CODE, f"image_tag '{w.image_tag}' is not what is deployed: the image files CI owns hold "
            + ", ".join(f"'{d.ref}' in {d.env}" for d in other) + ", so this value changes nothing",
            platform.spec_file, platform.position(path),
            hint=f"to deploy another tag, change it in {where.replace(os.sep, '/')} (or let {by} bump it); "
            "image_tag only seeds environments compiled for the first time, so remove it or set it to the "
            "deployed tag"))
    return problems
