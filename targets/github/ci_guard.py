"""The GitOps repository's guard: a workload's CI identity may change only its own image files.

gpc emits this file verbatim into the compiled tree (github/platform/guard/), and the workflow
gpc-guard.yaml runs it on every pull request to the GitOps branch, as a required check. It runs on
the runner's own python3 with the standard library only, and the workflow takes it (and its policy)
from the pull request's *base* commit, so a pull request cannot change the check that judges it.

Each workload whose CI writes to the GitOps repository has a GitHub App of its own. The repository
variable GPC_CI_IDENTITIES maps workload names to those Apps' logins (`<app-slug>[bot]`). Then:

- a pull request opened by a workload's identity may only add or modify that workload's CI-owned
  image files (one per environment), each a kustomize Component that sets that workload's own
  image to a tag and nothing else;
- every commit that names a workload's identity as its author or committer, in any pull request,
  may only touch that workload's image files;
- a pull request opened by any other GitHub App is refused: in this repository a change is either
  a person's reviewed change or a workload's image bump;
- a missing or ambiguous GPC_CI_IDENTITIES fails the check (it fails closed).

Inputs come from the environment: BASE_SHA, HEAD_SHA, PR_AUTHOR, CI_IDENTITIES and GUARD_POLICY
(the policy's path in the repository). Exit 0: accepted; exit 1: refused, with one `::error::`
line per reason.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

_SHA = re.compile(r"^[0-9a-f]{40}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_NOREPLY = re.compile(r"^(?:[0-9]+\+)?(?P<login>[^@]+)@users\.noreply\.github\.com$")
_REGULAR_FILE = "100644"


@dataclass(frozen=True)
class Workload:
    name: str
    image: str
    files: frozenset[str]
    login: str  # its CI identity, lowercased (GitHub logins are case-insensitive)


@dataclass(frozen=True)
class Problem:
    message: str
    file: str | None = None

    def annotation(self) -> str:
        """A GitHub `::error` line. File names come from the pull request: escaped, a name holding a
        line break or `::` cannot start a workflow command of its own."""
        where = f" file={_escape(self.file, is_property=True)}" if self.file is not None else ""
        return f"::error{where}::{_escape(self.message)}"


def _escape(text: str, is_property: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if is_property else text


@dataclass(frozen=True)
class Change:
    status: str  # git's letter: A added, M modified, D deleted, T type changed...
    path: str
    mode: str  # the new file mode


def git(*args: str) -> bytes:
    done = subprocess.run(["git", *args], capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"::error::git {' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def workloads(policy: dict[str, Any], identities_text: str) -> tuple[list[Workload], list[str]]:
    """The policy's workloads with their identities, or the reasons the identities are unusable."""
    variable: str = policy["identities_variable"]
    declared: dict[str, dict[str, Any]] = policy["workloads"]
    try:
        identities = json.loads(identities_text) if identities_text.strip() else ({} if not declared else None)
    except json.JSONDecodeError as err:
        return [], [f"the repository variable {variable} is not JSON ({err.msg})"]
    if not isinstance(identities, dict):
        example = next(iter(declared), "api")
        return [], [f"the repository variable {variable} must be a JSON object mapping each workload to the "
                    f"login of its own GitHub App, e.g. {{\"{example}\": \"acme-{example}-ci[bot]\"}}"]
    problems = [f"{variable} names '{name}', which is not a workload built by CI" for name in sorted(identities)
                if name not in declared]
    result: list[Workload] = []
    owner_of: dict[str, str] = {}
    for name, spec in sorted(declared.items()):
        login = identities.get(name)
        if not isinstance(login, str) or not login.strip():
            problems.append(f"{variable} names no identity for workload '{name}'")
            continue
        login = login.strip().lower()
        if login in owner_of:
            problems.append(f"workloads '{owner_of[login]}' and '{name}' share the identity '{login}'; each "
                            "needs a GitHub App of its own, or one could rewrite the other's image")
        owner_of[login] = name
        result.append(Workload(name, spec["image"], frozenset(spec["image_files"]), login))
    return result, problems


def changes(*diff_args: str) -> list[Change]:
    """`git diff --raw` of the arguments, renames split into a delete and an add."""
    fields = git("diff", "--raw", "--no-renames", "--no-ext-diff", "--no-textconv", "-z", *diff_args).split(b"\0")
    result = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        _, new_mode, _, _, status = meta.decode().split(" ")
        result.append(Change(status, path.decode(errors="surrogateescape"), new_mode))
    return result


