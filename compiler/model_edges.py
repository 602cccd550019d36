"""The spec model of the platform's edges: public exposure, admitted in-cluster callers, external
egress (on workloads), and how an environment's cluster does them (on environments).

Field descriptions become editor hover text. Values the model cannot judge alone (DNS names,
CIDRs, hostnames claimed twice, TLS without an issuer) are checked by compiler/semantic_edges.py
so that the message can say which value is wrong and why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, WithJsonSchema

# Kubernetes label keys and values (a qualified name with an optional DNS-subdomain prefix).
LABEL_KEY_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
NAMESPACE_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
URL_PATH_PATTERN = r"^/[-A-Za-z0-9._~!$&'()*+,;=:@%/]*$"

Labels = Annotated[dict[Annotated[str, Field(pattern=LABEL_KEY_PATTERN)],
                        Annotated[str, Field(pattern=LABEL_VALUE_PATTERN)]], Field()]
Port = Annotated[int, Field(ge=1, le=65535)]
Hostname = Annotated[str, WithJsonSchema({"type": "string", "format": "hostname", "maxLength": 253,
                                          "examples": ["shop.example.com"]})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Expose(_Strict):
    """Serve this workload to the outside world through its environment's gateway (or Ingress)."""

    model_config = ConfigDict(title="Public exposure")
    hosts: list[Hostname] | None = Field(
        None, min_length=1, description="Hostnames that route to this workload, in every environment. Default: "
        "`<workload>.<exposure.domain>` of each environment. An environment override's `hosts` replaces them "
        "there. A hostname belongs to one workload.", examples=[["shop.example.com"]])
    paths: list[Annotated[str, Field(pattern=URL_PATH_PATTERN)]] = Field(["/"], min_length=1, description="Path prefixes routed to the workload "
                             "(matched per path segment, passed on unchanged).", examples=[["/", "/api"]])
    tls: bool = Field(True, description="Serve HTTPS with a certificate cert-manager issues from the "
                      "environment's `exposure.tls.issuer` (or, for a gateway gpc does not create, the "
                      "certificate of that gateway's listener). `false` serves plain HTTP.")


class Admit(_Strict):
    """An in-cluster caller that is not a gpc workload (an ingress controller, a webhook sender,
    a monitoring namespace), admitted to the workload's port and to nothing else."""

    model_config = ConfigDict(title="Admitted caller")
    namespace: str = Field(pattern=NAMESPACE_PATTERN, description="The caller's namespace, by name.",
                           examples=["monitoring"])
    pods: Labels = Field(default_factory=dict, description="Labels of the caller's pods. Empty: every pod "
                         "of the namespace.", examples=[{"app.kubernetes.io/name": "prometheus"}])
    description: str | None = Field(None, description="Who this caller is and why it is let in.")


class EgressBase(_Strict):
    ports: list[Port] = Field(min_length=1, description="Ports the workload may reach there.", examples=[[443]])
    protocol: Literal["TCP", "UDP"] = Field("TCP", description="Protocol of those ports.")
    description: str | None = Field(None, description="What is out there and why the workload talks to it.")


class CidrEgress(EgressBase):
    """Addresses outside the cluster, as a CIDR block (a standard NetworkPolicy `ipBlock`)."""

    model_config = ConfigDict(title="Egress to addresses")
    cidr: str = Field(description="An IPv4 or IPv6 CIDR outside the cluster's pod and service ranges "
                      "(`network.pod_cidrs`, `network.service_cidrs`); those ranges are always excluded.",
                      examples=["192.0.2.0/24"])


class HostEgress(EgressBase):
    """A hostname outside the cluster. Standard NetworkPolicies cannot name hosts: this needs a CNI
    with FQDN policies (`network.cni: cilium`), which gets a `CiliumNetworkPolicy` `toFQDNs` rule."""

    model_config = ConfigDict(title="Egress to a hostname")
    host: str = Field(description="A DNS name, or `*.` and a DNS name for its subdomains.",
                      examples=["api.stripe.com"])


EGRESS_MODELS: tuple[type[EgressBase], ...] = (CidrEgress, HostEgress)


def _egress_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return "cidr" if "cidr" in value else ("host" if "host" in value else None)
    return "cidr" if isinstance(value, CidrEgress) else ("host" if isinstance(value, HostEgress) else None)


if TYPE_CHECKING:
    Egress = EgressBase
