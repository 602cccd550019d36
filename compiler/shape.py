"""The model pass: validate a Source against the spec model and turn every pydantic error into
a diagnostic that points at the spec's line and column (GPC1xx)."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import ErrorDetails

from compiler.diagnostics import Diagnostic
from compiler.kinds import USE_KINDS, kinds_phrase
from compiler.model import ENV_VAR_PATTERN, WORKLOAD_TYPES, Platform, UseBase
from compiler.model_edges import URL_PATH_PATTERN
from compiler.source import Path, Source

_TYPE_ERRORS = {
    "string_type": "a string", "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false", "dict_type": "a mapping",
    "list_type": "a list", "model_type": "a mapping", "model_attributes_type": "a mapping",
    "string_sub_type": "a string", "none_required": "null",
}
_PATTERNS = {
    ENV_VAR_PATTERN: "not a valid environment variable name (letters, digits and '_', not starting with a digit)",
    "^/": "must be an absolute path starting with '/'",
    "^https://": "must be an https:// URL",
    URL_PATH_PATTERN: "must be a URL path starting with '/' (no spaces, '?' or '#')",
}
_CUSTOM_CODES = {"quantity": "GPC105", "duration": "GPC108", "message_schema": "GPC106"}


def check_shape(source: Source) -> tuple[Platform | None, list[Diagnostic]]:
    try:
        return Platform.model_validate(source.data), []
    except ValidationError as err:
        return None, [_diagnostic(source, e) for e in err.errors(include_url=False)]


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string '{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path) or "the root"


def _diagnostic(source: Source, error: ErrorDetails) -> Diagnostic:
    path, owner, is_key = _resolve(error["loc"])
    kind = error["type"]
    value = error.get("input")
    where = _dotted(path[:-1]) if path else "the root"
    file = source.file
    if kind == "extra_forbidden":
        key = str(path[-1])
        known = sorted(owner.model_fields) if owner else []
        use_kind = _use_kind(owner)
        if use_kind is not None and key == "access" and not use_kind.accesses:
            return Diagnostic("GPC204", f"'{path[-2]}' uses a {use_kind.name}, which takes no 'access'", file,
                              source.position(path, key=True), use_kind.no_access_hint)
        hint = _did_you_mean(key, known)
        return Diagnostic("GPC101", f"unknown key '{key}' in {where}", file, source.position(path, key=True),
                          hint or (f"known keys: {', '.join(known)}" if known else None))
    if kind == "missing":
        return Diagnostic("GPC102", f"missing key '{path[-1]}' in {where}", file,
                          source.position(path[:-1], key=True))
    if kind == "union_tag_not_found":
        return Diagnostic("GPC102", f"missing key 'type' in {_dotted(path)}", file,
                          source.position(path, key=True), "add 'type: service', 'type: worker' or 'type: job'")
    if kind == "union_tag_invalid":
        tag = str(error.get("ctx", {}).get("tag", ""))
        hint = _did_you_mean(tag, list(WORKLOAD_TYPES))
        return Diagnostic("GPC107", f"unknown workload type '{tag}' in {_dotted(path)}", file,
                          source.position((*path, "type")), hint or "use 'service', 'worker' or 'job'")
    if kind == "use_kind":
        return Diagnostic("GPC110", f"use '{path[-1]}' names none of {kinds_phrase()}",
                          file, source.position(path, key=True),
                          "for example: {queue: checkout-events, access: publish}")
    if kind in _CUSTOM_CODES:
        return Diagnostic(_CUSTOM_CODES[kind], f"{_dotted(path)}: {error['msg']}", file, source.position(path))
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        if path and path[-1] == "version":
            return Diagnostic("GPC109", f"unsupported spec version {value!r}; this gpc reads version 1", file,
                              source.position(path), "set 'version: 1'")
        use_kind = _use_kind(owner)
        if use_kind is not None and path[-1] == "access":
            return Diagnostic("GPC204", f"access '{value}' does not fit a {use_kind.name} in {where}", file,
                              source.position(path), f"a {use_kind.name} takes {expected}")
        hint = _did_you_mean(str(value), [s.strip(" '") for s in str(expected).replace(" or ", ",").split(",")])
        return Diagnostic("GPC104", f"{_dotted(path)}: {_describe(value)} is not one of {expected}", file,
                          source.position(path), hint)
    if kind in _TYPE_ERRORS:
        target = source.position(path, key=is_key)
        hint = None
        if kind == "string_type" and isinstance(value, float):
            hint = "quote it: YAML reads an unquoted 1.10 as the number 1.1, which changes the value"
        elif kind == "string_type" and value is not None and not isinstance(value, (dict, list)):
            hint = 'quote it: "..."'
        return Diagnostic("GPC103", f"{_dotted(path)}: expected {_TYPE_ERRORS[kind]}, found {_describe(value)}",
                          file, target, hint)
    pattern = str(error.get("ctx", {}).get("pattern", ""))
    message = _PATTERNS.get(pattern) or error["msg"][0].lower() + error["msg"][1:]
    if is_key:
        return Diagnostic("GPC104", f"key '{path[-1]}' in {where}: {message}", file,
                          source.position(path, key=True))
    return Diagnostic("GPC104", f"{_dotted(path)}: {message} (found {_describe(value)})", file,
                      source.position(path))


def _use_kind(owner: type[BaseModel] | None) -> Any:
    """The kinds-table entry of a `uses` model class, or None for any other model."""
    if owner is not None and issubclass(owner, UseBase):
        return USE_KINDS[owner.kind]
    return None


def _did_you_mean(word: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
            else:
                return annotation
        else:
            return annotation


def _variant(union: Any, tag: str) -> Any:
    for arg in typing.get_args(union):
        if typing.get_origin(arg) is typing.Annotated:
            if any(isinstance(m, Tag) and m.tag == tag for m in arg.__metadata__):
                return typing.get_args(arg)[0]
            arg = typing.get_args(arg)[0]
        if isinstance(arg, type) and issubclass(arg, BaseModel) and "type" in arg.model_fields:
            if typing.get_args(arg.model_fields["type"].annotation) == (tag,):
                return arg
    return None


def _resolve(loc: tuple[str | int, ...]) -> tuple[Path, type[BaseModel] | None, bool]:
    """Map a pydantic `loc` to a path in the data: drop union tags, note dict-key errors.

    Returns the path, the model that owns the last element, and whether the error is about a key.
    """
    annotation: Any = Platform
    path: list[str | int] = []
    owner: type[BaseModel] | None = None
    is_key = False
    for element in loc:
        if element == "[key]":
            is_key = True
            continue
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            annotation = _variant(annotation, str(element))
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            owner = annotation
            path.append(element)
            field = annotation.model_fields.get(str(element))
            annotation = field.annotation if field else None
        elif origin is dict:
            path.append(element)
            annotation = typing.get_args(annotation)[1]
        elif origin is list:
            path.append(element)
            annotation = typing.get_args(annotation)[0]
        else:
            path.append(element)
            annotation = None
    return tuple(path), owner, is_key
