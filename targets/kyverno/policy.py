"""A guardrail rule as a Kyverno ClusterPolicy document, and the folder's kustomization."""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Platform
from targets.kyverno import cel
from targets.kyverno.rules import Rule

API_VERSION = "kyverno.io/v1"
# Rules match the workload kinds themselves; autogen would add Pod-controller copies of them,
# made by rewriting the CEL as text, that nothing here tests.
AUTOGEN = "pod-policies.kyverno.io/autogen-controllers"
# Kyverno labels policy reports `cpol.kyverno.io/<policy name>`; a label name is at most 63.
MAX_POLICY_NAME = 63
OPERATIONS = ["CREATE", "UPDATE"]


def policy_name(platform: Platform, rule: Rule) -> str:
    """Prefixed with the platform, so two platforms sharing a cluster never fight over a policy."""
    return f"{platform.name}-{rule.name}"


def policy_file(rule: Rule) -> str:
    return f"{names.KYVERNO_DIR}/{rule.name}.yaml"


def workload_namespaces(platform: Platform) -> list[str]:
    """The namespaces of every environment that hold workloads.

    The policies leave the infra namespace alone (its object store and broker are third-party
    charts with their own images and settings) and list every environment's namespaces, so the
    same files are correct in each environment's cluster.
    """
    groups = set(names.GROUP_OF_TYPE.values())
    return sorted({ns for env in platform.environments for group, ns in env.namespaces.items() if group in groups})


def cluster_policy(platform: Platform, rule: Rule) -> dict[str, Any]:
    annotations = {
        AUTOGEN: "none",
        "policies.kyverno.io/category": rule.category,
        "policies.kyverno.io/description": rule.description,
        "policies.kyverno.io/severity": rule.severity,
        "policies.kyverno.io/subject": ", ".join(rule.kinds),
        "policies.kyverno.io/title": rule.title,
    }
    kyverno_rule: dict[str, Any] = {
        "name": rule.name,
        "match": {"any": [{"resources": {
            "kinds": list(rule.kinds),
            "namespaces": workload_namespaces(platform),
            "operations": list(OPERATIONS),
        }}]},
    }
    if platform.guardrails.excluded_namespaces:
        kyverno_rule["exclude"] = {"any": [{"resources": {
            "namespaces": list(platform.guardrails.excluded_namespaces),
        }}]}
    # skipBackgroundRequests and allowExistingViolations are the CRD's defaults, written out
    # because the API server adds them inside `rules[]`, where Argo CD would otherwise report the
    # policy OutOfSync forever. Kyverno's CEL handler evaluates every UPDATE on its own object.
    kyverno_rule["skipBackgroundRequests"] = True
    kyverno_rule["validate"] = {
        "failureAction": "Enforce",
        "allowExistingViolations": True,
        "cel": {
            "variables": [{"name": v, "expression": cel.VARIABLES[v]} for v in rule.variables],
            "expressions": [{"expression": c.expression, "message": c.message} for c in rule.checks],
        },
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "ClusterPolicy",
        "metadata": {
            "name": policy_name(platform, rule),
            "labels": {names.LABEL_PART_OF: platform.name, names.LABEL_MANAGED_BY: "gpc"},
            "annotations": annotations,
        },
        "spec": {
            "admission": True,
            "background": True,
            "emitWarning": False,
            "rules": [kyverno_rule],
        },
    }


def kustomization(rules: list[Rule]) -> dict[str, Any]:
    return {
        "apiVersion": names.KUSTOMIZE_API,
        "kind": "Kustomization",
        "resources": sorted(policy_file(r).removeprefix(names.KYVERNO_DIR + "/") for r in rules),
    }
