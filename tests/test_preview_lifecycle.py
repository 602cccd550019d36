"""Previews (issue 17) from pull request to running objects, without a cluster.

For sample pull requests (labelled, unlabelled, a bot's, a draft, a fork's, one past the TTL, more
than `max`), the test plays what would happen: the generated `preview` workflow's job condition
(evaluated by tests/gha_expr.py) decides whether CI pushes the image and adds the ready label; the
generated janitor (the copy in the compiled tree) takes labels off; Argo CD's pull-request generator
(GitHub provider: open pull requests carrying every listed label) makes the parameters Argo CD
documents, and the ApplicationSet's template is rendered as Go templates with `missingkey=error`
(render_go below: the subset the template uses, anything else raises). Each resulting Application's
source is built the way Argo CD builds it (`kustomize edit set namespace` / `set image`, then its
inline patches) with `kubectl kustomize`, validated strictly, and checked: every object in the
preview's namespace, nothing of dev's broker, bucket, database or credentials, and the
NetworkPolicies of dev and two previews evaluated (tests/netpol.py): no path between a preview and
anything else but dev's database operator reaching the preview's database instances, and inside a
preview only the workloads that declared its database reach it. The preview's CloudNativePG
Cluster is validated against the operator's CRD schema (tests/test_contract_cnpg.py's closed copy).
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import importlib.util
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from conftest import require_tool
from crd_models import crd_tools, schema_errors, unknown_key_errors
from gha_expr import evaluate
from netpol import Endpoint, reachability
from preview_fraud import fraud_with_previews
from test_contract_cnpg import SCHEMA as CNPG_SCHEMA
from test_contract_cnpg import _validator as cnpg_validator

from compiler import names, writer
from compiler.ir import Platform
from compiler.ir_preview import PREVIEW_LABEL, database_secret
from compiler.pipeline import check, render
from targets import TARGETS

SPEC = fraud_with_previews()  # specs/fraud.yaml: broker, bucket, exposed service and database
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
REPO = "acme/checkout-service"
CUSTOM = {("external-secrets.io/v1", "ExternalSecret"), ("generators.external-secrets.io/v1alpha1", "Password"),
          ("gateway.networking.k8s.io/v1", "HTTPRoute")}
CNPG = {("postgresql.cnpg.io/v1", "Cluster")}  # checked against CloudNativePG's own CRD schema

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")


def render_go(text: str, params: dict[str, Any]) -> str:
    """Go's text/template for `{{ .key }}` actions with `missingkey=error`; other actions raise."""
    def action(match: re.Match[str]) -> str:
        expression = match[1]
        if not re.fullmatch(r"\.[A-Za-z_][A-Za-z0-9_]*", expression):
            raise ValueError(f"template action outside the tested subset: {{{{ {expression} }}}}")
        key = expression[1:]
        if key not in params:
            raise KeyError(f'map has no entry for key "{key}"')  # missingkey=error
        return str(params[key])
    return _ACTION.sub(action, text)


