"""GitHub Actions `if:` expressions, evaluated: the subset gpc's workflows use.

Literals ('text', true, false, null, numbers), contexts (`github.event.pull_request.draft`, with the
`.*.` object filter: `labels.*.name` is the list of every label's name), `==`, `!=`, `!`, `&&`, `||`,
parentheses and `contains(search, item)`. Written from GitHub's expression reference: string
comparisons ignore case, `!` and the operators coerce to booleans the way JavaScript does, a missing
property is null. Any other syntax raises, so a workflow using more than this subset fails the tests
that evaluate it instead of being misread.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>&&|\|\||==|!=|!|\(|\)|,)"
                    r"|(?P<num>-?[0-9]+(?:\.[0-9]+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_.*-]*))")


def _lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part == "*":
            rest = ".".join(parts[i + 1:])
            items = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
            return [_lookup(item, rest) if rest else item for item in items]
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value == value


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return bool(a == b)


def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(_equal(x, item) for x in search)
    return isinstance(search, str) and str(item).lower() in search.lower()


def evaluate(expression: str, context: dict[str, Any]) -> bool:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"unsupported expression syntax at {text[position:]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    result, rest = _or(tokens, context)
    if rest:
        raise ValueError(f"unexpected {rest[0][1]!r}")
    return _truthy(result)


def _or(tokens: list[tuple[str, str]], ctx: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    left, tokens = _and(tokens, ctx)
    while tokens and tokens[0] == ("op", "||"):
        right, tokens = _and(tokens[1:], ctx)
        left = left if _truthy(left) else right
    return left, tokens


def _and(tokens: list[tuple[str, str]], ctx: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    left, tokens = _compare(tokens, ctx)
    while tokens and tokens[0] == ("op", "&&"):
        right, tokens = _compare(tokens[1:], ctx)
        left = right if _truthy(left) else left
    return left, tokens


def _compare(tokens: list[tuple[str, str]], ctx: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    left, tokens = _unary(tokens, ctx)
    while tokens and tokens[0] in (("op", "=="), ("op", "!=")):
        op = tokens[0][1]
        right, tokens = _unary(tokens[1:], ctx)
        left = _equal(left, right) if op == "==" else not _equal(left, right)
    return left, tokens


def _unary(tokens: list[tuple[str, str]], ctx: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    if tokens and tokens[0] == ("op", "!"):
        value, rest = _unary(tokens[1:], ctx)
        return not _truthy(value), rest
    return _primary(tokens, ctx)


def _primary(tokens: list[tuple[str, str]], ctx: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    if not tokens:
        raise ValueError("expression ends early")
    kind, value = tokens[0]
    rest = tokens[1:]
    if (kind, value) == ("op", "("):
        inner, rest = _or(rest, ctx)
        if not rest or rest[0] != ("op", ")"):
            raise ValueError("missing ')'")
        return inner, rest[1:]
    if kind == "str":
        return value[1:-1].replace("''", "'"), rest
    if kind == "num":
        return float(value), rest
    if kind == "name":
        if value in ("true", "false"):
            return value == "true", rest
        if value == "null":
            return None, rest
        if rest and rest[0] == ("op", "("):
            if value != "contains":
                raise ValueError(f"unsupported function {value}")
            first, rest = _or(rest[1:], ctx)
            if not rest or rest[0] != ("op", ","):
                raise ValueError("contains() takes two arguments")
            second, rest = _or(rest[1:], ctx)
            if not rest or rest[0] != ("op", ")"):
                raise ValueError("missing ')'")
            return _contains(first, second), rest[1:]
        return _lookup(ctx, value), rest
    raise ValueError(f"unexpected {value!r}")
