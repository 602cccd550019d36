"""The kustomize target: one base per workload, one overlay per workload and environment, and one
platform overlay per environment with its namespace-wide NetworkPolicies.

Layout (relative to out/<spec>/):

    kustomize/<workload>/base/                 what every environment and every preview starts from
    kustomize/<workload>/components/shared/    a Component: what every environment's overlay renders alike
    kustomize/<workload>/components/<e1>+<e2>/ a Component: what only those environments render alike
    kustomize/<workload>/overlays/<env>/       namespace, the Components above, what differs here (Argo CD
                                               builds this; targets/kustomize/shared.py)
    kustomize/<workload>/overlays/<env>/image/ the image tag: a Component CI owns (gpc writes it once)
    kustomize/_platform/overlays/<env>/        default deny per namespace, DNS and ingress for the infra pods,
                                               the operators' egress, the Gateway when the environment has gpc
                                               create it
    kustomize/_platform/secret-store/<env>/    the environment's ClusterSecretStore (targets/kustomize/secrets.py)

What the overlays reference but do not create: the namespaces, each workload's ServiceAccount,
its Secrets and the PersistentVolumeClaims are Terraform's (names.py names them for both
targets), so every object has exactly one owner.

Image tags. Base containers name the image without a tag; each overlay lists the `image`
Component, whose `images:` entry sets the tag. gpc creates that file once (Artifact owner "ci")
and never rewrites it, so regenerating `out/` or `gpc compile --check` never reverts what CI set.

Day one. gpc never invents a tag. When the spec names an existing `image_tag`, the Component
starts with it. Otherwise it starts with `names.BOOTSTRAP_TAG` and a patch that scales the
Deployment to zero or suspends the Job/CronJob, annotated `names.AWAITING_DELIVERY`, so nothing
pulls an image no registry has. CI's deliver and promote steps rewrite the whole Component (an
`images:` entry only), which drops the patch: the first delivery to an environment is what brings
the workload up there. An overlay's own `replicas` override would run after the Component and
undo its zero, so it selects only Deployments without the annotation.

Jobs re-deploy. A Job's `spec.template` is immutable, so a new image cannot be applied to an
existing Job. One-off Jobs carry the Argo CD resource annotation
`argocd.argoproj.io/sync-options: Force=true,Replace=true`: when a sync changes the Job, Argo CD
deletes and re-creates it, which starts a new run, with no one deleting the old Job by hand.
`Replace=true` alone is not enough (a replace is a PUT and is refused for the template). A name
derived from the image was rejected: the tag lives in the CI-owned Component, which only sets
`images:`, and a renamed Job would leave its predecessor for the prune. For the same reason
one-off Jobs get no `ttlSecondsAfterFinished`: once Kubernetes garbage-collected the finished
Job, Argo CD would see it missing and self-heal would run it again; the finished Job stays until
the next change replaces it. CronJobs need none of this: their `jobTemplate` is mutable, the next
run uses the new image, and the Jobs they spawn are not in Git; their history limits keep the last
successful and failed runs (a `ttlSecondsAfterFinished`, only when the spec sets
`ttl_after_finished`, would delete failed runs and their logs too).

Deadlines. The spec's `timeout` is per attempt: it is the pod's `activeDeadlineSeconds`. The
Job's own `activeDeadlineSeconds` bounds all attempts together (`compiler.lower.job_deadline`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from compiler import names
from compiler.diagnostics import Diagnostic
from compiler.ir import Platform, Workload
from compiler.target import Artifact, whole
from compiler.yamlout import dump, dump_all, flat
from targets.kustomize import (
    base,
    databases,
    edge,
    graph,
    layers,
    meta,
    monitoring,
    network,
    overlay,
    preview,
    secrets,
    shared,
)


class KustomizeTarget:
    name = "kustomize"
    description = "Kustomize bases and per-environment overlays for every workload, NetworkPolicies"

    def __init__(self, *, share: bool = True) -> None:
        # share=False keeps every overlay whole (no Components for what environments share):
        # the layout the shared one must build identically to (tests/test_kustomize_shared.py).
        self.share = share

    def check(self, platform: Platform) -> list[Diagnostic]:
        problems = []
        for env in platform.environments:
            gateway = edge.gateway(platform, env)
            count = len(gateway["spec"]["listeners"]) if gateway is not None else 0
            if count > edge.MAX_LISTENERS:
                problems.append(Diagnostic(
                    "GPC383", f"the gateway gpc creates in environment '{env.name}' needs {count} listeners (one "
                    f"for HTTP, one per TLS hostname); a Gateway has at most {edge.MAX_LISTENERS}",
                    platform.spec_file, platform.position((*env.path, "exposure", "gateway")),
                    hint="serve fewer hostnames over TLS there, or name an existing Gateway whose listeners use a "
                    "wildcard certificate"))
        return problems

    def render(self, platform: Platform) -> list[Artifact]:
        return whole(self.render_parts(platform))

    def render_parts(self, platform: Platform) -> Iterator[list[Artifact]]:
        lookups = graph.build(platform)
        for workload in platform.workloads:
            yield self._workload(platform, lookups, workload)
        # An environment's policies and alert rules: ~100 MB at N=5000 while rendered. Yielded
        # without a local name, so one environment's part is not alive while the next renders.
        for env in platform.environments:
            yield self._platform_overlay(platform, env.name) + (
                self._databases(platform, env.name) if platform.databases and "infra" in env.namespaces else [])
        yield preview.artifacts(platform)

    def _workload(self, platform: Platform, lookups: graph.Graph, workload: Workload) -> list[Artifact]:
        spec_file = platform.spec_file
        folder = meta.base_dir(workload.name)
        workload_layers = layers.of(workload)
        objects = base.objects(platform, lookups, workload, workload_layers.values)
        out = [Artifact(f"{folder}/{name}", dump(obj, spec_file)) for name, obj in objects.items()]
        out.append(Artifact(f"{folder}/kustomization.yaml", dump(_kustomization(list(objects)), spec_file)))
        # Switched off in an environment: no overlay there, so no Application and no image file either.
        envs = [env for env in platform.environments if workload.enabled_in(env.name)]
        overlays = {env.name: overlay.files(platform, lookups, workload, env, workload_layers) for env in envs}
        folders = {names.overlay_dir(workload.name, env): files for env, files in overlays.items()}
        if self.share:
            folders, components = shared.factor(workload.name, overlays)
            folders |= components
        for here, files in folders.items():
            out += [Artifact(f"{here}/{name}", dump(content, spec_file)) for name, content in files.items()]
        for env in envs:
            image = _ci_header(platform, workload, env.name) + dump(overlay.image_component(workload))
            component = names.image_component_dir(workload.name, env.name)
            out.append(Artifact(f"{component}/kustomization.yaml", image, owner="ci"))
        return out

    def _platform_overlay(self, platform: Platform, env_name: str) -> list[Artifact]:
        env = platform.environment(env_name)
        here = names.platform_overlay_dir(env_name)
        out = []
        for group, namespace in sorted(env.namespaces.items()):
            docs = [network.default_deny(platform, namespace)]
            if group == "infra":
                docs += network.infra_policies(platform, env) + secrets.operator_policies(platform, env)
                if platform.databases:
                    docs += databases.policies(platform, env)
            out.append(Artifact(f"{here}/{group}.yaml", dump_all(docs, platform.spec_file)))
        observed = monitoring.platform_docs(platform, env)
        if observed:
            out.append(Artifact(f"{here}/monitoring.yaml", dump_all(observed, platform.spec_file)))
        gateway = edge.gateway(platform, env)
        additions = preview.gateway_additions(platform, env_name, gateway)
        if gateway is not None:
            out.append(Artifact(f"{here}/gateway.yaml", dump(gateway, platform.spec_file)))
        out += [Artifact(f"{here}/{name}", dump(obj, platform.spec_file)) for name, obj in additions.items()]
        listing = [posixpath.basename(a.path) for a in out]
        out.append(Artifact(f"{here}/kustomization.yaml", dump(_kustomization(listing), platform.spec_file)))
        if env.secret_store is not None:
            store = names.secret_store_dir(env_name)
            out.append(Artifact(f"{store}/clustersecretstore.yaml",
                                dump(secrets.cluster_secret_store(platform, env), platform.spec_file)))
            out.append(Artifact(f"{store}/kustomization.yaml",
                                dump(_kustomization(["clustersecretstore.yaml"]), platform.spec_file)))
        return out


    def _databases(self, platform: Platform, env_name: str) -> list[Artifact]:
        env = platform.environment(env_name)
        here = names.databases_dir(env_name)
        out = [Artifact(f"{here}/{db.name}.yaml", dump(databases.cluster(platform, env, db), platform.spec_file))
               for db in platform.databases]
        out += [Artifact(f"{here}/{db.name}-backup.yaml",
                         dump(databases.scheduled_backup(platform, env, db), platform.spec_file))
                for db in databases.backed_up(platform, env)]
        listing = sorted(posixpath.basename(a.path) for a in out)
        out.append(Artifact(f"{here}/kustomization.yaml", dump(_kustomization(listing), platform.spec_file)))
        return out


def _kustomization(resources: list[str]) -> dict[str, Any]:
    return {"apiVersion": meta.KUSTOMIZE_API, "kind": "Kustomization", "resources": resources}


def _ci_header(platform: Platform, workload: Workload, env: str) -> str:
    owner = f"the CI of {workload.repo}" if workload.repo else "the workload's CI"
    text = (f"# The image tag of {workload.name} in {env}. Created once by gpc from {flat(platform.spec_file)};\n"
            f"# from then on owned by {owner}, which rewrites this file after every build.\n"
            "# gpc never overwrites it.\n")
    if workload.awaits_delivery:
        text += ("# No image has been delivered yet: until CI writes the first tag (and drops the patch\n"
                 f"# below), {workload.name} stays {'scaled to zero' if workload.kind == 'Deployment' else 'suspended'}"
                 f" in {env}.\n")
    return text


TARGET = KustomizeTarget()