def render_template(template: Any, params: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        return {render_go(k, params): render_template(v, params) for k, v in template.items()}
    if isinstance(template, list):
        return [render_template(v, params) for v in template]
    return render_go(template, params) if isinstance(template, str) else template


def generator_params(pull: dict[str, Any]) -> dict[str, Any]:
    """What Argo CD's pull-request generator passes for one pull request (goTemplate mode)."""
    branch, sha = pull["head"]["ref"], pull["head"]["sha"]
    slug = re.sub(r"[^a-z0-9-]", "-", branch.lower())[:50].strip("-")
    return {"number": str(pull["number"]), "title": pull["title"], "branch": branch, "branch_slug": slug,
            "target_branch": pull["base"]["ref"], "target_branch_slug": pull["base"]["ref"],
            "head_sha": sha, "head_short_sha": sha[:8], "head_short_sha_7": sha[:7],
            "labels": [lb["name"] for lb in pull["labels"]], "author": pull["user"]["login"]}


def generate(appset: dict[str, Any], pulls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ApplicationSet's Applications for these pull requests (the GitHub provider lists open
    ones and keeps those carrying every label of the filter)."""
    spec = appset["spec"]
    assert spec["goTemplate"] is True and spec["goTemplateOptions"] == ["missingkey=error"]
    (generator,) = spec["generators"]
    wanted = set(generator["pullRequest"]["github"]["labels"])
    apps = []
    for pull in pulls:
        if pull["state"] == "open" and wanted <= {lb["name"] for lb in pull["labels"]}:
            app = render_template(copy.deepcopy(spec["template"]), generator_params(pull))
            apps.append({"apiVersion": appset["apiVersion"], "kind": "Application",
                         "metadata": {**app["metadata"], "namespace": appset["metadata"]["namespace"]},
                         "spec": app["spec"]})
    return apps


# -- the sample pull requests -----------------------------------------------------------------------


def pull(number: int, *, labels: tuple[str, ...] = ("preview",), hours: float = 2, draft: bool = False,
         bot: bool = False, fork: bool = False) -> dict[str, Any]:
    created = (NOW - timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
    return {"number": number, "state": "open", "title": f"change {number}", "draft": draft,
            "created_at": created, "labels": [{"name": n} for n in labels],
            "user": {"login": "dependabot[bot]" if bot else f"dev{number}", "type": "Bot" if bot else "User"},
            "head": {"ref": f"feature/{number}", "sha": f"{number:040x}",
                     "repo": {"full_name": "someone/checkout-service" if fork else REPO}},
            "base": {"ref": "main", "repo": {"full_name": REPO}}}


SAMPLES = [
    pull(1),                                  # labelled: gets a preview
    pull(2, labels=()),                       # not asked for
    pull(3, bot=True),                        # a bot's
    pull(4, draft=True),                      # a draft
    pull(5, fork=True),                       # a fork's: CI cannot and does not push
    pull(6, fork=True, labels=("preview", "preview-ready")),  # a fork's, labels added by hand
    pull(7, hours=80),                        # past the 72h TTL
    *(pull(n, hours=n - 5) for n in range(10, 16)),  # with 1: seven previews, max 5
]
EXPECTED = {1, 10, 11, 12, 13}  # #14 and #15 are the oldest of the seven (9h, 10h): over max


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Platform, Path]:
    checked = check(SPEC)
    assert checked.platform is not None and checked.platform.previews is not None
    artifacts, problems = render(checked.platform, list(TARGETS))
    assert not [p for p in problems if p.severity.value == "error"]
    tree = tmp_path_factory.mktemp("preview") / checked.platform.spec_name
    writer.apply(writer.plan(artifacts, tree))
    return checked.platform, tree


def _janitor(tree: Path) -> ModuleType:
    path = tree / "github" / "checkout" / ".github" / "preview" / "janitor.py"
    spec = importlib.util.spec_from_file_location("generated_janitor", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generated_janitor"] = module
    spec.loader.exec_module(module)
    return module


def lifecycle(platform: Platform, tree: Path) -> list[dict[str, Any]]:
    """CI on the `labeled` event, then the janitor, then the generator: the Applications."""
    preview = platform.previews
    assert preview is not None
    workflow = yaml.safe_load((tree / "github/checkout/.github/workflows/preview.yaml").read_text())
    condition = workflow["jobs"]["image"]["if"]
    pulls = copy.deepcopy(SAMPLES)
    for p in pulls:
        if preview.label not in {lb["name"] for lb in p["labels"]}:
            continue
        context = {"github": {"repository": REPO, "event": {"action": "labeled", "label": {"name": preview.label},
                                                            "pull_request": p}}}
        if evaluate(condition, context) and preview.ready_label not in {lb["name"] for lb in p["labels"]}:
            p["labels"].append({"name": preview.ready_label})  # the job's last step, after the push
    janitor = _janitor(tree)
    starts = {p["number"]: janitor.started(p, [], preview.label) for p in pulls}
    chosen = janitor.select(pulls, starts, now=NOW, repository=REPO, label=preview.label, ready=preview.ready_label,
                            ttl_seconds=preview.ttl_seconds, maximum=preview.max)
    for number, _ in chosen:
        p = next(x for x in pulls if x["number"] == number)
        p["labels"] = [lb for lb in p["labels"] if lb["name"] not in (preview.label, preview.ready_label)]
    previews = yaml.safe_load_all((tree / "argocd" / preview.from_env / "previews.yaml").read_text())
    appset = next(d for d in previews if d["kind"] == "ApplicationSet" and d["spec"]["generators"][0]["pullRequest"]
                  ["github"]["repo"] == "checkout-service")
    return generate(appset, pulls)


def test_the_right_pull_requests_get_a_preview(compiled: tuple[Platform, Path]) -> None:
    apps = lifecycle(*compiled)
    numbers = {int(a["metadata"]["name"].rsplit("-", 1)[1]) for a in apps}
    assert numbers == EXPECTED
    for app in apps:
        assert app["spec"]["project"] == "fraud-detection-previews"
        assert "CreateNamespace=true" not in app["spec"]["syncPolicy"].get("syncOptions", [])
        assert app["metadata"]["finalizers"] == [names.ARGOCD_FINALIZER]


def test_the_renderer_refuses_what_argo_cd_would_refuse() -> None:
    with pytest.raises(KeyError):
        render_go("pr-{{ .nummber }}", {"number": "1"})
    with pytest.raises(ValueError):
        render_go("{{ .number | upper }}", {"number": "1"})
    assert render_go("pr-{{ .number }}-{{.head_sha}}", {"number": "7", "head_sha": "ab"}) == "pr-7-ab"


def build_application(app: dict[str, Any], platform: Platform, tree: Path, workdir: Path) -> list[dict[str, Any]]:
    """What Argo CD deploys for `app`: its source folder with the Application's kustomize overrides
    written into the kustomization the way `kustomize edit` writes them, then built."""
    copy_root = workdir / app["metadata"]["name"]
    shutil.copytree(tree, copy_root)
    source = app["spec"]["source"]
    folder = copy_root / source["path"].removeprefix(platform.gitops_path + "/")
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    overrides = source["kustomize"]
    kustomization["namespace"] = overrides["namespace"]
    for image in overrides["images"]:
        name, tag = image.rsplit(":", 1)
        entries = [e for e in kustomization.get("images", []) if e["name"] != name]
        kustomization["images"] = [*entries, {"name": name, "newTag": tag}]
    kustomization["patches"] = kustomization.get("patches", []) + overrides.get("patches", [])
    (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    kubectl = require_tool("kubectl")
    done = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.fixture(scope="module")
def built(compiled: tuple[Platform, Path], tmp_path_factory: pytest.TempPathFactory
          ) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    platform, tree = compiled
    work = tmp_path_factory.mktemp("apps")
    return {a["metadata"]["name"]: (a, build_application(a, platform, tree, work)) for a in lifecycle(platform, tree)}


def test_each_preview_builds_validates_and_stays_in_its_namespace(
        compiled: tuple[Platform, Path], built: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    import kubernetes_validate

    platform, tree = compiled
    project = next(d for d in yaml.safe_load_all((tree / "argocd/dev/previews.yaml").read_text())
                   if d["kind"] == "AppProject")
    allowed = {(k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]}
    for name, (app, docs) in built.items():
        namespace = app["spec"]["destination"]["namespace"]
        assert namespace == name and len(namespace) <= 63
        assert any(fnmatch.fnmatchcase(namespace, d["namespace"]) for d in project["spec"]["destinations"])
        kinds = {d["kind"] for d in docs}
        assert {"Namespace", "ResourceQuota", "NetworkPolicy", "ExternalSecret", "Deployment", "CronJob",
                "HTTPRoute", "Cluster", "Job"} <= kinds
        for doc in docs:
            group = doc["apiVersion"].rsplit("/", 1)[0] if "/" in doc["apiVersion"] else ""
            if doc["kind"] == "Namespace":
                assert doc["metadata"]["name"] == namespace
                assert doc["metadata"]["labels"]["gpc.dev/preview-of"] == platform.name
            else:
                assert doc["metadata"]["namespace"] == namespace, f"{name}: {doc['kind']}/{doc['metadata']['name']}"
                assert (group, doc["kind"]) in allowed, f"{name}: the project refuses {doc['kind']}"
            assert not doc["metadata"].get("finalizers"), "a finalizer could hold the namespace's deletion"
            if (doc["apiVersion"], doc["kind"]) not in CUSTOM | CNPG:
                kubernetes_validate.validate(doc, platform.kubernetes_version, strict=True)
        images = {c["image"] for d in docs if d["kind"] == "Deployment"
                  for c in d["spec"]["template"]["spec"]["containers"]}
        sha = app["metadata"]["annotations"]["gpc.dev/head-sha"]
        assert f"ghcr.io/acme/checkout:pr-{name.rsplit('-', 1)[1]}-{sha}" in images
        assert "ghcr.io/acme/fraud-inference:gpc-awaiting-first-delivery" in images  # dev's CI-owned tag
        routes = [d for d in docs if d["kind"] == "HTTPRoute"]
        assert routes[0]["spec"]["hostnames"] == [f"{namespace}-checkout.dev.fraud.acme.example"]


def test_nothing_in_a_preview_refers_to_dev(compiled: tuple[Platform, Path],
                                            built: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    platform, _ = compiled
    dev = platform.environment("dev")
    terraform_secrets = {w.credentials_secret for w in platform.workloads if w.credentials_secret}
    for name, (_, docs) in built.items():
        text = yaml.safe_dump_all([_without_the_gateway(d) for d in docs])
        for namespace in dev.namespaces.values():
            assert namespace not in text, f"{name} names dev's namespace {namespace}"
        for secret in (*terraform_secrets, names.BROKER_ADMIN_SECRET, names.OBJECT_STORE_ROOT_SECRET):
            assert f"name: {secret}\n" not in text, f"{name} reads dev's Secret {secret}"
        refs = {(ref["name"], ref.get("optional", False))
                for d in docs if d["kind"] in ("Deployment", "CronJob") for ref in _secret_refs(d)}
        assert ("preview-credentials", False) in refs
        own = {"preview-credentials"} | {database_secret(r.workload) for d in platform.databases for r in d.roles}
        assert (database_secret("checkout"), False) in refs
        assert {r for r, _ in refs} <= own | {names.app_secret(w.name) for w in platform.workloads}
        assert all(optional for r, optional in refs if r not in own)


def test_every_address_a_preview_pod_reads_is_a_service_of_that_preview(
        built: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    """A URL in a preview pod's environment must reach something inside the preview: a variable
    copied from dev that names a Service the preview lacks (dev's Pushgateway, say) would fail only
    at run time, and only in previews."""
    urls = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([a-z0-9.-]+)(?::\d+)?")
    for name, (_, docs) in built.items():
        services = {d["metadata"]["name"] for d in docs if d["kind"] == "Service"}
        for doc in docs:
            if doc["kind"] not in ("Deployment", "CronJob", "Job"):
                continue
            for var in _env_vars(doc):
                match = urls.match(str(var.get("value", "")))
                if match is None or "." in match.group(1):
                    continue  # not a URL, or a public host name (an external API the spec declares)
                assert match.group(1) in services, (
                    f"{name}: {doc['metadata']['name']} reads {var['name']}={var['value']}, "
                    f"but the preview has no Service {match.group(1)!r}")


def _env_vars(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [v for v in node["env"] if isinstance(v, dict)] if isinstance(node.get("env"), list) else []
        return found + [e for k, v in node.items() if k != "env" for e in _env_vars(v)]
    if isinstance(node, list):
        return [e for v in node for e in _env_vars(v)]
    return []


def _without_the_gateway(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` without its one allowed mention of dev: the shared Gateway a route attaches to and
    whose proxy pods (labelled with that Gateway's namespace) may reach an exposed port."""
    doc = copy.deepcopy(doc)
    if doc["kind"] == "HTTPRoute":
        assert [p["sectionName"] for p in doc["spec"]["parentRefs"]] == ["previews"]
        doc["spec"].pop("parentRefs")
    if doc["kind"] == "NetworkPolicy" and doc["metadata"]["name"].startswith("preview-public-"):
        for rule in doc["spec"]["ingress"]:
            for peer in rule["from"]:
                assert peer["podSelector"]["matchLabels"].pop(names.ENVOY_OWNING_GATEWAY_NAMESPACE)
    if doc["kind"] == "NetworkPolicy" and doc["metadata"]["name"].startswith("preview-database-"):
        # and dev's database operator, which runs the preview's Cluster (targets/argocd/charts.py)
        peers = [p for rule in doc["spec"]["ingress"] for p in rule["from"] if "namespaceSelector" in p]
        assert [p["podSelector"]["matchLabels"] for p in peers] == [{"app.kubernetes.io/name": names.DATABASE_OPERATOR}]
        peers[0].pop("namespaceSelector")
    return doc


def _secret_refs(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["secretKeyRef"]] if "secretKeyRef" in node else []
        return found + [r for v in node.values() for r in _secret_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _secret_refs(v)]
    return []


def test_argo_cd_objects_and_every_custom_resource_of_a_preview_match_their_crds(
        compiled: tuple[Platform, Path], tmp_path: Path,
        built: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Every custom resource a preview deploys (its ExternalSecret, Password generator and routes;
    the other objects are Kubernetes kinds, validated strictly above), as Argo CD builds it."""
    _, tree = compiled
    node, tsc = crd_tools()
    objects = list(yaml.safe_load_all((tree / "argocd/dev/previews.yaml").read_text()))
    objects += [app for app, _ in built.values()]
    custom = [d for _, docs in built.values() for d in docs if (d["apiVersion"], d["kind"]) in CUSTOM]
    assert {(d["apiVersion"], d["kind"]) for d in custom} == CUSTOM, "every custom kind of a preview is checked"
    clusters = [d for _, docs in built.values() for d in docs if (d["apiVersion"], d["kind"]) in CNPG]
    assert clusters, "a preview of fraud runs its own database"
    validator = cnpg_validator(CNPG_SCHEMA)
    for cluster in clusters:
        assert [e.message for e in validator.iter_errors(cluster)] == [], cluster["metadata"]["name"]
    wrong = copy.deepcopy(clusters[0])
    wrong["spec"]["managed"]["roles"][0]["passwordSecrett"] = {"name": "x"}  # the check bites
    assert list(validator.iter_errors(wrong))
    objects += custom
    objects += [yaml.safe_load((tree / "kustomize/_platform/overlays/dev/gateway.yaml").read_text())]
    assert schema_errors(node, objects) == []
    assert unknown_key_errors(tsc, objects, tmp_path) == []


def test_the_preview_crd_checks_bite(built: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]],
                                     tmp_path: Path) -> None:
    node, tsc = crd_tools()
    docs = next(iter(built.values()))[1]
    generator = next(d for d in docs if d["kind"] == "Password")
    wrong_type = copy.deepcopy(generator)
    wrong_type["spec"]["length"] = "32"  # an integer in the CRD
    misspelled = copy.deepcopy(generator)
    misspelled["spec"]["symbolz"] = 0
    assert len(schema_errors(node, [generator, wrong_type])) == 1
    assert len(unknown_key_errors(tsc, [generator, misspelled], tmp_path)) == 1


def _pods(docs: list[dict[str, Any]], ips: Any) -> list[Endpoint]:
    out = []
    for doc in docs:
        if doc["kind"] not in ("Deployment", "CronJob", "Job"):
            continue
        template = doc["spec"]["jobTemplate"]["spec"]["template"] if doc["kind"] == "CronJob" else doc["spec"]["template"]
        ports = [p for c in template["spec"]["containers"] for p in c.get("ports", [])]
        out.append(Endpoint(f"{doc['metadata']['name']}@{doc['metadata']['namespace']}", doc["metadata"]["namespace"],
                            template["metadata"]["labels"], next(ips),
                            tuple((p.get("protocol", "TCP"), p["containerPort"]) for p in ports) or (("TCP", 8080),),
                            {p["name"]: p["containerPort"] for p in ports if "name" in p}))
    return out


def test_no_network_path_between_a_preview_and_anything_else(
        compiled: tuple[Platform, Path], built: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    platform, tree = compiled
    kubectl = require_tool("kubectl")
    dev = platform.environment("dev")
    dev_docs: list[dict[str, Any]] = []
    folders = [names.overlay_dir(w.name, "dev") for w in platform.workloads] + [names.platform_overlay_dir("dev")]
    for folder in folders:
        done = subprocess.run([kubectl, "kustomize", str(tree / folder)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        dev_docs += [d for d in yaml.safe_load_all(done.stdout) if d]
    previews = list(built.values())[:2]
    docs = dev_docs + [d for _, ds in previews for d in ds]
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    ips = (f"10.244.{i // 250}.{i % 250 + 1}" for i in range(10_000))
    endpoints = _pods(docs, ips)
    endpoints += [Endpoint("rabbitmq@dev", dev.infra_namespace, {"app.kubernetes.io/name": "rabbitmq"}, next(ips),
                           (("TCP", 5672),)),
                  Endpoint("minio@dev", dev.infra_namespace, {"app.kubernetes.io/name": "minio"}, next(ips),
                           (("TCP", 9000),)),
                  Endpoint("dns", "kube-system", {"k8s-app": "kube-dns"}, next(ips), (("UDP", 53), ("TCP", 53))),
                  Endpoint("proxy", names.ENVOY_GATEWAY_NAMESPACE, {
                      names.ENVOY_OWNING_GATEWAY_NAME: "public",
                      names.ENVOY_OWNING_GATEWAY_NAMESPACE: dev.namespaces["services"]}, next(ips), (("TCP", 8443),))]
    # The database instances CloudNativePG creates (in dev and in each preview) and dev's operator.
    db_ports = (("TCP", names.DATABASE_PORT), ("TCP", names.DATABASE_STATUS_PORT))
    for ns in [dev.infra_namespace, *(app["spec"]["destination"]["namespace"] for app, _ in previews)]:
        endpoints += [Endpoint(f"{d.name}-1@{ns}", ns, {names.DATABASE_POD_LABEL: d.name}, next(ips), db_ports)
                      for d in platform.databases]
    endpoints.append(Endpoint("cnpg-operator@dev", dev.infra_namespace,
                              {"app.kubernetes.io/name": names.DATABASE_OPERATOR}, next(ips), (("TCP", 9443),)))
    # a preview's Namespace carries the label gpc's kustomization gives every object of a preview
    endpoints = [dataclasses.replace(e, namespace_labels={PREVIEW_LABEL: platform.name})
                 if (e.namespace or "").startswith("pr-") else e for e in endpoints]
    operator_to_previews = []
    by_name = {e.name: e for e in endpoints}
    preview_pods = [e for e in endpoints if (e.namespace or "").startswith("pr-")]
    assert len({e.namespace for e in preview_pods}) == 2 and len(preview_pods) >= 10
    crossing = []
    for src, dst, protocol, port in reachability(policies, endpoints):
        a, b = by_name[src], by_name[dst]
        if not ((a.namespace or "").startswith("pr-") or (b.namespace or "").startswith("pr-")):
            continue
        if a.namespace == b.namespace or dst == "dns" or (src == "proxy" and dst.startswith("checkout@")):
            continue
        if src == "cnpg-operator@dev" and names.DATABASE_POD_LABEL in b.labels:
            operator_to_previews.append((dst, port))
            continue
        crossing.append((src, dst, protocol, port))
    assert not crossing, crossing
    preview_dbs = [e.name for e in preview_pods if names.DATABASE_POD_LABEL in e.labels]
    assert len(preview_dbs) == 2 and {d for d, _ in operator_to_previews} == set(preview_dbs)
    # and inside a preview its workloads reach its own broker and object store
    reached = reachability(policies, endpoints)
    ns = preview_pods[0].namespace
    assert (f"checkout@{ns}", f"rabbitmq@{ns}", "TCP", 5672) in reached
    assert ("proxy", f"checkout@{ns}", "TCP", 8080) in reached
    # its database: exactly the workloads that declared it, the owner's migration, and itself
    for db in platform.databases:
        target = f"{db.name}-1@{ns}"
        callers = {s for s, d, _, p in reached if d == target and p == names.DATABASE_PORT}
        declared = {f"{r.workload}@{ns}" for r in db.roles} | {f"{names.migration_job(db.owner.workload)}@{ns}"}
        assert callers - {target, "cnpg-operator@dev"} == declared, (db.name, callers)


def test_gpc_preview_says_what_argo_cd_deploys(compiled: tuple[Platform, Path],
                                               built: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    import json

    _, tree = compiled
    gpc = require_tool("gpc")
    app, docs = built["pr-checkout-service-1"]
    sha = app["metadata"]["annotations"]["gpc.dev/head-sha"]
    done = subprocess.run([gpc, "preview", str(SPEC), f"{REPO}#1", "--sha", sha, "--format", "json",
                           "-o", str(tree.parent)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert said["namespace"] == app["spec"]["destination"]["namespace"]
    built_images = {d["metadata"]["name"]: (d["spec"]["template"] if d["kind"] == "Deployment" else
                                            d["spec"]["jobTemplate"]["spec"]["template"])["spec"]["containers"][0]["image"]
                    for d in docs if d["kind"] in ("Deployment", "CronJob")}
    assert {w["name"]: w["image"] for w in said["workloads"]}.items() <= built_images.items()
    routes = [d for d in docs if d["kind"] == "HTTPRoute"]
    assert list(said["hostnames"].values()) == routes[0]["spec"]["hostnames"]
    pulls = {p["name"] for d in docs if d["kind"] in ("Deployment", "CronJob")
             for p in (d["spec"]["template"] if d["kind"] == "Deployment" else
                       d["spec"]["jobTemplate"]["spec"]["template"])["spec"].get("imagePullSecrets", [])}
    assert said["infrastructure"]["pull_secret"].startswith(f"Secret {pulls.pop()}, copied by Kyverno") and not pulls
    wrong = subprocess.run([gpc, "preview", str(SPEC), "acme/unknown#1"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "previews exist for: acme/checkout-service" in wrong.stderr


def test_only_the_copied_environment_s_database_operator_runs_the_previews_databases(
        compiled: tuple[Platform, Path]) -> None:
    """dev's CloudNativePG operator watches every namespace (a preview's Cluster lives in the
    preview's) and may reach instance pods of this platform's previews and nothing else there;
    prod's still watches its own infra namespace only and reaches nothing of a preview."""
    platform, tree = compiled

    def operator(env: str) -> tuple[bool, list[dict[str, Any]]]:
        [app] = [d for d in yaml.safe_load_all((tree / f"argocd/{env}/database-operator.yaml").read_text()) if d]
        built = subprocess.run([require_tool("kubectl"), "kustomize", str(tree / names.platform_overlay_dir(env))],
                               capture_output=True, text=True, timeout=120, check=True).stdout
        [policy] = [d for d in yaml.safe_load_all(built) if d and d["kind"] == "NetworkPolicy"
                    and d["metadata"]["name"] == names.DATABASE_OPERATOR]
        return app["spec"]["source"]["helm"]["valuesObject"]["config"]["clusterWide"], policy["spec"]["egress"]

    wide, egress = operator("dev")
    to_previews = [rule for rule in egress for peer in rule.get("to", []) if "namespaceSelector" in peer]
    assert wide and len(to_previews) == 1
    [peer] = to_previews[0]["to"]
    assert peer["namespaceSelector"] == {"matchLabels": {PREVIEW_LABEL: platform.name}}
    assert peer["podSelector"] == {"matchExpressions": [{"key": names.DATABASE_POD_LABEL, "operator": "Exists"}]}
    wide, egress = operator("prod")
    assert not wide and not [r for r in egress for p in r.get("to", []) if "namespaceSelector" in p]
