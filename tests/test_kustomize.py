"""The kustomize target, proven by kustomize itself: every overlay of every valid spec is built
with `kubectl kustomize`, validated strictly with kubernetes-validate for the spec's Kubernetes
version, and the built objects are compared with the IR (the wiring contract, the overrides, the
hardening, the NetworkPolicies). Builds are cached per spec for the module."""

from __future__ import annotations

import ipaddress
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import all_spec_files, require_tool, spec_id

from compiler import names, writer
from compiler.ir import Environment, EnvVar, Platform, Workload
from compiler.pipeline import check
from compiler.target import Artifact
from targets.kustomize import TARGET
from targets.kustomize.writable import with_home

# A spec for what the shipped specs do not reach: a PodDisruptionBudget an environment removes,
# a GPU an environment takes away, a job with no variables in the base, a volume named `tmp`, a
# volume mounted at /tmp, the Kubernetes API.
EDGE_SPEC = """\
version: 1
name: edge
registry: ghcr.io/acme
gitops: {repo: https://github.com/acme/edge.git}
environments:
  dev: {}
  prod:
    overrides:
      workloads:
        web: {replicas: 1, env: {MODE: prod}}
        batch: {resources: {gpu: 0}, env: {MODE: prod}}
storage:
  volumes:
    tmp: {size: 1Gi, access_mode: ReadWriteMany}
    state: {size: 1Gi, access_mode: ReadWriteOnce}
guardrails:
  max: {job: {cpu: "4", memory: 8Gi, gpu: 1}}
workloads:
  web:
    type: service
    port: 8080
    replicas: 2
    uses: {scratch: {volume: tmp, mount: /scratch}}
  solo:
    type: service
    port: 9090
    uses: {state: {volume: state, mount: /tmp}, web: {service: web}}
  batch:
    type: job
    resources: {cpu: "1", memory: 1Gi, gpu: 1}
    api_access: true
    uses: {web: {service: web}}
"""

SPEC_IDS = [spec_id(p) for p in all_spec_files()] + ["edge"]
NAME, INSTANCE = "app.kubernetes.io/name", "app.kubernetes.io/instance"
RECOMMENDED = (NAME, INSTANCE, "app.kubernetes.io/component", "app.kubernetes.io/part-of",
               "app.kubernetes.io/managed-by")
WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")
# Custom resources: kubernetes-validate knows only built-in kinds; tests/test_contract_edges.py
# validates these against their CRDs' schemas.
CUSTOM_RESOURCES = {
    ("gateway.networking.k8s.io/v1", "Gateway"),
    ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("cert-manager.io/v1", "Certificate"),
    ("cilium.io/v2", "CiliumNetworkPolicy"),
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
    ("postgresql.cnpg.io/v1", "Cluster"),  # against the chart's CRD schemas: tests/test_contract_cnpg.py
    ("postgresql.cnpg.io/v1", "ScheduledBackup"),
    ("external-secrets.io/v1", "ExternalSecret"),  # CRDs: test_contract_secrets.py
    ("external-secrets.io/v1", "ClusterSecretStore"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),  # validated by tests/test_monitoring.py
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"),
}


