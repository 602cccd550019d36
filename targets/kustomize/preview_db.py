"""A preview's own databases: one throwaway CloudNativePG `Cluster` per database of the platform,
in the preview's namespace, with the roles and grants of the environment it copies.

The Cluster: one instance, 250m CPU and 512Mi (as the preview's broker and object store) and a
1Gi volume, the only PersistentVolumeClaims a preview holds (its quota allows exactly these). It
has the environment's name, so `<database>-rw`, the namespace-relative host every workload of the
preview reads (PGHOST, DATABASE_URL), is this Cluster's primary and nothing else. No superuser
login: nothing in a preview signs in as `postgres`.

Roles and grants. In an environment Terraform creates the roles and grants; a preview runs no
Terraform. Here the Cluster's bootstrap runs, as the superuser inside the new database
(`postInitApplicationSQL`), the very statements the Terraform provider issues for the
environment (compiler/database_grants.py: the same table, proved on a real PostgreSQL by
tests/test_preview_database_sql.py). The roles are created there without a password, because
CloudNativePG reconciles `managed.roles` only after bootstrap: grants written for roles it had not
created yet would fail. `managed.roles` then adopts each role and sets its password from the
role's Secret.

Credentials. One ExternalSecret per role draws one password from the preview's Password generator
(preview_infra.py) and renders the role's Secret from it: `username` and `password` (a
`kubernetes.io/basic-auth` Secret, as `managed.roles` requires), and the workload's DATABASE_URL
and PGPASSWORD, so the role's password and the URL the workload connects with cannot differ.

Who runs the Cluster: the `from` environment's operator, which watches every namespace when that
environment offers previews of databases (targets/argocd/charts.py says why).

Order (Argo CD sync waves): the credentials and the Cluster at -1, the owner's migration at 0 as a
`Sync` hook, the workloads at 1. Not a PreSync hook as in an environment: a preview's first sync
creates its namespace and database in the Sync phase, so a PreSync Job would run before either
exists. Argo CD moves past wave -1 only once the Cluster is healthy (it bundles a health check for
`postgresql.cnpg.io/Cluster`, argoproj/argo-cd#22802). The migration may still retry a few times:
the Cluster can report healthy before `managed.roles` has set the role's password.
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.database_grants import bootstrap_sql
from compiler.ir import Database, Platform
from compiler.ir_preview import DATABASE_STORAGE, INFRA_CPU, INFRA_MEMORY, Preview, database_secret
from targets.kustomize import meta, migration, network, preview_infra

CNPG_API = "postgresql.cnpg.io/v1"
WAVE = "argocd.argoproj.io/sync-wave"
DATABASE_WAVE = "-1"
MIGRATION_WAVE = "0"
WORKLOAD_WAVE = "1"  # after the migration (preview.py patches each workload)
MIGRATION_RETRIES = 4
OPERATOR_POD = {meta.NAME: names.DATABASE_OPERATOR}


def pods(database: str) -> dict[str, str]:
    return {names.DATABASE_POD_LABEL: names.database_cluster(database)}


def files(platform: Platform, preview: Preview) -> dict[str, Any]:
    if not preview.databases:
        return {}
    out: dict[str, Any] = {"databases.yaml": [
        *(cluster(platform, db) for db in platform.databases),
        *(role_secret(platform, db, r.workload) for db in platform.databases for r in db.roles),
    ]}
    env = platform.environment(preview.from_env)
    for db in platform.databases:
        owner = platform.workload(db.owner.workload)
        if migration.command(owner) is None:
            continue
        hook = {migration.HOOK: "Sync", migration.HOOK_DELETE_POLICY: "BeforeHookCreation", WAVE: MIGRATION_WAVE}
        job = migration.job(platform, owner, env, preview.workload(owner.name).env_vars, hook, MIGRATION_RETRIES)
        for entry in job["spec"]["template"]["spec"]["containers"][0].get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref is not None and ref["name"] == names.app_secret(owner.name):
                ref["optional"] = True  # an operator's secret values exist only in environments
        out[f"{owner.name}-migrate-job.yaml"] = [job]
    return out


def _labels(platform: Platform, name: str) -> dict[str, str]:
    return {meta.NAME: name, meta.COMPONENT: "database", meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"}


def cluster(platform: Platform, db: Database) -> dict[str, Any]:
    name = names.database_cluster(db.name)
    resources = {"cpu": INFRA_CPU, "memory": INFRA_MEMORY}
    return {
        "apiVersion": CNPG_API, "kind": "Cluster",
        "metadata": meta.metadata(name, _labels(platform, name), {WAVE: DATABASE_WAVE}),
        "spec": {
            "instances": 1,
            "imageName": names.postgres_image(db.version),
            "enableSuperuserAccess": False,
            "bootstrap": {"initdb": {"database": db.name, "owner": names.DATABASE_BOOTSTRAP_OWNER,
                                     "postInitApplicationSQL": bootstrap_sql(db)}},
            "managed": {"roles": [{"name": r.role, "ensure": "present", "login": True,
                                   "passwordSecret": {"name": database_secret(r.workload)}}
                                  for r in sorted(db.roles, key=lambda r: r.role)]},
            "storage": {"size": DATABASE_STORAGE},
            "resources": {"requests": dict(resources), "limits": dict(resources)},
            "primaryUpdateStrategy": "unsupervised",
            # Onto every pod it creates: the platform's policies require these labels on any pod
            # in a preview namespace.
            "inheritedMetadata": {"labels": _labels(platform, name)},
        },
    }


def role_secret(platform: Platform, db: Database, workload: str) -> dict[str, Any]:
    role = next(r.role for r in db.roles if r.workload == workload)
    name = database_secret(workload)
    password = "{{ .password }}"
    url = (f"postgresql://{role}:{password}@{names.database_cluster(db.name)}-rw:{names.DATABASE_PORT}/{db.name}"
           f"?sslmode={names.DATABASE_SSLMODE}")
    return {
        "apiVersion": preview_infra.ESO_API, "kind": "ExternalSecret",
        "metadata": meta.metadata(name, _labels(platform, name), {WAVE: DATABASE_WAVE}),
        "spec": {
            "refreshInterval": "0s",
            "target": {"name": name, "creationPolicy": "Owner", "deletionPolicy": "Delete",
                       "template": {"engineVersion": "v2", "type": "kubernetes.io/basic-auth",
                                    "data": {names.DATABASE_URL_KEY: url, names.PGPASSWORD_KEY: password,
                                             "password": password, "username": role}}},
            "dataFrom": [{"sourceRef": {"generatorRef": {"apiVersion": preview_infra.GENERATOR_API,
                                                         "kind": "Password", "name": preview_infra.GENERATOR}}}],
        },
    }


def network_policies(platform: Platform, preview: Preview) -> list[dict[str, Any]]:
    """Per database: in, its declared workloads and the owner's migration on 5432, the operator
    (in the `from` environment's infra namespace) and its own pods on 5432 and the status port;
    out, the API server (the instance manager watches its Cluster) and its own pods. The
    preview's catch-all internal policy excludes database pods (preview.py), so nothing else of
    the preview reaches them."""
    env = platform.environment(preview.from_env)
    ports = network.tcp(names.DATABASE_PORT, names.DATABASE_STATUS_PORT)
    out = []
    for db in platform.databases:
        same = {"podSelector": {"matchLabels": pods(db.name)}}
        clients = [platform.workload(r.workload) for r in sorted(db.roles, key=lambda r: r.workload)]
        ingress: list[dict[str, Any]] = [
            {"from": [{"podSelector": {"matchLabels": meta.selector(w)}}], "ports": network.tcp(names.DATABASE_PORT)}
            for w in clients]
        ingress += [{"from": [{"podSelector": {"matchLabels": migration.pods(w)}}],
                     "ports": network.tcp(names.DATABASE_PORT)} for w in clients if migration.command(w) is not None]
        ingress.append({"from": [network.peer(env.infra_namespace, OPERATOR_POD), same], "ports": ports})
        out.append({"apiVersion": network.API, "kind": "NetworkPolicy",
                    "metadata": {"name": f"preview-database-{db.name}",
                                 "labels": {meta.PART_OF: platform.name, meta.MANAGED_BY: "gpc"}},
                    "spec": {"podSelector": {"matchLabels": pods(db.name)}, "policyTypes": ["Ingress", "Egress"],
                             "ingress": ingress,
                             "egress": [{"ports": network.tcp(*network.API_SERVER_PORTS)},
                                        {"to": [same], "ports": ports}]}})
    return out


NOT_A_DATABASE = {"matchExpressions": [{"key": names.DATABASE_POD_LABEL, "operator": "DoesNotExist"}]}
