"""What each template of the terraform target reads, typed: one frozen dataclass per root module
(and the README, and the shared modules), and per module a table of its files with their
template and the condition under which the file is written.

A template sees the fields of its module's dataclass as its names (`{{ header }}`,
`{{ locals.entries() }}`, `{% if object_store %}`), so a template that names anything else
fails to render (StrictUndefined). To add a file: a `File` row; to add an input: a field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Generic, TypeVar

from targets.terraform import data, versions
from targets.terraform.hcl import Hcl

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

M = TypeVar("M")


def context(inputs: DataclassInstance) -> dict[str, object]:
    """The names a template sees: the dataclass's fields (shallow: nested dataclasses stay objects)."""
    return {f.name: getattr(inputs, f.name) for f in fields(inputs)}


def _always(module: object) -> bool:
    return True


@dataclass(frozen=True)
class File(Generic[M]):
    name: str  # relative to the module's folder
    template: str  # relative to templates/
    when: Callable[[M], bool] = _always


@dataclass(frozen=True)
class InfraSecret:
    """An admin Secret of the shared infrastructure, created by the cluster module."""

    secret: str
    data: dict[str, str | Hcl]  # key -> literal or generated value


@dataclass(frozen=True)
class ModuleCall:
    """One `module` block of a root module: a shared module under terraform/modules/ and this
    environment's values for its variables (HCL expressions, mostly `local.<name>`)."""

    name: str  # the block's label
    source: str  # the folder under terraform/modules/
    arguments: dict[str, Hcl]  # variable -> expression, in the order the block lists them
    providers: dict[str, Hcl] | None = None  # the module's provider -> this root module's configuration
    depends_on: tuple[str, ...] = ()  # module.<name> addresses


@dataclass(frozen=True)
class Move:
    """A `moved` block: where a resource (or one instance of it) lived before it went into a module."""

    origin: Hcl
    destination: Hcl


@dataclass(frozen=True)
class ClusterModule:
    """terraform/<env>/cluster/: providers, the environment's values, the calls of the shared modules."""

    header: Hcl
    locals: data.ClusterLocals
    terraform_version: str
    providers: list[versions.Provider]  # sorted by name
    kubeconfig_description: str
    kube_context_description: str
    gitops_repo: str  # the repository Argo CD reads
    gitops_over_ssh: bool  # True: a deploy key; False: a GitHub App
    app_secrets_required: str  # "workload: KEY, KEY; ...", for the plan's error when one is missing
    calls: list[ModuleCall]
    moves: list[Move]


CLUSTER_FILES: tuple[File[ClusterModule], ...] = (
    File("versions.tf", "common/versions.tf.j2"),
    File("providers.tf", "cluster/providers.tf.j2"),
    File("variables.tf", "cluster/variables.tf.j2"),
    File("locals.tf", "common/locals.tf.j2"),
    File("main.tf", "cluster/main.tf.j2"),
    File("moved.tf", "common/moved.tf.j2"),
    File("outputs.tf", "cluster/outputs.tf.j2"),
)


@dataclass(frozen=True)
class ObjectStoreAdmin:
    """How the services module signs in to the object store as its root user."""

    user_key: str  # keys of the root Secret
    password_key: str
    endpoint_description: str


@dataclass(frozen=True)
class BrokerAdmin:
    """How the services module signs in to the broker's management API."""

    user: str
    password_key: str  # key of the admin Secret
    endpoint_description: str


@dataclass(frozen=True)
class DatabaseAdmin:
    """How the services module signs in to one database's CloudNativePG cluster as `postgres`."""

    name: str  # the database, also its provider alias
    module: str  # the block that calls the database module for it
    owner: str  # the owner workload (a key of local.database_roles)
    local_port: int  # the default local end of its port-forward


@dataclass(frozen=True)
class ServicesModule:
    """terraform/<env>/services/."""

    header: Hcl
    locals: data.ServicesLocals
    terraform_version: str
    providers: list[versions.Provider]  # sorted by name
    kubeconfig_description: str
    kube_context_description: str
    object_store: ObjectStoreAdmin | None  # None: the platform has no buckets
    broker: BrokerAdmin | None  # None: the platform has no queues
    databases: list[DatabaseAdmin]  # sorted by name; empty: the platform has no databases
    credential_data: dict[str, dict[str, Hcl]]  # workload -> credential key -> expression
    calls: list[ModuleCall]
    moves: list[Move]


SERVICES_FILES: tuple[File[ServicesModule], ...] = (
    File("versions.tf", "common/versions.tf.j2"),
    File("providers.tf", "services/providers.tf.j2"),
    File("variables.tf", "services/variables.tf.j2"),
    File("locals.tf", "common/locals.tf.j2"),
    File("main.tf", "services/main.tf.j2"),
    File("moved.tf", "common/moved.tf.j2"),
    File("outputs.tf", "services/outputs.tf.j2"),
)


@dataclass(frozen=True)
class SharedModule:
    """terraform/modules/<name>/: one concern's resources, written once and called by every
    environment's root module. Everything here is the same for every environment of the platform;
    what differs between environments comes in through the variables."""

    header: Hcl
    name: str  # the folder, also the template folder under templates/modules/
    terraform_version: str
    providers: list[versions.Provider]  # sorted by name
    infra_group: str
    pull_secret: bool  # the workloads pull with a registry pull secret
    object_store: InfraSecret | None  # None: the platform has no buckets
    broker: InfraSecret | None  # None: the platform has no queues
    databases: bool
    gitops_over_ssh: bool
    argocd_values: dict[str, object]
    argo_cd: versions.Chart
    kyverno: versions.Chart
    quota_name: str
    limit_range_name: str
    root_chart_file: str  # the root application's file inside the local chart


SHARED_FILES: tuple[File[SharedModule], ...] = (
    File("versions.tf", "common/versions.tf.j2"),
    File("variables.tf", "variables.tf.j2"),
    File("main.tf", "main.tf.j2"),
    File("outputs.tf", "outputs.tf.j2"),
)


@dataclass(frozen=True)
class Readme:
    """terraform/<env>/README.md (README.md.j2)."""

    spec_file: str
    environment: str
    cluster: str
    namespaces: list[str]
    infra: bool  # the environment has shared infrastructure
    admin_secrets: bool  # the cluster module creates the object store's or broker's admin Secrets
    infra_namespace: str
    app_secrets: bool  # some workload declares secrets
    app_secret_list: list[str]  # "<Secret> (<keys>)"
    image_pull_secret: str | None  # None: the registry needs no pull secret
    registry_hosts: list[str]  # what registry_credentials must give
    root_application: str
    root_source: str
    repository_secret: str  # Argo CD's repository Secret
    gitops_repo: str
    gitops_over_ssh: bool
    data_claims: list[str]  # every claim Terraform keeps with prevent_destroy in this environment
    services: bool  # the services module exists
    services_summary: str
    port_forwards: list[str]
    version_rows: list[tuple[str, str]]  # what, version
