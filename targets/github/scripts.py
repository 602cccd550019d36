"""The shell steps of the generated workflows.

These are constants: nothing from the spec is ever interpolated into a script. Every value a
script needs arrives through the step's `env:` (set from the spec, or from trusted expressions
such as `github.sha`), so no branch name, title or spec string can change what a script does.
Tests run the git steps for real against local repositories.
"""

from __future__ import annotations

# git asks this helper for credentials at push time. The token stays in the step's environment:
# it is never written into .git/config, a file or a command line.
_CREDENTIAL_HELPER = (
    "git config credential.helper "
    "'!f() { test \"$1\" = get || exit 0; echo username=x-access-token; echo \"password=${GITOPS_TOKEN}\"; }; f'"
)

_VALID_IMAGE_NAME = """\
if [[ ! "${IMAGE_NAME}" =~ ^[A-Za-z0-9][A-Za-z0-9._/:-]*$ ]]; then
  echo "::error::the image name is not an image reference"
  exit 1
fi
"""


def _write_component(path: str, tag: str) -> str:
    """Shell that rewrites the whole CI-owned kustomize Component at $path, pinning $IMAGE_NAME to
    $tag. printf, not kustomize: the job downloads nothing and pipes nothing into a shell."""
    return f"""\
mkdir -p -- "$(dirname -- "${{{path}}}")"
printf '%s\\n' \\
  "# The image ${{WORKLOAD}} runs in this environment. Owned by CI: gpc created this file once and" \\
  "# never rewrites it; ${{SOURCE_REPO}}'s workflows rewrite it on every delivery and promotion." \\
  'apiVersion: kustomize.config.k8s.io/v1alpha1' \\
  'kind: Component' \\
  'images:' \\
  "- name: \\"${{IMAGE_NAME}}\\"" \\
  "  newTag: \\"${{{tag}}}\\"" >"${{{path}}}"
"""


# Points the first environment at the image just pushed, tagged with the commit SHA.
WRITE_IMAGE_COMPONENT = f"""\
set -euo pipefail
if [[ ! "${{IMAGE_TAG}}" =~ ^[0-9a-f]{{40}}$ ]]; then
  echo "::error::the image tag is not a commit SHA"
  exit 1
fi
{_VALID_IMAGE_NAME}{_write_component("COMPONENT_PATH", "IMAGE_TAG")}cat -- "${{COMPONENT_PATH}}"
"""

# Commits the rewritten Component on the workload's own deploy branch and pushes it there; the pull
# request that follows is merged by GitHub once the GitOps repository's required checks pass (the
# guard among them). A newer delivery replaces an unmerged one: the file is CI-owned and rewritten
# whole, so the newest commit's tag is the one to deploy.
COMMIT_DEPLOY = f"""\
set -euo pipefail
git add -- "${{COMPONENT_PATH}}"
if git diff --cached --quiet; then
  echo "${{ENVIRONMENT}} already runs ${{WORKLOAD}} ${{IMAGE_TAG}}; nothing to deploy"
  echo "changed=false" >>"${{GITHUB_OUTPUT}}"
  exit 0
fi
title="deploy ${{WORKLOAD}} ${{IMAGE_TAG}} to ${{ENVIRONMENT}}"
git switch --quiet -C "${{PR_BRANCH}}"
git commit --quiet --message "${{title}}"
{_CREDENTIAL_HELPER}
git push --quiet --force origin "HEAD:refs/heads/${{PR_BRANCH}}"
{{
  echo "changed=true"
  echo "title=${{title}}"
}} >>"${{GITHUB_OUTPUT}}"
"""

# Lets GitHub merge the deploy pull request as soon as the branch's rules allow: the required
# checks pass and, for a file without a code owner (the first environment's image), no review.
ENABLE_AUTO_MERGE = """\
set -euo pipefail
gh pr merge "${PR_BRANCH}" --repo "${GITOPS_REPO}" --auto --squash
"""


def _read_tag(path: str, var: str) -> str:
    """Shell that sets $var to the first newTag of the Component at $path (empty if none)."""
    return f"""\
{var}="$(sed -n -E "s/^[[:space:]]*newTag:[[:space:]]*[\\"']?([^\\"']*)[\\"']?[[:space:]]*\\$/\\1/p" -- "${{{path}}}" 2>/dev/null || true)"
{var}="${{{var}%%$'\\n'*}}"
"""


# Gives the next environment the tag the previous one runs, on a promotion branch of its own.
COMMIT_PROMOTION = f"""\
set -euo pipefail
{_read_tag("FROM_PATH", "tag")}if [[ ! "${{tag}}" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}$ ]]; then
  echo "::error::${{FROM_PATH}} names no valid image tag"
  exit 1
fi
# gpc's day-one marker is no image: promoting it would start a workload on a tag no registry has.
if [[ "${{tag}}" == "${{BOOTSTRAP_TAG}}" ]]; then
  echo "::error::${{FROM_ENV}} has no delivered image of ${{WORKLOAD}} yet; deliver one before promoting"
  exit 1
fi
{_read_tag("TO_PATH", "current")}if [[ "${{current}}" == "${{tag}}" ]]; then
  echo "${{TO_ENV}} already runs ${{WORKLOAD}} ${{tag}}; nothing to promote"
  echo "changed=false" >>"${{GITHUB_OUTPUT}}"
  exit 0
fi
{_VALID_IMAGE_NAME}{_write_component("TO_PATH", "tag")}git add -- "${{TO_PATH}}"
title="promote ${{WORKLOAD}} ${{tag}} from ${{FROM_ENV}} to ${{TO_ENV}}"
git switch --quiet -C "${{PR_BRANCH}}"
git commit --quiet --message "${{title}}"
{_CREDENTIAL_HELPER}
# One branch per workload and target environment: a newer promotion replaces an unmerged one.
git push --quiet --force origin "HEAD:refs/heads/${{PR_BRANCH}}"
{{
  echo "changed=true"
  echo "title=${{title}}"
}} >>"${{GITHUB_OUTPUT}}"
"""

