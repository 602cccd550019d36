"""Only images this platform built may run: the signature policies, in both kinds.

What is proven here: each image a workload repository builds has exactly one signature policy,
which matches that image by tag, by digest and as Kyverno's digest mutation leaves it, and no
other image; its only accepted signer is the certificate identity of that repository's
`deliver.yaml` on its default branch, issued for GitHub's OIDC tokens, and that workflow (the
github target's) does sign that image on pushes to that branch; the policies check Pods and
ephemeral containers, never controllers (a digest written into a Deployment would be drift); and
together with the guardrail policies, every image a Pod in a platform namespace may run is under
a signature policy (or is a workload's that names no repo, which gpc warns about: GPC344).

The verification expression of the ImageValidatingPolicy is executed on both CEL engines with a
stand-in for Kyverno's `verifyImageSignatures` that compares the signer identity recorded for an
image with the attestor's identities (exact subject and issuer, as cosign does). The signature
cryptography itself (Fulcio, Rekor, the registry) is Kyverno's and cosign's and is not run here:
there is no signed image on a registry this test suite can reach.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, all_spec_files, load_ir, spec_id
from kyverno_cel.build import POLICY_KIND_CHOICES, is_image_policy, render_policies
from kyverno_cel.engines import celpy_engine, every_engine
from kyverno_cel.evaluator import Evaluator, Request
from kyverno_cel.matching import wildcard

from compiler import names
from compiler.ir import Platform
from targets.kyverno.images import GITHUB_OIDC_ISSUER, signed_images, signing_identity
from targets.kyverno.rules import PLATFORM_IMAGES
from targets.kyverno.validating_policy import IMAGE_CATEGORIES

KINDS = pytest.mark.parametrize("kind", POLICY_KIND_CHOICES)
DIGEST = "sha256:" + "cd" * 32
FRAUD = ROOT / "specs" / "fraud.yaml"
PREVIEWS = ROOT / "tests" / "cases" / "valid" / "previews-monorepo" / "platform.yaml"


def image_policies(platform: Platform, kind: str, previews: bool = False) -> list[dict[str, Any]]:
    """The signature policies of the environments' namespaces (or, `previews`, of the previews')."""
    return [d for d in render_policies(platform, kind)
            if is_image_policy(d) and ("-verify-preview-image-" in d["metadata"]["name"]) == previews]


def globs(doc: dict[str, Any]) -> list[str]:
    if doc["kind"] == "ImageValidatingPolicy":
        return [m["glob"] for m in doc["spec"]["matchImageReferences"]]
    [rule] = doc["spec"]["rules"]
    [verify] = rule["verifyImages"]
    return verify["imageReferences"]  # type: ignore[no-any-return]


def signers(doc: dict[str, Any], key: str = "subject") -> set[tuple[str, str]]:
    """(issuer, subject) of every accepted signer (`key`: subjectRegExp, their patterns)."""
    if doc["kind"] == "ImageValidatingPolicy":
        [attestor] = doc["spec"]["attestors"]
        identities = attestor["cosign"]["keyless"]["identities"]
    else:
        [verify] = doc["spec"]["rules"][0]["verifyImages"]
        [attestor] = verify["attestors"]
        assert attestor["count"] == 1, "any one of the repositories building the image"
        identities = [e["keyless"] for e in attestor["entries"]]
    assert all(("subject" in i) != ("subjectRegExp" in i) for i in identities)
    return {(i["issuer"], i[key]) for i in identities if key in i}


def matches(doc: dict[str, Any], image: str) -> bool:
    """Kyverno's image matching: gobwas/glob for the CEL kind, wildcard.Match for ClusterPolicy;
    the same for these patterns (`*` runs over any character, `/` too)."""
    return any(wildcard(g, image) for g in globs(doc))


def references(image: str) -> list[str]:
    """How a Pod may name `image`: by tag, by digest, or both (what mutateDigest writes)."""
    return [f"{image}:1.0.0", f"{image}:{'a' * 40}", f"{image}@{DIGEST}", f"{image}:1.0.0@{DIGEST}"]


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
@KINDS
def test_each_built_image_has_one_policy_matching_it_and_nothing_else(spec: Path, kind: str) -> None:
    platform = load_ir(spec)
    for previews in (False, True):
        docs = image_policies(platform, kind, previews)
        built = {w.image for w in platform.workloads if w.repo}
        assert len(docs) == (len(built) if platform.previews is not None or not previews else 0)
        if not docs:
            continue
        for w in platform.workloads:
            for reference in [*references(w.image), f"{w.image}:pr-7-{'b' * 40}"]:
                assert len([d for d in docs if matches(d, reference)]) == (1 if w.repo else 0), reference
            for look_alike in (f"{w.image}-evil:1.0.0", f"{w.image}/evil:1.0.0", f"{w.image}evil@{DIGEST}",
                               f"evil.example/{w.image}:1.0.0", w.image.replace("/", ".", 1) + ":1.0.0"):
                assert not any(matches(d, look_alike) for d in docs), look_alike


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
@KINDS
def test_the_only_signer_is_the_repositorys_deliver_workflow_on_its_default_branch(spec: Path, kind: str) -> None:
    platform = load_ir(spec)
    for doc in image_policies(platform, kind):
        [image] = {g[:-2] for g in globs(doc)}
        repos = sorted({w.repo for w in platform.workloads if w.image == image and w.repo})
        assert signers(doc) == {(GITHUB_OIDC_ISSUER, f"https://github.com/{repo}/.github/workflows/"
                                                     f"deliver.yaml@refs/heads/main") for repo in repos}
        assert signers(doc, "subjectRegExp") == set(), "no pull request's signature outside the previews"


@KINDS
def test_in_a_preview_the_preview_workflow_of_the_repository_may_sign_too(kind: str) -> None:
    """A preview's policy accepts the deliver workflow's signature (the other workloads run `from`'s
    images) and the preview workflow's on a pull request of that repository: its merge ref, as
    GitHub's OIDC token names it for a `pull_request` run. Not another workflow, branch or repository."""
    import re2  # Go's regexp is RE2: google-re2 reads the patterns as Kyverno does

    platform = load_ir(PREVIEWS)
    docs = image_policies(platform, kind, previews=True)
    assert docs
    for doc in docs:
        [image] = {g[:-2] for g in globs(doc)}
        repos = sorted({w.repo for w in platform.workloads if w.image == image and w.repo})
        assert signers(doc) == {(GITHUB_OIDC_ISSUER, signing_identity(repo)) for repo in repos}
        patterns = signers(doc, "subjectRegExp")
        assert {issuer for issuer, _ in patterns} == {GITHUB_OIDC_ISSUER}
        for repo in repos:
            base = f"https://github.com/{repo}/.github/workflows/"

            def accepted(subject: str, patterns: set[tuple[str, str]] = patterns) -> bool:
                return any(re2.search(p, subject) for _, p in patterns)  # anchored by the pattern itself
            assert accepted(f"{base}preview.yaml@refs/pull/7/merge")
            assert accepted(f"{base}preview.yaml@refs/pull/1234567890/merge")
            for refused in (f"{base}preview.yaml@refs/heads/main", f"{base}preview.yaml@refs/pull/7/head",
                            f"{base}other.yaml@refs/pull/7/merge", f"{base}previewXyaml@refs/pull/7/merge",
                            f"https://github.com/evil/{repo.split('/')[1]}/.github/workflows/preview.yaml@refs/pull/7/merge",
                            f"{base}preview.yaml@refs/pull/7/merge/x", f"x{base}preview.yaml@refs/pull/7/merge"):
                assert not accepted(refused), refused


