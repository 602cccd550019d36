"""gpc's compile-time guardrail check and the cluster's policies agree, over many generated specs.

For each spec: `gpc validate`'s diagnostics (GPC209 too much, GPC211 foreign registry, GPC217
GPU not allowed) plus the kyverno target's own check (GPC340 tag `latest`) on one side; on the
other, the manifests the kustomize target builds for it (built by the real kustomize, even when
gpc refuses the spec: the IR is lowered anyway) and the Pods their controllers would create, run
through the generated policies of the spec's `guardrails.policy_kind` (drawn too). gpc must refuse
exactly when some manifest would be denied, each code matching the rule that denies.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require_tool
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from kyverno_cel.build import POLICY_KIND_CHOICES, deliver, pod_of
from kyverno_cel.engines import every_engine
from kyverno_cel.evaluator import Evaluator, Request

from compiler import guardrails as gr
from compiler.lower import lower
from compiler.model import Platform as SpecModel
from compiler.pipeline import check, spec_name
from targets.kyverno import TARGET
from targets.kyverno import rules as r

GUARDRAIL_CODES = {"GPC209", "GPC211", "GPC217", "GPC340"}
EXAMPLES = int(os.environ.get("GPC_KYVERNO_EXAMPLES", "30"))

REGISTRIES = ["ghcr.io/acme", "registry.example.com:5000/ml"]


def images(registry: str) -> list[str]:
    """Images under the registry, next to it, and under look-alikes of it."""
    host, _, path = registry.partition("/")
    return [f"{registry}/app", f"{registry}-evil/app", f"{host}.evil.example/{path}/app",
            f"{host.partition(':')[0]}/{path}/app", registry, "docker.io/library/nginx",
            *(f"{other}/app" for other in REGISTRIES if other != registry)]
CPUS = ["100m", "250m", "500m", "1", "1500m", "2", "2500m", "4", "4500m", "8"]
MEMORIES = ["128Mi", "256Mi", "512Mi", "1Gi", "1G", "1500Mi", "2Gi", "4Gi", "8Gi", "9Gi", "16Gi"]


def resources() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        "cpu": st.sampled_from(CPUS), "memory": st.sampled_from(MEMORIES), "gpu": st.integers(0, 3)})


def limits() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        "cpu": st.sampled_from(["1", "2", "4", "1500m"]), "memory": st.sampled_from(["1Gi", "1G", "2Gi", "8Gi"]),
        "gpu": st.integers(0, 2)})


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    registry = draw(st.sampled_from(REGISTRIES))
    workloads: dict[str, Any] = {}
    for name, wtype in (("web", "service"), ("train", "job")):
        if name == "train" and workloads and not draw(st.booleans()):
            continue
        w: dict[str, Any] = {"type": wtype, "resources": draw(resources()),
                             "image_tag": draw(st.sampled_from(["1.0.0", "1.0.0", "v2", "latest"]))}
        if draw(st.booleans()):
            w["image"] = draw(st.sampled_from(images(registry)))
        if wtype == "job" and draw(st.booleans()):
            w["schedule"] = "0 3 * * *"
        workloads[name] = w
    environments: dict[str, Any] = {"dev": {}}
    if draw(st.booleans()):
        override = {n: {"resources": draw(resources())} for n in workloads if draw(st.booleans())}
        environments["prod"] = {"overrides": {"workloads": override}} if override else {}
    guardrails: dict[str, Any] = {"max": {"service": draw(limits()), "job": draw(limits())},
                                  "policy_kind": draw(st.sampled_from(POLICY_KIND_CHOICES)),
                                  "allowed_registries": draw(st.lists(st.sampled_from(
                                      [registry, registry + "/", *REGISTRIES, "docker.io/library"]),
                                      max_size=2, unique=True))}
    return {"version": 1, "name": "diff", "registry": registry,
            "gitops": {"repo": "https://github.com/acme/gitops.git"},
            "environments": environments, "guardrails": guardrails, "workloads": workloads}


@pytest.fixture(scope="module", autouse=True)
def engines_loaded() -> None:
    """Load both engines before hypothesis runs (celpy raises the recursion limit on import)."""
    every_engine()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs())
def test_compile_time_check_and_policies_agree(spec: dict[str, Any]) -> None:
    kubectl = require_tool("kubectl")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "platform.yaml"
        path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        checked = check(path)
        errors = {d.code for d in checked.diagnostics if d.severity.value == "error"}
        assert errors <= GUARDRAIL_CODES, [f"{d.code} {d.message}" for d in checked.diagnostics]
        # The IR of a refused spec: what gpc would have compiled had it not refused it.
        platform = checked.platform or lower(SpecModel.model_validate(spec), checked.file, spec_name(path))
        errors |= {d.code for d in TARGET.check(platform) if d.severity.value == "error"}
        delivery = deliver(platform, Path(tmp) / "out", kubectl)

    kind = platform.guardrails.policy_kind
    failed: set[str] = set()
    for manifest in delivery.workloads + [pod_of(m) for m in delivery.workloads]:
        verdicts = []
        for engine in every_engine():
            admission = Evaluator(engine).admit(delivery.policies(kind), Request(manifest))
            assert all(x.outcome != "error" for x in admission.results), \
                [(x.rule, x.message) for x in admission.results if x.outcome == "error"]
            verdicts.append((admission.allowed, {delivery.rule_of(kind, x) for x in admission.failed_rules}))
        assert all(v == verdicts[0] for v in verdicts), f"engines disagree: {verdicts}"
        failed |= verdicts[0][1]

    gpu_forbidden = {gr.max_rule_name(m) for m in platform.guardrails.max_rules if m.resource == "gpu" and m.limit == "0"}
    max_rules = {gr.max_rule_name(m) for m in platform.guardrails.max_rules} - gpu_forbidden
    assert failed <= max_rules | gpu_forbidden | {r.ALLOWED_REGISTRIES, r.DISALLOW_LATEST}, \
        "only the guardrails a spec controls can fail; the rest gpc always satisfies"
    assert ("GPC211" in errors) == (r.ALLOWED_REGISTRIES in failed)
    assert ("GPC217" in errors) == bool(failed & gpu_forbidden)
    assert ("GPC209" in errors) == bool(failed & max_rules)
    assert ("GPC340" in errors) == (r.DISALLOW_LATEST in failed)
    assert bool(errors) == bool(failed)
    event("refused: " + (", ".join(sorted(errors)) or "none"))
    event(f"policy kind: {kind}")