# Opens the pull request of a deploy or promotion branch, or updates the one already open.
OPEN_PULL_REQUEST = """\
set -euo pipefail
body="${PR_BODY}

Requested by @${GITHUB_ACTOR} in ${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}."
number="$(gh pr list --repo "${GITOPS_REPO}" --head "${PR_BRANCH}" --state open --json number --jq '.[0].number // empty')"
if [[ -n "${number}" ]]; then
  gh pr edit "${number}" --repo "${GITOPS_REPO}" --title "${TITLE}" --body "${body}"
else
  gh pr create --repo "${GITOPS_REPO}" --base "${GITOPS_BRANCH}" --head "${PR_BRANCH}" --title "${TITLE}" --body "${body}"
fi
"""

SIGN_IMAGE = """\
set -euo pipefail
cosign sign --yes "${IMAGE}@${DIGEST}"
"""

# BuildKit generated the SBOM during the build (`sbom: true`); this signs it as a cosign
# attestation bound to the image digest, next to the signature.
ATTEST_SBOM = """\
set -euo pipefail
sbom="${RUNNER_TEMP}/sbom.spdx.json"
docker buildx imagetools inspect "${IMAGE}@${DIGEST}" --format '{{ json .SBOM }}' \\
  | jq -e 'if has("SPDX") then .SPDX else (to_entries | first | .value.SPDX) end' >"${sbom}"
cosign attest --yes --type spdxjson --predicate "${sbom}" "${IMAGE}@${DIGEST}"
"""

# Three ways to install gpc, one per kind of `toolchain.gpc`, each pinned (see platform.py).
_PIP = "python -m pip install --disable-pip-version-check --no-input"

# A folder of the GitOps repository (by default a git submodule): the repository's own commit pins it.
INSTALL_GPC_FROM_PATH = f"""\
set -euo pipefail
if [[ ! -f "${{GPC_PATH}}/pyproject.toml" ]]; then
  echo "::error::no gpc source in ${{GPC_PATH}}: add gpc there as a git submodule pinned to a commit, or name another source under toolchain.gpc in the spec (see the platform README)"
  exit 1
fi
{_PIP} "./${{GPC_PATH}}"
gpc --version
"""

# A git repository at one 40-hex commit (GPC230 refuses anything else).
INSTALL_GPC_FROM_GIT = f"""\
set -euo pipefail
{_PIP} "gpc @ git+${{GPC_GIT_URL}}@${{GPC_COMMIT}}"
gpc --version
"""

# One index only (never --extra-index-url, which lets a look-alike package on PyPI win), gpc itself
# verified against the spec's hashes; its dependencies then come from the same index.
INSTALL_GPC_FROM_INDEX = f"""\
set -euo pipefail
requirements="${{RUNNER_TEMP}}/gpc-requirements.txt"
printf '%s\\n' "${{GPC_REQUIREMENT}}" >"${{requirements}}"
{_PIP} --index-url "${{GPC_INDEX_URL}}" --require-hashes --no-deps -r "${{requirements}}"
{_PIP} --index-url "${{GPC_INDEX_URL}}" "gpc==${{GPC_VERSION}}"
gpc --version
"""

VALIDATE_SPEC = """\
set -euo pipefail
gpc validate --format github "${SPEC}"
"""

CHECK_DRIFT = """\
set -euo pipefail
gpc compile "${SPEC}" --out "${OUT}" --check --format github
"""

# A file GitHub reads only where the repository keeps it (CODEOWNERS) is a copy of the compiled one;
# a stale copy is drift too.
CHECK_INSTALLED_FILE = """\
set -euo pipefail
if ! cmp -s -- "${COMPILED_WORKFLOW}" "${INSTALLED_WORKFLOW}"; then
  echo "::error file=${INSTALLED_WORKFLOW}::differs from ${COMPILED_WORKFLOW}; copy the compiled file over it"
  diff -u -- "${INSTALLED_WORKFLOW}" "${COMPILED_WORKFLOW}" || true
  exit 1
fi
"""

# The workflows GitHub runs are copies of the compiled ones; a stale copy is drift too.
CHECK_INSTALLED_WORKFLOWS = """\
set -euo pipefail
status=0
for compiled in "${COMPILED_WORKFLOWS}"/*.yaml; do
  installed="${INSTALLED_WORKFLOWS}/$(basename -- "${compiled}")"
  if ! cmp -s -- "${compiled}" "${installed}"; then
    echo "::error file=${installed}::differs from ${compiled}; copy the compiled workflow over it"
    diff -u -- "${installed}" "${compiled}" || true
    status=1
  fi
done
exit "${status}"
"""

# The GitOps repository's guard (guard.py): the script and its policy come from the base commit, so
# the pull request being judged cannot change what judges it.
RUN_GUARD = """\
set -euo pipefail
if ! git cat-file -e "${BASE_SHA}:${GUARD_SCRIPT}" 2>/dev/null; then
  echo "::error::${GUARD_SCRIPT} is not on the base branch yet: merge the compiled tree first, then make this check required"
  exit 1
fi
guard="${RUNNER_TEMP}/ci_guard.py"
git cat-file blob "${BASE_SHA}:${GUARD_SCRIPT}" >"${guard}"
python3 "${guard}"
"""
