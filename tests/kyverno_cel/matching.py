"""Which admission requests a policy sees, as Kyverno 1.19 decides it.

- ClusterPolicy `match`/`exclude` (pkg/engine/utils/match.go): kinds as `Kind`, `version/Kind`,
  `group/version/Kind` or `Kind/subresource` (pkg/utils/kube/kind.go ParseKindSelector), with the
  engine's one exception (pkg/utils/match/kind.go CheckKind): a rule on `Pod` also sees the
  `ephemeralcontainers` subresource. Namespaces, names and operations are wildcard lists.
- ValidatingPolicy `matchConstraints` (the ValidatingAdmissionPolicy matcher): resourceRules by API
  group, version, `resource[/subresource]` and operation, a namespaceSelector on the namespace's
  labels (Kubernetes labels every namespace `kubernetes.io/metadata.name: <name>`), and
  excludeResourceRules.

Anything else in a filter is refused with NotImplementedError rather than ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# kind -> (API group, version, resource)
KIND_RESOURCES = {
    "Pod": ("", "v1", "pods"),
    "Deployment": ("apps", "v1", "deployments"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "Job": ("batch", "v1", "jobs"),
    "CronJob": ("batch", "v1", "cronjobs"),
}
SUPPORTED_FILTER_KEYS = {"kinds", "namespaces", "names", "operations"}
SUPPORTED_CONSTRAINT_KEYS = {"resourceRules", "excludeResourceRules", "namespaceSelector"}
_VERSION = re.compile(r"^v\d+((alpha|beta)\d+)?$")


@dataclass(frozen=True)
class Request:
    """An admission request: the object, the operation, where it goes and on which subresource
    (`ephemeralcontainers` is how `kubectl debug` adds a container to a running Pod)."""

    object: dict[str, Any]
    operation: str = "CREATE"
    namespace: str | None = None  # defaults to metadata.namespace
    old_object: dict[str, Any] | None = None
    subresource: str = ""

    @property
    def ns(self) -> str:
        ns = self.namespace or self.object.get("metadata", {}).get("namespace")
        if not ns:
            raise ValueError(f"{self.object.get('kind')} {self.name!r} has no namespace: pass Request(namespace=...)")
        return str(ns)

    @property
    def name(self) -> str:
        return str(self.object.get("metadata", {}).get("name", ""))

    @property
    def kind(self) -> str:
        return str(self.object.get("kind", ""))

    @property
    def group_version(self) -> tuple[str, str]:
        group, _, version = str(self.object.get("apiVersion", "")).rpartition("/")
        return group, version

    @property
    def resource(self) -> str:
        # Other kinds (Service, NetworkPolicy, ...) are never among the resources a policy lists:
        # any name unlike theirs will do.
        return KIND_RESOURCES[self.kind][2] if self.kind in KIND_RESOURCES else self.kind.lower() + "s"

    def as_cel(self) -> dict[str, Any]:
        """The `request` variable (an AdmissionRequest, the fields policies read)."""
        group, version = self.group_version
        return {"operation": self.operation, "namespace": self.ns, "name": self.name,
                "kind": {"group": group, "version": version, "kind": self.kind},
                "resource": {"group": group, "version": version, "resource": self.resource},
                "subResource": self.subresource}


def wildcard(pattern: str, value: str) -> bool:
    """Kyverno's wildcard.Match: `*` any run, `?` one character, everything else literal."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


# -- ClusterPolicy ------------------------------------------------------------------------------


def parse_kind_selector(selector: str) -> tuple[str, str, str, str]:
    """(group, version, kind, subresource), as pkg/utils/kube/kind.go ParseKindSelector."""
    parts = selector.split("/")
    parts = parts[:-1] + parts[-1].split(".")
    if len(parts) == 1:
        return "*", "*", parts[0], ""
    if len(parts) == 2:
        if parts == ["*", "*"]:
            return "*", "*", "*", "*"
        if parts[0] == "*" and parts[1].lower() == parts[1]:
            return "*", "*", parts[0], parts[1]
        if _VERSION.match(parts[0]):
            return "*", parts[0], parts[1], ""
        return "*", "*", parts[0], parts[1]
    if len(parts) == 3:
        if _VERSION.match(parts[0]):
            return "*", parts[0], parts[1], parts[2]
        return parts[0], parts[1], parts[2], ""
    if len(parts) == 4:
        return parts[0], parts[1], parts[2], parts[3]
    return "", "", "", ""


