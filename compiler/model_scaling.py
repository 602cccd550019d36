"""The spec model of autoscaling: a service or worker lets Kubernetes choose its number of pods.

A workload without `queue` scales on the CPU and memory use of its pods (a HorizontalPodAutoscaler,
`autoscaling/v2`); with `queue` it scales on the depth of a queue it consumes (a KEDA
`ScaledObject` with the `rabbitmq` trigger), and only then may it scale to zero. Field
descriptions become editor hover text; what needs the rest of the spec (the queue alias, the
quota, `replicas` set as well) is checked by compiler/semantic_scaling.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


def _whole(value: Any) -> Any:
    # As compiler/model.py's `Whole`: JSON does not tell 3.0 from 3.
    return int(value) if isinstance(value, float) and value.is_integer() else value


Count = Annotated[int, Field(ge=0, le=1000), BeforeValidator(_whole)]
Percent = Annotated[int, Field(ge=1, le=1000), BeforeValidator(_whole)]
# HPA's default target when a spec names neither cpu nor memory (and no queue).
DEFAULT_CPU_PERCENT = 80
DEFAULT_MESSAGES_PER_REPLICA = 20

_MIN = ("Fewest pods. `0` (scale to zero when the queue is empty) only with `queue`: a "
        "HorizontalPodAutoscaler on CPU or memory cannot scale to zero.")
_MAX = "Most pods. `max_replicas` times one pod's resources must fit the namespace's quota."
_CPU = ("Target average CPU use of the pods, in percent of their CPU request: above it Kubernetes adds "
        "pods, below it removes them. Default 80 when neither `cpu`, `memory` nor `queue` is given.")
_MEMORY = "Target average memory use of the pods, in percent of their memory request."
_PER_REPLICA = ("With `queue`: messages ready in the queue per pod (KEDA's `QueueLength` target): 100 "
                "messages and 20 per pod ask for 5 pods.")


class Autoscale(_Strict):
    """Let Kubernetes choose the number of pods between `min_replicas` and `max_replicas`. gpc then
    sets no `replicas` on the Deployment: the autoscaler owns the count."""

    model_config = ConfigDict(title="Autoscaling")
    min_replicas: Count = Field(1, description=_MIN, examples=[2])
    max_replicas: Count = Field(description=_MAX, examples=[10])
    cpu: Percent | None = Field(None, description=_CPU, examples=[70])
    memory: Percent | None = Field(None, description=_MEMORY, examples=[80])
    queue: str | None = Field(
        None, description="Scale on the depth of a queue this workload consumes: the alias of its "
        "`uses` entry (`{queue: ..., access: consume}`). KEDA reads the queue with the workload's own "
        "broker credentials, never an admin's.", examples=["orders"])
    messages_per_replica: Percent = Field(DEFAULT_MESSAGES_PER_REPLICA, description=_PER_REPLICA, examples=[20])


class AutoscaleOverride(_Strict):
    """This environment's autoscaling bounds and targets; what it leaves out stays as the workload's
    `autoscale` says."""

    model_config = ConfigDict(title="Autoscaling override")
    min_replicas: Count | None = Field(None, description=_MIN, examples=[3])
    max_replicas: Count | None = Field(None, description=_MAX, examples=[20])
    cpu: Percent | None = Field(None, description=_CPU, examples=[60])
    memory: Percent | None = Field(None, description=_MEMORY, examples=[80])
    messages_per_replica: Percent | None = Field(None, description=_PER_REPLICA, examples=[50])


def merged(base: Autoscale, override: AutoscaleOverride | None) -> Autoscale:
    """The workload's autoscaling with an environment's override applied."""
    if override is None:
        return base
    changed = {key: getattr(override, key) for key in override.model_fields_set if getattr(override, key) is not None}
    return base.model_copy(update=changed)
