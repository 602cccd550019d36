"""The writable places of a container whose root filesystem is read-only: /tmp and HOME.

Under `readOnlyRootFilesystem` and UID 10001 (which has no passwd entry in most images), HOME
would be `/`: every tool that writes a cache or config there (pip, git, matplotlib, Hugging Face,
AWS SDKs) fails. HOME points at the writable /tmp instead, in every environment where the spec
does not set HOME itself; when the spec mounts a read-only volume at /tmp, HOME gets an emptyDir
of its own. HOME is not part of the wiring contract: `gpc env` leaves a local run's HOME alone.
"""

from __future__ import annotations

import posixpath

from compiler.ir import EnvVar, Workload

TMP = "/tmp"
HOME_FALLBACK = "/home/gpc"


def _taken(workload: Workload) -> set[str]:
    return {u.target for u in workload.volumes}


def _unique(base: str, taken: set[str]) -> str:
    name, n = base, 0
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def tmp_volume_name(workload: Workload) -> str:
    """`tmp`, unless the spec has a volume of that name (pod volume names must be unique)."""
    return _unique("tmp", _taken(workload))


def needs_tmp(workload: Workload) -> bool:
    return all(u.mount != TMP for u in workload.volumes)


def _tmp_writable(workload: Workload) -> bool:
    return all(not (u.mount == TMP and u.read_only) for u in workload.volumes)


def home_mount(workload: Workload) -> tuple[str, str] | None:
    """(volume name, path) of HOME's own emptyDir, when /tmp is a read-only volume of the spec."""
    if _tmp_writable(workload):
        return None
    mounts = [u.mount or "" for u in workload.volumes]
    path = HOME_FALLBACK
    n = 0
    while any(_nested(path, m) for m in mounts):
        n += 1
        path = f"{HOME_FALLBACK}-{n}"
    return _unique("home", _taken(workload) | {tmp_volume_name(workload)}), path


def _nested(a: str, b: str) -> bool:
    a, b = posixpath.normpath(a), posixpath.normpath(b)
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def with_home(workload: Workload, env: tuple[EnvVar, ...]) -> tuple[EnvVar, ...]:
    """A placement's variables plus gpc's HOME, unless the spec sets HOME there itself."""
    if any(v.name == "HOME" for v in env):
        return env
    own = home_mount(workload)
    home = EnvVar("HOME", "a writable home under a read-only root filesystem",
                  value=own[1] if own is not None else TMP)
    return tuple(sorted((*env, home), key=lambda v: v.name))
