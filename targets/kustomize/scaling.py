"""The autoscaler of a scaled Deployment, in each environment's overlay.

Who owns `spec.replicas`. gpc writes no `replicas` into a scaled Deployment (base.py omits it and
overlays never patch it): the HorizontalPodAutoscaler, or KEDA's, is its only writer. The
alternative, Argo CD's `ignoreDifferences` on `/spec/replicas`, was rejected: the manifest would
still carry a count that every new Deployment (and every `kubectl apply` by hand) starts from, and
the fact would live in two targets instead of one manifest.

Two kinds:
- CPU/memory: an `autoscaling/v2` HorizontalPodAutoscaler with `Utilization` targets (percent of
  the pods' requests, which gpc always sets).
- Queue depth: a KEDA `ScaledObject` with the `rabbitmq` trigger (`QueueLength` mode, AMQP) and a
  `TriggerAuthentication` that hands KEDA the `AMQP_URL` of the workload's OWN credentials Secret
  (Terraform's broker user, which may read only the queues the workload consumes; a passive queue
  declare, all KEDA does, needs no more). Never the admin's. Only this kind scales to zero.

Day one: while a workload awaits its first image (compiler/ir.py `awaits_delivery`), the CI-owned
image Component deletes the autoscaler along with scaling the Deployment to zero, so nothing can
wake a Deployment whose image does not exist; CI's first delivery drops that patch.
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Placement, Platform, Scaling, Workload
from targets.kustomize import meta

HPA_API = "autoscaling/v2"
KEDA_API = "keda.sh/v1alpha1"
HPA_FILE = "horizontalpodautoscaler.yaml"
SCALED_OBJECT_FILE = "scaledobject.yaml"
TRIGGER_AUTH_FILE = "triggerauthentication.yaml"


def trigger_authentication_name(workload: Workload) -> str:
    return f"{workload.name}-broker"


def files(platform: Platform, workload: Workload, placement: Placement) -> dict[str, dict[str, Any]]:
    """File name -> object, for an overlay of a scaled workload (nothing otherwise)."""
    scaling = placement.autoscale
    if scaling is None:
        return {}
    labels = meta.labels(platform, workload)
    if scaling.queue is None:
        return {HPA_FILE: _hpa(workload, scaling, labels)}
    return {SCALED_OBJECT_FILE: _scaled_object(workload, scaling, labels),
            TRIGGER_AUTH_FILE: _trigger_authentication(workload, labels)}


def _target(workload: Workload) -> dict[str, str]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": workload.name}


def _hpa(workload: Workload, scaling: Scaling, labels: dict[str, str]) -> dict[str, Any]:
    metrics = [{"type": "Resource", "resource": {"name": resource,
                                                 "target": {"type": "Utilization", "averageUtilization": percent}}}
               for resource, percent in (("cpu", scaling.cpu), ("memory", scaling.memory)) if percent is not None]
    return {
        "apiVersion": HPA_API,
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta.metadata(workload.name, labels),
        "spec": {"scaleTargetRef": _target(workload), "minReplicas": scaling.min_replicas,
                 "maxReplicas": scaling.max_replicas, "metrics": metrics},
    }


def _scaled_object(workload: Workload, scaling: Scaling, labels: dict[str, str]) -> dict[str, Any]:
    assert scaling.queue is not None
    return {
        "apiVersion": KEDA_API,
        "kind": "ScaledObject",
        "metadata": meta.metadata(workload.name, labels),
        "spec": {
            "scaleTargetRef": _target(workload),
            "minReplicaCount": scaling.min_replicas,
            "maxReplicaCount": scaling.max_replicas,
            "triggers": [{
                "type": "rabbitmq",
                # The vhost is the AMQP URL's path; `host` comes from the TriggerAuthentication.
                "metadata": {"protocol": "amqp", "mode": "QueueLength", "queueName": scaling.queue,
                             "value": str(scaling.messages_per_replica)},
                "authenticationRef": {"name": trigger_authentication_name(workload)},
            }],
        },
    }


def _trigger_authentication(workload: Workload, labels: dict[str, str]) -> dict[str, Any]:
    assert workload.credentials_secret is not None  # a consumed queue gives the workload its broker user
    return {
        "apiVersion": KEDA_API,
        "kind": "TriggerAuthentication",
        "metadata": meta.metadata(trigger_authentication_name(workload), labels),
        "spec": {"secretTargetRef": [{"parameter": "host", "name": workload.credentials_secret,
                                      "key": names.AMQP_URL_KEY}]},
    }


def bootstrap_deletes(workload: Workload) -> list[dict[str, Any]]:
    """Strategic-merge patches that delete the autoscaler while the workload awaits its first image."""
    scaling = next((p.autoscale for p in workload.placements if p.autoscale is not None), None)
    if scaling is None:
        return []
    api, kind = (HPA_API, "HorizontalPodAutoscaler") if scaling.queue is None else (KEDA_API, "ScaledObject")
    return [{"$patch": "delete", "apiVersion": api, "kind": kind, "metadata": {"name": workload.name}}]
