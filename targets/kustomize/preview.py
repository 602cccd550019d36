"""Previews (issue 17): the kustomize folders every pull request's preview is built from.

    kustomize/_preview/_platform/   the whole `from` environment in one namespace: every workload's
                                    base with `from`'s settings (one replica, namespace-relative
                                    addresses, the preview's own credentials), the Namespace, its
                                    ResourceQuota, NetworkPolicies, broker, object store and the
                                    generator of its credentials (targets/kustomize/preview_infra.py)
    kustomize/_preview/<repo slug>/ what Argo CD builds for a pull request of that repository: the
                                    above, `from`'s CI-owned image components for the other
                                    workloads, and a placeholder tag for the repository's own
                                    workloads, which the ApplicationSet replaces with the pull
                                    request's (`kustomize.images`), as it sets the namespace
                                    (`kustomize.namespace`) and the hostnames (`kustomize.patches`)

The Namespace is an object of the Application (not `CreateNamespace=true`): kustomize names it
after the namespace Argo CD sets, and pruning the Application deletes it with everything in it.
The workloads' volumes are emptyDirs; the only PersistentVolumeClaims are those of the preview's
own database instances (preview_db.py), owned by their Cluster: the namespace's deletion removes
the Cluster, then its claims (their `kubernetes.io/pvc-protection` finalizer waits only for the
instance pod to stop), so nothing in a preview waits on anything outside it.
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Platform, Workload
from compiler.ir_preview import (
    DATABASE_STORAGE,
    PREVIEW_LABEL,
    Preview,
    PreviewSource,
    PreviewWorkload,
    preview_dir,
)
from compiler.target import Artifact
from compiler.yamlout import dump, dump_all
from targets.kustomize import meta, network, preview_db, preview_infra
from targets.kustomize.layers import base_values
from targets.kustomize.overlay import POD_PATH
from targets.kustomize.pod import env_entry, pod_spec, resources
from targets.kustomize.writable import with_home

COMMON = "kustomize/_preview/_platform"
PLACEHOLDER_NUMBER = 0
# Until the ApplicationSet sets the pull request's tag, the repository's own workloads name a tag
# no registry has: building the folder by hand never runs anything but a pull request's image.
PLACEHOLDER_TAG = "gpc-pull-request-image"
PREVIEWS_LISTENER = "previews"


def artifacts(platform: Platform) -> list[Artifact]:
    preview = platform.previews
    if preview is None:
        return []
    files = _common_files(platform, preview)
    out = [Artifact(f"{COMMON}/{name}", _text(platform, name, content)) for name, content in files.items()]
    for source in preview.sources:
        out.append(Artifact(f"{preview_dir(source.slug)}/kustomization.yaml",
                            dump(source_kustomization(platform, preview, source), platform.spec_file)))
    return out


def _text(platform: Platform, name: str, content: Any) -> str:
    """A patch (a list of operations) or a kustomization is one document; other lists are objects."""
    if isinstance(content, list) and not name.endswith("-patch.yaml"):
        return dump_all(content, platform.spec_file)
    return dump(content, platform.spec_file)


def source_kustomization(platform: Platform, preview: Preview, source: PreviewSource) -> dict[str, Any]:
    here = preview_dir(source.slug)
    own = set(source.workloads)
    components = [meta.relative(names.image_component_dir(w.name, preview.from_env), here)
                  for w in platform.workloads if w.name not in own]
    namespace = source.namespace(PLACEHOLDER_NUMBER)
    out: dict[str, Any] = {
        "apiVersion": meta.KUSTOMIZE_API, "kind": "Kustomization",
        "namespace": namespace,
        "resources": [meta.relative(COMMON, here)],
    }
    if components:
        out["components"] = components
    out["images"] = [{"name": image, "newTag": PLACEHOLDER_TAG} for image in source.images]
    hosts = host_patches(preview, namespace)
    if hosts:
        out["patches"] = hosts
    return out


def host_patches(preview: Preview, namespace: str) -> list[dict[str, Any]]:
    """Kustomize patches giving each exposed workload its hostname in the preview in `namespace`
    (the ApplicationSet writes the same with the pull request's namespace)."""
    return [{"target": {"group": "gateway.networking.k8s.io", "version": "v1", "kind": "HTTPRoute", "name": w},
             "patch": f"- op: replace\n  path: /spec/hostnames\n  value: [{host}]\n"}
            for w, host in sorted(preview.hosts(namespace).items())]


def _common_files(platform: Platform, preview: Preview) -> dict[str, Any]:
    here = COMMON
    files: dict[str, Any] = {
        "namespace.yaml": [namespace(platform), quota(platform, preview)],
        "network.yaml": network_policies(platform, preview),
        # In an environment Terraform creates each workload's ServiceAccount; a preview has no
        # Terraform run, so it brings its own (without API tokens unless the spec asks for them).
        "serviceaccounts.yaml": [{"apiVersion": "v1", "kind": "ServiceAccount",
                                  "metadata": {"name": w.service_account, "labels": meta.labels(platform, w),
                                               "annotations": meta.skips(preview_infra.NO_NAMESPACE)},
                                  "automountServiceAccountToken": w.api_access} for w in platform.workloads],
    }
    files.update(preview_infra.files(platform, preview))
    files.update(preview_db.files(platform, preview))
    routes = [r for w in platform.workloads if (r := route(platform, preview, w)) is not None]
    if routes:
        files["httproutes.yaml"] = routes
    patches = []
    for w in platform.workloads:
        name = f"{w.name}-patch.yaml"
        files[name] = workload_patch(platform, w, preview.workload(w.name))
        group, version = ("apps", "v1") if w.kind == "Deployment" else ("batch", "v1")
        patches.append({"path": name, "target": {"group": group, "version": version, "kind": w.kind, "name": w.name}})
        patches.append({"path": "no-admitted-callers-patch.yaml",
                        "target": {"group": "networking.k8s.io", "version": "v1", "kind": "NetworkPolicy",
                                   "name": w.name}})
    files["no-admitted-callers-patch.yaml"] = [{"op": "replace", "path": "/spec/ingress", "value": []}]
    listing = sorted(n for n in files if not n.endswith("-patch.yaml"))
    files["kustomization.yaml"] = {
        "apiVersion": meta.KUSTOMIZE_API, "kind": "Kustomization",
        "resources": [meta.relative(meta.base_dir(w.name), here) for w in platform.workloads] + listing,
        "labels": [{"pairs": {PREVIEW_LABEL: platform.name}, "includeSelectors": False, "includeTemplates": True}],
        "patches": patches,
    }
    return files


def namespace(platform: Platform) -> dict[str, Any]:
    # Restricted Pod Security: every gpc workload and the preview's own infrastructure run as
    # non-root, without privilege escalation, with every capability dropped.
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "preview", "labels": {
                meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc",
                "pod-security.kubernetes.io/enforce": "restricted"},
                "annotations": {"argocd.argoproj.io/sync-wave": "-3"}}}


