"""The semantic checks of `toolchain:` (GPC230-232): the gpc the platform CI installs is pinned.

The model accepts any string so that these checks can say which source is wrong and how to pin it;
the schema carries the same patterns for editors.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from compiler.model import (
    COMMIT_PATTERN,
    HTTPS_URL_PATTERN,
    REPO_PATH_PATTERN,
    SHA256_PATTERN,
    VERSION_PATTERN,
)

if TYPE_CHECKING:
    from compiler.model import Platform
    from compiler.semantic import Reporter

_COMMIT = re.compile(COMMIT_PATTERN)
_SHA256 = re.compile(SHA256_PATTERN)
_HTTPS_URL = re.compile(HTTPS_URL_PATTERN)
_VERSION = re.compile(VERSION_PATTERN)
_REPO_PATH = re.compile(REPO_PATH_PATTERN)
_SOURCES = ("path", "git", "index")
_KEYS_OF = {"commit": "git", "version": "index", "hashes": "index"}
_WHERE = ("toolchain", "gpc")


def check_toolchain(spec: Platform, report: Reporter) -> None:
    gpc = spec.toolchain.gpc
    if gpc is None:
        return
    given = [s for s in _SOURCES if getattr(gpc, s) is not None]
    if len(given) != 1:
        names = " and ".join(f"'{s}'" for s in given) if given else "no source"
        report("GPC231", f"toolchain.gpc names {names}; it names exactly one of 'path', 'git' or 'index'",
               _WHERE if not given else (*_WHERE, given[-1]), key=True,
               hint="keep the one source the platform CI should install gpc from")
        return
    (source,) = given
    for key, owner in _KEYS_OF.items():
        if owner != source and key in gpc.model_fields_set:
            article = "an" if owner == "index" else "a"
            report("GPC231", f"'{key}' belongs to {article} '{owner}' source, but toolchain.gpc names '{source}'",
                   (*_WHERE, key), key=True, hint=f"remove '{key}', or name the source with '{owner}'")
    location: str = getattr(gpc, source)
    if source == "path":
        _check_path(location, report)
    elif source == "git":
        _check_url(location, "git", report)
        _check_commit(gpc, report)
    else:
        _check_url(location, "index", report)
        _check_index_pins(gpc, report)


def _check_path(path: str, report: Reporter) -> None:
    parts = path.strip("/").split("/")
    if path.startswith("/") or ".." in parts or not _REPO_PATH.match(path.strip("/")):
        report("GPC232", f"path '{path}' is not a folder of the GitOps repository", (*_WHERE, "path"),
               hint="a relative folder such as 'tools/gpc': letters, digits, '.', '_', '-' and '/', no '..'")


def _check_url(url: str, key: str, report: Reporter) -> None:
    if _HTTPS_URL.match(url):
        return
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if "@" in host:
        # The diagnostic must not repeat the password it is warning about.
        url = f"{scheme}://***@{host.rpartition('@')[2]}{slash}{path}"
        why, hint = "carries credentials", "remove 'user:password@': the URL is written into the workflow in the clear"
    elif not url.startswith("https://"):
        why, hint = "is not an https:// URL", f"use the https:// URL of the {'repository' if key == 'git' else 'index'}"
    else:
        why, hint = "has characters a pinned requirement cannot carry", "drop any query, fragment, '@' or space"
    report("GPC232", f"{key} URL '{url}' {why}", (*_WHERE, key), hint=hint)


def _check_commit(gpc: Any, report: Reporter) -> None:
    commit = gpc.commit
    if commit is None:
        report("GPC230", f"git source '{gpc.git}' names no commit", (*_WHERE, "git"),
               hint="add 'commit:' with the full 40-hex commit to install (`git rev-parse <tag>^{commit}`)")
    elif not _COMMIT.match(commit):
        report("GPC230", f"commit '{commit}' is not a full 40-hex commit; a branch, tag or short hash can be "
               "moved to other code", (*_WHERE, "commit"),
               hint="use the full lowercase commit hash, e.g. the output of `git rev-parse <ref>^{commit}`")


def _check_index_pins(gpc: Any, report: Reporter) -> None:
    if gpc.version is None:
        report("GPC230", f"index source '{gpc.index}' names no version", (*_WHERE, "index"),
               hint="add 'version:' with the exact gpc version to install, e.g. '0.1.0'")
    elif not _VERSION.match(gpc.version):
        report("GPC230", f"version '{gpc.version}' is not one exact version", (*_WHERE, "version"),
               hint="name a single release such as '0.1.0', not a range")
    if not gpc.hashes:
        report("GPC230", f"index source '{gpc.index}' names no hashes; pip would install whatever file the "
               "index serves", (*_WHERE, "index"),
               hint="add 'hashes:' with 'sha256:<hex>' of each gpc file (`pip hash <file>` or the index's page)")
    for i, value in enumerate(gpc.hashes):
        if not _SHA256.match(value):
            report("GPC230", f"hash '{value}' is not 'sha256:' followed by 64 lowercase hex digits",
                   (*_WHERE, "hashes", i), hint="`pip hash --algorithm sha256 <file>` prints it in this form")
