"""The evaluator behaves like Kyverno on the things gpc's policies depend on."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kyverno_cel.engines import Engine, celpy_engine, require_celcpp
from kyverno_cel.evaluator import Evaluator, Request, as_api_server_sends

ENGINES = [pytest.param(celpy_engine, id="celpy"), pytest.param(require_celcpp, id="cel-cpp")]

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop-dev-services"},
    "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
        {"name": "web", "image": "ghcr.io/acme/web:1.0", "resources": {"limits": {"memory": "1Gi"}}},
    ]}}},
}


def policy(*expressions: str, variables: tuple[tuple[str, str], ...] = (), action: str = "Enforce",
           match: dict[str, Any] | None = None, exclude: dict[str, Any] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": "r",
        "match": match or {"any": [{"resources": {"kinds": ["Deployment"], "operations": ["CREATE", "UPDATE"]}}]},
        "validate": {"failureAction": action, "cel": {
            "variables": [{"name": n, "expression": e} for n, e in variables],
            "expressions": [{"expression": e, "message": f"message {i}"} for i, e in enumerate(expressions)],
        }},
    }
    if exclude:
        rule["exclude"] = exclude
    return {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "p"},
            "spec": {"rules": [rule]}}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.param()  # type: ignore[no-any-return]


def test_true_passes_false_fails_with_the_message(engine: Engine) -> None:
    ev = Evaluator(engine)
    [ok] = ev.evaluate(policy("object.metadata.name == 'web'"), Request(DEPLOYMENT))
    assert ok.outcome == "pass" and not ok.blocks
    [bad] = ev.evaluate(policy("true", "object.metadata.name == 'api'"), Request(DEPLOYMENT))
    assert (bad.outcome, bad.message, bad.blocks) == ("fail", "message 1", True)
    assert [e.outcome for e in bad.expressions] == ["pass", "fail"]


def test_an_error_denies_too(engine: Engine) -> None:
    ev = Evaluator(engine)
    [r] = ev.evaluate(policy("object.spec.nothere == 1"), Request(DEPLOYMENT))
    assert r.outcome == "error" and r.blocks
    [r] = ev.evaluate(policy("nosuchfunction(object)"), Request(DEPLOYMENT))
    assert r.outcome == "error" and r.blocks
    [r] = ev.evaluate(policy("object.metadata.name"), Request(DEPLOYMENT))  # not a bool
    assert r.outcome == "error" and r.blocks
    [r] = ev.evaluate(policy("object.metadata.name =="), Request(DEPLOYMENT))  # does not parse
    assert r.outcome == "error" and r.blocks


def test_first_failing_expression_decides_the_message(engine: Engine) -> None:
    [r] = Evaluator(engine).evaluate(policy("false", "object.nothere"), Request(DEPLOYMENT))
    assert (r.outcome, r.message) == ("fail", "message 0")
    assert [e.outcome for e in r.expressions] == ["fail", "error"]


def test_audit_reports_but_admits(engine: Engine) -> None:
    admission = Evaluator(engine).admit([policy("false", action="Audit")], Request(DEPLOYMENT))
    assert admission.allowed and admission.failed_rules == {"r"}


def test_variables_in_order_each_seeing_the_earlier(engine: Engine) -> None:
    p = policy("variables.b.all(c, c.image.startsWith('ghcr.io/'))",
               variables=(("a", "object.spec.template.spec"), ("b", "variables.a.containers")))
    assert Evaluator(engine).evaluate(p, Request(DEPLOYMENT))[0].outcome == "pass"
    broken = policy("true", variables=(("b", "variables.a.containers"), ("a", "object.spec.template.spec")))
    assert Evaluator(engine).evaluate(broken, Request(DEPLOYMENT))[0].outcome == "error"


def test_boolean_values_survive_variables(engine: Engine) -> None:
    obj = copy.deepcopy(DEPLOYMENT)
    obj["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"runAsNonRoot": True}
    p = policy("variables.c.all(x, x.securityContext.runAsNonRoot == true)",
               variables=(("c", "object.spec.template.spec.containers"),))
    assert Evaluator(engine).evaluate(p, Request(obj))[0].outcome == "pass"


def test_match_kinds_namespaces_operations_and_exclude(engine: Engine) -> None:
    ev = Evaluator(engine)
    scoped = policy("false", match={"any": [{"resources": {
        "kinds": ["Deployment", "Job"], "namespaces": ["shop-*-services"], "operations": ["CREATE", "UPDATE"]}}]},
        exclude={"any": [{"resources": {"namespaces": ["shop-prod-services"]}}]})
    assert ev.evaluate(scoped, Request(DEPLOYMENT))[0].outcome == "fail"
    assert ev.evaluate(scoped, Request(DEPLOYMENT, operation="UPDATE"))[0].outcome == "fail"
    assert ev.evaluate(scoped, Request(DEPLOYMENT, operation="DELETE"))[0].outcome == "skip"
    assert ev.evaluate(scoped, Request(DEPLOYMENT, namespace="kube-system"))[0].outcome == "skip"
    assert ev.evaluate(scoped, Request(DEPLOYMENT, namespace="shop-prod-services"))[0].outcome == "skip"
    assert ev.evaluate(scoped, Request({**DEPLOYMENT, "kind": "StatefulSet"}))[0].outcome == "skip"
    assert ev.evaluate(scoped, Request({**DEPLOYMENT, "kind": "Job", "apiVersion": "batch/v1"}))[0].outcome == "fail"


def test_unsupported_match_criteria_are_refused_not_ignored() -> None:
    selector = policy("false", match={"any": [{"resources": {"kinds": ["Deployment"], "selector": {}}}]})
    with pytest.raises(NotImplementedError):
        Evaluator().evaluate(selector, Request(DEPLOYMENT))


def test_has_is_strict_only_in_cel_cpp() -> None:
    """Trap 2 of research/kyverno-cel.md: celpy says false where cel-go and cel-cpp error, and
    Kyverno denies on the error. The policies guard each level; this is why."""
    naive = policy("variables.c.all(x, !has(x.securityContext.runAsUser))",
                   variables=(("c", "object.spec.template.spec.containers"),))
    assert Evaluator(celpy_engine()).evaluate(naive, Request(DEPLOYMENT))[0].outcome == "pass"
    cpp = require_celcpp()
    assert Evaluator(cpp).evaluate(naive, Request(DEPLOYMENT))[0].outcome == "error"


def test_quantities_arrive_as_strings() -> None:
    obj = copy.deepcopy(DEPLOYMENT)
    obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"cpu": 2, "memory": "1Gi"}}
    sent = as_api_server_sends(obj)
    assert sent["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}
    assert obj["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] == 2


def test_request_without_namespace_is_refused() -> None:
    obj = copy.deepcopy(DEPLOYMENT)
    del obj["metadata"]["namespace"]
    with pytest.raises(ValueError, match="no namespace"):
        Evaluator().evaluate(policy("true"), Request(obj))


POD: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop-dev-services"},
                       "spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/web:1.0"}]}}


def validating_policy(*expressions: str, resources: tuple[str, ...] = ("pods",), namespaces: tuple[str, ...] = (
        "shop-dev-services",), conditions: tuple[str, ...] = (), actions: tuple[str, ...] = ("Deny",)) -> dict[str, Any]:
    return {"apiVersion": "policies.kyverno.io/v1", "kind": "ValidatingPolicy", "metadata": {"name": "vp"},
            "spec": {"failurePolicy": "Fail", "validationActions": list(actions),
                     "matchConstraints": {
                         "namespaceSelector": {"matchExpressions": [
                             {"key": "kubernetes.io/metadata.name", "operator": "In", "values": list(namespaces)}]},
                         "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                                            "resources": list(resources)}]},
                     "matchConditions": [{"name": f"c{i}", "expression": c} for i, c in enumerate(conditions)],
                     "validations": [{"expression": e, "message": f"message {i}"} for i, e in enumerate(expressions)]}}


def test_a_validating_policy_matches_resources_namespaces_and_conditions(engine: Engine) -> None:
    ev = Evaluator(engine)
    assert ev.evaluate(validating_policy("false"), Request(POD))[0].outcome == "fail"
    assert ev.evaluate(validating_policy("false"), Request(POD, namespace="kube-system"))[0].outcome == "skip"
    assert ev.evaluate(validating_policy("false"), Request(POD, operation="DELETE"))[0].outcome == "skip"
    assert ev.evaluate(validating_policy("false"), Request(DEPLOYMENT))[0].outcome == "skip"
    # The subresource must be listed: a policy on pods alone never sees `kubectl debug`.
    debug = Request(POD, operation="UPDATE", subresource="ephemeralcontainers")
    assert ev.evaluate(validating_policy("false"), debug)[0].outcome == "skip"
    both = validating_policy("false", resources=("pods", "pods/ephemeralcontainers"))
    assert ev.evaluate(both, debug)[0].outcome == "fail"
    skipped = validating_policy("false", conditions=("request.namespace == 'elsewhere'",))
    assert ev.evaluate(skipped, Request(POD))[0].outcome == "skip"
    broken = validating_policy("true", conditions=("request.nothere == 1",))
    assert ev.evaluate(broken, Request(POD))[0].outcome == "error", "a failing match condition denies (Fail)"
    assert ev.evaluate(validating_policy("request.subResource == 'ephemeralcontainers'", resources=(
        "pods/ephemeralcontainers",)), debug)[0].outcome == "pass"
    admission = ev.admit([validating_policy("false", actions=("Audit",))], Request(POD))
    assert admission.allowed and admission.failed_rules == {"vp"}


def test_a_cluster_policy_on_pods_also_sees_their_ephemeral_containers(engine: Engine) -> None:
    """Kyverno's engine matches `Pod` rules on the ephemeralcontainers subresource too
    (pkg/utils/match/kind.go), but no other subresource."""
    ev = Evaluator(engine)
    on_pods = policy("false", match={"any": [{"resources": {"kinds": ["Pod"], "operations": ["UPDATE"]}}]})
    assert ev.evaluate(on_pods, Request(POD, operation="UPDATE", subresource="ephemeralcontainers"))[0].outcome == "fail"
    assert ev.evaluate(on_pods, Request(POD, operation="UPDATE", subresource="status"))[0].outcome == "skip"
    explicit = policy("false", match={"any": [{"resources": {"kinds": ["Pod/ephemeralcontainers"]}}]})
    assert ev.evaluate(explicit, Request(POD, operation="UPDATE", subresource="ephemeralcontainers"))[0].outcome == "fail"
    assert ev.evaluate(explicit, Request(POD))[0].outcome == "skip"
    versioned = policy("false", match={"any": [{"resources": {"kinds": ["v1/Pod", "apps/v1/Deployment"]}}]})
    assert ev.evaluate(versioned, Request(POD))[0].outcome == "fail"
    assert ev.evaluate(versioned, Request(DEPLOYMENT))[0].outcome == "fail"
