"""The argocd target: structure, cross-references, delivery policy and hostile input, for every spec."""

from __future__ import annotations

import fnmatch
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import all_spec_files, load_ir, spec_id
from test_argocd_schema import KNOWN_SYNC_OPTIONS, errors

from compiler import names
from compiler.guardrails import POLICY_KINDS, PULL_SECRET_POLICY_KIND, copies_pull_secret
from compiler.ir import Environment, Platform
from compiler.target import Artifact
from targets import load_target
from targets.argocd import TARGET, charts, observability, operators
from targets.argocd.common import ARGOCD_NAMESPACE, FINALIZER, IN_CLUSTER, SYNC_WAVE

PARAM = re.compile(r"^\{\{ \.([A-Za-z][A-Za-z0-9]*) \}\}$")
EXACT_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@dataclass
class EnvObjects:
    env: Environment
    files: dict[str, list[dict[str, Any]]]  # file name -> documents
    generated: list[dict[str, Any]] = field(default_factory=list)  # Applications the ApplicationSets make

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for docs in self.files.values() for d in docs if d["kind"] == kind]

    @property
    def applications(self) -> list[dict[str, Any]]:
        return self.of_kind("Application") + self.generated

    @property
    def projects(self) -> dict[str, dict[str, Any]]:
        return {p["metadata"]["name"]: p for p in self.of_kind("AppProject")}


@dataclass
class Compiled:
    platform: Platform
    artifacts: list[Artifact]
    envs: dict[str, EnvObjects]


def expand(template: Any, element: dict[str, str]) -> Any:
    """What Argo CD makes of a gpc template: `{{ .key }}` strings replaced, every other string literal."""
    if isinstance(template, dict):
        return {k: expand(v, element) for k, v in template.items()}
    if isinstance(template, list):
        return [expand(v, element) for v in template]
    if isinstance(template, str):
        match = PARAM.match(template)
        if match:
            assert match[1] in element, f"template uses .{match[1]}, missing from element {element}"
            return element[match[1]]
        assert "{{" not in template and "}}" not in template, f"template string is not a plain param: {template!r}"
    return template


def compile_platform(platform: Platform) -> Compiled:
    artifacts = TARGET.render(platform)
    envs: dict[str, EnvObjects] = {}
    for env in platform.environments:
        prefix = names.argocd_dir(env.name) + "/"
        # The previews' project and pull-request ApplicationSets have rules of their own (a project of
        # `pr-*` namespaces, a generator that is not a list): tests/test_preview_lifecycle.py.
        files = {a.path.removeprefix(prefix): list(yaml.safe_load_all(a.text))
                 for a in artifacts if a.path.startswith(prefix) and not a.path.endswith("/previews.yaml")}
        objects = EnvObjects(env, files)
        for appset in objects.of_kind("ApplicationSet"):
            for generator in appset["spec"]["generators"]:
                if "list" not in generator:
                    continue  # previews' pull-request generator: tests/test_preview_lifecycle.py
                for element in generator["list"]["elements"]:
                    app = expand(appset["spec"]["template"], element)
                    app["metadata"]["namespace"] = appset["metadata"]["namespace"]
                    objects.generated.append({"apiVersion": appset["apiVersion"], "kind": "Application", **app})
        envs[env.name] = objects
    return Compiled(platform, artifacts, envs)


@pytest.fixture(scope="module", params=all_spec_files(), ids=spec_id)
def compiled(request: pytest.FixtureRequest) -> Compiled:
    return compile_platform(load_ir(request.param))


def rel(platform: Platform, path: str) -> str:
    """A repository path of the GitOps repo back to a path of the compiled tree."""
    prefix = platform.gitops_path + "/" if platform.gitops_path else ""
    assert path.startswith(prefix), f"{path!r} is outside the compiled tree {prefix!r}"
    return path.removeprefix(prefix)


def all_sync_policies(objects: EnvObjects) -> list[dict[str, Any]]:
    return [a["spec"]["syncPolicy"] for a in objects.applications]


# -- structure --------------------------------------------------------------------------------------


