"""A preview's own broker, object store and credentials.

Own small instances rather than a vhost and a bucket on the `from` environment's broker and object
store: creating those per pull request would need that environment's admin credentials inside
every preview's tooling, and a preview could fill the shared broker's memory or disk. A RabbitMQ and
a MinIO of 250m CPU and 512Mi each (counted in the preview's quota, on emptyDirs) cost little, hold
throwaway data and disappear with the namespace.

Credentials. The External Secrets Operator's `Password` generator makes one random password per
broker user and one for the object store, inside the preview; one ExternalSecret renders them into
the Secret `preview-credentials`: each workload's AMQP URL and object-store keys, the broker's
definitions (its users with their passwords, the vhost, exchanges, queues with the bounds of the
spec, bindings and permissions), and MinIO's root user. `refreshInterval: 0s` generates them once.
Nothing outside the preview knows them; nothing in Git holds them.

Limits of a preview, by design: the workloads that use buckets share the object store's root key
(MinIO creates further users only through its admin API, which nothing in a preview calls), and
versioning is not switched on; a preview's data does not survive a restart of those pods.
"""

from __future__ import annotations

import json
from typing import Any

from compiler import names
from compiler.ir import Platform, Workload
from compiler.ir_preview import PREVIEW_SECRET, Preview, image_ref, preview_key
from targets.kustomize import meta

ESO_API = "external-secrets.io/v1"
GENERATOR_API = "generators.external-secrets.io/v1alpha1"
GENERATOR = "preview-password"
OBJECT_STORE_KEY = "object-store"  # the generated password of MinIO's root user
ROOT_USER = "preview-admin"
RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "250m", "memory": "512Mi"}}
_NOTHING = "^$"
# checkov's reasons, as annotations on the objects it would flag (targets/kustomize/meta.skips)
NO_NAMESPACE = ("CKV_K8S_21", "a preview's objects name no namespace; Argo CD's kustomize.namespace sets the "
                "pull request's")
IMAGE_USER = ("CKV_K8S_40", "the image's own non-root user (999 RabbitMQ, 1001 MinIO), as in every environment")
MINIO_ENV = ("CKV_K8S_35", "MinIO reads its root user only from environment variables")


def files(platform: Platform, preview: Preview) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    if not preview.broker and not preview.object_store:
        if preview.databases:  # the databases' role Secrets draw on the generator (preview_db.py)
            out["credentials.yaml"] = [generator(platform)]
        return out
    out["credentials.yaml"] = credentials(platform, preview)
    if preview.broker:
        out["broker.yaml"] = broker(platform)
    if preview.object_store:
        out["object-store.yaml"] = object_store(platform)
    return out


def _labels(platform: Platform, name: str) -> dict[str, str]:
    return {meta.NAME: name, meta.COMPONENT: "preview-infrastructure", meta.PART_OF: platform.name,
            meta.MANAGED_BY: "gpc"}


def _password(key: str) -> str:
    """The Go template (ESO's engine v2) of a generated password; keys may hold '-'."""
    return "{{ index . " + f'"{key}"' + " }}"


def broker_users(platform: Platform) -> list[Workload]:
    return [w for w in platform.workloads if w.queues]


