"""How spec values enter a workflow: parsed, and escaped for the place they land in.

Spec strings are never put into a `run:` script (they reach scripts through `env:`), but GitHub
evaluates `${{ }}` in every other value and treats `*`, `?`, `[`... as globs in path and branch
filters, so each value is escaped for where it goes.
"""

from __future__ import annotations

import re

_GITHUB_URL = re.compile(
    r"^(?:https://github\.com/|ssh://git@github\.com/|git@github\.com:)"
    r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)

GHCR = "ghcr.io"
DOCKER_HUB = "docker.io"


def github_repo(url: str) -> str | None:
    """`owner/name` of a github.com git URL (https, ssh or scp-like), or None."""
    match = _GITHUB_URL.match(url)
    return f"{match['owner']}/{match['name']}" if match else None


def registry_host(image: str) -> str:
    """The registry an image name lives on (`docker.io` when the name has no host part)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


def ghcr_owner(image: str) -> str | None:
    """The account an image on ghcr.io belongs to, or None for other registries."""
    parts = image.split("/")
    return parts[1] if registry_host(image) == GHCR and len(parts) > 2 else None


def literal(value: str) -> str:
    """`value` as a workflow string GitHub does not evaluate: `${{` becomes an expression that
    yields the two characters literally."""
    return value.replace("${{", "${{ '${{' }}")


_GLOB_SPECIAL = re.compile(r"([*?+\[\]!\\])")


def glob_literal(value: str) -> str:
    """`value` as a branch or path filter pattern that matches only itself."""
    return _GLOB_SPECIAL.sub(r"\\\1", value)


def md_code(value: str) -> str:
    """`value` as Markdown inline code, whatever backticks it contains."""
    if "`" not in value:  # nearly always (30k calls at N=1000): no run of backticks to look for
        return f"`{value}`"
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def valid_branch(name: str) -> bool:
    """`git check-ref-format --branch` rules."""
    if not name or name == "@" or name.startswith(("/", "-")) or name.endswith(("/", ".")):
        return False
    if _REF_FORBIDDEN.search(name):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))
