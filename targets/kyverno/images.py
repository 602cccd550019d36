"""Which signatures admit which image: every image a workload repository's CI builds must be signed
by that repository's delivery workflow, on its default branch.

The github target's `deliver.yaml` signs each image it pushes with cosign keyless: Fulcio issues
the certificate for GitHub's OIDC token, whose subject is the workflow's own ref,
`https://github.com/<owner>/<repo>/.github/workflows/deliver.yaml@refs/heads/main`. A pull
request, another branch, a fork or any other repository gets another subject, so its images are
refused. Kyverno pins each verified image to its digest at admission (`mutateDigest`), and refuses
an image without one after that (`verifyDigest`): the Pod runs exactly the bytes that were
verified, whatever the tag CI wrote into the image component points to later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler import names
from compiler.ir import Platform

GITHUB_OIDC_ISSUER = "https://token.actions.githubusercontent.com"
# An image repository as the policies match it: a registry host with an optional port, then
# lowercase path segments. Nothing a glob or a Kyverno `{{ variable }}` could read as syntax.
IMAGE = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$")
# The attestor's name in the ImageValidatingPolicy, referenced by its validation.
ATTESTOR = "delivery"


@dataclass(frozen=True)
class SignedImage:
    """An image and the workload repositories whose delivery workflows may sign it (several when
    workloads share an image). `preview`: the policy of the preview namespaces, which also accepts
    the signature of those repositories' preview workflow on a pull request."""

    name: str  # the policy's name without the platform prefix
    image: str
    repos: tuple[str, ...]
    preview: bool = False

    @property
    def globs(self) -> tuple[str, ...]:
        """The image by tag or by digest (`name:tag@digest` too), never another repository."""
        return (f"{self.image}:*", f"{self.image}@*")

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(signing_identity(repo) for repo in self.repos)

    @property
    def subject_patterns(self) -> tuple[str, ...]:
        """Regular expressions of further accepted subjects: the preview workflow on any pull request."""
        return tuple(preview_signing_pattern(repo) for repo in self.repos) if self.preview else ()

    @property
    def signers(self) -> str:
        """Who may sign, in words (policy descriptions and messages)."""
        who = f"the delivery workflow of {', '.join(self.repos)} on its default branch"
        return who + (", or its preview workflow on a pull request" if self.preview else "")


def signing_identity(repo: str) -> str:
    """The certificate subject of a keyless signature made by `repo`'s delivery workflow on its
    default branch (the SAN GitHub's OIDC token gives Fulcio: the job's workflow ref)."""
    return (f"https://github.com/{repo}/.github/workflows/{names.DELIVER_WORKFLOW}"
            f"@refs/heads/{names.WORKLOAD_DEFAULT_BRANCH}")


def preview_signing_pattern(repo: str) -> str:
    """The certificate subject of a keyless signature made by `repo`'s preview workflow for a pull
    request, as a regular expression: a `pull_request` run's workflow ref is the pull request's
    merge ref, `refs/pull/<number>/merge`. Only a run in `repo` itself gets that subject (a fork's
    run has no OIDC token for it, and the workflow's jobs do not run for forks)."""
    literal = re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1",
                     f"https://github.com/{repo}/.github/workflows/{names.PREVIEW_WORKFLOW}")
    return f"^{literal}@refs/pull/[0-9]+/merge$"


def preview_signed_images(platform: Platform) -> list[SignedImage]:
    """The same images, for the preview namespaces: a preview runs the pull request's image of its
    own repository's workloads, signed by the preview workflow, and `from`'s for the others."""
    if platform.previews is None:
        return []
    return [SignedImage(s.name.replace("verify-image-", "verify-preview-image-", 1), s.image, s.repos, preview=True)
            for s in signed_images(platform)]


def signed_images(platform: Platform) -> list[SignedImage]:
    """One entry per image some workload repository builds, named after its first workload."""
    repos: dict[str, set[str]] = {}
    first: dict[str, str] = {}
    for w in sorted(platform.workloads, key=lambda w: w.name):
        if w.repo:
            repos.setdefault(w.image, set()).add(w.repo)
            first.setdefault(w.image, w.name)
    return sorted((SignedImage(f"verify-image-{first[image]}", image, tuple(sorted(r))) for image, r in repos.items()),
                  key=lambda s: s.name)
