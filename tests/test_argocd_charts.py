"""gpc's values for the pinned infrastructure charts are values those charts have.

Helm applies a chart's `values.schema.json`, but neither it nor the schema rejects a key the chart
does not know: a misspelled `existingClaim` would be ignored, the chart would create its own
volume claim, and the data would belong to Argo CD again. So every key path gpc sets must also
exist in the chart's own `values.yaml` (tests/charts/README.md says where both files come from).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from compiler import names
from targets.argocd import charts, observability, operators

CHARTS = Path(__file__).parent / "charts"
FILES = {charts.OBJECT_STORE.role: "minio", charts.BROKER.role: "rabbitmq",
         charts.DATABASE_OPERATOR.role: "cloudnative-pg", charts.KEDA.role: "keda",
         operators.EXTERNAL_SECRETS.role: "external-secrets", operators.RELOADER.role: "reloader",
         observability.PUSHGATEWAY.role: "prometheus-pushgateway"}
# KEDA's and the Pushgateway's charts ship no values.schema.json: the key check is all there is.
SCHEMALESS = {charts.KEDA.role, observability.PUSHGATEWAY.role}
VALUES = {**charts.VALUES, **operators.VALUES}
# Kubernetes objects the charts render verbatim (`toYaml`): their keys are the API's, which
# kubernetes-validate checks elsewhere, not the chart's defaults.
VERBATIM = {("podSecurityContext",), ("containerSecurityContext",), ("securityContext",),
            *((key, c) for key in ("podSecurityContext", "securityContext", "resources")
              for c in ("operator", "metricServer", "webhooks"))}


def chart_files(chart: charts.Chart) -> tuple[dict[str, Any], dict[str, Any]]:
    stem = f"{FILES[chart.role]}-{chart.version}"
    values, schema = CHARTS / f"{stem}.values.yaml", CHARTS / f"{stem}.values.schema.json"
    assert values.is_file() and (schema.is_file() or chart.role in SCHEMALESS), (
        f"no copy of the {chart.role} chart {chart.version}'s values (see tests/charts/README.md)")
    return (yaml.safe_load(values.read_text(encoding="utf-8")),
            json.loads(schema.read_text(encoding="utf-8")) if schema.is_file() else {})


def unknown_keys(ours: dict[str, Any], theirs: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Key paths of `ours` that the chart's values do not have (below a free-form map: none)."""
    if path in VERBATIM or (isinstance(theirs, dict) and not theirs and path):
        return []
    missing = []
    for key, value in ours.items():
        if not isinstance(theirs, dict) or key not in theirs:
            missing.append(".".join((*path, key)))
        elif isinstance(value, dict):
            missing += unknown_keys(value, theirs[key], (*path, key))
    return missing


@pytest.mark.parametrize("chart", [charts.OBJECT_STORE, charts.BROKER, charts.DATABASE_OPERATOR], ids=lambda c: c.role)
def test_values_are_the_charts_own(chart: charts.Chart) -> None:
    defaults, schema = chart_files(chart)
    values = charts.VALUES[chart.role]()
    validator = jsonschema.Draft7Validator(schema)
    assert [e.message for e in validator.iter_errors(values)] == []
    assert unknown_keys(values, defaults) == []
    # The checks bite: a wrong type and a misspelled key are both caught.
    section, key = ("config", "clusterWide") if chart is charts.DATABASE_OPERATOR else ("persistence", "existingClaim")
    wrong = json.loads(json.dumps(values))
    wrong[section][key] = 5
    assert list(validator.iter_errors(wrong))
    misspelled = json.loads(json.dumps(values))
    misspelled[section][key + "x"] = misspelled[section].pop(key)
    assert unknown_keys(misspelled, defaults) == [f"{section}.{key}x"]


def test_the_object_store_metrics_switch_is_a_value_of_the_chart() -> None:
    """Where an environment has monitoring, MinIO serves its metrics without a token: the env var
    goes through the chart's own `config.extraEnvVars`, which its schema and defaults know."""
    defaults, schema = chart_files(charts.OBJECT_STORE)
    values = charts.object_store_values(public_metrics=True)
    assert [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(values)] == []
    assert unknown_keys(values, defaults) == []
    assert values["config"]["extraEnvVars"] == [{"name": "MINIO_PROMETHEUS_AUTH_TYPE", "value": "public"}]
    assert "extraEnvVars" not in charts.object_store_values()["config"]


@pytest.mark.parametrize(("chart", "claim"), [(charts.OBJECT_STORE, names.OBJECT_STORE_CLAIM),
                                              (charts.BROKER, names.BROKER_CLAIM)], ids=lambda c: getattr(c, "role", c))
