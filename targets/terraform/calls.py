"""Which shared modules (terraform/modules/<name>/) each environment's root module calls, with
which of its values, and the `moved` blocks that carry a state of the earlier layout, where every
resource lived in the root module itself, to the resource's address inside its module.

RESOURCES says, per module, the resources it declares as they were named in the root module: a
resource keeps its name in its module except where the table gives the new one. The database
module is called once per database (each database has its own provider configuration), so its
resources, once named after the database, are named `this`, `public`, ... inside it.
"""

from __future__ import annotations

from collections.abc import Iterable

from compiler import names
from compiler.ir import Environment, Platform
from targets.terraform import data, hcl, rootapp, versions
from targets.terraform.hcl import Hcl
from targets.terraform.modules import ModuleCall, Move

INFRA = data.INFRA_GROUP
ROOT_CHART = rootapp.CHART_DIR

# Per module: (old address in the root module, address inside the module; None: the same).
RESOURCES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "namespaces": (("kubernetes_namespace_v1.group", None), ("kubernetes_namespace_v1.system", None)),
    "workloads": (("kubernetes_service_account_v1.workload", None), ("kubernetes_role_v1.api_reader", None),
                  ("kubernetes_role_binding_v1.api_reader", None)),
    "guardrails": (("kubernetes_resource_quota_v1.group", None), ("kubernetes_limit_range_v1.group", None)),
    "volumes": (("kubernetes_persistent_volume_claim_v1.volume", None),
                ("kubernetes_persistent_volume_claim_v1.infra", None)),
    "image_pull": (("kubernetes_secret_v1.image_pull", None), ("kubernetes_secret_v1.kyverno_image_pull", None)),
    "app_secrets": (("kubernetes_secret_v1.app", None),),
    "argocd": (("helm_release.argocd", None), ("kubernetes_secret_v1.gitops_repository", None)),
    "kyverno": (("helm_release.kyverno", None),),
    "root_application": (("helm_release.argocd_root", None),),
    "object_store": (("minio_s3_bucket.bucket", None), ("minio_s3_bucket_versioning.bucket", None),
                     ("random_password.object_store", None), ("minio_iam_user.workload", None),
                     ("minio_iam_policy.workload", None), ("minio_iam_user_policy_attachment.workload", None)),
    "broker": (("rabbitmq_vhost.this", None), ("rabbitmq_queue.queue", None), ("rabbitmq_exchange.queue", None),
               ("rabbitmq_binding.queue", None), ("random_password.broker", None),
               ("rabbitmq_user.workload", None), ("rabbitmq_permissions.workload", None)),
    "credentials": (("kubernetes_secret_v1.credentials", None),),
}
OBJECT_STORE_ADMIN = (("random_password.object_store_root", None), ("kubernetes_secret_v1.object_store_root", None))
BROKER_ADMIN = (("random_password.broker_admin", None), ("random_password.broker_erlang_cookie", None),
                ("kubernetes_secret_v1.broker_admin", None))
# `{db}` is the database's name: the resources were named after it in the root module.
DATABASE = (("postgresql_role.{db}", "postgresql_role.this"), ("postgresql_grant.{db}_public", "postgresql_grant.public"),
            ("postgresql_schema.{db}", "postgresql_schema.this"),
            ("postgresql_grant.{db}_database", "postgresql_grant.database"),
            ("postgresql_grant.{db}_schema", "postgresql_grant.schema"),
            ("postgresql_grant.{db}_table", "postgresql_grant.table"),
            ("postgresql_grant.{db}_sequence", "postgresql_grant.sequence"),
            ("postgresql_default_privileges.{db}_table", "postgresql_default_privileges.table"),
            ("postgresql_default_privileges.{db}_sequence", "postgresql_default_privileges.sequence"))