def test_every_document_matches_the_schema(compiled: Compiled) -> None:
    for objects in compiled.envs.values():
        for file, documents in objects.files.items():
            for doc in documents:
                assert errors(doc) == [], f"{objects.env.name}/{file}: {errors(doc)}"
        for app in objects.generated:
            assert errors(app) == [], f"generated {app['metadata']['name']}: {errors(app)}"


def test_files_are_generated_yaml_under_each_environment(compiled: Compiled) -> None:
    platform = compiled.platform
    expected_dirs = {names.argocd_dir(e.name) for e in platform.environments}
    for artifact in compiled.artifacts:
        assert artifact.owner == "gpc"
        assert artifact.text.endswith("\n") and "\r" not in artifact.text
        assert platform.spec_file in artifact.text.splitlines()[0]
        if artifact.path.endswith(".yaml"):
            assert artifact.path.rsplit("/", 1)[0] in expected_dirs, artifact.path
            assert artifact.text.startswith("# Generated by gpc from ")
    paths = [a.path for a in compiled.artifacts]
    assert len(paths) == len(set(paths)), "duplicate artifact paths"


def test_everything_is_in_argo_cds_namespace_and_delivers_in_cluster(compiled: Compiled) -> None:
    for objects in compiled.envs.values():
        for docs in objects.files.values():
            assert all(d["metadata"]["namespace"] == ARGOCD_NAMESPACE for d in docs)
        for app in objects.applications:
            assert app["spec"]["destination"]["server"] == IN_CLUSTER


def test_sync_options_are_known_and_never_create_namespaces(compiled: Compiled) -> None:
    for objects in compiled.envs.values():
        for policy in all_sync_policies(objects):
            options = policy["syncOptions"]
            assert set(options) <= set(KNOWN_SYNC_OPTIONS)
            assert "CreateNamespace=true" not in options, "Terraform owns the namespaces"
            assert {"PruneLast=true", "ServerSideApply=true"} <= set(options)


def test_only_workload_delivery_follows_auto_sync(compiled: Compiled) -> None:
    for objects in compiled.envs.values():
        platform_layers = objects.of_kind("Application")
        assert platform_layers
        for app in platform_layers:
            assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}, app["metadata"]
        for app in objects.generated:
            policy = app["spec"]["syncPolicy"]
            if objects.env.auto_sync:
                assert policy["automated"] == {"prune": True, "selfHeal": True}
            else:
                assert "automated" not in policy, f"{objects.env.name} syncs its workloads manually"


def test_failed_syncs_retry_with_exponential_backoff(compiled: Compiled) -> None:
    for objects in compiled.envs.values():
        for policy in all_sync_policies(objects):
            retry = policy["retry"]
            assert retry["limit"] >= 3
            assert retry["backoff"]["factor"] >= 2
            assert re.fullmatch(r"[0-9]+[sm]", retry["backoff"]["duration"])
            assert re.fullmatch(r"[0-9]+[sm]", retry["backoff"]["maxDuration"])


def test_deleting_an_application_deletes_what_it_deployed(compiled: Compiled) -> None:
    for objects in compiled.envs.values():
        for app in objects.applications:
            assert app["metadata"]["finalizers"] == [FINALIZER], app["metadata"]["name"]


def test_sync_waves_put_infrastructure_before_workloads(compiled: Compiled) -> None:
    for objects in compiled.envs.values():
        waves = {file: int(docs[0]["metadata"]["annotations"][SYNC_WAVE])
                 for file, docs in objects.files.items() if file != "root.yaml"}
        infra = [waves[f"{c.role}.yaml"] for c in (charts.OBJECT_STORE, charts.BROKER, charts.KEDA) if f"{c.role}.yaml" in waves]
        workloads = [waves[f] for f in ("services.yaml", "jobs.yaml") if f in waves]
        platform_level = [waves["policies.yaml"], waves["platform-overlay.yaml"]]
        assert workloads
        assert waves["project.yaml"] < min(platform_level)
        assert max(platform_level) < min(infra + workloads)
        assert max(infra + platform_level) < min(workloads)


