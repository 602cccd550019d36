"""The `argocd` target: what each environment's Argo CD syncs, under `argocd/<env>/`.

    argocd/README.md                    bootstrap order and what the Argo CD install must provide

    argocd/<env>/root.yaml              bootstrap AppProject + root Application (applied by Terraform)
    argocd/<env>/project.yaml           the environment's AppProject                       wave -3
    argocd/<env>/policies.yaml          Application: Kyverno policies (kyverno/)           wave -2
    argocd/<env>/platform-overlay.yaml  Application: namespace-wide NetworkPolicies        wave -2
    argocd/<env>/external-secrets.yaml  Application: External Secrets Operator chart       wave -2
    argocd/<env>/reloader.yaml          Application: Stakater Reloader chart               wave -2
    argocd/<env>/secret-store.yaml      Application: the environment's ClusterSecretStore  wave -1
    argocd/<env>/object-store.yaml      Application: MinIO chart (when there are buckets)  wave -1
    argocd/<env>/broker.yaml            Application: RabbitMQ chart (when there are queues) wave -1
    argocd/<env>/pushgateway.yaml       Application: Pushgateway chart (monitoring, jobs)  wave -1
    argocd/<env>/monitoring-project.yaml AppProject of the monitoring stack (install: true) wave -4
    argocd/<env>/monitoring.yaml        Application: kube-prometheus-stack (install: true) wave -3
    argocd/<env>/cluster-project.yaml   AppProject of cluster infrastructure (with KEDA)   wave -3
    argocd/<env>/keda.yaml              Application: KEDA chart (a workload scales on a    wave -1
                                        queue's depth), in its own namespace
    argocd/<env>/database-operator.yaml Application: CloudNativePG chart (databases)       wave -2
    argocd/<env>/databases.yaml         Application: one CloudNativePG Cluster per database wave -1
    argocd/<env>/services.yaml          ApplicationSet: one Application per service        wave 0
    argocd/<env>/jobs.yaml              ApplicationSet: one Application per job            wave 0

An environment without namespaces (no workloads, no buckets, no queues) gets only the first two.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler import names, rootapp, yamlout
from compiler.diagnostics import Diagnostic
from compiler.ir import Environment, Platform
from compiler.target import Artifact
from targets.argocd import apps, appsets, observability, operators, preview, project
from targets.argocd.common import ROOT_FILE
from targets.argocd.readme import readme


def environment_files(platform: Platform, env: Environment) -> dict[str, list[dict[str, Any]]]:
    """`{file name: documents}` of `argocd/<env>/`."""
    files: dict[str, list[dict[str, Any]]] = {
        ROOT_FILE: rootapp.root_documents(platform, env),
        "project.yaml": [project.environment_project(platform, env)],
    }
    if not env.namespaces:
        return files  # no workloads and no shared infrastructure: nothing to protect or deliver
    files["policies.yaml"] = [apps.policies(platform, env)]
    files["platform-overlay.yaml"] = [apps.platform_overlay(platform, env)]
    for chart in operators.operator_charts(platform, env):
        files[f"{chart.role}.yaml"] = [apps.operator(platform, env, chart)]
    if env.secret_store is not None:
        files["secret-store.yaml"] = [apps.secret_store(platform, env)]
    for chart in project.infra_charts(platform):
        files[f"{chart.role}.yaml"] = [apps.infrastructure(platform, env, chart)]
    for chart in observability.charts(platform, env):
        files[f"{chart.role}.yaml"] = [apps.monitoring(platform, env, chart)]
    stack = observability.stack(env)
    monitoring_project = project.monitoring_project(platform, env)
    if stack is not None and monitoring_project is not None:
        files["monitoring-project.yaml"] = [monitoring_project]
        files["monitoring.yaml"] = [apps.monitoring_stack(platform, env, stack)]
    if platform.scales_on_queues(env.name):
        files["cluster-project.yaml"] = [project.cluster_project(platform, env)]
        files["keda.yaml"] = [apps.keda(platform, env)]
    if platform.databases:
        files["databases.yaml"] = [apps.databases(platform, env)]
    for group, appset in appsets.application_sets(platform, env).items():
        files[f"{group}.yaml"] = [appset]
    files.update(preview.files(platform, env.name))
    return files


class ArgoCDTarget:
    name = "argocd"
    description = "AppProjects, ApplicationSets, shared-infrastructure Applications and a root app per environment"

    def check(self, platform: Platform) -> list[Diagnostic]:
        return []

    def render(self, platform: Platform) -> list[Artifact]:
        artifacts = [Artifact("argocd/README.md", readme(platform))]
        previews = preview.readme(platform)
        if previews is not None:
            artifacts.append(Artifact("argocd/previews.md", previews))
        for env in platform.environments:
            folder = names.argocd_dir(env.name)
            for file, documents in sorted(environment_files(platform, env).items()):
                artifacts.append(Artifact(f"{folder}/{file}", yamlout.dump_all(documents, platform.spec_file)))
        return artifacts

    def render_parts(self, platform: Platform) -> Iterator[list[Artifact]]:
        yield self.render(platform)  # a few small files (under 20 MB at N=5000): one part


TARGET = ArgoCDTarget()
