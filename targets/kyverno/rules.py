"""Every guardrail as a Kyverno rule: its name, what it matches and its CEL checks.

Resource maxima come from `Guardrails.max_rules`, images from `Guardrails.allowed_registries`
(through compiler.guardrails, which gpc's compile-time check uses too) and from the workloads; the
security context and labels are the ones the kustomize target emits on every workload.

Each rule checks two things: the workload kinds gpc renders (`kinds`: an early rejection that
names the Deployment, Job or CronJob) and every Pod (and `kubectl debug`'s ephemeral containers)
in the platform's namespaces, whoever creates it: a bare Pod, a ReplicaSet, a StatefulSet, a
DaemonSet or the controllers of the workloads themselves. Only the Pod check closes the door.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compiler import guardrails as gr
from compiler import names
from compiler.ir import MaxRule, Platform
from targets.kyverno import cel

WORKLOAD_KINDS = tuple(kind for kinds in gr.KIND_OF_TYPE.values() for kind in kinds)
REQUIRED_LABELS = (names.LABEL_NAME, names.LABEL_PART_OF, names.LABEL_MANAGED_BY)
SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
# The one capability a non-root process may need back (binding a port below 1024).
ADDABLE_CAPABILITIES = ("NET_BIND_SERVICE",)
# An image reference ends in a digest or a tag; a tag cannot contain '/', so a registry port
# (`host:5000/app`) is not mistaken for one.
DIGEST = "@sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})$"
TAG = ":[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
LATEST = ":latest(@sha[0-9]+:[0-9a-f]+)?$"
# The shape of `registry` in the spec: a host, an optional port, then path segments.
REGISTRY = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$")

REQUIRE_RESOURCES = "require-requests-and-limits"
ALLOWED_REGISTRIES = "allowed-registries"
DISALLOW_LATEST = "disallow-latest-tag"
REQUIRE_TAG = "require-image-tag-or-digest"
RUN_AS_NON_ROOT = "run-as-non-root"
NO_PRIVILEGE_ESCALATION = "disallow-privilege-escalation"
READ_ONLY_ROOT = "read-only-root-filesystem"
DROP_CAPABILITIES = "drop-all-capabilities"
SECCOMP = "seccomp-runtime-default"
REQUIRE_LABELS = "require-labels"
PLATFORM_IMAGES = "require-platform-images"

ALL_CONTAINERS = "Every container (init and ephemeral containers too)"
DECLARED_CONTAINERS = "Every container and init container"
RESOURCE_TITLES = {"cpu": "CPU", "memory": "memory", "gpu": "GPUs"}
TYPE_KINDS = {"service": "services (Deployments)", "job": "jobs (Jobs and CronJobs)"}
TYPE_KINDS_START = {"service": "Services (Deployments)", "job": "Jobs (Jobs and CronJobs)"}


@dataclass(frozen=True)
class Check:
    """One `validate.cel.expressions` entry: true admits, false denies with `message`."""

    expression: str
    message: str


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    category: str
    severity: str
    description: str
    kinds: tuple[str, ...]  # the workload kinds checked, in every workload namespace
    variables: tuple[str, ...]
    checks: tuple[Check, ...]
    # Pods are checked in the namespaces of this workload type (the maxima differ per type);
    # None: in every workload namespace.
    pod_type: str | None = None


def guardrail_rules(platform: Platform) -> list[Rule]:
    """Every rule, in a fixed order: resources, maxima, images, pod security, labels."""
    g = platform.guardrails
    return [
        require_resources(all(p.effective_resources.cpu_limited for w in platform.workloads for p in w.placements)),
        *(max_rule(rule) for rule in g.max_rules),
        allowed_registries(gr.registry_prefixes(g), preview_infra(platform)),
        platform_images(tuple(sorted({w.image for w in platform.workloads})), preview_infra(platform)),
        disallow_latest(),
        require_tag(),
        run_as_non_root(),
        no_privilege_escalation(),
        read_only_root(),
        drop_capabilities(),
        seccomp(),
        require_labels(),
    ]


@dataclass(frozen=True)
class PreviewInfra:
    """The pinned images of a preview's own broker and object store, admitted only in the preview
    namespaces (those starting with one of `prefixes`), by exact reference and digest."""

    prefixes: tuple[str, ...]
    images: tuple[str, ...]

    def admits(self) -> str:
        """CEL about container `c`: its image is one of them and the request is in a preview."""
        return (f"(c.image in {cel.strings(self.images)} && "
                f"{cel.strings(self.prefixes)}.exists(p, request.namespace.startsWith(p)))")


def preview_infra(platform: Platform) -> PreviewInfra | None:
    preview = platform.previews
    if preview is None or not preview.infra_images:
        return None
    return PreviewInfra(preview.namespace_prefixes, preview.infra_images)


def _or_preview_infra(test: str, infra: PreviewInfra | None) -> str:
    return test if infra is None else f"({test} || {infra.admits()})"


def _infra_note(infra: PreviewInfra | None) -> str:
    return "" if infra is None else (" In a preview's namespace, also the pinned images of the preview's own "
                                     "broker and object store.")


def _container_rule(name: str, title: str, category: str, severity: str, description: str,
                    *checks: Check, kinds: tuple[str, ...] = WORKLOAD_KINDS, pod_type: str | None = None,
                    ephemeral: bool = True) -> Rule:
    variables = tuple(v for v in cel.VARIABLES if ephemeral or v != cel.ALL_CONTAINERS)
    return Rule(name, title, category, severity, description, kinds, variables, checks, pod_type)


def require_resources(cpu_limits: bool = True) -> Rule:
    """Requests for cpu and memory, limits for memory and (unless a workload of the spec runs
    without a CPU limit, `resources.cpu_limit: false`) for cpu."""
    def both(section: str, resources: tuple[str, ...]) -> Check:
        keys = cel.strings(resources)
        shown = " and ".join(f"resources.{section}.{r}" for r in resources)
        return Check(
            cel.every_container(f"{cel.has('c', 'resources', section)} && "
                                f"{keys}.all(r, r in c.resources.{section})", ephemeral=False),
            f"{DECLARED_CONTAINERS} must set {shown}: gpc sets {'both' if len(resources) > 1 else 'it'} "
            "from the workload's resources (or guardrails.defaults); add the missing ones.")

    limits = ("cpu", "memory") if cpu_limits else ("memory",)
    description = ("Every container and init container of a workload declares cpu and memory requests and "
                   "limits, so the scheduler and the namespace quotas can account for it." if cpu_limits else
                   "Every container and init container of a workload declares cpu and memory requests and a "
                   "memory limit (a workload of this platform runs without a CPU limit), so the scheduler and "
                   "the namespace quotas can account for it.")
    return _container_rule(REQUIRE_RESOURCES, "Require requests and limits", "Resources", "high", description,
                           both("requests", ("cpu", "memory")), both("limits", limits), ephemeral=False)


def max_rule(rule: MaxRule) -> Rule:
    """At most `rule.limit` of `rule.resource` per container of each workload of its type."""
    kinds = gr.KIND_OF_TYPE[rule.workload_type]
    setting = f"guardrails.max.{rule.workload_type}.{rule.resource}"
    who, who_start = TYPE_KINDS[rule.workload_type], TYPE_KINDS_START[rule.workload_type]
    key = names.GPU_RESOURCE if rule.resource == "gpu" else rule.resource
    if rule.resource == "gpu" and int(rule.limit) == 0:
        check = Check(
            cel.every_container(f"{cel.absent('limits', key)} && {cel.absent('requests', key)}", ephemeral=False),
            f"{who_start} may not use GPUs ({setting} is 0): remove {key} from resources.requests and "
            f"resources.limits, or raise {setting} in the platform spec.")
        description = f"No GPUs ({key}) for {who}."
    else:
        def within(value: str) -> str:
            return f"quantity({value}).compareTo(quantity({cel.string(rule.limit)})) <= 0"

        check = Check(
            cel.every_container(f"({cel.not_set_or('limits', key, within)}) && "
                                f"({cel.not_set_or('requests', key, within)})", ephemeral=False),
            f"{who_start} may ask for at most {rule.limit} of {key} per container ({setting}): lower "
            f"resources.requests and resources.limits, or raise {setting} in the platform spec.")
        description = f"At most {rule.limit} of {key} per container of {who}."
    return _container_rule(gr.max_rule_name(rule), f"Maximum {RESOURCE_TITLES[rule.resource]} of {rule.workload_type}s",
                           "Resources", "high", description, check, kinds=kinds, pod_type=rule.workload_type,
                           ephemeral=False)


def allowed_registries(prefixes: tuple[str, ...], infra: PreviewInfra | None = None) -> Rule:
    # Messages are plain text that Kyverno scans for `{{ variables }}`: they name the registries
    # only when all of them look like registries (otherwise GPC341 stops the compile anyway).
    if all(REGISTRY.match(p.rstrip("/")) for p in prefixes):
        shown = f"{', '.join(prefixes)} (guardrails.allowed_registries)"
    else:
        shown = "the registries of guardrails.allowed_registries"
    return _container_rule(
        ALLOWED_REGISTRIES, "Allowed image registries", "Images", "high",
        f"Images come only from {shown}." + _infra_note(infra),
        Check(cel.every_container("has(c.image) && " + _or_preview_infra(
                  f"{cel.strings(prefixes)}.exists(p, c.image.startsWith(p))", infra)),
              f"{ALL_CONTAINERS} must use an image under {shown}: push the image there, or add its "
              "registry to guardrails.allowed_registries in the platform spec."))


def platform_images(images: tuple[str, ...], infra: PreviewInfra | None = None) -> Rule:
    """Only the workloads' own images (the ones their delivery workflows build and sign): an image
    under an allowed registry that no workload declares would escape the signature check, which
    matches each workload's image by name."""
    # Images are checked by GPC343 to be plain references, so messages can name them (Kyverno
    # scans messages for `{{ variables }}`).
    prefixes = tuple(f"{image}{sep}" for image in images for sep in (":", "@"))
    return _container_rule(
        PLATFORM_IMAGES, "Only the platform's images", "Images", "high",
        "Pods run only the images of the platform's workloads, which their repositories' delivery "
        "workflows build and sign." + _infra_note(infra),
        Check(cel.every_container("has(c.image) && " + _or_preview_infra(
                  f"(c.image in {cel.strings(images)} || {cel.strings(prefixes)}.exists(p, c.image.startsWith(p)))",
                  infra)),
              f"{ALL_CONTAINERS} must run the image of one of the platform's workloads "
              f"({', '.join(images)}): only their delivery workflows build and sign images for it."))