@dataclass
class Compiled:
    """One spec compiled with the kustomize target, and every overlay built."""

    id: str
    platform: Platform
    tree: Path
    artifacts: list[Artifact]
    builds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # overlay dir -> documents

    def docs(self, overlay: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [d for d in self.builds[overlay] if kind is None or d["kind"] == kind]

    def one(self, overlay: str, kind: str, name: str) -> dict[str, Any]:
        found = [d for d in self.docs(overlay, kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"{overlay}: expected one {kind}/{name}, found {len(found)}"
        return found[0]

    def workload(self, w: Workload, env: str) -> dict[str, Any]:
        found = [d for d in self.builds[names.overlay_dir(w.name, env)] if d["kind"] in WORKLOAD_KINDS
                 and d["metadata"]["name"] == w.name]  # not the owner's migration Job
        assert len(found) == 1
        return found[0]


def spec_path(sid: str, scratch: Path) -> Path:
    if sid == "edge":
        path = scratch / "edge.yaml"
        path.write_text(EDGE_SPEC, encoding="utf-8")
        return path
    return next(p for p in all_spec_files() if spec_id(p) == sid)


def compile_spec(spec: Path, out: Path) -> tuple[Platform, list[Artifact], Path]:
    result = check(spec)
    assert result.ok and result.platform is not None, [d.message for d in result.diagnostics]
    platform = result.platform
    assert TARGET.check(platform) == []
    artifacts = TARGET.render(platform)
    tree = out / platform.spec_name
    writer.apply(writer.plan(artifacts, tree))
    return platform, artifacts, tree


def kustomize_build(kubectl: str, folder: Path) -> list[dict[str, Any]]:
    done = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"kubectl kustomize {folder} failed:\n{done.stderr}"
    return [d for d in yaml.safe_load_all(done.stdout) if d is not None]


def overlay_dirs(platform: Platform) -> list[str]:
    dirs = [names.overlay_dir(w.name, e.name) for w in platform.workloads for e in platform.environments_of(w)]
    dirs += [names.platform_overlay_dir(e.name) for e in platform.environments]
    return dirs + [names.databases_dir(e.name) for e in platform.environments
                   if platform.databases and "infra" in e.namespaces]


def compile_and_build(spec: Path, out: Path, sid: str) -> Compiled:
    kubectl = require_tool("kubectl")
    platform, artifacts, tree = compile_spec(spec, out)
    compiled = Compiled(sid, platform, tree, artifacts)
    dirs = overlay_dirs(platform)
    with ThreadPoolExecutor(max_workers=4) as pool:
        built = pool.map(lambda d: kustomize_build(kubectl, tree / d), dirs)
        compiled.builds = dict(zip(dirs, built, strict=True))
    return compiled


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Compiled]:
    cache: dict[str, Compiled] = {}

    def get(sid: str) -> Compiled:
        if sid not in cache:
            scratch = tmp_path_factory.mktemp(f"kustomize-{sid}")
            cache[sid] = compile_and_build(spec_path(sid, scratch), scratch / "out", sid)
        return cache[sid]

    return get


@pytest.fixture(scope="module", params=SPEC_IDS)
def compiled(request: pytest.FixtureRequest, trees: Callable[[str], Compiled]) -> Compiled:
    return trees(request.param)


def pod_template(obj: dict[str, Any]) -> dict[str, Any]:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]  # type: ignore[no-any-return]
    return obj["spec"]["template"]  # type: ignore[no-any-return]


def container_of(obj: dict[str, Any]) -> dict[str, Any]:
    return pod_template(obj)["spec"]["containers"][0]  # type: ignore[no-any-return]


def containers(c: Compiled) -> Iterator[tuple[Workload, str, dict[str, Any], dict[str, Any]]]:
    for w in c.platform.workloads:
        for env in c.platform.environments_of(w):
            pod = pod_template(c.workload(w, env.name))["spec"]
            assert len(pod["containers"]) == 1
            yield w, env.name, pod, pod["containers"][0]


def expected_envs(w: Workload, env: str) -> list[dict[str, Any]]:
    """The container's variables: the placement's, and gpc's writable HOME where the spec sets none."""
    return [expected_env(v) for v in with_home(w, w.placement(env).env_vars)]


def deliver(c: Compiled, w: Workload, env: str, tag: str, scratch: Path) -> list[dict[str, Any]]:
    """The overlay built after CI's deliver step rewrote its image component (whole, images only),
    in a copy of the compiled tree."""
    import shutil

    tree = scratch / f"delivered-{w.name}-{env}"
    shutil.copytree(c.tree, tree)
    component = tree / names.image_component_dir(w.name, env) / "kustomization.yaml"
    component.write_text(yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
                                         "images": [{"name": w.image, "newTag": tag}]}), encoding="utf-8")
    return kustomize_build(require_tool("kubectl"), tree / names.overlay_dir(w.name, env))


def expected_env(var: EnvVar) -> dict[str, Any]:
    if var.secret is not None:
        secret = {"name": var.secret.name, "key": var.secret.key}
        return {"name": var.name, "valueFrom": {"secretKeyRef": secret}}
    if var.config_map is not None:
        ref = {"name": var.config_map.name, "key": var.config_map.key}
        return {"name": var.name, "valueFrom": {"configMapKeyRef": ref}}
    return {"name": var.name, "value": var.value}


# -- structure -------------------------------------------------------------------------------


def test_overlays_are_exactly_the_paths_argocd_points_at(compiled: Compiled) -> None:
    expected = set(overlay_dirs(compiled.platform))
    found = {str(p.parent.relative_to(compiled.tree))
             for p in (compiled.tree / "kustomize").rglob("kustomization.yaml")
             if "/overlays/" in str(p) and p.parent.name != "image"}
    assert found == expected
    for w in compiled.platform.workloads:
        for env in compiled.platform.environments_of(w):
            path = compiled.tree / names.overlay_dir(w.name, env.name) / "kustomization.yaml"
            overlay = yaml.safe_load(path.read_text("utf-8"))
            component = names.image_component_dir(w.name, env.name)
            # the workload's shared Components (targets/kustomize/shared.py), then CI's image Component last
            *shared, image = overlay["components"]
            assert image == component.rsplit("/", 1)[1]
            assert all(s.startswith("../../components/") for s in shared), shared
            assert (compiled.tree / component / "kustomization.yaml").is_file()


