"""How each environment's Terraform installs Kyverno (the pinned chart's values, read back from the
generated HCL with python-hcl2): highly available, its webhooks scoped to the platform's workload
namespaces, and never narrower than where the policies apply.

Terraform itself evaluates the same locals to exactly this data in
test_terraform.py::test_terraform_evaluates_locals_to_exactly_the_platform_data.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import all_spec_files, load_ir, spec_id
from kyverno_cel.build import POLICY_KIND_CHOICES, is_image_policy, render_policies
from kyverno_cel.matching import selector_matches
from test_terraform_support import blocks, call, locals_of, module_files, parse_module

from compiler import names
from targets.terraform import TARGET as TERRAFORM

SYSTEM = ("kube-system", "kyverno", "argocd", "default")


def cluster_module(spec: Path, env: str) -> dict[str, Any]:
    return parse_module(module_files(TERRAFORM.render(load_ir(spec)), env, "cluster"))


def policy_namespaces(doc: dict[str, Any]) -> set[str]:
    """Every namespace a policy names as where it applies."""
    if doc["kind"] == "ClusterPolicy":
        return {ns for rule in doc["spec"]["rules"] for block in rule["match"]["any"]
                for ns in block["resources"].get("namespaces", [])}
    if doc["kind"] == "GeneratingPolicy":
        return set()  # acts on the creation of preview namespaces (cluster-scoped objects)
    selectors = [e for e in doc["spec"].get("matchConstraints", {}).get("namespaceSelector", {}).get(
        "matchExpressions", []) if e["operator"] == "In"]
    if selectors:
        return set(selectors[0]["values"])
    # With previews a match condition names the environments' namespaces (and the previews' prefixes).
    conditions = {c["name"]: c["expression"] for c in doc["spec"].get("matchConditions", [])}
    listed = re.match(r"request\.namespace in (\[[^\]]*\])", conditions.get("in-the-platform-namespaces", ""))
    return set(json.loads(listed[1])) if listed else set()


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_kyverno_runs_highly_available_with_a_disruption_budget(spec: Path) -> None:
    for env in load_ir(spec).environments:
        module = cluster_module(spec, env.name)
        release = blocks(module, "resource", "helm_release")["kyverno"]
        assert release["values"] == ["${yamlencode(var.values)}"]
        assert call(module, "kyverno")["values"] == "${local.kyverno_values}"
        admission = locals_of(module)["kyverno_values"]["admissionController"]
        assert admission["replicas"] >= 3
        budget = admission["podDisruptionBudget"]
        assert budget["enabled"] is True and 1 <= budget["minAvailable"] < admission["replicas"]
        assert budget["unhealthyPodEvictionPolicy"] == "AlwaysAllow", "a crashing replica must not block a drain"


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_the_webhooks_see_the_workload_namespaces_and_all_the_policies_need(spec: Path) -> None:
    platform = load_ir(spec)
    for env in platform.environments:
        values = locals_of(cluster_module(spec, env.name))["kyverno_values"]
        selector = values["config"]["webhooks"]["namespaceSelector"]
        # the chart appends the exclusion of Kyverno's own namespace (config.excludeKyvernoNamespace)
        selector["matchExpressions"].append({"key": names.LABEL_NAMESPACE_NAME, "operator": "NotIn",
                                             "values": ["kyverno"]})
        workload = {ns for group, ns in env.namespaces.items() if group in names.GROUP_OF_TYPE.values()}
        here = set(env.namespaces.values())
        # Terraform labels every namespace it creates as the platform's (kube-system and default
        # are not its).
        terraform = {names.LABEL_PART_OF: platform.name, names.LABEL_MANAGED_BY: "terraform"}
        for ns in sorted(here | set(SYSTEM)):
            labels = {names.LABEL_NAMESPACE_NAME: ns, **(terraform if ns not in ("kube-system", "default") else {})}
            assert selector_matches(selector, labels) == (ns in workload), ns
        previews = platform.previews
        if previews is not None:
            # The previews' namespaces, named per pull request, are seen in the environment they run in.
            for prefix in previews.namespace_prefixes:
                labels = {names.LABEL_NAMESPACE_NAME: f"{prefix}12", names.LABEL_PART_OF: platform.name,
                          "gpc.dev/preview-of": platform.name}
                assert selector_matches(selector, labels) == (env.name == previews.from_env), (env.name, prefix)
        for kind in POLICY_KIND_CHOICES:
            for doc in render_policies(platform, kind):
                needed = policy_namespaces(doc) & here
                assert needed <= workload, f"{doc['metadata']['name']}: the webhook would never call it in {needed - workload}"
                generates = doc["kind"] == "GeneratingPolicy" or any("generate" in r for r in doc["spec"].get("rules", []))
                if not is_image_policy(doc) and not generates:
                    assert needed, "every guardrail applies somewhere in this environment"


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_kyverno_logs_in_to_a_private_registry_with_its_own_copy_of_the_pull_secret(spec: Path) -> None:
    """The signature policies fetch signatures from the workloads' registries; Kyverno reads pull
    secrets from its own namespace only (`--imagePullSecrets`, chart `existingImagePullSecrets`)."""
    platform = load_ir(spec)
    for env in platform.environments:
        module = cluster_module(spec, env.name)
        values = locals_of(module)["kyverno_values"]
        secrets = blocks(module, "resource", "kubernetes_secret_v1")
        release = blocks(module, "resource", "helm_release")["kyverno"]
        if platform.pull_secret is None:
            assert "existingImagePullSecrets" not in values and "kyverno_image_pull" not in secrets
            continue
        own, workloads = secrets["kyverno_image_pull"], secrets["image_pull"]
        assert values["existingImagePullSecrets"] == [platform.pull_secret]
        [own_metadata], [workload_metadata] = own["metadata"], workloads["metadata"]
        assert own_metadata["name"] == "${var.secret_name}" == workload_metadata["name"]
        assert call(module, "image_pull")["secret_name"] == "${local.image_pull_secret}"
        assert own_metadata["namespace"] == "${var.kyverno_namespace}"
        assert call(module, "image_pull")["kyverno_namespace"] == '${module.namespaces.system["kyverno"]}'
        assert (own["type"], own["data_wo"], own["data_wo_revision"]) == \
            (workloads["type"], workloads["data_wo"], workloads["data_wo_revision"]), "the same credentials"
        # Kyverno's module waits for module image_pull, which holds its copy.
        assert "depends_on" not in release and call(module, "kyverno")["depends_on"] == ["${module.image_pull}"]
        assert locals_of(module)["image_pull_secret"] == platform.pull_secret
