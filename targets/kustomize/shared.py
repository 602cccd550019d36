"""What several environments' overlays of one workload hold alike, written once as a Component.

`overlay.files` renders each environment's overlay as if it stood alone. Every resource file and
every patch (its file and its `patches:` entry) that two or more of a workload's environments
render byte for byte alike moves into one Component per set of environments that share it:

    kustomize/<workload>/components/shared/       what every environment of the workload holds
    kustomize/<workload>/components/<e1>+<e2>/   what only those environments hold (spec order)

and each overlay lists the Components of its environment before the CI-owned image Component.

Why this builds the same objects: a Component's resources and patches join the overlay's before
the overlay's own transformers run, so the overlay's `namespace:`, labels and patches apply to
them as they did when the files sat in the overlay. The one order that matters is the image
Component's: its `images:` entry rewrites only the resources accumulated before it, so the shared
Components come first. The patches that move are alike in the environments that list them and
touch other fields than the ones the image Component or the overlay's own patches set
(tests/test_kustomize_shared.py builds every overlay with and without this step and compares).

Why not the base: previews build every workload's base (targets/kustomize/preview.py) and must not
gain an environment's monitors, routes or autoscalers. Why objects that differ only by the
environment's namespace inside strings (PromQL matchers, DNS names, dashboards' JSON) stay in the
overlays: docs/architecture.md, "Kustomize layout".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compiler import names
from targets.kustomize import meta

SHARED = "shared"
Files = dict[str, dict[str, Any] | list[Any]]


def component_dir(workload: str, envs: tuple[str, ...], every: tuple[str, ...]) -> str:
    """The folder of the Component that the overlays of `envs` include."""
    # `+` cannot occur in an environment name (a DNS label), so no two sets share a folder.
    return f"kustomize/{workload}/components/{SHARED if envs == every else '+'.join(envs)}"


@dataclass
class _Component:
    resources: list[str] = field(default_factory=list)
    patches: list[dict[str, Any]] = field(default_factory=list)
    files: Files = field(default_factory=dict)


def factor(workload: str, overlays: dict[str, Files]) -> tuple[dict[str, Files], dict[str, Files]]:
    """(overlay folder -> files, component folder -> files): `overlays` (environment -> the
    files `overlay.files` rendered, in spec order) with what environments share moved out."""
    every = tuple(overlays)
    items = {env: _items(files) for env, files in overlays.items()}
    owners: dict[tuple[str, ...], _Component] = {}
    moved: dict[str, set[str]] = {env: set() for env in every}
    names_seen = sorted({name for found in items.values() for name in found})
    for name in names_seen:
        groups: list[tuple[Any, list[str]]] = []
        for env in every:
            item = items[env].get(name)
            if item is None:
                continue
            for key, members in groups:
                if key == item:
                    members.append(env)
                    break
            else:
                groups.append((item, [env]))
        for (content, entry), members in groups:
            if len(members) < 2:
                continue
            component = owners.setdefault(tuple(members), _Component())
            component.files[name] = content
            if entry is None:
                component.resources.append(name)
            else:
                component.patches.append(entry)
            for env in members:
                moved[env].add(name)
    folders = {tuple(envs): component_dir(workload, tuple(envs), every) for envs in owners}
    out_overlays = {
        names.overlay_dir(workload, env): _reduce(workload, env, files, moved[env],
                                                  [folders[k] for k in _order(owners, every) if env in k])
        for env, files in overlays.items()
    }
    out_components = {folders[k]: _component_files(owners[k]) for k in _order(owners, every)}
    return out_overlays, out_components


def _items(files: Files) -> dict[str, tuple[Any, dict[str, Any] | None]]:
    """File name -> (content, its `patches:` entry or None for a resource) of what may move."""
    kustomization = files["kustomization.yaml"]
    assert isinstance(kustomization, dict)
    entries = {p["path"]: p for p in kustomization.get("patches", [])}
    out: dict[str, tuple[Any, dict[str, Any] | None]] = {}
    for name, content in files.items():
        if name in entries:
            out[name] = (content, entries[name])
        elif name in kustomization["resources"]:
            out[name] = (content, None)
    return out


def _order(owners: dict[tuple[str, ...], _Component], every: tuple[str, ...]) -> list[tuple[str, ...]]:
    # The widest sets first, then by the environments' order in the spec: a stable listing.
    return sorted(owners, key=lambda k: (-len(k), [every.index(e) for e in k]))


def _reduce(workload: str, env: str, files: Files, moved: set[str], components: list[str]) -> Files:
    here = names.overlay_dir(workload, env)
    out = {name: content for name, content in files.items() if name not in moved}
    old = files["kustomization.yaml"]
    assert isinstance(old, dict)
    kustomization: dict[str, Any] = {}
    for key, value in old.items():
        if key == "resources":
            value = [r for r in value if r not in moved]
        elif key == "components":
            value = [meta.relative(c, here) for c in components] + value
        elif key == "patches":
            value = [p for p in value if p["path"] not in moved]
            if not value:
                continue
        kustomization[key] = value
    out["kustomization.yaml"] = kustomization
    return out


def _component_files(component: _Component) -> Files:
    files: Files = dict(component.files)
    kustomization: dict[str, Any] = {
        "apiVersion": meta.COMPONENT_API, "kind": "Component",
    }
    if component.resources:
        kustomization["resources"] = sorted(component.resources)
    if component.patches:
        kustomization["patches"] = component.patches
    files["kustomization.yaml"] = kustomization
    return files
