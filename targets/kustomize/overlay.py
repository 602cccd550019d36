"""One overlay per workload and environment: the base, the namespace, this environment's patches
and the CI-owned image component."""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, EnvVar, Platform, Resources, Workload
from compiler.yamlout import dump
from targets.kustomize import edge, meta, migration, monitoring, network, scaling, secrets
from targets.kustomize.base import pdb
from targets.kustomize.graph import Graph
from targets.kustomize.layers import Changes, Layers, Values, changes
from targets.kustomize.pod import env_entry, gpu_scheduling, resources


def files(platform: Platform, graph: Graph, workload: Workload, env: Environment,
          layers: Layers) -> dict[str, dict[str, Any] | list[Any]]:
    """File name -> content of the overlay folder (kustomization.yaml last); `layers` is the
    workload's base and variables (layers.of), computed once for the base and all its overlays."""
    placement = workload.placement(env.name)
    delta = changes(layers, placement)
    kind = workload.kind
    here = names.overlay_dir(workload.name, env.name)
    out: dict[str, dict[str, Any] | list[Any]] = {}
    patches: list[dict[str, Any]] = []
    resources_list = [meta.relative(meta.base_dir(workload.name), here)]
    group, version = ("apps", "v1") if kind == "Deployment" else ("batch", "v1")
    target = {"group": group, "version": version, "kind": kind, "name": workload.name}
    if delta.replicas is not None and not workload.scaled:  # an autoscaler owns a scaled one's count
        # The overlay's own patches run after its components, so this one would undo the image
        # component's `replicas: 0` of a workload that awaits its first image. It applies only to
        # a Deployment without that component's annotation: from the first delivery on, always.
        # Moved into a shared Component (shared.py) it runs before the image component instead,
        # which then sets the zero itself: the same result either way.
        out["replicas-patch.yaml"] = [{"op": "replace", "path": "/spec/replicas", "value": delta.replicas}]
        patches.append({"path": "replicas-patch.yaml",
                        "target": {**target, "annotationSelector": f"!{names.AWAITING_DELIVERY}"}})
    ops = _workload_patch(kind, layers.values, delta)
    if ops:
        name = f"{kind.lower()}-patch.yaml"
        out[name] = ops
        patches.append({"path": name, "target": dict(target)})
    if kind == "Deployment":
        in_base = layers.values.replicas > 1
        wanted = placement.replicas.value > 1
        if wanted and not in_base:
            out["poddisruptionbudget.yaml"] = pdb(platform, workload)
            resources_list.append("poddisruptionbudget.yaml")
        elif in_base and not wanted:
            out["poddisruptionbudget-patch.yaml"] = {
                "$patch": "delete", "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": workload.name},
            }
            patches.append({"path": "poddisruptionbudget-patch.yaml"})
    extra: dict[str, dict[str, Any]] = dict(edge.route_files(platform, workload, env))
    extra.update(scaling.files(platform, workload, placement))
    if workload.store_secrets:
        extra["externalsecret.yaml"] = secrets.external_secret(platform, workload, env)
    fqdn = edge.fqdn_policy(platform, workload, env)
    if fqdn is not None:
        extra["ciliumnetworkpolicy.yaml"] = fqdn
    if migration.command(workload) is not None:
        extra["migrate-job.yaml"] = migration.job(platform, workload, env)
        extra["migrate-networkpolicy.yaml"] = migration.network_policy(platform, workload, env)
    extra.update(monitoring.overlay_files(platform, workload, env))
    out.update(extra)
    resources_list += sorted(extra)
    net = network.overlay_patch(graph, workload, env)
    if net:
        out["networkpolicy-patch.yaml"] = net
        patches.append({"path": "networkpolicy-patch.yaml",
                        "target": {"group": "networking.k8s.io", "version": "v1", "kind": "NetworkPolicy",
                                   "name": workload.name}})
    kustomization: dict[str, Any] = {
        "apiVersion": meta.KUSTOMIZE_API,
        "kind": "Kustomization",
        "namespace": placement.namespace,
        "resources": resources_list,
        "components": [meta.relative(names.image_component_dir(workload.name, env.name), here)],
        "labels": [{
            # Argo CD's application name: the same value its label tracking would write.
            "pairs": {meta.INSTANCE: names.argocd_application(platform.name, env.name, workload.name)},
            "includeTemplates": True,
        }],
    }
    if patches:
        kustomization["patches"] = patches
    out["kustomization.yaml"] = kustomization
    return out


