"""Every name gpc derives from the spec, in one place, so all targets agree on them.

The Terraform target creates what the kustomize target references (Secrets, ServiceAccounts,
namespaces, broker and object-store users); both read these functions, never their own copies.
"""

from __future__ import annotations

GROUPS = ("services", "jobs", "infra")

# Recommended Kubernetes labels, shared by every target that labels or selects objects.
LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_PART_OF = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_NAMESPACE_NAME = "kubernetes.io/metadata.name"  # set by Kubernetes on every namespace
LABEL_TEAM = "gpc.dev/team"  # the owning team of a workload's objects and Applications, when it has one

# NVIDIA's device plugin's extended resource (requests/limits and the guardrails that cap it).
GPU_RESOURCE = "nvidia.com/gpu"

# apiVersion of a kustomization.yaml (the kustomize target's and the Kyverno folder's).
KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"

# A workload repository's delivery workflow (the github target writes it) builds, pushes and signs
# the image with cosign keyless on pushes to the default branch; the kyverno target admits only
# images whose signing certificate names this workflow file on this branch of that repository.
WORKLOAD_DEFAULT_BRANCH = "main"
DELIVER_WORKFLOW = "deliver.yaml"
# The workflow that builds and signs a pull request's preview image (targets/github/preview.py); the
# Kyverno policies of preview namespaces accept its signatures on pull request refs.
PREVIEW_WORKFLOW = "preview.yaml"

# Every cluster calls itself this: an environment on it names no particular cluster.
IN_CLUSTER = "https://kubernetes.default.svc"


# Argo CD: the objects gpc writes for it (argocd target) and the root application Terraform
# installs (terraform target, see compiler/rootapp.py) share these.
ARGOCD_API_VERSION = "argoproj.io/v1alpha1"
ARGOCD_NAMESPACE = "argocd"  # where Terraform installs Argo CD (the chart's default namespace)
ARGOCD_ROOT_FILE = "root.yaml"  # the file of argocd/<env>/ holding the root application
# Deleting an Application deletes what it deployed (foreground cascade).
ARGOCD_FINALIZER = "resources-finalizer.argocd.argoproj.io"
ARGOCD_SYNC_WAVE = "argocd.argoproj.io/sync-wave"
# PruneLast: delete what left the spec only after everything else is synced and healthy.
# ServerSideApply: no last-applied annotation size limit, field ownership shared cleanly with
# controllers. No CreateNamespace: Terraform owns the namespaces.
ARGOCD_APP_SYNC_OPTIONS = ("PruneLast=true", "ServerSideApply=true")
ARGOCD_RETRY_LIMIT = 5
ARGOCD_RETRY_BACKOFF = (("duration", "10s"), ("factor", 2), ("maxDuration", "3m"))  # 10s, 20s, 40s, 80s, 160s


def cluster_url(url: str) -> str:
    """A cluster URL as gpc compares them: without trailing slashes."""
    return url.rstrip("/")
# Workers run next to the services: they are Deployments too, live as long, and count against
# the same quota (`guardrails.quotas.services`); a group of their own would add a namespace per
# environment, a quota and a default-deny policy set for no isolation a label does not give.
GROUP_OF_TYPE = {"service": "services", "worker": "services", "job": "jobs"}

BROKER_SERVICE = "rabbitmq"
BROKER_PORT = 5672
BROKER_METRICS_PORT = 15692  # rabbitmq_prometheus, scraped by an environment's Prometheus
OBJECT_STORE_SERVICE = "minio"
# The Pushgateway jobs push their run metrics to (environments with monitoring and jobs), in the
# infra namespace; its pods carry PUSHGATEWAY_POD (the chart's name label with gpc's release name).
# Grafana's admin credentials where gpc installs kube-prometheus-stack: the platform team's Secret.
GRAFANA_ADMIN_SECRET = "grafana-admin"
PUSHGATEWAY_SERVICE = "pushgateway"
PUSHGATEWAY_PORT = 9091
PUSHGATEWAY_URL_KEY = "PUSHGATEWAY_URL"
PUSHGATEWAY_POD = (("app.kubernetes.io/instance", PUSHGATEWAY_SERVICE),
                   ("app.kubernetes.io/name", "prometheus-pushgateway"))
