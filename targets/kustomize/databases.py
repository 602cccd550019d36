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
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Database, Environment, Platform
from targets.kustomize import meta, migration
from targets.kustomize.network import API_SERVER_PORTS, peer, tcp

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
            # The major the spec declares; the operator's own default image would follow the operator.
            "imageName": f"{names.POSTGRES_IMAGE}:{db.version}",
            "enableSuperuserAccess": True,
            "bootstrap": {"initdb": {"database": db.name, "owner": names.DATABASE_BOOTSTRAP_OWNER}},
            "storage": {"size": size.storage},
            "resources": {"requests": dict(resources), "limits": dict(resources)},
            # Nobody waits at a GitOps sync to approve the switchover of a rolling update.
            "primaryUpdateStrategy": "unsupervised",
        },
    }


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
        out.append(_policy(platform, f"{names.database_cluster(db.name)}-clients", ns, {
            "podSelector": {"matchLabels": pods(db.name)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": [{"ports": tcp(*API_SERVER_PORTS)}, {"to": [same], "ports": ports}],
        }))
    out.append(_policy(platform, names.DATABASE_OPERATOR, ns, {
        "podSelector": {"matchLabels": dict(OPERATOR_POD)},
        "policyTypes": ["Ingress", "Egress"],
        # The API server calls the webhooks; it is not a pod, so only the port can be named.
        "ingress": [{"ports": tcp(names.DATABASE_OPERATOR_WEBHOOK_PORT)}],
        "egress": [{"ports": tcp(*API_SERVER_PORTS)},
                   *({"to": [{"podSelector": {"matchLabels": pods(db.name)}}], "ports": ports}
                     for db in platform.databases)],
    }))
    return out


def _policy(platform: Platform, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta.metadata(name, meta.platform_labels(platform, name), namespace=namespace),
        "spec": spec,
    }
