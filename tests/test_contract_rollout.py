"""Day-one rollout invariants, over the whole compiled tree of every spec (issue 12).

From `terraform apply` of an empty cluster to a running platform: Argo CD can read the GitOps
repository before the root application exists; the platform layers reach Healthy on their own in
every environment, so the root application's sync waves never wait for a person; only workload
delivery follows `auto_sync`; no Argo CD Application (or `terraform destroy`) can delete stateful
data; every Argo CD object is valid against the CRDs, unknown keys included; and the top-level
README says, in order, what to do, with links that lead somewhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from conftest import compiled_tree
from crd_models import crd_tools, schema_errors, unknown_key_errors
from test_argocd import expand
from test_terraform_support import blocks, call, locals_of, module_texts, parse_module

from compiler import names
from compiler.ir import Platform

ARGO_KINDS = ("Application", "ApplicationSet", "AppProject")
REPOSITORY_LABEL = "argocd.argoproj.io/secret-type"
AUTOMATED = {"prune": True, "selfHeal": True}


def yaml_documents(tree: dict[str, str], prefix: str) -> dict[str, list[dict[str, Any]]]:
    """The objects of the YAML files under `prefix` (not Helm templates, which are not YAML; not
    JSON patches, which are lists)."""
    return {path: [d for d in yaml.safe_load_all(text) if isinstance(d, dict)] for path, text in sorted(tree.items())
            if path.startswith(prefix) and path.endswith((".yaml", ".yml")) and "/templates/" not in path}


def argocd_objects(tree: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """Every Argo CD object gpc emits (argocd/ and the copy Terraform installs), and every
    Application the ApplicationSets make from their templates."""
    found = []
    for path, docs in {**yaml_documents(tree, "argocd/"), **yaml_documents(tree, "terraform/")}.items():
        for doc in docs:
            if doc.get("apiVersion", "").startswith("argoproj.io/"):
                found.append((path, doc))
                if doc["kind"] == "ApplicationSet":
                    for generator in doc["spec"]["generators"]:
                        if "pullRequest" in generator:  # previews: a sample pull request, rendered as Argo CD does
                            from test_preview_lifecycle import generate, pull

                            labels = tuple(generator["pullRequest"]["github"]["labels"])
                            one = {**doc, "spec": {**doc["spec"], "generators": [generator]}}
                            found += [(f"{path} (generated)", app) for app in generate(one, [pull(7, labels=labels)])]
                            continue
                        for element in generator["list"]["elements"]:
                            app = expand(doc["spec"]["template"], element)
                            app["metadata"]["namespace"] = doc["metadata"]["namespace"]
                            found.append((f"{path} (generated)",
                                          {"apiVersion": doc["apiVersion"], "kind": "Application", **app}))
    return found


def module(tree: dict[str, str], env: str, stage: str) -> dict[str, Any]:
    """One environment's root module and the shared modules it calls, parsed and merged."""
    return parse_module(module_texts(tree, env, stage))


def reference(address: str) -> str:
    return "${" + address + "}"


# -- every Argo CD object against the CRDs ---------------------------------------------------------


# The checks themselves (ajv validators + TypeScript's unknown-key check) are tests/crd_models.py's,
# shared with the Gateway API and cert-manager objects (tests/test_contract_edges.py).


def test_every_argocd_object_is_valid_against_the_crds(platform: Platform, tmp_path: Path) -> None:
    node, tsc = crd_tools()
    found = argocd_objects(compiled_tree(platform))
    objects = [o for _, o in found]
    assert {o["kind"] for o in objects} >= {"Application", "AppProject"}
    assert {o["kind"] for o in objects} <= set(ARGO_KINDS)
    assert schema_errors(node, objects) == []
    assert unknown_key_errors(tsc, objects, tmp_path) == []


