"""Contracts of secrets from a store and of credential rotation, over every spec (specs/ and
tests/cases/valid/), on the compiled tree with every workload overlay built by `kubectl kustomize`:

- rotation: every Deployment whose pods read a Secret (a credential Terraform generates, a declared
  secret, one External Secrets refreshes, whatever a new kind of use wires in) names exactly those
  Secrets for Reloader, which runs on its cluster and watches them; no other workload is named
  (Jobs and CronJobs read their Secrets when each run starts);
- stores: a workload that reads its secrets from a store gets them in the Secret its pods already
  read, with exactly its declared keys, from its environment's ClusterSecretStore, which admits only
  that environment's namespaces of such workloads and takes its credential from the infra namespace;
- the ExternalSecrets and ClusterSecretStores validate against External Secrets' CRDs
  (@kubernetes-models/external-secrets: ajv plus TypeScript's unknown-key check, tests/crd_models.py).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from conftest import all_spec_files, compiled_tree, load_ir, require_tool
from crd_models import crd_tools, schema_errors, unknown_key_errors

from compiler import names
from compiler.ir import Platform

RELOAD = "secret.reloader.stakater.com/reload"
ESO_KINDS = {("external-secrets.io/v1", "ExternalSecret"), ("external-secrets.io/v1", "ClusterSecretStore")}


def _build(platform: Platform, tmp: Path, folder: str) -> list[dict[str, Any]]:
    root = tmp / platform.spec_name
    if not root.exists():
        for path, text in compiled_tree(platform).items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
    done = subprocess.run([require_tool("kubectl"), "kustomize", str(root / folder)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    template = obj["spec"]["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else obj["spec"]["template"]
    return template["spec"]  # type: ignore[no-any-return]


def secrets_read(pod: dict[str, Any]) -> set[str]:
    """Every Secret a pod's containers read (environment, envFrom, volumes); not the image pull secret,
    which the kubelet reads and no container sees."""
    found: set[str] = set()
    for c in pod.get("initContainers", []) + pod["containers"]:
        found |= {e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", [])
                  if "secretKeyRef" in e.get("valueFrom", {})}
        found |= {e["secretRef"]["name"] for e in c.get("envFrom", []) if "secretRef" in e}
    for v in pod.get("volumes", []):
        if "secret" in v:
            found.add(v["secret"]["secretName"])
        for source in v.get("projected", {}).get("sources", []):
            if "secret" in source:
                found.add(source["secret"]["name"])
    return found


def _argocd(platform: Platform, env: str) -> dict[str, dict[str, Any]]:
    tree = compiled_tree(platform)
    prefix = names.argocd_dir(env) + "/"
    # previews.yaml (the previews' AppProject and pull-request ApplicationSets, several documents) is
    # no group's and no add-on's: the previews' own tests cover it.
    return {p[len(prefix):]: yaml.safe_load(t) for p, t in tree.items()
            if p.startswith(prefix) and p.count("/") == prefix.count("/") and p != prefix + names.ARGOCD_ROOT_FILE
            and p != prefix + "previews.yaml"}


def _values(app: dict[str, Any]) -> dict[str, Any]:
    return app["spec"]["source"]["helm"]["valuesObject"]  # type: ignore[no-any-return]


def test_every_pod_that_reads_a_secret_is_restarted_when_it_changes_and_no_other(platform: Platform,
                                                                                  tmp_path: Path) -> None:
    reloaded_clusters = set()
    for env in platform.environments:
        # A workload switched off in an environment has no overlay there.
        for w in (w for w in platform.workloads if w.enabled_in(env.name)):
            built = _build(platform, tmp_path, names.overlay_dir(w.name, env.name))
            workload = next(d for d in built if d["kind"] in ("Deployment", "Job", "CronJob"))
            read = secrets_read(_pod(workload))
            named = workload["metadata"].get("annotations", {}).get(RELOAD)
            if workload["kind"] == "Deployment" and read:
                assert named is not None and set(named.split(",")) == read, (w.name, env.name, named, read)
                reloaded_clusters.add(names.cluster_url(env.cluster))
            else:
                assert named is None, (w.name, env.name, "names Secrets it does not read, or is no Deployment")
            assert not any(k.startswith("reloader.stakater.com/") for k in workload["metadata"].get("annotations", {}))
    # Reloader runs on each of those clusters, installed by exactly one environment there, and
    # restarts only what names its Secrets, in the way that leaves the Deployment's spec to Git.
    installed: dict[str, list[str]] = {}
    for env in platform.environments:
        app = _argocd(platform, env.name).get("reloader.yaml")
        if app is None:
            continue
        installed.setdefault(names.cluster_url(env.cluster), []).append(env.name)
        reloader = _values(app)["reloader"]
        assert reloader["autoReloadAll"] is False and reloader["reloadStrategy"] == "annotations"
        assert reloader["watchGlobally"] is True and reloader["ignoreConfigMaps"] is True
        assert app["spec"]["destination"]["namespace"] == env.infra_namespace
    assert set(installed) == reloaded_clusters
    assert all(len(envs) == 1 for envs in installed.values()), installed
    # The annotation Reloader writes on a restart is not Git's: Argo CD neither reports nor reverts it
    # in the ApplicationSets that deliver a Deployment Reloader watches, and is told nothing else.
    for env in platform.environments:
        for group, appset in ((g, a) for g, a in _argocd(platform, env.name).items() if a["kind"] == "ApplicationSet"):
            spec = appset["spec"]["template"]["spec"]
            watched = any(w.kind == "Deployment" and w.secret_refs and f"{w.group}.yaml" == group
                          for w in platform.workloads)
            expected = [{"group": "apps", "kind": "Deployment", "jqPathExpressions": [
                '.spec.template.metadata.annotations."reloader.stakater.com/last-reloaded-from"']}]
            assert spec.get("ignoreDifferences") == (expected if watched else None), (env.name, group)
            assert ("RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"]) == watched


def test_secrets_from_a_store_reach_the_secret_the_pods_read(platform: Platform, tmp_path: Path) -> None:
    readers = [w for w in platform.workloads if w.store_secrets]
    for env in platform.environments:
        apps = _argocd(platform, env.name)
        if not readers:
            assert env.secret_store is None and "secret-store.yaml" not in apps
            assert not any(d["kind"] == "ExternalSecret" for w in platform.workloads_in(env.name)
                           for d in _build(platform, tmp_path, names.overlay_dir(w.name, env.name)))
            continue
        store_docs = _build(platform, tmp_path, names.secret_store_dir(env.name))
        assert [d["kind"] for d in store_docs] == ["ClusterSecretStore"]
        store = store_docs[0]
        assert store["spec"]["conditions"] == [{"namespaces": sorted({w.placement(env.name).namespace
                                                                      for w in readers})}]
        provider = store["spec"]["provider"]
        refs = [r for r in _refs(provider)]
        assert refs and all(r["namespace"] == env.infra_namespace and r["name"] == names.SECRET_STORE_CREDENTIALS
                            for r in refs)
        # Synced after External Secrets' CRDs exist, before the workloads.
        app = apps["secret-store.yaml"]
        assert int(app["metadata"]["annotations"][names.ARGOCD_SYNC_WAVE]) < 0
        for w in platform.workloads_in(env.name):  # a switched-off workload has no overlay there
            built = _build(platform, tmp_path, names.overlay_dir(w.name, env.name))
            external = [d for d in built if d["kind"] == "ExternalSecret"]
            if not w.store_secrets:
                assert external == []
                continue
            workload = next(d for d in built if d["kind"] in ("Deployment", "Job", "CronJob"))
            (es,) = external
            spec = es["spec"]
            assert spec["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": store["metadata"]["name"]}
            assert es["metadata"]["namespace"] == workload["metadata"]["namespace"]
            assert spec["refreshInterval"] and spec["refreshPolicy"] == "Periodic"
            read = {e["valueFrom"]["secretKeyRef"]["name"]: e for c in _pod(workload)["containers"]
                    for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
            target = spec["target"]["name"]
            assert target in read
            keys = {e["valueFrom"]["secretKeyRef"]["key"] for c in _pod(workload)["containers"]
                    for e in c.get("env", []) if e.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == target}
            assert {d["secretKey"] for d in spec["data"]} == keys == set(w.secrets)
    if readers:
        # External Secrets runs on every cluster with a store, installed once there, reading only
        # what gpc writes.
        clusters: dict[str, list[str]] = {}
        for env in platform.environments:
            app = _argocd(platform, env.name).get("external-secrets.yaml")
            if app is not None:
                clusters.setdefault(names.cluster_url(env.cluster), []).append(env.name)
                values = _values(app)
                assert values["webhook"] == {"create": False} and values["processPushSecret"] is False
        assert set(clusters) == {names.cluster_url(e.cluster) for e in platform.environments}
        assert all(len(v) == 1 for v in clusters.values())


def _refs(item: Any) -> list[dict[str, str]]:
    if isinstance(item, dict):
        own = [item] if {"name", "key", "namespace"} <= set(item) else []
        return own + [r for v in item.values() for r in _refs(v)]
    return []


def _custom_resources() -> list[dict[str, Any]]:
    out = []
    for spec in all_spec_files():
        for text in compiled_tree(load_ir(spec)).values():
            if "external-secrets.io/" in text:
                out += [d for d in yaml.safe_load_all(text) if d and (d.get("apiVersion"), d.get("kind")) in ESO_KINDS]
    return out


def test_external_secrets_objects_match_their_crds(tmp_path: Path) -> None:
    node, tsc = crd_tools()
    objects = _custom_resources()
    stores = [o for o in objects if o["kind"] == "ClusterSecretStore"]
    assert {o["kind"] for o in objects} == {"ExternalSecret", "ClusterSecretStore"}
    assert {next(iter(s["spec"]["provider"])) for s in stores} == {"vault", "aws"}  # both providers reached
    assert schema_errors(node, objects) == []
    assert unknown_key_errors(tsc, objects, tmp_path) == []


def test_the_external_secrets_crd_checks_bite(tmp_path: Path) -> None:
    node, tsc = crd_tools()
    # A workload's ExternalSecret, which reads a store (a preview's reads a Password generator instead).
    external = next(o for o in _custom_resources() if o["kind"] == "ExternalSecret" and "secretStoreRef" in o["spec"])
    wrong_type = yaml.safe_load(yaml.safe_dump(external))
    wrong_type["spec"]["secretStoreRef"]["kind"] = "Vault"  # an enum of the CRD
    misspelled = yaml.safe_load(yaml.safe_dump(external))
    misspelled["spec"]["data"][0]["remoteRef"]["propery"] = "x"
    assert len(schema_errors(node, [external, wrong_type])) == 1
    assert schema_errors(node, [misspelled]) == []  # the CRD schema allows unknown keys
    assert len(unknown_key_errors(tsc, [external, misspelled], tmp_path)) == 1
