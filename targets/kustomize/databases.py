"""The databases of an environment: one CloudNativePG `Cluster` per database, and the NetworkPolicies
that let exactly the declared workloads (and the operator) reach its pods.

One Cluster per database, not one per environment: a database's size (instances, storage,
resources) and PostgreSQL major are its own, a failover, restore or major upgrade of one touches
no other, and a role can only exist where its database is, so a workload's role is never even
present on a server it did not declare. The cost is one primary (and its replicas) per database.

Roles and grants are Terraform's (terraform/modules/database/, called per database by terraform/<env>/services/), not the Cluster's
`managed.roles`: CloudNativePG manages role attributes but no table privileges, and Terraform
already makes every other per-workload credential. The Cluster creates the database, owned by a
bootstrap role no workload has; the owner workload's role owns the schema inside it. The superuser
is enabled so that Terraform can sign in (CloudNativePG writes its password to `<cluster>-superuser`).

Backups (where `environments.<env>.backup` asks for them) use CloudNativePG's in-tree Barman Cloud
support, `spec.backup.barmanObjectStore`, and a `ScheduledBackup` with `method: barmanObjectStore`:
base backups on the schedule, WAL archived continuously, to the database's own bucket in the
environment's object store, with an object-store user that may touch that bucket only (Terraform,
terraform/modules/database_backups/). Not the Barman Cloud plugin (`barmancloud.cnpg.io` ObjectStore +
`spec.plugins`): the in-tree support is deprecated since 1.26 but still served by the operator gpc
pins (1.30.0; upstream moved its removal to 1.31.0), while the plugin is one more operator whose
gRPC link to CloudNativePG needs cert-manager (or hand-made certificate bundles) in every
environment that backs up. The plugin reads the same bucket layout and its ObjectStore takes these
very fields (upstream's migration guide), so the switch is a translation without data loss; a test
(tests/test_contract_cnpg.py) fails as soon as the operator chart is bumped to 1.31 with this still
emitted, so that bump cannot silently drop the backups.
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Database, Environment, Platform
from compiler.ir_preview import PREVIEW_LABEL
from targets.kustomize import meta, migration
from targets.kustomize.network import API_SERVER_PORTS, OBJECT_STORE_POD, peer, tcp

CNPG_API = "postgresql.cnpg.io/v1"
OPERATOR_POD = {meta.NAME: names.DATABASE_OPERATOR}


def pods(database: str) -> dict[str, str]:
    return {names.DATABASE_POD_LABEL: names.database_cluster(database)}


def cluster(platform: Platform, env: Environment, db: Database) -> dict[str, Any]:
    size = db.size(env.name)
    labels = {meta.NAME: db.name, meta.COMPONENT: "database", meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"}
    # The Cluster owns its volume claims: deleting it deletes the data. Argo CD never deletes or
    # prunes it, not even when the Application goes; removing a database is a person's decision.
    annotations = {meta.ARGOCD_SYNC_OPTIONS: "Delete=false,Prune=false"}
    if db.description:
        annotations[meta.DESCRIPTION] = db.description
    resources = {"cpu": size.cpu, "memory": size.memory}
    return {
        "apiVersion": CNPG_API,
        "kind": "Cluster",
        "metadata": meta.metadata(names.database_cluster(db.name), labels, annotations, namespace=env.infra_namespace),
        "spec": {
            "instances": size.instances,
            # The major the spec declares, by digest; the operator's own default would follow the operator.
            "imageName": names.postgres_image(db.version),
            "enableSuperuserAccess": True,
            "bootstrap": {"initdb": {"database": db.name, "owner": names.DATABASE_BOOTSTRAP_OWNER}},
            "storage": {"size": size.storage},
            "resources": {"requests": dict(resources), "limits": dict(resources)},
            # Nobody waits at a GitOps sync to approve the switchover of a rolling update.
            "primaryUpdateStrategy": "unsupervised",
            **({"backup": backup_spec(env, db)} if size.backup is not None else {}),
        },
    }


def backup_spec(env: Environment, db: Database) -> dict[str, Any]:
    """Where and how long the Cluster keeps its base backups and WAL: its own bucket, reached with
    the keys of its own object-store user (the Secret Terraform writes)."""
    backup = db.size(env.name).backup
    assert backup is not None
    secret = names.database_backup_secret(db.name)
    return {
        "retentionPolicy": backup.retention,
        "barmanObjectStore": {
            "destinationPath": f"s3://{names.database_backup_bucket(db.name)}/",
            "endpointURL": f"http://{names.service_host(names.OBJECT_STORE_SERVICE, env.infra_namespace)}:"
                           f"{names.OBJECT_STORE_PORT}",
            "s3Credentials": {
                "accessKeyId": {"name": secret, "key": names.S3_ACCESS_KEY},
                "secretAccessKey": {"name": secret, "key": names.S3_SECRET_KEY},
            },
            "wal": {"compression": "gzip"},
            "data": {"compression": "gzip"},
        },
    }


def cron_with_seconds(schedule: str) -> str:
    """CloudNativePG parses a ScheduledBackup's schedule with robfig/cron's six-field parser, seconds
    first: a five-field `0 3 * * *` would run every hour at minute 3. The @-macros mean the same."""
    return schedule if schedule.startswith("@") else f"0 {schedule}"


def scheduled_backup(platform: Platform, env: Environment, db: Database) -> dict[str, Any]:
    backup = db.size(env.name).backup
    assert backup is not None
    labels = {meta.NAME: db.name, meta.COMPONENT: "database", meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"}
    return {
        "apiVersion": CNPG_API,
        "kind": "ScheduledBackup",
        "metadata": meta.metadata(names.database_cluster(db.name), labels, namespace=env.infra_namespace),
        "spec": {
            "schedule": cron_with_seconds(backup.schedule),
            "cluster": {"name": names.database_cluster(db.name)},
            "method": "barmanObjectStore",
            # A base backup as soon as this object exists: WAL archived before the first scheduled one
            # could not be restored from anything. (On an environment's first rollout the bucket and
            # its user come later, with terraform/<env>/services; that one fails and the schedule's
            # next one is the first: targets/argocd/readme.py says so.)
            "immediate": True,
            # The Backup objects are records of the bucket's contents; they go with this object.
            "backupOwnerReference": "self",
        },
    }


def backed_up(platform: Platform, env: Environment) -> list[Database]:
    return [db for db in platform.databases if db.size(env.name).backup is not None]


def policies(platform: Platform, env: Environment) -> list[dict[str, Any]]:
    """Database pods: the declared workloads on 5432, the operator and the other instances on 5432
    and the status port; out: the API server (the instance manager watches its Cluster) and the
    other instances. The operator: the API server in (its webhooks) and out, the instances out."""
    ns = env.infra_namespace
    out = []
    ports = tcp(names.DATABASE_PORT, names.DATABASE_STATUS_PORT)
    for db in platform.databases:
        same = {"podSelector": {"matchLabels": pods(db.name)}}
        clients = [platform.workload(r.workload) for r in db.roles]
        ingress: list[dict[str, Any]] = [
            {"from": [peer(w.placement(env.name).namespace, meta.selector(w))], "ports": tcp(names.DATABASE_PORT)}
            for w in clients
        ]
        ingress += [{"from": [peer(w.placement(env.name).namespace, migration.pods(w))], "ports": tcp(names.DATABASE_PORT)}
                    for w in clients if migration.command(w) is not None]
        ingress.append({"from": [{"podSelector": {"matchLabels": dict(OPERATOR_POD)}}, same], "ports": ports})
        egress: list[dict[str, Any]] = [{"ports": tcp(*API_SERVER_PORTS)}, {"to": [same], "ports": ports}]
        if db.size(env.name).backup is not None:  # base backups and WAL, to the object store's S3 port
            egress.append({"to": [{"podSelector": {"matchLabels": dict(OBJECT_STORE_POD)}}],
                           "ports": tcp(names.OBJECT_STORE_PORT)})
        out.append(_policy(platform, f"{names.database_cluster(db.name)}-clients", ns, {
            "podSelector": {"matchLabels": pods(db.name)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        }))
    out.append(_policy(platform, names.DATABASE_OPERATOR, ns, {
        "podSelector": {"matchLabels": dict(OPERATOR_POD)},
        "policyTypes": ["Ingress", "Egress"],
        # The API server calls the webhooks; it is not a pod, so only the port can be named.
        "ingress": [{"ports": tcp(names.DATABASE_OPERATOR_WEBHOOK_PORT)}],
        "egress": [{"ports": tcp(*API_SERVER_PORTS)},
                   *({"to": [{"podSelector": {"matchLabels": pods(db.name)}}], "ports": ports}
                     for db in platform.databases),
                   *_preview_instances(platform, env)],
    }))
    return out


def _preview_instances(platform: Platform, env: Environment) -> list[dict[str, Any]]:
    """In the environment previews of databases copy, the operator also runs the previews'
    Clusters (targets/argocd/charts.py): it reaches their instances, in this platform's preview
    namespaces only (labelled so by the previews' kustomization), and nothing else there."""
    if platform.previews is None or not platform.previews.cluster_wide_operator(env.name):
        return []
    instances = {"matchExpressions": [{"key": names.DATABASE_POD_LABEL, "operator": "Exists"}]}
    return [{"to": [{"namespaceSelector": {"matchLabels": {PREVIEW_LABEL: platform.name}}, "podSelector": instances}],
             "ports": tcp(names.DATABASE_PORT, names.DATABASE_STATUS_PORT)}]


def _policy(platform: Platform, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta.metadata(name, meta.platform_labels(platform, name), namespace=namespace),
        "spec": spec,
    }