def image_file_problem(text: bytes, workload: Workload) -> str | None:
    """Why `text` is not an image file that only sets `workload`'s image to a tag (None if it is)."""
    try:
        lines = text.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    body = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if any("\r" in line or "\t" in line for line in body):
        return "contains a carriage return or a tab"
    header, entry_lines = body[:3], body[3:]
    if header != ["apiVersion: kustomize.config.k8s.io/v1alpha1", "kind: Component", "images:"] \
            or len(entry_lines) not in (2, 3) or not entry_lines[0].startswith("- ") \
            or any(not line.startswith("  ") or line.startswith("   ") for line in entry_lines[1:]):
        return "is not a Component with exactly one image entry"
    entry = dict(_key_value(line) for line in entry_lines)
    if len(entry) != len(entry_lines) or set(entry) - {"name", "newTag", "digest"} or "newTag" not in entry:
        return "sets more than the image's tag (only name, newTag and digest are allowed)"
    if entry.get("name") != workload.image:
        return f"names the image '{entry.get('name')}', not {workload.name}'s own '{workload.image}'"
    if not _TAG.match(entry["newTag"]):
        return f"sets the tag '{entry['newTag']}', which is not an image tag"
    if "digest" in entry and not _DIGEST.match(entry["digest"]):
        return f"sets the digest '{entry['digest']}', which is not sha256:<64 hex>"
    return None


def _key_value(line: str) -> tuple[str, str]:
    key, _, value = line.removeprefix("- ").strip().partition(":")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return key, value


def judge(workload: Workload, found: list[Change], at: str, what: str) -> list[Problem]:
    """The reasons the changes `found` (at commit `at`) leave `workload`'s own image files."""
    problems: list[Problem] = []
    for change in found:
        where = f"{what} by {workload.name}'s CI identity {workload.login}"
        if change.path not in workload.files:
            problems.append(Problem(f"{where} changes {change.path}, which is not one of {workload.name}'s "
                                    "image files", change.path))
        elif change.status not in ("A", "M") or change.mode != _REGULAR_FILE:
            problems.append(Problem(f"{where} deletes or retypes {change.path}", change.path))
        else:
            problem = image_file_problem(git("cat-file", "blob", f"{at}:{change.path}"), workload)
            if problem:
                problems.append(Problem(f"{where}: {change.path} {problem}", change.path))
    return problems


def claimed(name: str, email: str, by_login: dict[str, Workload]) -> Workload | None:
    """The workload whose identity a commit's author or committer names, if any."""
    match = _NOREPLY.match(email.strip().lower())
    return by_login.get(name.strip().lower()) or (by_login.get(match["login"]) if match else None)


def check(base: str, head: str, author: str, identities_text: str, policy_path: str) -> list[Problem]:
    for label, sha in (("BASE_SHA", base), ("HEAD_SHA", head)):
        if not _SHA.match(sha):
            return [Problem(f"{label} is not a commit hash")]
    if not author:
        return [Problem("PR_AUTHOR is empty")]
    policy: dict[str, Any] = json.loads(git("cat-file", "blob", f"{base}:{policy_path}"))
    known, unusable = workloads(policy, identities_text)
    if unusable:
        return [Problem(p) for p in unusable]
    by_login = {w.login: w for w in known}
    problems: list[Problem] = []
    actor = by_login.get(author.lower())
    if actor is not None:
        problems += judge(actor, changes(f"{base}...{head}"), head, "a pull request")
    elif author.lower().endswith("[bot]"):
        problems.append(Problem(f"a pull request by the GitHub App {author}, which is not the CI identity of any "
                                f"workload in {policy['identities_variable']}; people open every other change"))
    log = git("log", "-z", "--format=%H%x00%P%x00%an%x00%ae%x00%cn%x00%ce", f"{base}..{head}").split(b"\0")
    for record in zip(*[iter(log)] * 6, strict=False):
        sha, parents, *people = (field.decode(errors="replace") for field in record)
        for name, email in (people[0:2], people[2:4]):
            claimant = claimed(name, email, by_login)
            if claimant is None:
                continue
            if len(parents.split()) != 1:
                problems.append(Problem(f"commit {sha} names {claimant.name}'s CI identity but is a merge or a root "
                                        "commit"))
            else:
                problems += judge(claimant, changes(f"{sha}^", sha), sha, f"commit {sha[:12]}")
            break
    return list(dict.fromkeys(problems))


def main() -> int:
    env = os.environ
    problems = check(env.get("BASE_SHA", ""), env.get("HEAD_SHA", ""), env.get("PR_AUTHOR", "").strip(),
                     env.get("CI_IDENTITIES", ""), env.get("GUARD_POLICY", ""))
    for problem in problems:
        print(problem.annotation())
    if problems:
        print(f"refused: {len(problems)} change(s) outside what their author may change", file=sys.stderr)
        return 1
    print("accepted: no CI identity changes anything but its own image files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