# -- cross-references ------------------------------------------------------------------------------


def test_projects_allow_exactly_what_their_applications_use(compiled: Compiled) -> None:
    platform = compiled.platform
    for objects in compiled.envs.values():
        projects = objects.projects
        used_repos: dict[str, set[str]] = {name: set() for name in projects}
        used_namespaces: dict[str, set[str]] = {name: set() for name in projects}
        for app in objects.applications:  # ApplicationSet templates: through the Applications they make
            spec = app["spec"]
            project = projects.get(spec["project"])
            assert project is not None, f"{app['metadata']['name']}: unknown project {spec['project']}"
            destinations = project["spec"]["destinations"]
            assert any(fnmatch.fnmatchcase(spec["destination"]["server"], d["server"])
                       and fnmatch.fnmatchcase(spec["destination"]["namespace"], d["namespace"])
                       for d in destinations), f"{app['metadata']['name']}: destination not allowed"
            assert any(fnmatch.fnmatchcase(spec["source"]["repoURL"], r) for r in project["spec"]["sourceRepos"])
            used_repos[spec["project"]].add(spec["source"]["repoURL"])
            used_namespaces[spec["project"]].add(spec["destination"]["namespace"])
        for name, project in projects.items():
            assert set(project["spec"]["sourceRepos"]) == used_repos[name], f"{name} allows unused repos"
        env_project = projects[f"{platform.name}-{objects.env.name}"]
        assert {d["namespace"] for d in env_project["spec"]["destinations"]} == set(objects.env.namespaces.values())
        assert used_namespaces[env_project["metadata"]["name"]] <= set(objects.env.namespaces.values())


def test_only_kyverno_policies_are_cluster_scoped(compiled: Compiled) -> None:
    """... and, with databases, what the CloudNativePG chart must install cluster-wide (its CRDs,
    webhooks and ClusterRoles): nothing else, and never a ClusterRoleBinding."""
    operator = list(charts.DATABASE_OPERATOR.cluster_kinds) if compiled.platform.databases else []
    assert ("rbac.authorization.k8s.io", "ClusterRoleBinding") not in operator
    for objects in compiled.envs.values():
        for name, project in objects.projects.items():
            whitelist = project["spec"]["clusterResourceWhitelist"]
            if name == names.argocd_root_application(compiled.platform.name, objects.env.name):
                assert whitelist == []
                assert {k["group"] for k in project["spec"]["namespaceResourceWhitelist"]} == {"argoproj.io"}
                assert [d["namespace"] for d in project["spec"]["destinations"]] == [ARGOCD_NAMESPACE]
            elif name.endswith(".cluster"):
                # KEDA's own project: its chart's cluster-wide objects, its chart repository only.
                assert compiled.platform.scales_on_queues(objects.env.name)
                assert whitelist == [{"group": g, "kind": k} for g, k in sorted(charts.KEDA.cluster_kinds)]
                assert project["spec"]["sourceRepos"] == [charts.KEDA.source_repo]
                apps = [a for a in objects.of_kind("Application") if a["spec"]["project"] == name]
                assert [a["spec"]["source"].get("chart") for a in apps] == [charts.KEDA.chart]
            elif name.endswith(".monitoring"):
                # The monitoring stack's own project (`install: true`): its CRDs and cluster roles,
                # its chart repository, its namespace only.
                stack = observability.stack(objects.env)
                assert stack is not None and stack.namespace is not None
                assert whitelist == [{"group": g, "kind": k} for g, k in sorted(stack.cluster_kinds)]
                assert project["spec"]["sourceRepos"] == [stack.source_repo]
                assert [d["namespace"] for d in project["spec"]["destinations"]] == [stack.namespace]
                apps = [a for a in objects.of_kind("Application") if a["spec"]["project"] == name]
                assert [a["spec"]["source"].get("chart") for a in apps] == [stack.chart]
            elif objects.env.namespaces:
                # Beyond the policies: the charts' and operators' CRDs, webhooks and ClusterRoles, the store.
                operators = compiled.platform.operators(objects.env)
                extra = set(operator)
                if operators:
                    extra |= {("rbac.authorization.k8s.io", "ClusterRole"),
                              ("rbac.authorization.k8s.io", "ClusterRoleBinding")}
                if names.EXTERNAL_SECRETS in operators:
                    extra.add(("apiextensions.k8s.io", "CustomResourceDefinition"))
                if objects.env.secret_store is not None:
                    extra.add(("external-secrets.io", "ClusterSecretStore"))
                if copies_pull_secret(compiled.platform):  # kyverno/preview-pull-secret.yaml
                    extra.add(PULL_SECRET_POLICY_KIND[compiled.platform.guardrails.policy_kind])
                expected = set(POLICY_KINDS[compiled.platform.guardrails.policy_kind]) | extra
                assert whitelist == [{"group": g, "kind": k} for g, k in sorted(expected)]
                assert project["spec"]["orphanedResources"]["warn"] is True


