"""Source loading: YAML bytes -> plain data plus the position of every key and value.

PyYAML's loaders keep the last of two duplicate keys, expand aliases without limit, recurse on
nesting and construct arbitrary tags. gpc builds its own tree from the parser's event stream
instead, so every hostile input becomes a diagnostic with a line and column, never a traceback
or a hang.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from compiler.diagnostics import Diagnostic, Position
from compiler.scalars import differs_from_text
from compiler.yamlerrors import explain

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 2_000_000  # after alias expansion; real specs with 5000 workloads stay under 300k

Path = tuple[str | int, ...]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class Source:
    """A loaded spec: its data and where every node came from."""

    file: str
    data: Any = None
    values: dict[Path, Position] = field(default_factory=dict)  # position of each value
    keys: dict[Path, Position] = field(default_factory=dict)  # position of each mapping key
    text: str = ""
    # The text of each unquoted scalar that YAML may not read as that text (`0755`, `yes`, `~`,
    # `1e3`...): a value alone cannot tell `0755` from `493`, the model checks need both.
    plain: dict[Path, str] = field(default_factory=dict)
    included: list[tuple[str, str | None]] = field(default_factory=list)  # (team file, its team), merged in
    # (file, sha256 of its bytes) of every file read to build this Source: the compile's inputs
    # that the manifest records, so a `--check` can tell an unchanged spec without rendering it.
    read: list[tuple[str, str]] = field(default_factory=list)

    def position(self, path: Path, *, key: bool = False) -> Position:
        """The position of the node at `path`, or of its nearest ancestor that exists."""
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if key and path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Position(1, 1))


class _Abort(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def _pos(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


@dataclass
class _Anchored:
    value: Any
    size: int  # nodes in the subtree, aliases inside it expanded
    plain: tuple[tuple[Path, str], ...]  # the subtree's entries of Source.plain, relative to it


class _Builder:
    """Turns parser events into data, checking every hostile case on the way."""

    def __init__(self, file: str, source: Source) -> None:
        self.file = file
        self.source = source
        self.anchors: dict[str, _Anchored] = {}
        self.nodes = 0
        self.plain_log: list[tuple[Path, str]] = []  # Source.plain in the order found, for anchors

    def note_plain(self, path: Path, text: str) -> None:
        self.source.plain[path] = text
        self.plain_log.append((path, text))

    def fail(self, code: str, message: str, mark: Any, hint: str | None = None) -> None:
        raise _Abort(Diagnostic(code, message, self.file, _pos(mark), hint))

    def build(self, events: Any) -> Any:
        documents = 0
        root: Any = None
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self.fail("GPC006", "the file holds more than one YAML document", event.start_mark,
                              "a spec is a single document; remove the second '---' and what follows")
                root = self.node(event_iter := events, next(event_iter), (), 1)
            elif isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
                continue
        return root

    def scalar(self, event: yaml.ScalarEvent) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
        if tag not in _PLAIN_TAGS:
            if tag == "tag:yaml.org,2002:timestamp":
                return event.value  # a date-like string; keep it as written
            self.fail("GPC007", f"unsupported YAML tag '{_short_tag(event.tag or tag)}'", event.start_mark,
                      "remove the tag; specs hold plain strings, numbers, booleans, lists and mappings")
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)  # type: ignore[arg-type]
        try:
            return _CONSTRUCTOR.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as err:
            self.fail("GPC002", f"cannot read value '{event.value}': {err}", event.start_mark)
        finally:
            # The constructor remembers every node it built (for YAML anchors within a document,
            # which a scalar never needs); one shared across specs kept each scalar's node, event
            # and marks alive: ~70 MB at N=5000, a quarter of the IR's heap.
            _CONSTRUCTOR.constructed_objects.clear()
            _CONSTRUCTOR.recursive_objects.clear()
        return None

    def node(self, events: Any, event: Any, path: Path, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self.fail("GPC009", f"the document nests deeper than {MAX_DEPTH} levels", event.start_mark)
        self.source.values[path] = _pos(event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            anchored = self.anchors.get(event.anchor or "")
            if anchored is None:
                self.fail("GPC002", f"unknown alias '*{event.anchor}'", event.start_mark,
                          "no '&' anchor has this name; if the value is text starting with '*', quote it")
                return None
            # Positions inside an alias resolve to the alias itself (Source.position walks up).
            self.count(anchored.size, event.start_mark)
            for relative, text in anchored.plain:
                self.note_plain((*path, *relative), text)
            return anchored.value
        before_nodes = self.nodes
        before_plain = len(self.plain_log)
        value: Any
        if isinstance(event, yaml.ScalarEvent):
            self.count(1, event.start_mark)
            value = self.scalar(event)
            if event.tag is None and event.implicit[0] and differs_from_text(event.value, value):
                self.note_plain(path, event.value)
        elif isinstance(event, yaml.SequenceStartEvent):
            self.check_collection_tag(event, "tag:yaml.org,2002:seq")
            self.count(1, event.start_mark)
            value = []
            for item in events:
                if isinstance(item, yaml.SequenceEndEvent):
                    break
                value.append(self.node(events, item, (*path, len(value)), depth + 1))
        elif isinstance(event, yaml.MappingStartEvent):
            self.check_collection_tag(event, "tag:yaml.org,2002:map")
            self.count(1, event.start_mark)
            value = self.mapping(events, path, depth)
        else:  # pragma: no cover - the parser guarantees one of the above
            self.fail("GPC002", f"unexpected YAML event {type(event).__name__}", event.start_mark)
            return None
        anchor = getattr(event, "anchor", None)
        if anchor:
            plain = tuple((p[len(path):], text) for p, text in self.plain_log[before_plain:])
            self.anchors[anchor] = _Anchored(value, self.nodes - before_nodes, plain)
        return value

    def check_collection_tag(self, event: Any, expected: str) -> None:
        if event.tag not in (None, "!", expected):
            self.fail("GPC007", f"unsupported YAML tag '{_short_tag(event.tag)}'", event.start_mark,
                      "remove the tag; specs hold plain strings, numbers, booleans, lists and mappings")

    def mapping(self, events: Any, path: Path, depth: int) -> dict[str, Any]:
        value: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        merged_from: dict[str, Path] = {}  # merged key -> where its value was read, under '<<'
        merge_plain: list[tuple[Path, str]] = []
        for key_event in events:
            if isinstance(key_event, yaml.MappingEndEvent):
                break
            if isinstance(key_event, yaml.ScalarEvent) and key_event.tag is None and key_event.value == "<<" \
                    and key_event.implicit[0]:
                before_plain = len(self.plain_log)
                source = self.node(events, next(events), (*path, "<<"), depth + 1)
                self.source.values.pop((*path, "<<"), None)
                for p, _ in self.plain_log[before_plain:]:
                    self.source.plain.pop(p, None)
                merge_plain += self.plain_log[before_plain:]
                many = isinstance(source, list)
                for index, item in enumerate(source if many else [source]):
                    if not isinstance(item, dict):
                        self.fail("GPC002", "a merge key '<<' must refer to a mapping", key_event.start_mark)
                    for k, v in item.items():
                        if k not in merged:
                            merged[k] = v
                            merged_from[k] = (*path, "<<", *((index,) if many else ()), k)
                continue
            if not isinstance(key_event, yaml.ScalarEvent):
                self.fail("GPC004", "a mapping key must be a string, not a list or mapping",
                          key_event.start_mark)
            key = self.scalar(key_event)
            if not isinstance(key, str):
                shown = "null" if key is None else str(key).lower() if isinstance(key, bool) else str(key)
                self.fail("GPC004", f"key '{shown}' is a {_type_name(key)}, not a string",
                          key_event.start_mark, f"quote it: \"{key_event.value}\"")
            if key in value:
                first = self.source.keys[(*path, key)]
                self.fail("GPC003", f"duplicate key '{key}' (first defined at line {first.line})",
                          key_event.start_mark, "remove one of the two; YAML would silently keep the last")
            self.source.keys[(*path, key)] = _pos(key_event.start_mark)
            value[key] = self.node(events, next(events), (*path, key), depth + 1)
        for k, v in merged.items():
            value.setdefault(k, v)
        for p, text in merge_plain:  # a merged value's unquoted scalars move to where the value lands
            for k, origin in merged_from.items():
                if k not in value or value[k] is not merged[k] or p[: len(origin)] != origin:
                    continue
                self.note_plain((*path, k, *p[len(origin):]), text)
        return value

    def count(self, n: int, mark: Any) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            self.fail("GPC008", f"aliases expand to more than {MAX_NODES:,} nodes", mark,
                      "a spec never needs this; remove the nested aliases")


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string"}.get(type(value), type(value).__name__)


def load_source(raw: bytes, file: str) -> tuple[Source, list[Diagnostic]]:
    """Parse `raw` into a Source; on any problem, return the diagnostic instead of raising."""
    source = Source(file)
    if len(raw) > MAX_BYTES:
        return source, [Diagnostic("GPC010", f"the file is {len(raw):,} bytes; the limit is {MAX_BYTES:,}",
                                   file, Position(1, 1))]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        before = raw[: err.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        return source, [Diagnostic("GPC001", f"byte 0x{raw[err.start]:02x} is not valid UTF-8", file,
                                   Position(line, col), "save the file as UTF-8")]
    if text.startswith("\ufeff"):
        text = text[1:]
    source.text = text
    builder = _Builder(file, source)
    try:
        source.data = builder.build(iter(yaml.parse(text, Loader=_Loader)))
    except _Abort as abort:
        return source, [abort.diagnostic]
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        pos = _pos(mark) if mark is not None else Position(1, 1)
        message = " ".join(str(p) for p in (err.context, err.problem) if p)
        if "nesting depth" in message:  # libyaml's own limit, hit before ours while it reads ahead
            return source, [Diagnostic("GPC009", f"the document nests deeper than {MAX_DEPTH} levels", file, pos)]
        better = explain(err, text)
        if better is not None:
            return source, [Diagnostic("GPC002", better.message, file, Position(better.line, better.col), better.hint)]
        return source, [Diagnostic("GPC002", message or "invalid YAML", file, pos)]
    except yaml.YAMLError as err:
        return source, [Diagnostic("GPC002", str(err).splitlines()[0], file, Position(1, 1))]
    if not isinstance(source.data, dict):
        found = "an empty file" if source.data is None else f"a {_type_name(source.data)}"
        return source, [Diagnostic("GPC005", f"the spec must be a mapping, found {found}", file,
                                   source.values.get((), Position(1, 1)),
                                   "start with 'version: 1' and 'name: ...'")]
    return source, []
