"""The Kubernetes Quantity library on both CEL engines, against the apiserver's own examples.

Cases come from the doc comment of k8s.io/apiserver/pkg/cel/library/quantity.go and from its
quantity_test.go (both at the apiserver version Kyverno 1.13 links, minus mul/div, which came
later). One doc-comment example cannot be right as written: `quantity("50k").add("20k")` has no
overload (add takes a Quantity or an int), so cel-go rejects it; the test checks that it is an
error here too, and the Quantity form of it.
"""

from __future__ import annotations

from typing import Any

import pytest

from kyverno_cel.engines import Engine, celpy_engine, require_celcpp
from kyverno_cel.k8s_quantity import NANO, Quantity, QuantityLibraryError

ERROR = object()

# (expression, expected value or ERROR)
DOC_COMMENT = [
    ('isQuantity("1.3G")', True),
    ('isQuantity("1.3Gi")', True),
    ('isQuantity("1,3G")', False),
    ('isQuantity("10000k")', True),
    ('isQuantity("200K")', False),
    ('isQuantity("Three")', False),
    ('isQuantity("Mi")', False),
    ('quantity("1.5G") == quantity("1500M")', True),
    ('quantity("200k") == quantity("200000")', True),
    ('quantity("200K")', ERROR),
    ('quantity("Three")', ERROR),
    ('quantity("Mi")', ERROR),
    ('quantity("50000000G").isInteger()', True),
    ('quantity("50k").isInteger()', True),
    ('quantity("9999999999999999999999999999999999999G").asInteger()', ERROR),
    ('quantity("9999999999999999999999999999999999999G").isInteger()', False),
    ('quantity("50k").asInteger() == 50000', True),
    ('quantity("50k").sub(20000).asApproximateFloat() == 30000.0', True),
    ('quantity("50k").add("20k")', ERROR),  # as written in the doc comment: no such overload
    ('quantity("50k").add(quantity("20k")) == quantity("70k")', True),
    ('quantity("50k").add(20) == quantity("50020")', True),
    ('quantity("50k").sub(quantity("20k")) == quantity("30k")', True),
    ('quantity("50k").sub(20000) == quantity("30k")', True),
    ('quantity("50k").add(20).sub(quantity("100k")).sub(-50000) == quantity("20")', True),
    ('quantity("200M").compareTo(quantity("0.2G"))', 0),
    ('quantity("50M").compareTo(quantity("50Mi"))', -1),
    ('quantity("50Mi").compareTo(quantity("50M"))', 1),
    ('quantity("150Mi").isGreaterThan(quantity("100Mi"))', True),
    ('quantity("50Mi").isGreaterThan(quantity("100Mi"))', False),
    ('quantity("50M").isLessThan(quantity("100M"))', True),
    ('quantity("100M").isLessThan(quantity("50M"))', False),
]

QUANTITY_TEST_GO = [
    ('quantity("12Mi") == quantity("12582912")', True),
    ('quantity("10Mo")', ERROR),
    ('quantity("10Mm")', ERROR),
    ('isQuantity("20")', True),
    ('isQuantity("20M")', True),
    ('isQuantity("20Mi")', True),
    ('isQuantity("20Mo")', False),
    ('isQuantity("10Mm")', False),
    ('quantity("200M") == quantity("200M")', True),
    ('quantity("200M") == quantity("0.2G") && quantity("0.2G") == quantity("200M")', True),
    ('quantity("2M") == quantity("0.002G") && quantity("2000k") == quantity("2M") && '
     'quantity("0.002G") == quantity("2000k")', True),
    ('quantity("200M") == quantity("0.3G")', False),
    ('quantity("50M").isLessThan(quantity("50Mi"))', True),
    ('quantity("50Mi").isGreaterThan(quantity("50M"))', True),
    ('quantity("50M").isGreaterThan(quantity("100M"))', False),
    ('quantity("50k").add(quantity("20")) == quantity("50.02k")', True),
    ('quantity("50k").add(20).isLessThan(quantity("50020"))', False),
    ('quantity("50k").sub(quantity("20")) == quantity("49.98k")', True),
    ('quantity("50k").sub(20) == quantity("49980")', True),
    ('quantity("50k").add(20).sub(quantity("100k")).asInteger()', -49980),
    ('quantity("50k").add(20).sub(quantity("100k")).sub(-50000).asInteger()', 20),
    ('quantity("50k").asInteger()', 50000),
    ('quantity("50").isInteger()', True),
    ('quantity("50.703k").asApproximateFloat()', 50703.0),
]

