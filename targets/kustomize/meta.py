"""Labels, object metadata and the fixed choices every manifest of the kustomize target shares."""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Platform, Workload

# A fixed non-root identity: high enough that it never maps to a user of the node (checkov
# CKV_K8S_40 asks for >= 10000), and the same for every workload so volume permissions are
# predictable (fsGroup makes mounted PVCs writable by it).
RUN_AS_USER = 10001
RUN_AS_GROUP = 10001

# NVIDIA's conventions: the device plugin's extended resource, the GPU feature discovery node
# label (set by the GPU Operator on every GPU node), and the taint GPU node pools carry (GKE
# adds `nvidia.com/gpu=present:NoSchedule`, EKS and AKS recommend `nvidia.com/gpu:NoSchedule`).
GPU_RESOURCE = names.GPU_RESOURCE
GPU_NODE_LABEL = "nvidia.com/gpu.present"
GPU_TAINT_KEY = "nvidia.com/gpu"

NAME = names.LABEL_NAME
INSTANCE = names.LABEL_INSTANCE
COMPONENT = names.LABEL_COMPONENT
PART_OF = names.LABEL_PART_OF
MANAGED_BY = names.LABEL_MANAGED_BY
NAMESPACE_NAME = names.LABEL_NAMESPACE_NAME

DESCRIPTION = "kubernetes.io/description"  # a well-known annotation, "used on all objects"
CONTRACT_DIGEST = "gpc.dev/contract-sha256"
ARGOCD_SYNC_OPTIONS = "argocd.argoproj.io/sync-options"

KUSTOMIZE_API = names.KUSTOMIZE_API
COMPONENT_API = "kustomize.config.k8s.io/v1alpha1"

# Checks of checkov that the design answers differently, with the reason written into the
# manifest next to the object (checkov reads `checkov.io/skip<N>: <check>=<reason>`).
SKIP_NAMESPACE = ("CKV_K8S_21", "a base has no namespace; each overlay sets its environment's namespace")
SKIP_TAG = ("CKV_K8S_14", "a base names the image without a tag; each overlay's image component sets it")
SKIP_DIGEST = ("CKV_K8S_43", "the tag is pinned per environment in the CI-owned image component; "
               "CI bumps it after each build")
SKIP_SECRET_ENV = ("CKV_K8S_35", "the wiring contract passes credentials as secretKeyRef environment "
                   "variables, the same names gpc env prints for local runs")
SKIP_CPU_LIMIT = ("CKV_K8S_11", "the spec sets resources.cpu_limit: false: the container is never throttled "
                  "while the node has spare CPU; its CPU request is capped by the guardrails")
SKIP_TOKEN = ("CKV_K8S_38", "the spec sets api_access: this workload calls the Kubernetes API")


def base_dir(workload: str) -> str:
    """A workload's base, next to its overlays (names.overlay_dir)."""
    return f"kustomize/{workload}/base"


def relative(path: str, start: str) -> str:
    """`posixpath.relpath(path, start)` for this target's folders (relative, normalized, no `.` or
    `..`: names are DNS labels). relpath makes both absolute with a getcwd() per call: 7,800 calls,
    ~4% of the render at N=1000."""
    to, here = path.split("/"), start.split("/")
    common = 0
    for a, b in zip(to, here, strict=False):  # the shorter path ends the common part
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(here) - common) + to[common:]) or "."


def selector(workload: Workload) -> dict[str, str]:
    """The labels that pick a workload's pods: its name is unique in its namespace."""
    return {NAME: workload.name}


def labels(platform: Platform, workload: Workload) -> dict[str, str]:
    """Recommended labels of every object of a workload (the overlay adds `instance`)."""
    result = {
        NAME: workload.name,
        COMPONENT: workload.type,
        PART_OF: platform.name,
        MANAGED_BY: "gpc",
    }
    if workload.team is not None:
        result[names.LABEL_TEAM] = workload.team
    return result


def platform_labels(platform: Platform, name: str, component: str = "network-policy") -> dict[str, str]:
    return {NAME: name, COMPONENT: component, PART_OF: platform.name, MANAGED_BY: "gpc"}


def metadata(name: str, labels: dict[str, str], annotations: dict[str, str] | None = None,
             namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return meta


def skips(*checks: tuple[str, str]) -> dict[str, str]:
    """checkov skip annotations, numbered in a stable order."""
    return {f"checkov.io/skip{i}": f"{check}={reason}" for i, (check, reason) in enumerate(sorted(checks), 1)}


def description(workload: Workload) -> dict[str, str]:
    return {DESCRIPTION: workload.description} if workload.description else {}
