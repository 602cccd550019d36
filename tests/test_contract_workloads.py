"""Day-one contracts of the workloads, over every spec (specs/ and tests/cases/valid/): the whole
compiled tree is written out, every workload overlay is built with the real `kubectl kustomize`,
and the built objects are held against the spec as written (its raw YAML, not the IR):

- images: every pod pulls with the registry's pull secret when the registry is private, and the
  Terraform that creates the ServiceAccounts lists it on each of them;
- tags: no workload runs a tag that neither CI wrote nor the spec named; one that awaits its first
  image is scaled to zero or suspended, and the deliver step the github target generates brings
  it up (the step is run for real);
- jobs: each pod's deadline is the spec's `timeout` (one attempt), the Job's covers every attempt,
  failed runs are kept, scheduled runs have a starting deadline;
- HOME is a writable directory.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import compiled_tree, require_tool
from test_terraform_support import blocks, call, locals_of, module_texts, parse_module, run_terraform

from compiler import names
from compiler.ir import Platform, Workload
from compiler.model import duration_seconds

SHA = "0123456789abcdef0123456789abcdef01234567"
WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")

Builds = dict[str, list[dict[str, Any]]]  # overlay dir -> built documents


class Tree:
    """One spec's compiled tree on disk, laid out like the GitOps repository, with its overlays built."""

    def __init__(self, platform: Platform, root: Path) -> None:
        self.platform = platform
        self.root = root
        self.repo = root / "gitops"  # where the workflows check the GitOps repository out
        self.tree = self.repo / platform.gitops_path
        self.files = compiled_tree(platform)
        for path, text in self.files.items():
            target = self.tree / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.builds: Builds = {d: build(self.tree / d) for d in workload_overlays(platform)}

    def workload(self, w: Workload, env: str) -> dict[str, Any]:
        found = [d for d in self.builds[names.overlay_dir(w.name, env)] if d["kind"] in WORKLOAD_KINDS
                 and d["metadata"]["name"] == w.name]  # not the owner's migration Job (a PreSync hook)
        assert len(found) == 1, (w.name, env, [d["kind"] for d in found])
        return found[0]


def build(folder: Path) -> list[dict[str, Any]]:
    done = subprocess.run([require_tool("kubectl"), "kustomize", str(folder)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"kubectl kustomize {folder}:\n{done.stderr}"
    return [d for d in yaml.safe_load_all(done.stdout) if d is not None]


def workload_overlays(platform: Platform) -> list[str]:
    return [names.overlay_dir(w.name, e.name) for w in platform.workloads for e in platform.environments_of(w)]


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Platform], Tree]:
    cache: dict[str, Tree] = {}

    def get(platform: Platform) -> Tree:
        if platform.spec_file not in cache:
            cache[platform.spec_file] = Tree(platform, tmp_path_factory.mktemp("contract"))
        return cache[platform.spec_file]

    return get


@pytest.fixture
def tree(platform: Platform, trees: Callable[[Platform], Tree]) -> Tree:
    return trees(platform)


def raw_spec(platform: Platform) -> dict[str, Any]:
    """The spec as written (team files merged in, as the loader read them), before any default."""
    assert platform.source is not None
    data = platform.source.data
    assert isinstance(data, dict)
    return data


def raw_workload(platform: Platform, name: str) -> dict[str, Any]:
    return raw_spec(platform)["workloads"][name]  # type: ignore[no-any-return]


