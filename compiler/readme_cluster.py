"""The generated README's "What each cluster must already run": what gpc's output uses but does not
install, per environment. gpc installs Argo CD and Kyverno (Terraform), the object store, the broker,
KEDA, the Pushgateway and, with `monitoring.install`, kube-prometheus-stack (Argo CD); the Gateway API, its controller, cert-manager, an ingress controller, Cilium,
metrics-server and the Prometheus Operator are the cluster's, and an environment that needs one says so here (a test checks
every environment's needs are listed)."""

from __future__ import annotations

from compiler import markdown, names
from compiler.ir import Environment, Platform


def needs(platform: Platform, env: Environment) -> list[str]:
    """What `env`'s cluster must provide for gpc's output to work there, one phrase each."""
    out = []
    edge = env.edge
    exposed = any(w.placement(env.name).route is not None for w in platform.workloads_in(env.name))
    if edge is not None and exposed:
        if edge.api == "gateway":
            out.append("the Gateway API CRDs (`gateway.networking.k8s.io/v1`, standard channel)")
            if edge.create_gateway:
                out.append(f"a Gateway controller serving the GatewayClass {markdown.code(edge.gateway_class or '')}")
            else:
                out.append(f"the Gateway {markdown.code(edge.gateway_namespace + '/' + edge.gateway_name)} "
                           "with its listeners and their certificates")
        else:
            out.append(f"an ingress controller of the IngressClass {markdown.code(edge.ingress_class or '')}")
        if edge.issuer is not None:
            out.append(f"cert-manager (`cert-manager.io/v1`) with the {edge.issuer_kind} "
                       f"{markdown.code(edge.issuer)}")
    if env.network.fqdn_policies:
        out.append("Cilium as the network plugin (its `CiliumNetworkPolicy` CRD enforces egress to hostnames)")
    if any(p.env == env.name and p.autoscale is not None and p.autoscale.queue is None
           for w in platform.workloads for p in w.placements):
        out.append("metrics-server (the resource metrics API the HorizontalPodAutoscalers read)")
    if env.monitoring is not None and env.monitoring.install:
        out.append(f"the Secret `{names.GRAFANA_ADMIN_SECRET}` (keys `admin-user`, `admin-password`) in the namespace "
                   f"{markdown.code(env.monitoring.scraper.namespace)}, for the Grafana gpc installs there")
    elif env.monitoring is not None:
        labels = ", ".join(f"`{k}: {v}`" for k, v in env.monitoring.selector)
        out.append("the Prometheus Operator (`monitoring.coreos.com` CRDs) with a Prometheus in the namespace "
                   f"{markdown.code(env.monitoring.scraper.namespace)} selecting monitors and rules by {labels}, "
                   "and its Alertmanager")
    return out


def section(platform: Platform) -> list[str]:
    rows = [(env, needs(platform, env)) for env in platform.environments]
    if not any(items for _, items in rows):
        return []
    lines = ["", "### What each cluster must already run", "",
             "gpc's output uses these but does not install them: the platform team provides them before Argo CD "
             "syncs the workloads.", "", "| environment | provided by the platform team |", "|---|---|"]
    lines += [f"| `{env.name}` | {'; '.join(items) or 'nothing beyond Kubernetes'} |" for env, items in rows]
    return [*lines, ""]
