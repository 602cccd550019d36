"""What each template of the terraform target reads, typed: one frozen dataclass per root module
(and the README), and per module a table of its files with their template and the condition
under which the file is written.

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
class ClusterModule:
    """terraform/<env>/cluster/."""

    header: Hcl
    locals: data.ClusterLocals
    terraform_version: str
    providers: list[versions.Provider]  # sorted by name
    kubeconfig_description: str
    kube_context_description: str
    quota_name: str
    limit_range_name: str
    infra_group: str
    object_store: InfraSecret | None  # None: no buckets, or no infra namespace in this environment
    broker: InfraSecret | None  # None: no queues, or no infra namespace in this environment
    argo_cd: versions.Chart
    kyverno: versions.Chart
    root_chart: str  # the local chart's folder
    root_chart_file: str  # the root application's file inside it
    root_dependencies: list[str]  # resource addresses the root application waits for


CLUSTER_FILES: tuple[File[ClusterModule], ...] = (
    File("versions.tf", "common/versions.tf.j2"),
    File("providers.tf", "cluster/providers.tf.j2"),
    File("variables.tf", "cluster/variables.tf.j2"),
    File("locals.tf", "common/locals.tf.j2"),
    File("namespaces.tf", "cluster/namespaces.tf.j2"),
    File("workloads.tf", "cluster/workloads.tf.j2", lambda m: bool(m.locals.workloads)),
    File("guardrails.tf", "cluster/guardrails.tf.j2", lambda m: bool(m.locals.quotas or m.locals.limit_ranges)),
    File("volumes.tf", "cluster/volumes.tf.j2", lambda m: bool(m.locals.volumes)),
    File("infra_secrets.tf", "cluster/infra_secrets.tf.j2", lambda m: bool(m.object_store or m.broker)),
    File("app_secrets.tf", "cluster/app_secrets.tf.j2", lambda m: bool(m.locals.app_secrets)),
    File("image_pull.tf", "cluster/image_pull.tf.j2", lambda m: m.locals.image_pull_secret is not None),
    File("argocd.tf", "cluster/argocd.tf.j2"),
    File("kyverno.tf", "cluster/kyverno.tf.j2"),
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
class ServicesModule:
    """terraform/<env>/services/."""

    header: Hcl
    locals: data.ServicesLocals
    terraform_version: str
    providers: list[versions.Provider]  # sorted by name
    kubeconfig_description: str
    kube_context_description: str
    infra_group: str
    object_store: ObjectStoreAdmin | None  # None: the platform has no buckets
    broker: BrokerAdmin | None  # None: the platform has no queues
    credential_data: dict[str, dict[str, Hcl]]  # workload -> credential key -> expression
    credential_dependencies: list[str]  # resource addresses a credentials Secret waits for


SERVICES_FILES: tuple[File[ServicesModule], ...] = (
    File("versions.tf", "common/versions.tf.j2"),
    File("providers.tf", "services/providers.tf.j2"),
    File("variables.tf", "services/variables.tf.j2"),
    File("locals.tf", "common/locals.tf.j2"),
    File("cluster.tf", "services/cluster.tf.j2"),
    File("object_store.tf", "services/object_store.tf.j2", lambda m: m.object_store is not None),
    File("broker.tf", "services/broker.tf.j2", lambda m: m.broker is not None),
    File("credentials.tf", "services/credentials.tf.j2", lambda m: bool(m.credential_data)),
    File("outputs.tf", "services/outputs.tf.j2"),
)


@dataclass(frozen=True)
class Readme:
    """terraform/<env>/README.md (README.md.j2)."""

    spec_file: str
    environment: str
    cluster: str
    namespaces: list[str]
    infra: bool  # the environment has shared infrastructure
    infra_namespace: str
    app_secrets: bool  # some workload declares secrets
    app_secret_list: list[str]  # "<Secret> (<keys>)"
    image_pull_secret: str | None  # None: the registry needs no pull secret
    registry_hosts: list[str]  # what registry_credentials must give
    root_application: str
    root_source: str
    services: bool  # the services module exists
    services_summary: str
    port_forwards: list[str]
    version_rows: list[tuple[str, str]]  # what, version