def _any_of(items: list[str]) -> str:
    import re

    if not items:
        return _NOTHING
    quoted = [re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", i) for i in items]
    return f"^{quoted[0]}$" if len(quoted) == 1 else "^(?:" + "|".join(quoted) + ")$"


def definitions(platform: Platform) -> dict[str, Any]:
    """RabbitMQ's definitions, as the broker imports them at boot (`load_definitions`); passwords
    are Go template placeholders the ExternalSecret fills in. The same topology, bounds and
    permissions as an environment's broker (targets/terraform): publish is a write on the queue's
    exchange, consume a read on the queue, nobody configures anything."""
    vhost = names.broker_vhost(platform.name)
    queues, exchanges, bindings = [], [], []
    for q in platform.queues:
        arguments: dict[str, Any] = {"x-max-length-bytes": q.bounds.max_bytes, "x-overflow": q.bounds.overflow}
        if q.bounds.max_length is not None:
            arguments["x-max-length"] = q.bounds.max_length
        if q.bounds.message_ttl_ms is not None:
            arguments["x-message-ttl"] = q.bounds.message_ttl_ms
        if q.dead_letter_queue is not None:
            arguments.update({"x-dead-letter-exchange": "", "x-dead-letter-routing-key": q.dead_letter_queue})
            dlq = q.dead_letter_bounds
            queues.append({"name": q.dead_letter_queue, "vhost": vhost, "durable": True, "auto_delete": False,
                           "arguments": {"x-max-length-bytes": dlq.max_bytes, "x-overflow": dlq.overflow,
                                         **({"x-max-length": dlq.max_length} if dlq.max_length else {})}})
        queues.append({"name": q.name, "vhost": vhost, "durable": True, "auto_delete": False,
                       "arguments": dict(sorted(arguments.items()))})
        exchanges.append({"name": q.exchange, "vhost": vhost, "type": "fanout", "durable": True,
                          "auto_delete": False, "internal": False, "arguments": {}})
        bindings.append({"source": q.exchange, "vhost": vhost, "destination": q.name, "destination_type": "queue",
                         "routing_key": q.name, "arguments": {}})
    users, permissions = [], []
    for w in broker_users(platform):
        published = sorted({platform.queue(u.target).exchange for u in w.queues if u.access == "publish"})
        consumed = sorted({u.target for u in w.queues if u.access == "consume"})
        users.append({"name": names.broker_user(w.name), "password": _password(w.name), "tags": []})
        permissions.append({"user": names.broker_user(w.name), "vhost": vhost, "configure": _NOTHING,
                            "write": _any_of(published), "read": _any_of(consumed)})
    return {"users": users, "vhosts": [{"name": vhost}], "permissions": permissions,
            "queues": sorted(queues, key=lambda x: x["name"]), "exchanges": exchanges, "bindings": bindings}


def credentials(platform: Platform, preview: Preview) -> list[dict[str, Any]]:
    keys = [w.name for w in broker_users(platform)] + ([OBJECT_STORE_KEY] if preview.object_store else [])
    data: dict[str, str] = {}
    vhost = names.broker_vhost(platform.name)
    for w in platform.workloads:
        if w.queues:
            data[preview_key(w.name, names.AMQP_URL_KEY)] = (
                f"amqp://{names.broker_user(w.name)}:{_password(w.name)}@{names.BROKER_SERVICE}:"
                f"{names.BROKER_PORT}/{vhost}")
        if w.buckets:
            data[preview_key(w.name, names.S3_ACCESS_KEY)] = ROOT_USER
            data[preview_key(w.name, names.S3_SECRET_KEY)] = _password(OBJECT_STORE_KEY)
    if preview.broker:
        text = json.dumps(definitions(platform), sort_keys=True, separators=(",", ":"))
        data["definitions.json"] = text.replace('"{{ index . \\"', '"{{ index . "').replace('\\" }}"', '" }}"')
    if preview.object_store:
        data["object-store.rootUser"] = ROOT_USER
        data["object-store.rootPassword"] = _password(OBJECT_STORE_KEY)
    secret = {"apiVersion": ESO_API, "kind": "ExternalSecret",
              "metadata": {"name": PREVIEW_SECRET, "labels": _labels(platform, PREVIEW_SECRET),
                           "annotations": {"argocd.argoproj.io/sync-wave": "-1"}},
              "spec": {
                  "refreshInterval": "0s",
                  "target": {"name": PREVIEW_SECRET, "creationPolicy": "Owner", "deletionPolicy": "Delete",
                             "template": {"engineVersion": "v2", "data": dict(sorted(data.items()))}},
                  "dataFrom": [{"sourceRef": {"generatorRef": {"apiVersion": GENERATOR_API, "kind": "Password",
                                                               "name": GENERATOR}},
                                "rewrite": [{"regexp": {"source": "^password$", "target": key}}]}
                               for key in keys]}}
    return [generator(platform), secret]


def generator(platform: Platform) -> dict[str, Any]:
    return {"apiVersion": GENERATOR_API, "kind": "Password",
            "metadata": {"name": GENERATOR, "labels": _labels(platform, GENERATOR),
                         "annotations": {"argocd.argoproj.io/sync-wave": "-1"}},
            # letters and digits only: safe in a URL, in JSON and in a Go template unescaped
            "spec": {"length": 32, "digits": 8, "symbols": 0, "noUpper": False, "allowRepeat": True}}


def _hardened(user: int) -> tuple[dict[str, Any], dict[str, Any]]:
    pod = {"runAsNonRoot": True, "runAsUser": user, "runAsGroup": user, "fsGroup": user,
           "seccompProfile": {"type": "RuntimeDefault"}}
    container = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                 "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    return pod, container


def _deployment(platform: Platform, name: str, pod: dict[str, Any], *skips: tuple[str, str]) -> dict[str, Any]:
    labels = _labels(platform, name)
    metadata = {"name": name, "labels": labels, "annotations": meta.skips(NO_NAMESPACE, IMAGE_USER, *skips)}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": {"replicas": 1, "strategy": {"type": "Recreate"},
                     "selector": {"matchLabels": {meta.NAME: name}},
                     "template": {"metadata": {"labels": labels}, "spec": pod}}}