def kind_matches(selector: str, request: Request) -> bool:
    group, version, kind, sub = parse_kind_selector(selector)
    req_group, req_version = request.group_version
    if not (wildcard(group, req_group) and wildcard(version, req_version) and wildcard(kind, request.kind)):
        return False
    if wildcard(sub, request.subresource):
        return True
    # The engine's allowEphemeralContainers: a rule on Pods also sees their ephemeral containers.
    return (req_group, req_version, request.kind, request.subresource) == ("", "v1", "Pod", "ephemeralcontainers")


def _filter_matches(block: dict[str, Any], request: Request) -> bool:
    if set(block) - {"resources"}:
        raise NotImplementedError(f"match/exclude keys {sorted(set(block) - {'resources'})} are not supported here")
    resources = block.get("resources", {})
    unknown = set(resources) - SUPPORTED_FILTER_KEYS
    if unknown:
        raise NotImplementedError(f"resource filter keys {sorted(unknown)} are not supported here")
    if "kinds" in resources and not any(kind_matches(k, request) for k in resources["kinds"]):
        return False
    if "namespaces" in resources and not any(wildcard(p, request.ns) for p in resources["namespaces"]):
        return False
    if "names" in resources and not any(wildcard(p, request.name) for p in resources["names"]):
        return False
    return "operations" not in resources or request.operation in resources["operations"]


def _selects(section: dict[str, Any] | None, request: Request) -> bool:
    if not section:
        return False
    if set(section) - {"any", "all"}:
        raise NotImplementedError(f"match/exclude must use any/all, got {sorted(section)}")
    if "any" in section and not any(_filter_matches(b, request) for b in section["any"]):
        return False
    return "all" not in section or all(_filter_matches(b, request) for b in section["all"])


def cluster_rule_applies(rule: dict[str, Any], request: Request) -> bool:
    return _selects(rule.get("match"), request) and not _selects(rule.get("exclude"), request)


# -- ValidatingPolicy ---------------------------------------------------------------------------


def _rule_matches(rule: dict[str, Any], request: Request) -> bool:
    group, version = request.group_version
    resource = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
    if set(rule) - {"apiGroups", "apiVersions", "operations", "resources", "scope"}:
        raise NotImplementedError(f"resource rule keys {sorted(rule)} are not supported here")
    return ((rule["apiGroups"] == ["*"] or group in rule["apiGroups"])
            and (rule["apiVersions"] == ["*"] or version in rule["apiVersions"])
            and (rule["operations"] == ["*"] or request.operation in rule["operations"])
            and (resource in rule["resources"] or (not request.subresource and "*" in rule["resources"])))


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A metav1.LabelSelector: matchLabels and matchExpressions, all ANDed."""
    if set(selector) - {"matchLabels", "matchExpressions"}:
        raise NotImplementedError(f"selector keys {sorted(selector)} are not supported here")
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        key, op, values = e["key"], e["operator"], e.get("values", [])
        present = key in labels
        ok = {"In": present and labels.get(key) in values,
              "NotIn": not present or labels.get(key) not in values,
              "Exists": present,
              "DoesNotExist": not present}[op]
        if not ok:
            return False
    return True


def constraints_match(constraints: dict[str, Any], request: Request) -> bool:
    unknown = set(constraints) - SUPPORTED_CONSTRAINT_KEYS
    if unknown:
        raise NotImplementedError(f"matchConstraints keys {sorted(unknown)} are not supported here")
    namespace_labels = {"kubernetes.io/metadata.name": request.ns}
    if not selector_matches(constraints.get("namespaceSelector", {}), namespace_labels):
        return False
    if any(_rule_matches(r, request) for r in constraints.get("excludeResourceRules", [])):
        return False
    return any(_rule_matches(r, request) for r in constraints.get("resourceRules", []))
