"""The guardrails as Kyverno's CEL policy kinds (policies.kyverno.io/v1, stable since Kyverno 1.17):
a ValidatingPolicy per guardrail and an ImageValidatingPolicy per signed image."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from compiler import names
from compiler.ir import Platform
from targets.kyverno import cel
from targets.kyverno.cluster_policy import SIGNATURE_TIMEOUT
from targets.kyverno.images import ATTESTOR, GITHUB_OIDC_ISSUER, SignedImage
from targets.kyverno.policy import (
    EPHEMERAL_CONTAINERS,
    OPERATIONS,
    POD,
    RESOURCES,
    Scope,
    metadata,
    pod_scope,
    rule_annotations,
    scope,
    subject,
)
from targets.kyverno.rules import Rule

API_VERSION = "policies.kyverno.io/v1"
IMAGE_CATEGORIES = ("containers", "initContainers", "ephemeralContainers")  # Kyverno's Pod image extractors


def _resource_rules(kinds: tuple[str, ...], pods: bool) -> list[dict[str, Any]]:
    by_group: dict[str, list[str]] = defaultdict(list)
    for kind in kinds:
        group, resource = RESOURCES[kind]
        by_group[group].append(resource)
    if pods:
        group, resource = RESOURCES[POD]
        by_group[group] += [resource, f"{resource}/{EPHEMERAL_CONTAINERS}"]
    return [{"apiGroups": [group], "apiVersions": ["v1"], "operations": list(OPERATIONS), "resources": sorted(res)}
            for group, res in sorted(by_group.items())]


def _match(s: Scope) -> dict[str, Any]:
    """matchConstraints, and matchConditions when Pods are checked in fewer namespaces than the
    workload kinds (a namespaceSelector is one per policy)."""
    expressions = [{"key": names.LABEL_NAMESPACE_NAME, "operator": "In", "values": list(s.namespaces)}]
    if s.excluded:
        expressions.append({"key": names.LABEL_NAMESPACE_NAME, "operator": "NotIn", "values": list(s.excluded)})
    out: dict[str, Any] = {"matchConstraints": {
        "namespaceSelector": {"matchExpressions": expressions},
        "resourceRules": _resource_rules(s.kinds, bool(s.pod_namespaces)),
    }}
    if s.pod_namespaces and s.pod_namespaces != s.namespaces:
        _, pods = RESOURCES[POD]
        out["matchConditions"] = [{
            "name": "pods-in-their-namespaces",
            "expression": f"request.resource.resource != {cel.string(pods)} || "
                          f"request.namespace in {cel.strings(s.pod_namespaces)}",
        }]
    return out


def _common(enforce_in_background: bool) -> dict[str, Any]:
    # Rules match the workload kinds and Pods directly; Kyverno's autogen (pod controllers from a
    # Pod-only policy) stays off, written out so no later Kyverno turns it on by default.
    return {
        "autogen": {"podControllers": {"controllers": []}},
        "evaluation": {"admission": {"enabled": True}, "background": {"enabled": enforce_in_background}},
        "failurePolicy": "Fail",
        "validationActions": ["Deny"],
    }


def guardrail_policy(platform: Platform, rule: Rule) -> dict[str, Any]:
    s = scope(platform, rule)
    return {
        "apiVersion": API_VERSION,
        "kind": "ValidatingPolicy",
        "metadata": metadata(platform, rule.name, rule_annotations(rule, subject(s))),
        "spec": {
            **_common(enforce_in_background=True),
            **_match(s),
            "variables": [{"name": v, "expression": cel.VARIABLES[v]} for v in rule.variables],
            "validations": [{"expression": c.expression, "message": c.message} for c in rule.checks],
        },
    }


def verification(signed: SignedImage) -> str:
    """Every matched image of the Pod, in every container category, has a signature of the
    delivery attestor (Kyverno also refuses a matched image no policy verified: `required`)."""
    images = " + ".join(f"images.{c}" for c in IMAGE_CATEGORIES)
    return f"({images}).all(image, verifyImageSignatures(image, [attestors.{ATTESTOR}]) > 0)"


def image_policy(platform: Platform, signed: SignedImage) -> dict[str, Any]:
    """See cluster_policy.image_policy: the same check, as an ImageValidatingPolicy."""
    s = pod_scope(platform)
    annotations = {
        "policies.kyverno.io/category": "Images",
        "policies.kyverno.io/description": f"Pods run {signed.image} only as signed by the delivery workflow of "
                                           f"{', '.join(signed.repos)} on its default branch, pinned to its digest.",
        "policies.kyverno.io/severity": "high",
        "policies.kyverno.io/subject": POD,
        "policies.kyverno.io/title": "Verify image signatures",
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "ImageValidatingPolicy",
        "metadata": metadata(platform, signed.name, annotations),
        "spec": {
            # Verification needs the registry: it belongs to admission, not to background scans.
            **_common(enforce_in_background=False),
            **_match(s),
            "webhookConfiguration": {"timeoutSeconds": SIGNATURE_TIMEOUT},
            "matchImageReferences": [{"glob": g} for g in signed.globs],
            "validationConfigurations": {"mutateDigest": True, "required": True, "verifyDigest": True},
            "attestors": [{"name": ATTESTOR, "cosign": {"keyless": {"identities": [
                {"issuer": GITHUB_OIDC_ISSUER, "subject": subject_} for subject_ in signed.subjects]}}}],
            "validations": [{
                "expression": verification(signed),
                "message": f"{signed.image} must be signed by the delivery workflow of {', '.join(signed.repos)} "
                           "on its default branch: deploy an image that workflow built and signed.",
            }],
        },
    }