def test_the_preview_workflow_signs_the_pull_requests_image() -> None:
    from targets.github import TARGET as GITHUB

    platform = load_ir(PREVIEWS)
    assert platform.previews is not None
    files = {a.path: a.text for a in GITHUB.render(platform)}
    for source in platform.previews.sources:
        workflow = yaml.safe_load(files[f"github/{source.workloads[0]}/.github/workflows/{names.PREVIEW_WORKFLOW}"])
        assert list(workflow["on"]) == ["pull_request"], "the subject's ref is the pull request's merge ref"
        job = workflow["jobs"]["image"]
        assert job["permissions"]["id-token"] == "write"
        steps = job["steps"]
        build = next(i for i, s in enumerate(steps) if s.get("id") == "build")
        [sign] = [i for i, s in enumerate(steps) if "cosign sign " in s.get("run", "")]
        ready = next(i for i, s in enumerate(steps) if "READY_LABEL" in s.get("run", "") and "POST" in s["run"])
        assert build < sign < ready, "signed before the preview is marked ready"
        assert steps[sign]["env"]["DIGEST"] == "${{ steps.build.outputs.digest }}"
        for image in source.images:
            assert f'cosign sign --yes "{image}@${{DIGEST}}"' in steps[sign]["run"]


def test_the_deliver_workflow_signs_that_image_on_that_branch(platform: Platform) -> None:
    """The identity the policies trust is the github target's workflow: its file, its trigger, its
    keyless signing of the image it pushed (by digest), with the OIDC token it may request."""
    from targets.github import TARGET as GITHUB

    files = {a.path: a.text for a in GITHUB.render(platform)}
    for w in platform.workloads:
        if not w.repo:
            continue
        identity = signing_identity(w.repo)
        workflow_path = identity.removeprefix(f"https://github.com/{w.repo}/").partition("@")[0]
        branch = identity.rpartition("@refs/heads/")[2]
        workflow = yaml.safe_load(files[f"github/{w.name}/{workflow_path}"])
        assert workflow["on"]["push"]["branches"] == [branch] == [names.WORKLOAD_DEFAULT_BRANCH]
        signing = [(job, step) for job in workflow["jobs"].values() for step in job["steps"]
                   if "cosign sign " in step.get("run", "")]
        assert signing, "the workflow signs"
        for job, step in signing:
            assert job["permissions"]["id-token"] == "write", "keyless: Fulcio certifies the job's OIDC token"
            assert step["env"]["IMAGE"] == w.image and '"${IMAGE}@${DIGEST}"' in step["run"]


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
@KINDS
def test_signatures_are_checked_on_pods_and_ephemeral_containers_only(spec: Path, kind: str) -> None:
    platform = load_ir(spec)
    for doc in image_policies(platform, kind):
        if kind == "ValidatingPolicy":
            spec_ = doc["spec"]
            [rule] = spec_["matchConstraints"]["resourceRules"]
            assert (rule["apiGroups"], rule["resources"]) == ([""], ["pods", "pods/ephemeralcontainers"])
            assert spec_["validationConfigurations"] == {"mutateDigest": True, "required": True, "verifyDigest": True}
            assert spec_["validationActions"] == ["Deny"] and spec_["failurePolicy"] == "Fail"
        else:
            [rule] = doc["spec"]["rules"]
            assert [b["resources"]["kinds"] for b in rule["match"]["any"]] == [["Pod", "Pod/ephemeralcontainers"]]
            [verify] = rule["verifyImages"]
            assert (verify["mutateDigest"], verify["verifyDigest"], verify["required"]) == (True, True, True)
            assert verify["failureAction"] == "Enforce"
            assert doc["spec"]["webhookConfiguration"]["failurePolicy"] == "Fail"


