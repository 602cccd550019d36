"""The floor: a Python process that only writes a given tree.

    python bench/floor.py --snapshot TREE BLOB   (untimed: read TREE into one blob)
    python bench/floor.py BLOB OUTDIR            (timed: write every file of BLOB under OUTDIR)

The snapshot is taken from the tree gpc (or Kapitan) wrote, outside the timed span. The timed
process starts the interpreter, loads the blob (one read of a marshal file, a few ms) and
writes each file with one open/write/close, creating folders as it goes: the least any tool
writing this tree in Python can do.
"""

from __future__ import annotations

import marshal
import os
import sys


def snapshot(tree: str, blob: str) -> tuple[int, int]:
    files: dict[str, bytes] = {}
    for root, dirs, names in os.walk(tree):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            with open(path, "rb") as fh:
                files[os.path.relpath(path, tree)] = fh.read()
    with open(blob, "wb") as fh:
        marshal.dump(files, fh)
    return len(files), sum(len(b) for b in files.values())


def write(blob: str, out: str) -> None:
    with open(blob, "rb") as fh:
        files: dict[str, bytes] = marshal.load(fh)
    made: set[str] = set()
    for rel, data in files.items():
        path = os.path.join(out, rel)
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        with open(path, "wb") as fh:
            fh.write(data)


if __name__ == "__main__":
    if sys.argv[1] == "--snapshot":
        count, size = snapshot(sys.argv[2], sys.argv[3])
        print(f"{count} files, {size} bytes")
    else:
        write(sys.argv[1], sys.argv[2])