# The providers each shared module needs.
PROVIDERS: dict[str, tuple[versions.Provider, ...]] = {
    "namespaces": (versions.KUBERNETES,), "workloads": (versions.KUBERNETES,), "guardrails": (versions.KUBERNETES,),
    "volumes": (versions.KUBERNETES,), "image_pull": (versions.KUBERNETES,), "app_secrets": (versions.KUBERNETES,),
    "infra_secrets": (versions.KUBERNETES, versions.RANDOM), "argocd": (versions.HELM, versions.KUBERNETES),
    "kyverno": (versions.HELM,), "root_application": (versions.HELM,), "infra_access": (versions.KUBERNETES,),
    "object_store": (versions.MINIO, versions.RANDOM), "broker": (versions.RABBITMQ, versions.RANDOM),
    "database": (versions.POSTGRESQL, versions.RANDOM), "credentials": (versions.KUBERNETES,),
    "database_backups": (versions.KUBERNETES, versions.MINIO, versions.RANDOM),
}


def _locals(*names_: str) -> dict[str, Hcl]:
    return {n: Hcl(f"local.{n}") for n in names_}


def database_module(database: str) -> str:
    return f"database_{database}"


def _whole(module: str, pairs: Iterable[tuple[str, str | None]]) -> list[Move]:
    return [Move(Hcl(old), Hcl(f"module.{module}.{new or old}")) for old, new in pairs]


def cluster(platform: Platform, env: Environment, local: data.ClusterLocals, object_store: bool,
            broker: bool) -> tuple[list[ModuleCall], list[Move]]:
    """The module calls of terraform/<env>/cluster/ and the moves from the earlier layout."""
    groups = Hcl("module.namespaces.groups")
    labels = {"labels": Hcl("local.labels"), "namespaces": groups}
    pull = local.image_pull_secret is not None
    calls = [ModuleCall("namespaces", "namespaces", _locals(
        "labels", "namespaces", "namespace_annotations", "namespace_labels", "system_namespaces",
        "system_namespace_labels"))]
    if pull:
        calls.append(ModuleCall("image_pull", "image_pull", {
            **labels, "kyverno_namespace": Hcl('module.namespaces.system["kyverno"]'),
            "groups": Hcl("local.image_pull_groups"), "secret_name": Hcl("local.image_pull_secret"),
            "registry_credentials": Hcl("var.registry_credentials"),
            "registry_credentials_revision": Hcl("var.registry_credentials_revision")}))
    if local.workloads:
        calls.append(ModuleCall("workloads", "workloads", {
            **labels, **_locals("workloads", "api_readers"),
            **({"image_pull_secrets": Hcl("module.image_pull.secrets")} if pull else {})}))
    if local.quotas or local.limit_ranges:
        calls.append(ModuleCall("guardrails", "guardrails", {**labels, **_locals("quotas", "limit_ranges")}))
    # Always called: with prevent_destroy on the claims, even removing the last volume from the
    # spec stops at the plan instead of deleting it (a removed resource block would have no lifecycle).
    calls.append(ModuleCall("volumes", "volumes", {**labels, **_locals("volumes", "infra_volumes")}))
    if local.app_secrets:
        calls.append(ModuleCall("app_secrets", "app_secrets", {
            **labels, "secrets": Hcl("local.app_secrets"), "values": Hcl("var.app_secrets"),
            "values_revision": Hcl("var.app_secrets_revision")}))
    if object_store or broker:
        calls.append(ModuleCall("infra_secrets", "infra_secrets", {
            "labels": Hcl("local.labels"), "namespace": Hcl(f"module.namespaces.groups[{hcl.key(INFRA)}]")}))
    credentials = ({"gitops_ssh_private_key": Hcl("var.gitops_ssh_private_key")}
                   if names.gitops_over_ssh(platform.gitops_repo) else
                   {n: Hcl(f"var.{n}") for n in ("gitops_github_app_id", "gitops_github_app_installation_id",
                                                  "gitops_github_app_private_key")})
    calls.append(ModuleCall("argocd", "argocd", {
        "namespace": Hcl('module.namespaces.system["argocd"]'), "repository": Hcl("local.argocd_repository"),
        **credentials, "gitops_credentials_revision": Hcl("var.gitops_credentials_revision")}))
    # Kyverno's registry login (existingImagePullSecrets) exists before it starts.
    calls.append(ModuleCall("kyverno", "kyverno", {
        "namespace": Hcl('module.namespaces.system["kyverno"]'), "values": Hcl("local.kyverno_values")},
        depends_on=("module.image_pull",) if pull else ()))
    # module.argocd too: its output names only the release, and the repository Secret must exist first.
    before = sorted(f"module.{c.name}" for c in calls if c.name != "namespaces")
    calls.append(ModuleCall("root_application", "root_application", {
        "namespace": Hcl("module.argocd.namespace"), "chart": Hcl(f'"${{path.module}}/{ROOT_CHART}"')},
        depends_on=tuple(before)))
    moves = [m for c in calls if c.source in RESOURCES for m in _whole(c.name, RESOURCES[c.source])]
    if object_store or broker:
        admin = (OBJECT_STORE_ADMIN if object_store else ()) + (BROKER_ADMIN if broker else ())
        moves += _whole("infra_secrets", admin)
    return calls, moves