# -- the verification expression, executed ---------------------------------------------------------


def _stand_in(signed_by: dict[str, tuple[str, str]]) -> Any:
    """Kyverno's verifyImageSignatures(image, attestors): how many attestors accept the signer
    recorded for the image (none when it is unsigned)."""
    import re2  # Go's regexp is RE2, as Kyverno matches subjectRegExp

    def accepts(identity: dict[str, str], signer: tuple[str, str]) -> bool:
        if identity["issuer"] != signer[0]:
            return False
        if "subject" in identity:
            return identity["subject"] == signer[1]
        return re2.search(identity["subjectRegExp"], signer[1]) is not None

    def verify(image: Any, attestors: Any) -> int:
        signer = signed_by.get(str(image))
        return sum(1 for a in attestors if signer is not None and any(
            accepts(i, signer) for i in a["cosign"]["keyless"]["identities"]))
    return verify


def _celpy_stand_in(signed_by: dict[str, tuple[str, str]]) -> Any:
    from celpy import celtypes

    verify = _stand_in(signed_by)

    def verifyImageSignatures(image: Any, attestors: Any) -> Any:
        return celtypes.IntType(verify(image, [json_from_cel(a) for a in attestors]))
    return verifyImageSignatures


def run_verification(doc: dict[str, Any], images: dict[str, list[str]],
                     signed_by: dict[str, tuple[str, str]]) -> bool:
    [validation] = doc["spec"]["validations"]
    attestors = {a["name"]: a for a in doc["spec"]["attestors"]}
    verdicts = []
    for engine in every_engine():
        if engine.name == "celpy":
            import celpy
            from celpy.adapter import json_to_cel

            env = celpy.Environment()
            program = env.program(env.compile(validation["expression"]), functions={
                "verifyImageSignatures": _celpy_stand_in(signed_by)})
            verdicts.append(bool(program.evaluate({"images": json_to_cel(images), "attestors": json_to_cel(attestors)})))
        else:
            from cel_expr_python import cel  # type: ignore[import-untyped]

            t = cel.Type
            ext = cel.CelExtension("kyverno.imageverify", [cel.FunctionDecl("verifyImageSignatures", [
                cel.Overload("verify_image_signatures_string_list", t.INT, [t.STRING, t.LIST],
                             impl=_stand_in(signed_by))])])
            env = cel.NewEnv(variables={"images": t.DYN, "attestors": t.DYN}, extensions=[ext])
            value = env.compile(validation["expression"]).eval(data={"images": images, "attestors": attestors})
            assert value.type() == t.BOOL, value.value()
            verdicts.append(value.plain_value())
    assert len(set(verdicts)) == 1, f"engines disagree: {verdicts}"
    return verdicts[0]