def seconds(value: object) -> int:
    return value if isinstance(value, int) else duration_seconds(str(value))


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return obj["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def placements(tree: Tree) -> Iterator[tuple[Workload, str, dict[str, Any]]]:
    for w in tree.platform.workloads:
        for env in tree.platform.environments_of(w):
            yield w, env.name, tree.workload(w, env.name)


# -- images come from a registry the cluster can read -------------------------------------------


def test_every_pod_pulls_with_the_registry_secret_when_the_registry_is_private(tree: Tree) -> None:
    auth = raw_spec(tree.platform).get("registry_auth", "pull-secret")  # the documented default
    for w, env, obj in placements(tree):
        pulls = pod_spec(obj).get("imagePullSecrets")
        if auth == "pull-secret":
            assert pulls == [{"name": names.IMAGE_PULL_SECRET}], (w.name, env)
        else:
            assert pulls is None, (w.name, env, auth)


def _cluster_module(tree: Tree, env: str) -> dict[str, Any]:
    return parse_module(module_texts(tree.files, env, "cluster"))


def _host(image: str) -> str:
    first, _, rest = image.partition("/")
    return first if rest and ("." in first or ":" in first) else "docker.io"


def test_every_service_account_lists_the_pull_secret_terraform_creates(tree: Tree) -> None:
    private = raw_spec(tree.platform).get("registry_auth", "pull-secret") == "pull-secret"
    for env in tree.platform.environments:
        module = _cluster_module(tree, env.name)
        local = locals_of(module)
        (account,) = blocks(module, "resource", "kubernetes_service_account_v1").values()
        secrets = blocks(module, "resource", "kubernetes_secret_v1")
        variables = {name for block in module.get("variable", []) for name in block}
        if not private:
            assert "image_pull_secret" not in account and "image_pull" not in secrets
            assert "registry_credentials" not in variables
            continue
        # Every ServiceAccount (one per workload, for_each) lists the Secret of its own namespace...
        assert account["for_each"] == "${var.workloads}"
        assert call(module, "workloads")["workloads"] == "${local.workloads}"
        assert account["image_pull_secret"] == [{"name": "${var.image_pull_secrets[each.value.group]}"}]
        # ... the names module image_pull reads back from the Secrets it created (so they exist first) ...
        assert call(module, "workloads")["image_pull_secrets"] == "${module.image_pull.secrets}"
        (output,) = [o["secrets"] for o in module["output"] if "secrets" in o and "image_pull" in o["secrets"]["value"]]
        assert output["value"] == "${{for group, secret in kubernetes_secret_v1.image_pull : group => secret.metadata[0].name}}"
        # ... which exists in the namespace of every workload, under the name the pods use ...
        pull = secrets["image_pull"]
        assert pull["for_each"] == "${toset(var.groups)}"
        assert call(module, "image_pull")["groups"] == "${local.image_pull_groups}"
        assert set(local["image_pull_groups"]) == {w["group"] for w in local["workloads"].values()}
        assert pull["metadata"][0]["name"] == "${var.secret_name}"
        assert call(module, "image_pull")["secret_name"] == "${local.image_pull_secret}"
        assert local["image_pull_secret"] == names.IMAGE_PULL_SECRET
        assert pull["type"] == "kubernetes.io/dockerconfigjson"
        # ... holds a login for every registry an image comes from, written only, never stored.
        built = {pod_spec(tree.workload(w, env.name))["containers"][0]["image"].rsplit(":", 1)[0]
                 for w in tree.platform.workloads_in(env.name)}
        assert local["registry_hosts"] == sorted({_host(i) for i in built})
        assert set(pull["data_wo"]) == {".dockerconfigjson"} and "data" not in pull
        assert {"registry_credentials", "registry_credentials_revision"} <= variables


def test_the_pull_secret_is_a_docker_config_and_its_credentials_are_checked(tmp_path: Path) -> None:
    """Terraform itself evaluates the generated `.dockerconfigjson` expression (with the variable made
    non-ephemeral so an output can show it) and the variable's validations."""
    from conftest import ROOT, load_ir

    terraform = require_tool("terraform")
    platform = load_ir(ROOT / "specs" / "fraud.yaml")
    files = compiled_tree(platform)
    prefix = "terraform/dev/cluster/"
    module = parse_module(module_texts(files, "dev", "cluster"))
    expression = blocks(module, "resource", "kubernetes_secret_v1")["image_pull"]["data_wo"][".dockerconfigjson"]
    assert expression.startswith("${") and expression.endswith("}")
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "main.tf").write_text(
        'variable "registry_credentials" {\n  type = map(object({ username = string, password = string }))\n}\n'
        f'output "config" {{\n  value     = {expression[2:-1]}\n  sensitive = true\n}}\n', encoding="utf-8")
    login = '{"ghcr.io":{"username":"octocat","password":"ghp_token"}}'
    for args in (["init"], ["apply", "-auto-approve"]):
        done = run_terraform(terraform, args, probe, {"TF_VAR_registry_credentials": login})
        assert done.returncode == 0, done.stderr
    shown = run_terraform(terraform, ["output", "-raw", "config"], probe)
    import base64
    import json

    config = json.loads(shown.stdout)
    assert config == {"auths": {"ghcr.io": {"username": "octocat", "password": "ghp_token",
                                            "auth": base64.b64encode(b"octocat:ghp_token").decode()}}}

    checks = tmp_path / "checks"
    checks.mkdir()
    for name in ("variables.tf", "locals.tf"):
        (checks / name).write_text(files[prefix + name], encoding="utf-8")
    assert run_terraform(terraform, ["init"], checks).returncode == 0
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    # Argo CD's repository credential is required too (test_contract_rollout): a valid one here.
    args = ["plan", "-var", f"kubeconfig_path={kubeconfig}", "-var", "kube_context=dev",
            "-var", "gitops_github_app_id=1", "-var", "gitops_github_app_installation_id=2"]
    repository = {"TF_VAR_gitops_github_app_private_key": "-----BEGIN RSA PRIVATE KEY-----\nk\n-----END RSA PRIVATE KEY-----"}
    for value, error in (
        (login, None),
        (None, "registry_credentials"),  # required: an apply without credentials cannot start
        ('{"docker.io":{"username":"octocat","password":"x"}}', "exactly the registries"),
        ('{"ghcr.io":{"username":"octocat","password":" "}}', "needs a username and a password"),
    ):
        done = run_terraform(terraform, args, checks,
                             {**repository, **({"TF_VAR_registry_credentials": value} if value else {})})
        if error is None:
            assert done.returncode == 0, done.stderr
        else:
            assert done.returncode != 0 and error in " ".join(done.stderr.split()), done.stderr
        assert "ghp_token" not in done.stdout + done.stderr


