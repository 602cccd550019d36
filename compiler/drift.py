"""How `gpc compile` reports its plan in the machine formats: one JSON document, or GitHub
workflow annotations on the files a `--check` found stale. (Text is the plan's unified diff.)"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from compiler.diagnostics import Diagnostic, annotation, format_json
from compiler.writer import Plan

_HUNK = re.compile(r"^@@ -(\d+)")


def to_json(diagnostics: Sequence[Diagnostic], plan: Plan | None, label: str | None, *, check: bool) -> str:
    """Everything on stdout, as one document: the diagnostics, and the files the compile changes
    (with --check: the drift, each file with its unified diff)."""
    doc: dict[str, Any] = {
        "diagnostics": json.loads(format_json(diagnostics)),
        "tree": label,
        "check": check,
        "stale": bool(check and plan is not None and plan.changed),
        "changes": [],
        "conflicts": [],
    }
    if plan is not None and label is not None:
        doc["conflicts"] = [f"{label}/{path}" for path in plan.conflicts]
        for path, change in plan.changes if not plan.conflicts else []:
            item = {"file": f"{label}/{path}", "change": change}
            if check:
                item["diff"] = plan.file_diff(path, label)
            doc["changes"].append(item)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_github(plan: Plan, label: str, spec_file: str) -> str:
    """One error annotation per stale file, on its first changed line where the file exists."""
    lines = []
    for path, change in plan.changes:
        props = {"file": f"{label}/{path}"}
        if change != "create":  # a file that exists: point at its first changed line
            props["line"] = str(_first_changed_line(plan.file_diff(path, label)))
        props["title"] = "gpc compile --check"
        verb = {"create": "is missing", "update": "is stale", "delete": "should not exist any more"}[change]
        lines.append(annotation("error", f"{verb}: it is not what {spec_file} compiles to. Run `gpc compile "
                                f"{spec_file}` and commit the result", **props))
    return "".join(f"{line}\n" for line in lines)


def _first_changed_line(diff: str) -> int:
    """The line of the old file where the first hunk's first change is."""
    line = 1
    for text in diff.splitlines():
        hunk = _HUNK.match(text)
        if hunk:
            line = int(hunk.group(1))
        elif text.startswith(" "):
            line += 1
        elif text.startswith(("-", "+")) and not text.startswith(("---", "+++")):
            return max(line, 1)
    return 1
