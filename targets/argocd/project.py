"""AppProjects: what each environment's Applications may deploy, from where, and to where.

Two projects per environment. The environment's project holds every Application except the root:
sources only from the GitOps repository and the pinned charts, destinations only the environment's
namespaces in its own cluster, the namespaced kinds gpc emits, and the cluster-scoped Kyverno
policy kinds of `guardrails.policy_kind` (namespaces are Terraform's). The bootstrap project holds
only the root application, which may only manage Argo CD's own objects in Argo CD's namespace; it
is built with the root application in compiler/rootapp.py, which Terraform installs too.
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.guardrails import POLICY_KINDS, PULL_SECRET_POLICY_KIND, copies_pull_secret
from compiler.ir import Environment, Platform, Workload
from compiler.rootapp import GroupKind, group_kinds, metadata
from targets.argocd import charts, observability, operators
from targets.argocd.common import (
    API_VERSION,
    IN_CLUSTER,
    WAVE_PROJECT,
    project_name,
    role_name,
)

# Objects other owners create in the environment's namespaces: Argo CD should not warn that no
# Application manages them. Terraform: credentials Secrets, quotas, limit ranges, RBAC, volumes;
# Kubernetes: each namespace's default ServiceAccount and root CA ConfigMap.
ORPHANS_OWNED_ELSEWHERE: tuple[dict[str, str], ...] = (
    {"kind": "Secret"},
    {"kind": "ResourceQuota"},
    {"kind": "LimitRange"},
    {"kind": "PersistentVolumeClaim"},
    {"group": "rbac.authorization.k8s.io", "kind": "Role"},
    {"group": "rbac.authorization.k8s.io", "kind": "RoleBinding"},
    {"kind": "ServiceAccount", "name": "default"},
    {"kind": "ConfigMap", "name": "kube-root-ca.crt"},
)


def infra_charts(platform: Platform) -> tuple[charts.Chart, ...]:
    """The shared infrastructure this platform needs, in every environment."""
    needed = []
    if platform.buckets:
        needed.append(charts.OBJECT_STORE)
    if platform.queues:
        needed.append(charts.BROKER)
    if platform.databases:
        needed.append(charts.DATABASE_OPERATOR)
    return tuple(needed)


def workload_kinds(platform: Platform, env: Environment) -> set[GroupKind]:
    """The namespaced kinds the kustomize overlays of `env` (workloads and platform overlay) contain."""
    kinds: set[GroupKind] = {("networking.k8s.io", "NetworkPolicy")}
    for w in platform.workloads_in(env.name):
        placement = w.placement(env.name)
        if w.kind == "Deployment":
            kinds.add(("apps", "Deployment"))
            if w.port is not None:  # workers have no Service
                kinds.add(("", "Service"))
            if placement.replicas.value > 1:
                kinds.add(("policy", "PodDisruptionBudget"))
            if placement.autoscale is not None and placement.autoscale.queue is None:
                kinds.add(("autoscaling", "HorizontalPodAutoscaler"))
            elif placement.autoscale is not None:
                kinds |= {("keda.sh", "ScaledObject"), ("keda.sh", "TriggerAuthentication")}
        else:
            kinds.add(("batch", w.kind))
        if w.contract_config_map:
            kinds.add(("", "ConfigMap"))
        if w.database is not None and w.database.migrate is not None:  # the owner's PreSync migration
            kinds.add(("batch", "Job"))
        kinds |= edge_kinds(w, env)
        if env.monitoring is not None:  # every workload has alerting rules and a dashboard there
            kinds |= {("monitoring.coreos.com", "PrometheusRule"), ("", "ConfigMap")}
            if w.metrics is not None:
                kinds.add(("monitoring.coreos.com", w.metrics.monitor))
    if env.monitoring is not None and platform.workloads_in(env.name):
        kinds.add(("monitoring.coreos.com", "AlertmanagerConfig"))
    # The broker's and the object store's PodMonitors and rules (targets/kustomize/monitoring.py).
    if env.monitoring is not None and (platform.queues or platform.buckets) and "infra" in env.namespaces:
        kinds |= {("monitoring.coreos.com", "PodMonitor"), ("monitoring.coreos.com", "PrometheusRule")}
    if observability.charts(platform, env):  # the Pushgateway's ServiceMonitor
        kinds.add(("monitoring.coreos.com", "ServiceMonitor"))
    if env.edge is not None and env.edge.create_gateway and any(w.placement(env.name).route
                                                                        for w in platform.workloads_in(env.name)):
        kinds.add(("gateway.networking.k8s.io", "Gateway"))
    return kinds


def edge_kinds(w: Workload, env: Environment) -> set[GroupKind]:
    """The kinds that serve a workload publicly (Gateway API or Ingress, cert-manager) and enforce
    its egress to hostnames (Cilium) in `env`."""
    kinds: set[GroupKind] = set()
    route = w.placement(env.name).route
    if route is not None and env.edge is not None:
        kinds.add(("gateway.networking.k8s.io", "HTTPRoute") if env.edge.api == "gateway"
                  else ("networking.k8s.io", "Ingress"))
        if route.certificate_secret is not None:
            kinds.add(("cert-manager.io", "Certificate"))
    if env.network.fqdn_policies and any(e.host for e in w.egress):
        kinds.add(("cilium.io", "CiliumNetworkPolicy"))
    return kinds


def namespaced_kinds(platform: Platform, env: Environment) -> list[GroupKind]:
    kinds = workload_kinds(platform, env)
    for chart in (*infra_charts(platform), *operators.operator_charts(platform, env),
                  *observability.charts(platform, env)):
        kinds |= set(chart.kinds)
    if platform.databases:
        kinds.add(("postgresql.cnpg.io", "Cluster"))
    if any(db.size(env.name).backup is not None for db in platform.databases):
        kinds.add(("postgresql.cnpg.io", "ScheduledBackup"))
    if any(w.store_secrets for w in platform.workloads):
        kinds.add(("external-secrets.io", "ExternalSecret"))
    return sorted(kinds)


def cluster_kinds(platform: Platform, env: Environment) -> list[GroupKind]:
    """The Kyverno policy kinds, and what the infrastructure charts, the operators and the secret store
    install that is cluster-scoped (CRDs, webhooks, ClusterRoles)."""
    kinds: set[GroupKind] = set(POLICY_KINDS[platform.guardrails.policy_kind])
    if copies_pull_secret(platform):
        kinds.add(PULL_SECRET_POLICY_KIND[platform.guardrails.policy_kind])
    for chart in (*infra_charts(platform), *operators.operator_charts(platform, env)):
        kinds |= set(chart.cluster_kinds)
    if platform.previews is not None and platform.previews.cluster_wide_operator(env.name):
        kinds |= set(charts.CLUSTER_WIDE_KINDS)  # its ClusterRole bound cluster-wide
    if env.secret_store is not None:
        kinds.add(("external-secrets.io", "ClusterSecretStore"))
    return sorted(kinds)


def source_repos(platform: Platform, env: Environment) -> list[str]:
    charts_used = (*infra_charts(platform), *operators.operator_charts(platform, env),
                   *observability.charts(platform, env))
    return sorted({platform.gitops_repo} | {c.source_repo for c in charts_used})


def environment_project(platform: Platform, env: Environment) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": metadata(platform, project_name(platform, env), WAVE_PROJECT, finalizer=False),
        "spec": {
            "description": f"{platform.name} in {env.name}: workloads, shared infrastructure and policies",
            "sourceRepos": source_repos(platform, env),
            "destinations": [{"server": IN_CLUSTER, "namespace": ns} for ns in sorted(env.namespaces.values())],
            # Without namespaces there are no policies to deliver (see environment_files).
            "clusterResourceWhitelist": group_kinds(cluster_kinds(platform, env)) if env.namespaces else [],
            "namespaceResourceWhitelist": group_kinds(namespaced_kinds(platform, env)),
            "orphanedResources": {"warn": True, "ignore": [dict(o) for o in ORPHANS_OWNED_ELSEWHERE]},
            **team_roles(platform, env),
        },
    }


def team_roles(platform: Platform, env: Environment) -> dict[str, Any]:
    """One role per team with a GitHub owner: it may see and sync its own applications, nothing else.
    Argo CD's GitHub SSO maps the team (`@org/team`) to the group `org:team`."""
    project = project_name(platform, env)
    roles = []
    for team in platform.teams:
        apps = [names.argocd_application(platform.name, env.name, w.name) for w in platform.workloads_in(env.name)
                if w.team == team.name]
        if team.github is None or not apps:
            continue
        role = names.team_role(team.name)
        roles.append({
            "name": role,
            "description": f"team {team.name}: see and sync its own applications in {env.name}",
            "groups": [names.sso_group(team.github)],
            "policies": [f"p, proj:{project}:{role}, applications, {action}, {project}/{app}, allow"
                         for app in apps for action in ("get", "sync")],
        })
    return {"roles": roles} if roles else {}


