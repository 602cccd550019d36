"""Semantic checks of per-environment switches (GPC277-278): a workload switched off in an
environment (`overrides.workloads.<name>.enabled: false`) is absent there, so nothing enabled there
may use it, and a workload switched off everywhere is a workload that should not be in the spec.

Listed in compiler/semantic.py's CHECKS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.model import Platform, ServiceUse

if TYPE_CHECKING:
    from compiler.semantic import Reporter


def disabled(spec: Platform, env: str) -> set[str]:
    return {name for name, o in spec.environments[env].overrides.workloads.items() if not o.enabled}


def check_disabled_references(spec: Platform, report: Reporter) -> None:
    for ename in spec.environments:
        off = disabled(spec, ename)
        for wname, w in spec.workloads.items():
            if wname in off:
                continue
            for alias, use in w.uses.items():
                if isinstance(use, ServiceUse) and use.service in off:
                    report("GPC277", f"'{wname}' uses service '{use.service}', which environment '{ename}' switches "
                           "off (enabled: false)", ("workloads", wname, "uses", alias, "service"),
                           hint=f"switch '{wname}' off in '{ename}' too, or keep '{use.service}' on there")


def check_disabled_everywhere(spec: Platform, report: Reporter) -> None:
    for wname in spec.workloads:
        if spec.environments and all(wname in disabled(spec, e) for e in spec.environments):
            last = list(spec.environments)[-1]
            report("GPC278", f"workload '{wname}' is switched off in every environment",
                   ("environments", last, "overrides", "workloads", wname, "enabled"),
                   hint="remove the workload from the spec, or enable it in one environment")