def test_the_crd_checks_bite(tmp_path: Path) -> None:
    from conftest import SPECS, load_ir

    node, tsc = crd_tools()
    objects = [o for _, o in argocd_objects(compiled_tree(load_ir(SPECS[0])))]
    app = next(o for o in objects if o["kind"] == "Application")
    appset = next(o for o in objects if o["kind"] == "ApplicationSet")
    wrong_type = json.loads(json.dumps(app))
    wrong_type["spec"]["syncPolicy"]["automated"] = {"prune": "yes"}
    missing = json.loads(json.dumps(appset))
    del missing["spec"]["template"]["spec"]["destination"]
    assert len(schema_errors(node, [wrong_type, missing])) == 2
    misspelled = json.loads(json.dumps(app))
    misspelled["spec"]["source"]["targetRevison"] = misspelled["spec"]["source"].pop("targetRevision")
    nested = json.loads(json.dumps(appset))
    nested["spec"]["template"]["spec"]["syncPolicy"]["retry"]["backof"] = {}
    assert schema_errors(node, [misspelled, nested]) == [], "the CRD schemas accept unknown keys"
    errors = unknown_key_errors(tsc, [misspelled, nested], tmp_path)
    assert len(errors) == 2 and "targetRevison" in errors[0] and "backof" in errors[1], errors


# -- Argo CD can read the GitOps repository before the root application exists --------------------


def test_repository_secret_exists_before_the_root_application(platform: Platform) -> None:
    tree = compiled_tree(platform)
    # Charts come from OCI registries or Helm repositories (`chart`); everything else from Git.
    git_sources = {o["spec"]["source"]["repoURL"] for _, o in argocd_objects(tree) if o["kind"] == "Application"
                   and not o["spec"]["source"]["repoURL"].startswith("oci://") and "chart" not in o["spec"]["source"]}
    assert git_sources == {platform.gitops_repo}
    over_ssh = names.gitops_over_ssh(platform.gitops_repo)
    for env in platform.environments:
        cluster = module(tree, env.name, "cluster")
        repository = locals_of(cluster)["argocd_repository"]
        assert repository["name"] == names.argocd_repository_secret(platform.name)
        assert repository["labels"][REPOSITORY_LABEL] == "repository"
        assert repository["url"] in git_sources, "Argo CD matches the Secret to the Applications by URL"
        secret = blocks(cluster, "resource", "kubernetes_secret_v1")["gitops_repository"]
        metadata = secret["metadata"][0]
        assert call(cluster, "argocd")["repository"] == reference("local.argocd_repository")
        assert metadata["name"] == reference("var.repository.name")
        assert metadata["labels"] == reference("var.repository.labels")
        assert metadata["namespace"] == reference("var.namespace")
        credential = ({"sshPrivateKey": reference("var.gitops_ssh_private_key")} if over_ssh else {
            "githubAppID": reference("var.gitops_github_app_id"),
            "githubAppInstallationID": reference("var.gitops_github_app_installation_id"),
            "githubAppPrivateKey": reference("var.gitops_github_app_private_key"),
        })
        assert secret["data_wo"] == {"type": "git", "url": reference("var.repository.url"), **credential}
        assert "data" not in secret, "the credential is written only through the write-only data_wo"
        variables = {k: v for block in cluster["variable"] for k, v in block.items()}
        private = "gitops_ssh_private_key" if over_ssh else "gitops_github_app_private_key"
        assert variables[private]["ephemeral"] is True and variables[private]["sensitive"] is True
        assert "default" not in variables[private], "a missing credential must fail the plan"
        # The root application's module waits for all of module argocd, which holds the Secret.
        assert reference("module.argocd") in call(cluster, "root_application")["depends_on"]
        assert 'resource "kubernetes_secret_v1" "gitops_repository"' in tree["terraform/modules/argocd/main.tf"]


# -- the platform layers sync on their own, workload delivery follows auto_sync --------------------


