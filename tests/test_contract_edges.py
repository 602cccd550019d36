"""The platform's edges as emitted, over the compiled tree of every spec (issue 14 items 1-3).

Every custom resource gpc emits for them is valid against its CRD: Gateway API's Gateway and
HTTPRoute, cert-manager's Certificate (tests/crd_models.py: the packages' ajv validators plus an
unknown-key check). No packaged schema exists for Cilium's CiliumNetworkPolicy (none on npm or PyPI,
see shared/research/toolchain.md §15): its structure is checked against the fields of the upstream
CRD (cilium/cilium, pkg/k8s/apis/cilium.io/client/crds/v2/ciliumnetworkpolicies.yaml), written out
below for the parts gpc uses, with unknown keys refused. And the objects fit together: routes attach
to listeners that exist, certificates cover the hostnames the listeners serve, and the Argo CD
project admits every kind the overlays contain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import SPECS, VALID_CASES, compiled_tree, load_ir, whole_overlays
from crd_models import TYPINGS, crd_tools, schema_errors, unknown_key_errors

from compiler import names
from compiler.ir import Platform

SPEC_FILES = SPECS + [case / "platform.yaml" for case in VALID_CASES]
CILIUM = ("cilium.io/v2", "CiliumNetworkPolicy")


def custom_resources(tree: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Every custom resource under kustomize/ (patch files are lists and are skipped)."""
    found = []
    for path, text in sorted(tree.items()):
        if not path.startswith("kustomize/") or not path.endswith(".yaml"):
            continue
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and (doc.get("apiVersion"), doc.get("kind")) in {*TYPINGS, CILIUM}:
                found.append((path, doc))
    return found


def all_custom_resources() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for spec in SPEC_FILES:
        platform = load_ir(spec)
        out += [(f"{platform.spec_name}/{p}", d) for p, d in custom_resources(compiled_tree(platform))]
    return out


def test_every_gateway_api_and_cert_manager_object_is_valid_against_its_crd(tmp_path: Path) -> None:
    node, tsc = crd_tools()
    objects = [d for _, d in all_custom_resources() if (d["apiVersion"], d["kind"]) != CILIUM]
    kinds = {d["kind"] for d in objects}
    assert kinds >= {"Gateway", "HTTPRoute", "Certificate"}, kinds  # the specs reach every kind
    assert schema_errors(node, objects) == []
    assert unknown_key_errors(tsc, objects, tmp_path) == []


def test_the_crd_checks_bite(tmp_path: Path) -> None:
    node, tsc = crd_tools()
    route = next(d for _, d in all_custom_resources() if d["kind"] == "HTTPRoute" and "matches" in d["spec"]["rules"][0])
    wrong_type = yaml.safe_load(yaml.safe_dump(route))
    wrong_type["spec"]["rules"][0]["backendRefs"][0]["port"] = "http"
    misspelled = yaml.safe_load(yaml.safe_dump(route))
    misspelled["spec"]["parentRef"] = misspelled["spec"].pop("parentRefs")
    assert schema_errors(node, [route, wrong_type]) != [] and len(schema_errors(node, [wrong_type])) == 1
    assert schema_errors(node, [misspelled]) == []  # the trap: the CRD schema allows unknown keys
    assert len(unknown_key_errors(tsc, [route, misspelled], tmp_path)) == 1


# Cilium's CiliumNetworkPolicy, the fields gpc emits, as the upstream CRD defines them (types,
# enums and patterns copied from its openAPIV3Schema); everything else refused.
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
_SELECTOR = {"type": "object", "additionalProperties": False, "properties": {"matchLabels": _LABELS}}
_PORT = {
    "type": "object", "additionalProperties": False, "required": ["port"],
    "properties": {
        "port": {"type": "string", "pattern": r"^(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|"
                 r"[1-5][0-9]{4}|[0-9]{1,4})|([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$"},
        "protocol": {"enum": ["TCP", "UDP", "SCTP", "ICMP", "ICMPV6", "ANY"]},
    },
}
_FQDN = {
    "type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
    "properties": {"matchName": {"type": "string", "pattern": r"^([-a-zA-Z0-9_]+[.]?)+$", "maxLength": 255},
                   "matchPattern": {"type": "string", "pattern": r"^([-a-zA-Z0-9_*]+[.]?)+$", "maxLength": 255}},
}
_PORT_RULE = {
    "type": "object", "additionalProperties": False,
    "properties": {"ports": {"type": "array", "items": _PORT, "minItems": 1},
                   "rules": {"type": "object", "additionalProperties": False,
                             "properties": {"dns": {"type": "array", "items": _FQDN}}}},
}
CILIUM_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "cilium.io/v2"}, "kind": {"const": "CiliumNetworkPolicy"},
        "metadata": {"type": "object"},
        "spec": {"type": "object", "additionalProperties": False, "required": ["endpointSelector"],
                 "properties": {"endpointSelector": _SELECTOR, "egress": {"type": "array", "items": {
                     "type": "object", "additionalProperties": False,
                     "properties": {"toEndpoints": {"type": "array", "items": _SELECTOR},
                                    "toCIDR": {"type": "array", "items": {"type": "string"}},
                                    "toFQDNs": {"type": "array", "items": _FQDN, "minItems": 1},
                                    "toPorts": {"type": "array", "items": _PORT_RULE}}}}}},
    },
}