def cluster_project_name(platform: Platform, env: Environment) -> str:
    return role_name(platform, env, "cluster")


def cluster_project(platform: Platform, env: Environment) -> dict[str, Any]:
    """The project of cluster infrastructure (KEDA): its chart repository only, its own namespace and
    the namespaces its chart binds into, and the cluster-scoped kinds it renders. Kept apart so that
    the workloads' project never allows CRDs, webhooks or ClusterRoles."""
    chart = charts.KEDA
    assert chart.namespace is not None
    namespaces = sorted({chart.namespace, *charts.KEDA_EXTRA_NAMESPACES})
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": metadata(platform, cluster_project_name(platform, env), WAVE_PROJECT, finalizer=False),
        "spec": {
            "description": f"{platform.name} in {env.name}: cluster infrastructure (KEDA)",
            "sourceRepos": [chart.source_repo],
            "destinations": [{"server": IN_CLUSTER, "namespace": ns} for ns in namespaces],
            "clusterResourceWhitelist": group_kinds(sorted(chart.cluster_kinds)),
            "namespaceResourceWhitelist": group_kinds(sorted(chart.kinds)),
        },
    }


# kube-prometheus-stack's CRDs must exist before the platform overlay (wave -2) syncs gpc's monitors
# and rules: its project and Application come first.
WAVE_MONITORING_PROJECT = -4
WAVE_MONITORING = -3


def monitoring_project_name(platform: Platform, env: Environment) -> str:
    return role_name(platform, env, "monitoring")


def monitoring_project(platform: Platform, env: Environment) -> dict[str, Any] | None:
    """The project of the monitoring stack gpc installs (`monitoring.install`): its chart repository,
    its namespace, and the CRDs and cluster roles it renders. Apart from the workloads' project for
    the same reason as KEDA's."""
    chart = observability.stack(env)
    if chart is None:
        return None
    assert chart.namespace is not None
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": metadata(platform, monitoring_project_name(platform, env), WAVE_MONITORING_PROJECT,
                             finalizer=False),
        "spec": {
            "description": f"{platform.name} in {env.name}: the monitoring stack (kube-prometheus-stack)",
            "sourceRepos": [chart.source_repo],
            "destinations": [{"server": IN_CLUSTER, "namespace": chart.namespace}],
            "clusterResourceWhitelist": group_kinds(sorted(chart.cluster_kinds)),
            "namespaceResourceWhitelist": group_kinds(sorted(chart.kinds)),
        },
    }
