"""What every policy shares, whatever its kind: its name and file, its metadata, where it applies
(kinds, namespaces, operations) and the folder's kustomization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler import names
from compiler.ir import Platform
from targets.kyverno.rules import Rule

# Kyverno labels policy reports `cpol.kyverno.io/<policy name>` (`vpol.`, `ivpol.` for the CEL
# kinds); a label value is at most 63 characters.
MAX_POLICY_NAME = 63
OPERATIONS = ("CREATE", "UPDATE")
POD = "Pod"
# `kubectl debug` adds ephemeral containers through this subresource of an existing Pod; a policy
# on Pods alone never sees it.
EPHEMERAL_CONTAINERS = "ephemeralcontainers"
# (API group, resource) of each kind the policies match; all are v1.
RESOURCES = {
    "Deployment": ("apps", "deployments"),
    "Job": ("batch", "jobs"),
    "CronJob": ("batch", "cronjobs"),
    POD: ("", "pods"),
}


def policy_name(platform: Platform, rule_name: str) -> str:
    """Prefixed with the platform, so two platforms sharing a cluster never fight over a policy."""
    return f"{platform.name}-{rule_name}"


def policy_file(rule_name: str) -> str:
    return f"{names.KYVERNO_DIR}/{rule_name}.yaml"


def workload_namespaces(platform: Platform, workload_type: str | None = None) -> list[str]:
    """The namespaces of every environment that hold workloads (of `workload_type`, if given).

    The policies leave the infra namespace alone (its object store and broker are third-party
    charts with their own images and settings) and list every environment's namespaces, so the
    same files are correct in each environment's cluster.
    """
    groups = {g for t, g in names.GROUP_OF_TYPE.items() if workload_type in (None, t)}
    return sorted({ns for env in platform.environments for group, ns in env.namespaces.items() if group in groups})


def preview_prefixes(platform: Platform) -> tuple[str, ...]:
    """What the namespaces of the platform's previews start with (`pr-<repo slug>-`); none without
    previews. A preview namespace is named per pull request, so no list of names can hold them."""
    return platform.previews.namespace_prefixes if platform.previews is not None else ()


@dataclass(frozen=True)
class Scope:
    """Where a rule applies: its workload kinds in every workload namespace, and Pods (with their
    ephemeral containers) in `pod_namespaces`; and both in the namespaces starting with one of
    `previews` (Pods only when `preview_pods`: a preview's one namespace holds services and jobs
    alike, so a rule of one workload type checks its kinds there, not every Pod). Never an empty
    namespace list: Kyverno reads that as every namespace."""

    kinds: tuple[str, ...]
    namespaces: tuple[str, ...]
    pod_namespaces: tuple[str, ...]
    excluded: tuple[str, ...]
    previews: tuple[str, ...] = ()
    preview_pods: bool = True

    @property
    def pod_previews(self) -> tuple[str, ...]:
        return self.previews if self.preview_pods else ()

    @property
    def checks_pods(self) -> bool:
        return bool(self.pod_namespaces or self.pod_previews)


def scope(platform: Platform, rule: Rule) -> Scope:
    return Scope(rule.kinds, tuple(workload_namespaces(platform)),
                 tuple(workload_namespaces(platform, rule.pod_type)),
                 tuple(platform.guardrails.excluded_namespaces), preview_prefixes(platform), rule.pod_type is None)


def pod_scope(platform: Platform) -> Scope:
    """Pods only, in every workload namespace (image verification: where images are pulled)."""
    namespaces = tuple(workload_namespaces(platform))
    return Scope((), namespaces, namespaces, tuple(platform.guardrails.excluded_namespaces))


def preview_pod_scope(platform: Platform) -> Scope:
    """Pods only, in the preview namespaces (the preview image policies)."""
    return Scope((), (), (), tuple(platform.guardrails.excluded_namespaces), preview_prefixes(platform))


def metadata(platform: Platform, name: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "name": policy_name(platform, name),
        "labels": {names.LABEL_PART_OF: platform.name, names.LABEL_MANAGED_BY: "gpc"},
        "annotations": dict(sorted(annotations.items())),
    }


def rule_annotations(rule: Rule, subject: str) -> dict[str, str]:
    """Kyverno's documented policy annotations, shown by its reports and the Policy Reporter UI."""
    return {
        "policies.kyverno.io/category": rule.category,
        "policies.kyverno.io/description": rule.description,
        "policies.kyverno.io/severity": rule.severity,
        "policies.kyverno.io/subject": subject,
        "policies.kyverno.io/title": rule.title,
    }


def subject(s: Scope) -> str:
    return ", ".join((*s.kinds, POD) if s.checks_pods else s.kinds)


def kustomization(files: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": names.KUSTOMIZE_API,
        "kind": "Kustomization",
        "resources": sorted(f.removeprefix(names.KYVERNO_DIR + "/") for f in files),
    }
