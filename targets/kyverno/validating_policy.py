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
    preview_pod_scope,
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


def _in(namespaces: tuple[str, ...], prefixes: tuple[str, ...]) -> str:
    """CEL: the request's namespace is one of `namespaces` or starts with one of `prefixes`."""
    tests = [f"request.namespace in {cel.strings(namespaces)}"] if namespaces else []
    tests += [f"{cel.strings(prefixes)}.exists(p, request.namespace.startsWith(p))"] if prefixes else []
    return " || ".join(tests)


def _match(s: Scope) -> dict[str, Any]:
    """matchConstraints, and matchConditions when Pods are checked in fewer namespaces than the
    workload kinds (a namespaceSelector is one per policy), or when the platform has previews: a
    label selector cannot name the namespaces of pull requests to come, so the selector then only
    leaves out the excluded namespaces and a condition picks the platform's, by name and prefix."""
    expressions = [{"key": names.LABEL_NAMESPACE_NAME, "operator": "In", "values": list(s.namespaces)}]
    if s.previews:
        expressions = []
    if s.excluded:
        expressions.append({"key": names.LABEL_NAMESPACE_NAME, "operator": "NotIn", "values": list(s.excluded)})
    out: dict[str, Any] = {"matchConstraints": {
        "namespaceSelector": {"matchExpressions": expressions} if expressions else {},
        "resourceRules": _resource_rules(s.kinds, s.checks_pods),
    }}
    conditions = []
    if s.previews:
        conditions.append({"name": "in-the-platform-namespaces", "expression": _in(s.namespaces, s.previews)})
    if s.checks_pods and (s.pod_namespaces, s.pod_previews) != (s.namespaces, s.previews):
        _, pods = RESOURCES[POD]
        conditions.append({
            "name": "pods-in-their-namespaces",
            "expression": f"request.resource.resource != {cel.string(pods)} || {_in(s.pod_namespaces, s.pod_previews)}",
        })
    if conditions:
        out["matchConditions"] = conditions
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
    s = preview_pod_scope(platform) if signed.preview else pod_scope(platform)
    annotations = {
        "policies.kyverno.io/category": "Images",
        "policies.kyverno.io/description": f"Pods run {signed.image} only as signed by {signed.signers}, "
                                           "pinned to its digest.",
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
                *({"issuer": GITHUB_OIDC_ISSUER, "subject": subject_} for subject_ in signed.subjects),
                *({"issuer": GITHUB_OIDC_ISSUER, "subjectRegExp": p} for p in signed.subject_patterns)]}}}],
            "validations": [{
                "expression": verification(signed),
                "message": f"{signed.image} must be signed by {signed.signers}: deploy an image that workflow "
                           "built and signed.",
            }],
        },
    }
