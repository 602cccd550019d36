"""Autoscaling as emitted, over the compiled tree of every spec (issue 14 item 5).

- One owner of the pod count: every overlay of a scaled Deployment, built with `kubectl kustomize`,
  either has its autoscaler and no `spec.replicas`, or (awaiting its first image) no autoscaler
  and `replicas: 0`; after CI's first delivery (the image Component rewritten as CI writes it) the
  autoscaler is back and `spec.replicas` gone.
- Every KEDA trigger authenticates with the workload's own credentials Secret, whose broker user
  (Terraform's, read back from the compiled HCL) reads exactly the queues the workload consumes,
  the scaled-on queue among them, and configures nothing; never the admin's Secret.
- `max_replicas` times one pod's quota-counted resources fits the namespace quota.
- Every HorizontalPodAutoscaler passes kubernetes-validate --strict; every PodDisruptionBudget of a
  scaled workload allows an eviction at `min_replicas` (maxUnavailable), so it never blocks a drain.
"""

from __future__ import annotations

import re
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml
from conftest import compiled_tree, require_tool, whole_overlays
from test_terraform_support import locals_of, parse

from compiler import names
from compiler.quantity import parse_quantity


def _write(tree: dict[str, str], root: Path) -> None:
    for rel, text in tree.items():
        if rel.startswith("kustomize/"):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def _build(kubectl: str, folder: Path) -> list[dict[str, Any]]:
    done = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def _deliver(component: Path, image: str) -> None:
    """What CI's deliver step writes: the whole Component, an `images:` entry only."""
    component.write_text(yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
                                         "images": [{"name": image, "newTag": "0123abc"}]}), encoding="utf-8")


AUTOSCALERS = {"HorizontalPodAutoscaler", "ScaledObject"}


