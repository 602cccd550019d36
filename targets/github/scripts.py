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

# Commits the rewritten Component and pushes it to the GitOps branch. A rejected push (another
# workload's bump landed first) is retried on top of the new branch head: the file is CI-owned and
# rewritten whole, so starting again from their commit can never undo their change.
PUSH_IMAGE_COMPONENT = f"""\
set -euo pipefail
{_CREDENTIAL_HELPER}
saved="${{RUNNER_TEMP}}/image-component.yaml"
cp -- "${{COMPONENT_PATH}}" "${{saved}}"
for attempt in 1 2 3 4 5; do
  git add -- "${{COMPONENT_PATH}}"
  if git diff --cached --quiet; then
    echo "${{ENVIRONMENT}} already runs ${{WORKLOAD}} ${{IMAGE_TAG}}; nothing to push"
    exit 0
  fi
  git commit --quiet --message "deploy ${{WORKLOAD}} ${{IMAGE_TAG}} to ${{ENVIRONMENT}}"
  if git push --quiet origin "HEAD:refs/heads/${{GITOPS_BRANCH}}"; then
    echo "deployed ${{WORKLOAD}} ${{IMAGE_TAG}} to ${{ENVIRONMENT}}"
    exit 0
  fi
  echo "push rejected (attempt ${{attempt}} of 5): retrying on top of the latest ${{GITOPS_BRANCH}}"
  sleep "${{attempt}}"
  git fetch --quiet origin "${{GITOPS_BRANCH}}"
  git reset --quiet --hard FETCH_HEAD
  mkdir -p -- "$(dirname -- "${{COMPONENT_PATH}}")"
  cp -- "${{saved}}" "${{COMPONENT_PATH}}"
done
echo "::error::could not push to ${{GITOPS_BRANCH}} after 5 attempts"
exit 1
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
git switch --quiet -C "${{PROMOTE_BRANCH}}"
git commit --quiet --message "${{title}}"
{_CREDENTIAL_HELPER}
# One branch per workload and target environment: a newer promotion replaces an unmerged one.
git push --quiet --force origin "HEAD:refs/heads/${{PROMOTE_BRANCH}}"
{{
  echo "changed=true"
  echo "title=${{title}}"
}} >>"${{GITHUB_OUTPUT}}"
"""

# Opens the promotion pull request, or updates the one already open for this environment.
OPEN_PROMOTION_PR = """\
set -euo pipefail
body="Gives ${TO_ENV} the image of ${WORKLOAD} that ${FROM_ENV} runs, by setting its tag in ${TO_PATH} to the one in ${FROM_PATH}.

Requested by @${GITHUB_ACTOR} in ${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}.
Merging deploys it to ${TO_ENV}; closing rejects it."
number="$(gh pr list --repo "${GITOPS_REPO}" --head "${PROMOTE_BRANCH}" --state open --json number --jq '.[0].number // empty')"
if [[ -n "${number}" ]]; then
  gh pr edit "${number}" --repo "${GITOPS_REPO}" --title "${TITLE}" --body "${body}"
else
  gh pr create --repo "${GITOPS_REPO}" --base "${GITOPS_BRANCH}" --head "${PROMOTE_BRANCH}" --title "${TITLE}" --body "${body}"
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

INSTALL_GPC = """\
set -euo pipefail
python -m pip install --disable-pip-version-check --no-input "gpc==${GPC_VERSION}"
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

# The workflow GitHub runs is a copy of the compiled one; a stale copy is drift too.
CHECK_INSTALLED_WORKFLOW = """\
set -euo pipefail
if ! cmp -s -- "${COMPILED_WORKFLOW}" "${INSTALLED_WORKFLOW}"; then
  echo "::error file=${INSTALLED_WORKFLOW}::differs from ${COMPILED_WORKFLOW}; copy the compiled workflow over it"
  diff -u -- "${INSTALLED_WORKFLOW}" "${COMPILED_WORKFLOW}" || true
  exit 1
fi
"""
