"""HCL text from data: the one place a spec value becomes HCL.

Every value that reaches a `.tf` file passes through `string` (a quoted template literal with
every escape HCL knows, and `${` and `%{` neutralised), `key` (the same, for object keys) or `value`
(data of any shape, laid out the way `terraform fmt` lays it out). Comments get `comment`.
The Jinja environment in `templates.py` refuses to print anything that did not come out of
these functions, so a template cannot forget to escape.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

INDENT = "  "

_SIGIL_BRACE = re.compile(r"([$%])\{")
# Printable ASCII other than '"' and '\\': the characters that never need an escape.
_PLAIN = re.compile(r"[\x20\x21\x23-\x5B\x5D-\x7E]*")
# Characters that may stand in a quoted HCL string as they are. Everything else that is not
# printable (controls, line and paragraph separators, format characters, unassigned code
# points) is written as a \u or \U escape: a line break can end a comment or a string, and an
# invisible character in a generated file hides what it says.
_SIMPLE = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class Hcl(str):
    """Text that is already valid HCL (or a comment, or escaped Markdown): safe to print."""

    __slots__ = ()


def _escape_char(ch: str, ascii_only: bool) -> str:
    if ch in _SIMPLE:
        return _SIMPLE[ch]
    code = ord(ch)
    if ascii_only and code > 0x7E:
        return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"
    return ch


def _literal(text: str, ascii_only: bool) -> str:
    # Most strings are names and paths: skip the per-character walk when nothing needs escaping.
    body = text if _PLAIN.fullmatch(text) else "".join(_escape_char(ch, ascii_only) for ch in text)
    # A quoted string is a template: `${` starts an interpolation and `%{` a directive. HCL's own
    # escape doubles the sigil (`$${`), but python-hcl2 8.1.4 rejects a `$${` that no `}`
    # follows, which Terraform accepts; writing the brace as \u007B means the same literal `${`
    # to both, and no template sequence ever starts.
    if "{" in body:  # rare: the substitution with a template string costs more than the rest
        body = _SIGIL_BRACE.sub(r"\1\\u007B", body)
    return '"' + body + '"'


def string(text: str) -> Hcl:
    """`text` as a quoted HCL string that evaluates to exactly `text`."""
    found = _STRINGS.get(text) if type(text) is str else None
    if found is None:
        if not isinstance(text, str):
            raise TypeError(f"expected a string, got {type(text).__name__}")
        found = Hcl(_literal(text, ascii_only=False))
        if len(text) <= 64:  # names and short values repeat (53k calls at N=1000); long text is written once
            _STRINGS[text] = found
    return found


_STRINGS: dict[str, Hcl] = {}


def key(text: str) -> Hcl:
    """An object key. Non-ASCII is escaped too: `terraform fmt` aligns the `=` of consecutive
    attributes by grapheme clusters, which only an all-ASCII key lets us count exactly."""
    found = _KEYS.get(text) if type(text) is str else None
    if found is None:
        if not isinstance(text, str):
            raise TypeError(f"expected a string key, got {type(text).__name__}")
        found = _KEYS[text] = Hcl(_literal(text, ascii_only=True))
    return found


# The same few hundred keys (attribute names, workload and environment names) come back for every
# object: 71k key() calls at N=1000 for ~5k distinct keys.
_KEYS: dict[str, Hcl] = {}


def scalar(item: object) -> Hcl:
    """A string, number, boolean or null as an HCL literal; `Hcl` text (an expression built by
    this target, never spec text) is kept as it is."""
    if type(item) is str:  # the common case first: a plain str, so not already `Hcl`
        return string(item)
    if isinstance(item, Hcl):
        return item
    if item is None:
        return Hcl("null")
    if isinstance(item, bool):
        return Hcl("true" if item else "false")
    if isinstance(item, int):
        return Hcl(str(item))
    if isinstance(item, str):
        return string(item)
    raise TypeError(f"no HCL literal for {type(item).__name__}")


def comment(text: str) -> Hcl:
    """`text` on one comment line: anything that could end the line is replaced by a space."""
    flat = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") else ch
        for ch in text
    )
    return Hcl(flat)


def _is_scalar(item: object) -> bool:
    return item is None or isinstance(item, (bool, int, str))


def _single_line(item: object) -> str | None:
    """The one-line form of `item`, when `terraform fmt` would keep it on one line."""
    if _is_scalar(item):
        return scalar(item)
    if isinstance(item, Mapping) and not item:
        return "{}"
    if isinstance(item, Sequence) and not isinstance(item, str) and all(_is_scalar(x) for x in item):
        return "[" + ", ".join(scalar(x) for x in item) + "]"
    return None


def value(item: object, level: int = 0) -> Hcl:
    """Data as an HCL expression whose first line starts at the cursor and whose other lines
    are indented for nesting `level`. Mappings keep their order (callers sort them)."""
    line = _single_line(item)
    if line is not None:
        return Hcl(line)
    inner = INDENT * (level + 1)
    out = INDENT * level
    if isinstance(item, Mapping):
        return Hcl("{\n" + "".join(attributes(item, level + 1)) + out + "}")
    if isinstance(item, Sequence) and not isinstance(item, str):
        body = "".join(f"{inner}{value(x, level + 1)},\n" for x in item)
        return Hcl("[\n" + body + out + "]")
    raise TypeError(f"no HCL value for {type(item).__name__}")


def attributes(mapping: Mapping[str, object], level: int, *, quoted: bool = True) -> list[str]:
    """Lines `name = value` for an object body or a block body at nesting `level`.

    `terraform fmt` aligns the `=` of consecutive one-line attributes; a multi-line value
    (or a blank line) ends the run. Object keys are quoted; block attribute names
    (`quoted=False`) must already be identifiers.
    """
    pad = INDENT * level
    rendered = [(key(k) if quoted else _identifier(k), value(v, level)) for k, v in mapping.items()]
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        lines.extend(f"{pad}{k.ljust(width)} = {v}\n" for k, v in run)
        run.clear()

    for name, text in rendered:
        if "\n" in text:
            flush()
            lines.append(f"{pad}{name} = {text}\n")
        else:
            run.append((name, text))
    flush()
    return lines


def _identifier(name: str) -> str:
    if not (name and (name[0].isascii() and name[0].isalpha())
            and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)):
        raise ValueError(f"{name!r} is not an HCL identifier")
    return name