def quota(platform: Platform, preview: Preview) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "preview", "labels": {meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"},
                         "annotations": {"argocd.argoproj.io/sync-wave": "-2"}},
            "spec": {"hard": {
                "requests.cpu": preview.quota_cpu, "requests.memory": preview.quota_memory,
                "limits.memory": preview.quota_memory, "pods": str(preview.quota_pods),
                # The Kyverno maxima of one workload type check that type's Deployments, Jobs and
                # CronJobs in a preview but not its Pods (one namespace holds both types): the
                # quota caps GPUs at what the preview's workloads declare, none by default.
                f"requests.{names.GPU_RESOURCE}": str(preview.gpus),
                # Nothing in a preview outlives it or reaches outside the cluster on its own; its
                # only claims are its database instances' volumes (preview_db.py).
                "persistentvolumeclaims": str(len(preview.databases)),
                **({"requests.storage": _storage(len(preview.databases))} if preview.databases else {}),
                "services.loadbalancers": "0", "services.nodeports": "0"}}}


def _storage(count: int) -> str:
    number, unit = DATABASE_STORAGE[:-2], DATABASE_STORAGE[-2:]
    return f"{int(number) * count}{unit}"


def network_policies(platform: Platform, preview: Preview) -> list[dict[str, Any]]:
    """Deny everything, then admit the preview's own pods to each other, DNS, each workload's
    declared external egress, and the Gateway's proxy to the exposed ports. No rule names another
    namespace except the DNS pods' and the proxy's: no path to or from any environment."""
    env = platform.environment(preview.from_env)
    labels = {meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"}

    def policy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": network.API, "kind": "NetworkPolicy", "metadata": {"name": name, "labels": labels},
                "spec": spec}

    own: dict[str, Any] = {"podSelector": {}}
    # The database pods are not in the catch-all: only their declared clients reach them (preview_db.py).
    internal = preview_db.NOT_A_DATABASE if preview.databases else {}
    out = [
        policy("preview-default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        policy("preview-internal", {"podSelector": internal, "policyTypes": ["Ingress", "Egress"],
                                    "ingress": [{"from": [own]}],
                                    "egress": [{"to": [own]}, network.dns_rule(env.dns)]}),
    ]
    for w in platform.workloads:
        cidrs = [network.cidr_rule(e, env.network) for e in w.egress if e.cidr is not None]
        if cidrs:
            out.append(policy(f"preview-egress-{w.name}", {
                "podSelector": {"matchLabels": meta.selector(w)}, "policyTypes": ["Egress"], "egress": cidrs}))
    if preview.domain is not None and env.edge is not None:
        for w in platform.workloads:
            if w.name in preview.exposed and w.port is not None:
                out.append(policy(f"preview-public-{w.name}", {
                    "podSelector": {"matchLabels": meta.selector(w)}, "policyTypes": ["Ingress"],
                    "ingress": [{"from": [network.external_peer(env.edge.proxy)], "ports": network.tcp(w.port)}]}))
    return out + preview_db.network_policies(platform, preview)


