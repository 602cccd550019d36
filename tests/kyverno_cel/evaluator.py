"""A Kyverno policy's CEL rules applied to one admission request, as Kyverno 1.19 does, for both
kinds gpc writes.

- ClusterPolicy `validate.cel` (pkg/engine/handlers/validation/validate_cel.go, on the apiserver's
  ValidatingAdmissionPolicy validator with a nil failure policy, which means Fail): a rule applies
  when `match` matches and `exclude` does not; `validate.failureAction: Enforce` blocks.
- ValidatingPolicy (policies.kyverno.io/v1): `matchConstraints`, then every `matchConditions`
  expression must be true (an error denies, `failurePolicy: Fail`); `validationActions: [Deny]`
  blocks, `Audit` only reports.

Either way `variables` are evaluated in order, each seeing the earlier ones, then each expression;
the first expression that is false denies with its `message`, and an expression that errors
denies too, with the error text (`error` below: still a denial, never an admit).

Stricter than Kyverno in one way: variables are evaluated eagerly (Kyverno evaluates them when an
expression first uses them), so an erroring variable fails the rule even if nothing reads it.
Compiled programs and variable values are cached per engine and per object. Image signatures
(`verifyImages`, ImageValidatingPolicy) are not CEL over the object: see test_kyverno_images.py.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from kyverno_cel.engines import CompileError, Engine, celpy_engine
from kyverno_cel.matching import Request, cluster_rule_applies, constraints_match

Outcome = Literal["pass", "fail", "error", "skip"]
__all__ = ["Admission", "CelRule", "Coverage", "Evaluator", "Request", "RuleResult", "as_api_server_sends", "cel_rules"]


@dataclass(frozen=True)
class ExpressionResult:
    index: int
    outcome: Literal["pass", "fail", "error"]
    detail: str = ""


@dataclass(frozen=True)
class RuleResult:
    policy: str
    rule: str  # a ClusterPolicy's rule name; a ValidatingPolicy's own name
    outcome: Outcome
    message: str = ""
    failure_action: str = "Audit"
    expressions: tuple[ExpressionResult, ...] = ()

    @property
    def blocks(self) -> bool:
        return self.outcome in ("fail", "error") and self.failure_action == "Enforce"


@dataclass
class Coverage:
    """How often each expression passed, failed or errored: every one must do both of the first two."""

    counts: Counter[tuple[str, str, int, str]] = field(default_factory=Counter)

    def record(self, policy: str, rule: str, results: Iterable[ExpressionResult]) -> None:
        for r in results:
            self.counts[(policy, rule, r.index, r.outcome)] += 1


@dataclass(frozen=True)
class CelRule:
    """One rule in either kind's terms: where it applies, its conditions, variables and checks."""

    policy: str
    rule: str
    action: str  # "Enforce" or "Audit"
    applies: Callable[[Request], bool]
    conditions: tuple[str, ...]
    variables: tuple[dict[str, str], ...]
    expressions: tuple[dict[str, str], ...]


def cel_rules(policy: dict[str, Any]) -> list[CelRule]:
    name = policy["metadata"]["name"]
    kind = policy["kind"]
    spec = policy["spec"]
    if kind == "ClusterPolicy":
        out = []
        for rule in spec["rules"]:
            if "verifyImages" in rule or "generate" in rule:
                continue  # image signatures: see the module docstring; generation admits anything
            validate = rule.get("validate", {})
            cel = validate.get("cel")
            if cel is None:
                raise NotImplementedError(f"rule {rule['name']!r} is not a validate.cel rule")
            if set(cel) - {"variables", "expressions", "generate"}:
                raise NotImplementedError(f"validate.cel keys {sorted(set(cel))} are not supported here")
            out.append(CelRule(name, rule["name"], validate.get("failureAction", "Audit"),
                               lambda request, rule=rule: cluster_rule_applies(rule, request), (),
                               tuple(cel.get("variables", [])), tuple(cel.get("expressions", []))))
        return out
    if kind == "ValidatingPolicy":
        known = {"autogen", "evaluation", "failurePolicy", "validationActions", "matchConstraints",
                 "matchConditions", "variables", "validations", "webhookConfiguration"}
        if set(spec) - known:
            raise NotImplementedError(f"ValidatingPolicy keys {sorted(set(spec) - known)} are not supported here")
        if spec.get("failurePolicy", "Fail") != "Fail":
            raise NotImplementedError("failurePolicy Ignore is not supported here")
        if not spec.get("evaluation", {}).get("admission", {}).get("enabled", True):
            return []  # not evaluated at admission at all
        action = "Enforce" if "Deny" in spec.get("validationActions", []) else "Audit"
        return [CelRule(name, name, action, lambda request: constraints_match(spec["matchConstraints"], request),
                        tuple(c["expression"] for c in spec.get("matchConditions", [])),
                        tuple(spec.get("variables", [])), tuple(spec.get("validations", [])))]
    if kind in ("ImageValidatingPolicy", "GeneratingPolicy"):
        return []  # image signatures: see the module docstring; a GeneratingPolicy denies nothing
    raise NotImplementedError(f"policy kind {kind!r}")


