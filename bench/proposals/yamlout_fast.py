"""Proposed replacement for `dump`/`dump_all` in compiler/yamlout.py: the same bytes, ~5x faster.

Why: PyYAML's C dumper only emits in C. Representing the data (a Python call chain per node),
resolving every scalar's implicit tag twice (a regex scan each) and libyaml's per-event
callbacks cost ~100 us per manifest; at N=1000 the targets dump ~16,000 documents, which made
YAML emission the largest single cost of `gpc compile` (bench/results/profile-n1000.md).

How: gpc's documents are plain data (dict, list, str, int, bool, None) dumped in block style
with no line folding (width=1_000_000), so the layout is fixed and simple. Only the *style* of
a string scalar (plain, 'single', "double", |literal) needs libyaml's judgement, and that
depends on the string alone (for single-line strings, keys and values alike). Each distinct
string is therefore styled once — by a whitelist for the common case (names, paths, labels:
plain unless YAML would read them as another type, then single-quoted) and by asking libyaml
itself (dumping the string alone) for everything else — and memoized. Anything outside that
subset (floats, non-string keys, keys of 100+ characters, multi-line keys, literal blocks with
keep-chomping) falls back to PyYAML for the whole document, so the output is always the bytes
`compiler.yamlout` writes today (bench/proposals/check_yamlout_fast.py compares every document
every target renders, plus hostile and random strings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml

from compiler import yamlout

_STR_TAG = "tag:yaml.org,2002:str"
_BORING = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")  # no indicator, space or quote can occur
_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")
_ODD_BREAKS = re.compile("[\r\x85\u2028\u2029]")
_RESOLVER: Any = yaml.resolver.Resolver()
_SCALARS: dict[str, str | tuple[str, list[str]]] = {}  # str -> its text, or (literal header, lines)
_KEYS: dict[str, str] = {}  # mapping keys already checked and styled


class _Fallback(Exception):
    """The document needs something this emitter does not do: PyYAML writes it."""


def _pyyaml(data: Any) -> str:
    return yaml.dump(data, Dumper=yamlout._Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=1_000_000, explicit_start=False)


def _style(s: str) -> str | tuple[str, list[str]]:
    if _BORING.fullmatch(s):
        tag = _RESOLVER.resolve(yaml.ScalarNode, s, (True, False))
        return s if tag == _STR_TAG else f"'{s}'"
    if not _BREAKS.search(s):
        text = _pyyaml([s])
        if not text.startswith("- ") or text.count("\n") != 1:
            raise _Fallback
        return text[2:-1]
    if _ODD_BREAKS.search(s):
        raise _Fallback  # libyaml writes these breaks raw, inside quoted scalars spanning lines
    text = _pyyaml({"k": s})  # multi-line: libyaml picks literal (or double-quoted) style
    head, _, body = text.partition("\n")
    if not head.startswith("k: "):
        raise _Fallback
    style = head[3:]
    if not style.startswith("|"):
        if body or not style.startswith('"'):
            raise _Fallback
        return style  # double-quoted on one line
    if "+" in style:
        raise _Fallback  # keep-chomping can end the document with '...'
    return style, [line[2:] if line else "" for line in body[:-1].split("\n")]


def _text(value: str) -> str | tuple[str, list[str]]:
    styled = _SCALARS.get(value)
    if styled is None:
        styled = _SCALARS[value] = _style(value)
    return styled


def _scalar(value: Any, indent: int, out: list[str]) -> str:
    t = type(value)
    if t is str:
        styled = _SCALARS.get(value) or _text(value)
        if isinstance(styled, str):
            return styled
        header, lines = styled
        pad = " " * indent
        out.extend(f"{pad}{line}" if line else "" for line in lines)
        return header
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if value is None:
        return "null"
    raise _Fallback


def _key(key: Any) -> str:
    if type(key) is not str or len(key) >= 100 or _BREAKS.search(key):
        raise _Fallback  # libyaml writes these as complex keys ("? key")
    styled = _text(key)
    if not isinstance(styled, str):
        raise _Fallback
    _KEYS[key] = styled
    return styled


def _mapping(data: dict[Any, Any], indent: int, first: str | None, out: list[str]) -> None:
    """A block mapping whose keys sit at `indent`; `first` prefixes the first key's line ("- ")."""
    pad = " " * indent
    keys, scalars = _KEYS, _SCALARS
    for key, value in data.items():
        lead = pad if first is None else first
        first = None
        k = keys.get(key) or _key(key)
        t = type(value)
        if t is str:
            styled = scalars.get(value)
            if type(styled) is str:  # the common case, inline
                out.append(f"{lead}{k}: {styled}")
                continue
        if t is dict:
            if value:
                out.append(f"{lead}{k}:")
                _mapping(value, indent + 2, None, out)
            else:
                out.append(f"{lead}{k}: {{}}")
        elif t is list:
            if value:
                out.append(f"{lead}{k}:")
                _sequence(value, indent, None, out)  # indentless: a mapping's sequence sits at its key's column
            else:
                out.append(f"{lead}{k}: []")
        else:
            at = len(out)
            out.append("")
            out[at] = f"{lead}{k}: {_scalar(value, indent + 2, out)}"


def _sequence(data: list[Any], indent: int, first: str | None, out: list[str]) -> None:
    pad = " " * indent
    for item in data:
        lead = (pad if first is None else first) + "- "
        first = None
        t = type(item)
        if t is dict:
            if item:
                _mapping(item, indent + 2, lead, out)
            else:
                out.append(f"{lead}{{}}")
        elif t is list:
            if item:
                _sequence(item, indent + 2, lead, out)
            else:
                out.append(f"{lead}[]")
        else:
            at = len(out)
            out.append("")
            out[at] = f"{lead}{_scalar(item, indent + 2, out)}"


def _document(data: Any) -> str:
    t = type(data)
    try:
        out: list[str] = []
        if t is dict and data:
            _mapping(data, 0, None, out)
        elif t is list and data:
            _sequence(data, 0, None, out)
        else:
            raise _Fallback
        out.append("")
        return "\n".join(out)
    except _Fallback:
        return _pyyaml(data)


def dump(data: Any, spec_file: str | None = None) -> str:
    """One YAML document, with the generated-file header when `spec_file` is given."""
    return (yamlout.header(spec_file) if spec_file else "") + _document(data)


def dump_all(documents: Iterable[Any], spec_file: str | None = None) -> str:
    return (yamlout.header(spec_file) if spec_file else "") + "---\n".join(_document(d) for d in documents)