# KEDA, installed by the argocd target where a workload scales on queue depth. Its own namespace:
# its operator, metrics API server and webhooks talk to the API server, which the default-deny
# policies of gpc's namespaces would cut off. Its operator reads queue depths from the broker.
KEDA_NAMESPACE = "keda"
KEDA_RELEASE = "keda"
KEDA_OPERATOR_POD = (("app.kubernetes.io/name", "keda-operator"),)
OBJECT_STORE_PORT = 9000
# The object store's region, for request signing: MinIO's region when none is configured. SDKs
# need it (or they ask GetBucketLocation, which workloads are not granted) and need path-style
# addressing (or they address `<bucket>.<host>`, which no in-cluster DNS name resolves).
OBJECT_STORE_REGION = "us-east-1"
# OpenTelemetry's resource variables, read by every OpenTelemetry SDK: traces, metrics and logs of
# a workload name the same service, platform and environment whichever exporter sends them.
# compiler/wiring.py sets them; compiler/semantic.py refuses a workload's own.
OTEL_SERVICE_NAME = "OTEL_SERVICE_NAME"
OTEL_RESOURCE_ATTRIBUTES = "OTEL_RESOURCE_ATTRIBUTES"
TELEMETRY_VARIABLES = (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME)

# The pinned images of the shared infrastructure (registry, repository, tag@digest): the Helm charts
# of each environment (targets/argocd/charts.py) and each preview's own instances run the same ones.
MINIO_IMAGE = ("docker.io", "cloudpirates/image-minio",
               "RELEASE.2025-10-15T17-29-55Z-hardened@sha256:8dc02a7e509336c8bbb67962086d691bdcde20a2c9327ed68e5081a681f6dbfc")
RABBITMQ_IMAGE = ("docker.io", "rabbitmq",
                  "4.3.6-management@sha256:316ffd2a847e59112eee2c65f04bbd0989d93aaf1486c07b721f8d22d863b968")
BUSYBOX_IMAGE = ("docker.io", "busybox",
                 "1.37.0@sha256:b3255e7dfbcd10cb367af0d409747d511aeb66dfac98cf30e97e87e4207dd76f")
# CloudNativePG's operator; it also runs in every instance pod (its bootstrap init container copies
# the instance manager), so a preview's database pods run it too.
CNPG_IMAGE = ("ghcr.io", "cloudnative-pg/cloudnative-pg",
              "1.30.0@sha256:a2701eb97cdd2a34b1fdb2cb51987f544b706e40bec72ae7146cd8580efefebb")

# Keys of a workload's credentials Secret, created by Terraform, referenced by the manifests.
AMQP_URL_KEY = "AMQP_URL"
DATABASE_URL_KEY = "DATABASE_URL"
PGPASSWORD_KEY = "PGPASSWORD"
DATABASE_PORT = 5432
DATABASE_SCHEMA = "app"  # the one schema of every database, owned by its owner workload's role
# TLS, without verifying the server's certificate against a CA: CloudNativePG's CA is its own,
# lives in the infra namespace and is renewed by the operator (90-day validity), so a copy in the
# workloads' Secrets would go stale at its first renewal and break every client (docs/databases.md).
DATABASE_SSLMODE = "require"
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


