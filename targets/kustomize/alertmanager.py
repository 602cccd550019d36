"""Where alerts go: an AlertmanagerConfig per namespace of an environment with monitoring (the
Prometheus Operator matches one only against alerts labelled with its own namespace, which every gpc
alert carries). With `alerts: team`, each team's alerts go to its receiver: a webhook whose URL the
platform team puts in the Secret `alerts-<team>` (key `url`) of that namespace; until that Secret
exists the operator skips the config, so nobody is paged by accident. With `alerts: none` (dev,
previews) everything goes to a receiver with no integration: evaluated, never delivered.
Matchers leave `matchType` at its default (equality): kustomize writes a bare `=`, which YAML 1.1
readers such as PyYAML take for the `value` tag instead of a string.
"""

from __future__ import annotations

from typing import Any

from compiler.ir import Environment, Platform
from targets.kustomize import alerts, meta

API = "monitoring.coreos.com/v1alpha1"
NAME = "gpc-alerts"
NULL_RECEIVER = "null"
URL_KEY = "url"


def alert_secret(team: str) -> str:
    return f"alerts-{team}"


def teams_by_namespace(platform: Platform, env: Environment) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {ns: set() for ns in env.namespaces.values()}
    for w in platform.workloads_in(env.name):  # one switched off there has no placement there
        out[w.placement(env.name).namespace].add(w.team or alerts.PLATFORM_TEAM)
    infra = env.namespaces.get("infra")
    if infra is not None:
        out[infra] |= {alerts.queue_team(platform, q) or alerts.PLATFORM_TEAM for q in platform.queues}
        if platform.buckets:  # the object store's alerts (the platform team's) and each bucket's owner's
            out[infra] |= {alerts.PLATFORM_TEAM} | {b.team or alerts.PLATFORM_TEAM for b in platform.buckets}
    return {ns: teams for ns, teams in out.items() if teams}


def configs(platform: Platform, env: Environment, labels: dict[str, str]) -> list[dict[str, Any]]:
    if env.monitoring is None:
        return []
    out = []
    for namespace, teams in sorted(teams_by_namespace(platform, env).items()):
        group_by = ["alertname", "workload", "queue", "bucket"]
        if env.monitoring.route_to_teams:
            spec: dict[str, Any] = {
                "route": {"receiver": alerts.PLATFORM_TEAM, "groupBy": group_by, "routes": [
                    {"receiver": team, "matchers": [{"name": "team", "value": team}]}
                    for team in sorted(teams - {alerts.PLATFORM_TEAM})]},
                "receivers": [{"name": team, "webhookConfigs": [
                    {"urlSecret": {"name": alert_secret(team), "key": URL_KEY}, "sendResolved": True}]}
                    for team in sorted(teams | {alerts.PLATFORM_TEAM})],
            }
        else:
            spec = {"route": {"receiver": NULL_RECEIVER, "groupBy": group_by,
                              "matchers": [{"name": "route", "value": "none"}]},
                    "receivers": [{"name": NULL_RECEIVER}]}
        out.append({"apiVersion": API, "kind": "AlertmanagerConfig",
                    "metadata": meta.metadata(NAME, labels, namespace=namespace), "spec": spec})
    return out
