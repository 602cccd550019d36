"""The guardrails as Kyverno ClusterPolicies (kyverno.io/v1), for clusters on a Kyverno older than
the CEL policy kinds. Deprecated since Kyverno 1.17; 1.20 is planned to remove it."""

from __future__ import annotations

from typing import Any

from compiler.ir import Platform
from targets.kyverno import cel
from targets.kyverno.images import GITHUB_OIDC_ISSUER, SignedImage
from targets.kyverno.policy import (
    EPHEMERAL_CONTAINERS,
    OPERATIONS,
    POD,
    Scope,
    metadata,
    pod_scope,
    preview_pod_scope,
    rule_annotations,
    scope,
    subject,
)
from targets.kyverno.rules import Rule

API_VERSION = "kyverno.io/v1"
KIND = "ClusterPolicy"
# Autogen would add Pod-controller copies of the rules, made by rewriting the CEL as text, that
# nothing here tests. (A rule matching Pods next to other kinds turns it off anyway.)
AUTOGEN = "pod-policies.kyverno.io/autogen-controllers"
SIGNATURE_TIMEOUT = 30  # seconds: verifying a signature fetches it and the transparency log entry
REKOR = "https://rekor.sigstore.dev"  # where cosign keyless records every signature


def _match(s: Scope) -> dict[str, Any]:
    blocks = []
    # Kyverno's namespace lists take wildcards: `pr-<slug>-*` is every preview of that repository.
    if s.kinds:
        blocks.append({"resources": {"kinds": list(s.kinds),
                                     "namespaces": [*s.namespaces, *(f"{p}*" for p in s.previews)],
                                     "operations": list(OPERATIONS)}})
    if s.checks_pods:
        blocks.append({"resources": {"kinds": [POD, f"{POD}/{EPHEMERAL_CONTAINERS}"],
                                     "namespaces": [*s.pod_namespaces, *(f"{p}*" for p in s.pod_previews)],
                                     "operations": list(OPERATIONS)}})
    match: dict[str, Any] = {"match": {"any": blocks}}
    if s.excluded:
        match["exclude"] = {"any": [{"resources": {"namespaces": list(s.excluded)}}]}
    return match


def guardrail_policy(platform: Platform, rule: Rule) -> dict[str, Any]:
    s = scope(platform, rule)
    kyverno_rule: dict[str, Any] = {"name": rule.name, **_match(s)}
    # Defaults of the CRD, written out: the API server adds them inside `rules[]`, a list Argo CD
    # compares whole, so a policy without them would stay OutOfSync forever. `cel.generate` (no
    # ValidatingAdmissionPolicy generated from the rule) exists since Kyverno 1.14. Kyverno's CEL
    # handler evaluates every UPDATE on its own object.
    kyverno_rule["skipBackgroundRequests"] = True
    kyverno_rule["validate"] = {
        "failureAction": "Enforce",
        "allowExistingViolations": True,
        "cel": {
            "generate": False,
            "variables": [{"name": v, "expression": cel.VARIABLES[v]} for v in rule.variables],
            "expressions": [{"expression": c.expression, "message": c.message} for c in rule.checks],
        },
    }
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata(platform, rule.name, {AUTOGEN: "none", **rule_annotations(rule, subject(s))}),
        "spec": {"admission": True, "background": True, "emitWarning": False, "rules": [kyverno_rule]},
    }


def image_policy(platform: Platform, signed: SignedImage) -> dict[str, Any]:
    """Pods may run `signed.image` only when its delivery workflow signed it; Kyverno pins the
    verified digest into the Pod. Pods, not their controllers: a digest written into a Deployment
    would differ from Git and keep its Application OutOfSync."""
    s = preview_pod_scope(platform) if signed.preview else pod_scope(platform)
    annotations = {
        AUTOGEN: "none",
        "policies.kyverno.io/category": "Images",
        "policies.kyverno.io/description": f"Pods run {signed.image} only as signed by {signed.signers}, "
                                           "pinned to its digest.",
        "policies.kyverno.io/severity": "high",
        "policies.kyverno.io/subject": POD,
        "policies.kyverno.io/title": "Verify image signatures",
    }
    verify = {
        "imageReferences": list(signed.globs),
        "type": "Cosign",
        "failureAction": "Enforce",
        # The CRD's defaults, written out (see guardrail_policy).
        "mutateDigest": True,
        "verifyDigest": True,
        "required": True,
        "useCache": True,
        "attestors": [{"count": 1, "entries": [
            {"keyless": {"issuer": GITHUB_OIDC_ISSUER, key: value, "rekor": {"url": REKOR}},
             "signatureAlgorithm": "sha256"}
            for key, value in [*(("subject", s_) for s_ in signed.subjects),
                               *(("subjectRegExp", p) for p in signed.subject_patterns)]]}],
    }
    rule = {"name": signed.name, **_match(s), "skipBackgroundRequests": True, "verifyImages": [verify]}
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata(platform, signed.name, annotations),
        "spec": {
            "admission": True,
            # Verification needs the registry: it belongs to admission, not to background scans.
            "background": False,
            "emitWarning": False,
            "webhookConfiguration": {"failurePolicy": "Fail", "timeoutSeconds": SIGNATURE_TIMEOUT},
            "rules": [rule],
        },
    }