def json_from_cel(value: Any) -> Any:
    from celpy import celtypes

    if isinstance(value, celtypes.MapType):
        return {str(k): json_from_cel(v) for k, v in value.items()}
    if isinstance(value, celtypes.ListType):
        return [json_from_cel(v) for v in value]
    return str(value) if isinstance(value, celtypes.StringType) else value


def pod_images(doc: dict[str, Any], pod: dict[str, Any]) -> dict[str, list[str]]:
    """The `images` variable: each container category's images that the policy matches."""
    return {c: [x["image"] for x in pod["spec"].get(c, []) if matches(doc, x["image"])] for c in IMAGE_CATEGORIES}


def test_the_verification_expression_needs_the_delivery_signature_on_every_container() -> None:
    platform = load_ir(FRAUD)
    doc = next(d for d in image_policies(platform, "ValidatingPolicy") if "checkout" in d["metadata"]["name"])
    signed = next(s for s in signed_images(platform) if s.image == "ghcr.io/acme/checkout")
    [identity] = signed.subjects
    image = f"ghcr.io/acme/checkout:1.0.0@{DIGEST}"
    other = f"ghcr.io/acme/checkout:2.0.0@{DIGEST}"
    pod = {"spec": {"containers": [{"image": image}], "initContainers": [{"image": other}],
                    "ephemeralContainers": [{"image": "docker.io/library/busybox:1.36"}]}}
    images = pod_images(doc, pod)
    assert images == {"containers": [image], "initContainers": [other], "ephemeralContainers": []}
    delivery = (GITHUB_OIDC_ISSUER, identity)
    assert run_verification(doc, images, {image: delivery, other: delivery})
    assert not run_verification(doc, images, {image: delivery}), "an unsigned init container"
    fork = (GITHUB_OIDC_ISSUER, signing_identity("mallory/checkout-service"))
    branch = (GITHUB_OIDC_ISSUER, identity.replace("@refs/heads/main", "@refs/heads/feature"))
    pull = (GITHUB_OIDC_ISSUER, identity.replace("@refs/heads/main", "@refs/pull/7/merge"))
    workflow = (GITHUB_OIDC_ISSUER, identity.replace("/deliver.yaml@", "/ci.yaml@"))
    issuer = ("https://accounts.google.com", identity)
    for signer in (fork, branch, pull, workflow, issuer):
        assert not run_verification(doc, images, {image: delivery, other: signer}), signer
    debug = copy.deepcopy(pod)
    debug["spec"]["ephemeralContainers"] = [{"image": f"ghcr.io/acme/checkout@{DIGEST}"}]
    assert not run_verification(doc, pod_images(doc, debug), {image: delivery, other: delivery}), \
        "an ephemeral container of the image, unsigned"


