"""The Kubernetes Quantity CEL library (k8s.io/apiserver/pkg/cel/library/quantity.go), engine-free.

Values are exact Fractions parsed by gpc's own quantity parser, rounded the way
resource.ParseQuantity rounds: a non-zero value finer than 1n goes up (away from zero) to 1n.
Only the functions of the apiserver Kyverno 1.13 links (v0.31) exist: no mul/div/divInt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from compiler.quantity import QuantityError, parse_quantity

NANO = Fraction(1, 10**9)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class QuantityLibraryError(ValueError):
    """What cel-go reports as an evaluation error (bad string, overflow)."""


@dataclass(frozen=True)
class Quantity:
    value: Fraction

    @staticmethod
    def parse(text: str) -> Quantity:
        try:
            value = parse_quantity(text)
        except QuantityError as err:
            raise QuantityLibraryError(f"quantities must match the regular expression: {err}") from None
        steps = value / NANO
        if value != 0 and steps.denominator != 1:
            value = (math.ceil(steps) if value > 0 else math.floor(steps)) * NANO
        return Quantity(value)

    def compare(self, other: Quantity) -> int:
        return (self.value > other.value) - (self.value < other.value)

    def is_integer(self) -> bool:
        return self.value.denominator == 1 and INT64_MIN <= self.value <= INT64_MAX

    def as_integer(self) -> int:
        if not self.is_integer():
            raise QuantityLibraryError("cannot convert value to integer")
        return int(self.value)

    def as_float(self) -> float:
        try:
            return float(self.value)
        except OverflowError:
            return math.copysign(math.inf, self.value)

    def sign(self) -> int:
        return (self.value > 0) - (self.value < 0)

    def add(self, other: Quantity | int) -> Quantity:
        return Quantity(self.value + (other.value if isinstance(other, Quantity) else other))

    def sub(self, other: Quantity | int) -> Quantity:
        return Quantity(self.value - (other.value if isinstance(other, Quantity) else other))

    def encode(self) -> str:
        """A canonical text for engines that carry a Quantity as a map (equal values, equal text)."""
        return str(self.value)

    @staticmethod
    def decode(text: str) -> Quantity:
        return Quantity(Fraction(text))


def is_quantity(text: str) -> bool:
    try:
        Quantity.parse(text)
    except QuantityLibraryError:
        return False
    return True