def test_platform_layers_sync_automatically_in_every_environment(platform: Platform) -> None:
    tree = compiled_tree(platform)
    for env in platform.environments:
        docs = [d for ds in yaml_documents(tree, names.argocd_dir(env.name) + "/").values() for d in ds]
        layers = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Application"}
        # root, policies, platform overlay and (with buckets or queues) shared infrastructure
        root = names.argocd_root_application(platform.name, env.name)
        assert root in layers
        if env.namespaces:
            expected = {"policies", "platform"} | ({"object-store"} if platform.buckets else set()) \
                | ({"broker"} if platform.queues else set()) | set(platform.operators(env)) \
                | ({"keda"} if platform.scales_on_queues(env.name) else set()) \
                | ({"database-operator", "databases"} if platform.databases else set()) \
                | ({"secret-store"} if env.secret_store is not None else set()) \
                | ({"pushgateway"} if env.monitoring is not None and env.monitoring.pushgateway else set()) \
                | ({"monitoring"} if env.monitoring is not None and env.monitoring.install else set())
            assert {n.rpartition(".")[2] for n in layers if n != root} == expected
        for name, app in layers.items():
            # Every Application the root application waits for must get Healthy without a person.
            assert app["spec"]["syncPolicy"].get("automated") == AUTOMATED, (env.name, name, env.auto_sync)


def test_only_workload_applications_follow_auto_sync(platform: Platform) -> None:
    tree = compiled_tree(platform)
    workloads = {names.argocd_application(platform.name, env.name, w.name): env
                 for env in platform.environments for w in platform.workloads}
    # A preview always syncs on its own: it is throwaway, and nobody would sync each pull request.
    generated = [(p, o) for p, o in argocd_objects(tree)
                 if p.endswith("(generated)") and not p.endswith("/previews.yaml (generated)")]
    assert {o["metadata"]["name"] for _, o in generated} <= set(workloads)
    for _path, app in generated:
        env = workloads[app["metadata"]["name"]]
        policy = app["spec"]["syncPolicy"]
        assert policy.get("automated") == (AUTOMATED if env.auto_sync else None), (env.name, env.auto_sync)


# -- stateful data survives any Application's deletion and terraform destroy ----------------------


def test_no_application_can_prune_or_cascade_a_volume_claim(platform: Platform) -> None:
    tree = compiled_tree(platform)
    synced = {**yaml_documents(tree, "kustomize/"), **yaml_documents(tree, "kyverno/"),
              **yaml_documents(tree, "argocd/")}
    for path, docs in synced.items():
        for doc in docs:
            assert doc.get("kind") != "PersistentVolumeClaim", f"{path}: Argo CD would own a claim"
            templates = (doc.get("spec") or {}).get("volumeClaimTemplates")
            assert not templates, f"{path}: a StatefulSet's claims would follow its Application"
    for _path, project in [(p, o) for p, o in argocd_objects(tree) if o["kind"] == "AppProject"]:
        for key in ("namespaceResourceWhitelist", "clusterResourceWhitelist"):
            kinds = {entry["kind"] for entry in project["spec"].get(key, [])}
            assert not kinds & {"PersistentVolumeClaim", "PersistentVolume", "*"}, (project["metadata"]["name"], key)


def test_stateful_data_lives_on_claims_terraform_will_not_destroy(platform: Platform) -> None:
    tree = compiled_tree(platform)
    for env in platform.environments:
        cluster = module(tree, env.name, "cluster")
        local = locals_of(cluster)
        claims = {**{n: v["group"] for n, v in local["volumes"].items()},
                  **{n: v["group"] for n, v in local["infra_volumes"].items()}}
        pvcs = blocks(cluster, "resource", "kubernetes_persistent_volume_claim_v1")
        assert set(pvcs) == {"volume", "infra"}, "both claim resources exist even when empty"
        for name, pvc in pvcs.items():
            assert pvc["lifecycle"] == [{"prevent_destroy": True}], name
        # Every chart that persists data mounts one of those claims, in its own namespace.
        docs = yaml_documents(tree, names.argocd_dir(env.name) + "/")
        for doc in (d for ds in docs.values() for d in ds if d["kind"] == "Application"):
            values = doc["spec"]["source"].get("helm", {}).get("valuesObject", {})
            persistence = values.get("persistence")
            if persistence is None:
                continue
            assert persistence.get("enabled") is True
            claim = persistence.get("existingClaim")
            assert claims.get(claim) == "infra", (doc["metadata"]["name"], claim)
            assert doc["spec"]["destination"]["namespace"] == env.namespaces["infra"]
        expected = ({names.OBJECT_STORE_CLAIM} if platform.buckets else set()) \
            | ({names.BROKER_CLAIM} if platform.queues else set())
        assert set(local["infra_volumes"]) == (expected if "infra" in env.namespaces else set())
        # Every claim a workload mounts is one of Terraform's.
        mounted = {v["persistentVolumeClaim"]["claimName"] for ds in yaml_documents(tree, "kustomize/").values()
                   for doc in ds for v in _pod_volumes(doc) if "persistentVolumeClaim" in v}
        assert mounted <= set(local["volumes"])
        assert bool(mounted) == any(u.kind == "volume" for w in platform.workloads for u in w.uses)


