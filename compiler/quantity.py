"""Kubernetes resource quantities (`250m`, `2Gi`, `1e3`), parsed exactly.

The grammar is k8s.io/apimachinery/pkg/api/resource: a signed decimal number followed by a
binary-SI suffix (Ki..Ei), a decimal-SI suffix (n, u, m, k, M, G, T, P, E) or an exponent.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
            "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
            "P": Fraction(10**15), "E": Fraction(10**18)}
_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)


class QuantityError(ValueError):
    pass


@lru_cache(maxsize=4096)  # the same few quantities are compared for every workload and environment
def parse_quantity(text: str) -> Fraction:
    """The exact value of a Kubernetes quantity; raises QuantityError when `text` is not one."""
    match = _QUANTITY.match(text)
    if match is None:
        raise QuantityError(f"'{text}' is not a Kubernetes quantity")
    number = Fraction(match["num"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    exponent = int(suffix[1:])
    if abs(exponent) > 100:
        raise QuantityError(f"'{text}' has an exponent out of range")
    return number * Fraction(10) ** exponent


def canonical(value: str | int | float) -> str:
    """A quantity as the string the spec should carry (numbers in YAML become strings)."""
    if isinstance(value, bool):
        raise QuantityError(f"'{value}' is not a Kubernetes quantity")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "inf" in text or "nan" in text:
            raise QuantityError(f"'{value}' is not a Kubernetes quantity")
        if "e" in text:  # 1.5e+20: Kubernetes writes the exponent without '+' or leading zeros
            mantissa, exponent = text.split("e")
            text = f"{mantissa.removesuffix('.0')}e{int(exponent)}"
            parse_quantity(text)
            return text
        return text.rstrip("0").rstrip(".") if "." in text else text
    text = value.strip()
    parse_quantity(text)
    return text


def format_cpu(value: Fraction) -> str:
    """A cpu amount in the most readable exact form: whole cores, or millicores."""
    if value.denominator == 1:
        return str(value.numerator)
    milli = value * 1000
    if milli.denominator == 1:
        return f"{milli.numerator}m"
    return f"{float(value)}"