def test_a_scaled_deployment_has_one_owner_of_its_pod_count(platform: Any, tmp_path: Path) -> None:
    scaled = [w for w in platform.workloads if w.scaled]
    if not scaled:
        return
    kubectl = require_tool("kubectl")
    _write(compiled_tree(platform), tmp_path)
    for w in scaled:
        for env in platform.environments_of(w):
            overlay = tmp_path / names.overlay_dir(w.name, env.name)
            states = [("as compiled", _build(kubectl, overlay))]
            if w.awaits_delivery:
                _deliver(tmp_path / names.image_component_dir(w.name, env.name) / "kustomization.yaml", w.image)
                states.append(("after the first delivery", _build(kubectl, overlay)))
            for state, docs in states:
                deployment = next(d for d in docs if d["kind"] == "Deployment")
                scalers = [d for d in docs if d["kind"] in AUTOSCALERS]
                where = f"{w.name} in {env.name} {state}"
                if w.awaits_delivery and state == "as compiled":
                    assert scalers == [] and deployment["spec"]["replicas"] == 0, where
                else:
                    assert "replicas" not in deployment["spec"], where
                    assert len(scalers) == 1, where
                    assert scalers[0]["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                                                   "name": w.name}, where
                    _assert_bounds(scalers[0], w.placement(env.name).autoscale, where)
                for pdb in (d for d in docs if d["kind"] == "PodDisruptionBudget"):
                    assert pdb["spec"] == {"maxUnavailable": 1, "selector": deployment["spec"]["selector"]}, where


def _assert_bounds(scaler: dict[str, Any], scaling: Any, where: str) -> None:
    spec = scaler["spec"]
    if scaler["kind"] == "ScaledObject":
        assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (scaling.min_replicas, scaling.max_replicas), where
    else:
        assert (spec["minReplicas"], spec["maxReplicas"]) == (scaling.min_replicas, scaling.max_replicas), where
        assert spec["minReplicas"] >= 1, where  # an HPA cannot wake a Deployment from zero


def test_no_overlay_patches_the_replicas_of_a_scaled_workload(platform: Any) -> None:
    tree = compiled_tree(platform)
    for w in platform.workloads:
        if not w.scaled:
            continue
        assert "replicas" not in yaml.safe_load(tree[f"kustomize/{w.name}/base/deployment.yaml"])["spec"]
        for env in platform.environments:
            assert f"{names.overlay_dir(w.name, env.name)}/replicas-patch.yaml" not in tree


def _broker_users(tree: dict[str, str], env: str) -> dict[str, dict[str, str]]:
    users: dict[str, dict[str, str]] = locals_of(parse(tree[f"terraform/{env}/services/locals.tf"]))["broker_users"]
    return users


def test_every_keda_trigger_reads_its_queue_with_the_workloads_own_user(platform: Any) -> None:
    tree = whole_overlays(compiled_tree(platform))
    checked = 0
    for w in platform.workloads:
        for env in platform.environments_of(w):
            here = names.overlay_dir(w.name, env.name)
            if f"{here}/scaledobject.yaml" not in tree:
                continue
            checked += 1
            scaled = yaml.safe_load(tree[f"{here}/scaledobject.yaml"])
            auth = yaml.safe_load(tree[f"{here}/triggerauthentication.yaml"])
            (trigger,) = scaled["spec"]["triggers"]
            assert trigger["type"] == "rabbitmq" and trigger["authenticationRef"] == {"name": auth["metadata"]["name"]}
            assert "host" not in trigger["metadata"]  # credentials only through the Secret, never inline
            assert auth["spec"] == {"secretTargetRef": [{"parameter": "host", "name": names.credentials_secret(w.name),
                                                         "key": names.AMQP_URL_KEY}]}
            assert names.credentials_secret(w.name) != names.BROKER_ADMIN_SECRET
            user = _broker_users(tree, env.name)[w.name]
            assert user["user"] == names.broker_user(w.name) != names.BROKER_ADMIN_USER
            consumed = {u.target for u in w.queues if u.access == "consume"}
            queue = trigger["metadata"]["queueName"]
            assert queue in consumed, (w.name, queue)
            readable = {q.name for q in platform.queues if re.fullmatch(user["read"], q.name)}
            assert readable == consumed, (w.name, env.name, user["read"])
            assert not re.fullmatch(user["configure"], queue)
    # Every queue-driven autoscaler was found and checked, wherever its file is written.
    assert checked == sum(1 for w in platform.workloads for env in platform.environments_of(w)
                          if (scale := w.placement(env.name).autoscale) is not None and scale.queue is not None)


def test_max_replicas_fit_the_namespace_quota(platform: Any) -> None:
    quotas = {q.group: q for q in platform.guardrails.quotas}
    for w in platform.workloads:
        quota = quotas.get(w.group)
        for p in w.placements:
            if p.autoscale is None or quota is None:
                continue
            res, most = p.effective_resources, p.autoscale.max_replicas
            if quota.cpu is not None:
                assert parse_quantity(res.cpu) * most <= parse_quantity(quota.cpu), (w.name, p.env)
            if quota.memory is not None:
                assert parse_quantity(res.memory) * most <= parse_quantity(quota.memory), (w.name, p.env)
            if quota.gpu is not None:
                assert Fraction(res.gpu * most) <= quota.gpu, (w.name, p.env)
            if quota.pods is not None:
                assert most <= quota.pods, (w.name, p.env)


def test_every_horizontal_pod_autoscaler_passes_strict_validation(platform: Any) -> None:
    import kubernetes_validate

    tree = whole_overlays(compiled_tree(platform))  # one per overlay, wherever it is written
    hpas = [yaml.safe_load(text) for path, text in sorted(tree.items()) if path.endswith("/horizontalpodautoscaler.yaml")]
    assert len(hpas) == sum(1 for w in platform.workloads for p in w.placements
                            if p.autoscale is not None and p.autoscale.queue is None)
    for hpa in hpas:
        kubernetes_validate.validate(hpa, platform.kubernetes_version, strict=True)
    if hpas:  # the check bites
        wrong = yaml.safe_load(yaml.safe_dump(hpas[0]))
        wrong["spec"]["maxReplica"] = wrong["spec"].pop("maxReplicas")
        try:
            kubernetes_validate.validate(wrong, platform.kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError:
            pass
        else:
            raise AssertionError("kubernetes-validate accepted a misspelled maxReplicas")
