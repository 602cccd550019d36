"""The registry's pull secret in every preview namespace, copied by Kyverno.

An environment's pods pull with `registry-pull-secret`, which Terraform writes into each workload
namespace from the operator's `TF_VAR_registry_credentials`. A preview namespace is created by Argo
CD for a pull request, long after any Terraform run, so Terraform cannot write it there. Terraform
already writes one more copy into Kyverno's namespace (Kyverno reads the image signatures with it);
this policy has Kyverno's background controller clone exactly that one Secret into each namespace
of the platform's previews when it is created (and into those that exist when the policy arrives),
and keep the copies in sync when the credentials rotate. The preview gets that Secret and nothing
else of the environment's; the copy goes with the namespace.

Kyverno's background controller needs the right to write Secrets for that, which the chart does not
grant by default: terraform's Kyverno values add it in the environment previews run in.
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.guardrails import copies_pull_secret
from compiler.ir import Platform
from targets.kyverno import cel
from targets.kyverno.policy import OPERATIONS, metadata, preview_prefixes

NAME = "preview-pull-secret"
DESCRIPTION = ("Copies the registry's pull secret from Kyverno's namespace into each namespace of the "
               "platform's previews, and keeps the copies in sync.")
VARIABLE = "pullSecret"
NAMESPACE = "Namespace"


def wanted(platform: Platform) -> bool:
    return copies_pull_secret(platform)


def _annotations() -> dict[str, str]:
    return {"policies.kyverno.io/category": "Images", "policies.kyverno.io/description": DESCRIPTION,
            "policies.kyverno.io/severity": "medium", "policies.kyverno.io/subject": NAMESPACE,
            "policies.kyverno.io/title": "Registry pull secret in previews"}


def source() -> tuple[str, str]:
    """(namespace, name) of the Secret copied: Terraform's copy for Kyverno."""
    return names.KYVERNO_NAMESPACE, names.IMAGE_PULL_SECRET


def generating_policy(platform: Platform) -> dict[str, Any]:
    namespace, secret = source()
    prefixes = cel.strings(preview_prefixes(platform))
    return {
        "apiVersion": "policies.kyverno.io/v1",
        "kind": "GeneratingPolicy",
        "metadata": metadata(platform, NAME, _annotations()),
        "spec": {
            # The CRD's defaults written out (Argo CD would see them as drift); synchronize: a
            # rotated credential reaches the copies; generateExisting: previews opened before
            # this policy arrived get it too.
            "evaluation": {"admission": {"enabled": True}, "generateExisting": {"enabled": True},
                           "orphanDownstreamOnPolicyDelete": {"enabled": False}, "skipBackgroundRequests": True,
                           "synchronize": {"enabled": True}},
            "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                                                    "operations": ["CREATE"], "resources": ["namespaces"]}]},
            "matchConditions": [{"name": "a-preview-of-the-platform",
                                 "expression": f"{prefixes}.exists(p, object.metadata.name.startsWith(p))"}],
            "variables": [{"name": VARIABLE, "expression": f"resource.Get(\"v1\", \"secrets\", {cel.string(namespace)}, "
                                                            f"{cel.string(secret)})"}],
            "generate": [{"expression": f"generator.Apply(object.metadata.name, [variables.{VARIABLE}])"}],
        },
    }


def cluster_policy(platform: Platform) -> dict[str, Any]:
    namespace, secret = source()
    rule = {
        "name": NAME,
        "match": {"any": [{"resources": {"kinds": [NAMESPACE], "names": [f"{p}*" for p in preview_prefixes(platform)],
                                         "operations": list(OPERATIONS)}}]},
        "skipBackgroundRequests": True,
        "generate": {
            "apiVersion": "v1", "kind": "Secret", "name": secret,
            # Kyverno's own variable: the namespace being created.
            "namespace": "{{request.object.metadata.name}}",
            "synchronize": True, "generateExisting": True, "orphanDownstreamOnPolicyDelete": False,
            "clone": {"namespace": namespace, "name": secret},
        },
    }
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": metadata(platform, NAME, _annotations()),
        "spec": {"admission": True, "background": True, "emitWarning": False, "rules": [rule]},
    }


WRITERS = {"ValidatingPolicy": generating_policy, "ClusterPolicy": cluster_policy}
