"""The one Jinja environment of the terraform target: compiled once per process, strict about
undefined names, and unable to print a value that was not escaped for its format."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from targets.terraform import hcl
from targets.terraform.hcl import Hcl

if TYPE_CHECKING:
    import jinja2

_ADDRESS = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z][A-Za-z0-9_-]*$")  # type.name; names may hold "-"
_MD_SPECIAL = set("\\`*_[]<>&|#~!")


def _finalize(item: object) -> object:
    if isinstance(item, Hcl):
        return item
    raise TypeError(f"template printed {item!r} without escaping it for its format")


def _ident(name: str) -> Hcl:
    return Hcl(hcl._identifier(name))


def _raw(address: str) -> Hcl:
    """A resource address the target wrote itself (`helm_release.kyverno`), for depends_on."""
    if not _ADDRESS.match(address):
        raise ValueError(f"{address!r} is not a resource address")
    return Hcl(address)


def _pad(key: Hcl, width: int) -> Hcl:
    """An escaped key padded to `width`, so the `=` of a map's lines align as `terraform fmt` wants."""
    return Hcl(str(key).ljust(width))
def _attributes(mapping: dict[str, Hcl], level: int) -> Hcl:
    """The `name = expression` lines of a block body, aligned the way `terraform fmt` aligns them."""
    return Hcl("".join(hcl.attributes(mapping, level, quoted=False)).rstrip("\n"))


def _flat(text: str) -> str:
    return "".join(" " if unicodedata.category(c)[0] in "CZ" and c != " " else c for c in str(text))


def _fragment(text: str) -> Hcl:
    """The inside of an HCL string literal, to splice after a fixed `${...}` in a template."""
    return Hcl(hcl.string(text)[1:-1])


def _md(text: object) -> Hcl:
    """Plain Markdown text: punctuation that Markdown or HTML would act on is escaped, and
    anything that could break the line becomes a space."""
    if isinstance(text, (list, tuple)):
        text = ", ".join(str(t) for t in text)
    return Hcl("".join("\\" + c if c in _MD_SPECIAL else c for c in _flat(str(text))))


def _code(text: object) -> Hcl:
    """A Markdown code span that shows `text` verbatim (fenced by more backticks than it holds)."""
    body = _flat(str(text))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return Hcl(f"{fence}{pad}{body}{pad}{fence}")


def _html_comment(text: object) -> Hcl:
    body = _flat(str(text)).replace(">", "&gt;")
    while "--" in body:
        body = body.replace("--", "- -")
    return Hcl(body)


@cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update({
        "hcl": hcl.scalar,
        "hcl_key": hcl.key,
        "hcl_value": hcl.value,
        "hcl_attributes": _attributes,
        "hcl_fragment": _fragment,
        "comment": hcl.comment,
        "ident": _ident,
        "raw": _raw,
        "pad": _pad,
        "md": _md,
        "code": _code,
        "html_comment": _html_comment,
    })
    return env


_BLANK_RUNS = re.compile(r"\n{3,}")


def render(name: str, context: dict[str, Any]) -> str:
    text = environment().get_template(name).render(context)
    # Optional sections leave blank lines behind; HCL and Markdown give them no meaning.
    return _BLANK_RUNS.sub("\n\n", text).strip("\n") + "\n"
