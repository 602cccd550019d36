"""YAML syntax errors in words a spec author can act on (GPC002).

libyaml reports where its parser gave up, in its own terms: a tab is "a character that cannot
start any token", `schedule: */30 * * * *` is "an alias", and an under-indented key shows up on
the line after it as "mapping values are not allowed". The mistakes behind these are few and
recognisable from the text around the error, so gpc names them, points at the line to change
and says how. Anything else keeps libyaml's message.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

_KEY = re.compile(r"^(?P<indent> *)(?:- +)?(?P<key>[^\s:#'\"][^:#]*?|'[^']*'|\"[^\"]*\"):(?: +(?P<value>.*))?$")


@dataclass(frozen=True)
class Explained:
    message: str
    line: int  # 1-based
    col: int  # 1-based
    hint: str | None


def explain(err: Any, text: str) -> Explained | None:
    """A better message for the libyaml error `err` in `text`, or None to keep libyaml's."""
    problem, context = str(err.problem or ""), str(err.context or "")
    mark, context_mark = err.problem_mark, err.context_mark
    if mark is None:
        return None
    lines = text.split("\n")
    line = lines[mark.line] if mark.line < len(lines) else ""
    leading = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" in leading or "tab" in problem or line[mark.column: mark.column + 1] == "\t":
        col = (leading.index("\t") if "\t" in leading else line.find("\t")) + 1
        return Explained(f"line {mark.line + 1} is indented with a tab; YAML indents with spaces only",
                         mark.line + 1, max(col, 1), "replace the tab with spaces")
    start = context_mark if context_mark is not None else mark
    start_line = lines[start.line] if start.line < len(lines) else ""
    first = start_line[start.column: start.column + 1]
    if ("alias" in context and first == "*") or ("cannot start any token" in problem and first in ("@", "`")):
        return _starts_with_indicator(start_line, start.line, start.column, first)
    if "mapping values are not allowed" in problem:
        return _colon(lines, mark.line, mark.column)
    if "did not find expected key" in problem and context_mark is not None and "block mapping" in context:
        return _between_levels(lines, mark.line, context_mark.column)
    return None


def _spaces(n: int) -> str:
    return f"{n} space" + ("" if n == 1 else "s")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key(line: str) -> str | None:
    match = _KEY.match(line)
    return match["key"].strip("'\"") if match else None


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _starts_with_indicator(line: str, index: int, column: int, char: str) -> Explained:
    value = re.sub(r"\s+#.*$", "", line[column:]).rstrip()
    before = line[:column].rstrip()
    key = _key(line)
    what = "an alias (a reference to an '&anchor')" if char == "*" else "reserved"
    subject = f"the value of '{key}'" if key else "the value"
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    return Explained(f"{subject} starts with '{char}', which YAML reads as {what}" if char == "*"
                     else f"{subject} starts with '{char}', which YAML reserves",
                     index + 1, column + 1, f'quote it: {before.strip()} "{quoted}"'.replace(":  ", ": "))


def _colon(lines: list[str], index: int, column: int) -> Explained | None:
    here = lines[index]
    match = _KEY.match(here)
    if match and match["value"] and column > len(match["indent"]) + len(match["key"]):
        # `description: note: this`: a second ': ' in a plain value.
        value = re.sub(r"\s+#.*$", "", match["value"]).replace('"', '\\"')
        return Explained(f"the value of '{match['key']}' contains ': ', which YAML reads as the start of a "
                         "nested key", index + 1, len(match["indent"]) + len(match["key"]) + 3,
                         f"quote the value: {match['key']}: \"{value}\"")
    above = next((i for i in range(index - 1, -1, -1) if _content(lines[i])), None)
    if above is None:
        return None
    previous = _KEY.match(lines[above])
    key, own = _key(here), _indent(here)
    if previous is None or not previous["value"] or key is None or own <= _indent(lines[above]):
        return None
    # `type` at 3 spaces, then `port` at 4: YAML reads `port: 8080` as more text of `type`'s value.
    other, theirs = previous["key"], _indent(lines[above])
    parent = next((i for i in range(above - 1, -1, -1) if _content(lines[i]) and _indent(lines[i]) < theirs), None)
    parent_indent = _indent(lines[parent]) if parent is not None else 0
    step = _usual_step(lines[:index])
    owner = f"'{_key(lines[parent])}'" if parent is not None and _key(lines[parent]) else "the top level"
    if own - parent_indent == step and theirs - parent_indent != step:
        return Explained(f"'{other}' is indented by {_spaces(theirs)} and '{key}' below it by {own}, so YAML reads "
                         f"line {index + 1} as more text of the value of '{other}'", above + 1, theirs + 1,
                         f"indent '{other}' by {_spaces(own)}, like the other keys of {owner}")
    return Explained(f"'{key}' is indented by {_spaces(own)}, deeper than '{other}' above it ({theirs}), so YAML "
                     f"reads it as more text of the value of '{other}'", index + 1, own + 1,
                     f"indent '{key}' by {_spaces(theirs)}, like '{other}'")


def _between_levels(lines: list[str], index: int, level: int) -> Explained | None:
    here = lines[index]
    own = _indent(here)
    above = next((i for i in range(index - 1, -1, -1) if _content(lines[i])), None)
    if above is None or not (level < own < _indent(lines[above])):
        return None
    deeper = _indent(lines[above])
    inner = next((i for i in range(above, -1, -1) if _content(lines[i]) and _indent(lines[i]) < deeper), None)
    outer = next((i for i in range(index - 1, -1, -1) if _content(lines[i]) and _indent(lines[i]) < level), None)
    token = _key(here) or here.strip()
    inner_name = _key(lines[inner]) if inner is not None else None
    outer_name = f"'{_key(lines[outer])}' (line {outer + 1})" if outer is not None and _key(lines[outer]) \
        else "the top level"
    inner_where = f"'{inner_name}' (line {inner + 1})" if inner_name and inner is not None else f"line {above + 1}"
    return Explained(f"'{token}' is indented by {_spaces(own)}, which lines up with nothing above it",
                     index + 1, own + 1,
                     f"indent it by {_spaces(deeper)} to put it in {inner_where}, or by {level} to put it in "
                     f"{outer_name}")


def _usual_step(lines: list[str]) -> int:
    """The indentation step the file uses most: how much deeper a line is than the line it is under."""
    steps: Counter[int] = Counter()
    stack: list[int] = []
    for line in lines:
        if not _content(line):
            continue
        own = _indent(line)
        while stack and stack[-1] >= own:
            stack.pop()
        if stack:
            steps[own - stack[-1]] += 1
        stack.append(own)
    return steps.most_common(1)[0][0] if steps else 2
