"""The proof of least privilege on the network: from the NetworkPolicies `kubectl kustomize` builds
for an environment, compute who can reach whom (tests/netpol.py evaluates the Kubernetes
semantics) and require it to equal exactly what the spec declares — nothing more, nothing less.

Declared: a workload reaches the services it `uses` on their port, the broker if it uses a queue,
the object store if it uses a bucket, the cluster DNS, and (with `api_access`) the API server's
ports; the broker's and object store's pods reach each other and DNS. The instances of a database
backed up in the environment reach the object store's S3 port. Nothing else reaches
anything: not a pod of another namespace, not a stray pod in the platform's own namespaces, not
an address outside the cluster.

Monitoring (issue 16): an environment's Prometheus pods reach each scraped workload on its metrics
port, the broker on its metrics port, the object store on its S3 port (where MinIO serves its
metrics) and the Pushgateway, and nothing else; a neighbour pod of
theirs reaches nothing. The jobs, and only they, reach the Pushgateway (their run metrics).

The edges (issue 14): the pods that forward public traffic (the environment's `exposure.proxy`)
reach exposed workloads on their port only; callers a workload `admit`s reach its port, and their
unlabelled neighbours do not; a workload reaches the addresses inside its egress CIDRs on the
declared ports, and nothing inside the cluster's pod and Service ranges (an address there is an
endpoint of its own, so a CIDR such as 0.0.0.0/0 that forgot to exclude them would show up).
Egress to hostnames is Cilium's (CiliumNetworkPolicy), which NetworkPolicy semantics cannot
evaluate: test_contract_edges.py checks its structure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

import pytest
from netpol import Edge, Endpoint, reachability
from test_kustomize import SPEC_IDS, WORKLOAD_KINDS, Compiled, pod_template, trees  # noqa: F401

from compiler import names
from compiler.ir import Environment, Platform

# What the CloudPirates charts label their pods with (app.kubernetes.io/name = the chart's name),
# the ports they listen on, and the cluster DNS as kubeadm, GKE, EKS and AKS deploy it.
BROKER_LABELS = {"app.kubernetes.io/name": "rabbitmq"}
BROKER_PORTS = (("TCP", 5672), ("TCP", 15672), ("TCP", 15692), ("TCP", 25672), ("TCP", 4369))
OBJECT_STORE_LABELS = {"app.kubernetes.io/name": "minio"}
OBJECT_STORE_PORTS = (("TCP", 9000), ("TCP", 9001))
# CloudNativePG instance pods (labelled with their Cluster) and the operator's pod.
DATABASE_PORTS = (("TCP", names.DATABASE_PORT), ("TCP", names.DATABASE_STATUS_PORT))
OPERATOR_LABELS = {"app.kubernetes.io/name": names.DATABASE_OPERATOR}
OPERATOR_PORTS = (("TCP", names.DATABASE_OPERATOR_WEBHOOK_PORT), ("TCP", 8080))
# Today's cluster DNS (kubeadm, GKE, EKS, AKS): the default of `environments.<env>.dns`.
DEFAULT_DNS = ("kube-system", {"k8s-app": "kube-dns"}, (("UDP", 53), ("TCP", 53)))


def dns_ports(env: Environment) -> tuple[tuple[str, int], ...]:
    return tuple((proto, port) for port in env.dns.ports for proto in ("UDP", "TCP"))


def dns_endpoints(env: Environment, ips: Any) -> list[Endpoint]:
    """The environment's DNS as its spec describes it: the DNS pods and, where the cluster runs it,
    NodeLocal DNSCache on its node address. Where that is not today's default, a pod with the
    default's labels stands by: it must no longer be reachable."""
    dns = env.dns
    out = [Endpoint("dns", dns.namespace, dict(dns.pod_labels), next(ips), dns_ports(env))]
    if dns.node_local_address is not None:
        out.append(Endpoint("dns@node", None, {}, dns.node_local_address, dns_ports(env)))
    if (dns.namespace, dict(dns.pod_labels)) != DEFAULT_DNS[:2]:
        out.append(Endpoint("kube-dns-decoy", DEFAULT_DNS[0], DEFAULT_DNS[1], next(ips), DEFAULT_DNS[2]))
    return out


