"""Every action and tool the generated workflows use, pinned in one table.

Actions are pinned to full commit SHAs (a tag can be moved; a commit cannot), with the release
the SHA belongs to written as a comment next to each `uses:`, so Dependabot or Renovate can
propose updates and a reviewer can read which release runs. Tools the workflows install
(buildx, BuildKit, cosign, Python, gpc) are pinned to exact versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    repo: str  # owner/name
    sha: str  # full 40-hex commit
    version: str  # the release tag that commit is

    @property
    def ref(self) -> str:
        return f"{self.repo}@{self.sha}"


ACTIONS: dict[str, Pin] = {
    "checkout": Pin("actions/checkout", "08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0"),
    "setup-python": Pin("actions/setup-python", "e797f83bcb11b83ae66e0230d6156d7c80228e7c", "v6.0.0"),
    "setup-buildx": Pin("docker/setup-buildx-action", "e468171a9de216ec08956ac3ada2f0791b6bd435", "v3.11.1"),
    "login": Pin("docker/login-action", "184bdaa0721073962dff0199f1fb9940f07167d1", "v3.5.0"),
    "build-push": Pin("docker/build-push-action", "263435318d21b8e681c14492fe198d362a7d2c83", "v6.18.0"),
    "app-token": Pin("actions/create-github-app-token", "fee1f7d63c2ff003460e3d139729b119787bc349", "v2.2.2"),
    "cosign-installer": Pin("sigstore/cosign-installer", "d58896d6a1865668819e1d91763c7751a165e159", "v3.9.2"),
}

RUNNER = "ubuntu-24.04"  # a fixed runner image, not ubuntu-latest, which moves under you
PYTHON_VERSION = "3.12"
BUILDX_VERSION = "v0.25.0"
BUILDKIT_IMAGE = "moby/buildkit:v0.23.2"
COSIGN_VERSION = "v2.5.3"


def uses(name: str) -> str:
    return ACTIONS[name].ref


_USES_LINE = re.compile(r"^(?P<lead>\s*(?:- )?uses: )(?P<ref>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+@[0-9a-f]{40})$",
                        re.MULTILINE)
_VERSION_OF = {pin.ref: pin.version for pin in ACTIONS.values()}


def annotate(text: str) -> str:
    """Append `# <release>` to every pinned `uses:` line of dumped YAML.

    The YAML dumper cannot write comments, so this runs on its output. It only touches lines
    whose whole value is a ref from ACTIONS, which only this package puts under a `uses:` key.
    """

    def comment(match: re.Match[str]) -> str:
        ref = match.group("ref")
        if ref not in _VERSION_OF:
            raise ValueError(f"unpinned action {ref}")
        return f"{match.group('lead')}{ref} # {_VERSION_OF[ref]}"

    # Only the few `uses:` lines can match: find those with str.find and test each, instead of
    # running the regex over the whole workflow (~50 us per workflow, 4,000 workflows at N=1000)
    # or splitting it into its ~150 lines.
    out: list[str] = []
    done = 0  # text[:done] is in `out`
    found = text.find("uses: ")
    while found != -1:
        start = text.rfind("\n", 0, found) + 1
        end = text.find("\n", found)
        end = len(text) if end == -1 else end
        out += [text[done:start], _USES_LINE.sub(comment, text[start:end])]
        done = end
        found = text.find("uses: ", end)
    out.append(text[done:])
    return "".join(out)
