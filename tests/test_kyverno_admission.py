"""The policies, executed, in both kinds `guardrails.policy_kind` offers (ValidatingPolicy and
ClusterPolicy): everything gpc generates is admitted, and so is every Pod its controllers create;
each deliberately broken manifest is rejected by the rules meant to catch it, with `fail` (their
message), not an evaluation error; and the ways around the workload kinds (a bare Pod, a
ReplicaSet, a StatefulSet, a DaemonSet, `kubectl debug`'s ephemeral container) are rejected at the
Pod. Every case runs on celpy and, where it installs, on cel-cpp; both must agree.

The broken manifests are real ones, built by kustomize from the kustomize target's overlays,
with one thing changed (kyverno_cel/corpus.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import all_spec_files, load_ir, require_tool, spec_id
from kyverno_cel.build import POLICY_KIND_CHOICES, Delivery, deliver, pod_of
from kyverno_cel.corpus import ADMITTED, ALL_CASES, BASES, REJECTED, Case, main, security, template
from kyverno_cel.engines import celpy_engine, every_engine
from kyverno_cel.evaluator import Admission, Coverage, Evaluator, Request

from compiler.names import LABEL_PART_OF as PART_OF
from targets.kyverno import rules as r
from targets.kyverno.policy import workload_namespaces
from targets.kyverno.rules import guardrail_rules

KINDS = pytest.mark.parametrize("kind", POLICY_KIND_CHOICES)


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Delivery]:
    kubectl = require_tool("kubectl")
    return {spec_id(spec): deliver(load_ir(spec), tmp_path_factory.mktemp(spec_id(spec)), kubectl)
            for spec in all_spec_files()}


def admit_on_every_engine(policies: list[dict[str, Any]], request: Request,
                          coverage: Coverage | None = None) -> Admission:
    results = [Evaluator(e, coverage if e.name == "celpy" else None).admit(policies, request) for e in every_engine()]
    first = results[0]
    for other in results[1:]:
        assert [(x.rule, x.outcome, x.expressions) for x in other.results] == \
            [(x.rule, x.outcome, x.expressions) for x in first.results], "celpy and cel-cpp disagree"
    return first


def failed(delivery: Delivery, kind: str, admission: Admission) -> set[str]:
    """gpc's names of the rules that failed."""
    return {delivery.rule_of(kind, rule) for rule in admission.failed_rules}


def assert_rejected_by(delivery: Delivery, kind: str, request: Request, rules: set[str]) -> None:
    admission = admit_on_every_engine(delivery.policies(kind), request)
    assert not admission.allowed
    assert failed(delivery, kind, admission) == rules, [(d.rule, d.outcome, d.message) for d in admission.denials]
    for denial in admission.denials:
        assert denial.outcome == "fail", f"an evaluation error, not the rule's verdict: {denial.message}"
        failing = next(x for x in denial.expressions if x.outcome == "fail")
        assert denial.message == expected_message(delivery.policies(kind), denial.rule, failing.index)
        assert all(x.outcome != "error" for x in denial.expressions)


def expected_message(policies: list[dict[str, Any]], rule_id: str, index: int) -> str:
    for p in policies:
        if p["kind"] == "ValidatingPolicy" and p["metadata"]["name"] == rule_id:
            return p["spec"]["validations"][index]["message"]  # type: ignore[no-any-return]
        for rule in p["spec"].get("rules", []):
            if rule["name"] == rule_id:
                return rule["validate"]["cel"]["expressions"][index]["message"]  # type: ignore[no-any-return]
    raise AssertionError(f"no rule {rule_id}")


# -- everything gpc generates is admitted ------------------------------------------------------