def disallow_latest() -> Rule:
    return _container_rule(
        DISALLOW_LATEST, "Disallow the latest tag", "Images", "medium",
        "Images are never deployed by the mutable tag `latest`.",
        Check(cel.every_container(f"!has(c.image) || !c.image.matches({cel.string(LATEST)})"),
              "The image tag ':latest' is not allowed: it changes under a running workload. Deploy an "
              "immutable tag (CI writes it into the environment's image component) or a digest."))


def require_tag() -> Rule:
    return _container_rule(
        REQUIRE_TAG, "Require an image tag or digest", "Images", "medium",
        "Every image names a tag or a digest; an untagged image silently means `latest`.",
        Check(cel.every_container(f"has(c.image) && (c.image.matches({cel.string(DIGEST)}) || "
                                  f"c.image.matches({cel.string(TAG)}))"),
              f"{ALL_CONTAINERS} must name its image with a tag or a digest (name:1.2.3 or "
              "name@sha256:...): an image without one means ':latest'."))


def run_as_non_root() -> Rule:
    non_root = cel.container_or_pod("runAsNonRoot", test=lambda v: f"{v} == true")
    user = f"{cel.POD}.securityContext.runAsUser"
    not_uid_0 = (f"({cel.has('c', 'securityContext', 'runAsUser')}) ? c.securityContext.runAsUser != 0 : "
                 f"(!({cel.has(cel.POD, 'securityContext', 'runAsUser')}) || {user} != 0)")
    return _container_rule(
        RUN_AS_NON_ROOT, "Run as non-root", "Pod security", "high",
        "Containers never run as root (runAsNonRoot, and no runAsUser 0).",
        Check(cel.every_container(non_root),
              f"{ALL_CONTAINERS} must run as a non-root user: set securityContext.runAsNonRoot: true on "
              "the pod (gpc does) and do not set it to false on a container."),
        Check(cel.every_container(not_uid_0),
              "Containers must not run as user 0 (root): remove securityContext.runAsUser: 0 from the pod "
              "and its containers."))


