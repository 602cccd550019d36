"""The corpus the executed-policy tests run: gpc's own manifests with one thing broken (REJECTED,
each naming the rules that must reject it) or changed within the rules (ADMITTED)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from compiler.names import GPU_RESOURCE
from compiler.names import LABEL_MANAGED_BY as MANAGED_BY
from compiler.names import LABEL_NAME as NAME
from compiler.names import LABEL_PART_OF as PART_OF
from targets.kyverno import rules as r

DIGEST = "sha256:" + "ab" * 32
# A foreign image fails the registry rule and, not being a workload's, the platform-images rule.
FOREIGN = (r.PLATFORM_IMAGES,)


def pod(m: dict[str, Any]) -> dict[str, Any]:
    return template(m)["spec"]  # type: ignore[no-any-return]


def template(m: dict[str, Any]) -> dict[str, Any]:
    """The pod template of a controller; a Pod is its own."""
    if m["kind"] == "Pod":
        return m
    spec = m["spec"]["jobTemplate"]["spec"] if m["kind"] == "CronJob" else m["spec"]
    return spec["template"]  # type: ignore[no-any-return]


def main(m: dict[str, Any]) -> dict[str, Any]:
    return pod(m)["containers"][0]  # type: ignore[no-any-return]


def security(m: dict[str, Any]) -> dict[str, Any]:
    return main(m)["securityContext"]  # type: ignore[no-any-return]


def add_init(m: dict[str, Any], change: Callable[[dict[str, Any]], Any] = lambda c: None) -> None:
    """A copy of the main container as an init container (init containers take no probes or ports)."""
    init = copy.deepcopy(main(m))
    init["name"] = "init"
    for key in ("livenessProbe", "readinessProbe", "ports"):
        init.pop(key, None)
    change(init)
    pod(m)["initContainers"] = [init]


def set_resource(section: str, key: str, value: str, container: Callable[[dict[str, Any]], dict[str, Any]] = main,
                 ) -> Callable[[dict[str, Any]], None]:
    def change(m: dict[str, Any]) -> None:
        sections = ("requests", "limits") if section == "both" else (section,)
        for s in sections:
            container(m)["resources"][s][key] = value
    return change


def image(value: str) -> Callable[[dict[str, Any]], None]:
    def change(m: dict[str, Any]) -> None:
        main(m)["image"] = value
    return change


def do(*changes: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    def change(m: dict[str, Any]) -> None:
        for c in changes:
            c(m)
    return change


@dataclass(frozen=True)
class Case:
    id: str
    base: str  # "deployment" (fraud checkout), "cronjob" (fraud trainer), "job" (gpu-cron backfill)
    change: Callable[[dict[str, Any]], Any]
    rule: str | None  # the rule that must reject it; None: must be admitted
    also: tuple[str, ...] = ()  # and the other rules that must reject it too (no more)

    @property
    def rules(self) -> set[str]:
        return {self.rule, *self.also} if self.rule else set()


BASES = {
    "deployment": ("fraud", "Deployment", "checkout", "fraud-detection-dev-services"),
    "cronjob": ("fraud", "CronJob", "fraud-trainer", "fraud-detection-dev-jobs"),
    "job": ("gpu-cron", "Job", "backfill", "vision-dev-jobs"),
}

REJECTED = [
    # requests and limits
    Case("deployment-no-limits", "deployment", lambda m: main(m)["resources"].pop("limits"), r.REQUIRE_RESOURCES),
    Case("deployment-no-memory-request", "deployment", lambda m: main(m)["resources"]["requests"].pop("memory"),
         r.REQUIRE_RESOURCES),
    Case("deployment-no-resources", "deployment", lambda m: main(m).pop("resources"), r.REQUIRE_RESOURCES),
    Case("deployment-init-without-limits", "deployment",
         lambda m: add_init(m, lambda c: c["resources"].pop("limits")), r.REQUIRE_RESOURCES),
    Case("cronjob-no-cpu-limit", "cronjob", lambda m: main(m)["resources"]["limits"].pop("cpu"), r.REQUIRE_RESOURCES),
    Case("job-init-without-resources", "job", lambda m: add_init(m, lambda c: c.pop("resources")),
         r.REQUIRE_RESOURCES),
    # maxima (fraud: service cpu 1, memory 1Gi, no GPU; job cpu 4, memory 8Gi, 1 GPU; gpu-cron job: 16, 64Gi, 4)
    Case("deployment-too-much-memory", "deployment", set_resource("both", "memory", "2Gi"), "max-memory-service"),
    Case("deployment-too-much-memory-in-decimal-units", "deployment", set_resource("both", "memory", "1.1G"),
         "max-memory-service"),
    Case("deployment-too-much-cpu", "deployment", set_resource("both", "cpu", "1500m"), "max-cpu-service"),
    Case("deployment-init-too-much-cpu", "deployment",
         lambda m: add_init(m, lambda c: c["resources"].update(requests={"cpu": "2", "memory": "64Mi"},
                                                               limits={"cpu": "2", "memory": "64Mi"})),
         "max-cpu-service"),
    Case("deployment-gpu", "deployment", set_resource("both", GPU_RESOURCE, "1"), "max-gpu-service"),
    Case("deployment-gpu-limit-only", "deployment", set_resource("limits", GPU_RESOURCE, "1"), "max-gpu-service"),
    Case("deployment-zero-gpus-named", "deployment", set_resource("both", GPU_RESOURCE, "0"), "max-gpu-service"),
    Case("cronjob-too-much-memory", "cronjob", set_resource("both", "memory", "16Gi"), "max-memory-job"),
    Case("cronjob-too-much-cpu", "cronjob", set_resource("both", "cpu", "4500m"), "max-cpu-job"),
    Case("cronjob-gpu-over-max", "cronjob", set_resource("both", GPU_RESOURCE, "2"), "max-gpu-job"),
    Case("job-gpu-over-max", "job", set_resource("both", GPU_RESOURCE, "5"), "max-gpu-job"),
    Case("job-too-much-memory", "job", set_resource("both", "memory", "65Gi"), "max-memory-job"),
    Case("job-too-much-cpu", "job", set_resource("both", "cpu", "17"), "max-cpu-job"),
    # images
    Case("deployment-foreign-registry", "deployment", image("docker.io/library/nginx:1.27"), r.ALLOWED_REGISTRIES, FOREIGN),
    Case("deployment-look-alike-host", "deployment", image("ghcr.io.evil.example/acme/checkout:1.0.0"),
         r.ALLOWED_REGISTRIES, FOREIGN),
    Case("deployment-look-alike-path", "deployment", image("ghcr.io/acme-evil/checkout:1.0.0"), r.ALLOWED_REGISTRIES, FOREIGN),
    Case("deployment-registry-itself-as-image", "deployment", image("ghcr.io/acme:1.0.0"), r.ALLOWED_REGISTRIES, FOREIGN),
    Case("deployment-init-foreign-registry", "deployment",
         lambda m: add_init(m, lambda c: c.update(image="docker.io/library/busybox:1.36")), r.ALLOWED_REGISTRIES, FOREIGN),
    Case("job-registry-without-its-port", "job", image("registry.acme.example/ml/backfill:1.0.0"),
         r.ALLOWED_REGISTRIES, FOREIGN),
    Case("deployment-image-no-workload-declares", "deployment", image("ghcr.io/acme/other:1.0.0"), r.PLATFORM_IMAGES),
    Case("deployment-workload-image-look-alike", "deployment", image("ghcr.io/acme/checkout-evil:1.0.0"),
         r.PLATFORM_IMAGES),
    Case("job-init-image-no-workload-declares", "job",
         lambda m: add_init(m, lambda c: c.update(image="registry.acme.example:5000/ml/tools:1.0")), r.PLATFORM_IMAGES),
    Case("deployment-latest", "deployment", image("ghcr.io/acme/checkout:latest"), r.DISALLOW_LATEST),
    Case("deployment-latest-with-digest", "deployment", image(f"ghcr.io/acme/checkout:latest@{DIGEST}"),
         r.DISALLOW_LATEST),
    Case("cronjob-latest", "cronjob", image("ghcr.io/acme/fraud-trainer:latest"), r.DISALLOW_LATEST),
    Case("deployment-untagged", "deployment", image("ghcr.io/acme/checkout"), r.REQUIRE_TAG),
    Case("job-port-registry-untagged", "job", image("registry.acme.example:5000/ml/backfill"), r.REQUIRE_TAG),
    # security context
    Case("deployment-container-runs-as-root", "deployment", lambda m: security(m).update(runAsNonRoot=False),
         r.RUN_AS_NON_ROOT),
    Case("deployment-run-as-user-0", "deployment", lambda m: security(m).update(runAsUser=0), r.RUN_AS_NON_ROOT),
    Case("deployment-pod-run-as-user-0", "deployment",
         do(lambda m: security(m).pop("runAsUser"), lambda m: pod(m)["securityContext"].update(runAsUser=0)),
         r.RUN_AS_NON_ROOT),
    Case("cronjob-non-root-unset", "cronjob",
         do(lambda m: security(m).pop("runAsNonRoot"), lambda m: pod(m)["securityContext"].pop("runAsNonRoot")),
         r.RUN_AS_NON_ROOT),
    Case("deployment-privilege-escalation", "deployment",
         lambda m: security(m).update(allowPrivilegeEscalation=True), r.NO_PRIVILEGE_ESCALATION),
    Case("cronjob-privilege-escalation-unset", "cronjob", lambda m: security(m).pop("allowPrivilegeEscalation"),
         r.NO_PRIVILEGE_ESCALATION),
    Case("deployment-init-writable-root", "deployment",
         lambda m: add_init(m, lambda c: c["securityContext"].update(readOnlyRootFilesystem=False)), r.READ_ONLY_ROOT),
    Case("job-writable-root", "job", lambda m: security(m).pop("readOnlyRootFilesystem"), r.READ_ONLY_ROOT),
    Case("deployment-capabilities-not-dropped", "deployment",
         lambda m: security(m)["capabilities"].update(drop=["NET_RAW"]), r.DROP_CAPABILITIES),
    Case("deployment-no-capabilities", "deployment", lambda m: security(m).pop("capabilities"), r.DROP_CAPABILITIES),
    Case("deployment-capability-added", "deployment",
         lambda m: security(m)["capabilities"].update(add=["SYS_ADMIN"]), r.DROP_CAPABILITIES),
    Case("deployment-seccomp-unconfined", "deployment",
         lambda m: security(m).update(seccompProfile={"type": "Unconfined"}), r.SECCOMP),
    Case("cronjob-seccomp-unset", "cronjob",
         do(lambda m: security(m).pop("seccompProfile"), lambda m: pod(m)["securityContext"].pop("seccompProfile")),
         r.SECCOMP),
    # labels
    Case("deployment-missing-part-of", "deployment", lambda m: template(m)["metadata"]["labels"].pop(PART_OF),
         r.REQUIRE_LABELS),
    Case("deployment-empty-managed-by", "deployment",
         lambda m: template(m)["metadata"]["labels"].update({MANAGED_BY: ""}), r.REQUIRE_LABELS),
    Case("cronjob-missing-name", "cronjob", lambda m: template(m)["metadata"]["labels"].pop(NAME), r.REQUIRE_LABELS),
    Case("job-no-labels", "job", lambda m: template(m)["metadata"].pop("labels"), r.REQUIRE_LABELS),
]

ADMITTED = [
    Case("deployment-memory-at-the-max", "deployment", set_resource("both", "memory", "1024Mi"), None),
    Case("deployment-cpu-at-the-max", "deployment", set_resource("both", "cpu", "1000m"), None),
    Case("cronjob-gpu-at-the-max", "cronjob", set_resource("both", GPU_RESOURCE, "1"), None),
    Case("deployment-digest-only", "deployment", image(f"ghcr.io/acme/checkout@{DIGEST}"), None),
    # what Kyverno's mutateDigest makes of a verified image
    Case("deployment-tag-and-digest", "deployment", image(f"ghcr.io/acme/checkout:1.0.0@{DIGEST}"), None),
    Case("deployment-another-workloads-image", "deployment", image("ghcr.io/acme/fraud-trainer:1.0.0"), None),
    Case("deployment-compliant-init-container", "deployment", add_init, None),
    Case("deployment-net-bind-service-added", "deployment",
         lambda m: security(m)["capabilities"].update(add=["NET_BIND_SERVICE"]), None),
    Case("deployment-non-root-on-the-pod-only", "deployment", lambda m: security(m).pop("runAsNonRoot"), None),
    Case("cronjob-seccomp-on-the-container-only", "cronjob", lambda m: pod(m)["securityContext"].pop("seccompProfile"),
         None),
    Case("job-port-registry-tagged", "job", image("registry.acme.example:5000/ml/backfill:2.0"), None),
]

ALL_CASES = REJECTED + ADMITTED
