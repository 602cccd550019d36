"""Diagnostics: what gpc tells a user about their spec, and how it prints them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from compiler.codes import CODES
from compiler.codes import Level as Severity


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column in a source file. `file` is set for nodes of an included file
    (a platform split across files); None means the spec file the diagnostic names."""

    line: int = 1
    col: int = 1
    file: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        where = f"{self.line}:{self.col}"
        return f"{self.file}:{where}" if self.file else where


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a spec: a stable code, where it is, what is wrong and how to fix it."""

    code: str
    message: str
    file: str
    pos: Position = field(default_factory=Position)
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"diagnostic code {self.code} is not registered in compiler/codes.py")
        if self.pos.file is not None and self.pos.file != self.file:
            # A node of an included file: the diagnostic belongs to that file, wherever it was found.
            object.__setattr__(self, "file", self.pos.file)

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.pos.line, self.pos.col, self.code, self.message)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    unique = {(d.sort_key(), d.hint): d for d in diagnostics}
    return [unique[k] for k in sorted(unique, key=lambda k: (k[0], k[1] or ""))]


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def format_text(diagnostics: Sequence[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        lines.append(f"{d.file}:{d.pos.line}:{d.pos.col}: {d.severity.value} {d.code} {d.message}")
        if d.hint:
            lines.append(f"  hint: {d.hint}")
    if diagnostics:
        errors = sum(d.severity is Severity.ERROR for d in diagnostics)
        warnings = len(diagnostics) - errors
        lines.append(f"found {_plural(errors, 'error')} and {_plural(warnings, 'warning')}")
    return "\n".join(lines) + ("\n" if lines else "")


def format_json(diagnostics: Sequence[Diagnostic]) -> str:
    items = [
        {
            "code": d.code,
            "severity": d.severity.value,
            "message": d.message,
            "file": d.file,
            "line": d.pos.line,
            "col": d.pos.col,
            "hint": d.hint,
        }
        for d in diagnostics
    ]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def _escape_github(value: str, *, property_value: bool = False) -> str:
    # https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(diagnostics: Sequence[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        level = "error" if d.severity is Severity.ERROR else "warning"
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        props = ",".join(
            f"{k}={_escape_github(v, property_value=True)}"
            for k, v in (
                ("file", d.file),
                ("line", str(d.pos.line)),
                ("col", str(d.pos.col)),
                ("title", d.code),
            )
        )
        lines.append(f"::{level} {props}::{_escape_github(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
