"""A Prometheus for the local fraud platform, configured from what gpc generates, not by hand: one
scrape job per ServiceMonitor and PodMonitor `gpc compile specs/fraud.yaml` writes for an
environment (its path, `honorLabels`, and the `job` and `namespace` labels the Prometheus Operator
would give its targets: the `jobLabel`'s value, the monitor's namespace), with a static target where
the selected pods' port answers here; and every PrometheusRule of that environment as a rule file.

What differs from the cluster: a target is an address on loopback, not a pod found through the
Kubernetes API, and scrapes and evaluations run at `interval` (the monitors say 30s).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from compiler import names

from .plan import SPEC
from .prometheus import Prometheus

MONITOR_INTERVAL = "30s"  # what gpc's monitors say (targets/kustomize/monitoring.py)


def compiled(spec: Path = SPEC) -> dict[str, str]:
    """Every file `gpc compile` writes for `spec` (path -> text), computed in memory."""
    from compiler.pipeline import check, render
    from targets import TARGETS

    result = check(spec)
    assert result.ok and result.platform is not None, [d.message for d in result.diagnostics]
    artifacts, problems = render(result.platform, list(TARGETS))
    assert not [p for p in problems if p.severity.value == "error"], problems
    return {a.path: a.text for a in artifacts}


def environment_docs(tree: dict[str, str], env: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(namespace, object) of every object in the environment's overlays, with the files of the
    Components an overlay lists (what environments share, kept once by gpc); the namespace is the
    object's own or, where it names none, the one its overlay's kustomization sets."""
    for path, text in sorted(tree.items()):
        parts = path.split("/")
        if not (path.startswith("kustomize/") and parts[2:] == ["overlays", env, "kustomization.yaml"]):
            continue
        kustomization = yaml.safe_load(text)
        here = posixpath.dirname(path)
        folders = [here] + [posixpath.normpath(posixpath.join(here, c)) for c in kustomization.get("components", [])]
        for folder in folders:
            for inner in sorted(p for p in tree if posixpath.dirname(p) == folder):
                if inner.endswith(".yaml") and not inner.endswith("kustomization.yaml"):
                    for doc in yaml.safe_load_all(tree[inner]):
                        if isinstance(doc, dict):
                            yield doc["metadata"].get("namespace") or kustomization.get("namespace"), doc


def scrape_configs(tree: dict[str, str], env: str, local: dict[str, str],
                   not_here: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One scrape job per generated monitor; `local`: monitor name -> where its pods' port answers
    here; `not_here`: monitor name -> why nothing here serves what it scrapes. Every monitor must
    have a local address or a reason, and every address and reason a monitor."""
    jobs, seen, skipped = [], set(), set()
    for namespace, doc in environment_docs(tree, env):
        if doc["kind"] not in ("ServiceMonitor", "PodMonitor"):
            continue
        name, spec = doc["metadata"]["name"], doc["spec"]
        if name in (not_here or {}):
            skipped.add(name)
            continue
        assert namespace, name
        (endpoint,) = spec["endpoints" if doc["kind"] == "ServiceMonitor" else "podMetricsEndpoints"]
        if "jobLabel" in spec:  # the operator's `job`: that label's value on the selected Service or pod
            job = spec["selector"]["matchLabels"][spec["jobLabel"]]
        else:  # the operator's defaults: the Service's name (the chart's, named like the monitor), `<ns>/<name>`
            job = name if doc["kind"] == "ServiceMonitor" else f"{namespace}/{name}"
        if "portNumber" in endpoint:
            assert endpoint["portNumber"] == names.BROKER_METRICS_PORT, endpoint
        else:
            assert endpoint["port"] == "http", endpoint  # the Services' (and the Pushgateway chart's) port name
        assert endpoint["interval"] == MONITOR_INTERVAL, endpoint
        assert name in local, f"the {doc['kind']} {name} selects pods that do not run here"
        jobs.append({"job_name": f"{namespace}/{name}", "metrics_path": endpoint.get("path", "/metrics"),
                     "honor_labels": bool(endpoint.get("honorLabels", False)),
                     "static_configs": [{"targets": [local[name]], "labels": {"job": job, "namespace": namespace}}]})
        seen.add(name)
    assert seen == set(local), f"no monitor for {set(local) - seen}"
    assert skipped == set(not_here or {}), f"no monitor for {set(not_here or {}) - skipped}"
    return jobs


def rule_files(tree: dict[str, str], env: str) -> dict[str, dict[str, Any]]:
    """Rule-file name -> the groups of each PrometheusRule of the environment."""
    return {f"{ns}-{doc['metadata']['name']}.rules.yaml": doc["spec"]
            for ns, doc in environment_docs(tree, env) if doc["kind"] == "PrometheusRule"}


def dashboard_queries(tree: dict[str, str], env: str, board: str, title: str) -> list[str]:
    """The queries of the panels of dashboard ConfigMap `<board>-dashboard` whose title holds `title`."""
    out = []
    for _, doc in environment_docs(tree, env):
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == f"{board}-dashboard":
            for body in doc["data"].values():
                out += [t["expr"] for p in json.loads(body)["panels"] if title in p["title"] for t in p["targets"]]
    return out


def prometheus(workdir: Path, tree: dict[str, str], env: str, local: dict[str, str],
               interval: str = "1s", not_here: dict[str, str] | None = None) -> Prometheus:
    """A Prometheus (not started) scraping `local` as the environment's monitors say, with its rules."""
    config = {"global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
              "scrape_configs": scrape_configs(tree, env, local, not_here)}
    return Prometheus(workdir, config, rule_files(tree, env))