def test_every_built_document_passes_strict_validation(compiled: Compiled) -> None:
    import kubernetes_validate

    version = compiled.platform.kubernetes_version
    errors = []
    for overlay, docs in compiled.builds.items():
        assert docs, f"{overlay} built nothing"
        for doc in docs:
            if (doc["apiVersion"], doc["kind"]) in CUSTOM_RESOURCES:
                continue
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as err:
                errors.append(f"{overlay} {doc['kind']}/{doc['metadata']['name']}: {str(err).splitlines()[0]}")
    assert not errors, "\n".join(errors)


def test_every_artifact_is_generated_yaml_under_kustomize(compiled: Compiled) -> None:
    for a in compiled.artifacts:
        assert a.path.startswith("kustomize/") and a.text.endswith("\n")
        assert compiled.platform.spec_file in a.text.splitlines()[0]
        list(yaml.safe_load_all(a.text))
        is_image = a.path.endswith("/image/kustomization.yaml")
        assert (a.owner == "ci") == is_image
        if not is_image:
            assert a.text.startswith("# Generated by gpc from ")


# -- every object as the IR says ---------------------------------------------------------------


def test_objects_land_in_the_placement_namespace_with_recommended_labels(compiled: Compiled) -> None:
    for w in compiled.platform.workloads:
        for env in compiled.platform.environments_of(w):
            placement = w.placement(env.name)
            instance = names.argocd_application(compiled.platform.name, env.name, w.name)
            for doc in compiled.docs(names.overlay_dir(w.name, env.name)):
                meta = doc["metadata"]
                assert meta["namespace"] == placement.namespace, (w.name, env.name, doc["kind"])
                labels = meta["labels"]
                assert set(RECOMMENDED) <= set(labels), (doc["kind"], labels)
                # The owner's migration Job and its NetworkPolicy are named after the workload.
                assert labels[NAME] in (w.name, names.migration_job(w.name)) and labels[INSTANCE] == instance
                assert labels["app.kubernetes.io/part-of"] == compiled.platform.name
                assert labels["app.kubernetes.io/managed-by"] == "gpc"
            obj = compiled.workload(w, env.name)
            assert set(RECOMMENDED) <= set(pod_template(obj)["metadata"]["labels"])
            if obj["kind"] == "CronJob":
                assert set(RECOMMENDED) <= set(obj["spec"]["jobTemplate"]["metadata"]["labels"])


def test_workload_values_equal_the_placement(compiled: Compiled) -> None:
    for w, env, _pod, container in containers(compiled):
        placement = w.placement(env)
        obj = compiled.workload(w, env)
        assert container["image"] == f"{w.image}:{w.initial_tag}"
        assert container["env"] == expected_envs(w, env), (w.name, env)
        res = placement.effective_resources
        gpu = {"nvidia.com/gpu": str(res.gpu)} if res.gpu else {}
        cpu_request, memory_request = res.requests
        requests = {"cpu": cpu_request, "memory": memory_request, **gpu}
        limits = {**({"cpu": res.cpu} if res.cpu_limited else {}), "memory": res.memory, **gpu}
        assert container["resources"] == {"requests": requests, "limits": limits}, (w.name, env)
        # A workload that awaits its first image is down until CI delivers (test_contract_workloads).
        waiting = w.awaits_delivery
        assert (names.AWAITING_DELIVERY in obj["metadata"].get("annotations", {})) is waiting
        if w.kind == "Deployment":
            # A scaled Deployment's count is its autoscaler's: gpc sets none (tests/test_contract_scaling.py).
            want = 0 if waiting else None if placement.autoscale is not None else placement.replicas.value
            assert obj["kind"] == "Deployment" and obj["spec"].get("replicas") == want
        elif placement.schedule is not None:
            assert obj["kind"] == "CronJob" and obj["spec"]["schedule"] == placement.schedule.value
            assert obj["spec"].get("suspend", False) is waiting
        else:
            assert obj["kind"] == "Job" and obj["spec"].get("suspend", False) is waiting
        if w.command is not None:
            assert container["command"] == list(w.command)
        if w.args is not None:
            assert container["args"] == list(w.args)


def test_quantities_are_strings_in_the_generated_files(compiled: Compiled) -> None:
    for a in compiled.artifacts:
        for doc in yaml.safe_load_all(a.text):
            for value in _find_key(doc, ("requests", "limits")):
                assert all(isinstance(v, str) for v in value.values()), (a.path, value)