def _container_setting(name: str, title: str, description: str, field: str, value: str, message: str) -> Rule:
    test = f"{cel.has('c', 'securityContext', field)} && c.securityContext.{field} == {value}"
    return _container_rule(name, title, "Pod security", "high", description,
                           Check(cel.every_container(test), message))


def no_privilege_escalation() -> Rule:
    return _container_setting(
        NO_PRIVILEGE_ESCALATION, "Disallow privilege escalation",
        "No process can gain more privileges than its parent (setuid binaries, file capabilities).",
        "allowPrivilegeEscalation", "false",
        f"{ALL_CONTAINERS} must set securityContext.allowPrivilegeEscalation: false.")


def read_only_root() -> Rule:
    return _container_setting(
        READ_ONLY_ROOT, "Read-only root filesystem",
        "Containers cannot write to their image's filesystem; writable paths are mounted volumes.",
        "readOnlyRootFilesystem", "true",
        f"{ALL_CONTAINERS} must set securityContext.readOnlyRootFilesystem: true; write to a mounted "
        "volume (an emptyDir for scratch space) instead.")


def drop_capabilities() -> Rule:
    drop = cel.has("c", "securityContext", "capabilities", "drop")
    add = cel.has("c", "securityContext", "capabilities", "add")
    allowed = cel.strings(ADDABLE_CAPABILITIES)
    return _container_rule(
        DROP_CAPABILITIES, "Drop all capabilities", "Pod security", "high",
        "Containers drop every Linux capability and add back at most NET_BIND_SERVICE.",
        Check(cel.every_container(f"{drop} && c.securityContext.capabilities.drop.exists(d, d == \"ALL\")"),
              f"{ALL_CONTAINERS} must set securityContext.capabilities.drop: [ALL]."),
        Check(cel.every_container(f"!({add}) || c.securityContext.capabilities.add.all(a, a in {allowed})"),
              f"Containers may add back only {', '.join(ADDABLE_CAPABILITIES)}: remove the other entries "
              "of securityContext.capabilities.add."))