def services(platform: Platform, env: Environment, local: data.ServicesLocals,
             ) -> tuple[list[ModuleCall], list[Move]]:
    """The module calls of terraform/<env>/services/ and the moves from the earlier layout."""
    access: dict[str, Hcl] = {"namespaces": Hcl("local.namespaces")}
    if platform.buckets:
        access["object_store_root_secret"] = Hcl("local.object_store_root_secret")
    if platform.queues:
        access["broker_admin_secret"] = Hcl("local.broker_admin_secret")
    if platform.databases:
        access["database_superuser_secrets"] = Hcl(
            "{ for database, d in local.databases : database => d.superuser_secret }")
    calls = [ModuleCall("infra_access", "infra_access", access)]
    moves: list[Move] = []
    if platform.buckets:
        calls.append(ModuleCall("object_store", "object_store", {
            **_locals("buckets", "versioned_buckets"), "users": Hcl("local.object_store_users"),
            "policies": Hcl("local.object_store_policies")}))
    if platform.queues:
        calls.append(ModuleCall("broker", "broker", {
            "vhost": Hcl("local.broker_vhost"), "host": Hcl("local.broker_host"), "port": Hcl("local.broker_port"),
            **_locals("queues", "exchanges"), "users": Hcl("local.broker_users")}))
    for d in platform.databases:
        module = database_module(d.name)
        calls.append(ModuleCall(module, "database", {
            "database": hcl.string(d.name), "host": Hcl(f"local.databases[{hcl.key(d.name)}].host"),
            "port": Hcl(f"local.databases[{hcl.key(d.name)}].port"), "sslmode": hcl.string(names.DATABASE_SSLMODE),
            "schema": Hcl(f"local.databases[{hcl.key(d.name)}].schema"),
            "owner": hcl.string(d.owner.workload),
            "roles": Hcl(f"{{ for workload, r in local.database_roles : workload => r if r.database == "
                         f"{hcl.string(d.name)} }}")},
            providers={"postgresql": Hcl(f"postgresql.{hcl._identifier(d.name)}")}))
        moves += _whole(module, [(old.format(db=d.name), new) for old, new in DATABASE])
        # One password resource held every database's roles: each instance moves on its own.
        moves += [Move(Hcl(f"random_password.database[{hcl.key(r.workload)}]"),
                       Hcl(f"module.{module}.random_password.database[{hcl.key(r.workload)}]"))
                  for r in sorted(d.roles, key=lambda r: r.workload)]
    if local.database_backups:
        # New with backups, never in the root module: no `moved` block.
        calls.append(ModuleCall("database_backups", "database_backups", {
            "backups": Hcl("local.database_backups"), "labels": Hcl("local.labels"),
            "namespace": Hcl(f"module.infra_access.namespaces[{hcl.key(INFRA)}]")}))
    if local.credentials:
        calls.append(ModuleCall("credentials", "credentials", {
            "labels": Hcl("local.labels"), "namespaces": Hcl("module.infra_access.namespaces"),
            "credentials": Hcl("local.credentials"), "data": Hcl("local.credential_data")},
            # A pod that finds its Secret finds its user able to do what it declared.
            depends_on=tuple(sorted(f"module.{c.name}" for c in calls if c.name != "infra_access"))))
    moves = [m for c in calls if c.source in RESOURCES for m in _whole(c.name, RESOURCES[c.source])] + moves
    return calls, moves