@KINDS
@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_every_generated_workload_and_its_pods_are_admitted(spec: Path, kind: str,
                                                            delivered: dict[str, Delivery]) -> None:
    platform = load_ir(spec)
    delivery = delivered[spec_id(spec)]
    rules = guardrail_rules(platform)
    # ... and each delivered database owner's migration Job (a PreSync hook), which must be admitted too.
    migrations = sum(len(platform.environments_of(w)) for w in platform.workloads
                     if w.database is not None and w.database.migrate and not w.awaits_delivery)
    assert len(delivery.workloads) == sum(len(platform.environments_of(w)) for w in platform.workloads) + migrations
    for manifest in delivery.workloads:
        namespace = manifest["metadata"]["namespace"]
        for request, expected in (
                (Request(manifest), {x.name for x in rules if manifest["kind"] in x.kinds}),
                (Request(pod_of(manifest)), {x.name for x in rules if namespace in workload_namespaces(platform, x.pod_type)})):
            admission = admit_on_every_engine(delivery.policies(kind), request)
            assert admission.allowed, [(d.rule, d.outcome, d.message) for d in admission.denials]
            applied = {delivery.rule_of(kind, x.rule) for x in admission.results if x.outcome == "pass"}
            assert applied == expected, f"{request.kind}: every rule for it ran and passed (none skipped)"
    for other in delivery.manifests:
        if other not in delivery.workloads:
            assert all(x.outcome == "skip" for x in admit_on_every_engine(delivery.policies(kind), Request(other)).results)


# -- broken manifests, and the Pods they would create -------------------------------------------


def broken(case: Case, delivered: dict[str, Delivery]) -> tuple[dict[str, Any], Delivery]:
    spec, kind, name, namespace = BASES[case.base]
    delivery = delivered[spec]
    manifest = copy.deepcopy(delivery.workload(kind, name, namespace))
    case.change(manifest)
    assert manifest != delivery.workload(kind, name, namespace), "the change must change something"
    return manifest, delivery


@KINDS
@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c.id)
def test_broken_manifest_and_its_pod_are_rejected_by_their_rules_only(case: Case, kind: str,
                                                                      delivered: dict[str, Delivery]) -> None:
    manifest, delivery = broken(case, delivered)
    assert_rejected_by(delivery, kind, Request(manifest), case.rules)
    assert_rejected_by(delivery, kind, Request(pod_of(manifest)), case.rules)


@KINDS
@pytest.mark.parametrize("case", ADMITTED, ids=lambda c: c.id)
def test_compliant_variant_and_its_pod_are_admitted(case: Case, kind: str, delivered: dict[str, Delivery]) -> None:
    manifest, delivery = broken(case, delivered)
    for request in (Request(manifest), Request(pod_of(manifest))):
        admission = admit_on_every_engine(delivery.policies(kind), request)
        assert admission.allowed, [(d.rule, d.outcome, d.message) for d in admission.denials]


# -- the bypass corpus: other ways to get a Pod into a platform namespace -----------------------


def controller(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A `kind` someone writes by hand from a generated Deployment's pod template."""
    def build(deployment: dict[str, Any]) -> dict[str, Any]:
        spec: dict[str, Any] = {"selector": deployment["spec"]["selector"], "template": template(deployment)}
        if kind == "StatefulSet":
            spec["serviceName"] = deployment["metadata"]["name"]
        return {"apiVersion": "apps/v1", "kind": kind,
                "metadata": {"name": f"{deployment['metadata']['name']}-{kind.lower()}",
                             "namespace": deployment["metadata"]["namespace"]}, "spec": copy.deepcopy(spec)}
    return build


VEHICLES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "bare-pod": lambda d: pod_of(d, name="checkout-by-hand"),
    "replicaset": controller("ReplicaSet"),
    "statefulset": controller("StatefulSet"),
    "daemonset": controller("DaemonSet"),
}


@dataclass(frozen=True)
class Bypass:
    id: str
    change: Callable[[dict[str, Any]], Any]  # on the Pod (template)
    rules: frozenset[str]


BYPASSES = [
    Bypass("foreign-image", lambda p: main(p).update(image="docker.io/library/busybox:1.36"),
           frozenset({r.ALLOWED_REGISTRIES, r.PLATFORM_IMAGES})),
    Bypass("no-limits", lambda p: main(p)["resources"].pop("limits"), frozenset({r.REQUIRE_RESOURCES})),
    Bypass("too-much-memory", lambda p: main(p)["resources"].update(limits={"cpu": "500m", "memory": "4Gi"}),
           frozenset({"max-memory-service"})),
    Bypass("privilege-escalation", lambda p: security(p).update(allowPrivilegeEscalation=True),
           frozenset({r.NO_PRIVILEGE_ESCALATION})),
    Bypass("root", lambda p: security(p).update(runAsNonRoot=False, runAsUser=0), frozenset({r.RUN_AS_NON_ROOT})),
    Bypass("latest", lambda p: main(p).update(image="ghcr.io/acme/checkout:latest"), frozenset({r.DISALLOW_LATEST})),
    Bypass("unlabelled", lambda p: template(p)["metadata"]["labels"].pop(PART_OF), frozenset({r.REQUIRE_LABELS})),
]