def test_the_root_application_is_bootstrapped_and_never_manages_itself(compiled: Compiled) -> None:
    platform = compiled.platform
    for objects in compiled.envs.values():
        env = objects.env
        bootstrap, root = objects.files["root.yaml"]
        assert bootstrap["kind"] == "AppProject" and root["kind"] == "Application"
        assert root["metadata"]["name"] == names.argocd_root_application(platform.name, env.name)
        assert root["spec"]["project"] == bootstrap["metadata"]["name"]
        assert rel(platform, root["spec"]["source"]["path"]) == names.argocd_dir(env.name)
        assert root["spec"]["source"]["repoURL"] == platform.gitops_repo
        assert root["spec"]["source"]["targetRevision"] == platform.gitops_branch
        directory = root["spec"]["source"]["directory"]
        assert directory["recurse"] is False
        synced = [f for f in objects.files if not fnmatch.fnmatchcase(f, directory["exclude"])]
        assert sorted(synced) == sorted(set(objects.files) - {"root.yaml"})
        allowed = {(k["group"], k["kind"]) for k in bootstrap["spec"]["namespaceResourceWhitelist"]}
        for file in synced:
            for doc in objects.files[file]:
                assert doc["metadata"]["name"] not in (root["metadata"]["name"], bootstrap["metadata"]["name"])
                assert ("argoproj.io", doc["kind"]) in allowed, f"the root application may not sync {doc['kind']}"


def test_applicationsets_name_every_workload_overlay_once(compiled: Compiled) -> None:
    platform = compiled.platform
    for objects in compiled.envs.values():
        env = objects.env
        generated = Counter(rel(platform, a["spec"]["source"]["path"]) for a in objects.generated)
        expected = Counter(names.overlay_dir(w.name, env.name) for w in platform.workloads_in(env.name))
        assert generated == expected
        for app in objects.generated:
            workload = platform.workload(app["metadata"]["labels"]["app.kubernetes.io/name"])
            assert app["metadata"]["name"] == names.argocd_application(platform.name, env.name, workload.name)
            assert app["spec"]["destination"]["namespace"] == workload.placement(env.name).namespace
            assert app["spec"]["source"]["repoURL"] == platform.gitops_repo
            assert app["spec"]["source"]["targetRevision"] == platform.gitops_branch
        by_name = Counter(a["metadata"]["name"] for a in objects.applications)
        assert max(by_name.values()) == 1, f"duplicate Application names: {by_name}"


def test_platform_overlay_and_policies_point_at_their_folders(compiled: Compiled) -> None:
    platform = compiled.platform
    for objects in compiled.envs.values():
        overlay = objects.files["platform-overlay.yaml"][0]["spec"]["source"]
        assert rel(platform, overlay["path"]) == names.platform_overlay_dir(objects.env.name)
        policies = objects.files["policies.yaml"][0]["spec"]["source"]
        assert rel(platform, policies["path"]) == names.KYVERNO_DIR