def seccomp() -> Rule:
    types = cel.strings(SECCOMP_TYPES)
    profile = cel.container_or_pod("seccompProfile", test=lambda v: f"has({v}.type) && {v}.type in {types}")
    return _container_rule(
        SECCOMP, "Seccomp profile", "Pod security", "high",
        "Every container runs under the container runtime's default seccomp profile (or a local one).",
        Check(cel.every_container(profile),
              "Set securityContext.seccompProfile.type: RuntimeDefault on the pod (gpc does) and do not "
              "override it with Unconfined on a container."))


def require_labels() -> Rule:
    labels = f"variables.{cel.POD_TEMPLATE}.metadata.labels"
    test = (f"{cel.has('variables.' + cel.POD_TEMPLATE, 'metadata', 'labels')} && "
            f"{cel.strings(REQUIRED_LABELS)}.all(k, k in {labels} && {labels}[k] != \"\")")
    return Rule(
        REQUIRE_LABELS, "Require gpc's labels", "Labels", "medium",
        "Pods carry the labels gpc's Services, NetworkPolicies and dashboards select on.",
        WORKLOAD_KINDS, (cel.POD_TEMPLATE,),
        (Check(test, f"The pod (template) must carry the labels {', '.join(REQUIRED_LABELS)} with non-empty "
                     "values: gpc sets them; keep them when editing a manifest."),))