def _find_key(node: Any, keys: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in keys and isinstance(v, dict):
                yield v
            yield from _find_key(v, keys)
    elif isinstance(node, list):
        for item in node:
            yield from _find_key(item, keys)


def test_every_container_is_hardened(compiled: Compiled) -> None:
    for w, env, pod, c in containers(compiled):
        where = (w.name, env)
        sc = c["securityContext"]
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] >= 10000 and sc["runAsGroup"] >= 10000, where
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, where
        assert sc["privileged"] is False and sc["capabilities"] == {"drop": ["ALL"]}, where
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert pod["automountServiceAccountToken"] is w.api_access, where
        assert pod["serviceAccountName"] == w.service_account, where
        assert c["imagePullPolicy"] == "Always", where
        # Requests equal limits unless the spec lowers them (resources.requests, cpu_limit: false).
        res = w.placement(env).effective_resources
        if res.requests == (res.cpu, res.memory) and res.cpu_limited:
            assert c["resources"]["requests"] == c["resources"]["limits"], where
        assert {"cpu", "memory"} <= set(c["resources"]["requests"]), where
        assert ({"cpu", "memory"} if res.cpu_limited else {"memory"}) <= set(c["resources"]["limits"]), where
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        tmp = mounts["/tmp"]
        tmp_use = [u for u in w.volumes if u.mount == "/tmp"]
        if not tmp_use:
            assert "emptyDir" in volumes[tmp["name"]] and not tmp.get("readOnly"), where
        for use in w.volumes:
            mount = mounts[use.mount]
            assert bool(mount.get("readOnly")) is use.read_only, where
            assert volumes[mount["name"]]["persistentVolumeClaim"]["claimName"] == use.target, where
        if w.type == "service":
            metrics = ([{"name": "metrics", "containerPort": w.metrics.port, "protocol": "TCP"}]
                       if w.metrics is not None and w.metrics.port != w.port else [])
            assert c["ports"] == [{"name": "http", "containerPort": w.port, "protocol": "TCP"}, *metrics]
            assert c["livenessProbe"]["httpGet"] == {"path": w.health_path, "port": "http"}, where
            assert c["readinessProbe"]["httpGet"] == {"path": w.readiness_path, "port": "http"}, where
        elif w.type == "worker":
            # No port but its metrics port, no HTTP probe; the one probe the spec names (if any) is
            # liveness and readiness.
            metrics = [{"name": "metrics", "containerPort": w.metrics.port, "protocol": "TCP"}] if w.metrics else []
            assert c.get("ports", []) == metrics and "restartPolicy" not in pod, where
            if w.probe_exec is None and w.probe_tcp_port is None:
                assert "livenessProbe" not in c and "readinessProbe" not in c, where
            else:
                check = ({"exec": {"command": list(w.probe_exec)}} if w.probe_exec is not None
                         else {"tcpSocket": {"port": w.probe_tcp_port}})
                assert c["livenessProbe"] == c["readinessProbe"], where
                assert {k: c["livenessProbe"][k] for k in check} == check, where
                assert c["livenessProbe"]["initialDelaySeconds"] == w.health_initial_delay, where
        else:
            assert pod["restartPolicy"] == "Never", where
    # ServiceAccounts are Terraform's (with the RBAC of api_access): Argo CD must not own them too.
    assert not [d for docs in compiled.builds.values() for d in docs if d["kind"] == "ServiceAccount"]


def test_services_get_a_service_and_a_pdb_only_with_several_replicas(compiled: Compiled) -> None:
    for w in compiled.platform.services:
        for env in compiled.platform.environments_of(w):
            overlay = names.overlay_dir(w.name, env.name)
            svc = compiled.one(overlay, "Service", w.name)
            port = {"name": "http", "port": w.port, "targetPort": "http", "protocol": "TCP"}
            assert svc["spec"]["ports"] == [port]
            assert svc["spec"]["selector"] == {NAME: w.name}
            pdbs = compiled.docs(overlay, "PodDisruptionBudget")
            if w.placement(env.name).replicas.value > 1:
                want = {"maxUnavailable": 1, "selector": {"matchLabels": {NAME: w.name}}}
                assert [p["spec"] for p in pdbs] == [want]
            else:
                assert pdbs == [], (w.name, env.name)


def test_workers_get_no_service_and_a_pdb_only_with_several_replicas(compiled: Compiled) -> None:
    for w in compiled.platform.workers:
        for env in compiled.platform.environments_of(w):
            overlay = names.overlay_dir(w.name, env.name)
            assert compiled.docs(overlay, "Service") == [], (w.name, env.name)
            assert [d["kind"] for d in compiled.docs(overlay, "Deployment")] == ["Deployment"]
            pdbs = compiled.docs(overlay, "PodDisruptionBudget")
            assert len(pdbs) == (1 if w.placement(env.name).replicas.value > 1 else 0), (w.name, env.name)
            assert w.placement(env.name).namespace == env.namespaces["services"]