# -- together with the guardrails: nothing unsigned runs ----------------------------------------


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
@KINDS
def test_every_image_a_pod_may_run_is_under_a_signature_policy(spec: Path, kind: str) -> None:
    """Candidates: every workload's image as a Pod may name it, and images next to them. Each one
    the guardrail policies admit in a platform namespace is matched by a signature policy."""
    platform = load_ir(spec)
    policies = render_policies(platform, kind)
    guardrails = [d for d in policies if not is_image_policy(d)]
    signatures = [d for d in policies if is_image_policy(d)]
    registry = platform.guardrails.allowed_registries[0]
    candidates = {ref for w in platform.workloads for ref in [*references(w.image), f"{w.image}-next:1.0.0"]}
    candidates |= {f"{registry}/anything:1.0.0", f"{registry}/anything@{DIGEST}"}
    namespace = platform.environments[0].namespaces[names.GROUP_OF_TYPE[platform.workloads[0].type]]
    admitted = 0
    for image in sorted(candidates):
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": namespace},
               "spec": {"containers": [{"name": "c", "image": image}]}}
        results = Evaluator(celpy_engine()).admit(guardrails, Request(pod)).results
        image_rule_failed = any(r.outcome != "pass" and r.rule.endswith(PLATFORM_IMAGES) for r in results)
        if not image_rule_failed:
            admitted += 1
            assert any(matches(d, image) for d in signatures), f"{image} would run unverified"
    assert admitted == 4 * len({w.image for w in platform.workloads}), "the workloads' own images pass"


def test_in_a_preview_the_pull_requests_image_needs_its_preview_workflows_signature() -> None:
    """The preview policy, executed: the pull request's image passes with the repository's preview
    workflow's signature on a pull request (and the environment's images with the delivery one);
    another ref, workflow, repository or issuer does not. The environments' policy refuses the pull
    request's signature."""
    platform = load_ir(PREVIEWS)
    [preview_doc] = [d for d in image_policies(platform, "ValidatingPolicy", previews=True) if d["metadata"]["name"].endswith("-api")]
    [env_doc] = [d for d in image_policies(platform, "ValidatingPolicy") if d["metadata"]["name"].endswith("-api")]
    [image_name] = {g[:-2] for g in globs(preview_doc)}
    [repo] = sorted({w.repo for w in platform.workloads if w.image == image_name and w.repo})
    pr_image = f"{image_name}:pr-7-{'b' * 40}@{DIGEST}"
    images = {"containers": [pr_image], "initContainers": [], "ephemeralContainers": []}
    assert pod_images(preview_doc, {"spec": {"containers": [{"image": pr_image}]}}) == images
    base = f"https://github.com/{repo}/.github/workflows/"
    pull = (GITHUB_OIDC_ISSUER, f"{base}preview.yaml@refs/pull/7/merge")
    assert run_verification(preview_doc, images, {pr_image: pull})
    assert run_verification(preview_doc, images, {pr_image: (GITHUB_OIDC_ISSUER, signing_identity(repo))})
    for signer in ((GITHUB_OIDC_ISSUER, f"{base}preview.yaml@refs/heads/feature"),
                   (GITHUB_OIDC_ISSUER, f"{base}ci.yaml@refs/pull/7/merge"),
                   (GITHUB_OIDC_ISSUER, "https://github.com/mallory/x/.github/workflows/preview.yaml@refs/pull/7/merge"),
                   ("https://accounts.google.com", pull[1])):
        assert not run_verification(preview_doc, images, {pr_image: signer}), signer
    assert not run_verification(preview_doc, images, {}), "unsigned"
    assert not run_verification(env_doc, images, {pr_image: pull}), "no pull request's image in an environment"
