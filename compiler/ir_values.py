"""The IR's values that the semantic checks compute as well as the lowering: resources and where
they were set, guardrails, peers. `gpc validate` imports these and not compiler/ir.py, whose ~30
frozen dataclasses cost ~20 ms to create (issue 19); compiler/ir.py re-exports every name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Layer = Literal["gpc default", "guardrail default", "workload", "environment override"]
WorkloadType = Literal["service", "worker", "job"]
# The guardrails (`guardrails.max`, `guardrails.defaults`) that apply to each type: a worker is a
# Deployment like a service, and Kyverno matches policies by kind, so it could not hold workers
# to limits of their own without a label match; they share the services' limits.
RAILS_OF_TYPE: dict[str, Literal["service", "job"]] = {"service": "service", "worker": "service", "job": "job"}

# gpc's own defaults for a workload that declares no resources and has no guardrail default.
DEFAULT_RESOURCES: dict[str, dict[str, str]] = {
    "service": {"cpu": "100m", "memory": "128Mi"},
    "job": {"cpu": "500m", "memory": "512Mi"},
}


@dataclass(frozen=True, slots=True)
class Sourced:
    """A value and the layer of the spec that set it (for `gpc explain`)."""

    value: Any
    layer: Layer


@dataclass(frozen=True, slots=True)
class Resources:
    """One container's compute. `cpu` and `memory` are the limits, except that without a CPU
    limit (`cpu_limited` False) `cpu` is the request: either way they are what the guardrail
    maxima cap and what a quota on limits counts. The requests default to them."""

    cpu: str
    memory: str
    gpu: int = 0
    cpu_request: str | None = None  # below `cpu`; None: equal to it
    memory_request: str | None = None  # below `memory`; None: equal to it
    cpu_limited: bool = True

    @property
    def requests(self) -> tuple[str, str]:
        """(cpu, memory) the scheduler reserves and a quota on requests counts."""
        return (self.cpu_request or self.cpu, self.memory_request or self.memory)


@dataclass(frozen=True, slots=True)
class Peer:
    """In-cluster pods that are not gpc workloads: a namespace by name, and pod labels (none: every
    pod of the namespace)."""

    namespace: str
    pods: tuple[tuple[str, str], ...]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class MaxRule:
    """One guardrail: workloads of `workload_type` get at most `limit` of `resource`."""

    workload_type: WorkloadType
    resource: Literal["cpu", "memory", "gpu"]
    limit: str


@dataclass(frozen=True, slots=True)
class Quota:
    group: str
    cpu: str | None
    memory: str | None
    gpu: int | None
    pods: int | None


@dataclass(frozen=True, slots=True)
class Guardrails:
    max_rules: tuple[MaxRule, ...]
    allowed_registries: tuple[str, ...]
    excluded_namespaces: tuple[str, ...]
    quotas: tuple[Quota, ...]
    # workload type -> resources of a container that declares none (gpc defaults filled in)
    defaults: dict[str, Resources] = field(default_factory=dict)
    policy_kind: str = "ValidatingPolicy"  # or "ClusterPolicy" (see compiler.guardrails.POLICY_KINDS)


def resources_of(values: dict[str, Any]) -> Resources:
    """A container's resources from resolved per-key values (compiler/resolve.py's keys). Without
    a CPU limit the request is `requests.cpu`, or `cpu` when that is absent."""
    limited = values.get("cpu_limit", True) is not False
    cpu = values["cpu"] if limited else (values.get("cpu_request") or values["cpu"])
    cpu_request = values.get("cpu_request") if limited else None
    memory_request = values.get("memory_request")
    return Resources(str(cpu), str(values["memory"]), int(values["gpu"]),
                     None if cpu_request in (None, cpu) else str(cpu_request),
                     None if memory_request in (None, values["memory"]) else str(memory_request), limited)