def checkout(delivered: dict[str, Delivery]) -> tuple[dict[str, Any], Delivery]:
    spec, kind, name, namespace = BASES["deployment"]
    return copy.deepcopy(delivered[spec].workload(kind, name, namespace)), delivered[spec]


@KINDS
@pytest.mark.parametrize("vehicle", VEHICLES)
def test_a_compliant_pod_from_any_controller_is_admitted(vehicle: str, kind: str,
                                                         delivered: dict[str, Delivery]) -> None:
    deployment, delivery = checkout(delivered)
    obj = VEHICLES[vehicle](deployment)
    pod = obj if obj["kind"] == "Pod" else pod_of(obj)
    assert admit_on_every_engine(delivery.policies(kind), Request(pod)).allowed


@KINDS
@pytest.mark.parametrize("bypass", BYPASSES, ids=lambda b: b.id)
@pytest.mark.parametrize("vehicle", VEHICLES)
def test_a_pod_around_the_workload_kinds_is_rejected(vehicle: str, bypass: Bypass, kind: str,
                                                     delivered: dict[str, Delivery]) -> None:
    """The controller itself is not a kind gpc renders, so it is not checked; its Pods are, when it
    creates them, by the same rules as a Deployment's (the controller sees the denial as events)."""
    deployment, delivery = checkout(delivered)
    obj = VEHICLES[vehicle](deployment)
    bypass.change(obj)
    if obj["kind"] != "Pod":
        controller_admission = admit_on_every_engine(delivery.policies(kind), Request(obj))
        assert all(x.outcome == "skip" for x in controller_admission.results)
        obj = pod_of(obj)
    assert_rejected_by(delivery, kind, Request(obj), set(bypass.rules))
    assert_rejected_by(delivery, kind, Request(obj, operation="UPDATE", old_object=obj), set(bypass.rules))


def debug(pod: dict[str, Any], change: Callable[[dict[str, Any]], Any] = lambda c: None) -> Request:
    """`kubectl debug`: an ephemeral container added to a running Pod through its subresource. It
    may not declare resources, ports or probes; this one copies the main container otherwise."""
    container = copy.deepcopy(main(pod))
    for key in ("resources", "ports", "livenessProbe", "readinessProbe", "startupProbe"):
        container.pop(key, None)
    container.update(name="debugger", targetContainerName=main(pod)["name"])
    change(container)
    debugged = copy.deepcopy(pod)
    debugged["spec"]["ephemeralContainers"] = [container]
    return Request(debugged, operation="UPDATE", old_object=pod, subresource="ephemeralcontainers")


EPHEMERAL = [
    Bypass("busybox", lambda c: c.update(image="docker.io/library/busybox:1.36"),
           frozenset({r.ALLOWED_REGISTRIES, r.PLATFORM_IMAGES})),
    Bypass("no-security-context", lambda c: c.pop("securityContext"),
           frozenset({r.NO_PRIVILEGE_ESCALATION, r.READ_ONLY_ROOT, r.DROP_CAPABILITIES})),
    Bypass("root", lambda c: c["securityContext"].update(runAsUser=0), frozenset({r.RUN_AS_NON_ROOT})),
    Bypass("capability-added", lambda c: c["securityContext"]["capabilities"].update(add=["SYS_PTRACE"]),
           frozenset({r.DROP_CAPABILITIES})),
    Bypass("untagged", lambda c: c.update(image="ghcr.io/acme/checkout"), frozenset({r.REQUIRE_TAG})),
]