# -- no tag that nobody wrote -------------------------------------------------------------------


def _tag(obj: dict[str, Any]) -> str:
    (container,) = pod_spec(obj)["containers"]
    image: str = container["image"]
    return image.rsplit(":", 1)[1]


def _is_down(obj: dict[str, Any]) -> bool:
    if obj["kind"] == "Deployment":
        return bool(obj["spec"].get("replicas") == 0)  # absent (an autoscaler's count): at least 1
    return bool(obj["spec"].get("suspend") is True)


def test_no_workload_runs_a_tag_nobody_wrote(tree: Tree) -> None:
    for w, env, obj in placements(tree):
        declared = raw_workload(tree.platform, w.name).get("image_tag")
        tag = _tag(obj)
        annotations = obj["metadata"].get("annotations", {})
        if declared is not None:
            # The spec says this tag exists: it runs from day one.
            assert tag == str(declared) and not _is_down(obj), (w.name, env)
            assert names.AWAITING_DELIVERY not in annotations
        else:
            # CI has written nothing in a fresh tree: the workload must not try to pull anything.
            assert tag == names.BOOTSTRAP_TAG, (w.name, env, tag)
            assert _is_down(obj), (w.name, env, "references an image nobody pushed and is not scaled down")
            assert "no image delivered yet" in annotations[names.AWAITING_DELIVERY], (w.name, env)


