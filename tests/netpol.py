"""Kubernetes NetworkPolicy semantics, evaluated: who can reach whom on which port.

A connection from `src` to `dst` on (protocol, port) is allowed when both ends allow it:
- egress at `src`: no policy with policyType Egress selects `src` (not isolated), or one of them has
  an egress rule whose peers (`to`; absent = everywhere) match `dst` and whose ports match;
- ingress at `dst`: the same with `from` and the Ingress policies selecting `dst`.
Peers: `podSelector` alone = pods of the policy's namespace; `namespaceSelector` alone = every pod
of the matching namespaces; both = the matching pods of the matching namespaces; `ipBlock` = the
addresses in `cidr` minus `except` (pods match by their pod IP, as CNIs implement it). Empty
selectors match everything. Ports: number or named container port, `endPort` ranges, protocol
defaulting to TCP; absent = every port. Written from the Kubernetes API reference
(networking.k8s.io/v1 NetworkPolicySpec), not from gpc's code, so it can disagree with gpc.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NAMESPACE_NAME = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Endpoint:
    """A pod (with a namespace) or an address outside the cluster (namespace None)."""

    name: str
    namespace: str | None
    labels: Mapping[str, str]
    ip: str
    ports: tuple[tuple[str, int], ...]  # (protocol, port) it listens on
    named_ports: Mapping[str, int] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] = field(default_factory=dict)  # its namespace's, besides the name


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _in_block(block: Mapping[str, Any], ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    if address not in ipaddress.ip_network(block["cidr"]):
        return False
    return not any(address in ipaddress.ip_network(e) for e in block.get("except") or [])


def peer_matches(peer: Mapping[str, Any], policy_ns: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        return _in_block(peer["ipBlock"], other.ip)
    if other.namespace is None:
        return False  # pod and namespace selectors match pods only
    ns_labels = {**other.namespace_labels, NAMESPACE_NAME: other.namespace}
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], ns_labels):
            return False
    elif other.namespace != policy_ns:
        return False
    return selects(peer.get("podSelector"), other.labels)


def port_matches(ports: list[Mapping[str, Any]] | None, protocol: str, port: int, target: Endpoint) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            wanted = target.named_ports.get(wanted)
            if wanted is None:
                continue
        if wanted == port or (entry.get("endPort") is not None and wanted <= port <= entry["endPort"]):
            return True
    return False


def _direction_allows(policies: Iterable[Mapping[str, Any]], subject: Endpoint, other: Endpoint,
                      protocol: str, port: int, direction: str, port_owner: Endpoint) -> bool:
    if subject.namespace is None:
        return True  # outside the cluster: no NetworkPolicy applies
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    isolated = False
    for policy in policies:
        meta, spec = policy["metadata"], policy["spec"]
        if meta.get("namespace") != subject.namespace or not selects(spec.get("podSelector"), subject.labels):
            continue
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if spec.get("egress") is not None else ["Ingress"])
        if direction not in types:
            continue
        isolated = True
        for rule in spec.get(key) or []:
            peers = rule.get(peers_key)
            if peers is not None and not any(peer_matches(p, subject.namespace, other) for p in peers):
                continue
            if port_matches(rule.get("ports"), protocol, port, port_owner):
                return True
    return not isolated


def allowed(policies: list[Mapping[str, Any]], src: Endpoint, dst: Endpoint, protocol: str, port: int) -> bool:
    return (_direction_allows(policies, src, dst, protocol, port, "Egress", dst)
            and _direction_allows(policies, dst, src, protocol, port, "Ingress", dst))


Edge = tuple[str, str, str, int]  # (src name, dst name, protocol, port)


def reachability(policies: list[Mapping[str, Any]], endpoints: list[Endpoint]) -> set[Edge]:
    """Every (src, dst, protocol, port) the policies allow, over the ports each dst listens on."""
    return {
        (src.name, dst.name, protocol, port)
        for src in endpoints for dst in endpoints if src is not dst
        for protocol, port in dst.ports
        if allowed(policies, src, dst, protocol, port)
    }