# External Secrets Operator: the store's own credential, created by the platform engineer in the
# environment's infra namespace (the store reads it from there; no workload namespace holds it).
SECRET_STORE_CREDENTIALS = "secret-store-credentials"
STORE_VAULT_ROLE_ID_KEY = "role-id"
STORE_VAULT_SECRET_ID_KEY = "secret-id"
STORE_AWS_ACCESS_KEY_ID_KEY = "access-key-id"
STORE_AWS_SECRET_ACCESS_KEY_KEY = "secret-access-key"
# The cluster-wide operators the argocd target installs in an environment's infra namespace, and the
# labels of their controller pods (which the kustomize target's NetworkPolicies select).
EXTERNAL_SECRETS = "external-secrets"
RELOADER = "reloader"
OPERATORS = (EXTERNAL_SECRETS, RELOADER)
OPERATOR_POD_LABELS = {
    EXTERNAL_SECRETS: {LABEL_NAME: "external-secrets", LABEL_INSTANCE: "external-secrets"},
    RELOADER: {"app": "reloader-reloader", "release": "reloader"},
}
# Stakater Reloader: the annotation on a Deployment listing the Secrets whose change restarts it.
RELOADER_SECRETS_ANNOTATION = "secret.reloader.stakater.com/reload"


def secret_store_dir(env: str) -> str:
    """The kustomize folder holding `env`'s ClusterSecretStore (synced by its own Application)."""
    return f"kustomize/_platform/secret-store/{env}"


def secret_store(prefix: str) -> str:
    """The ClusterSecretStore of the environment whose namespaces start with `prefix` (unique per
    cluster, as the prefixes are: GPC224)."""
    return f"{prefix}-secrets"


def contract_config_map(workload: str) -> str:
    """ConfigMap carrying the message schemas of the queues `workload` uses."""
    return f"{workload}-contract"


def schema_key(queue: str) -> str:
    return f"{queue}.schema.json"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


def queue_exchange(queue: str) -> str:
    """The exchange that routes to `queue` and nowhere else; its publishers' only write grant.

    RabbitMQ matches a permission regex against exchange and queue names alike, so the exchange
    must not share the queue's name: a workload that publishes to q1 (write on q1's exchange) and
    consumes q2 (read on q2) could otherwise bind queue q1 to exchange q2. Queue names hold no
    '.', so `<queue>.exchange` is never a queue's (or a dead-letter queue's) name.
    """
    return f"{queue}.exchange"


def env_prefix(alias: str) -> str:
    """`models` -> `MODELS`, `fraud-api` -> `FRAUD_API`."""
    return alias.upper().replace("-", "_").replace(".", "_")


def broker_user(workload: str) -> str:
    return workload


def object_store_user(workload: str) -> str:
    return workload


def database_role(workload: str) -> str:
    return workload


def database_cluster(database: str) -> str:
    """The CloudNativePG Cluster of a database (one per database and environment)."""
    return database


def database_host(database: str, ns: str) -> str:
    """The Service CloudNativePG creates for the primary (`<cluster>-rw`)."""
    return service_host(f"{database_cluster(database)}-rw", ns)


def database_backup_bucket(database: str) -> str:
    """The bucket of a database's backups in its environment's object store (its own: its
    object-store user may touch nothing else)."""
    return f"{database_cluster(database)}-backups"


def database_backup_user(database: str) -> str:
    """The object-store user (and policy) of a database's backups. A workload's user is its name,
    which has no underscore, so the two never meet."""
    return f"backup_{database_cluster(database)}"


def database_backup_secret(database: str) -> str:
    """The Secret (infra namespace) with the backup user's keys, written by Terraform."""
    return f"{database_cluster(database)}-backup"


def database_superuser_secret(database: str) -> str:
    """The Secret CloudNativePG writes the `postgres` superuser's password to (`<cluster>-superuser`)."""
    return f"{database_cluster(database)}-superuser"


def migration_job(workload: str) -> str:
    return f"{workload}-migrate"


def service_host(service: str, ns: str) -> str:
    return f"{service}.{ns}.svc.cluster.local"


def argocd_application(platform: str, env: str, workload: str) -> str:
    return f"{platform}-{env}-{workload}"


