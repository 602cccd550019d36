"""Unquoted scalars that YAML does not read as the text written (GPC111).

gpc reads YAML 1.1 (PyYAML): `0755` is the octal 493, `1:30` is 90 (base 60), `yes` and `on` are
true. Editors, check-jsonschema and most other tools read YAML 1.2, where `0755` is 755 and `yes`
is text, and where `1e3` is a number that YAML 1.1 leaves as text. Either way an unquoted value
can silently become something else: `MODE: 0755` reached the cluster as `493`. gpc refuses an
unquoted scalar where
- gpc wants text, unless it is a plain whole number (`WORKERS: 4`), the one deliberate coercion;
- gpc wants a number, a boolean, a quantity or a duration, and YAML 1.1 and 1.2 read it as
  different values (`port: 0755`, `auto_sync: no`, `timeout: 1:30`).
The fix is always the same few characters, which the hint spells out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, Literal

Kind = Literal["text", "int", "bool", "quantity", "duration"]

_NULL_12 = {"", "~", "null", "Null", "NULL"}
_BOOL_12 = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT_12 = re.compile(r"^[-+]?[0-9]+$")
_FLOAT_12 = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF_12 = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN_12 = re.compile(r"^\.(nan|NaN|NAN)$")
# YAML 1.1 booleans that PyYAML reads as text; Go's yaml.v2 and the YAML 1.1 spec read them as booleans.
_BOOL_11_ONLY = {"y": True, "Y": True, "n": False, "N": False}


def yaml12(text: str) -> Any:
    """What the YAML 1.2 core schema makes of an unquoted scalar."""
    if text in _NULL_12:
        return None
    if text in _BOOL_12:
        return _BOOL_12[text]
    if _INT_12.match(text):
        return int(text)
    if re.match(r"^0o[0-7]+$", text):
        return int(text[2:], 8)
    if re.match(r"^0x[0-9a-fA-F]+$", text):
        return int(text[2:], 16)
    if _FLOAT_12.match(text):
        return float(text)
    if _INF_12.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN_12.match(text):
        return math.nan
    return text


def differs_from_text(text: str, value: Any) -> bool:
    """Whether some YAML reader may not read the unquoted `text` (read by gpc as `value`) as that text."""
    return value != text or not isinstance(yaml12(text), str) or text in _BOOL_11_ONLY


def problem(kind: Kind, text: str, value: Any, *, optional: bool,
            normalize: Callable[[Any], Any] | None = None) -> tuple[str, str] | None:
    """(message, hint) when the unquoted `text`, which gpc read as `value`, must be written otherwise.

    `normalize` turns a reading into the value gpc would use (a quantity's canonical text, a
    duration's seconds) and raises ValueError for a reading gpc would reject anyway.
    """
    other = yaml12(text)
    if isinstance(value, float) and not math.isfinite(value):
        what = "infinity" if math.isinf(value) else "not-a-number"
        return (f"YAML reads the unquoted {text} as the floating-point {what}",
                f'quote it: "{text}"' if kind == "text" else "write a finite number")
    if kind == "text":
        return _text_problem(text, _BOOL_11_ONLY.get(text, value), other, optional=optional)
    if kind == "bool":
        if isinstance(value, bool) and other is not value:
            return (f"YAML 1.1 (gpc) reads the unquoted {text} as {_shown(value)}, YAML 1.2 (editors, the "
                    f"schema) as the string '{text}'", f"write {_shown(value)}")
        return None
    ours, theirs = _normal(value, normalize), _normal(other, normalize)
    if ours == theirs or (ours is _REJECTED and theirs is _REJECTED):
        return None
    hint = _number_hint(ours, theirs)
    if kind == "duration" and re.match(r"^[0-9]+:[0-5]?[0-9]$", text):
        high, low = text.split(":")
        hint = f"write it with units: {int(high)}h{int(low)}m or {int(high)}m{int(low)}s, whichever you mean"
    return (f"YAML 1.1 (gpc) reads the unquoted {text} as {_reading(text, value)}, YAML 1.2 (editors, the "
            f"schema) as {_reading(text, other, 12)}", hint)


def _text_problem(text: str, v11: Any, v12: Any, *, optional: bool) -> tuple[str, str] | None:
    if v11 is None and optional:
        return None  # `description: ~` leaves it out, for every reader
    if text == "":
        return "has no value (YAML reads an empty value as null)", 'write a value, or "" for empty text'
    hint = f'quote it: "{text}"'
    if isinstance(v11, int) and not isinstance(v11, bool) and str(v11) == text and v12 == v11:
        return None  # `WORKERS: 4`: every reader agrees, and "4" is the text written
    if not isinstance(v11, str) and not isinstance(v12, str):
        if type(v11) is type(v12) and v11 == v12:
            return f"YAML reads the unquoted {text} as {_reading(text, v11)}", hint
        return (f"YAML reads the unquoted {text} as {_reading(text, v11)} (YAML 1.1) or "
                f"{_reading(text, v12, 12)} (YAML 1.2)", hint)
    if not isinstance(v11, str):
        return f"YAML 1.1 reads the unquoted {text} as {_reading(text, v11)}", hint
    if not isinstance(v12, str):
        return f"YAML 1.2 (editors, the schema) reads the unquoted {text} as {_reading(text, v12, 12)}", hint
    return None


_REJECTED = object()


def _normal(reading: Any, normalize: Callable[[Any], Any] | None) -> Any:
    if isinstance(reading, bool) or reading is None:
        return _REJECTED
    if normalize is None:
        if isinstance(reading, float) and reading.is_integer():
            return int(reading)
        return reading if isinstance(reading, int) else _REJECTED
    try:
        return normalize(reading)
    except ValueError:
        return _REJECTED


def _number_hint(ours: Any, theirs: Any) -> str:
    wanted = [v for v in (ours, theirs) if v is not _REJECTED]
    if len(wanted) == 2:
        return f"write {wanted[1]} or {wanted[0]}, whichever you mean"
    return f"write {wanted[0]}"


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _reading(text: str, value: Any, version: int = 11) -> str:
    if value is None:
        return "null, not as text" if text in ("null", "Null", "NULL") else "null"
    if isinstance(value, bool):
        return "a boolean, not as text" if _shown(value) == text else f"the boolean {_shown(value)}"
    if isinstance(value, str):
        return f"the string '{value}'"
    if isinstance(value, int):
        notation = text.lstrip("+-")
        if version == 11 and ":" in notation:
            return f"the base-60 number {value}"
        if (version == 11 and re.match(r"^0[0-7_]+$", notation)) or (version == 12 and notation.startswith("0o")):
            return f"the octal number {value}"
        if notation.startswith("0x"):
            return f"the hexadecimal number {value}"
        if notation.startswith("0b"):
            return f"the binary number {value}"
    if str(value) == text:
        return "a number, not as text"
    return f"the number {value}"
