"""The platform's edges as Kubernetes objects: public routes (Gateway API HTTPRoutes or Ingresses),
cert-manager Certificates, the Gateway gpc creates, and Cilium FQDN egress policies.

What a route admits into the workload's pods (the proxy pods, on the workload's port only) is a
NetworkPolicy rule: see network.py. A Gateway gpc creates lives in the environment's services
namespace with the routes and the certificates' Secrets, so no ReferenceGrant is needed; its
listeners take routes from that namespace only.
"""

from __future__ import annotations

from typing import Any

from compiler.ir import Edge, Environment, Platform, Route, Workload
from targets.kustomize import meta

GATEWAY_API = "gateway.networking.k8s.io/v1"
GATEWAY_GROUP = "gateway.networking.k8s.io"
CERT_MANAGER_API = "cert-manager.io/v1"
CILIUM_API = "cilium.io/v2"
HTTP_LISTENER = "http"
SAME_NAMESPACE = {"namespaces": {"from": "Same"}}


def https_listener(workload: str, index: int) -> str:
    return f"https-{workload}-{index}"


def _parent(edge: Edge, section: str | None) -> dict[str, Any]:
    ref: dict[str, Any] = {"group": GATEWAY_GROUP, "kind": "Gateway", "name": edge.gateway_name,
                           "namespace": edge.gateway_namespace}
    if section is not None:
        ref["sectionName"] = section
    return ref


def _matches(route: Route) -> list[dict[str, Any]]:
    return [{"path": {"type": "PathPrefix", "value": p}} for p in route.paths]


def http_routes(platform: Platform, workload: Workload, env: Environment) -> dict[str, dict[str, Any]]:
    """File name -> HTTPRoute: the workload's route and, for HTTPS on a Gateway gpc created, the
    route that redirects plain HTTP to it."""
    route, edge = workload.placement(env.name).route, env.edge
    assert route is not None and edge is not None and workload.port is not None
    labels = meta.labels(platform, workload)
    if not edge.create_gateway:  # an existing Gateway: its listeners decide ports and certificates
        parents = [_parent(edge, None)]
    elif route.tls:
        parents = [_parent(edge, https_listener(workload.name, i)) for i in range(len(route.hosts))]
    else:
        parents = [_parent(edge, HTTP_LISTENER)]
    out = {"httproute.yaml": {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": meta.metadata(workload.name, labels),
        "spec": {
            "parentRefs": parents,
            "hostnames": list(route.hosts),
            "rules": [{
                "matches": _matches(route),
                "backendRefs": [{"group": "", "kind": "Service", "name": workload.name, "port": workload.port}],
            }],
        },
    }}
    if edge.create_gateway and route.tls:
        out["httproute-redirect.yaml"] = {
            "apiVersion": GATEWAY_API,
            "kind": "HTTPRoute",
            "metadata": meta.metadata(f"{workload.name}-https-redirect", labels),
            "spec": {
                "parentRefs": [_parent(edge, HTTP_LISTENER)],
                "hostnames": list(route.hosts),
                "rules": [{"filters": [{"type": "RequestRedirect",
                                        "requestRedirect": {"scheme": "https", "statusCode": 301}}]}],
            },
        }
    return out


def ingress(platform: Platform, workload: Workload, env: Environment) -> dict[str, Any]:
    route, edge = workload.placement(env.name).route, env.edge
    assert route is not None and edge is not None
    backend = {"service": {"name": workload.name, "port": {"name": "http"}}}
    spec: dict[str, Any] = {}
    if edge.ingress_class is not None:
        spec["ingressClassName"] = edge.ingress_class
    if route.certificate_secret is not None:
        spec["tls"] = [{"hosts": list(route.hosts), "secretName": route.certificate_secret}]
    spec["rules"] = [
        {"host": host, "http": {"paths": [{"path": p, "pathType": "Prefix", "backend": backend}
                                          for p in route.paths]}}
        for host in route.hosts
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta.metadata(workload.name, meta.labels(platform, workload), meta.skips(meta.SKIP_NAMESPACE)),
        "spec": spec,
    }


def certificate(platform: Platform, workload: Workload, env: Environment) -> dict[str, Any]:
    route, edge = workload.placement(env.name).route, env.edge
    assert route is not None and route.certificate_secret is not None and edge is not None
    assert edge.issuer is not None
    return {
        "apiVersion": CERT_MANAGER_API,
        "kind": "Certificate",
        "metadata": meta.metadata(workload.name, meta.labels(platform, workload)),
        "spec": {
            "secretName": route.certificate_secret,
            "dnsNames": list(route.hosts),
            "issuerRef": {"group": "cert-manager.io", "kind": edge.issuer_kind, "name": edge.issuer},
            # A new key with every renewal: a leaked key is only good until the next one.
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        },
    }


