"""`gpc preview SPEC OWNER/REPO#NUMBER`: what the preview of one pull request would contain.

Everything comes from the IR (compiler/ir_preview.py) and, for the other workloads' images, from
the `from` environment's CI-owned image components in the compiled tree, the files Argo CD builds
the preview with.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from compiler import names
from compiler.ir import Platform
from compiler.ir_preview import PREVIEW_SECRET, Preview, PreviewSource, image_tag, preview_dir
from compiler.lower_preview import migrating, needs

_PULL = re.compile(r"^(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#(?P<number>[1-9][0-9]{0,9})$")


class PreviewRequestError(ValueError):
    """The pull request named is not one previews exist for (a usage error of the command)."""


def parse_pull(text: str, preview: Preview) -> tuple[PreviewSource, int]:
    match = _PULL.match(text)
    if match is None:
        raise PreviewRequestError(f"'{text}' is not OWNER/REPO#NUMBER, e.g. {preview.sources[0].full_name}#42")
    known = {s.full_name.lower(): s for s in preview.sources}
    source = known.get(match["repo"].lower())
    if source is None:
        raise PreviewRequestError(f"no workload is built from '{match['repo']}' (previews exist for: "
                                  f"{', '.join(s.full_name for s in preview.sources)})")
    return source, int(match["number"])


def _deployed_tag(platform: Platform, tree: Path | None, workload: str, env: str) -> tuple[str, str]:
    """(tag, where it comes from) of `workload` in `env`: the CI-owned component when the tree has it."""
    if tree is not None:
        path = tree / names.image_component_dir(workload, env) / "kustomization.yaml"
        if path.is_file():
            import yaml

            images = (yaml.safe_load(path.read_text("utf-8")) or {}).get("images") or []
            if images and images[0].get("newTag"):
                return str(images[0]["newTag"]), f"{env}'s image component (CI-owned)"
    return platform.workload(workload).initial_tag, f"{env}'s first tag (no compiled tree read)"


def describe(platform: Platform, source: PreviewSource, number: int, sha: str, tree: Path | None) -> dict[str, Any]:
    preview = platform.previews
    assert preview is not None
    namespace = source.namespace(number)
    workloads = []
    for w in platform.workloads:
        pw = preview.workload(w.name)
        if w.name in source.workloads:
            image, origin = (f"{w.image}:{image_tag(number, sha)}",
                             f"this pull request (CI pushes and signs it, {names.PREVIEW_WORKFLOW})")
        else:
            tag, origin = _deployed_tag(platform, tree, w.name, preview.from_env)
            image = f"{w.image}:{tag}"
        workloads.append({
            "name": w.name, "kind": w.kind, "image": image, "image_from": origin,
            "replicas": 1 if w.kind == "Deployment" else None,
            "variables": {v.name: (v.value if v.value is not None else
                                   f"secret {v.secret.name}/{v.secret.key}" if v.secret else
                                   f"configmap {v.config_map.name}/{v.config_map.key}" if v.config_map else "")
                          for v in pw.env_vars},
        })
    cpu, memory, pods = needs(preview, migrating(platform))
    return {
        "pull_request": f"https://github.com/{source.full_name}/pull/{number}",
        "copies": preview.from_env,
        "cluster": preview.cluster,
        "application": namespace,
        "namespace": namespace,
        "built_from": preview_dir(source.slug),
        "hostnames": preview.hosts(namespace),
        "workloads": workloads,
        "infrastructure": {"broker": f"{names.BROKER_SERVICE}:{names.BROKER_PORT}" if preview.broker else None,
                           "object_store": f"{names.OBJECT_STORE_SERVICE}:{names.OBJECT_STORE_PORT}"
                           if preview.object_store else None,
                           "databases": [f"{names.database_cluster(db)}-rw:{names.DATABASE_PORT} (CloudNativePG "
                                         f"Cluster {names.database_cluster(db)}, run by {preview.from_env}'s "
                                         "operator; each role's Secret generated in the preview)"
                                         for db in preview.databases],
                           "credentials": f"Secret {PREVIEW_SECRET}, generated in the preview",
                           "pull_secret": (f"Secret {platform.pull_secret}, copied by Kyverno from namespace "
                                           f"{names.KYVERNO_NAMESPACE}" if platform.pull_secret else None)},
        "policies": "the platform's Kyverno policies (kyverno/README.md): the guardrails, and images signed by "
                    "their delivery workflow or, for this pull request's, by its preview workflow",
        "quota": {"cpu": preview.quota_cpu, "memory": preview.quota_memory, "pods": preview.quota_pods},
        "needs": {"cpu": f"{float(cpu):g}", "memory_mib": int(memory / (1024 * 1024)), "pods": pods},
        "starts_when": f"labels '{preview.label}' and '{preview.ready_label}' (CI adds the second after the push)",
        "ends": f"when the pull request closes, a label is removed, after {preview.ttl_seconds // 3600}h, or "
                f"beyond {preview.max} previews (oldest first)",
    }


def to_text(d: dict[str, Any]) -> str:
    lines = [f"preview of {d['pull_request']}: a copy of {d['copies']} in namespace {d['namespace']} "
             f"(Argo CD Application {d['application']}, built from {d['built_from']})"]
    for w, host in sorted(d["hostnames"].items()):
        lines.append(f"  https://{host} -> {w}")
    lines.append("workloads:")
    for w in d["workloads"]:
        replicas = f", {w['replicas']} replica" if w["replicas"] else ""
        lines.append(f"  {w['name']} ({w['kind']}{replicas}): {w['image']}  [{w['image_from']}]")
        for name, value in sorted(w["variables"].items()):
            lines.append(f"    {name}={value}")
    infra = d["infrastructure"]
    lines.append(f"own broker: {infra['broker'] or '-'}; own object store: {infra['object_store'] or '-'}; "
                 f"credentials: {infra['credentials']}")
    for db in infra["databases"]:
        lines.append(f"own database: {db}")
    if infra["pull_secret"]:
        lines.append(f"registry login: {infra['pull_secret']}")
    lines.append(f"admitted by: {d['policies']}")
    q, n = d["quota"], d["needs"]
    lines.append(f"quota: cpu {q['cpu']}, memory {q['memory']}, pods {q['pods']} "
                 f"(it runs cpu {n['cpu']}, memory {n['memory_mib']}Mi, {n['pods']} pods)")
    lines.append(f"starts: {d['starts_when']}")
    lines.append(f"ends: {d['ends']}")
    return "\n".join(lines) + "\n"


def to_json(d: dict[str, Any]) -> str:
    return json.dumps(d, indent=2, sort_keys=True) + "\n"
