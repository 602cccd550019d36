"""targets/kustomize/meta.relative is posixpath.relpath for the target's folder paths."""

from __future__ import annotations

import posixpath
import random

from targets.kustomize.meta import relative

SEGMENTS = ["kustomize", "api", "worker", "base", "overlays", "prod", "components", "shared", "_platform", "a-b"]


def test_relative_is_relpath() -> None:
    rng = random.Random(19)
    for _ in range(5000):
        path = "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(1, 5)))
        start = "/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(1, 5)))
        assert relative(path, start) == posixpath.relpath(path, start), (path, start)
    assert relative("kustomize/api/base", "kustomize/api/overlays/prod") == "../../base"
