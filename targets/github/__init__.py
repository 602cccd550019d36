"""The github target: the CI of every workload repository and of the platform repository.

Workload repositories get a pull-request build, a delivery workflow (test, build, push, sign,
then a pull request, merged automatically, that bumps the first environment's CI-owned image
Component in the GitOps repository) and one promotion workflow per later environment, whose pull
request waits for a review. The platform repository gets `gpc validate`, the `gpc compile --check`
drift gate and the guard that limits each workload's CI identity to its own image files.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler import yamlout
from compiler.diagnostics import Diagnostic
from compiler.ir import Platform
from compiler.target import Artifact, whole
from targets.github import checks, guard, pins, platform, preview, readme, readme_platform, workload

ROOT = "github"


def _workflow_text(data: dict[str, object], spec_file: str, preamble: str = "") -> str:
    text = yamlout.dump(data, spec_file)
    header, _, body = text.partition("\n")
    return pins.annotate(f"{header}\n{preamble}{body}")


class GitHubTarget:
    name = "github"
    description = "GitHub Actions: build, sign and deliver each workload; validate and drift-check the platform"

    def check(self, ir: Platform) -> list[Diagnostic]:
        return checks.check(ir)

    def render(self, ir: Platform) -> list[Artifact]:
        return whole(self.render_parts(ir))

    def render_parts(self, ir: Platform) -> Iterator[list[Artifact]]:
        yield [
            Artifact(f"{ROOT}/platform/README.md", readme_platform.platform_readme(ir)),
            Artifact(platform.ARTIFACT, _workflow_text(platform.gpc_workflow(ir), ir.spec_file)),
            Artifact(guard.ARTIFACT, _workflow_text(guard.guard_workflow(ir), ir.spec_file)),
            Artifact(guard.SCRIPT, guard.script(ir)),
            Artifact(guard.POLICY, guard.policy(ir)),
            Artifact(guard.RULESET, guard.ruleset(ir)),
        ]
        for w in ir.workloads:
            if not w.repo:
                continue  # no repository builds it: its image comes from elsewhere
            folder = f"{ROOT}/{w.name}"
            artifacts = [Artifact(f"{folder}/README.md", readme.workload_readme(ir, w))]
            for file, data in workload.workflow_files(ir, w).items():
                preamble = workload.CI_CHECKOV_SKIPS if file == "ci.yaml" else ""
                artifacts.append(Artifact(f"{folder}/.github/workflows/{file}",
                                          _workflow_text(data, ir.spec_file, preamble)))
            yield artifacts
        artifacts = []
        for path, content in preview.files(ir).items():
            text = content if isinstance(content, str) else _workflow_text(content, ir.spec_file)
            artifacts.append(Artifact(f"{ROOT}/{path}", text))
        yield artifacts

TARGET = GitHubTarget()
