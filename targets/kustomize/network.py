"""NetworkPolicies derived from `uses`: each pod talks to what it declared, and nothing else.

A workload's base holds its policy with what is the same in every environment (which pods it
selects, the first environment's DNS, the Kubernetes API when `api_access` is set); an
environment whose cluster DNS differs replaces that first egress rule. Peers live in other
namespaces whose names depend on the environment, so each overlay appends them (`networkpolicy-patch.yaml`):
ingress from the workloads that call it, egress to the services it calls and to the broker or
object store in the environment's infra namespace. The platform overlay of each environment
denies everything else in every namespace and admits the declared users into the infra pods.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from compiler import names
from compiler.ir import Dns, Egress, Environment, Network, Peer, Platform, Workload
from targets.kustomize import meta
from targets.kustomize.graph import Graph

API = "networking.k8s.io/v1"
# The Helm charts of the shared infrastructure label their pods with these names.
BROKER_POD = {meta.NAME: "rabbitmq"}
OBJECT_STORE_POD = {meta.NAME: "minio"}
PUSHGATEWAY_POD = dict(names.PUSHGATEWAY_POD)
# The API server is not a pod: its address is the cluster's, so only the ports can be named.
API_SERVER_PORTS = (443, 6443)


def peer(namespace: str, pods: dict[str, str]) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {meta.NAMESPACE_NAME: namespace}},
        "podSelector": {"matchLabels": dict(pods)},
    }


def external_peer(p: Peer) -> dict[str, Any]:
    """Pods that are not gpc workloads: a namespace by name and, when given, pod labels."""
    out: dict[str, Any] = {"namespaceSelector": {"matchLabels": {meta.NAMESPACE_NAME: p.namespace}}}
    if p.pods:
        out["podSelector"] = {"matchLabels": dict(p.pods)}
    return out


def tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def dns_rule(dns: Dns) -> dict[str, Any]:
    """Egress to the cluster's DNS pods and, where it runs, NodeLocal DNSCache's node address."""
    to: list[dict[str, Any]] = [peer(dns.namespace, dict(dns.pod_labels))]
    if dns.node_local_address is not None:
        bits = 128 if ":" in dns.node_local_address else 32
        to.append({"ipBlock": {"cidr": f"{dns.node_local_address}/{bits}"}})
    ports = [{"protocol": protocol, "port": port} for port in dns.ports for protocol in ("UDP", "TCP")]
    return {"to": to, "ports": ports}


def workload_policy(platform: Platform, workload: Workload) -> dict[str, Any]:
    # Index 0 is DNS: overlay_patch replaces it where an environment's DNS differs.
    egress = [dns_rule(platform.environments[0].dns)]
    if workload.api_access:
        egress.append({"ports": tcp(*API_SERVER_PORTS)})
    return {
        "apiVersion": API,
        "kind": "NetworkPolicy",
        "metadata": meta.metadata(workload.name, meta.labels(platform, workload)),
        "spec": {
            "podSelector": {"matchLabels": meta.selector(workload)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": admitted_rules(workload),
            "egress": egress,
        },
    }


def admitted_rules(workload: Workload) -> list[dict[str, Any]]:
    """The spec's `admit`: callers that are not gpc workloads, to the workload's port only."""
    if workload.port is None:
        return []
    return [{"from": [external_peer(p)], "ports": tcp(workload.port)} for p in workload.admit]


def ingress_rules(graph: Graph, workload: Workload, env: Environment) -> list[dict[str, Any]]:
    rules = []
    if workload.port is not None:
        rules = [
            {"from": [peer(caller.placement(env.name).namespace, meta.selector(caller))],
             "ports": tcp(workload.port)}
            for caller in graph.callers.get(workload.name, ()) if caller.enabled_in(env.name)
        ]
        if workload.placement(env.name).route is not None and env.edge is not None:
            # The pods that forward public traffic, to the exposed port and nothing else.
            rules.append({"from": [external_peer(env.edge.proxy)], "ports": tcp(workload.port)})
    if env.monitoring is not None and workload.metrics is not None:
        # The environment's Prometheus, to the metrics port and nothing else.
        rules.append({"from": [external_peer(env.monitoring.scraper)], "ports": tcp(workload.metrics.port)})
    return rules


def cidr_rule(egress: Egress, network: Network) -> dict[str, Any]:
    """An address block outside the cluster, minus the cluster's own ranges inside it (a block such
    as 0.0.0.0/0 would otherwise reach every pod and Service on those ports)."""
    assert egress.cidr is not None
    block = ipaddress.ip_network(egress.cidr)
    inside = sorted(
        (r for r in map(ipaddress.ip_network, network.cluster_cidrs)
         if r.version == block.version and r != block and r.subnet_of(block)),  # type: ignore[arg-type]
        key=lambda r: (r.network_address, r.prefixlen),
    )
    ip_block: dict[str, Any] = {"cidr": str(block)}
    if inside:
        ip_block["except"] = [str(r) for r in inside]
    return {"to": [{"ipBlock": ip_block}],
            "ports": [{"protocol": egress.protocol, "port": p} for p in egress.ports]}


def egress_rules(graph: Graph, workload: Workload, env: Environment) -> list[dict[str, Any]]:
    rules = []
    for callee_name in sorted({u.target for u in workload.calls}):
        callee = graph.workloads[callee_name]
        assert callee.port is not None
        rules.append({"to": [peer(callee.placement(env.name).namespace, meta.selector(callee))],
                      "ports": tcp(callee.port)})
    if workload.queues:
        rules.append({"to": [peer(env.infra_namespace, BROKER_POD)], "ports": tcp(names.BROKER_PORT)})
    if workload.buckets:
        rules.append({"to": [peer(env.infra_namespace, OBJECT_STORE_POD)],
                      "ports": tcp(names.OBJECT_STORE_PORT)})
    if workload.database is not None:  # CloudNativePG labels the instance pods with their Cluster
        pods = {names.DATABASE_POD_LABEL: names.database_cluster(workload.database.target)}
        rules.append({"to": [peer(env.infra_namespace, pods)], "ports": tcp(names.DATABASE_PORT)})
    if pushes_runs(workload, env):
        rules.append({"to": [peer(env.infra_namespace, PUSHGATEWAY_POD)], "ports": tcp(names.PUSHGATEWAY_PORT)})
    rules += [cidr_rule(e, env.network) for e in workload.egress if e.cidr is not None]
    return rules


def pushes_runs(workload: Workload, env: Environment) -> bool:
    """A job in an environment with monitoring pushes its run metrics (its PUSHGATEWAY_URL)."""
    return workload.type == "job" and env.monitoring is not None and env.monitoring.pushgateway


def overlay_patch(graph: Graph, workload: Workload, env: Environment) -> list[dict[str, Any]]:
    """JSON6902 operations appending this environment's peers to the base policy (and replacing
    its DNS rule when this environment's cluster DNS is not the first environment's)."""
    ops: list[dict[str, Any]] = []
    if env.dns != graph.base_dns:
        ops.append({"op": "replace", "path": "/spec/egress/0", "value": dns_rule(env.dns)})
    ops += [{"op": "add", "path": "/spec/ingress/-", "value": rule}
            for rule in ingress_rules(graph, workload, env)]
    ops += [{"op": "add", "path": "/spec/egress/-", "value": rule}
            for rule in egress_rules(graph, workload, env)]
    return ops


# -- the platform overlay: namespace-wide policies of one environment ---------------------------


def _policy(platform: Platform, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "NetworkPolicy",
        "metadata": meta.metadata(name, meta.platform_labels(platform, name), namespace=namespace),
        "spec": spec,
    }


def default_deny(platform: Platform, namespace: str) -> dict[str, Any]:
    spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    return _policy(platform, "default-deny", namespace, spec)


def infra_policies(platform: Platform, env: Environment) -> list[dict[str, Any]]:
    """DNS for the infra pods, and ingress into the broker and object store from their users."""
    ns = env.infra_namespace
    out = [_policy(platform, "allow-dns", ns, {"podSelector": {}, "policyTypes": ["Egress"],
                                               "egress": [dns_rule(env.dns)]})]
    shared = [
        (names.BROKER_SERVICE, BROKER_POD, names.BROKER_PORT, [w for w in platform.workloads if w.queues]),
        (names.OBJECT_STORE_SERVICE, OBJECT_STORE_POD, names.OBJECT_STORE_PORT,
         [w for w in platform.workloads if w.buckets]),
    ]
    for name, pods, port, every_user in shared:
        if not every_user:
            continue  # the chart is not installed (argocd target: infra_charts)
        # Only the users deployed here: a switched-off workload is admitted nowhere.
        users = [w for w in every_user if w.enabled_in(env.name)]
        # Pods of one chart also talk to each other (clustering, erasure sets) on their own ports.
        same = {"podSelector": {"matchLabels": dict(pods)}}
        ingress: list[dict[str, Any]] = [
            {"from": [peer(w.placement(env.name).namespace, meta.selector(w))], "ports": tcp(port)}
            for w in users
        ]
        if name == names.BROKER_SERVICE and any(p.autoscale is not None and p.autoscale.queue is not None
                                                for w in users for p in w.placements if p.env == env.name):
            # KEDA's operator reads the queue depths (with each workload's own broker user).
            ingress.append({"from": [peer(names.KEDA_NAMESPACE, dict(names.KEDA_OPERATOR_POD))], "ports": tcp(port)})
        if name == names.OBJECT_STORE_SERVICE:
            # The instances of the databases backed up here (base backups, WAL), on the S3 port.
            ingress += [{"from": [{"podSelector": {"matchLabels": {names.DATABASE_POD_LABEL: names.database_cluster(db.name)}}}],
                         "ports": tcp(port)} for db in platform.databases if db.size(env.name).backup is not None]
        ingress.append({"from": [same]})
        if name == names.BROKER_SERVICE and env.monitoring is not None:
            ingress.append({"from": [external_peer(env.monitoring.scraper)], "ports": tcp(names.BROKER_METRICS_PORT)})
        if name == names.OBJECT_STORE_SERVICE and env.monitoring is not None:
            # MinIO serves its metrics on the S3 port itself: it has no metrics port of its own.
            ingress.append({"from": [external_peer(env.monitoring.scraper)], "ports": tcp(port)})
        # Not named after the chart: a chart may render a NetworkPolicy of its own fullname.
        out.append(_policy(platform, f"{name}-clients", ns, {
            "podSelector": {"matchLabels": dict(pods)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": [{"to": [same]}],
        }))
    return out + pushgateway_policies(platform, env)


def pushgateway_policies(platform: Platform, env: Environment) -> list[dict[str, Any]]:
    """Exactly the environment's jobs push to the Pushgateway and exactly its Prometheus scrapes it.
    The Pushgateway cannot tell one client from another (its web config's basic auth is one set of
    users for every path), so this policy and the grouping key are what separates the jobs."""
    if env.monitoring is None or not env.monitoring.pushgateway:
        return []
    jobs = [w for w in platform.workloads if w.enabled_in(env.name) and pushes_runs(w, env)]
    ingress: list[dict[str, Any]] = [
        {"from": [peer(w.placement(env.name).namespace, meta.selector(w))], "ports": tcp(names.PUSHGATEWAY_PORT)}
        for w in jobs]
    ingress.append({"from": [external_peer(env.monitoring.scraper)], "ports": tcp(names.PUSHGATEWAY_PORT)})
    return [_policy(platform, f"{names.PUSHGATEWAY_SERVICE}-clients", env.infra_namespace, {
        "podSelector": {"matchLabels": dict(PUSHGATEWAY_POD)}, "policyTypes": ["Ingress", "Egress"],
        "ingress": ingress, "egress": []})]