API_SERVER_PORTS = (443, 6443)


def _pod_ips(env: Environment) -> Iterator[str]:
    """Pod addresses from the environment's declared pod range, as the CNI would assign them."""
    v4 = [n for n in map(ipaddress.ip_network, env.network.pod_cidrs) if n.version == 4]
    block = v4[0] if v4 else ipaddress.ip_network("10.244.0.0/16")
    return (str(block.network_address + n + 1) for n in count())


def _outside(env: Environment, block: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
    """An address inside `block` and outside the cluster's ranges, if there is one near its start."""
    cluster = [ipaddress.ip_network(c) for c in env.network.cluster_cidrs]
    for candidate in (block.network_address + 1, block.broadcast_address - 1):
        if not any(candidate in c for c in cluster):
            return str(candidate)
    return None


def _edge_endpoints(c: Compiled, env: Environment, ips: Iterator[str]) -> list[Endpoint]:
    """The proxy pods, admitted callers and their unlabelled neighbours, and addresses outside the
    cluster inside and around the declared egress CIDRs, and one inside each cluster range."""
    web = (("TCP", 80), ("TCP", 443), ("TCP", 8080))
    out: list[Endpoint] = []
    peers = [env.edge.proxy] if env.edge is not None else []
    peers += [a for w in c.platform.workloads for a in w.admit]
    peers += [env.monitoring.scraper] if env.monitoring is not None else []
    for i, peer in enumerate(dict.fromkeys(peers)):
        out.append(Endpoint(f"peer{i}@{peer.namespace}", peer.namespace, dict(peer.pods), next(ips), web))
        out.append(Endpoint(f"neighbour{i}@{peer.namespace}", peer.namespace, {"app": "neighbour"}, next(ips), web))
    for w in c.platform.workloads:
        for e in w.egress:
            if e.cidr is None:
                continue
            address = _outside(env, ipaddress.ip_network(e.cidr))
            if address is not None:
                ports = tuple(sorted({(e.protocol, p) for p in e.ports} | {(e.protocol, 9)}))
                out.append(Endpoint(f"outside {address}", None, {}, address, ports))
    for i, cidr in enumerate(env.network.cluster_cidrs):  # e.g. a node's host-network pod
        address = str(ipaddress.ip_network(cidr).broadcast_address - 1)
        ports = tuple({(e.protocol, p) for w in c.platform.workloads for e in w.egress for p in e.ports}) or web
        out.append(Endpoint(f"cluster-range{i} {address}", None, {}, address, tuple(sorted(ports))))
    return out


def _endpoints(c: Compiled, env: Environment) -> tuple[list[Endpoint], dict[str, Any]]:
    """Every pod of the environment as built, the shared infrastructure, DNS, and intruders."""
    ips = _pod_ips(env)
    out: list[Endpoint] = []
    by_workload: dict[str, Endpoint] = {}
    for w in c.platform.workloads_in(env.name):
        for doc in c.builds[names.overlay_dir(w.name, env.name)]:
            if doc["kind"] not in WORKLOAD_KINDS:
                continue
            if doc["metadata"]["name"] != w.name:  # the owner's migration Job: its own pod
                template = pod_template(doc)
                out.append(Endpoint(doc["metadata"]["name"], doc["metadata"]["namespace"],
                                    template["metadata"]["labels"], next(ips), ()))
                continue
            template = pod_template(doc)
            container = template["spec"]["containers"][0]
            ports = tuple((p.get("protocol", "TCP"), p["containerPort"]) for p in container.get("ports", []))
            named = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
            endpoint = Endpoint(w.name, doc["metadata"]["namespace"], template["metadata"]["labels"], next(ips),
                                ports, named)
            out.append(endpoint)
            by_workload[w.name] = endpoint
    infra = env.namespaces.get("infra")
    if infra is not None and any(w.queues for w in c.platform.workloads):
        out += [Endpoint(f"rabbitmq-{i}", infra, BROKER_LABELS, next(ips), BROKER_PORTS) for i in (0, 1)]
    if infra is not None and any(w.buckets for w in c.platform.workloads):
        out += [Endpoint(f"minio-{i}", infra, OBJECT_STORE_LABELS, next(ips), OBJECT_STORE_PORTS) for i in (0, 1)]
    if infra is not None and c.platform.databases:
        out += [Endpoint(f"postgres-{db.name}-{i}", infra, {names.DATABASE_POD_LABEL: db.name}, next(ips),
                         DATABASE_PORTS) for db in c.platform.databases for i in (1, 2)]
        out.append(Endpoint("cnpg-operator", infra, OPERATOR_LABELS, next(ips), OPERATOR_PORTS))
    if infra is not None and env.monitoring is not None and env.monitoring.pushgateway:
        out.append(Endpoint("pushgateway", infra, dict(names.PUSHGATEWAY_POD), next(ips),
                            (("TCP", names.PUSHGATEWAY_PORT),)))
    out += dns_endpoints(env, ips)
    web = (("TCP", 80), ("TCP", 443), ("TCP", 8080))
    for ns in sorted(env.namespaces.values()):  # a pod someone started by hand in a platform namespace
        out.append(Endpoint(f"stray@{ns}", ns, {"app.kubernetes.io/name": "stray"}, next(ips), web))
    out.append(Endpoint("pod@default", "default", {"app": "other"}, next(ips), web))
    out += _edge_endpoints(c, env, ips)
    out.append(Endpoint("kubernetes-api", None, {}, "10.96.0.1", tuple(("TCP", p) for p in API_SERVER_PORTS)))
    out.append(Endpoint("internet", None, {}, "203.0.113.10", web))
    return out, by_workload


def declared_edges(platform: Platform, env: Environment, endpoints: list[Endpoint],
                   by_workload: dict[str, Endpoint]) -> set[Edge]:
    """What the edges of the spec declare: proxy pods and admitted callers to a port, egress CIDRs."""
    edges: set[Edge] = set()
    cluster = [ipaddress.ip_network(r) for r in env.network.cluster_cidrs]
    for w in platform.workloads:
        src = by_workload.get(w.name)
        if src is None:
            continue
        if w.port is not None:
            peers = list(w.admit)
            if w.placement(env.name).route is not None and env.edge is not None:
                peers.append(env.edge.proxy)
            for peer in peers:
                edges |= {(e.name, w.name, "TCP", w.port) for e in endpoints if e.namespace == peer.namespace
                          and all(e.labels.get(k) == v for k, v in peer.pods)}
        if env.monitoring is not None and w.metrics is not None:  # the scraper, to the metrics port only
            scraper = env.monitoring.scraper
            edges |= {(e.name, w.name, "TCP", w.metrics.port) for e in endpoints if e.namespace == scraper.namespace
                      and all(e.labels.get(k) == v for k, v in scraper.pods)}
        for rule in w.egress:
            if rule.cidr is None:
                continue
            block = ipaddress.ip_network(rule.cidr)
            for dst in endpoints:
                address = ipaddress.ip_address(dst.ip)
                if address in block and not any(address in r for r in cluster):
                    edges |= {(w.name, dst.name, proto, port) for proto, port in dst.ports
                              if proto == rule.protocol and port in rule.ports}
    if env.monitoring is not None:  # and to the broker's metrics port, and the jobs' Pushgateway
        scraper = env.monitoring.scraper
        edges |= {(e.name, b.name, "TCP", names.BROKER_METRICS_PORT) for e in endpoints
                  if e.namespace == scraper.namespace and all(e.labels.get(k) == v for k, v in scraper.pods)
                  for b in endpoints if b.name.startswith("rabbitmq-")}
        edges |= {(e.name, "pushgateway", "TCP", names.PUSHGATEWAY_PORT) for e in endpoints
                  if e.namespace == scraper.namespace and all(e.labels.get(k) == v for k, v in scraper.pods)
                  and any(p.name == "pushgateway" for p in endpoints)}
        # MinIO's metrics are on its S3 port (it has no metrics port of its own).
        edges |= {(e.name, m.name, "TCP", names.OBJECT_STORE_PORT) for e in endpoints
                  if e.namespace == scraper.namespace and all(e.labels.get(k) == v for k, v in scraper.pods)
                  for m in endpoints if m.name.startswith("minio-")}
    return edges


def declared(platform: Platform, env: Environment, endpoints: list[Endpoint],
             by_workload: dict[str, Endpoint]) -> set[Edge]:
    """What the spec says may talk, computed from the IR alone."""
    edges: set[Edge] = set()
    resolvers = [e for e in endpoints if e.name in ("dns", "dns@node")]

    def dns(src: str) -> set[Edge]:
        return {(src, r.name, proto, port) for r in resolvers for proto, port in dns_ports(env)}
    broker = [e for e in endpoints if e.name.startswith("rabbitmq-")]
    store = [e for e in endpoints if e.name.startswith("minio-")]
    databases = {db.name: [e for e in endpoints if e.labels.get(names.DATABASE_POD_LABEL) == db.name]
                 for db in platform.databases}
    operator = [e for e in endpoints if e.name == "cnpg-operator"]
    pushgateway = [e for e in endpoints if e.name == "pushgateway"]
    platform_namespaces = {ns for env in platform.environments for ns in env.namespaces.values()}
    for w in platform.workloads:
        src = by_workload.get(w.name)
        if src is None:
            continue
        edges |= dns(src.name)
        for use in w.calls:
            callee = platform.workload(use.target)
            if use.target in by_workload and callee.port is not None:
                edges.add((src.name, use.target, "TCP", callee.port))
        if w.queues:
            edges |= {(src.name, b.name, "TCP", names.BROKER_PORT) for b in broker}
        if w.type == "job":  # its run metrics (monitoring: the Pushgateway exists only there)
            edges |= {(src.name, p.name, "TCP", names.PUSHGATEWAY_PORT) for p in pushgateway}
        if w.buckets:
            edges |= {(src.name, s.name, "TCP", names.OBJECT_STORE_PORT) for s in store}
        if w.database is not None:  # the declared database's instances, on the Postgres port only
            edges |= {(src.name, d.name, "TCP", names.DATABASE_PORT) for d in databases[w.database.target]}
            migrate = names.migration_job(w.name)
            # Its migration pods: DNS and the same database. The Job is built only once the owner
            # has an image (the image component drops it while the owner awaits its first delivery).
            if w.database.migrate is not None and any(e.name == migrate for e in endpoints):
                edges |= dns(migrate)
                edges |= {(migrate, d.name, "TCP", names.DATABASE_PORT) for d in databases[w.database.target]}
        if w.api_access:  # egress to the API server's ports; NetworkPolicy cannot name its address,
            # so any address outside the platform's (default-deny) namespaces is open on those ports
            edges |= {(src.name, dst.name, proto, port) for dst in endpoints
                      if dst.namespace not in platform_namespaces
                      for proto, port in dst.ports if port in API_SERVER_PORTS}
    # The infra namespace's DNS policy is namespace-wide on purpose: every pod the charts run there
    # (servers, hooks, provisioning jobs) resolves names; nothing else is open in that namespace.
    infra = platform_infra(endpoints, broker + store + operator + pushgateway)
    edges |= {edge for e in infra for edge in dns(e.name)}
    # The operator and each database's instances: the API server both ways (its address is not a
    # pod's, so any non-platform address on its ports), the operator to every instance and the
    # instances of one database to each other (replication, status), on both database ports.
    def api(src: Endpoint) -> set[Edge]:
        return {(src.name, dst.name, proto, port) for dst in endpoints if dst.namespace not in platform_namespaces
                for proto, port in dst.ports if port in API_SERVER_PORTS}
    for o in operator:
        edges |= api(o)
        # The API server calls the webhooks and is no pod a policy can name: anything outside the
        # platform's namespaces reaches that one port (platform pods have no egress to it).
        edges |= {(x.name, o.name, "TCP", names.DATABASE_OPERATOR_WEBHOOK_PORT) for x in endpoints
                  if x.namespace not in platform_namespaces}
    for dname, instances in databases.items():
        backed_up = next(d for d in platform.databases if d.name == dname).size(env.name).backup is not None
        for a in instances:
            edges |= api(a)
            if backed_up:  # base backups and WAL: the object store's S3 port, nothing else of it
                edges |= {(a.name, s.name, "TCP", names.OBJECT_STORE_PORT) for s in store}
            edges |= {(o.name, a.name, proto, port) for o in operator for proto, port in DATABASE_PORTS}
            edges |= {(a.name, b.name, proto, port) for b in instances if b is not a for proto, port in DATABASE_PORTS}
    for group in (broker, store):
        for a in group:
            edges |= dns(a.name)
            edges |= {(a.name, b.name, proto, port) for b in group if b is not a for proto, port in b.ports}
    return edges


def platform_infra(endpoints: list[Endpoint], charts: list[Endpoint]) -> list[Endpoint]:
    namespaces = {e.namespace for e in charts}
    return [e for e in endpoints if e.namespace in namespaces]


@pytest.mark.parametrize("sid", SPEC_IDS)
def test_reachability_is_exactly_what_the_spec_declares(sid: str, trees: Callable[[str], Compiled]) -> None:  # noqa: F811
    c = trees(sid)
    for env in c.platform.environments:
        overlays = [names.overlay_dir(w.name, env.name) for w in c.platform.workloads_in(env.name)]
        overlays.append(names.platform_overlay_dir(env.name))
        policies = [d for o in overlays for d in c.builds[o] if d["kind"] == "NetworkPolicy"]
        endpoints, by_workload = _endpoints(c, env)
        ours = {e.name for e in endpoints if e.namespace in env.namespaces.values()}
        # Only connections with an end in the platform's namespaces are gpc's to allow or deny.
        actual = {edge for edge in reachability(policies, endpoints) if edge[0] in ours or edge[1] in ours}
        expected = declared(c.platform, env, endpoints, by_workload) | declared_edges(c.platform, env, endpoints,
                                                                                      by_workload)
        assert actual - expected == set(), f"{sid}/{env.name}: reachable but not declared"
        assert expected - actual == set(), f"{sid}/{env.name}: declared but blocked"


def test_the_evaluator_can_fail() -> None:
    """A policy that admits everything must show up as undeclared reachability."""
    a = Endpoint("a", "ns", {"app": "a"}, "10.244.0.1", (("TCP", 80),))
    b = Endpoint("b", "ns", {"app": "b"}, "10.244.0.2", (("TCP", 80),))
    deny = {"metadata": {"namespace": "ns"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    assert reachability([deny], [a, b]) == set()
    open_all = {"metadata": {"namespace": "ns"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{}], "egress": [{}]}}
    assert reachability([deny, open_all], [a, b]) == {("a", "b", "TCP", 80), ("b", "a", "TCP", 80)}
    only_b = {"metadata": {"namespace": "ns"},
              "spec": {"podSelector": {"matchLabels": {"app": "a"}}, "policyTypes": ["Egress"],
                       "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "b"}}}], "ports": [{"port": 81}]}]}}
    assert reachability([only_b], [a, b]) == {("b", "a", "TCP", 80)}
