"""The pod template of a workload: one hardened container wired exactly as the IR says."""

from __future__ import annotations

from typing import Any

from compiler.ir import EnvVar, Platform, Resources, Workload
from targets.kustomize import meta
from targets.kustomize.layers import Values
from targets.kustomize.writable import TMP, home_mount, needs_tmp, tmp_volume_name


def env_entry(var: EnvVar) -> dict[str, Any]:
    if var.secret is not None:
        ref = {"name": var.secret.name, "key": var.secret.key}
        return {"name": var.name, "valueFrom": {"secretKeyRef": ref}}
    if var.config_map is not None:
        return {"name": var.name,
                "valueFrom": {"configMapKeyRef": {"name": var.config_map.name, "key": var.config_map.key}}}
    return {"name": var.name, "value": var.value if var.value is not None else ""}


def resources(res: Resources) -> dict[str, Any]:
    """Requests equal limits (Guaranteed QoS) unless the spec lowers the requests or drops the
    CPU limit; quantities always as strings. GPUs, an extended resource, always have both equal."""
    cpu_request, memory_request = res.requests
    requests = {"cpu": str(cpu_request), "memory": str(memory_request)}
    limits = {"cpu": str(res.cpu), "memory": str(res.memory)} if res.cpu_limited else {"memory": str(res.memory)}
    if res.gpu > 0:
        requests[meta.GPU_RESOURCE] = limits[meta.GPU_RESOURCE] = str(res.gpu)
    return {"requests": requests, "limits": limits}


def gpu_scheduling(res: Resources) -> dict[str, Any]:
    if res.gpu <= 0:
        return {}
    return {
        "nodeSelector": {meta.GPU_NODE_LABEL: "true"},
        "tolerations": [{"key": meta.GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
    }


def container(workload: Workload, values: Values) -> dict[str, Any]:
    c: dict[str, Any] = {"name": workload.name, "image": workload.image, "imagePullPolicy": "Always"}
    if workload.command is not None:
        c["command"] = list(workload.command)
    if workload.args is not None:
        c["args"] = list(workload.args)
    ports = []
    if workload.port is not None:
        ports.append({"name": "http", "containerPort": workload.port, "protocol": "TCP"})
    if workload.metrics is not None and workload.metrics.port != workload.port:
        # Declared so that a PodMonitor finds it: Prometheus discovers pods by their declared ports.
        ports.append({"name": "metrics", "containerPort": workload.metrics.port, "protocol": "TCP"})
    if ports:
        c["ports"] = ports
    if values.env:
        c["env"] = [env_entry(v) for v in values.env]
    c["resources"] = resources(values.resources)
    if workload.port is not None and workload.health_path is not None:
        c["livenessProbe"] = _probe(workload, workload.health_path)
        c["readinessProbe"] = _probe(workload, workload.readiness_path or workload.health_path)
    elif workload.probe_exec is not None or workload.probe_tcp_port is not None:
        # A worker's one probe is both: liveness restarts a stuck consumer, readiness lets a
        # rollout wait for the new pods before it stops the old ones.
        c["livenessProbe"] = c["readinessProbe"] = _worker_probe(workload)
    mounts: list[dict[str, Any]] = []
    if needs_tmp(workload):
        mounts.append({"name": tmp_volume_name(workload), "mountPath": TMP})
    home = home_mount(workload)
    if home is not None:
        mounts.append({"name": home[0], "mountPath": home[1]})
    for use in sorted(workload.volumes, key=lambda u: u.mount or ""):
        mount: dict[str, Any] = {"name": use.target, "mountPath": use.mount}
        if use.read_only:
            mount["readOnly"] = True
        mounts.append(mount)
    c["volumeMounts"] = mounts
    c["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsGroup": meta.RUN_AS_GROUP,
        "runAsNonRoot": True,
        "runAsUser": meta.RUN_AS_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return c


def _probe(workload: Workload, path: str) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "initialDelaySeconds": workload.health_initial_delay,
        "periodSeconds": 10,
        "timeoutSeconds": 2,
        "failureThreshold": 3,
    }


def _worker_probe(workload: Workload) -> dict[str, Any]:
    check: dict[str, Any] = ({"exec": {"command": list(workload.probe_exec)}} if workload.probe_exec is not None
                             else {"tcpSocket": {"port": workload.probe_tcp_port}})
    return {**check, "initialDelaySeconds": workload.health_initial_delay, "periodSeconds": 10,
            "timeoutSeconds": 2, "failureThreshold": 3}


def pod_spec(platform: Platform, workload: Workload, values: Values) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceAccountName": workload.service_account,
        "automountServiceAccountToken": workload.api_access,
        # Service links would add <SERVICE>_PORT and friends for every Service in the namespace
        # next to the wiring contract; the contract is the only configuration a workload gets.
        "enableServiceLinks": False,
        "securityContext": {
            "fsGroup": meta.RUN_AS_GROUP,
            "fsGroupChangePolicy": "OnRootMismatch",
            "runAsGroup": meta.RUN_AS_GROUP,
            "runAsNonRoot": True,
            "runAsUser": meta.RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container(workload, values)],
    }
    if platform.pull_secret is not None:
        # Terraform lists it on the ServiceAccount too; naming it here keeps the manifest readable
        # on its own and does not depend on the ServiceAccount admission plugin's copy.
        spec["imagePullSecrets"] = [{"name": platform.pull_secret}]
    if workload.type == "job":
        spec["restartPolicy"] = "Never"
        if workload.timeout_seconds is not None:
            # `timeout` is per attempt: each pod (restartPolicy Never: one per attempt) gets it whole.
            spec["activeDeadlineSeconds"] = workload.timeout_seconds
    spec.update(gpu_scheduling(values.resources))
    volumes: list[dict[str, Any]] = []
    home = home_mount(workload)
    if needs_tmp(workload):
        volumes.append({"name": tmp_volume_name(workload), "emptyDir": {}})
    if home is not None:
        volumes.append({"name": home[0], "emptyDir": {}})
    for name in sorted({u.target for u in workload.volumes}):
        # A claim mounted only read-only is attached read-only; Terraform creates it (ir.Volume).
        read_only = all(u.read_only for u in workload.volumes if u.target == name)
        claim: dict[str, Any] = {"claimName": name, **({"readOnly": True} if read_only else {})}
        volumes.append({"name": name, "persistentVolumeClaim": claim})
    spec["volumes"] = volumes
    return spec


def pod_template(platform: Platform, workload: Workload, values: Values,
                 annotations: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"labels": meta.labels(platform, workload)}
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    return {"metadata": metadata, "spec": pod_spec(platform, workload, values)}