# -- the API server's view of the object --------------------------------------------------------


def as_api_server_sends(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as admission webhooks receive it: the API server decodes manifests into typed
    objects, so a quantity written as a YAML number (`cpu: 2`) arrives as the string "2"."""
    out = copy.deepcopy(obj)
    spec = out.get("spec", {})
    if out.get("kind") == "Pod":
        pod = spec
    else:
        template = (spec.get("jobTemplate", {}).get("spec", {}) if out.get("kind") == "CronJob" else spec).get("template")
        pod = template.get("spec", {}) if isinstance(template, dict) else {}
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        for section in ("requests", "limits"):
            values = container.get("resources", {}).get(section)
            if isinstance(values, dict):
                for key, value in values.items():
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        values[key] = str(value)
    return out


# -- evaluation ---------------------------------------------------------------------------------


class Evaluator:
    def __init__(self, engine: Engine | None = None, coverage: Coverage | None = None) -> None:
        self.engine = engine or celpy_engine()
        self.coverage = coverage
        self._converted: tuple[int, Request, Any, dict[Any, Any]] | None = None

    def _run(self, expression: str, activation: Any) -> tuple[Literal["ok", "error"], Any, str]:
        try:
            program = self.engine.compile(expression)
        except CompileError as e:
            return "error", None, f"compilation failed: {e}"
        result = program.run(activation)
        if not result.ok:
            return "error", None, str(result.error)
        return "ok", result, ""

    def _roots(self, request: Request) -> Any:
        """The request as engine values, converted once per request (rules share it)."""
        key = id(request)
        if self._converted is None or self._converted[0] != key:
            roots = {"object": as_api_server_sends(request.object),
                     "oldObject": as_api_server_sends(request.old_object) if request.old_object else None,
                     "request": request.as_cel()}
            self._converted = (key, request, self.engine.convert(roots), {})
        return self._converted

    def evaluate_rule(self, rule: CelRule, request: Request) -> RuleResult:
        if not rule.applies(request):
            return RuleResult(rule.policy, rule.rule, "skip", failure_action=rule.action)
        _, _, converted, known = self._roots(request)
        for condition in rule.conditions:
            status, result, detail = self._run(condition, self.engine.bind(converted, {}))
            if status == "error" or not isinstance(result.value, bool):
                return RuleResult(rule.policy, rule.rule, "error", f"match condition: {detail or result.value!r}",
                                  rule.action)
            if not result.value:
                return RuleResult(rule.policy, rule.rule, "skip", failure_action=rule.action)
        variables: dict[str, Any] = {}
        for variable in rule.variables:
            # A variable is a pure function of the request and the variables before it, so rules
            # declaring the same ones in the same order share their values.
            key = (*((v["name"], v["expression"]) for v in rule.variables[:len(variables) + 1]),)
            if key not in known:
                status, result, detail = self._run(variable["expression"], self.engine.bind(converted, variables))
                known[key] = (status, result.native if result else None, detail)
            status, native, detail = known[key]
            if status == "error":
                return RuleResult(rule.policy, rule.rule, "error", f"variable {variable['name']}: {detail}", rule.action)
            variables[variable["name"]] = native
        activation = self.engine.bind(converted, variables)
        results = []
        for i, expr in enumerate(rule.expressions):
            status, result, detail = self._run(expr["expression"], activation)
            if status == "error":
                results.append(ExpressionResult(i, "error", detail))
            elif result.value is True:
                results.append(ExpressionResult(i, "pass"))
            elif result.value is False:
                results.append(ExpressionResult(i, "fail", expr.get("message", "")))
            else:
                results.append(ExpressionResult(i, "error", f"expression returned {result.value!r}, not a bool"))
        if self.coverage is not None:
            self.coverage.record(rule.policy, rule.rule, results)
        first = next((r for r in results if r.outcome != "pass"), None)
        if first is None:
            return RuleResult(rule.policy, rule.rule, "pass", "", rule.action, tuple(results))
        return RuleResult(rule.policy, rule.rule, first.outcome, first.detail, rule.action, tuple(results))

    def evaluate(self, policy: dict[str, Any], request: Request) -> list[RuleResult]:
        return [self.evaluate_rule(rule, request) for rule in cel_rules(policy)]

    def admit(self, policies: Iterable[dict[str, Any]], request: Request) -> Admission:
        results = [r for p in policies for r in self.evaluate(p, request)]
        return Admission(not any(r.blocks for r in results), tuple(results))


@dataclass(frozen=True)
class Admission:
    allowed: bool
    results: tuple[RuleResult, ...]

    @property
    def denials(self) -> list[RuleResult]:
        return [r for r in self.results if r.blocks]

    @property
    def failed_rules(self) -> set[str]:
        return {r.rule for r in self.results if r.outcome in ("fail", "error")}
