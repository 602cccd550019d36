"""Requests below limits and CPU without a limit (issue 14 item 6): what each target makes of them.

The default stays requests = limits (Guaranteed QoS): specs that do not use the new fields compile
byte-identically, which `make goldens`' drift check over out/ proves; here the new behaviour."""

from __future__ import annotations

from typing import Any

import yaml
from conftest import ROOT, compiled_tree, load_ir, whole_overlays

SCALING = ROOT / "tests" / "cases" / "valid" / "scaling" / "platform.yaml"
FRAUD = ROOT / "specs" / "fraud.yaml"


def _container(tree: dict[str, str], path: str) -> dict[str, Any]:
    doc = yaml.safe_load(tree[path])
    return doc["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def _patch_resources(tree: dict[str, str], workload: str, env: str) -> dict[str, Any]:
    ops = yaml.safe_load(whole_overlays(tree)[f"kustomize/{workload}/overlays/{env}/deployment-patch.yaml"])
    return next(op["value"] for op in ops if op["path"].endswith("/resources"))  # type: ignore[no-any-return]


def test_requests_below_limits_and_no_cpu_limit_reach_the_manifests() -> None:
    tree = compiled_tree(load_ir(SCALING))
    web = _container(tree, "kustomize/web/base/deployment.yaml")["resources"]
    assert web == {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"cpu": "500m", "memory": "1Gi"}}
    api = _container(tree, "kustomize/api/base/deployment.yaml")["resources"]
    assert api == {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}}
    # prod overrides only the CPU request of api: still no limit, the other values inherited
    assert _patch_resources(tree, "api", "prod") == {"requests": {"cpu": "250m", "memory": "512Mi"},
                                                     "limits": {"memory": "512Mi"}}
    # prod raises web's CPU limit and lowers its memory request; its CPU request stays
    assert _patch_resources(tree, "web", "prod") == {"requests": {"cpu": "100m", "memory": "256Mi"},
                                                     "limits": {"cpu": "1", "memory": "1Gi"}}


def test_default_stays_requests_equal_limits() -> None:
    tree = compiled_tree(load_ir(FRAUD))
    for path, text in tree.items():
        if path.endswith("/base/deployment.yaml"):
            res = yaml.safe_load(text)["spec"]["template"]["spec"]["containers"][0]["resources"]
            assert res["requests"] == res["limits"], path


def test_namespace_guardrails_leave_an_unlimited_cpu_alone() -> None:
    """A quota on limits.cpu would refuse a pod without a CPU limit, and a LimitRange CPU default or
    maximum would impose one: neither is written where such a workload runs."""
    tree = compiled_tree(load_ir(SCALING))
    locals_tf = tree["terraform/dev/cluster/locals.tf"]
    quotas = locals_tf[locals_tf.index("quotas = {"):locals_tf.index("limit_ranges = {")]
    assert '"requests.cpu"    = "8"' in quotas and "limits.cpu" not in quotas and '"limits.memory"' in quotas
    ranges = locals_tf[locals_tf.index("limit_ranges = {"):]
    ranges = ranges[:ranges.index("\n  }\n")]
    default = ranges[ranges.index('"default" = {'):ranges.index('"default_request"')]
    assert '"cpu"' not in default and '"memory"' in default
    maximum = ranges[ranges.index('"max" = {'):]
    assert '"cpu"' not in maximum and '"memory" = "2Gi"' in maximum
    # ... and the cluster policy requires a memory limit but no CPU limit (it still caps requests)
    policy = tree["kyverno/require-requests-and-limits.yaml"]
    assert "resources.limits.memory" in policy and "resources.limits.cpu" not in policy
    fraud_policy = compiled_tree(load_ir(FRAUD))["kyverno/require-requests-and-limits.yaml"]
    assert "resources.limits.cpu" in fraud_policy


def test_explain_shows_requests_and_the_missing_limit() -> None:
    from compiler.explain import explain, to_text

    platform = load_ir(SCALING)
    assert platform.source is not None
    text = to_text(explain(platform, platform.source, "api", "prod"))
    assert "requests.cpu" in text and "250m" in text and "cpu_limit" in text
