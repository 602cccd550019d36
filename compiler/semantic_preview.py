"""Checks of `previews` (GPC290-GPC299): the environment copied, durations, counts, the quota
against what one preview runs and against the guardrails, the label, the fork rule and the
cluster a preview of databases needs to itself."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from compiler import ir_preview
from compiler.durations import duration_seconds
from compiler.hints import did_you_mean
from compiler.quantity import parse_quantity

if TYPE_CHECKING:
    from compiler.model import Platform
    from compiler.semantic import Reporter

_HOUR = 3600
_TTL = (_HOUR, 30 * 24 * _HOUR)
_REQUEUE = (30, 24 * _HOUR)
MAX_PREVIEWS = 50
_LABEL_MAX = 50 - len(ir_preview.READY_SUFFIX)
_HERE = ("previews",)


def check_previews(spec: Platform, report: Reporter) -> None:
    previews = spec.previews
    if previews is None:
        return
    if previews.from_ not in spec.environments:
        report("GPC290", f"previews copy environment '{previews.from_}', which is not declared",
               (*_HERE, "from"), hint=did_you_mean(previews.from_, spec.environments)
               or f"one of: {', '.join(spec.environments)}")
    for key, (low, high) in (("ttl", _TTL), ("requeue_after", _REQUEUE)):
        text = getattr(previews, key)
        seconds = duration_seconds(text)
        if seconds is None:
            report("GPC291", f"{key} '{text}' is not a duration", (*_HERE, key),
                   hint="days, hours and minutes, e.g. '72h', '3d' or '5m'")
        elif not low <= seconds <= high:
            bounds = "1h and 30d" if key == "ttl" else "30s and 24h"
            report("GPC291", f"{key} '{text}' is not between {bounds}", (*_HERE, key))
    if not 1 <= previews.max <= MAX_PREVIEWS:
        report("GPC292", f"max {previews.max} is not between 1 and {MAX_PREVIEWS}", (*_HERE, "max"),
               hint="remove `previews` to have none" if previews.max < 1 else None)
    label = previews.label
    if not label.strip() or "," in label or len(label) > _LABEL_MAX:
        report("GPC297", f"label '{label}' is not a usable GitHub label", (*_HERE, "label"),
               hint=f"at most {_LABEL_MAX} characters, no comma, e.g. 'preview'")
    if previews.allow.forks:
        report("GPC296", "pull requests from forks cannot get a preview", (*_HERE, "allow", "forks"),
               hint="a fork's run cannot push the image without pull_request_target, which gpc never uses; "
                    "set forks: false")
    if not any(w.repo for w in spec.workloads.values()):
        report("GPC298", "no workload names its repository, so no pull request can start a preview", _HERE,
               key=True, hint="set `repo: owner/name` on the workloads whose pull requests get previews")
    if spec.storage.databases and previews.from_ in spec.environments:
        # A preview's databases are CloudNativePG Clusters in its namespace, run by the `from`
        # environment's operator watching every namespace (targets/argocd/charts.py). A second
        # environment on that cluster has an operator of its own for its Clusters: two operators
        # would reconcile them.
        cluster = spec.environments[previews.from_].cluster
        shared = sorted(e for e, env in spec.environments.items() if e != previews.from_ and env.cluster == cluster)
        if shared:
            report("GPC299", f"previews of '{previews.from_}' need its database operator to watch every "
                   f"namespace of its cluster, which '{shared[0]}' shares", (*_HERE, "from"),
                   hint=f"previews of a platform with databases copy an environment alone on its cluster: "
                        f"give '{previews.from_}' or '{shared[0]}' another `cluster`")
    _check_quota(spec, report)


def _quantity(text: str) -> Fraction | None:
    try:
        value = parse_quantity(text)
    except ValueError:
        return None
    return value if value > 0 else None


def _check_quota(spec: Platform, report: Reporter) -> None:
    previews = spec.previews
    assert previews is not None
    quota = previews.quota
    values: dict[str, Fraction] = {}
    for key in ("cpu", "memory"):
        value = _quantity(getattr(quota, key))
        if value is None:
            report("GPC295", f"quota {key} '{getattr(quota, key)}' is not a quantity above zero",
                   (*_HERE, "quota", key), hint="e.g. cpu: 2500m, memory: 6Gi")
        else:
            values[key] = value
    if quota.pods < 1:
        report("GPC295", f"quota pods {quota.pods} is not at least 1", (*_HERE, "quota", "pods"))
    _over_guardrails(spec, values, report)
    if previews.from_ in spec.environments and not report.diagnostics:
        _too_small(spec, values, report)  # lowering needs a spec every other check passed


def _over_guardrails(spec: Platform, values: dict[str, Fraction], report: Reporter) -> None:
    assert spec.previews is not None
    written = spec.previews.quota
    quotas = spec.guardrails.quotas
    groups = [q for q in (quotas.services, quotas.jobs) if q is not None]
    if len(groups) < 2:
        return  # an undeclared group's quota is unbounded: the sum bounds nothing
    for key, value in values.items():
        declared = [getattr(q, key) for q in groups]
        if any(d is None for d in declared):
            continue
        allowed = sum((parse_quantity(str(d)) for d in declared), Fraction(0))
        if value > allowed:
            report("GPC294", f"quota {key} '{getattr(written, key)}' is more than the guardrails "
                   f"allow the environment it copies ({_show(key, allowed)})",
                   ("previews", "quota", key), hint=f"at most {_show(key, allowed)}")


def _too_small(spec: Platform, values: dict[str, Fraction], report: Reporter) -> None:
    # The need is computed from the IR (compiler/lower_preview.needs): lowering here is cheap, and
    # the check then agrees with what the kustomize target writes into the quota.
    from compiler.lower import lower

    platform = lower(spec.model_copy(update={"previews": None}), "", "")
    from compiler.lower_preview import lower_previews, migrating, needs

    preview = lower_previews(spec.previews, platform, None)  # type: ignore[arg-type]
    cpu, memory, pods = needs(preview, migrating(platform))
    previews = spec.previews
    assert previews is not None
    for key, need in (("cpu", cpu), ("memory", memory)):
        if key in values and values[key] < need:
            report("GPC293", f"quota {key} '{getattr(previews.quota, key)}' is less than one preview of "
                   f"'{previews.from_}' runs at once ({_show(key, need)})", ("previews", "quota", key),
                   hint=f"at least {_show(key, need)}")
    if 1 <= previews.quota.pods < pods:
        report("GPC293", f"quota pods {previews.quota.pods} is less than one preview of '{previews.from_}' "
               f"runs at once ({pods})", ("previews", "quota", "pods"), hint=f"at least {pods}")


def _show(key: str, value: Fraction) -> str:
    if key == "cpu":
        return f"{int(value * 1000)}m" if value.denominator != 1 else str(int(value))
    mib = value / (1024 * 1024)
    return f"{int(mib)}Mi" if mib.denominator == 1 else f"{int(value)}"