def overlay_dir(workload: str, env: str) -> str:
    """The kustomize overlay Argo CD builds for `workload` in `env` (relative to out/<spec>/)."""
    return f"kustomize/{workload}/overlays/{env}"


# The tag gpc seeds a CI-owned image component with when the spec names no existing tag
# (`image_tag`): no registry has it, and no CI ever writes it (CI writes commit SHAs). While a
# component still holds it, the workload is rendered scaled to zero / suspended and carries
# AWAITING_DELIVERY; CI's first write of the component replaces both. The promote workflow
# refuses to promote it.
BOOTSTRAP_TAG = "gpc-awaiting-first-delivery"
AWAITING_DELIVERY = "gpc.dev/awaiting-first-delivery"

# The `kubernetes.io/dockerconfigjson` Secret Terraform creates in every workload namespace when
# the spec's `registry_auth` is `pull-secret`; ServiceAccounts and pod specs list it.
IMAGE_PULL_SECRET = "registry-pull-secret"


def registry_host(image: str) -> str:
    """`ghcr.io/acme/x` -> `ghcr.io`; an image without a host is on Docker Hub."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def image_component_dir(workload: str, env: str) -> str:
    """The CI-owned kustomize Component holding the image tag of `workload` in `env`.

    gpc writes `<dir>/kustomization.yaml` once (owner "ci") and never again; the workload's CI
    rewrites it after every build. The overlay lists it under `components:`.
    """
    return f"{overlay_dir(workload, env)}/image"


# Shared infrastructure, deployed by Argo CD from pinned Helm charts into each environment's
# infra namespace; their admin credentials are generated by Terraform into these Secrets, which
# the charts read (`existingSecret`) and the Terraform broker/object-store configuration uses.
OBJECT_STORE_ROOT_SECRET = "minio-root"
OBJECT_STORE_ROOT_USER_KEY = "rootUser"
OBJECT_STORE_ROOT_PASSWORD_KEY = "rootPassword"
BROKER_ADMIN_SECRET = "rabbitmq-admin"
BROKER_ADMIN_USER = "gpc-admin"
BROKER_ADMIN_PASSWORD_KEY = "rabbitmq-password"
BROKER_ERLANG_COOKIE_KEY = "rabbitmq-erlang-cookie"

# The data of the shared infrastructure (the object store's objects, the broker's queues) lives on
# claims Terraform creates with `prevent_destroy` in the infra namespace; the charts mount them
# (`persistence.existingClaim`) and never create a claim, so deleting, renaming or cascading an
# Argo CD Application cannot delete the data, and neither can `terraform destroy`.
OBJECT_STORE_CLAIM = "minio-data"
BROKER_CLAIM = "rabbitmq-data"


def gitops_over_ssh(url: str) -> bool:
    """Whether Argo CD reads the GitOps repository over SSH (with a deploy key) rather than HTTPS
    (with a GitHub App): the repository Secret's credentials must suit the URL's scheme."""
    return url.startswith(("git@", "ssh://"))


def argocd_repository_secret(platform: str) -> str:
    """The Secret (in Argo CD's namespace) that lets Argo CD read the GitOps repository; Terraform
    creates it, from its variables, before the root application."""
    return f"{platform}-gitops-repository"


def broker_vhost(platform: str) -> str:
    return platform


def team_role(team: str) -> str:
    """The Argo CD project role of a team: it may see and sync only its own applications."""
    return f"team-{team}"


def sso_group(github_owner: str) -> str:
    """`@acme/payments` -> `acme:payments`: how Argo CD's GitHub SSO (Dex) names a team's group."""
    return github_owner.removeprefix("@").replace("/", ":")


def argocd_root_application(platform: str, env: str) -> str:
    """The app-of-apps Terraform bootstraps in each environment's cluster."""
    return f"{platform}-{env}-root"


def argocd_dir(env: str) -> str:
    """Everything Argo CD in `env`'s cluster syncs from (relative to out/<spec>/)."""
    return f"argocd/{env}"


def platform_overlay_dir(env: str) -> str:
    """Namespace-wide objects of `env` (default-deny NetworkPolicies, DNS egress, infra ingress).

    The leading underscore keeps it apart from workload folders (workload names cannot start
    with '_').
    """
    return f"kustomize/_platform/overlays/{env}"


def databases_dir(env: str) -> str:
    """The CloudNativePG Clusters of `env`, synced after the operator and before the workloads."""
    return f"kustomize/_databases/overlays/{env}"


# CloudNativePG labels every instance pod with its Cluster's name; the operator chart labels its
# pod with the chart's name.
DATABASE_POD_LABEL = "cnpg.io/cluster"
DATABASE_OPERATOR = "cloudnative-pg"
DATABASE_OPERATOR_WEBHOOK_PORT = 9443
DATABASE_STATUS_PORT = 8000  # each instance manager's status endpoint, polled by the operator
DATABASE_BOOTSTRAP_OWNER = "gpc_bootstrap"  # owns the database itself; never a workload's role (no '_' there)
POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql"
# The instance image of each supported major, pinned by digest: CloudNativePG's own signed image
# catalog, image-catalogs/catalog-system-trixie.yaml of https://github.com/cloudnative-pg/artifacts
# at ce5057c5f37ca1727ebb4f18681094d10124d59b (2026-08-17). `system` images, the ones that carry
# barman-cloud, which the in-tree backups run (targets/kustomize/databases.py); on Debian trixie,
# like CloudNativePG 1.30's own default image. The bare major tags (`:17`) were bullseye images,
# deprecated upstream; moving off them reorders no index, because CloudNativePG's initdb uses the C
# collation (not glibc's, which changed between the two). Bump with a newer catalog, never by hand.
POSTGRES_IMAGES = {
    14: "14.24-202608170814-system-trixie@sha256:ba21bac878449f7bf1cc620f8a030953be94aff464ca5ba013de1ebca47479dd",
    15: "15.19-202608170814-system-trixie@sha256:fa32b6605eee928ffcd5a8895bfdf657d08552c682acbba5af1f732a706015c3",
    16: "16.15-202608170814-system-trixie@sha256:9715665844fb088ba6e17181cfc2e2505b3a711e7a293ac721490175f9515233",
    17: "17.11-202608170816-system-trixie@sha256:ecaa395084a5f8831fd2655dbffc98b554473526265f53113ec969de6fc15848",
}


def postgres_image(major: int) -> str:
    return f"{POSTGRES_IMAGE}:{POSTGRES_IMAGES[major]}"


# Where the platform repository's CI installs gpc from when the spec names no `toolchain.gpc`:
# this folder of the GitOps repository, usually a git submodule (pinned to a commit by git itself).
DEFAULT_GPC_PATH = "tools/gpc"

KYVERNO_NAMESPACE = "kyverno"  # Terraform creates it; Kyverno and its copy of the registry pull secret live there
KYVERNO_DIR = "kyverno"  # Kyverno policies + kustomization.yaml, synced by each environment's Argo CD


# -- the platform's edges ------------------------------------------------------------------------

# Envoy Gateway (the default controller of a Gateway gpc creates) runs each Gateway's proxy pods in
# its own namespace and labels them with the Gateway they serve (its "controller namespace" mode,
# the default).
ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system"
ENVOY_OWNING_GATEWAY_NAME = "gateway.envoyproxy.io/owning-gateway-name"
ENVOY_OWNING_GATEWAY_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"


def default_host(workload: str, domain: str) -> str:
    """Where an exposed workload without `hosts` is served: `<workload>.<domain>`."""
    return f"{workload}.{domain}"


def tls_secret(workload: str) -> str:
    """The Secret cert-manager writes an exposed workload's certificate into."""
    return f"{workload}-tls"
