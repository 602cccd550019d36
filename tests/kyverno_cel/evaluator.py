"""A ClusterPolicy's `validate.cel` rules applied to one admission request, as Kyverno 1.13 does.

What Kyverno does (pkg/engine/handlers/validation/validate_cel.go, on the apiserver's
ValidatingAdmissionPolicy validator with a nil failure policy, which means Fail):
- a rule applies when `match` matches and `exclude` does not (kinds, namespaces, names,
  operations; anything else in a resource filter is refused here rather than ignored);
- `validate.cel.variables` are evaluated in order, each seeing the earlier ones, then each
  expression; the first expression that is false denies with its `message`, and an expression
  that errors denies too, with the error text (`error` below: still a denial, never an admit);
- `validate.failureAction: Enforce` blocks the request, `Audit` only reports.

Stricter than Kyverno in one way: variables are evaluated eagerly (Kyverno evaluates them when an
expression first uses them), so an erroring variable fails the rule even if nothing reads it.
Compiled programs and variable values are cached per engine and per object.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from kyverno_cel.engines import CompileError, Engine, celpy_engine

Outcome = Literal["pass", "fail", "error", "skip"]
SUPPORTED_FILTER_KEYS = {"kinds", "namespaces", "names", "operations"}


@dataclass(frozen=True)
class ExpressionResult:
    index: int
    outcome: Literal["pass", "fail", "error"]
    detail: str = ""


@dataclass(frozen=True)
class RuleResult:
    policy: str
    rule: str
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


# -- match / exclude ----------------------------------------------------------------------------


def _wildcard(pattern: str, value: str) -> bool:
    """Kyverno's wildcard.Match: `*` any run, `?` one character, everything else literal."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _kind_matches(pattern: str, api_version: str, kind: str) -> bool:
    parts = pattern.split("/")
    if len(parts) == 1:
        return _wildcard(parts[0], kind)
    if len(parts) == 3:
        group, _, version = api_version.rpartition("/")
        return (_wildcard(parts[0], group) and _wildcard(parts[1], version) and _wildcard(parts[2], kind))
    raise NotImplementedError(f"kind pattern {pattern!r} (subresources) is not supported here")


@dataclass(frozen=True)
class Request:
    """An admission request: the object, the operation and where it goes."""

    object: dict[str, Any]
    operation: str = "CREATE"
    namespace: str | None = None  # defaults to metadata.namespace
    old_object: dict[str, Any] | None = None

    @property
    def ns(self) -> str:
        ns = self.namespace or self.object.get("metadata", {}).get("namespace")
        if not ns:
            raise ValueError(f"{self.object.get('kind')} {self.name!r} has no namespace: pass Request(namespace=...)")
        return str(ns)

    @property
    def name(self) -> str:
        return str(self.object.get("metadata", {}).get("name", ""))


def _filter_matches(block: dict[str, Any], request: Request) -> bool:
    if set(block) - {"resources"}:
        raise NotImplementedError(f"match/exclude keys {sorted(set(block) - {'resources'})} are not supported here")
    resources = block.get("resources", {})
    unknown = set(resources) - SUPPORTED_FILTER_KEYS
    if unknown:
        raise NotImplementedError(f"resource filter keys {sorted(unknown)} are not supported here")
    obj = request.object
    if "kinds" in resources and not any(
            _kind_matches(k, obj.get("apiVersion", ""), obj.get("kind", "")) for k in resources["kinds"]):
        return False
    if "namespaces" in resources and not any(_wildcard(p, request.ns) for p in resources["namespaces"]):
        return False
    if "names" in resources and not any(_wildcard(p, request.name) for p in resources["names"]):
        return False
    return "operations" not in resources or request.operation in resources["operations"]


def _selects(section: dict[str, Any] | None, request: Request, empty: bool) -> bool:
    if not section:
        return empty
    if set(section) - {"any", "all"}:
        raise NotImplementedError(f"match/exclude must use any/all, got {sorted(section)}")
    if "any" in section and not any(_filter_matches(b, request) for b in section["any"]):
        return False
    return "all" not in section or all(_filter_matches(b, request) for b in section["all"])


def rule_applies(rule: dict[str, Any], request: Request) -> bool:
    return _selects(rule.get("match"), request, empty=False) and not _selects(rule.get("exclude"), request,
                                                                             empty=False)


# -- the API server's view of the object --------------------------------------------------------


def as_api_server_sends(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as admission webhooks receive it: the API server decodes manifests into typed
    objects, so a quantity written as a YAML number (`cpu: 2`) arrives as the string "2"."""
    out = copy.deepcopy(obj)
    spec = out.get("spec", {})
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
                     "request": {"operation": request.operation, "namespace": request.ns, "name": request.name,
                                 "kind": {"kind": request.object.get("kind", "")}}}
            self._converted = (key, request, self.engine.convert(roots), {})
        return self._converted

    def evaluate_rule(self, policy: str, rule: dict[str, Any], request: Request) -> RuleResult:
        validate = rule.get("validate", {})
        action = validate.get("failureAction", "Audit")
        if not rule_applies(rule, request):
            return RuleResult(policy, rule["name"], "skip", failure_action=action)
        cel = validate.get("cel")
        if cel is None:
            raise NotImplementedError(f"rule {rule['name']!r} is not a validate.cel rule")
        if set(cel) - {"variables", "expressions"}:
            raise NotImplementedError(f"validate.cel keys {sorted(set(cel))} are not supported here")
        _, _, converted, known = self._roots(request)
        variables: dict[str, Any] = {}
        for variable in cel.get("variables", []):
            # A variable is a pure function of the request and the variables before it, so rules
            # declaring the same ones in the same order share their values.
            key = (*((v["name"], v["expression"]) for v in cel["variables"][:len(variables) + 1]),)
            if key not in known:
                status, result, detail = self._run(variable["expression"], self.engine.bind(converted, variables))
                known[key] = (status, result.native if result else None, detail)
            status, native, detail = known[key]
            if status == "error":
                return RuleResult(policy, rule["name"], "error", f"variable {variable['name']}: {detail}", action)
            variables[variable["name"]] = native
        activation = self.engine.bind(converted, variables)
        results = []
        for i, expr in enumerate(cel.get("expressions", [])):
            status, result, detail = self._run(expr["expression"], activation)
            if status == "error":
                results.append(ExpressionResult(i, "error", detail))
            elif result.value is True:
                results.append(ExpressionResult(i, "pass"))
            elif result.value is False:
                results.append(ExpressionResult(i, "fail", expr.get("message") or validate.get("message", "")))
            else:
                results.append(ExpressionResult(i, "error", f"expression returned {result.value!r}, not a bool"))
        if self.coverage is not None:
            self.coverage.record(policy, rule["name"], results)
        first = next((r for r in results if r.outcome != "pass"), None)
        if first is None:
            return RuleResult(policy, rule["name"], "pass", "", action, tuple(results))
        return RuleResult(policy, rule["name"], first.outcome, first.detail, action, tuple(results))

    def evaluate(self, policy: dict[str, Any], request: Request) -> list[RuleResult]:
        name = policy["metadata"]["name"]
        return [self.evaluate_rule(name, rule, request) for rule in policy["spec"]["rules"]]

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
