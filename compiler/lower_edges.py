"""Lowering of the platform's edges: exposure, admitted callers, egress and the cluster network."""

from __future__ import annotations

from compiler import names
from compiler.edges import gateway_namespace, hosts, normal_path, proxy_default
from compiler.ir import Edge, Egress, Network, Peer, Route
from compiler.model import AnyWorkload
from compiler.model import Environment as SpecEnvironment
from compiler.model import Platform as Spec
from compiler.model_edges import Admit, CidrEgress, HostEgress


def edge(env: SpecEnvironment, prefix: str) -> Edge | None:
    exposure = env.exposure
    if exposure is None:
        return None
    namespace = gateway_namespace(exposure, prefix)
    proxy = proxy_default(exposure, namespace)
    assert proxy is not None, "semantic_edges.check_exposure_settings lets no exposure without proxy pods pass"
    return Edge(
        api=exposure.api,
        gateway_name=exposure.gateway.name,
        gateway_namespace=namespace,
        create_gateway=exposure.api == "gateway" and exposure.gateway.create,
        gateway_class=exposure.gateway.class_name,
        ingress_class=exposure.ingress_class,
        proxy=proxy,
        issuer=exposure.tls.issuer if exposure.tls else None,
        issuer_kind=exposure.tls.kind if exposure.tls else "ClusterIssuer",
    )


def network(env: SpecEnvironment) -> Network:
    net = env.network
    return Network(net.cni == "cilium", tuple(net.pod_cidrs), tuple(net.service_cidrs))


def admitted(w: AnyWorkload) -> tuple[Peer, ...]:
    return tuple(_peer(a) for a in w.admit)


def _peer(a: Admit) -> Peer:
    return Peer(a.namespace, tuple(sorted(a.pods.items())), a.description)


def egress(w: AnyWorkload) -> tuple[Egress, ...]:
    out = []
    for i, e in enumerate(w.egress):
        cidr = e.cidr if isinstance(e, CidrEgress) else None
        host = e.host if isinstance(e, HostEgress) else None
        out.append(Egress(cidr, host.lower() if host else None, tuple(sorted(set(e.ports))), e.protocol, i))
    return tuple(out)


def route(spec: Spec, name: str, w: AnyWorkload, env_name: str, env_edge: Edge | None) -> Route | None:
    if w.expose is None or env_edge is None:
        return None
    issued = w.expose.tls and (env_edge.api == "ingress" or env_edge.create_gateway)
    return Route(
        hosts=hosts(spec, name, w, env_name),
        paths=tuple(sorted({normal_path(p) for p in w.expose.paths})),
        tls=w.expose.tls,
        certificate_secret=names.tls_secret(name) if issued else None,
    )