def _run_deliver_step(tree: Tree, w: Workload, scratch: Path) -> None:
    """The `Point <env> at the new image` step of the workload's deliver.yaml, run with bash in the
    GitOps checkout, as GitHub runs it (github.sha replaced by SHA)."""
    text = tree.files[f"github/{w.name}/.github/workflows/deliver.yaml"]
    job = yaml.safe_load(text)["jobs"]["deploy"]
    step = next(s for s in job["steps"] if s["name"].startswith("Point "))
    env = {k: str(v).replace("${{ github.sha }}", SHA) for k, v in {**job["env"], **step["env"]}.items()}
    assert not any("${{" in v for v in env.values()), env
    assert tree.root / step["working-directory"] == tree.repo
    script = scratch / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                          cwd=tree.root / step["working-directory"],
                          env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_first_delivery_brings_a_waiting_workload_up(tree: Tree, tmp_path: Path) -> None:
    waiting = [w for w in tree.platform.workloads if w.awaits_delivery and w.repo]
    if not waiting:
        pytest.skip("no workload of this spec waits for a delivery by its CI")
    for w in waiting:
        # Its CI delivers to the first environment it is switched on in.
        first, *later = [e.name for e in tree.platform.environments_of(w)]
        _run_deliver_step(tree, w, tmp_path)
        docs = build(tree.tree / names.overlay_dir(w.name, first))
        (obj,) = [d for d in docs if d["kind"] in WORKLOAD_KINDS and d["metadata"]["name"] == w.name]
        assert _tag(obj) == SHA and not _is_down(obj), w.name
        assert names.AWAITING_DELIVERY not in obj["metadata"].get("annotations", {})
        if obj["kind"] == "Deployment" and w.scaled:
            # The delivery brings the autoscaler back, and it alone owns the count.
            assert "replicas" not in obj["spec"], w.name
            assert [d["kind"] for d in docs if d["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")], w.name
        elif obj["kind"] == "Deployment":
            assert obj["spec"]["replicas"] == w.placement(first).replicas.value
        # Delivering to the first environment leaves the others waiting.
        for env_name in later:
            assert _is_down(tree.workload(w, env_name)), (w.name, env_name)


# -- jobs: deadlines per attempt, evidence kept ---------------------------------------------------


def test_every_job_pod_deadline_is_the_spec_timeout(tree: Tree) -> None:
    jobs = [(w, env, obj) for w, env, obj in placements(tree) if w.type == "job"]
    if not jobs:
        pytest.skip("no jobs in this spec")
    for w, env, obj in jobs:
        raw = raw_workload(tree.platform, w.name)
        job = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
        retries = int(raw.get("retries", 0))
        assert job["backoffLimit"] == retries
        if "timeout" in raw:
            timeout = seconds(raw["timeout"])
            assert pod_spec(obj)["activeDeadlineSeconds"] == timeout, (w.name, env)
            # Every attempt gets its whole timeout, plus the time to schedule each and the back-off.
            assert job["activeDeadlineSeconds"] >= (retries + 1) * timeout, (w.name, env)
        else:
            assert "activeDeadlineSeconds" not in pod_spec(obj) and "activeDeadlineSeconds" not in job
        if obj["kind"] == "CronJob":
            assert obj["spec"]["startingDeadlineSeconds"] >= 10, (w.name, env)
            assert obj["spec"]["failedJobsHistoryLimit"] >= 1, (w.name, env)
            if "ttl_after_finished" not in raw:
                # A TTL deletes failed runs (and their logs) along with the successful ones.
                assert "ttlSecondsAfterFinished" not in job, (w.name, env)
        else:
            # A one-off Job stays until the next deploy replaces it: failed or not, it can be inspected.
            assert "ttlSecondsAfterFinished" not in job, (w.name, env)


# -- HOME ---------------------------------------------------------------------------------------


def test_home_is_a_writable_directory(tree: Tree) -> None:
    for w, env, obj in placements(tree):
        pod = pod_spec(obj)
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        homes = [e for e in container.get("env", []) if e["name"] == "HOME"]
        assert len(homes) == 1, (w.name, env, "HOME must be set once: the root filesystem is read-only")
        home = homes[0]["value"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        writable = [m for m in container["volumeMounts"]
                    if not m.get("readOnly") and (home == m["mountPath"] or home.startswith(m["mountPath"] + "/"))
                    and ("emptyDir" in volumes[m["name"]]
                         or not volumes[m["name"]].get("persistentVolumeClaim", {}).get("readOnly"))]
        assert writable, (w.name, env, f"HOME={home} is on no writable mount")