def test_every_kustomize_overlay_is_delivered_by_exactly_one_application(compiled: Compiled) -> None:
    kustomize = load_target("kustomize")
    platform = compiled.platform
    written = {a.path for a in kustomize.render(platform)}
    overlay = re.compile(r"^(kustomize/[^/]+/(?:overlays|secret-store)/([^/]+))/kustomization\.yaml$")
    for objects in compiled.envs.values():
        env = objects.env
        overlays = {m[1] for p in written if (m := overlay.match(p)) and m[2] == env.name}
        delivered = Counter(rel(platform, a["spec"]["source"]["path"]) for a in objects.applications
                            if a["spec"]["source"]["repoURL"] == platform.gitops_repo
                            and rel(platform, a["spec"]["source"]["path"]).startswith("kustomize/"))
        for path in delivered:
            assert f"{path}/kustomization.yaml" in written, f"{path} is not an overlay the kustomize target writes"
        assert set(delivered) == overlays
        assert set(delivered.values()) == {1}


def test_the_policies_folder_is_a_kustomization_the_kyverno_target_writes(compiled: Compiled) -> None:
    kyverno = load_target("kyverno")
    written = {a.path for a in kyverno.render(compiled.platform)}
    assert f"{names.KYVERNO_DIR}/kustomization.yaml" in written


def test_namespaced_whitelist_is_exactly_the_kinds_delivered(compiled: Compiled, tmp_path: Path) -> None:
    from conftest import require_tool

    kustomize = load_target("kustomize")
    kubectl = require_tool("kubectl")
    platform = compiled.platform
    for artifact in kustomize.render(platform):
        target = tmp_path / artifact.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(artifact.text, "utf-8")
    for objects in compiled.envs.values():
        built: set[tuple[str, str]] = set()
        cluster_built: set[tuple[str, str]] = set()
        for app in objects.applications:
            source = app["spec"]["source"]
            if source["repoURL"] != platform.gitops_repo or not rel(platform, source["path"]).startswith("kustomize/"):
                continue
            out = subprocess.run([kubectl, "kustomize", str(tmp_path / rel(platform, source["path"]))],
                                 capture_output=True, text=True, check=True).stdout
            for doc in yaml.safe_load_all(out):
                if doc:
                    group = doc["apiVersion"].rpartition("/")[0]
                    # Every namespaced object gpc delivers names its namespace (the overlays set it).
                    (built if "namespace" in doc["metadata"] else cluster_built).add((group, doc["kind"]))
        # A scaled workload that awaits its first image has its autoscaler deleted until CI's first
        # delivery (targets/kustomize/scaling.py); that delivery brings it, so it must be allowed.
        built |= {("autoscaling", "HorizontalPodAutoscaler") if p.autoscale.queue is None
                  else ("keda.sh", "ScaledObject")
                  for w in platform.workloads if w.awaits_delivery
                  for p in w.placements if p.autoscale is not None and p.env == objects.env.name}
        project = objects.projects[f"{platform.name}-{objects.env.name}"]["spec"]
        whitelist = {(k["group"], k["kind"]) for k in project["namespaceResourceWhitelist"]}
        every_chart = (charts.OBJECT_STORE, charts.BROKER, charts.DATABASE_OPERATOR, *operators.CHARTS.values())
        chart_kinds = {k for c in every_chart if f"{c.role}.yaml" in objects.files for k in c.kinds}
        # A migrating owner's Job appears with its first image (the image component drops it until then).
        if any(w.awaits_delivery and w.database is not None and w.database.migrate for w in platform.workloads):
            chart_kinds.add(("batch", "Job"))
        cluster_whitelist = {(k["group"], k["kind"]) for k in project["clusterResourceWhitelist"]}
        assert cluster_built <= cluster_whitelist, f"delivered but not allowed: {cluster_built - cluster_whitelist}"
        assert built <= whitelist, f"delivered but not allowed: {built - whitelist}"
        assert whitelist <= built | chart_kinds, f"allowed but never delivered: {whitelist - built - chart_kinds}"


# -- shared infrastructure -------------------------------------------------------------------------


