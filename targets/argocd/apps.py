"""The Applications that are not a workload's: platform overlay, policies, shared infra (the root
application is compiler/rootapp.py's, shared with Terraform)."""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, Platform
from compiler.rootapp import destination
from targets.argocd import charts, observability, operators
from targets.argocd.common import (
    WAVE_INFRA,
    WAVE_PLATFORM,
    default_namespace,
    git_source,
    platform_application,
    project_name,
    role_name,
)
from targets.argocd.project import WAVE_MONITORING, cluster_project_name, monitoring_project_name

PLATFORM_ROLE = "platform"
POLICIES_ROLE = "policies"
DATABASES_ROLE = "databases"
SECRET_STORE_ROLE = "secret-store"


def platform_overlay(platform: Platform, env: Environment) -> dict[str, Any]:
    """Namespace-wide objects of the environment (default-deny and DNS NetworkPolicies)."""
    return platform_application(platform, name=role_name(platform, env, PLATFORM_ROLE),
                                project=project_name(platform, env),
                                source=git_source(platform, names.platform_overlay_dir(env.name)),
                                namespace=default_namespace(env), wave=WAVE_PLATFORM)


def policies(platform: Platform, env: Environment) -> dict[str, Any]:
    """The Kyverno policies, in place before any workload is admitted."""
    return platform_application(platform, name=role_name(platform, env, POLICIES_ROLE),
                                project=project_name(platform, env), source=git_source(platform, names.KYVERNO_DIR),
                                namespace=default_namespace(env), wave=WAVE_PLATFORM)


def infrastructure(platform: Platform, env: Environment, chart: charts.Chart) -> dict[str, Any]:
    values = charts.VALUES[chart.role]()
    if chart is charts.DATABASE_OPERATOR and platform.previews is not None:
        values = charts.database_operator_values(platform.previews.cluster_wide_operator(env.name))
    if chart is charts.OBJECT_STORE and env.monitoring is not None:
        values = charts.object_store_values(public_metrics=True)
    return platform_application(platform, name=role_name(platform, env, chart.role),
                                project=project_name(platform, env),
                                source=chart.source(values), namespace=env.infra_namespace,
                                wave=chart.wave)


def monitoring(platform: Platform, env: Environment, chart: charts.Chart) -> dict[str, Any]:
    """A monitoring chart of the environment (targets/argocd/observability.py), in its infra namespace."""
    return platform_application(platform, name=role_name(platform, env, chart.role),
                                project=project_name(platform, env),
                                source=chart.source(observability.VALUES[chart.role]()),
                                namespace=env.infra_namespace, wave=chart.wave)


def monitoring_stack(platform: Platform, env: Environment, chart: charts.Chart) -> dict[str, Any]:
    """kube-prometheus-stack in the Prometheus's namespace, in the monitoring project. Server-side
    apply: its CRDs are larger than the annotation client-side apply would store."""
    assert chart.namespace is not None
    app = platform_application(platform, name=role_name(platform, env, chart.role),
                               project=monitoring_project_name(platform, env),
                               source=chart.source(observability.stack_values(env)), namespace=chart.namespace,
                               wave=WAVE_MONITORING)
    app["spec"]["destination"] = destination(chart.namespace)
    policy = app["spec"]["syncPolicy"]
    policy["syncOptions"] = sorted({*policy.get("syncOptions", []), "ServerSideApply=true"})
    return app


def keda(platform: Platform, env: Environment) -> dict[str, Any]:
    """KEDA in its own namespace, from its classic Helm repository, in the cluster project: in place
    (CRDs, webhook, metrics API) before the workloads' ScaledObjects sync."""
    chart = charts.KEDA
    assert chart.namespace is not None and chart.chart is not None
    # Its namespace is KEDA's alone (no default-deny of gpc's, no quota); Terraform creates it.
    app = platform_application(platform, name=role_name(platform, env, chart.role),
                               project=cluster_project_name(platform, env), source={
                                   "repoURL": chart.source_repo, "chart": chart.chart,
                                   "targetRevision": chart.version,
                                   "helm": {"releaseName": chart.release, "valuesObject": charts.keda_values()}},
                               namespace=chart.namespace, wave=WAVE_INFRA)
    app["spec"]["destination"] = destination(chart.namespace)
    return app


def databases(platform: Platform, env: Environment) -> dict[str, Any]:
    """The CloudNativePG Clusters: after the operator (its CRDs), before the workloads."""
    return platform_application(platform, name=role_name(platform, env, DATABASES_ROLE),
                                project=project_name(platform, env),
                                source=git_source(platform, names.databases_dir(env.name)),
                                namespace=env.infra_namespace, wave=WAVE_INFRA)


def operator(platform: Platform, env: Environment, chart: charts.Chart) -> dict[str, Any]:
    """A cluster-wide operator (targets/argocd/operators.py), up before the infrastructure that uses it."""
    return platform_application(platform, name=role_name(platform, env, chart.role),
                                project=project_name(platform, env),
                                source=chart.source(operators.VALUES[chart.role]()), namespace=env.infra_namespace,
                                wave=WAVE_PLATFORM)


def secret_store(platform: Platform, env: Environment) -> dict[str, Any]:
    """The environment's ClusterSecretStore, once External Secrets' CRDs exist (one wave later)."""
    return platform_application(platform, name=role_name(platform, env, SECRET_STORE_ROLE),
                                project=project_name(platform, env),
                                source=git_source(platform, names.secret_store_dir(env.name)),
                                namespace=default_namespace(env), wave=WAVE_INFRA)