def _pod_volumes(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return list(((spec.get("template") or {}).get("spec") or {}).get("volumes") or [])


# -- the README: the rollout from zero, in order ---------------------------------------------------


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a document's headings."""
    found = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^a-z0-9 _-]", "", title).replace(" ", "-"))
    return found


def test_readme_rolls_the_platform_out_from_zero_in_order(platform: Platform) -> None:
    tree = compiled_tree(platform)
    readme = tree["README.md"]
    assert "## Roll out from zero" in readme
    section = readme.split("## Roll out from zero", 1)[1].split("\n## ", 1)[0]
    steps = re.findall(r"^(\d+)\. \*\*(.+?)\.\*\*", section, re.M)
    assert [int(n) for n, _ in steps] == list(range(1, len(steps) + 1))
    titles = [t for _, t in steps]
    order = ["Commit this tree", "A read-only credential for Argo CD", "The cluster"]
    if any(env.secret_store is not None for env in platform.environments):
        # External Secrets' credential of each store, before Argo CD waits for the store to be ready.
        order.append("The secret store's credential")
        for env in platform.environments:
            assert f"kubectl -n {env.infra_namespace} create secret generic {names.SECRET_STORE_CREDENTIALS}" in readme
    order.append("Argo CD takes over")
    if platform.buckets or platform.queues:
        order.append("The services")
    order.append("CI of this repository")
    if any(w.repo for w in platform.workloads):
        order += ["CI of each workload repository", "First delivery"]
        if len(platform.environments) > 1:
            order.append("Promotion")
    assert titles == order
    for folder in ("terraform/", "argocd/", "github/", "kyverno/"):
        assert folder in section, f"the rollout never mentions {folder}"
    for env in platform.environments:
        assert f"terraform/{env.name}/README.md" in section


def test_readme_links_lead_to_files_and_headings_of_the_tree(platform: Platform) -> None:
    tree = compiled_tree(platform)
    for source in [p for p in tree if p.endswith("README.md")]:
        base = Path(source).parent
        for target in re.findall(r"\]\(([^)]+)\)", tree[source]):
            if re.match(r"^[a-z]+:", target):
                continue  # an absolute URL
            path, _, anchor = target.partition("#")
            resolved = (base / path).as_posix() if path else source
            resolved = str(Path(resolved)).replace("\\", "/")
            parts: list[str] = []
            for part in resolved.split("/"):
                if part == "..":
                    parts.pop()
                elif part != ".":
                    parts.append(part)
            resolved = "/".join(parts)
            assert resolved in tree, f"{source} links to {target}, which the compile does not write"
            if anchor:
                assert anchor in anchors(tree[resolved]), f"{source} links to {target}: no such heading"


def test_readmes_say_how_argocd_reads_the_repository_and_keeps_the_data(platform: Platform) -> None:
    tree = compiled_tree(platform)
    argocd = tree["argocd/README.md"]
    assert names.argocd_repository_secret(platform.name) in argocd
    assert REPOSITORY_LABEL in argocd
    assert names.OBJECT_STORE_CLAIM in argocd and "prevent_destroy" in argocd
    private = "gitops_ssh_private_key" if names.gitops_over_ssh(platform.gitops_repo) else "gitops_github_app_private_key"
    for env in platform.environments:
        terraform = tree[f"terraform/{env.name}/README.md"]
        assert names.argocd_repository_secret(platform.name) in terraform and f"TF_VAR_{private}" in terraform
        assert "prevent_destroy" in terraform
        for claim in locals_of(module(tree, env.name, "cluster"))["infra_volumes"]:
            assert claim in terraform
    if any(w.app_secret for w in platform.workloads):
        assert "TF_VAR_app_secrets" in tree["README.md"].split("## Roll out from zero", 1)[1]
