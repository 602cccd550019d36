"""Lowering of the platform's edges: exposure, admitted callers, egress and the cluster network."""

from __future__ import annotations

from compiler import names
from compiler.ir import Edge, Egress, Network, Peer, Route
from compiler.model import AnyWorkload
from compiler.model import Environment as SpecEnvironment
from compiler.model import Platform as Spec
from compiler.model_edges import Admit, CidrEgress, Exposure, HostEgress


def proxy_default(exposure: Exposure, gateway_namespace: str) -> Peer | None:
    """The pods that forward public traffic, when the spec does not name them: Envoy Gateway's
    proxy pods of a Gateway gpc creates. Other controllers label their pods differently, so the
    spec must say (compiler/semantic_edges.py asks for it)."""
    if exposure.proxy is not None:
        return Peer(exposure.proxy.namespace, tuple(sorted(exposure.proxy.pods.items())))
    if exposure.api == "gateway" and exposure.gateway.create:
        return Peer(names.ENVOY_GATEWAY_NAMESPACE, tuple(sorted({
            names.ENVOY_OWNING_GATEWAY_NAME: exposure.gateway.name,
            names.ENVOY_OWNING_GATEWAY_NAMESPACE: gateway_namespace,
        }.items())))
    return None


def gateway_namespace(exposure: Exposure, prefix: str) -> str:
    return exposure.gateway.namespace or names.namespace(prefix, "services")


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


def hosts(spec: Spec, name: str, w: AnyWorkload, env_name: str) -> tuple[str, ...]:
    """The hostnames of an exposed workload in one environment (override, workload, default)."""
    override = spec.environments[env_name].overrides.workloads.get(name)
    if override is not None and override.hosts:
        return tuple(h.lower() for h in override.hosts)
    if w.expose is not None and w.expose.hosts:
        return tuple(h.lower() for h in w.expose.hosts)
    exposure = spec.environments[env_name].exposure
    if exposure is not None and exposure.domain:
        return (names.default_host(name, exposure.domain.lower()),)
    return ()


def normal_path(path: str) -> str:
    """Path prefixes match per segment, so `/api/` and `/api` are the same prefix."""
    return path.rstrip("/") or "/"


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