def test_gpu_workloads_are_scheduled_on_gpu_nodes_only(compiled: Compiled) -> None:
    for w, env, pod, c in containers(compiled):
        gpu = w.placement(env).effective_resources.gpu
        if gpu:
            assert c["resources"]["limits"]["nvidia.com/gpu"] == str(gpu)
            assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
            assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
        else:
            assert "nvidia.com/gpu" not in c["resources"]["limits"]
            assert "nodeSelector" not in pod and "tolerations" not in pod, (w.name, env)


def test_jobs_rerun_on_change_and_cronjobs_clean_up(compiled: Compiled) -> None:
    for w in compiled.platform.jobs:
        for env in compiled.platform.environments_of(w):
            obj = compiled.workload(w, env.name)
            annotations = obj["metadata"].get("annotations", {})
            spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
            assert spec["backoffLimit"] == (w.retries or 0)
            # `timeout` is per attempt (the pod's deadline); the Job's bounds every attempt together.
            assert spec["template"]["spec"].get("activeDeadlineSeconds") == w.timeout_seconds
            assert spec.get("activeDeadlineSeconds") == w.deadline_seconds
            if w.timeout_seconds is not None:
                assert spec["activeDeadlineSeconds"] >= (spec["backoffLimit"] + 1) * w.timeout_seconds
            if obj["kind"] == "CronJob":
                assert obj["spec"]["concurrencyPolicy"] == (w.concurrency or "Forbid")
                zone = w.placement(env.name).time_zone
                assert obj["spec"].get("timeZone") == (zone.value if zone else None), (w.name, env.name)
                assert obj["spec"]["startingDeadlineSeconds"] == w.starting_deadline_seconds
                assert obj["spec"]["failedJobsHistoryLimit"] >= 1
                # A TTL would delete failed runs and their logs too: only when the spec asks for it.
                assert spec.get("ttlSecondsAfterFinished") == w.ttl_seconds
                assert "argocd.argoproj.io/sync-options" not in annotations
            else:
                # Argo CD deletes and re-creates a changed Job: a new image is a new run.
                options = annotations["argocd.argoproj.io/sync-options"].split(",")
                assert {"Force=true", "Replace=true"} <= set(options)
                # A garbage-collected Job would look missing to Argo CD, and self-heal would re-run it.
                assert "ttlSecondsAfterFinished" not in spec


def test_contract_config_map_carries_the_schemas_the_env_points_at(compiled: Compiled) -> None:
    import json

    for w in compiled.platform.workloads:
        for env in compiled.platform.environments_of(w):
            overlay = names.overlay_dir(w.name, env.name)
            refs = [v.config_map for v in w.placement(env.name).env_vars if v.config_map is not None]
            maps = [m for m in compiled.docs(overlay, "ConfigMap")  # not the Grafana dashboards
                    if m["metadata"].get("labels", {}).get("grafana_dashboard") != "1"]
            if not refs:
                assert maps == []
                continue
            assert w.contract_config_map is not None
            data = compiled.one(overlay, "ConfigMap", w.contract_config_map)["data"]
            assert sorted(data) == sorted(r.key for r in refs)
            # Pods read the schemas at start: the template carries their digest, so a new contract rolls them.
            digest = pod_template(compiled.workload(w, env.name))["metadata"]["annotations"]["gpc.dev/contract-sha256"]
            assert len(digest) == 64 and int(digest, 16) >= 0
            for ref in refs:
                queue = compiled.platform.queue(ref.key.removesuffix(".schema.json"))
                assert ref.key == names.schema_key(queue.name)
                assert json.loads(data[ref.key]) == queue.message_schema
            # Producers and consumers of one queue read byte-identical schemas.
            for ref in refs:
                for other in compiled.platform.workloads:
                    if other.contract_config_map and any(u.target == ref.key.removesuffix(".schema.json")
                                                         for u in other.queues):
                        theirs = compiled.one(names.overlay_dir(other.name, env.name), "ConfigMap",
                                              other.contract_config_map)["data"][ref.key]
                        assert theirs == data[ref.key]


# -- NetworkPolicies -------------------------------------------------------------------------


Peer = tuple[str | None, tuple[tuple[str, str], ...], tuple[tuple[str, int], ...]]


