"""Semantic checks of the platform's edges (GPC250-259): public exposure, admitted callers, egress.

Each check reads the validated model and reports at the spec line that caused the problem.
Listed in compiler/semantic.py's CHECKS.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from compiler import edges, names
from compiler.model import Platform, Service
from compiler.model_edges import CidrEgress, HostEgress
from compiler.source import Path

if TYPE_CHECKING:
    from compiler.semantic import Reporter

_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})+$")
_DNS_MAX = 253

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def hostname_problem(host: str, *, wildcard: bool = False) -> str | None:
    """Why `host` is not a DNS name gpc can route or resolve, or None."""
    name = host[2:] if wildcard and host.startswith("*.") else host
    if len(host) > _DNS_MAX:
        return f"is {len(host)} characters long; DNS names have at most {_DNS_MAX}"
    if name.lower() != name:
        return "contains uppercase letters"
    if re.fullmatch(r"[0-9.]+", name) or ":" in name:
        return "is an IP address, not a DNS name"
    if not _DNS_NAME.match(name):
        return ("is not a DNS name with at least two labels of lowercase letters, digits and '-' "
                "(each at most 63 characters, not starting or ending with '-')")
    return None


def check_hostnames(spec: Platform, report: Reporter) -> None:
    for wname, w in spec.workloads.items():
        if w.expose is not None:
            for i, host in enumerate(w.expose.hosts or []):
                _report_host(report, host, ("workloads", wname, "expose", "hosts", i))
        for i, e in enumerate(w.egress):
            if isinstance(e, HostEgress):
                _report_host(report, e.host, ("workloads", wname, "egress", i, "host"), wildcard=True)
    for ename, env in spec.environments.items():
        for wname, override in env.overrides.workloads.items():
            for i, host in enumerate(override.hosts or []):
                _report_host(report, host, ("environments", ename, "overrides", "workloads", wname, "hosts", i))
        if env.exposure is not None and env.exposure.domain is not None:
            problem = hostname_problem(env.exposure.domain)
            if problem:
                report("GPC253", f"domain '{env.exposure.domain}' {problem}",
                       ("environments", ename, "exposure", "domain"), hint="for example 'dev.shop.example.com'")


def _report_host(report: Reporter, host: str, path: Path, *, wildcard: bool = False) -> None:
    problem = hostname_problem(host, wildcard=wildcard)
    if problem:
        hint = f"use '{host.lower()}'" if problem == "contains uppercase letters" else "for example 'shop.example.com'"
        report("GPC253", f"hostname '{host}' {problem}", path, hint=hint)


def check_ports_to_open(spec: Platform, report: Reporter) -> None:
    for wname, w in spec.workloads.items():
        if isinstance(w, Service):
            continue
        for key, what in (("expose", "be exposed"), ("admit", "admit callers")):
            if key in w.model_fields_set and getattr(w, key):
                report("GPC252", f"{w.type} '{wname}' has no port, so it cannot {what}",
                       ("workloads", wname, key), key=True,
                       hint="only a service listens on a port; make it a service or remove this")


def check_exposure(spec: Platform, report: Reporter) -> None:
    """Every environment can serve every exposed workload: hostnames unique, issuer present."""
    exposed = {n: w for n, w in spec.workloads.items() if isinstance(w, Service) and w.expose is not None}
    for ename, env in spec.environments.items():
        exposure = env.exposure
        env_path: Path = ("environments", ename)
        if exposure is not None:
            _check_exposure_settings(spec, ename, report)
        claimed: dict[str, str] = {}
        for wname, w in exposed.items():
            assert w.expose is not None
            if exposure is None:
                report("GPC258", f"workload '{wname}' is exposed, but environment '{ename}' has no 'exposure'",
                       ("workloads", wname, "expose"), key=True,
                       hint=f"add environments.{ename}.exposure (domain, gateway, tls)")
                continue
            hosts = edges.hosts(spec, wname, w, ename)
            if not hosts:
                report("GPC258", f"workload '{wname}' has no hostname in environment '{ename}'",
                       ("workloads", wname, "expose"), key=True,
                       hint=f"set expose.hosts, or environments.{ename}.exposure.domain for "
                       f"'{wname}.<domain>'")
            for host in hosts:
                first = claimed.get(host)
                if first is not None:
                    by = "listed twice" if first == wname else f"already claimed by workload '{first}'"
                    report("GPC250", f"hostname '{host}' of workload '{wname}' in environment '{ename}' is {by}",
                           _hosts_path(spec, wname, ename), hint="give each workload its own hostname; serve "
                           "several paths of one host from one workload")
                    break
                claimed[host] = wname
            issued = exposure.api == "ingress" or exposure.gateway.create
            if w.expose.tls and issued and exposure.tls is None:
                report("GPC254", f"workload '{wname}' serves TLS in environment '{ename}', whose exposure "
                       "names no certificate issuer", (*env_path, "exposure"), key=True,
                       hint="add 'tls: {issuer: <cert-manager ClusterIssuer>}', or set 'expose.tls: false'")


def _hosts_path(spec: Platform, wname: str, ename: str) -> Path:
    override = spec.environments[ename].overrides.workloads.get(wname)
    if override is not None and override.hosts:
        return ("environments", ename, "overrides", "workloads", wname, "hosts")
    w = spec.workloads[wname]
    if w.expose is not None and w.expose.hosts:
        return ("workloads", wname, "expose", "hosts")
    return ("workloads", wname, "expose")


def _check_exposure_settings(spec: Platform, ename: str, report: Reporter) -> None:
    exposure = spec.environments[ename].exposure
    assert exposure is not None
    path: Path = ("environments", ename, "exposure")
    prefix = names.namespace_prefix(spec.name, ename, spec.environments[ename].namespace_prefix)
    if edges.proxy_default(exposure, edges.gateway_namespace(exposure, prefix)) is None:
        what = "Ingress controller" if exposure.api == "ingress" else "existing Gateway"
        report("GPC258", f"environment '{ename}' does not say which pods forward public traffic (its {what} "
               "runs them)", path, key=True,
               hint="set 'proxy: {namespace: <their namespace>, pods: {<label>: <value>}}'")
    services = names.namespace(prefix, "services")
    if exposure.api == "gateway" and exposure.gateway.create and exposure.gateway.namespace not in (None, services):
        # With the routes and the certificates' Secrets, in a namespace Argo CD may deliver to and no
        # ReferenceGrant is needed.
        report("GPC258", f"a Gateway gpc creates lives in the services namespace '{services}', not "
               f"'{exposure.gateway.namespace}'", (*path, "gateway", "namespace"),
               hint="remove 'namespace', or set 'create: false' to use an existing Gateway there")
    if exposure.api == "gateway" and exposure.gateway.create and exposure.gateway.class_name is None:
        report("GPC258", f"environment '{ename}' creates a Gateway but names no GatewayClass",
               (*path, "gateway"), key="gateway" not in exposure.model_fields_set,
               hint="set 'gateway: {class_name: <your controller's class>}', e.g. 'eg' for Envoy Gateway")


def check_paths(spec: Platform, report: Reporter) -> None:
    for wname, w in spec.workloads.items():
        if w.expose is None:
            continue
        seen: dict[str, str] = {}
        for i, path in enumerate(w.expose.paths):
            normal = edges.normal_path(path)
            if normal in seen:
                report("GPC251", f"path '{path}' of workload '{wname}' is the same prefix as '{seen[normal]}'",
                       ("workloads", wname, "expose", "paths", i), hint="list each path prefix once")
            seen.setdefault(normal, path)


def _network(value: str) -> Network | None:
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError:
        return None


def _cidr_problem(value: str) -> str | None:
    if _network(value) is not None:
        return None
    try:
        fixed = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return "is not a CIDR (an address block such as 192.0.2.0/24)"
    return f"has host bits set; the block is {fixed}"


def check_egress(spec: Platform, report: Reporter) -> None:
    ranges: dict[str, list[Network]] = {}
    for ename, env in spec.environments.items():
        for key in ("pod_cidrs", "service_cidrs"):
            for i, value in enumerate(getattr(env.network, key)):
                problem = _cidr_problem(value)
                if problem:
                    report("GPC256", f"{key[:-1].replace('_', ' ')} '{value}' {problem}",
                           ("environments", ename, "network", key, i))
        ranges[ename] = [n for n in map(_network, env.network.pod_cidrs + env.network.service_cidrs) if n]
    for wname, w in spec.workloads.items():
        for i, e in enumerate(w.egress):
            path: Path = ("workloads", wname, "egress", i)
            if isinstance(e, HostEgress):
                without = [n for n, env in spec.environments.items() if env.network.cni != "cilium"]
                if without:
                    report("GPC255", f"egress to hostname '{e.host}' cannot be enforced in environment "
                           f"'{without[0]}': standard NetworkPolicies match addresses, not names", (*path, "host"),
                           hint=f"if '{without[0]}' runs Cilium, set its 'network: {{cni: cilium}}'; otherwise "
                           "declare the destination as a 'cidr'")
                continue
            assert isinstance(e, CidrEgress)
            problem = _cidr_problem(e.cidr)
            if problem:
                report("GPC256", f"egress cidr '{e.cidr}' {problem}", (*path, "cidr"))
                continue
            block = _network(e.cidr)
            assert block is not None
            for ename, env in spec.environments.items():
                if not env.network.pod_cidrs or not env.network.service_cidrs:
                    report("GPC257", f"workload '{wname}' declares egress to '{e.cidr}', but environment "
                           f"'{ename}' does not declare its pod and Service ranges", (*path, "cidr"),
                           hint=f"set environments.{ename}.network.pod_cidrs and service_cidrs")
                    break
                inside = next((r for r in ranges[ename] if r.version == block.version and block.subnet_of(r)), None)  # type: ignore[arg-type]
                if inside is not None:
                    report("GPC256", f"egress cidr '{e.cidr}' lies inside cluster range '{inside}' of environment "
                           f"'{ename}'", (*path, "cidr"),
                           hint="reach pods and Services with 'uses' (gpc workloads) or their 'admit'")
                    break
