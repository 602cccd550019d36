"""Contracts of previews (issue 17), over every spec with `previews` (tests/cases/valid/ and fraud with
previews, tests/preview_fraud.py): every pod of a preview can pull its image.

Each repository's preview folder is built with the real `kubectl kustomize` as Argo CD builds it, and
every pod of it is held against the registry: a workload's pod names the registry's pull secret
when the registry is private; that Secret reaches the preview's namespace (Kyverno copies it from
the copy Terraform writes into Kyverno's namespace: the copy policy selects that namespace's
creation, in both policy kinds, and no environment's or other repository's namespace; the
environment previews run in lets Kyverno's background controller write it and its webhooks see
the namespace); the preview's own broker and object store pull their pinned public images.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import all_spec_files, compiled_tree, load_ir, require_tool, spec_id
from kyverno_cel.build import POLICY_KIND_CHOICES, render_policies
from kyverno_cel.evaluator import CelRule, Evaluator, Request
from kyverno_cel.matching import cluster_rule_applies, constraints_match, selector_matches
from preview_fraud import fraud_with_previews
from test_terraform_support import blocks, locals_of, parse_module

from compiler import names
from compiler.ir import Platform
from compiler.ir_preview import preview_dir
from targets.kyverno import pull_secret

WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")
SPECS = [s for s in all_spec_files() if "\npreviews:" in s.read_text("utf-8")] + [fraud_with_previews()]


@pytest.fixture(scope="module", params=SPECS, ids=lambda s: spec_id(s) if "gpc-preview-fraud" not in str(s) else "fraud")
def preview_platform(request: pytest.FixtureRequest) -> Platform:
    platform = load_ir(request.param)
    assert platform.previews is not None
    return platform  # type: ignore[no-any-return]


def _built(platform: Platform, root: Path) -> dict[str, list[dict[str, Any]]]:
    """Each preview source's folder -> its objects, built as Argo CD builds it (the namespace and
    tag placeholders stay: they are what every pull request replaces)."""
    for path, text in compiled_tree(platform).items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    kubectl = require_tool("kubectl")
    out = {}
    assert platform.previews is not None
    for source in platform.previews.sources:
        done = subprocess.run([kubectl, "kustomize", str(root / preview_dir(source.slug))], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        out[source.slug] = [d for d in yaml.safe_load_all(done.stdout) if d]
    return out


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return obj["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def _host(image: str) -> str:
    first, _, rest = image.partition("/")
    return first if rest and ("." in first or ":" in first) else "docker.io"


def _selects(policy: dict[str, Any], namespace: dict[str, Any]) -> bool:
    """Whether the copy policy acts on the creation of `namespace` (a Namespace's own request)."""
    request = Request(namespace, namespace=namespace["metadata"]["name"])
    if policy["kind"] == "ClusterPolicy":
        return any(cluster_rule_applies(rule, request) for rule in policy["spec"]["rules"])
    spec = policy["spec"]
    rule = CelRule("p", "p", "Enforce", lambda r: constraints_match(spec["matchConstraints"], r),
                   tuple(c["expression"] for c in spec["matchConditions"]), (), ())
    return Evaluator().evaluate_rule(rule, request).outcome != "skip"


def test_every_pod_of_a_preview_can_pull_its_image(preview_platform: Platform, tmp_path: Path) -> None:
    platform = preview_platform
    preview = platform.previews
    assert preview is not None
    private = platform.pull_secret is not None
    for slug, docs in _built(platform, tmp_path).items():
        [namespace] = [d for d in docs if d["kind"] == "Namespace"]
        for obj in (d for d in docs if d["kind"] in WORKLOAD_KINDS):
            pod = _pod(obj)
            images = [c["image"] for c in pod["containers"] + pod.get("initContainers", [])]
            if set(images) <= set(preview.infra_images):
                # the preview's own broker and object store: pinned public images, no credentials
                assert all(_host(i) == "docker.io" and "@sha256:" in i for i in images), images
                assert "imagePullSecrets" not in pod, obj["metadata"]["name"]
            else:
                assert pod.get("imagePullSecrets") == ([{"name": names.IMAGE_PULL_SECRET}] if private else None), \
                    (slug, obj["metadata"]["name"])
        if not private:
            assert f"{names.KYVERNO_DIR}/{pull_secret.NAME}.yaml" not in compiled_tree(platform)
            continue
        _assert_the_secret_reaches(platform, namespace)


def _assert_the_secret_reaches(platform: Platform, namespace: dict[str, Any]) -> None:
    assert platform.previews is not None
    source = (names.KYVERNO_NAMESPACE, names.IMAGE_PULL_SECRET)
    elsewhere = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {
        names.LABEL_NAMESPACE_NAME: ns}}} for ns in ("pr-another-repository-7", names.KYVERNO_NAMESPACE,
                                                     *(n for e in platform.environments for n in e.namespaces.values()))]
    for kind in POLICY_KIND_CHOICES:
        [policy] = [p for p in render_policies(platform, kind) if p["metadata"]["name"].endswith(f"-{pull_secret.NAME}")]
        assert _selects(policy, namespace), (kind, namespace["metadata"]["name"])
        assert not [n["metadata"]["name"] for n in elsewhere if _selects(policy, n)], kind
        # ... and copies exactly the one Secret, from Kyverno's namespace, into the new namespace.
        if kind == "ClusterPolicy":
            [rule] = policy["spec"]["rules"]
            generate = rule["generate"]
            assert (generate["clone"]["namespace"], generate["clone"]["name"]) == source
            assert (generate["kind"], generate["name"], generate["namespace"]) == (
                "Secret", names.IMAGE_PULL_SECRET, "{{request.object.metadata.name}}")
            assert generate["synchronize"] is True and set(rule) == {"name", "match", "skipBackgroundRequests",
                                                                    "generate"}
        else:
            spec = policy["spec"]
            assert spec["variables"] == [{"name": "pullSecret", "expression":
                                          f'resource.Get("v1", "secrets", "{source[0]}", "{source[1]}")'}]
            assert spec["generate"] == [{"expression": "generator.Apply(object.metadata.name, [variables.pullSecret])"}]
            assert spec["evaluation"]["synchronize"] == {"enabled": True}
    # Terraform writes that copy in the environment previews run in, and lets Kyverno write the
    # copies; Kyverno's webhooks there see the preview namespace (by its labels).
    env = platform.previews.from_env
    prefix = f"terraform/{env}/cluster/"
    module = parse_module({p[len(prefix):]: t for p, t in compiled_tree(platform).items()
                           if p.startswith(prefix) and "/" not in p[len(prefix):]})
    local = locals_of(module)
    shared = "terraform/modules/image_pull/"
    image_pull = parse_module({p[len(shared):]: t for p, t in compiled_tree(platform).items() if p.startswith(shared)})
    copy = blocks(image_pull, "resource", "kubernetes_secret_v1")["kyverno_image_pull"]
    assert copy["metadata"][0]["name"] == "${var.secret_name}"
    assert copy["metadata"][0]["namespace"] == "${var.kyverno_namespace}"
    [calls] = [b["image_pull"] for b in module["module"] if "image_pull" in b]
    assert calls["secret_name"] == "${local.image_pull_secret}"
    assert calls["kyverno_namespace"] == '${module.namespaces.system["kyverno"]}'
    assert local["image_pull_secret"] == names.IMAGE_PULL_SECRET
    assert local["system_namespaces"]["kyverno"] == names.KYVERNO_NAMESPACE
    values = local["kyverno_values"]
    [grant] = values["backgroundController"]["rbac"]["clusterRole"]["extraResources"]
    assert grant["apiGroups"] == [""] and grant["resources"] == ["secrets"]
    assert {"create", "update", "get"} <= set(grant["verbs"])
    selector = values["config"]["webhooks"]["namespaceSelector"]
    name = namespace["metadata"]["name"]
    assert selector_matches(selector, {**namespace["metadata"]["labels"], names.LABEL_NAMESPACE_NAME: name})
    workload_groups = set(names.GROUP_OF_TYPE.values())
    terraform_labels = {names.LABEL_PART_OF: platform.name, names.LABEL_MANAGED_BY: "terraform"}
    for group, ns in platform.environment(env).namespaces.items():  # Terraform labels them part-of too
        assert selector_matches(selector, {**terraform_labels, names.LABEL_NAMESPACE_NAME: ns}) == \
            (group in workload_groups), ns
    for ns in local["system_namespaces"].values():
        assert not selector_matches(selector, {**terraform_labels, names.LABEL_NAMESPACE_NAME: ns})