def image_component(workload: Workload) -> dict[str, Any]:
    """The CI-owned Component as gpc seeds it: the spec's existing tag, or the bootstrap marker
    with a patch that keeps the workload down until CI's first delivery rewrites the whole file
    (tag and patch) and so brings it up."""
    component: dict[str, Any] = {
        "apiVersion": meta.COMPONENT_API,
        "kind": "Component",
        "images": [{"name": workload.image, "newTag": workload.initial_tag}],
    }
    if workload.awaits_delivery:
        component["patches"] = [{"patch": dump(patch)}
                                for patch in [_bootstrap_patch(workload), *scaling.bootstrap_deletes(workload)]]
        if migration.command(workload) is not None:
            component["patches"].append({"patch": dump(migration.delete_patch(workload))})
    return component


def awaiting_note(workload: Workload) -> str:
    who = f"the deliver workflow of {workload.repo}" if workload.repo else "the workload's CI"
    state = "scaled to zero" if workload.kind == "Deployment" else "suspended"
    return f"no image delivered yet: {state} until {who} writes the first tag into the image component"


def _bootstrap_patch(workload: Workload) -> dict[str, Any]:
    """A strategic-merge patch: a Deployment at zero replicas, a Job or CronJob suspended."""
    api = "apps/v1" if workload.kind == "Deployment" else "batch/v1"
    spec: dict[str, Any] = {"replicas": 0} if workload.kind == "Deployment" else {"suspend": True}
    return {
        "apiVersion": api,
        "kind": workload.kind,
        "metadata": {"name": workload.name, "annotations": {names.AWAITING_DELIVERY: awaiting_note(workload)}},
        "spec": spec,
    }


def _workload_patch(kind: str, base: Values, delta: Changes) -> list[dict[str, Any]]:
    """JSON6902 operations on the workload object.

    JSON6902 rather than strategic merge: `add` at an index keeps the environment variables in
    the contract's order, removing a GPU's scheduling needs no `null` tricks, and a list of
    operations is not mistaken for a (partial) manifest by scanners such as checkov. Like every
    kustomize patch, a path that matches nothing is not an error (kustomize even creates it), so
    the tests assert the built values.
    """
    ops: list[dict[str, Any]] = []
    if delta.schedule is not None:
        ops.append({"op": "replace", "path": "/spec/schedule", "value": delta.schedule})
    if delta.time_zone is not None:  # `add` sets it whether or not the base has one
        ops.append({"op": "add", "path": "/spec/timeZone", "value": delta.time_zone})
    pod = POD_PATH[kind]
    container = f"{pod}/containers/0"
    if delta.resources is not None:
        ops.append({"op": "replace", "path": f"{container}/resources", "value": resources(delta.resources)})
        ops += _gpu_scheduling_ops(pod, base.resources, delta.resources)
    if delta.env:
        ops += _env_ops(container, base.env, delta.env)
    return ops


POD_PATH = {
    "Deployment": "/spec/template/spec",
    "Job": "/spec/template/spec",
    "CronJob": "/spec/jobTemplate/spec/template/spec",
}


def _env_ops(container: str, base: tuple[EnvVar, ...], added: tuple[EnvVar, ...]) -> list[dict[str, Any]]:
    if not base:
        return [{"op": "add", "path": f"{container}/env", "value": [env_entry(v) for v in added]}]
    # Insert each variable at its place in the final, name-sorted list (the order of the IR).
    final = sorted(base + added, key=lambda v: v.name)
    new = set(added)
    return [
        {"op": "add", "path": f"{container}/env/{i}", "value": env_entry(v)}
        for i, v in enumerate(final) if v in new
    ]


def _gpu_scheduling_ops(pod: str, base: Resources, env: Resources) -> list[dict[str, Any]]:
    if (base.gpu > 0) == (env.gpu > 0):
        return []
    if env.gpu > 0:
        return [{"op": "add", "path": f"{pod}/{key}", "value": value}
                for key, value in gpu_scheduling(env).items()]
    return [{"op": "remove", "path": f"{pod}/{key}"} for key in gpu_scheduling(base)]