def route(platform: Platform, preview: Preview, w: Workload) -> dict[str, Any] | None:
    env = platform.environment(preview.from_env)
    placement = w.placement(env.name)
    if preview.domain is None or env.edge is None or placement.route is None or w.port is None:
        return None
    return {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": meta.metadata(w.name, meta.labels(platform, w)),
        "spec": {
            "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": env.edge.gateway_name,
                            "namespace": env.edge.gateway_namespace, "sectionName": PREVIEWS_LISTENER}],
            "hostnames": [f"{w.name}.{preview.domain}"],  # replaced per pull request (host_patches)
            "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": p}} for p in placement.route.paths],
                       "backendRefs": [{"group": "", "kind": "Service", "name": w.name, "port": w.port}]}],
        },
    }


def workload_patch(platform: Platform, w: Workload, pw: PreviewWorkload) -> list[dict[str, Any]]:
    """JSON6902 operations: the `from` environment's variables (made preview-local), resources and
    schedule, one replica, and emptyDirs for the spec's volumes (a preview claims no storage)."""
    pod = POD_PATH[w.kind]
    container = f"{pod}/containers/0"
    placement = w.placement(platform.previews.from_env)  # type: ignore[union-attr]
    env = [_optional_app_secret(env_entry(v), w) for v in sorted(with_home(w, pw.env_vars), key=lambda v: v.name)]
    ops: list[dict[str, Any]] = [
        {"op": "add", "path": f"{container}/env", "value": env},
        {"op": "replace", "path": f"{container}/resources", "value": resources(placement.effective_resources)},
    ]
    if w.kind == "Deployment":
        ops.append({"op": "replace", "path": "/spec/replicas", "value": 1})
    if platform.previews is not None and platform.previews.databases:  # after the migration (preview_db.py)
        ops.append({"op": "add", "path": "/metadata/annotations/argocd.argoproj.io~1sync-wave",
                    "value": preview_db.WORKLOAD_WAVE})
    if placement.schedule is not None:
        ops.append({"op": "replace", "path": "/spec/schedule", "value": placement.schedule.value})
    if w.volumes:
        volumes = pod_spec(platform, w, base_values(w))["volumes"]
        ops.append({"op": "replace", "path": f"{pod}/volumes",
                    "value": [{"name": v["name"], "emptyDir": {}} for v in volumes]})
    return ops


def _optional_app_secret(entry: dict[str, Any], w: Workload) -> dict[str, Any]:
    # The operator-supplied values of `secrets` exist only in real environments: a preview must not
    # hold them. The variable is left unset there instead of keeping the pod from starting.
    ref = entry.get("valueFrom", {}).get("secretKeyRef")
    if ref is not None and ref["name"] == names.app_secret(w.name):
        ref["optional"] = True
    return entry


def gateway_additions(platform: Platform, env_name: str, gateway: dict[str, Any] | None) -> dict[str, Any]:
    """In the `from` environment, the Gateway's listener for previews and its certificate: one
    HTTPS listener for `*.<domain>` that admits routes only from namespaces labelled as this
    platform's previews, and a wildcard certificate (its issuer must solve DNS-01: Let's Encrypt
    issues wildcards only so). File name -> object of the platform overlay; the Gateway changed in place."""
    preview = platform.previews
    env = platform.environment(env_name)
    if preview is None or preview.from_env != env_name or preview.domain is None or gateway is None:
        return {}
    edge = env.edge
    assert edge is not None
    secret = "previews-tls"
    gateway["spec"]["listeners"].append({
        "name": PREVIEWS_LISTENER, "hostname": f"*.{preview.domain}", "protocol": "HTTPS", "port": 443,
        "tls": {"mode": "Terminate", "certificateRefs": [{"group": "", "kind": "Secret", "name": secret}]},
        "allowedRoutes": {"namespaces": {"from": "Selector", "selector": {"matchLabels": {
            PREVIEW_LABEL: platform.name}}}},
    })
    if edge.issuer is None:
        return {}
    labels = {meta.NAME: "previews", meta.COMPONENT: "gateway", meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"}
    return {"previews-certificate.yaml": {
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": meta.metadata("previews", labels, namespace=edge.gateway_namespace),
        "spec": {"secretName": secret, "dnsNames": [f"*.{preview.domain}"],
                 "issuerRef": {"group": "cert-manager.io", "kind": edge.issuer_kind, "name": edge.issuer},
                 "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}},
    }}
