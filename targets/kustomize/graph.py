"""Lookups the renderer needs for every workload, built once per render: with N workloads, a
scan of all workloads per workload would make compiling quadratic."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from compiler.ir import Dns, Platform, Queue, Workload

T = TypeVar("T")
R = TypeVar("R")


def last_by_identity(fn: Callable[[T], R]) -> Callable[[T], R]:
    """`fn` remembering its result for the last object it was called with, by identity: for
    what the target derives from the platform (or a workload) once but asks for per object.
    Identity, because hashing a frozen IR dataclass hashes all of it; one entry, because the
    target renders one platform (and a workload's base and overlays) at a time; a weak
    reference, so the cache never keeps the IR alive after the render."""
    last: list[tuple[weakref.ref[T], R]] = []

    def remembered(obj: T) -> R:
        if last and last[0][0]() is obj:
            return last[0][1]
        result = fn(obj)
        last[:] = [(weakref.ref(obj), result)]
        return result

    return remembered


@dataclass(frozen=True)
class Graph:
    workloads: dict[str, Workload]
    queues: dict[str, Queue]
    callers: dict[str, tuple[Workload, ...]]  # service name -> the workloads that call it, by name
    base_dns: Dns  # the DNS rule workload bases carry (the first environment's)


def build(platform: Platform) -> Graph:
    callers: dict[str, list[Workload]] = {}
    for w in platform.workloads:
        for target in sorted({u.target for u in w.calls}):
            callers.setdefault(target, []).append(w)
    return Graph(
        workloads={w.name: w for w in platform.workloads},
        queues={q.name: q for q in platform.queues},
        callers={name: tuple(ws) for name, ws in callers.items()},
        base_dns=platform.environments[0].dns,
    )
