"""Observability as emitted (issue 16), over every spec whose environments name a Prometheus.

- Every PrometheusRule passes `promtool check rules`, and EVERY alert gpc generates is run by
  `promtool test rules` against synthetic series generated here from what the exporters would
  report for the spec's objects (kube-state-metrics for Deployments, Jobs and CronJobs, RabbitMQ's
  per-object endpoint for queues, the services' own `http_requests_total`): each alert fires when
  it should and stays silent when it should not.
- Every metric a rule reads is one its exporter provides (EXPORTERS below, from their docs), so a
  typo in a metric name fails here instead of silently never alerting.
- Every monitor and rule, as `kubectl kustomize` builds it, carries the labels the environment's
  Prometheus selects by, and each monitor selects its workload's Service or pods and a port they
  declare: the pitfall of a monitor Prometheus silently ignores.
- The monitors and rules validate against the Prometheus Operator's CRDs (tests/crd_models.py).
- Removing a workload from the spec removes its monitor and rules.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import all_spec_files, compiled_tree, load_ir, require_tool, spec_id, whole_overlays
from crd_models import crd_tools, schema_errors, unknown_key_errors
from test_kustomize import Compiled, trees  # noqa: F401

from compiler import names
from compiler.ir import Environment, Platform, Workload

MONITORING_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule", "AlertmanagerConfig"}

# The metrics each exporter provides that gpc's rules may read (names from each exporter's docs:
# kube-state-metrics docs/metrics/workload/*.md, RabbitMQ's rabbitmq_prometheus metrics.md
# (per-object endpoint), and the HTTP metrics convention the example apps follow).
EXPORTERS = {
    "kube-state-metrics": {
        "kube_deployment_status_replicas_available", "kube_deployment_spec_replicas",
        "kube_pod_container_status_waiting_reason", "kube_job_failed", "kube_job_status_start_time",
        "kube_job_status_active", "kube_pod_status_unschedulable", "kube_cronjob_status_last_successful_time",
        "kube_cronjob_spec_suspend", "kube_job_status_succeeded", "kube_job_status_failed",
    },
    "rabbitmq_prometheus": {"rabbitmq_queue_messages_ready", "rabbitmq_queue_messages_unacked",
                            "rabbitmq_queue_messages", "rabbitmq_queue_head_message_timestamp",
                            "rabbitmq_queue_consumers"},
    # MinIO's metrics v2 at the pinned release (docs/metrics/prometheus/list.md and cmd/metrics-v2.go of
    # RELEASE.2025-10-15T17-29-55Z): the cluster endpoint and the per-bucket one. No MinIO runs here
    # (the tests' S3 server is SeaweedFS, whose metrics differ), so this list is the only check.
    "minio": {"minio_cluster_health_status", "minio_cluster_nodes_offline_total", "minio_cluster_drive_offline_total",
              "minio_cluster_capacity_usable_free_bytes", "minio_cluster_capacity_usable_total_bytes",
              "minio_bucket_usage_total_bytes", "minio_bucket_usage_object_total", "minio_bucket_requests_total",
              "minio_bucket_requests_5xx_errors_total"},
    "workloads": {"http_requests_total", "http_request_duration_seconds_bucket"},
    # Prometheus's own per-target series (every scrape writes it).
    "prometheus": {"up"},
    # gpc's job-run convention, pushed by each run to the Pushgateway (docs/monitoring.md; the
    # example trainer's fraud_trainer/runmetrics.py, proven in examples/fraud/tests/test_fraud_monitoring.py).
    "pushgateway": {"job_run_success", "job_run_duration_seconds", "job_run_finished_timestamp_seconds"},
}
KNOWN_METRICS = set().union(*EXPORTERS.values())
# A metric name followed by its selector or a range (gpc always writes a selector).
METRIC = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{")

SPECS = [p for p in all_spec_files() if any(e.monitoring for e in load_ir(p).environments)]


def spec_ids() -> list[str]:
    return [spec_id(p) for p in SPECS]


def documents(platform: Platform) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, text in sorted(whole_overlays(compiled_tree(platform)).items()):  # each overlay's, wherever written
        if path.startswith("kustomize/") and path.endswith(".yaml"):
            for doc in yaml.safe_load_all(text):
                if isinstance(doc, dict) and doc.get("kind") in MONITORING_KINDS:
                    yield path, doc


def rules_of(platform: Platform) -> list[tuple[str, dict[str, Any]]]:
    return [(p, d) for p, d in documents(platform) if d["kind"] == "PrometheusRule"]


def environment_of(platform: Platform, path: str) -> Environment:
    env = path.split("/")[3]  # kustomize/<workload or _platform>/overlays/<env>/...
    return platform.environment(env)


def test_monitoring_specs_exist() -> None:
    assert {spec_id(p) for p in SPECS} >= {"fraud", "monitoring"}, SPECS


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_rule_file_passes_promtool_check(spec: Path, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    platform = load_ir(spec)
    files = []
    for i, (_, doc) in enumerate(rules_of(platform)):
        f = tmp_path / f"rules{i}.yaml"
        f.write_text(yaml.safe_dump(doc["spec"]), encoding="utf-8")
        files.append(str(f))
    assert files
    done = subprocess.run([promtool, "check", "rules", *files], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_rule_reads_only_metrics_its_exporters_provide(spec: Path) -> None:
    platform = load_ir(spec)
    for path, doc in rules_of(platform):
        for group in doc["spec"]["groups"]:
            for rule in group["rules"]:
                used = set(METRIC.findall(rule["expr"])) - {"on"}
                assert used and used <= KNOWN_METRICS, f"{path} {rule['alert']}: unknown {used - KNOWN_METRICS}"


def test_the_metric_name_check_bites() -> None:
    assert set(METRIC.findall('rate(http_request_total{job="x"}[5m])')) - KNOWN_METRICS == {"http_request_total"}


# -- promtool test rules: synthetic series per alert ---------------------------------------------


@dataclass(frozen=True)
class Case:
    """Series as the exporter would report them, and whether the alert fires at `at` minutes."""

    series: dict[str, str]  # series selector -> promtool values notation
    at: int  # minutes
    fires: bool
    result: dict[str, str]  # the labels of the expression's result (before the rule's own labels)
    interval: int = 1  # minutes between samples and evaluations


def _series(metric: str, labels: dict[str, str]) -> str:
    return metric + "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _threshold(expr: str) -> int:
    found = re.search(r"\) > ([0-9]+)\n", expr)
    assert found, expr
    return int(found.group(1))


def _minutes(duration: str | None) -> int:
    if not duration:
        return 0
    n, unit = int(duration[:-1]), duration[-1]
    return n * {"m": 1, "h": 60, "d": 1440}[unit]


def _run_name(w: Workload) -> str:
    return f"{w.name}-29000000" if w.kind == "CronJob" else w.name


WINDOW_MINUTES = {"1h": 60, "6h": 360, "1d": 1440, "3d": 4320}
# Samples (and evaluations) of the long windows are coarser: a 3-day window at one sample a minute
# makes promtool evaluate rate() over 4320 samples 4500 times; the short windows still see 12+.
WINDOW_STEP = {"1h": 1, "6h": 1, "1d": 5, "3d": 10}


def burn_cases(platform: Platform, w: Workload, ns: str, rule: dict[str, Any]) -> list[Case]:
    assert w.objective is not None
    window = rule["labels"]["window"]
    rate = float(re.search(r"> \(([0-9.]+) \* ", rule["expr"]).group(1))  # type: ignore[union-attr]
    budget = w.objective.error_budget
    step = WINDOW_STEP[window]
    at = WINDOW_MINUTES[window] + _minutes(rule.get("for")) + 2 * step
    samples = at // step + 2

    def errors(ratio: float) -> dict[str, str]:
        per_step = 1000 * step
        bad = round(per_step * ratio, 3)
        ok = {"namespace": ns, "job": w.name, "code": "200"}
        err = {"namespace": ns, "job": w.name, "code": "503"}
        return {_series("http_requests_total", ok): f"0+{per_step - bad}x{samples}",
                _series("http_requests_total", err): f"0+{bad}x{samples}"}
    fast = min(1.0, rate * budget * 2)
    slow = rate * budget / 2
    # A different workload's errors in the same namespace must not count.
    other = {_series("http_requests_total", {"namespace": ns, "job": f"{w.name}-other", "code": "500"}):
             f"0+1000x{samples}", **errors(0.0)}
    return [Case(errors(fast), at, True, {}, step), Case(errors(slow), at, False, {}, step),
            Case(other, at, False, {}, step)]


def alert_cases(platform: Platform, env: Environment, rule: dict[str, Any]) -> list[Case]:
    """What each exporter would report when the alert's condition holds, and when it does not."""
    name, labels = rule["alert"], rule["labels"]
    hold = _minutes(rule.get("for")) + 5
    if name == "QueueBacklogGrowing" or name == "DeadLetterQueueNotEmpty":
        vhost = names.broker_vhost(platform.name)
        queue = platform.queue(labels["queue"])
        if name == "QueueBacklogGrowing":
            at = 30 + hold
            ready = {"vhost": vhost, "queue": queue.name}
            return [Case({_series("rabbitmq_queue_messages_ready", ready): f"0+10x{at + 5}"}, at, True, ready),
                    Case({_series("rabbitmq_queue_messages_ready", ready): f"500x{at + 5}"}, at, False, ready),
                    Case({_series("rabbitmq_queue_messages_ready", ready): f"500-5x{at + 5}"}, at, False, ready)]
        dlq = {"vhost": vhost, "queue": str(queue.dead_letter_queue)}
        return [Case({_series("rabbitmq_queue_messages", dlq): "0 0 3 3 3 3"}, 4, True, dlq),
                Case({_series("rabbitmq_queue_messages", dlq): "0 0 0 0 0 0"}, 4, False, dlq),
                Case({_series("rabbitmq_queue_messages", {**dlq, "queue": queue.name}): "3 3 3 3 3"}, 4, False, dlq)]
    if name == "QueueOldestMessageTooOld":
        queue = platform.queue(labels["queue"])
        assert queue.max_age_seconds is not None
        head = {"vhost": names.broker_vhost(platform.name), "queue": queue.name}
        other = {**head, "queue": f"{queue.name}-other"}
        at = queue.max_age_seconds // 60 + 3
        # The head message was published at minute 0 (its AMQP timestamp, in seconds), or it
        # carries no timestamp (NaN), or it is a younger one (published at minute 5).
        return [Case({_series("rabbitmq_queue_head_message_timestamp", head): f"0x{at + 2}"}, at, True, head),
                Case({_series("rabbitmq_queue_head_message_timestamp", head): " ".join(["NaN"] * (at + 3))}, at, False, head),
                Case({_series("rabbitmq_queue_head_message_timestamp", head): f"300x{at + 2}"}, at, False, head),
                Case({_series("rabbitmq_queue_head_message_timestamp", other): f"0x{at + 2}"}, at, False, head)]
    if name.startswith("ObjectStore") or name == "BucketServerErrors":
        return object_store_cases(name, labels, hold)
    w = platform.workload(labels["workload"])
    ns = labels["namespace"]
    if name.startswith("ErrorBudgetBurn"):
        return burn_cases(platform, w, ns, rule)
    if name == "NoReadyReplicas":
        key = {"namespace": ns, "deployment": w.name}
        def replicas(available: int, wanted: int) -> dict[str, str]:
            return {_series("kube_deployment_status_replicas_available", key): f"{available}x{hold + 5}",
                    _series("kube_deployment_spec_replicas", key): f"{wanted}x{hold + 5}"}
        return [Case(replicas(0, 2), hold, True, key), Case(replicas(2, 2), hold, False, key),
                Case(replicas(0, 0), hold, False, key)]  # scaled to zero on purpose (awaiting delivery)
    if name == "NotAnswering":
        key = {"namespace": ns, "job": w.name}
        target = {**key, "instance": "10.0.0.7:8080"}
        other = {**target, "job": f"{w.name}-other"}
        second = {**target, "instance": "10.0.0.8:8080"}
        return [Case({_series("up", target): f"0x{hold + 5}"}, hold, True, key),
                Case({_series("up", target): f"0x{hold + 5}", _series("up", second): f"1x{hold + 5}"}, hold, False, key),
                Case({_series("up", other): f"0x{hold + 5}"}, hold, False, key),
                Case({_series("up", target): f"1x{hold + 5}"}, hold, False, key)]
    if name == "CrashLooping":
        key = {"namespace": ns, "pod": f"{w.name}-7d4b9c-x2k4z", "container": w.name, "reason": "CrashLoopBackOff"}
        other = {**key, "container": f"{w.name}-other"}
        return [Case({_series("kube_pod_container_status_waiting_reason", key): f"1x{hold + 10}"}, hold + 5, True, key),
                Case({_series("kube_pod_container_status_waiting_reason", key): f"0x{hold + 10}"}, hold + 5, False, key),
                Case({_series("kube_pod_container_status_waiting_reason", other): f"1x{hold + 10}"}, hold + 5, False,
                     key)]
    if name == "JobFailed":
        key = {"namespace": ns, "job_name": _run_name(w), "condition": "true"}
        other = {**key, "job_name": f"{w.name}x-29000000" if w.kind == "CronJob" else f"{w.name}-other"}
        return [Case({_series("kube_job_failed", key): "0 1 1 1"}, 2, True, key),
                Case({_series("kube_job_failed", key): "0 0 0 0"}, 2, False, key),
                Case({_series("kube_job_failed", other): "1 1 1 1"}, 2, False, key)]
    if name == "JobOverTimeout":
        assert w.timeout_seconds is not None
        key = {"namespace": ns, "job_name": _run_name(w)}
        at = w.timeout_seconds // 60 + 10

        def run(active: int) -> dict[str, str]:
            return {_series("kube_job_status_start_time", key): f"0x{at + 5}",
                    _series("kube_job_status_active", key): f"{active}x{at + 5}"}
        return [Case(run(1), at, True, key), Case(run(0), at, False, key),
                Case(run(1), max(1, w.timeout_seconds // 60 - 5), False, key)]
    if name == "GpuJobUnscheduled":
        pod = f"{_run_name(w)}-q8x2v"
        key = {"namespace": ns, "pod": pod}
        other = {"namespace": ns, "pod": f"{w.name}x-29000000-q8x2v"}
        return [Case({_series("kube_pod_status_unschedulable", key): f"1x{hold + 10}"}, hold + 5, True, key),
                Case({_series("kube_pod_status_unschedulable", other): f"1x{hold + 10}"}, hold + 5, False, key),
                Case({_series("kube_pod_status_unschedulable", key): f"1x{hold - 10} _x20"}, hold + 5, False, key)]
    if name == "CronJobMissedSchedule":
        threshold = _threshold(rule["expr"])
        step = max(1, threshold // 60 // 100)  # coarse samples: the alert has no `for`
        key = {"namespace": ns, "cronjob": w.name}
        at = threshold // 60 + 2 * step

        def cron(suspended: int, last_success_minute: int) -> dict[str, str]:
            samples = at // step + 5
            return {_series("kube_cronjob_status_last_successful_time", key): f"{last_success_minute * 60}x{samples}",
                    _series("kube_cronjob_spec_suspend", key): f"{suspended}x{samples}"}
        return [Case(cron(0, 0), at, True, key, step), Case(cron(1, 0), at, False, key, step),
                Case(cron(0, 4 * step), at, False, key, step)]  # succeeded since: not late yet
    raise AssertionError(f"no synthetic series for alert {name}: add a case here")


def object_store_cases(name: str, labels: dict[str, str], hold: int) -> list[Case]:
    """MinIO's series as the PodMonitor's scrape labels them (`job` = the pods' name label, plus the
    `server` label MinIO adds), and kube-state-metrics' for its Deployment."""
    ns = labels["namespace"]
    target = {"namespace": ns, "job": "minio", "instance": "10.0.0.9:9000", "server": "10.0.0.9:9000"}
    elsewhere = {**target, "namespace": f"{ns}-other"}
    key = {"namespace": ns}
    n = hold + 5

    def one(metric: str, bad: str, good: str) -> list[Case]:
        return [Case({_series(metric, target): f"{bad}x{n}"}, hold, True, key),
                Case({_series(metric, target): f"{good}x{n}"}, hold, False, key),
                Case({_series(metric, elsewhere): f"{bad}x{n}"}, hold, False, key)]
    if name == "ObjectStoreDown":
        deployment = {"namespace": ns, "deployment": "minio"}
        return [*one("up", "0", "1"),
                Case({_series("kube_deployment_status_replicas_available", deployment): f"0x{n}"}, hold, True, key),
                Case({_series("kube_deployment_status_replicas_available", deployment): f"1x{n}",
                      _series("up", target): f"1x{n}"}, hold, False, key)]
    if name == "ObjectStoreUnhealthy":
        return one("minio_cluster_health_status", "0", "1")
    if name == "ObjectStoreNodesOffline":
        return one("minio_cluster_nodes_offline_total", "1", "0")
    if name == "ObjectStoreDrivesOffline":
        return one("minio_cluster_drive_offline_total", "2", "0")
    if name == "ObjectStoreNearlyFull":
        def capacity(free: int, where: dict[str, str] = target) -> dict[str, str]:
            return {_series("minio_cluster_capacity_usable_free_bytes", where): f"{free}x{n}",
                    _series("minio_cluster_capacity_usable_total_bytes", where): f"1000x{n}"}
        return [Case(capacity(50), hold, True, key), Case(capacity(500), hold, False, key),
                Case(capacity(50, elsewhere), hold, False, key)]
    assert name == "BucketServerErrors", name
    bucket = {**target, "bucket": labels["bucket"], "api": "getobject"}
    other = {**bucket, "bucket": f"{labels['bucket']}-other"}
    at = hold + 15

    def requests(errors: int, where: dict[str, str] = bucket) -> dict[str, str]:
        return {_series("minio_bucket_requests_total", where): f"0+100x{at + 5}",
                _series("minio_bucket_requests_5xx_errors_total", where): f"0+{errors}x{at + 5}"}
    return [Case(requests(20), at, True, {}), Case(requests(1), at, False, {}),
            Case(requests(20, other), at, False, {})]


def promtool_tests(platform: Platform, path: str, doc: dict[str, Any], rule_file: str) -> list[dict[str, Any]]:
    env = environment_of(platform, path)
    out = []
    for group in doc["spec"]["groups"]:
        for rule in group["rules"]:
            cases = alert_cases(platform, env, rule)
            assert any(c.fires for c in cases) and any(not c.fires for c in cases), rule["alert"]
            for case in cases:
                expected = []
                if case.fires:
                    expected = [{"exp_labels": {**case.result, **rule["labels"]},
                                 "exp_annotations": rule["annotations"]}]
                out.append({
                    "rule_files": [rule_file], "evaluation_interval": f"{case.interval}m",
                    "tests": [{"interval": f"{case.interval}m",
                               "input_series": [{"series": s, "values": v} for s, v in case.series.items()],
                               "alert_rule_test": [{"eval_time": f"{case.at}m", "alertname": rule["alert"],
                                                    "exp_alerts": expected}]}],
                })
    return out


def run_promtool_tests(promtool: str, where: Path, files: list[str]) -> list[tuple[int, str]]:
    """promtool spends about a second of wall time (not CPU) per test: run a few at once."""
    from concurrent.futures import ThreadPoolExecutor

    chunks = [files[i::8] for i in range(min(8, len(files)))]

    def run(chunk: list[str]) -> tuple[int, str]:
        done = subprocess.run([promtool, "test", "rules", *chunk], cwd=where, capture_output=True, text=True,
                              timeout=600)
        return done.returncode, done.stdout + done.stderr
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return list(pool.map(run, chunks))


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_alert_fires_when_it_should_and_only_then(spec: Path, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    platform = load_ir(spec)
    test_files, alerts = [], set()
    for i, (path, doc) in enumerate(rules_of(platform)):
        rule_file = tmp_path / f"rules{i}.yaml"
        rule_file.write_text(yaml.safe_dump(doc["spec"]), encoding="utf-8")
        alerts |= {r["alert"] for g in doc["spec"]["groups"] for r in g["rules"]}
        for j, test in enumerate(promtool_tests(platform, path, doc, rule_file.name)):
            f = tmp_path / f"test{i}-{j}.yaml"
            f.write_text(yaml.safe_dump(test), encoding="utf-8")
            test_files.append(f.name)
    assert test_files
    failed = [out for code, out in run_promtool_tests(promtool, tmp_path, test_files) if code != 0]
    assert failed == [], "\n".join(failed)[-8000:]
    if spec_id(spec) == "monitoring":  # the case reaches every kind of alert gpc writes
        assert {a for a in alerts if not a.startswith("ErrorBudgetBurn")} == {
            "NoReadyReplicas", "CrashLooping", "NotAnswering", "JobFailed", "JobOverTimeout", "GpuJobUnscheduled",
            "CronJobMissedSchedule", "QueueBacklogGrowing", "DeadLetterQueueNotEmpty", "QueueOldestMessageTooOld",
            "ObjectStoreDown", "ObjectStoreUnhealthy", "ObjectStoreNodesOffline", "ObjectStoreDrivesOffline",
            "ObjectStoreNearlyFull", "BucketServerErrors"}


def test_promtool_tests_bite(tmp_path: Path) -> None:
    """A rule whose selector misses the series the exporter reports: the generated test fails."""
    promtool = require_tool("promtool")
    platform = load_ir(next(p for p in SPECS if spec_id(p) == "fraud"))
    path, doc = next((p, d) for p, d in rules_of(platform) if "checkout" in p)
    broken = yaml.safe_load(yaml.safe_dump(doc))
    for rule in broken["spec"]["groups"][0]["rules"]:
        rule["expr"] = rule["expr"].replace('job="checkout"', 'job="check-out"')
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(broken["spec"]), encoding="utf-8")
    files = []
    for i, test in enumerate(promtool_tests(platform, path, broken, "rules.yaml")):
        (tmp_path / f"t{i}.yaml").write_text(yaml.safe_dump(test), encoding="utf-8")
        files.append(f"t{i}.yaml")
    results = run_promtool_tests(promtool, tmp_path, files)
    assert any(code != 0 and "FAILED" in out for code, out in results)


# -- the monitors as built: selectors, ports, CRDs ------------------------------------------------


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("sid", [spec_id(p) for p in SPECS])
def test_prometheus_selects_every_monitor_and_each_monitor_finds_its_target(
        sid: str, trees: Callable[[str], Compiled]) -> None:  # noqa: F811
    c = trees(sid)
    for env in c.platform.environments:
        overlays = [names.overlay_dir(w.name, env.name) for w in c.platform.workloads_in(env.name)]
        built = [d for o in [*overlays, names.platform_overlay_dir(env.name)] for d in c.builds[o]]
        ours = [d for d in built if d["kind"] in MONITORING_KINDS]
        if env.monitoring is None:
            assert ours == [], f"{sid}/{env.name}: monitors without monitoring"
            continue
        selector = dict(env.monitoring.selector)
        for doc in ours:  # the pitfall: a monitor or rule Prometheus does not select is silently ignored
            assert _selects(selector, doc["metadata"]["labels"]), f"{sid}/{env.name} {doc['kind']} {doc['metadata']}"
        for w in c.platform.workloads_in(env.name):  # a workload switched off there has no overlay there
            docs = c.builds[names.overlay_dir(w.name, env.name)]
            monitors = [d for d in docs if d["kind"] in ("ServiceMonitor", "PodMonitor")]
            if w.metrics is None:
                assert monitors == []
                continue
            (mon,) = monitors
            deployment = next(d for d in docs if d["kind"] == "Deployment")
            pod = deployment["spec"]["template"]
            ports = {p.get("name"): p["containerPort"] for p in pod["spec"]["containers"][0].get("ports", [])}
            assert mon["metadata"]["namespace"] == deployment["metadata"]["namespace"]
            if mon["kind"] == "ServiceMonitor":
                service = next(d for d in docs if d["kind"] == "Service")
                assert _selects(mon["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
                assert mon["metadata"]["namespace"] == service["metadata"]["namespace"]
                (endpoint,) = mon["spec"]["endpoints"]
                service_port = next(p for p in service["spec"]["ports"] if p["name"] == endpoint["port"])
                assert ports[service_port["targetPort"]] == w.metrics.port
                assert service["metadata"]["labels"][mon["spec"]["jobLabel"]] == w.name  # job="<workload>"
            else:
                assert _selects(mon["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"])
                (endpoint,) = mon["spec"]["podMetricsEndpoints"]
                assert ports[endpoint["port"]] == w.metrics.port
                assert pod["metadata"]["labels"][mon["spec"]["jobLabel"]] == w.name
            assert endpoint["path"] == w.metrics.path


def test_every_monitor_and_rule_is_valid_against_its_crd(tmp_path: Path) -> None:
    node, tsc = crd_tools()
    objects = [d for spec in SPECS for _, d in documents(load_ir(spec))]
    assert {d["kind"] for d in objects} == MONITORING_KINDS
    assert schema_errors(node, objects) == []
    assert unknown_key_errors(tsc, objects, tmp_path) == []
    rule = next(d for d in objects if d["kind"] == "PrometheusRule")
    wrong = yaml.safe_load(yaml.safe_dump(rule))
    wrong["spec"]["groups"][0]["rules"][0]["for"] = "ten minutes"
    misspelled = yaml.safe_load(yaml.safe_dump(rule))
    misspelled["spec"]["groups"][0]["rules"][0]["labelz"] = {}
    assert len(schema_errors(node, [wrong])) == 1
    assert len(unknown_key_errors(tsc, [misspelled], tmp_path)) == 1


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_minio_serves_its_metrics_exactly_where_a_prometheus_scrapes_it(spec: Path) -> None:
    """MinIO's metrics need a token unless MINIO_PROMETHEUS_AUTH_TYPE is `public`: set exactly in the
    environments whose overlays hold the object store's PodMonitor, whose NetworkPolicy admits that
    Prometheus to the S3 port (MinIO's metrics port)."""
    from targets.kustomize.monitoring import OBJECT_STORE_BUCKET_PATH, OBJECT_STORE_CLUSTER_PATH

    platform = load_ir(spec)
    if not platform.buckets:
        return
    tree = compiled_tree(platform)
    for env in platform.environments:
        app = tree[f"argocd/{env.name}/object-store.yaml"]
        monitors = [d for p, d in documents(platform) if f"/overlays/{env.name}/" in p
                    and d["kind"] == "PodMonitor" and d["metadata"]["name"] == names.OBJECT_STORE_SERVICE]
        assert ("MINIO_PROMETHEUS_AUTH_TYPE" in app) == (env.monitoring is not None) == bool(monitors), env.name
        if env.monitoring is None:
            continue
        (monitor,) = monitors
        assert {e["path"] for e in monitor["spec"]["podMetricsEndpoints"]} == {OBJECT_STORE_CLUSTER_PATH,
                                                                             OBJECT_STORE_BUCKET_PATH}
        assert {e["portNumber"] for e in monitor["spec"]["podMetricsEndpoints"]} == {names.OBJECT_STORE_PORT}


def test_removing_a_workload_removes_its_monitor_rules_and_dashboard(tmp_path: Path) -> None:
    spec = next(p for p in SPECS if spec_id(p) == "fraud")
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    del data["workloads"]["fraud-inference"], data["workloads"]["checkout"]["uses"]["fraud"]
    for env in data["environments"].values():
        env.get("overrides", {}).get("workloads", {}).pop("fraud-inference", None)
    smaller = tmp_path / "fraud.yaml"
    smaller.write_text(yaml.safe_dump(data), encoding="utf-8")
    before = {p for p, _ in documents(load_ir(spec))} | {p for p, _ in dashboards_of(load_ir(spec))}
    after = {p for p, _ in documents(load_ir(smaller))} | {p for p, _ in dashboards_of(load_ir(smaller))}
    gone = before - after
    assert gone and all("/fraud-inference/" in p for p in gone), gone
    assert any(p.endswith("/dashboard.yaml") for p in gone)
    assert not any("/fraud-inference/" in p for p in after)


# -- the real broker: the metrics the queue rules read exist, per queue ---------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} (NaN|[+-]Inf|[0-9.eE+-]+)$', re.M)  # NaN: no head message timestamp


def scrape(url: str) -> list[tuple[str, dict[str, str], float]]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return [(m[1], dict(re.findall(r'(\w+)="([^"]*)"', m[2])), float(m[3])) for m in SAMPLE.finditer(text)]


@pytest.mark.slow
def test_a_real_rabbitmq_exports_the_queue_metrics_the_rules_read(tmp_path: Path) -> None:
    """RabbitMQ with rabbitmq_prometheus (as the broker image runs it), loaded with the fraud spec's
    queues: its per-object endpoint reports every metric the queue rules read, labelled with the vhost
    and queue names the rules select, and a rejected message shows up in the dead-letter queue."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "examples" / "fraud"))
    from conftest import unavailable
    from fraud_harness.plan import Plan, broker_setup
    from fraud_harness.rabbitmq import Broker, available
    from test_contract_broker import _broker_modules, _local

    from targets.kustomize.monitoring import BROKER_METRICS_PATH

    problem = available()
    if problem:
        unavailable(problem)
    platform = load_ir(next(p for p in SPECS if spec_id(p) == "fraud"))
    first = _local(_broker_modules(platform)[platform.environments[0].name])
    queues, exchanges, users = broker_setup(first)
    plan = Plan(spec=Path(platform.spec_file), vhost=first["broker_vhost"], queues=queues, exchanges=exchanges,
                buckets={}, store_users={}, uses={}, broker_users=users)
    node = Broker(tmp_path, plan, prometheus=True)
    try:
        node.start(timeout=90)
        queue = platform.queues[0]
        with node.admin_channel() as channel:
            channel.confirm_delivery()
            for _ in range(3):
                channel.basic_publish(queue.exchange, queue.name, b"{}")
            method, _, _ = channel.basic_get(queue.name)
            channel.basic_reject(method.delivery_tag, requeue=False)  # -> <queue>.dlq
        url = f"http://127.0.0.1:{node.metrics_port}{BROKER_METRICS_PATH}"
        import time

        deadline = time.monotonic() + 30
        while True:  # the plugin's metrics are refreshed every few seconds
            samples = scrape(url)
            values = {(n, labels.get("vhost"), labels.get("queue")): v for n, labels, v in samples}
            ready = values.get(("rabbitmq_queue_messages_ready", plan.vhost, queue.name))
            dead = values.get(("rabbitmq_queue_messages", plan.vhost, queue.dead_letter_queue))
            if (ready, dead) == (2, 1) or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert (ready, dead) == (2, 1), sorted(k for k in values if k[0].startswith("rabbitmq_queue_messages"))
        exported = {n for n, _, _ in samples}
        assert EXPORTERS["rabbitmq_prometheus"] <= exported, EXPORTERS["rabbitmq_prometheus"] - exported
    finally:
        node.close()


@pytest.mark.parametrize("app", ["checkout", "inference"])
def test_the_example_services_export_the_metrics_the_slo_rules_read(app: str) -> None:
    """Each example service's metrics, as it serves them on GET /metrics, hold every workload metric
    a rule reads, with the `job`-independent labels the rules select (`code`)."""
    import importlib
    import sys

    from prometheus_client import generate_latest

    sys.path.insert(0, str(Path(__file__).parent.parent / "examples" / "fraud" / app))
    metrics = importlib.import_module(f"fraud_{app}.metrics")
    http = metrics.HttpMetrics({"/x"})
    http.record("POST", "/x", 503, 0.01)
    samples = SAMPLE.findall(generate_latest(http.registry).decode())
    exported = {name for name, _, _ in samples}
    assert EXPORTERS["workloads"] <= exported, EXPORTERS["workloads"] - exported
    assert any(name == "http_requests_total" and 'code="503"' in labels for name, labels, _ in samples)


# -- dashboards -------------------------------------------------------------------------------------


def dashboards_of(platform: Platform) -> list[tuple[str, dict[str, Any]]]:
    """(path, dashboard) of every ConfigMap the Grafana sidecar loads."""
    import json

    out = []
    for path, text in sorted(whole_overlays(compiled_tree(platform)).items()):  # each overlay's, wherever written
        if path.startswith("kustomize/") and path.endswith(".yaml"):
            for doc in yaml.safe_load_all(text):
                if isinstance(doc, dict) and doc.get("kind") == "ConfigMap" and \
                        doc["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
                    out += [(path, json.loads(body)) for body in doc["data"].values()]
    return out


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_dashboard_query_parses_and_reads_only_exported_metrics(spec: Path, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    platform = load_ir(spec)
    queries = [(path, t["expr"]) for path, board in dashboards_of(platform) for panel in board["panels"]
               for t in panel.get("targets", [])]
    assert queries
    for path, expr in queries:
        used = set(METRIC.findall(expr))
        assert used and used <= KNOWN_METRICS, f"{path}: unknown {used - KNOWN_METRICS} in {expr}"
    # promtool parses PromQL only in rule files: each query becomes a recording rule.
    rules = {"groups": [{"name": "dashboards", "rules": [{"record": f"dashboard:query{i}", "expr": e}
                                                          for i, (_, e) in enumerate(queries)]}]}
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    done = subprocess.run([promtool, "check", "rules", str(tmp_path / "queries.yaml")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_each_workload_dashboard_has_a_panel_per_dependency_and_the_environment_one_every_workload(spec: Path) -> None:
    platform = load_ir(spec)
    boards = dashboards_of(platform)
    for env in platform.environments:
        here = [(p, b) for p, b in boards if f"/overlays/{env.name}/" in p]
        if env.monitoring is None:
            assert here == []
            continue
        for w in platform.workloads_in(env.name):
            (board,) = [b for p, b in here if p.startswith(f"kustomize/{w.name}/")]
            titles = [panel["title"] for panel in board["panels"]]
            assert sorted(t.split(":")[0] for t in titles if not t.startswith(f"{w.name}:")) == \
                sorted(u.alias for u in w.uses), titles
        (whole,) = [b for p, b in here if p.startswith("kustomize/_platform/")]
        titles = {panel["title"].split(":")[0] for panel in whole["panels"]}
        store = {"object store"} | {f"bucket {b.name}" for b in platform.buckets} if platform.buckets else set()
        assert titles == {w.name for w in platform.workloads_in(env.name)} | {f"queue {q.name}" for q in platform.queues} | store
        assert len({b["uid"] for _, b in here}) == len(here)  # Grafana keys dashboards by uid


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_alert_reaches_its_teams_receiver_or_the_null_one(spec: Path) -> None:
    """Each alert, by its labels, walks the AlertmanagerConfig of its namespace (the operator only
    matches alerts whose `namespace` is the config's) to its owning team's receiver, or in an
    environment with `alerts: none` to a receiver with no integration."""
    platform = load_ir(spec)
    docs = list(documents(platform))
    for env in platform.environments:
        if env.monitoring is None:
            continue
        configs = {d["metadata"]["namespace"]: d["spec"] for p, d in docs
                   if d["kind"] == "AlertmanagerConfig" and f"/overlays/{env.name}/" in p}
        for path, doc in docs:
            if doc["kind"] != "PrometheusRule" or f"/overlays/{env.name}/" not in path:
                continue
            for rule in doc["spec"]["groups"][0]["rules"]:
                labels = rule["labels"]
                spec_ = configs[labels["namespace"]]
                route = spec_["route"]
                matches = [r for r in route.get("routes", []) if all(labels.get(m["name"]) == m["value"]
                                                                     for m in r["matchers"])]
                receiver = matches[0]["receiver"] if matches else route["receiver"]
                if not env.monitoring.route_to_teams:
                    assert all(labels.get(m["name"]) == m["value"] for m in route["matchers"])
                    assert {"name": receiver} in spec_["receivers"]  # no integration: nobody is paged
                else:
                    assert receiver == labels["team"], (path, rule["alert"], labels)
                    (hook,) = next(r for r in spec_["receivers"] if r["name"] == receiver)["webhookConfigs"]
                    assert hook["urlSecret"]["name"] == f"alerts-{labels['team']}"


# -- monitoring installed by gpc (`install: true`): the stack selects what gpc writes ------------------


def test_an_installed_prometheus_selects_every_monitor_rule_and_route_gpc_writes() -> None:
    """Where gpc installs kube-prometheus-stack, the chart values' selectors match the labels on every
    ServiceMonitor, PodMonitor, PrometheusRule and AlertmanagerConfig of that environment (the pitfall
    of a monitor silently ignored), Grafana's sidecar loads every dashboard ConfigMap, the Prometheus
    runs where the NetworkPolicies admit it from, and the values are keys the pinned chart has."""
    from test_argocd_charts import CHARTS, unknown_keys

    from targets.argocd import observability

    defaults = yaml.safe_load((CHARTS / f"kube-prometheus-stack-{observability.KUBE_PROMETHEUS_STACK.version}"
                                         ".values.yaml").read_text(encoding="utf-8"))
    checked = 0
    for spec in SPECS:
        platform = load_ir(spec)
        tree = compiled_tree(platform)
        for env in platform.environments:
            chart = observability.stack(env)
            if chart is None:
                continue
            assert env.monitoring is not None
            values = observability.stack_values(env)
            assert unknown_keys(values, defaults) == []
            app = yaml.safe_load(tree[f"argocd/{env.name}/monitoring.yaml"].split("\n", 1)[1])
            assert app["spec"]["source"]["helm"]["valuesObject"] == values
            # kube-prometheus-stack's own monitors (kube-state-metrics) carry `release: <release>`.
            assert app["spec"]["source"]["helm"]["releaseName"] == dict(env.monitoring.selector)["release"]
            spec_ = values["prometheus"]["prometheusSpec"]
            selects = {"ServiceMonitor": spec_["serviceMonitorSelector"]["matchLabels"],
                       "PodMonitor": spec_["podMonitorSelector"]["matchLabels"],
                       "PrometheusRule": spec_["ruleSelector"]["matchLabels"],
                       "AlertmanagerConfig": values["alertmanager"]["alertmanagerSpec"]["alertmanagerConfigSelector"]
                       ["matchLabels"]}
            assert all(spec_[f"{k}NamespaceSelector"] == {} for k in ("serviceMonitor", "podMonitor", "rule"))
            seen = set()
            for path, doc in documents(platform):
                if f"/overlays/{env.name}/" in path:
                    labels = doc["metadata"]["labels"]
                    assert selects[doc["kind"]].items() <= labels.items(), (path, doc["kind"], labels)
                    seen.add(doc["kind"])
                    checked += 1
            assert seen == set(selects), seen
            sidecar = values["grafana"]["sidecar"]["dashboards"]
            boards = [p for p, _ in dashboards_of(platform) if f"/overlays/{env.name}/" in p]
            assert boards and sidecar["searchNamespace"] == "ALL"
            for path in boards:
                for doc in yaml.safe_load_all(tree[path]):
                    if doc and doc.get("kind") == "ConfigMap":
                        assert doc["metadata"]["labels"].get(sidecar["label"]) == sidecar["labelValue"], path
            # The Prometheus Operator labels the Prometheus pods `app.kubernetes.io/name: prometheus`,
            # in the chart's namespace: exactly the scraper the NetworkPolicies admit.
            assert chart.namespace == env.monitoring.scraper.namespace
            assert dict(env.monitoring.scraper.pods) == {"app.kubernetes.io/name": "prometheus"}
    assert checked, "no spec installs monitoring (tests/cases/valid/monitoring's dev should)"
    # The check bites: a selector label a monitor lacks.
    assert not {"release": "other"}.items() <= {"release": "monitoring"}.items()


def test_the_example_trainer_pushes_the_job_run_metrics_the_dashboards_read() -> None:
    """The run metrics the trainer pushes (examples/fraud/trainer/fraud_trainer/runmetrics.py) hold
    gpc's job-run convention, which the run-history panels read; its own metrics besides."""
    import sys

    from prometheus_client import generate_latest

    sys.path.insert(0, str(Path(__file__).parent.parent / "examples" / "fraud" / "trainer"))
    from fraud_trainer.runmetrics import Run, registry

    failed = generate_latest(registry(Run(), False, 1.5, 1.8e9)).decode()
    exported = {name for name, _, _ in SAMPLE.findall(failed)} | set(re.findall(r"^(\w+) ", failed, re.M))
    assert EXPORTERS["pushgateway"] <= exported, EXPORTERS["pushgateway"] - exported
    assert re.search(r"^job_run_success 0\.0$", failed, re.M)
    done = generate_latest(registry(Run(1, 240, "20261203T000000Z", 0.98), True, 4.2, 1.8e9)).decode()
    assert re.search(r'^fraud_trainer_model_info\{model_version="20261203T000000Z"\} 1\.0$', done, re.M)
    assert re.search(r"^fraud_trainer_dataset_size 240\.0$", done, re.M)
