"""Lookups the renderer needs for every workload, built once per render: with N workloads, a
scan of all workloads per workload would make compiling quadratic."""

from __future__ import annotations

from dataclasses import dataclass

from compiler.ir import Dns, Platform, Queue, Workload


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