@KINDS
@pytest.mark.parametrize("bypass", EPHEMERAL, ids=lambda b: b.id)
def test_an_ephemeral_container_is_held_to_the_image_and_security_rules(bypass: Bypass, kind: str,
                                                                        delivered: dict[str, Delivery]) -> None:
    deployment, delivery = checkout(delivered)
    assert_rejected_by(delivery, kind, debug(pod_of(deployment), bypass.change), set(bypass.rules))


@KINDS
def test_a_hardened_debug_container_of_a_platform_image_is_admitted(kind: str, delivered: dict[str, Delivery]) -> None:
    """Resources are not required of it: the API server refuses resources on ephemeral containers."""
    deployment, delivery = checkout(delivered)
    admission = admit_on_every_engine(delivery.policies(kind), debug(pod_of(deployment)))
    assert admission.allowed, [(d.rule, d.outcome, d.message) for d in admission.denials]


# -- scope ---------------------------------------------------------------------------------------


@KINDS
def test_scope_excluded_and_unmatched_requests_are_left_alone(kind: str, delivered: dict[str, Delivery]) -> None:
    manifest, delivery = broken(REJECTED[0], delivered)
    policies = delivery.policies(kind)
    assert not admit_on_every_engine(policies, Request(manifest, operation="UPDATE")).allowed
    assert admit_on_every_engine(policies, Request(manifest, operation="DELETE")).allowed
    for namespace in ("kube-system", "argocd", "kyverno", "fraud-detection-dev-infra", "default"):
        for obj in (manifest, pod_of(manifest)):
            admission = admit_on_every_engine(policies, Request(obj, namespace=namespace))
            assert admission.allowed and all(x.outcome == "skip" for x in admission.results), namespace
    # The maxima of services hold for Pods in the services namespaces, those of jobs in the jobs
    # namespaces: a Pod asking for 4 CPUs is refused next to the services, admitted next to the jobs.
    deployment, _ = checkout(delivered)
    pod = pod_of(deployment)
    main(pod)["resources"] = {"requests": {"cpu": "4", "memory": "1Gi"}, "limits": {"cpu": "4", "memory": "1Gi"}}
    assert failed(delivery, kind, admit_on_every_engine(policies, Request(pod))) == {"max-cpu-service"}
    assert admit_on_every_engine(policies, Request(pod, namespace="fraud-detection-dev-jobs")).allowed


# -- every expression is exercised -----------------------------------------------------------------


@KINDS
def test_every_expression_both_passes_and_fails(kind: str, delivered: dict[str, Delivery]) -> None:
    """Kyverno compiles CEL only when a request arrives: an expression no sample ever made fail (or
    pass) is untested. Counts per expression are printed for the record (pytest -s)."""
    coverage = Coverage()
    evaluator = Evaluator(celpy_engine(), coverage)
    for delivery in delivered.values():
        for manifest in delivery.workloads:
            evaluator.admit(delivery.policies(kind), Request(manifest))
            evaluator.admit(delivery.policies(kind), Request(pod_of(manifest)))
    for case in ALL_CASES:
        manifest, delivery = broken(case, delivered)
        evaluator.admit(delivery.policies(kind), Request(manifest))
    deployment, fraud = checkout(delivered)
    for bypass in EPHEMERAL:
        evaluator.admit(fraud.policies(kind), debug(pod_of(deployment), bypass.change))
    lines = []
    jobs = [p for p in delivered["gpu-cron"].policies(kind) if "job" in p["metadata"]["name"]]
    for policy in fraud.policies(kind) + jobs:
        name = policy["metadata"]["name"]
        # (a preview's pull-secret copy generates and validates nothing)
        rules = ([(name, v) for v in policy["spec"].get("validations", [])] if kind == "ValidatingPolicy" else
                 [(rule["name"], e) for rule in policy["spec"]["rules"] if "validate" in rule
                  for e in rule["validate"]["cel"]["expressions"]])
        for i, (rule, _) in enumerate(rules):
            counts = {o: coverage.counts[(name, rule, i, o)] for o in ("pass", "fail", "error")}
            lines.append(f"{name}[{i}]: pass {counts['pass']}, fail {counts['fail']}, error {counts['error']}")
            assert counts["pass"] > 0 and counts["fail"] > 0 and counts["error"] == 0, lines[-1]
    print("\n".join(lines))
