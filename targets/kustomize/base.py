"""A workload's base: the objects every environment shares, before any overlay."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from compiler import names
from compiler.ir import Platform, Workload, contract_json
from targets.kustomize import meta, network
from targets.kustomize.graph import Graph
from targets.kustomize.layers import Values
from targets.kustomize.pod import pod_template

# One-off Jobs are deleted and re-created by Argo CD when their manifest changes (see the
# package docstring): `Replace=true` alone would PUT the new spec and hit the immutable
# `spec.template`; `Force=true` makes it a delete and create, which is a new run.
JOB_SYNC_OPTIONS = "Force=true,Replace=true"
# Finished runs of a CronJob kept for inspection (the spec's `ttl_after_finished` says the same).
SUCCESSFUL_RUNS_KEPT = 3
FAILED_RUNS_KEPT = 3


def contract(graph: Graph, workload: Workload) -> dict[str, str]:
    """The message schemas of the queues the workload uses, as `gpc env` prints them."""
    data = {}
    for use in workload.queues:
        schema = graph.queues[use.target].message_schema
        if schema is not None:
            data[names.schema_key(use.target)] = contract_json(schema)
    return dict(sorted(data.items()))


def objects(platform: Platform, graph: Graph, workload: Workload, values: Values) -> dict[str, dict[str, Any]]:
    """File name -> object, in the order the base kustomization lists them; `values` are the
    workload's base values (layers.of)."""
    labels = meta.labels(platform, workload)
    # No ServiceAccount here: Terraform creates it (names.py), with the RBAC of api_access.
    files: dict[str, dict[str, Any]] = {}
    pod_annotations: dict[str, str] = {}
    data = contract(graph, workload)
    if workload.contract_config_map is not None and data:
        files["configmap.yaml"] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta.metadata(workload.contract_config_map, labels, meta.skips(meta.SKIP_NAMESPACE)),
            "data": data,
        }
        # Pods read the schemas at start: a new contract must roll them (or start a new run).
        digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()
        pod_annotations[meta.CONTRACT_DIGEST] = digest
    kind = workload.kind
    template = pod_template(platform, workload, values, pod_annotations)
    annotations = {**meta.description(workload), **meta.skips(*_skips(workload))}
    if kind == "Deployment" and workload.secret_refs:
        # Stakater Reloader (installed by the argocd target) restarts the pods when one of these
        # changes: a rotated credential or a refreshed external secret. Jobs read theirs at start.
        annotations[names.RELOADER_SECRETS_ANNOTATION] = ",".join(workload.secret_refs)
    if kind == "Deployment":
        files["deployment.yaml"] = _deployment(platform, workload, values, template, annotations)
        if workload.port is not None:  # a worker serves nothing: no Service
            files["service.yaml"] = _service(workload, labels)
        if values.replicas > 1:
            files["poddisruptionbudget.yaml"] = pdb(platform, workload)
    elif kind == "CronJob":
        files["cronjob.yaml"] = _cronjob(workload, values, labels, template, annotations)
    else:
        annotations[meta.ARGOCD_SYNC_OPTIONS] = JOB_SYNC_OPTIONS
        files["job.yaml"] = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta.metadata(workload.name, labels, annotations),
            "spec": _job_spec(workload, template, ttl=False),
        }
    files["networkpolicy.yaml"] = network.workload_policy(platform, workload)
    return files


def _skips(workload: Workload) -> list[tuple[str, str]]:
    out = [meta.SKIP_NAMESPACE, meta.SKIP_TAG, meta.SKIP_DIGEST]
    if any(v.secret is not None for p in workload.placements for v in p.env_vars):
        out.append(meta.SKIP_SECRET_ENV)
    if workload.api_access:
        out.append(meta.SKIP_TOKEN)
    if any(not p.effective_resources.cpu_limited for p in workload.placements):
        out.append(meta.SKIP_CPU_LIMIT)
    return out


def _deployment(platform: Platform, workload: Workload, values: Values, template: dict[str, Any],
                annotations: dict[str, str]) -> dict[str, Any]:
    # A scaled Deployment's count is its autoscaler's alone (targets/kustomize/scaling.py).
    spec: dict[str, Any] = {} if workload.scaled else {"replicas": values.replicas}
    spec |= {
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": meta.selector(workload)},
    }
    if any(u.target in platform.single_node_volumes for u in workload.volumes):
        # A second pod could not attach the volume while the old one holds it: replace, not roll.
        spec["strategy"] = {"type": "Recreate"}
    spec["template"] = template
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta.metadata(workload.name, meta.labels(platform, workload), annotations),
        "spec": spec,
    }


def _service(workload: Workload, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta.metadata(workload.name, labels, meta.skips(meta.SKIP_NAMESPACE)),
        "spec": {
            "type": "ClusterIP",
            "selector": meta.selector(workload),
            # The wiring contract's <ALIAS>_URL uses the container port, so the Service does too.
            "ports": [{"name": "http", "port": workload.port, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def pdb(platform: Platform, workload: Workload) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta.metadata(workload.name, meta.labels(platform, workload)),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": meta.selector(workload)}},
    }


def _job_spec(workload: Workload, template: dict[str, Any], *, ttl: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {"backoffLimit": workload.retries or 0}
    if workload.deadline_seconds is not None:
        # The pods carry `timeout` (one attempt each); this bounds all attempts together, and
        # catches the pod that never gets scheduled (a pod's own deadline starts on a node).
        spec["activeDeadlineSeconds"] = workload.deadline_seconds
    if ttl and workload.ttl_seconds is not None:
        # Only when the spec asks: the TTL deletes failed runs, and their logs, too.
        spec["ttlSecondsAfterFinished"] = workload.ttl_seconds
    spec["template"] = template
    return spec


def _cronjob(workload: Workload, values: Values, labels: dict[str, str], template: dict[str, Any],
             annotations: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"schedule": values.schedule}
    if values.time_zone is not None:
        spec["timeZone"] = values.time_zone
    spec["concurrencyPolicy"] = workload.concurrency or "Forbid"
    if workload.starting_deadline_seconds is not None:
        spec["startingDeadlineSeconds"] = workload.starting_deadline_seconds
    # The history limits, not a TTL, clean up finished runs: they count successes and failures
    # apart, so the last failed runs stay, with their pods and logs, however long ago they failed.
    spec["successfulJobsHistoryLimit"] = SUCCESSFUL_RUNS_KEPT
    spec["failedJobsHistoryLimit"] = FAILED_RUNS_KEPT
    spec["jobTemplate"] = {
        "metadata": {"labels": dict(labels)},
        "spec": _job_spec(workload, template, ttl=True),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta.metadata(workload.name, labels, annotations),
        "spec": spec,
    }