def _service(platform: Platform, name: str, port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": _labels(platform, name),
                                                               "annotations": meta.skips(NO_NAMESPACE)},
            "spec": {"selector": {meta.NAME: name}, "ports": [{"name": name, "port": port, "targetPort": port,
                                                              "protocol": "TCP"}]}}


def broker(platform: Platform) -> list[dict[str, Any]]:
    name = names.BROKER_SERVICE
    conf = ("load_definitions = /etc/rabbitmq/definitions/definitions.json\n"
            f"listeners.tcp.default = {names.BROKER_PORT}\n"
            "log.console = true\nlog.file = false\nvm_memory_high_watermark.relative = 0.4\n")
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-config",
                                                                    "labels": _labels(platform, name),
                                                                    "annotations": meta.skips(NO_NAMESPACE)},
              "data": {"20-preview.conf": conf}}
    pod_sc, c_sc = _hardened(999)
    pod = {
        "automountServiceAccountToken": False, "enableServiceLinks": False, "securityContext": pod_sc,
        "containers": [{
            "name": name, "image": image_ref(names.RABBITMQ_IMAGE), "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "amqp", "containerPort": names.BROKER_PORT, "protocol": "TCP"}],
            "resources": RESOURCES, "securityContext": c_sc,
            "readinessProbe": {"tcpSocket": {"port": "amqp"}, "periodSeconds": 10},
            "livenessProbe": {"tcpSocket": {"port": "amqp"}, "initialDelaySeconds": 60, "periodSeconds": 30},
            "volumeMounts": [
                {"name": "config", "mountPath": "/etc/rabbitmq/conf.d", "readOnly": True},
                {"name": "definitions", "mountPath": "/etc/rabbitmq/definitions", "readOnly": True},
                {"name": "data", "mountPath": "/var/lib/rabbitmq"},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }],
        "volumes": [
            {"name": "config", "configMap": {"name": f"{name}-config"}},
            {"name": "definitions", "secret": {"secretName": PREVIEW_SECRET,
                                               "items": [{"key": "definitions.json", "path": "definitions.json"}]}},
            {"name": "data", "emptyDir": {}},
            {"name": "tmp", "emptyDir": {}},
        ],
    }
    return [config, _deployment(platform, name, pod), _service(platform, name, names.BROKER_PORT)]


def object_store(platform: Platform) -> list[dict[str, Any]]:
    name = names.OBJECT_STORE_SERVICE
    pod_sc, c_sc = _hardened(1001)
    secret = {"name": PREVIEW_SECRET}
    # MinIO serves each top-level folder of a single-drive data directory as a bucket, so the init
    # container creates the spec's buckets before the server starts.
    buckets = " ".join(f"/data/{b.name}" for b in platform.buckets)
    pod = {
        "automountServiceAccountToken": False, "enableServiceLinks": False, "securityContext": pod_sc,
        "initContainers": [{
            "name": "buckets", "image": image_ref(names.BUSYBOX_IMAGE), "imagePullPolicy": "IfNotPresent",
            "command": ["mkdir", "-p", *buckets.split()], "securityContext": c_sc,
            "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "50m", "memory": "32Mi"}},
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        }],
        "containers": [{
            "name": name, "image": image_ref(names.MINIO_IMAGE), "imagePullPolicy": "IfNotPresent",
            "args": ["server", "/data", "--address", f":{names.OBJECT_STORE_PORT}"],
            "env": [{"name": "MINIO_ROOT_USER", "valueFrom": {"secretKeyRef": {**secret, "key": "object-store.rootUser"}}},
                    {"name": "MINIO_ROOT_PASSWORD",
                     "valueFrom": {"secretKeyRef": {**secret, "key": "object-store.rootPassword"}}},
                    {"name": "MINIO_BROWSER", "value": "off"}],
            "ports": [{"name": "s3", "containerPort": names.OBJECT_STORE_PORT, "protocol": "TCP"}],
            "resources": RESOURCES, "securityContext": c_sc,
            "readinessProbe": {"httpGet": {"path": "/minio/health/ready", "port": "s3"}, "periodSeconds": 10},
            "livenessProbe": {"httpGet": {"path": "/minio/health/live", "port": "s3"}, "periodSeconds": 30},
            "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}],
        }],
        "volumes": [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
    }
    return [_deployment(platform, name, pod, MINIO_ENV), _service(platform, name, names.OBJECT_STORE_PORT)]