def cilium_policies() -> list[tuple[str, dict[str, Any]]]:
    return [(p, d) for p, d in all_custom_resources() if (d["apiVersion"], d["kind"]) == CILIUM]


def test_cilium_policies_have_the_upstream_structure_and_the_dns_rule() -> None:
    policies = cilium_policies()
    assert policies, "no spec reaches egress to a hostname"
    validator = jsonschema.Draft202012Validator(CILIUM_SCHEMA)
    for path, doc in policies:
        assert [e.message for e in validator.iter_errors(doc)] == [], path
        egress = doc["spec"]["egress"]
        # Without a DNS rule on the cluster DNS, Cilium never learns the addresses of the names.
        dns = egress[0]
        assert list(dns["toEndpoints"][0]["matchLabels"]) == ["k8s:io.kubernetes.pod.namespace", "k8s:k8s-app"]
        assert dns["toPorts"][0]["rules"]["dns"] == [{"matchPattern": "*"}], path
        assert all("toFQDNs" in rule or "toCIDR" in rule for rule in egress[1:]), path
    bad = yaml.safe_load(yaml.safe_dump(policies[0][1]))
    bad["spec"]["egress"][1]["toFQDN"] = bad["spec"]["egress"][1].pop("toFQDNs")
    assert list(validator.iter_errors(bad)), "the Cilium schema must refuse a misspelled key"


@pytest.mark.parametrize("spec", SPEC_FILES, ids=lambda p: p.parent.name if p.name == "platform.yaml" else p.stem)
def test_routes_listeners_certificates_and_hostname_egress_agree(spec: Path) -> None:
    platform: Platform = load_ir(spec)
    tree = whole_overlays(compiled_tree(platform))  # an overlay's objects, wherever they are written
    for env in platform.environments:
        docs = {p: d for p, d in custom_resources(tree)}
        gateway = docs.get(f"{names.platform_overlay_dir(env.name)}/gateway.yaml")
        listeners = {item["name"]: item for item in gateway["spec"]["listeners"]} if gateway else {}
        for w in platform.workloads_in(env.name):
            route = w.placement(env.name).route
            here = names.overlay_dir(w.name, env.name)
            fqdn = docs.get(f"{here}/ciliumnetworkpolicy.yaml")
            hosts = sorted(e.host for e in w.egress if e.host)
            if hosts:
                assert fqdn is not None, (w.name, env.name)
                got = sorted(m.get("matchName") or m.get("matchPattern") for r in fqdn["spec"]["egress"]
                             for m in r.get("toFQDNs", []))
                dns = fqdn["spec"]["egress"][0]["toEndpoints"][0]["matchLabels"]
                assert dns == {"k8s:io.kubernetes.pod.namespace": env.dns.namespace,
                               **{f"k8s:{k}": v for k, v in env.dns.pod_labels}}
                assert got == hosts
            else:
                assert fqdn is None
            if route is None or env.edge is None:
                assert not any(p.startswith(f"{here}/") and d["kind"] in ("HTTPRoute", "Certificate")
                               for p, d in docs.items())
                continue
            if env.edge.api == "ingress":
                continue  # a built-in kind: test_kustomize validates it, test_cases keeps its golden
            http = docs[f"{here}/httproute.yaml"]
            assert http["spec"]["hostnames"] == list(route.hosts)
            assert [b["port"] for r in http["spec"]["rules"] for b in r["backendRefs"]] == [w.port]
            for parent in http["spec"]["parentRefs"]:
                assert (parent["name"], parent["namespace"]) == (env.edge.gateway_name, env.edge.gateway_namespace)
                if env.edge.create_gateway:
                    listener = listeners[parent["sectionName"]]
                    if route.tls:  # an HTTPS listener of one of the route's hosts, with its certificate
                        assert listener["hostname"] in route.hosts and listener["protocol"] == "HTTPS"
                        assert listener["tls"]["certificateRefs"][0]["name"] == route.certificate_secret
            if route.certificate_secret is not None:
                cert = docs[f"{here}/certificate.yaml"]
                assert cert["spec"]["secretName"] == route.certificate_secret
                assert cert["spec"]["dnsNames"] == list(route.hosts)
                assert cert["spec"]["issuerRef"] == {"group": "cert-manager.io", "kind": env.edge.issuer_kind,
                                                     "name": env.edge.issuer}
        # The Argo CD project of the environment admits every kind its overlays contain.
        project = yaml.safe_load(tree[f"{names.argocd_dir(env.name)}/project.yaml"])
        allowed = {(k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]}
        emitted = {(d["apiVersion"].split("/")[0], d["kind"]) for p, d in docs.items()
                   if p.startswith(("kustomize/_platform/overlays/" + env.name + "/",))
                   or f"/overlays/{env.name}/" in p}
        assert emitted <= allowed, emitted - allowed