def test_charts_mount_the_terraform_claim_and_create_none(chart: charts.Chart, claim: str) -> None:
    values = charts.VALUES[chart.role]()
    assert values["persistence"] == {"enabled": True, "existingClaim": claim}
    assert ("", "PersistentVolumeClaim") not in chart.kinds


def test_pushgateway_values_are_the_charts_own() -> None:
    chart = observability.PUSHGATEWAY
    defaults, _ = chart_files(chart)
    values = observability.pushgateway_values()
    assert unknown_keys(values, defaults) == []
    misspelled = json.loads(json.dumps(values))
    misspelled["serviceMonitor"]["enable"] = misspelled["serviceMonitor"].pop("enabled")
    assert unknown_keys(misspelled, defaults) == ["serviceMonitor.enable"]
    assert {f"{values['image']['repository']}:{values['image']['tag']}"} == set(chart.images)
    # The chart's selector labels are its name and the release (templates/_helpers.tpl at the pinned
    # version): the pods the NetworkPolicy and gpc's ServiceMonitor select.
    assert dict(names.PUSHGATEWAY_POD) == {"app.kubernetes.io/name": chart.chart,
                                           "app.kubernetes.io/instance": chart.release}
    assert values["fullnameOverride"] == names.PUSHGATEWAY_SERVICE and values["service"]["portName"] == "http"
    # gpc writes the monitor (with the Prometheus's selector labels) and the policy; no token.
    assert values["serviceMonitor"] == {"enabled": False} and "networkPolicy" not in values
    assert values["automountServiceAccountToken"] is False


def test_keda_values_are_the_charts_own() -> None:
    defaults, _ = chart_files(charts.KEDA)
    values = charts.keda_values()
    assert unknown_keys(values, defaults) == []
    misspelled = json.loads(json.dumps(values))
    misspelled["crds"]["instal"] = misspelled["crds"].pop("install")
    assert unknown_keys(misspelled, defaults) == ["crds.instal"]
    # Every image the chart runs is the one gpc names, at the pinned version.
    images = {f"{i['registry']}/{i['repository']}:{i['tag']}" for k, i in values["image"].items() if k != "pullPolicy"}
    assert images == set(charts.KEDA.images)


@pytest.mark.parametrize("chart", [operators.EXTERNAL_SECRETS, operators.RELOADER], ids=lambda c: c.role)
def test_operator_values_are_the_charts_own(chart: charts.Chart) -> None:
    defaults, schema = chart_files(chart)
    values = VALUES[chart.role]()
    # External Secrets' schema is draft 2020-12; Reloader's names no draft (draft 7, as Helm reads it).
    draft = jsonschema.Draft202012Validator if "2020-12" in schema.get("$schema", "") else jsonschema.Draft7Validator
    validator = draft(schema)
    assert [e.message for e in validator.iter_errors(values)] == []
    assert unknown_keys(values, defaults) == []
    misspelled = json.loads(json.dumps(values))
    if chart is operators.RELOADER:
        misspelled["reloader"]["reloadStrategi"] = misspelled["reloader"].pop("reloadStrategy")
        assert unknown_keys(misspelled, defaults) == ["reloader.reloadStrategi"]
        misspelled["reloader"]["reloadStrategy"] = "restart"
        assert list(validator.iter_errors(misspelled))  # not one of the chart's strategies
    else:
        misspelled["webhook"]["creat"] = misspelled["webhook"].pop("create")
        assert unknown_keys(misspelled, defaults) == ["webhook.creat"]


def test_the_operators_run_hardened_with_exactly_one_controller() -> None:
    eso, reloader = operators.external_secrets_values(), operators.reloader_values()
    # The restricted Pod Security level of the infra namespace: non-root, no escalation, no capabilities.
    for container in (eso["securityContext"], reloader["reloader"]["deployment"]["containerSecurityContext"]):
        assert container["allowPrivilegeEscalation"] is False and container["capabilities"] == {"drop": ["ALL"]}
        assert container["runAsNonRoot"] is True and container["readOnlyRootFilesystem"] is True
    assert eso["webhook"]["create"] is False and eso["certController"]["create"] is False
    assert eso["crds"]["conversion"] == {"enabled": False}  # no webhook to convert with
    assert all(eso[k] is False for k in ("processClusterExternalSecret", "processPushSecret",
                                         "processClusterPushSecret", "processClusterGenerator", "processSecretStore"))
    for chart in (operators.EXTERNAL_SECRETS, operators.RELOADER):
        assert chart.chart is not None and chart.source_repo.startswith("https://")
        assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", chart.version)
