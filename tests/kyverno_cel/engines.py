"""Two real CEL engines behind one small interface, each with the Kubernetes Quantity library.

- celpy (cel-python 0.5), InterpretedRunner (its CompiledRunner crashes on ternaries). Looser
  than cel-go in one way that matters: `has(a.b.c)` with `b` missing is false, not an error.
- cel-cpp (cel-expr-python), Google's C++ implementation: strict `has()`, type-checked at
  compile time against the declared variables and functions, like cel-go.

An evaluation gives a Result: the value, or the error text (an error denies in Kyverno).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kyverno_cel.k8s_quantity import Quantity, QuantityLibraryError, is_quantity

# What admission CEL can see (apiserver admission/plugin/cel/compile.go); `params`,
# `namespaceObject` and `authorizer` exist only in setups gpc's policies do not use.
ROOT_VARIABLES = ("object", "oldObject", "request", "variables")


@dataclass(frozen=True)
class Result:
    """`value` for Python (a Quantity decoded), `native` to hand back to the same engine."""

    value: Any = None
    error: str | None = None
    native: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Program(Protocol):
    def run(self, activation: Any) -> Result: ...


class Engine(Protocol):
    name: str

    def compile(self, expression: str) -> Program: ...

    def convert(self, roots: dict[str, Any]) -> Any:
        """`roots` (object, oldObject, request: plain JSON-like data) as the engine's values."""
        ...

    def bind(self, converted: Any, variables: dict[str, Any]) -> Any:
        """An activation: converted roots and `variables` (native values of earlier results)."""
        ...

    def activation(self, roots: dict[str, Any], variables: dict[str, Any]) -> Any:
        ...


class CompileError(Exception):
    """The expression does not compile: Kyverno would deny every request the rule matches."""


# -- celpy ---------------------------------------------------------------------------------


def _celpy_functions() -> dict[str, Callable[..., Any]]:
    from celpy import celtypes
    from celpy.evaluation import CELEvalError

    def err(message: str) -> Any:
        return CELEvalError(message, TypeError, None)

    def q(value: Any, name: str) -> Quantity:
        if not isinstance(value, Quantity):
            raise TypeError(f"no such overload: {name} on {type(value).__name__}")
        return value

    def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any) -> Any:
            try:
                return fn(*args)
            except (TypeError, QuantityLibraryError) as e:
                return err(str(e))
        return call

    # celpy calls a receiver method `x.f(y)` as `f(x, y)`, so methods are plain functions.
    def quantity(text: Any) -> Any:
        if not isinstance(text, celtypes.StringType):
            raise TypeError(f"no such overload: quantity({type(text).__name__})")
        return Quantity.parse(str(text))

    def isQuantity(text: Any) -> Any:
        if not isinstance(text, celtypes.StringType):
            raise TypeError("no such overload: isQuantity")
        return celtypes.BoolType(is_quantity(str(text)))

    def operand(value: Any, name: str) -> Quantity | int:
        if isinstance(value, celtypes.IntType):
            return int(value)
        return q(value, name)

    def compareTo(a: Any, b: Any) -> Any:
        return celtypes.IntType(q(a, "compareTo").compare(q(b, "compareTo")))

    def isLessThan(a: Any, b: Any) -> Any:
        return celtypes.BoolType(q(a, "isLessThan").compare(q(b, "isLessThan")) < 0)

    def isGreaterThan(a: Any, b: Any) -> Any:
        return celtypes.BoolType(q(a, "isGreaterThan").compare(q(b, "isGreaterThan")) > 0)

    def sign(a: Any) -> Any:
        return celtypes.IntType(q(a, "sign").sign())

    def isInteger(a: Any) -> Any:
        return celtypes.BoolType(q(a, "isInteger").is_integer())

    def asInteger(a: Any) -> Any:
        return celtypes.IntType(q(a, "asInteger").as_integer())

    def asApproximateFloat(a: Any) -> Any:
        return celtypes.DoubleType(q(a, "asApproximateFloat").as_float())

    def add(a: Any, b: Any) -> Any:
        return q(a, "add").add(operand(b, "add"))

    def sub(a: Any, b: Any) -> Any:
        return q(a, "sub").sub(operand(b, "sub"))

    fns = (quantity, isQuantity, compareTo, isLessThan, isGreaterThan, sign, isInteger, asInteger,
           asApproximateFloat, add, sub)
    return {f.__name__: guarded(f) for f in fns}


