"""The inputs of a compile, as one digest the tree's manifest records (compiler/writer.py).

A compile's output is a function of: every spec file it read (root and team files, their bytes and
the paths diagnostics and headers show them by), and gpc itself. With the same digest and a tree
whose files still hash to what the manifest says, `gpc compile --check` knows the tree is up to
date without rendering it (rendering is ~80% of a compile at N=1000; bench/README.md).

What is deliberately not in it:
- the targets selected with --target: the digest stands for a compile of every target, and
  writer.plan records it only when the whole tree is that compile's output;
- CI's image files (GPC402 reads them): they change diagnostics, not the generated files, and a
  check reads them again every time, so their messages are always current;
- the Python and library versions: the manifest is committed, and a digest that differs between a
  developer's machine and CI would make every `--check` fail on a tree that is byte for byte right.
  Libraries are pinned in pyproject.toml; a full compile or check still catches any difference.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

from compiler.source import Source

# What a wheel ships of compiler/ and targets/ (pyproject.toml's package-data): an editable install
# and an installed wheel of the same code then hash alike.
_SHIPPED = (".py", ".j2", ".json", ".md")


@functools.cache
def gpc_identity() -> str:
    """gpc's version and a digest of its own source: a changed template or renderer invalidates every
    recorded compile, even at the same version (a developer's checkout). ~200 files: a few ms."""
    import compiler
    import targets

    digest = hashlib.sha256()
    for package in (compiler, targets):
        root = Path(package.__path__[0])
        base = root.parent
        files = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            files += [os.path.join(folder, n) for n in names if n.endswith(_SHIPPED)]
        for file in sorted(files):
            with open(file, "rb") as fh:
                data = fh.read()
            digest.update(os.path.relpath(file, base).replace(os.sep, "/").encode() + b"\0")
            digest.update(hashlib.sha256(data).digest())
    return f"{compiler.__version__}+{digest.hexdigest()}"


def inputs_digest(source: Source) -> str:
    """One digest of everything a compile of every target reads: the spec files as read (in the order
    read, by the path they are shown as) and gpc's identity."""
    body = json.dumps({"gpc": gpc_identity(), "files": source.read}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()