def route_files(platform: Platform, workload: Workload, env: Environment) -> dict[str, dict[str, Any]]:
    """The overlay files that serve `workload` publicly in `env` (none when it is not exposed)."""
    route, edge = workload.placement(env.name).route, env.edge
    if route is None or edge is None:
        return {}
    files = http_routes(platform, workload, env) if edge.api == "gateway" else {
        "ingress.yaml": ingress(platform, workload, env)}
    if route.certificate_secret is not None:
        files["certificate.yaml"] = certificate(platform, workload, env)
    return files


def gateway(platform: Platform, env: Environment) -> dict[str, Any] | None:
    """The Gateway of `env` when gpc creates it: plain HTTP (redirected, or routes without TLS) and
    one HTTPS listener per hostname of each exposed workload with TLS."""
    edge = env.edge
    if edge is None or not edge.create_gateway:
        return None
    exposed = [w for w in platform.workloads_in(env.name) if w.placement(env.name).route is not None]
    if not exposed:
        return None
    listeners: list[dict[str, Any]] = [
        {"name": HTTP_LISTENER, "protocol": "HTTP", "port": 80, "allowedRoutes": SAME_NAMESPACE}]
    for w in exposed:
        route = w.placement(env.name).route
        assert route is not None
        if not route.tls:
            continue
        for i, host in enumerate(route.hosts):
            listeners.append({
                "name": https_listener(w.name, i),
                "hostname": host,
                "protocol": "HTTPS",
                "port": 443,
                "tls": {"mode": "Terminate",
                        "certificateRefs": [{"group": "", "kind": "Secret", "name": route.certificate_secret}]},
                "allowedRoutes": SAME_NAMESPACE,
            })
    labels = {meta.NAME: edge.gateway_name, meta.COMPONENT: "gateway", meta.PART_OF: platform.name,
              meta.MANAGED_BY: "gpc"}
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": meta.metadata(edge.gateway_name, labels, namespace=edge.gateway_namespace),
        "spec": {"gatewayClassName": edge.gateway_class, "listeners": listeners},
    }


# Gateway API's `spec.listeners` has `maxItems: 64` (gateway.networking.k8s.io/v1 Gateway CRD).
MAX_LISTENERS = 64


def fqdn_policy(platform: Platform, workload: Workload, env: Environment) -> dict[str, Any] | None:
    """Egress to hostnames, for Cilium: `toFQDNs` rules, and the DNS rule that sends the workload's
    lookups through Cilium's DNS proxy (without it Cilium never learns the names' addresses).
    Cilium allows what any policy allows, so these add to the workload's NetworkPolicy."""
    hosts = [e for e in workload.egress if e.host is not None]
    if not hosts or not env.network.fqdn_policies:
        return None
    dns = env.dns
    dns_pods = {"k8s:io.kubernetes.pod.namespace": dns.namespace, **{f"k8s:{k}": v for k, v in dns.pod_labels}}
    lookups = [{"ports": [{"port": str(p), "protocol": "ANY"} for p in dns.ports],
                "rules": {"dns": [{"matchPattern": "*"}]}}]
    egress: list[dict[str, Any]] = [{"toEndpoints": [{"matchLabels": dns_pods}], "toPorts": lookups}]
    if dns.node_local_address is not None:  # NodeLocal DNSCache answers on a node address
        bits = 128 if ":" in dns.node_local_address else 32
        egress.append({"toCIDR": [f"{dns.node_local_address}/{bits}"], "toPorts": lookups})
    for e in hosts:
        assert e.host is not None
        match = {"matchPattern": e.host} if e.host.startswith("*.") else {"matchName": e.host}
        egress.append({"toFQDNs": [match],
                       "toPorts": [{"ports": [{"port": str(p), "protocol": e.protocol} for p in e.ports]}]})
    return {
        "apiVersion": CILIUM_API,
        "kind": "CiliumNetworkPolicy",
        "metadata": meta.metadata(f"{workload.name}-fqdn", meta.labels(platform, workload)),
        "spec": {"endpointSelector": {"matchLabels": meta.selector(workload)}, "egress": egress},
    }