class _CelpyProgram:
    def __init__(self, runner: Any) -> None:
        self._runner = runner

    def run(self, activation: Any) -> Result:
        from celpy import celtypes
        from celpy.evaluation import CELEvalError

        try:
            value = self._runner.evaluate(activation)
        except CELEvalError as e:
            return Result(error=str(e.args[0]) if e.args else repr(e))
        if isinstance(value, CELEvalError):
            return Result(error=str(value.args[0]) if value.args else repr(value))
        return Result(value=bool(value) if isinstance(value, celtypes.BoolType) else value, native=value)


class CelpyEngine:
    name = "celpy"

    def __init__(self) -> None:
        import celpy

        self._env = celpy.Environment()  # the default InterpretedRunner
        self._functions = _celpy_functions()

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - engines live for the whole session
    def compile(self, expression: str) -> Program:
        from celpy.celparser import CELParseError

        try:
            ast = self._env.compile(expression)
        except CELParseError as e:
            raise CompileError(str(e)) from None
        return _CelpyProgram(self._env.program(ast, functions=self._functions))

    def convert(self, roots: dict[str, Any]) -> Any:
        from celpy.adapter import json_to_cel

        return {k: json_to_cel(v) for k, v in roots.items()}

    def bind(self, converted: Any, variables: dict[str, Any]) -> Any:
        from celpy import celtypes

        # Variables are CEL values already: converting them again would turn booleans into ints.
        return {**converted, "variables": celtypes.MapType({celtypes.StringType(k): v for k, v in variables.items()})}

    def activation(self, roots: dict[str, Any], variables: dict[str, Any]) -> Any:
        return self.bind(self.convert(roots), variables)


# -- cel-cpp -------------------------------------------------------------------------------

QUANTITY_KEY = "k8s.io/quantity"  # cel-cpp carries a Quantity as a one-entry map


def _celcpp_extension() -> Any:
    from cel_expr_python import cel  # type: ignore[import-untyped]

    t = cel.Type

    def box(q: Quantity) -> dict[str, str]:
        return {QUANTITY_KEY: q.encode()}

    def unbox(m: dict[str, str]) -> Quantity:
        if set(m) != {QUANTITY_KEY}:
            raise TypeError("no such overload: not a quantity")
        return Quantity.decode(m[QUANTITY_KEY])

    def operand(v: Any) -> Quantity | int:
        return v if isinstance(v, int) else unbox(v)

    def member(name: str, ret: Any, impl: Callable[..., Any], *params: Any) -> Any:
        return cel.Overload(f"quantity_{name}_{len(params)}_{params[-1].name()}", ret, [t.MAP, *params],
                            is_member=True, impl=impl)

    decls = [
        cel.FunctionDecl("quantity", [cel.Overload("string_to_quantity", t.MAP, [t.STRING],
                                                   impl=lambda s: box(Quantity.parse(s)))]),
        cel.FunctionDecl("isQuantity", [cel.Overload("is_quantity_string", t.BOOL, [t.STRING], impl=is_quantity)]),
        # Declared global in quantity.go (cel.Overload, not MemberOverload).
        cel.FunctionDecl("sign", [cel.Overload("quantity_sign", t.INT, [t.MAP], impl=lambda a: unbox(a).sign())]),
        cel.FunctionDecl("compareTo", [member("compare_to", t.INT, lambda a, b: unbox(a).compare(unbox(b)), t.MAP)]),
        cel.FunctionDecl("isLessThan", [member("lt", t.BOOL, lambda a, b: unbox(a).compare(unbox(b)) < 0, t.MAP)]),
        cel.FunctionDecl("isGreaterThan", [member("gt", t.BOOL, lambda a, b: unbox(a).compare(unbox(b)) > 0,
                                                  t.MAP)]),
        cel.FunctionDecl("isInteger", [cel.Overload("quantity_is_integer", t.BOOL, [t.MAP], is_member=True,
                                                    impl=lambda a: unbox(a).is_integer())]),
        cel.FunctionDecl("asInteger", [cel.Overload("quantity_get_int", t.INT, [t.MAP], is_member=True,
                                                    impl=lambda a: unbox(a).as_integer())]),
        cel.FunctionDecl("asApproximateFloat", [cel.Overload("quantity_get_float", t.DOUBLE, [t.MAP],
                                                             is_member=True, impl=lambda a: unbox(a).as_float())]),
        cel.FunctionDecl("add", [member("add", t.MAP, lambda a, b: box(unbox(a).add(operand(b))), t.MAP),
                                 member("add", t.MAP, lambda a, b: box(unbox(a).add(operand(b))), t.INT)]),
        cel.FunctionDecl("sub", [member("sub", t.MAP, lambda a, b: box(unbox(a).sub(operand(b))), t.MAP),
                                 member("sub", t.MAP, lambda a, b: box(unbox(a).sub(operand(b))), t.INT)]),
    ]
    return cel.CelExtension("kubernetes.quantity", decls)