def walk(node: Any, key: str = "") -> list[tuple[str, Any]]:
    found = [(key, node)]
    if isinstance(node, dict):
        for k, v in node.items():
            found += walk(v, k)
    elif isinstance(node, list):
        for v in node:
            found += walk(v, key)
    return found


INFRA = {
    charts.OBJECT_STORE.role: (names.OBJECT_STORE_SERVICE, ("service", "port"), names.OBJECT_STORE_PORT,
                               {"existingSecret": names.OBJECT_STORE_ROOT_SECRET,
                                "existingSecretUserKey": names.OBJECT_STORE_ROOT_USER_KEY,
                                "existingSecretPasswordKey": names.OBJECT_STORE_ROOT_PASSWORD_KEY}),
    charts.BROKER.role: (names.BROKER_SERVICE, ("service", "amqpPort"), names.BROKER_PORT,
                         {"existingSecret": names.BROKER_ADMIN_SECRET, "username": names.BROKER_ADMIN_USER,
                          "existingPasswordKey": names.BROKER_ADMIN_PASSWORD_KEY,
                          "existingErlangCookieKey": names.BROKER_ERLANG_COOKIE_KEY}),
}


def test_shared_infrastructure_exists_exactly_when_the_spec_needs_it(compiled: Compiled) -> None:
    platform = compiled.platform
    for objects in compiled.envs.values():
        assert ("object-store.yaml" in objects.files) == bool(platform.buckets)
        assert ("broker.yaml" in objects.files) == bool(platform.queues)


def test_infrastructure_charts_are_pinned_and_hardened(compiled: Compiled) -> None:
    for objects in compiled.envs.values():
        for role, (service, port_path, port, auth) in INFRA.items():
            if f"{role}.yaml" not in objects.files:
                continue
            app = objects.files[f"{role}.yaml"][0]
            source = app["spec"]["source"]
            assert source["repoURL"].startswith("oci://") and source["path"] == "."
            assert EXACT_VERSION.match(source["targetRevision"]), f"chart version is not exact: {source}"
            assert app["spec"]["destination"]["namespace"] == objects.env.infra_namespace
            values = source["helm"]["valuesObject"]
            assert values["fullnameOverride"] == service == source["helm"]["releaseName"]
            assert values[port_path[0]][port_path[1]] == port
            assert {k: values["auth"][k] for k in auth} == auth
            assert values["persistence"]["enabled"] is True
            assert values["livenessProbe"]["enabled"] and values["readinessProbe"]["enabled"]
            assert values["serviceAccount"]["automountServiceAccountToken"] is False
            pod, container = values["podSecurityContext"], values["containerSecurityContext"]
            assert pod["runAsNonRoot"] and container["runAsNonRoot"] and container["runAsUser"] > 0
            assert container["readOnlyRootFilesystem"] is True
            assert container["allowPrivilegeEscalation"] is False
            assert container["capabilities"] == {"drop": ["ALL"]}
            assert pod["seccompProfile"] == container["seccompProfile"] == {"type": "RuntimeDefault"}
            resources = [v for k, v in walk(values) if k == "resources"]
            assert resources and all(r["requests"] == r["limits"] for r in resources)
            tags = [v["tag"] for k, v in walk(values) if k == "image"]
            assert tags and all(DIGEST.search(t) for t in tags), tags
            inline = {"password", "rootPassword", "rootUser", "erlangCookie"} & {k for k, _ in walk(values)}
            assert not inline, f"credentials come from Terraform's Secrets, never inline: {inline}"


def test_template_parameters_are_in_every_element(compiled: Compiled) -> None:
    for objects in compiled.envs.values():
        for appset in objects.of_kind("ApplicationSet"):
            assert appset["spec"]["goTemplate"] is True
            assert appset["spec"]["goTemplateOptions"] == ["missingkey=error"]
            used = {m[1] for _, v in walk(appset["spec"]["template"]) if isinstance(v, str) and (m := PARAM.match(v))}
            for element in appset["spec"]["generators"][0]["list"]["elements"]:
                assert used <= set(element), f"missing {used - set(element)}"
                assert all(isinstance(v, str) for v in element.values())
