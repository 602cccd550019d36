"""Spec values inside generated Markdown (READMEs): they must never change the document's structure."""

from __future__ import annotations

import re


def code(value: str) -> str:
    """`value` as inline code on one line, whatever backticks or line breaks it contains."""
    value = " ".join(value.split())
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def cell(text: str) -> str:
    """Text for a table cell: a pipe or a line break would end the cell."""
    return " ".join(text.split()).replace("|", "\\|")