def _peers(rules: list[dict[str, Any]], side: str) -> set[Peer]:
    out: set[Peer] = set()
    for rule in rules:
        ports = tuple(sorted((p["protocol"], p["port"]) for p in rule.get("ports", [])))
        for peer in rule.get(side, [None]):
            if peer is None:
                out.add((None, (), ports))
                continue
            if "ipBlock" in peer:
                block = peer["ipBlock"]
                cut = f" except {sorted(block['except'])}" if block.get("except") else ""
                out.add((f"ipBlock {block['cidr']}{cut}", (), ports))
                continue
            ns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            pods = tuple(sorted(peer.get("podSelector", {}).get("matchLabels", {}).items()))
            out.add((ns, pods, ports))
    return out


def dns_peers(env: Environment) -> set[Peer]:
    """What the environment's DNS settings say every pod may reach, written out from the spec's terms."""
    dns = env.dns
    ports = tuple(sorted((proto, p) for p in dns.ports for proto in ("TCP", "UDP")))
    out: set[Peer] = {(dns.namespace, dns.pod_labels, ports)}
    if dns.node_local_address is not None:
        out.add((f"ipBlock {dns.node_local_address}/32", (), ports))
    return out


DEFAULT_DNS: Peer = ("kube-system", (("k8s-app", "kube-dns"),), (("TCP", 53), ("UDP", 53)))


def test_network_policies_allow_exactly_what_uses_declares(compiled: Compiled) -> None:
    p = compiled.platform
    for w in p.workloads:
        for env in p.environments_of(w):
            policy = compiled.one(names.overlay_dir(w.name, env.name), "NetworkPolicy", w.name)["spec"]
            assert policy["podSelector"] == {"matchLabels": {NAME: w.name}}
            assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
            callers = [c for c in p.workloads_in(env.name) if any(u.target == w.name for u in c.calls)]
            want_in: set[Peer] = {(c.placement(env.name).namespace, ((NAME, c.name),), (("TCP", w.port or 0),))
                                  for c in callers}
            if w.port is not None:  # callers the spec admits, and the gateway's pods where exposed
                want_in |= {(a.namespace, a.pods, (("TCP", w.port),)) for a in w.admit}
                if w.placement(env.name).route is not None and env.edge is not None:
                    want_in.add((env.edge.proxy.namespace, env.edge.proxy.pods, (("TCP", w.port),)))
            if env.monitoring is not None and w.metrics is not None:  # the Prometheus, to the metrics port
                scraper = env.monitoring.scraper
                want_in.add((scraper.namespace, scraper.pods, (("TCP", w.metrics.port),)))
            assert _peers(policy.get("ingress") or [], "from") == want_in, (w.name, env.name)
            want_out: set[Peer] = dns_peers(env)
            for callee in {u.target for u in w.calls}:
                target = p.workload(callee)
                namespace = target.placement(env.name).namespace
                want_out.add((namespace, ((NAME, callee),), (("TCP", target.port or 0),)))
            if w.queues:
                want_out.add((env.infra_namespace, ((NAME, "rabbitmq"),), (("TCP", names.BROKER_PORT),)))
            if w.buckets:
                want_out.add((env.infra_namespace, ((NAME, "minio"),), (("TCP", names.OBJECT_STORE_PORT),)))
            if w.database is not None:
                want_out.add((env.infra_namespace, ((names.DATABASE_POD_LABEL, w.database.target),),
                              (("TCP", names.DATABASE_PORT),)))
            if w.api_access:
                want_out.add((None, (), (("TCP", 443), ("TCP", 6443))))
            if w.type == "job" and env.monitoring is not None:  # its run metrics, to the Pushgateway only
                want_out.add((env.infra_namespace, names.PUSHGATEWAY_POD, (("TCP", names.PUSHGATEWAY_PORT),)))
            for e in w.egress:
                if e.cidr is not None:
                    block = ipaddress.ip_network(e.cidr)
                    inside = sorted(c for c in env.network.cluster_cidrs if ipaddress.ip_network(c).version ==
                                    block.version and ipaddress.ip_network(c).subnet_of(block))  # type: ignore[arg-type]
                    cut = f" except {inside}" if inside else ""
                    want_out.add((f"ipBlock {e.cidr}{cut}", (), tuple((e.protocol, p) for p in e.ports)))
            assert _peers(policy["egress"], "to") == want_out, (w.name, env.name)