else:
    Egress = Annotated[
        Union[Annotated[CidrEgress, Tag("cidr")], Annotated[HostEgress, Tag("host")]],  # noqa: UP007
        Discriminator(_egress_kind, custom_error_type="egress_kind",
                      custom_error_message="an egress entry names a 'cidr' or a 'host'"),
    ]


class GatewaySettings(_Strict):
    """The Gateway (Gateway API) the environment's HTTPRoutes attach to."""

    model_config = ConfigDict(title="Gateway")
    name: str = Field("public", pattern=NAMESPACE_PATTERN, description="The Gateway's name.")
    namespace: str | None = Field(None, pattern=NAMESPACE_PATTERN, description="The Gateway's namespace. "
                                  "Default: the environment's services namespace.")
    create: bool = Field(True, description="gpc creates the Gateway (one HTTPS listener per exposed hostname, "
                         "certificates from cert-manager, plain HTTP redirected to HTTPS). `false`: it exists; "
                         "its listeners and their certificates are the platform team's.")
    class_name: str | None = Field(None, description="`gatewayClassName` of the Gateway gpc creates.",
                                   examples=["eg"])


class ProxyPods(_Strict):
    """The pods that carry public traffic into the cluster: only they are admitted to exposed ports."""

    model_config = ConfigDict(title="Proxy pods")
    namespace: str = Field(pattern=NAMESPACE_PATTERN, description="Their namespace.",
                           examples=["envoy-gateway-system"])
    pods: Labels = Field(min_length=1, description="Their labels.",
                         examples=[{"app.kubernetes.io/name": "traefik"}])


class TlsIssuer(_Strict):
    """The cert-manager issuer of the certificates of exposed workloads."""

    model_config = ConfigDict(title="TLS issuer")
    issuer: str = Field(pattern=NAMESPACE_PATTERN, description="Name of a cert-manager issuer.",
                        examples=["letsencrypt"])
    kind: Literal["ClusterIssuer", "Issuer"] = Field("ClusterIssuer", description="A `ClusterIssuer`, or an "
                                                     "`Issuer` in the services namespace.")


class Exposure(_Strict):
    """How this environment serves exposed workloads to the outside world: Gateway API HTTPRoutes (or
    Ingresses), the Gateway, the default domain and the cert-manager issuer."""

    model_config = ConfigDict(title="Exposure")
    api: Literal["gateway", "ingress"] = Field(
        "gateway", description="`gateway`: Gateway API HTTPRoutes. `ingress`: Ingress objects, for clusters "
        "without Gateway API.", json_schema_extra={"markdownEnumDescriptions": [
            "An HTTPRoute per exposed workload, attached to `gateway`.",
            "An Ingress per exposed workload, of `ingress_class`."]})
    domain: str | None = Field(None, description="Exposed workloads without `hosts` are served at "
                               "`<workload>.<domain>`.", examples=["dev.shop.example.com"])
    gateway: GatewaySettings = Field(default_factory=GatewaySettings, description="The Gateway (api: gateway).")
    ingress_class: str | None = Field(None, description="`ingressClassName` of the Ingresses (api: ingress).",
                                      examples=["traefik"])
    proxy: ProxyPods | None = Field(None, description="The pods that forward public traffic. Default for a "
                                    "Gateway gpc creates: Envoy Gateway's proxy pods of that Gateway. Required "
                                    "otherwise.")
    tls: TlsIssuer | None = Field(None, description="Where certificates come from. Required when an exposed "
                                  "workload has `tls` and gpc terminates TLS (a Gateway it creates, or Ingress).")


class Network(_Strict):
    """What gpc must know about the environment's cluster network."""

    model_config = ConfigDict(title="Network")
    cni: Literal["generic", "cilium"] = Field(
        "generic", description="The cluster's network plugin. `cilium` supports FQDN policies, so egress to "
        "hostnames becomes `CiliumNetworkPolicy` `toFQDNs` rules.", json_schema_extra={
            "markdownEnumDescriptions": ["Standard NetworkPolicies only: egress is by CIDR.",
                                         "Cilium: egress by CIDR or by hostname."]})
    pod_cidrs: list[str] = Field(default_factory=list, description="The cluster's pod address ranges. "
                                 "Egress CIDRs exclude them.", examples=[["10.244.0.0/16"]])
    service_cidrs: list[str] = Field(default_factory=list, description="The cluster's Service address ranges. "
                                     "Egress CIDRs exclude them.", examples=[["10.96.0.0/12"]])
