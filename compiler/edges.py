"""Facts of the platform's edges that the semantic checks (compiler/semantic_edges.py) and the
lowering (compiler/lower_edges.py) both need: a gateway's proxy pods, an exposed workload's
hostnames, path prefixes. Here, not in lower_edges, so that `gpc validate` does not import the IR.
"""

from __future__ import annotations

from compiler import names
from compiler.ir_values import Peer
from compiler.model import AnyWorkload
from compiler.model import Platform as Spec
from compiler.model_edges import Exposure


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