def test_platform_overlay_denies_by_default_and_admits_declared_users(compiled: Compiled) -> None:
    p = compiled.platform
    for env in p.environments:
        docs = compiled.docs(names.platform_overlay_dir(env.name), "NetworkPolicy")
        deny = {d["metadata"]["namespace"] for d in docs if d["metadata"]["name"] == "default-deny"
                and d["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
        assert deny == set(env.namespaces.values())
        infra = {d["metadata"]["name"]: d["spec"] for d in docs
                 if d["metadata"]["namespace"] == env.infra_namespace}
        for name, port, every_user in (("rabbitmq", names.BROKER_PORT, [w for w in p.workloads if w.queues]),
                                       ("minio", names.OBJECT_STORE_PORT, [w for w in p.workloads if w.buckets])):
            if not every_user:
                assert f"{name}-clients" not in infra
                continue
            users = [w for w in every_user if w.enabled_in(env.name)]  # switched-off ones are not admitted
            spec = infra[f"{name}-clients"]
            assert spec["podSelector"] == {"matchLabels": {NAME: name}}
            admitted = {peer for peer in _peers(spec["ingress"], "from") if peer[2]}
            users_in = {(w.placement(env.name).namespace, ((NAME, w.name),), (("TCP", port),)) for w in users}
            if name == "rabbitmq" and any(w.placement(env.name).autoscale is not None
                                          and w.placement(env.name).autoscale.queue is not None for w in users):
                # KEDA's operator reads the depth of the queues workloads scale on.
                users_in.add((names.KEDA_NAMESPACE, names.KEDA_OPERATOR_POD, (("TCP", port),)))
            if name == "rabbitmq" and env.monitoring is not None:  # the Prometheus, to the metrics port
                scraper = env.monitoring.scraper
                users_in.add((scraper.namespace, scraper.pods, (("TCP", names.BROKER_METRICS_PORT),)))
            if name == "minio" and env.monitoring is not None:  # the Prometheus, to MinIO's metrics (S3) port
                scraper = env.monitoring.scraper
                users_in.add((scraper.namespace, scraper.pods, (("TCP", port),)))
            if name == "minio":  # the instances of the databases backed up here
                users_in |= {(None, ((names.DATABASE_POD_LABEL, db.name),), (("TCP", port),))
                             for db in p.databases if db.size(env.name).backup is not None}
            assert admitted == users_in
        if "infra" in env.namespaces:
            assert _peers(infra["allow-dns"]["egress"], "to") == dns_peers(env)


# -- overrides, with values written out (not derived from the IR) -------------------------------


def test_fraud_prod_overrides_land(trees: Callable[[str], Compiled], tmp_path: Path) -> None:
    c = trees("fraud")
    checkout = c.one(names.overlay_dir("checkout", "prod"), "Deployment", "checkout")
    assert checkout["spec"]["replicas"] == 0  # no image yet
    delivered = deliver(c, c.platform.workload("checkout"), "prod", "a" * 40, tmp_path)
    assert next(d for d in delivered if d["kind"] == "Deployment")["spec"]["replicas"] == 3
    assert c.one(names.overlay_dir("checkout", "dev"), "Deployment", "checkout")["spec"]["replicas"] == 0
    inference = c.one(names.overlay_dir("fraud-inference", "prod"), "Deployment", "fraud-inference")
    assert inference["spec"]["replicas"] == 0
    delivered = deliver(c, c.platform.workload("fraud-inference"), "prod", "a" * 40, tmp_path)
    assert next(d for d in delivered if d["kind"] == "Deployment")["spec"]["replicas"] == 2
    assert inference["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "500m",
                                                                                           "memory": "512Mi"}
    assert c.docs(names.overlay_dir("fraud-inference", "prod"), "PodDisruptionBudget")
    assert not c.docs(names.overlay_dir("fraud-inference", "dev"), "PodDisruptionBudget")
    trainer = c.one(names.overlay_dir("fraud-trainer", "prod"), "CronJob", "fraud-trainer")
    assert trainer["spec"]["schedule"] == "0 */3 * * *"
    assert container_of(trainer)["resources"]["requests"] == {"cpu": "2", "memory": "4Gi"}
    dev = c.one(names.overlay_dir("fraud-trainer", "dev"), "CronJob", "fraud-trainer")
    assert dev["spec"]["schedule"] == "0 */6 * * *"
    assert container_of(checkout)["image"] == "ghcr.io/acme/checkout:gpc-awaiting-first-delivery"
    env = {e["name"]: e.get("value") for e in container_of(checkout)["env"]}
    assert env["FRAUD_URL"] == "http://fraud-inference.fraud-detection-prod-services.svc.cluster.local:8000"


def test_gpu_cron_overrides_land(trees: Callable[[str], Compiled], tmp_path: Path) -> None:
    c = trees("gpu-cron")
    api = c.one(names.overlay_dir("api", "prod"), "Deployment", "api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    assert api["spec"]["replicas"] == 0  # no image yet
    delivered = deliver(c, c.platform.workload("api"), "prod", "b" * 40, tmp_path)
    assert next(d for d in delivered if d["kind"] == "Deployment")["spec"]["replicas"] == 4
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["LOG_LEVEL"] == "warning"
    dev_api = c.one(names.overlay_dir("api", "dev"), "Deployment", "api")
    dev_env = {e["name"]: e.get("value") for e in container_of(dev_api)["env"]}
    assert dev_env["LOG_LEVEL"] == "info"
    staging = c.one(names.overlay_dir("trainer", "staging"), "CronJob", "trainer")
    assert staging["spec"]["schedule"] == "30 2 * * *"
    assert staging["spec"]["timeZone"] == "Europe/Berlin"  # the environment's time zone reaches the CronJob
    assert staging["metadata"]["namespace"] == "vision-stg-jobs"
    prod = pod_template(c.one(names.overlay_dir("trainer", "prod"), "CronJob", "trainer"))["spec"]
    assert prod["containers"][0]["resources"]["limits"] == {"cpu": "8", "memory": "24Gi", "nvidia.com/gpu": "2"}
    assert c.one(names.overlay_dir("trainer", "prod"), "CronJob", "trainer")["spec"]["schedule"] == "0 3 * * 1"
    assert c.one(names.overlay_dir("trainer", "prod"), "CronJob", "trainer")["spec"]["timeZone"] == "Etc/UTC"
    backfill = c.one(names.overlay_dir("backfill", "dev"), "Job", "backfill")
    assert container_of(backfill)["command"] == ["python", "-m", "backfill"]
    # The spec names an existing tag: it runs from day one, nothing is suspended.
    assert container_of(backfill)["image"] == "registry.acme.example:5000/ml/backfill:2024.01"
    assert "suspend" not in backfill["spec"]
    # prod's DNS: its own CoreDNS labels and NodeLocal DNSCache; dev keeps today's default.
    for overlay in (names.overlay_dir("api", "prod"), names.platform_overlay_dir("prod")):
        rules = [r for d in c.docs(overlay, "NetworkPolicy") for r in d["spec"].get("egress", [])]
        assert ("ipBlock 169.254.20.10/32", (), (("TCP", 53), ("UDP", 53))) in _peers(rules, "to")
        assert DEFAULT_DNS not in _peers(rules, "to")
    dev = c.one(names.overlay_dir("api", "dev"), "NetworkPolicy", "api")["spec"]["egress"]
    assert DEFAULT_DNS in _peers(dev, "to")


def test_edge_overrides_remove_what_the_base_adds(trees: Callable[[str], Compiled]) -> None:
    c = trees("edge")
    assert c.docs(names.overlay_dir("web", "dev"), "PodDisruptionBudget")
    assert not c.docs(names.overlay_dir("web", "prod"), "PodDisruptionBudget")
    batch_dev = pod_template(c.one(names.overlay_dir("batch", "dev"), "Job", "batch"))["spec"]
    batch_prod = pod_template(c.one(names.overlay_dir("batch", "prod"), "Job", "batch"))["spec"]
    assert batch_dev["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert "nodeSelector" not in batch_prod and "tolerations" not in batch_prod
    assert batch_prod["containers"][0]["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    assert {"name": "MODE", "value": "prod"} in batch_prod["containers"][0]["env"]
    assert batch_prod["automountServiceAccountToken"] is True
    web = pod_template(c.one(names.overlay_dir("web", "dev"), "Deployment", "web"))["spec"]
    assert {v["name"] for v in web["volumes"]} == {"tmp", "tmp-1"}
    solo = c.one(names.overlay_dir("solo", "dev"), "Deployment", "solo")
    assert solo["spec"]["strategy"] == {"type": "Recreate"}  # a ReadWriteOnce volume cannot roll
    assert [v["name"] for v in pod_template(solo)["spec"]["volumes"]] == ["state"]


def test_ci_owns_the_image_tag(tmp_path: Path) -> None:
    kubectl = require_tool("kubectl")
    spec = next(p for p in all_spec_files() if spec_id(p) == "fraud")
    platform, _artifacts, tree = compile_spec(spec, tmp_path)
    component = tree / names.image_component_dir("checkout", "prod") / "kustomization.yaml"
    bumped = yaml.safe_load(component.read_text("utf-8"))
    bumped["images"][0]["newTag"] = "2.7.1"
    component.write_text(yaml.safe_dump(bumped), encoding="utf-8")  # what the workload's CI does
    again = writer.plan(TARGET.render(platform), tree)
    assert not again.changed and not again.conflicts, "a regeneration must never revert CI's tag"
    docs = kustomize_build(kubectl, tree / names.overlay_dir("checkout", "prod"))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/checkout:2.7.1"
    base = yaml.safe_load((tree / "kustomize/checkout/base/deployment.yaml").read_text("utf-8"))
    assert base["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/acme/checkout"
