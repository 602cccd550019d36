"""The Kyverno policies cover previews (issue 17): what a pull request's preview deploys, as Argo CD
builds it (tests/test_preview_lifecycle.py), passes every guardrail policy in both kinds
`guardrails.policy_kind` offers, each rule for it having run (none skipped); each image its Pods
run is either under a preview signature policy (which accepts the repository's preview workflow on
a pull request) or one of the preview's pinned broker and object-store images; and an object or
Pod in a preview namespace that breaks a guardrail is refused, as in an environment. The pinned
infrastructure images are admitted in preview namespaces only, and a pull request's signature in
no environment's namespace.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import test_preview_lifecycle
from kyverno_cel.build import POLICY_KIND_CHOICES, is_image_policy, pod_of, render_policies
from kyverno_cel.evaluator import CelRule, Evaluator, Request
from kyverno_cel.matching import cluster_rule_applies, constraints_match, wildcard
from test_kyverno_admission import admit_on_every_engine

from compiler.ir import Platform
from compiler.names import GPU_RESOURCE
from targets.kyverno import rules as r
from targets.kyverno.policy import workload_namespaces
from targets.kyverno.rules import guardrail_rules

# The lifecycle test's fixtures: fraud with previews, compiled, and each sample pull request's
# preview as Argo CD builds it.
compiled = test_preview_lifecycle.compiled
built = test_preview_lifecycle.built
KINDS = pytest.mark.parametrize("kind", POLICY_KIND_CHOICES)
WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")
Built = dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]


def guardrails(platform: Platform, kind: str) -> list[dict[str, Any]]:
    return [p for p in render_policies(platform, kind) if not is_image_policy(p)]


def rule_of(platform: Platform, kind: str, rule_id: str) -> str:
    return rule_id if kind == "ClusterPolicy" else rule_id.removeprefix(f"{platform.name}-")


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] in WORKLOAD_KINDS]


def one_preview(built: Built) -> tuple[str, list[dict[str, Any]]]:
    name = sorted(built)[0]
    return name, built[name][1]


@KINDS
def test_everything_a_preview_deploys_passes_every_policy_meant_for_it(
        compiled: tuple[Platform, Any], built: Built, kind: str) -> None:
    platform, _ = compiled
    policies = guardrails(platform, kind)
    rules = guardrail_rules(platform)
    checked = 0
    for namespace, (_, docs) in built.items():
        for manifest in workloads(docs):
            assert manifest["metadata"]["namespace"] == namespace
            for request, expected in (
                    (Request(manifest), {x.name for x in rules if manifest["kind"] in x.kinds}),
                    # A preview's one namespace holds services and jobs: the maxima of one type
                    # check that type's kinds there, and every untyped rule checks every Pod.
                    (Request(pod_of(manifest)), {x.name for x in rules if x.pod_type is None})):
                admission = admit_on_every_engine(policies, request)
                assert admission.allowed, [(d.rule, d.outcome, d.message) for d in admission.denials]
                applied = {rule_of(platform, kind, x.rule) for x in admission.results if x.outcome == "pass"}
                assert applied == expected, f"{request.kind} {request.name}: every rule for it ran and passed"
                checked += 1
    # the workloads, the broker and the object store of every preview, and their Pods
    assert checked == 2 * sum(len(workloads(docs)) for _, docs in built.values()) > 0


def _image_policy_applies(policy: dict[str, Any], pod: dict[str, Any]) -> bool:
    request = Request(pod)
    if policy["kind"] == "ClusterPolicy":
        return any(cluster_rule_applies(rule, request) for rule in policy["spec"]["rules"])
    spec = policy["spec"]
    rule = CelRule(policy["metadata"]["name"], policy["metadata"]["name"], "Enforce",
                   lambda req: constraints_match(spec["matchConstraints"], req),
                   tuple(c["expression"] for c in spec.get("matchConditions", [])), (), ())
    return Evaluator().evaluate_rule(rule, request).outcome != "skip"


def _globs(policy: dict[str, Any]) -> list[str]:
    if policy["kind"] == "ImageValidatingPolicy":
        return [m["glob"] for m in policy["spec"]["matchImageReferences"]]
    return [g for rule in policy["spec"]["rules"] for v in rule["verifyImages"] for g in v["imageReferences"]]


@KINDS
def test_every_image_of_a_preview_is_verified_by_a_preview_policy_or_pinned(
        compiled: tuple[Platform, Any], built: Built, kind: str) -> None:
    platform, _ = compiled
    assert platform.previews is not None
    images = [p for p in render_policies(platform, kind) if is_image_policy(p)]
    previews = [p for p in images if "-verify-preview-image-" in p["metadata"]["name"]]
    assert previews and len(previews) == len(images) - len(previews)
    pull_request_images = set()  # the previews whose pods run their pull request's image, verified
    for name, (_, docs) in built.items():
        for manifest in workloads(docs):
            pod = pod_of(manifest)
            applying = [p for p in images if _image_policy_applies(p, pod)]
            assert applying and all(p in previews for p in applying), "only the preview policies, in a preview"
            for c in pod["spec"]["containers"] + pod["spec"].get("initContainers", []):
                matched = [p for p in applying if any(wildcard(g, c["image"]) for g in _globs(p))]
                if c["image"] in platform.previews.infra_images:
                    assert not matched
                else:
                    assert len(matched) == 1, c["image"]
                    if ":pr-" in c["image"]:
                        pull_request_images.add(name)
    assert pull_request_images == set(built), "each preview runs its pull request's image, verified"
    # The same Pod in an environment's namespace meets only the environments' policies.
    _, docs = one_preview(built)
    pod = pod_of(workloads(docs)[0])
    pod["metadata"]["namespace"] = workload_namespaces(platform)[0]
    applying = [p for p in images if _image_policy_applies(p, pod)]
    assert applying and not [p for p in applying if p in previews], "no pull request's signature there"


def _main(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["spec"]["containers"][0]  # type: ignore[no-any-return]


def _rejected(platform: Platform, kind: str, request: Request) -> set[str]:
    admission = admit_on_every_engine(guardrails(platform, kind), request)
    assert not admission.allowed
    assert all(d.outcome == "fail" for d in admission.denials), [(d.rule, d.message) for d in admission.denials]
    return {rule_of(platform, kind, x) for x in admission.failed_rules}


BROKEN: dict[str, tuple[Any, set[str]]] = {
    "root": (lambda c: c["securityContext"].update(runAsNonRoot=False, runAsUser=0), {r.RUN_AS_NON_ROOT}),
    "privilege-escalation": (lambda c: c["securityContext"].update(allowPrivilegeEscalation=True),
                             {r.NO_PRIVILEGE_ESCALATION}),
    "writable-root": (lambda c: c["securityContext"].update(readOnlyRootFilesystem=False), {r.READ_ONLY_ROOT}),
    "no-limits": (lambda c: c["resources"].pop("limits"), {r.REQUIRE_RESOURCES}),
    "foreign-image": (lambda c: c.update(image="docker.io/library/busybox:1.36"),
                      {r.ALLOWED_REGISTRIES, r.PLATFORM_IMAGES}),
    "latest": (lambda c: c.update(image="ghcr.io/acme/checkout:latest"), {r.DISALLOW_LATEST}),
    # the broker's image, but not the pinned digest the preview runs
    "unpinned-broker": (lambda c: c.update(image="docker.io/rabbitmq:4.3.6-management"),
                        {r.ALLOWED_REGISTRIES, r.PLATFORM_IMAGES}),
}


@KINDS
@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_workload_or_pod_in_a_preview_is_refused(compiled: tuple[Platform, Any], built: Built,
                                                          kind: str, case: str) -> None:
    platform, _ = compiled
    change, rules = BROKEN[case]
    _, docs = one_preview(built)
    checkout = copy.deepcopy(next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "checkout"))
    change(checkout["spec"]["template"]["spec"]["containers"][0])
    assert _rejected(platform, kind, Request(checkout)) == rules
    assert _rejected(platform, kind, Request(pod_of(checkout))) == rules
    bare = pod_of(checkout, name="by-hand")  # a Pod nobody's controller made: refused at the Pod
    assert _rejected(platform, kind, Request(bare)) == rules


@KINDS
def test_the_preview_infrastructure_images_pass_only_in_a_preview(compiled: tuple[Platform, Any], built: Built,
                                                                  kind: str) -> None:
    platform, _ = compiled
    assert platform.previews is not None
    _, docs = one_preview(built)
    broker = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "rabbitmq")
    assert _main(pod_of(broker))["image"] in platform.previews.infra_images
    assert admit_on_every_engine(guardrails(platform, kind), Request(pod_of(broker))).allowed
    for namespace in workload_namespaces(platform):  # the same Pod in an environment's namespace
        pod = pod_of(broker)
        pod["metadata"]["namespace"] = namespace
        assert _rejected(platform, kind, Request(pod)) == {r.ALLOWED_REGISTRIES, r.PLATFORM_IMAGES}
    # ... and in a namespace that only looks like a preview of another repository: not the
    # platform's, so no policy of it applies there at all.
    pod = pod_of(broker)
    pod["metadata"]["namespace"] = "pr-other-repository-1"
    results = admit_on_every_engine(guardrails(platform, kind), Request(pod)).results
    assert all(x.outcome == "skip" for x in results)


def test_the_quota_allows_a_preview_only_the_gpus_its_workloads_declare(built: Built) -> None:
    """The maxima of one workload type check that type's kinds in a preview, not every Pod (one
    namespace holds both types); the preview's ResourceQuota caps GPUs for any Pod instead."""
    for _, docs in built.values():
        [quota] = [d for d in docs if d["kind"] == "ResourceQuota"]
        declared = 0
        for manifest in workloads(docs):
            pod = pod_of(manifest)["spec"]
            declared += sum(int(c["resources"].get("requests", {}).get(GPU_RESOURCE, 0)) for c in pod["containers"])
        assert quota["spec"]["hard"][f"requests.{GPU_RESOURCE}"] == str(declared)