# What gpc's policies rely on beyond the examples: the units they compare across, and the
# error when an object carries a number instead of a string (the API server never sends one).
GPC_USE = [
    ('quantity("1Gi").compareTo(quantity("1024Mi"))', 0),
    ('quantity("1G").compareTo(quantity("1Gi"))', -1),
    ('quantity("1500m").compareTo(quantity("1"))', 1),
    ('quantity("1000m").compareTo(quantity("1"))', 0),
    ('quantity("0.5").compareTo(quantity("500m"))', 0),
    ('quantity("1e3").compareTo(quantity("1k"))', 0),
    ('quantity("2").compareTo(quantity("1"))', 1),
    ('quantity(2)', ERROR),
    ('quantity("")', ERROR),
    ('sign(quantity("-3"))', -1),
    ('sign(quantity("0"))', 0),
    ('quantity("1").isLessThan(1)', ERROR),
    ('isQuantity(1)', ERROR),
]

ENGINES = [pytest.param(celpy_engine, id="celpy"), pytest.param(require_celcpp, id="cel-cpp")]


def kind(value: Any) -> str:
    """bool, int or float, whichever engine type carries it (celpy's IntType is an int...)."""
    if isinstance(value, bool) or type(value).__name__ == "BoolType":
        return "bool"
    return "float" if isinstance(value, float) else "int" if isinstance(value, int) else type(value).__name__


def evaluate(engine: Engine, expression: str) -> Any:
    try:
        program = engine.compile(expression)
    except Exception:  # a compile-time overload error is an error too
        return ERROR
    result = program.run(engine.activation({}, {}))
    return ERROR if not result.ok else result.value


@pytest.mark.parametrize("make_engine", ENGINES)
@pytest.mark.parametrize(("expression", "expected"), DOC_COMMENT + QUANTITY_TEST_GO + GPC_USE,
                         ids=lambda v: v if isinstance(v, str) else None)
def test_apiserver_examples(make_engine: Any, expression: str, expected: Any) -> None:
    engine = make_engine()
    got = evaluate(engine, expression)
    if expected is ERROR:
        assert got is ERROR, f"{expression} gave {got!r}, expected an error"
    else:
        assert got is not ERROR, f"{expression} failed"
        assert kind(got) == kind(expected) and got == expected, f"{expression} gave {got!r}"


def test_parse_rounds_up_to_nano_like_parse_quantity() -> None:
    assert Quantity.parse("0.1n").value == NANO
    assert Quantity.parse("-0.1n").value == -NANO
    assert Quantity.parse("1.5n").value == 2 * NANO
    assert Quantity.parse("0").value == 0


def test_parse_refuses_what_kubernetes_refuses() -> None:
    for text in ("", " 1", "1 ", "1.2.3", "1Ki1", "1KiB", "0x10", "1e", "--1", "Ki", "."):
        with pytest.raises(QuantityLibraryError):
            Quantity.parse(text)


def test_as_integer_is_bounded_by_int64() -> None:
    assert Quantity.parse("9223372036854775807").as_integer() == 2**63 - 1
    assert not Quantity.parse("9223372036854775808").is_integer()
    assert Quantity.parse("-9223372036854775808").is_integer()
    assert not Quantity.parse("1.5").is_integer()
    assert Quantity.parse("1500m").as_float() == 1.5
