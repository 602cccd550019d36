"""Every name gpc derives from the spec, in one place, so all targets agree on them.

The Terraform target creates what the kustomize target references (Secrets, ServiceAccounts,
namespaces, broker and object-store users); both read these functions, never their own copies.
"""

from __future__ import annotations

GROUPS = ("services", "jobs", "infra")
GROUP_OF_TYPE = {"service": "services", "job": "jobs"}

BROKER_SERVICE = "rabbitmq"
BROKER_PORT = 5672
OBJECT_STORE_SERVICE = "minio"
OBJECT_STORE_PORT = 9000

# Keys of a workload's credentials Secret, created by Terraform, referenced by the manifests.
AMQP_URL_KEY = "AMQP_URL"
S3_ACCESS_KEY = "S3_ACCESS_KEY"
S3_SECRET_KEY = "S3_SECRET_KEY"


def namespace_prefix(platform: str, env: str, explicit: str | None) -> str:
    return explicit or f"{platform}-{env}"


def namespace(prefix: str, group: str) -> str:
    return f"{prefix}-{group}"


def credentials_secret(workload: str) -> str:
    """Secret holding the broker URL and object-store keys Terraform generated for `workload`."""
    return f"{workload}-credentials"


def app_secret(workload: str) -> str:
    """Secret holding the workload's own declared `secrets` (values supplied by operators)."""
    return f"{workload}-app-secrets"


def contract_config_map(workload: str) -> str:
    """ConfigMap carrying the message schemas of the queues `workload` uses."""
    return f"{workload}-contract"


def schema_key(queue: str) -> str:
    return f"{queue}.schema.json"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def env_prefix(alias: str) -> str:
    """`models` -> `MODELS`, `fraud-api` -> `FRAUD_API`."""
    return alias.upper().replace("-", "_").replace(".", "_")


def broker_user(workload: str) -> str:
    return workload


def object_store_user(workload: str) -> str:
    return workload


def service_host(service: str, ns: str) -> str:
    return f"{service}.{ns}.svc.cluster.local"


def argocd_application(platform: str, env: str, workload: str) -> str:
    return f"{platform}-{env}-{workload}"


def overlay_dir(workload: str, env: str) -> str:
    """The kustomize overlay Argo CD builds for `workload` in `env` (relative to out/<spec>/)."""
    return f"kustomize/{workload}/overlays/{env}"


def image_component_dir(workload: str, env: str) -> str:
    """The CI-owned kustomize Component holding the image tag of `workload` in `env`.

    gpc writes `<dir>/kustomization.yaml` once (owner "ci") and never again; the workload's CI
    rewrites it after every build. The overlay lists it under `components:`.
    """
    return f"{overlay_dir(workload, env)}/image"
