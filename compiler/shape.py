"""The model pass: validate a Source against the spec model and turn every pydantic error into
a diagnostic that points at the spec's line and column (GPC1xx)."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from compiler import model, scalars
from compiler.diagnostics import Diagnostic
from compiler.hints import did_you_mean
from compiler.kinds import USE_KINDS, kinds_phrase
from compiler.model import ENV_VAR_PATTERN, REGISTRY_PATTERN, WORKLOAD_TYPES, Platform, UseBase
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
_CUSTOM_CODES = {"quantity": "GPC105", "duration": "GPC108", "message_schema": "GPC106", "time_zone": "GPC112"}



def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    """The field a spec key names: its alias when it has one (`previews.from`), else its name."""
    return next((f for n, f in model.model_fields.items() if (f.alias or n) == key), None)

def check_shape(source: Source) -> tuple[Platform | None, list[Diagnostic]]:
    written = _written_differently(source)
    try:
        spec = Platform.model_validate(source.data)
    except ValidationError as err:
        # A value YAML changed is reported once, as what it is (GPC111), not also as a wrong type.
        flagged = {path for path, _ in written}
        errors = [e for e in err.errors(include_url=False) if _resolve(e["loc"])[0] not in flagged]
        return None, [d for _, d in written] + [_diagnostic(source, e) for e in errors]
    return (None, [d for _, d in written]) if written else (spec, [])


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
        known = sorted(f.alias or n for n, f in owner.model_fields.items()) if owner else []
        use_kind = _use_kind(owner)
        if use_kind is not None and key == "access" and not use_kind.accesses:
            return Diagnostic("GPC204", f"'{path[-2]}' uses a {use_kind.name}, which takes no 'access'", file,
                              source.position(path, key=True), use_kind.no_access_hint)
        hint = did_you_mean(key, known)
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
        hint = did_you_mean(tag, list(WORKLOAD_TYPES))
        return Diagnostic("GPC107", f"unknown workload type '{tag}' in {_dotted(path)}", file,
                          source.position((*path, "type")), hint or "use 'service', 'worker' or 'job'")
    if kind == "use_kind":
        return Diagnostic("GPC110", f"use '{path[-1]}' names none of {kinds_phrase()}",
                          file, source.position(path, key=True),
                          "for example: {queue: checkout-events, access: publish}")
    if kind in _CUSTOM_CODES:
        return Diagnostic(_CUSTOM_CODES[kind], f"{_dotted(path)}: {error['msg']}", file, source.position(path),
                          error.get("ctx", {}).get("hint"))
    if kind == "version":
        if isinstance(value, str) and value.strip() == "1":
            return Diagnostic("GPC109", f"version must be the number 1, not the string '{value}'", file,
                              source.position(path), "write 'version: 1' without quotes")
        shown = repr(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) \
            else _describe(value)
        return Diagnostic("GPC109", f"unsupported spec version {shown}; this gpc reads version 1", file,
                          source.position(path), "set 'version: 1'")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        use_kind = _use_kind(owner)
        if use_kind is not None and path[-1] == "access":
            return Diagnostic("GPC204", f"access '{value}' does not fit a {use_kind.name} in {where}", file,
                              source.position(path), f"a {use_kind.name} takes {expected}")
        hint = did_you_mean(str(value), [s.strip(" '") for s in str(expected).replace(" or ", ",").split(",")])
        return Diagnostic("GPC104", f"{_dotted(path)}: {_describe(value)} is not one of {expected}", file,
                          source.position(path), hint)
    if kind in _TYPE_ERRORS:
        target = source.position(path, key=is_key)
        hint = None
        if kind == "string_type" and value is not None and not isinstance(value, (dict, list)):
            hint = 'quote it: "..."'
        elif kind in ("int_type", "int_parsing") and isinstance(value, str) and re.match(r"^[-+]?[0-9]+$", value):
            hint = f"remove the quotes: {value}"
        elif kind in ("int_type", "int_parsing") and isinstance(value, bool):
            hint = "write a whole number"
        elif kind in ("bool_type", "bool_parsing"):
            hint = "write true or false, without quotes"
        return Diagnostic("GPC103", f"{_dotted(path)}: expected {_TYPE_ERRORS[kind]}, found {_describe(value)}",
                          file, target, hint)
    pattern = str(error.get("ctx", {}).get("pattern", ""))
    if pattern == REGISTRY_PATTERN and isinstance(value, str):
        return _registry(source, path, value)
    message = _PATTERNS.get(pattern) or error["msg"][0].lower() + error["msg"][1:]
    if is_key:
        return Diagnostic("GPC104", f"key '{path[-1]}' in {where}: {message}", file,
                          source.position(path, key=True))
    return Diagnostic("GPC104", f"{_dotted(path)}: {message} (found {_describe(value)})", file,
                      source.position(path))


def _registry(source: Source, path: Path, value: str) -> Diagnostic:
    fixed = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", value.strip()).rstrip("/")
    host, _, rest = fixed.partition("/")
    fixed = host.lower() + (f"/{rest.lower()}" if rest else "")
    if "://" in value:
        problem = "starts with a scheme; a registry is a host and a path, without one"
    elif value != value.lower():
        problem = "has uppercase letters; registry hosts and paths are lowercase"
    else:
        problem = "is not a registry host with an optional port and path"
    good = fixed if re.match(REGISTRY_PATTERN, fixed) and fixed != value else "ghcr.io/acme"
    return Diagnostic("GPC104", f"{_dotted(path)}: '{value}' {problem}", source.file, source.position(path),
                      f"for example '{good}'")


# -- values YAML read otherwise than written -------------------------------------------------

_KINDS: dict[Any, scalars.Kind] = {
    model._text: "text", model._whole: "int", model._quantity: "quantity", model._duration: "duration",
}
_PLAIN_KINDS: dict[Any, scalars.Kind] = {str: "text", bool: "bool", int: "int"}
_NORMALIZE: dict[scalars.Kind, Any] = {
    "quantity": lambda v: _or_value_error(model._quantity, v),
    "duration": lambda v: _or_value_error(model._duration, v),
}


def _or_value_error(validate: Any, value: Any) -> Any:
    try:
        return validate(value)
    except Exception as err:  # a PydanticCustomError: the reading is not a value of this kind
        raise ValueError(str(err)) from None


def _written_differently(source: Source) -> list[tuple[Path, Diagnostic]]:
    """GPC111 for every unquoted scalar whose text YAML turned into another value (compiler/scalars.py)."""
    found: list[tuple[Path, Diagnostic]] = []

    def leaf(kind: scalars.Kind, path: Path, optional: bool) -> None:
        text = source.plain.get(path)
        if text is None:
            return
        problem = scalars.problem(kind, text, _at(source.data, path), optional=optional,
                                  normalize=_NORMALIZE.get(kind))
        if problem is not None:
            message, hint = problem
            found.append((path, Diagnostic("GPC111", f"{_dotted(path)}: {message}", source.file,
                                           source.position(path), hint)))

    _walk(Platform, source.data, (), False, leaf)
    return found


_Leaf = Callable[[scalars.Kind, Path, bool], None]


def _walk(annotation: Any, data: Any, path: Path, optional: bool, leaf: _Leaf) -> None:
    """Call `leaf` for every scalar of `data` whose type under `annotation` has a scalar kind. A
    module function, not a closure that calls itself: that cycle kept the Source alive (gpc runs
    with the collector off; bench/README.md, the N=5000 bullet)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            base, *meta = typing.get_args(annotation)
            kind = next((_KINDS[m.func] for m in meta if getattr(m, "func", None) in _KINDS), None)
            if kind is not None:
                return leaf(kind, path, optional)
            annotation = base
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(options) < len(typing.get_args(annotation))
            annotation = options[0] if len(options) == 1 else _pick(annotation, data)
            if annotation is None:
                return None
        else:
            break
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for key, value in data.items() if isinstance(data, dict) else ():
            field = _field(annotation, key)
            if field is not None:
                full = typing.Annotated[(field.annotation, *field.metadata)] if field.metadata \
                    else field.annotation
                _walk(full, value, (*path, key), field.default is None, leaf)
    elif origin is dict and isinstance(data, dict):
        for key, value in data.items():
            _walk(typing.get_args(annotation)[1], value, (*path, key), False, leaf)
    elif origin is list and isinstance(data, list):
        for index, value in enumerate(data):
            _walk(typing.get_args(annotation)[0], value, (*path, index), False, leaf)
    elif annotation in _PLAIN_KINDS:
        leaf(_PLAIN_KINDS[annotation], path, optional)
    return None


def _pick(union: Any, data: Any) -> Any:
    """The member of a tagged union (workload by `type`, use by kind) that `data` selects."""
    if not isinstance(data, dict):
        return None
    for tag in (data.get("type"), model._use_kind(data)):
        if isinstance(tag, str):
            variant = _variant(union, tag)
            if variant is not None:
                return variant
    return None


def _at(data: Any, path: Path) -> Any:
    for element in path:
        data = data[element]
    return data


def _use_kind(owner: type[BaseModel] | None) -> Any:
    """The kinds-table entry of a `uses` model class, or None for any other model."""
    if owner is not None and issubclass(owner, UseBase):
        return USE_KINDS[owner.kind]
    return None



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
            field = _field(annotation, str(element))
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