class _CelCppProgram:
    def __init__(self, expression: Any) -> None:
        self._expression = expression

    def run(self, activation: Any) -> Result:
        from cel_expr_python import cel

        value = self._expression.eval(data=activation)
        if value.type() == cel.Type.ERROR:
            return Result(error=str(value.value()))
        plain = value.plain_value()
        if isinstance(plain, dict) and set(plain) == {QUANTITY_KEY}:
            return Result(value=Quantity.decode(plain[QUANTITY_KEY]), native=plain)
        return Result(value=plain, native=plain)


class CelCppEngine:
    name = "cel-cpp"

    def __init__(self) -> None:
        from cel_expr_python import cel

        self._env = cel.NewEnv(variables={v: cel.Type.DYN for v in ROOT_VARIABLES},
                               extensions=[_celcpp_extension()])

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def compile(self, expression: str) -> Program:
        try:
            return _CelCppProgram(self._env.compile(expression))
        except RuntimeError as e:
            raise CompileError(str(e)) from None

    def convert(self, roots: dict[str, Any]) -> Any:
        return dict(roots)

    def bind(self, converted: Any, variables: dict[str, Any]) -> Any:
        return {**converted, "variables": dict(variables)}

    def activation(self, roots: dict[str, Any], variables: dict[str, Any]) -> Any:
        return self.bind(self.convert(roots), variables)


@functools.cache
def celpy_engine() -> CelpyEngine:
    return CelpyEngine()


@functools.cache
def celcpp_engine() -> CelCppEngine | None:
    """cel-cpp when cel-expr-python is installed (a cp311 manylinux wheel), else None."""
    try:
        import cel_expr_python  # noqa: F401
    except ImportError:
        return None
    return CelCppEngine()


def require_celcpp() -> CelCppEngine:
    """cel-cpp, or a test failure under CI=true (a skip on a laptop), like conftest.require_tool."""
    from conftest import unavailable

    engine = celcpp_engine()
    if engine is None:
        unavailable("cel-expr-python is not installed (pip install cel-expr-python==0.1.3)")
    return engine


def every_engine() -> list[Engine]:
    """Both engines; without cel-cpp, celpy alone on a laptop and a failure under CI=true."""
    from conftest import IN_CI

    engine = celcpp_engine()
    if engine is None and IN_CI:
        require_celcpp()
    return [celpy_engine(), *([engine] if engine is not None else [])]
