"""`gpc explain SPEC WORKLOAD --env ENV`: every effective value, the layer that set it, and where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, all_spec_files, load_ir, spec_id

from compiler.cli import main
from compiler.explain import Explanation, Row, explain, to_text
from compiler.pipeline import check

FRAUD = ROOT / "specs" / "fraud.yaml"
GPU_CRON = ROOT / "tests" / "cases" / "valid" / "gpu-cron" / "platform.yaml"
LAYERS = {"gpc default", "guardrail default", "workload", "environment override", "environment",
          "wiring contract", "derived"}


def explained(spec: Path, workload: str, env: str) -> Explanation:
    result = check(spec)
    assert result.platform is not None and result.source is not None
    return explain(result.platform, result.source, workload, env)


def row(e: Explanation, field: str, section: str | None = None) -> Row:
    matches = [r for r in e.rows if r.field == field and (section is None or r.section == section)]
    assert len(matches) == 1, f"{field}: {matches}"
    return matches[0]


def line_of(spec: Path, needle: str, after: str | None = None) -> int:
    """1-based line of the first `needle` (after the first `after`)."""
    lines = spec.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def value_at(spec: Path, needle: str, value: str) -> str:
    """`file:line:col` of `value` on the first line containing `needle`, as gpc prints positions."""
    line = line_of(spec, needle)
    col = spec.read_text("utf-8").splitlines()[line - 1].index(value, len(needle) - len(value)) + 1
    return f"{spec.relative_to(ROOT)}:{line}:{col}"


def at(spec: Path, r: Row) -> str:
    """The spec's text where the row says the value was set (without an opening quote)."""
    assert r.where is not None
    file, line, col = r.where.rsplit(":", 2)
    where = (ROOT / file).resolve()
    # The spec itself, or a team file next to it or below it (a platform split across files).
    assert where == spec.resolve() or spec.resolve().parent in where.parents, (where, spec)
    return where.read_text("utf-8").splitlines()[int(line) - 1][int(col) - 1:].lstrip("'\"")


@pytest.fixture(autouse=True)
def _run_from_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # `where` is relative to the working directory, as in diagnostics


def test_prod_override_of_replicas() -> None:
    prod = explained(FRAUD, "checkout", "prod")
    assert row(prod, "replicas") == Row("workload", "replicas", "3", "environment override",
                                        value_at(FRAUD, "replicas: 3", "3"))
    dev = explained(FRAUD, "checkout", "dev")
    replicas = row(dev, "replicas")
    assert (replicas.value, replicas.layer) == ("2", "workload")
    assert at(FRAUD, replicas) == "2"


def test_guardrail_default_resources() -> None:
    dev = explained(FRAUD, "checkout", "dev")
    cpu, memory, gpu = (row(dev, key, "resources") for key in ("cpu", "memory", "gpu"))
    assert (cpu.value, cpu.layer) == ("250m", "guardrail default")
    assert (memory.value, memory.layer) == ("256Mi", "guardrail default")
    assert cpu.where is not None and cpu.where.startswith(f"specs/fraud.yaml:{line_of(FRAUD, 'service: {cpu: 250m')}:")
    assert at(FRAUD, cpu).startswith("250m") and at(FRAUD, memory).startswith("256Mi")
    assert (gpu.value, gpu.layer, gpu.where) == ("0", "gpc default", None)
    assert cpu.note == "guardrail max for a service: 1"


def test_prod_override_of_resources_and_schedule() -> None:
    prod = explained(FRAUD, "fraud-inference", "prod")
    assert [(row(prod, k, "resources").value, row(prod, k, "resources").layer) for k in ("cpu", "memory")] == [
        ("500m", "environment override"), ("512Mi", "environment override")]
    assert row(explained(FRAUD, "fraud-inference", "dev"), "cpu", "resources").layer == "guardrail default"
    trainer = explained(FRAUD, "fraud-trainer", "prod")
    schedule = row(trainer, "schedule")
    assert (schedule.value, schedule.layer) == ("0 */3 * * *", "environment override")
    assert at(FRAUD, schedule) == '0 */3 * * *"'
    assert row(trainer, "cpu", "resources").layer == "environment override"
    gpu = row(trainer, "gpu", "resources")
    assert (gpu.value, gpu.layer) == ("0", "workload"), "an override of cpu and memory leaves gpu to the workload"
    dev = explained(FRAUD, "fraud-trainer", "dev")
    assert (row(dev, "schedule").value, row(dev, "schedule").layer) == ("0 */6 * * *", "workload")
    assert row(dev, "kind").value == "CronJob"
    assert row(dev, "timeout").value == "1h" and row(dev, "ttl_after_finished").layer == "gpc default"


def test_environment_variables_and_the_wiring_contract() -> None:
    e = explained(FRAUD, "fraud-trainer", "prod")
    env = {r.field: r for r in e.rows if r.section == "env"}
    platform = load_ir(FRAUD)
    assert set(env) == {v.name for v in platform.workload("fraud-trainer").placement("prod").env_vars}
    assert (env["LOG_LEVEL"].value, env["LOG_LEVEL"].layer) == ("info", "workload")
    assert env["AMQP_URL"].value == "secret fraud-trainer-credentials/AMQP_URL"
    assert env["EVENTS_MESSAGE_SCHEMA"].value == "configmap fraud-trainer-contract/checkout-events.schema.json"
    assert env["S3_ENDPOINT"].value == "http://minio.fraud-detection-prod-infra.svc.cluster.local:9000"
    for name, alias in (("EVENTS_QUEUE", "events"), ("MODELS_BUCKET", "models"), ("SCRATCH_PATH", "scratch"),
                        ("AMQP_URL", "events"), ("S3_ACCESS_KEY", "models")):
        assert env[name].layer == "wiring contract"
        where = env[name].where
        assert where is not None and int(where.split(":")[1]) == line_of(FRAUD, f"{alias}: {{", "repo: acme/fraud-trainer")
        assert at(FRAUD, env[name]).startswith("{"), "it points at the `uses` entry that gives it"
    assert row(e, "fraud-trainer-credentials").value == "AMQP_URL, S3_ACCESS_KEY, S3_SECRET_KEY, DATABASE_URL, PGPASSWORD"
    assert row(e, "volume scratch").value == "model-artifacts at /artifacts (read-write, 1Gi ReadWriteOnce)"


def test_overrides_namespaces_secrets_and_defaults_of_the_wide_spec() -> None:
    api = explained(GPU_CRON, "api", "prod")
    assert (row(api, "LOG_LEVEL").value, row(api, "LOG_LEVEL").layer) == ("warning", "environment override")
    assert at(GPU_CRON, row(api, "LOG_LEVEL")).startswith("warning")
    assert row(api, "LICENSE_KEY").value == "secret api-app-secrets/LICENSE_KEY"
    assert at(GPU_CRON, row(api, "LICENSE_KEY")) == "LICENSE_KEY]"
    assert row(api, "api-app-secrets").value == "LICENSE_KEY"
    assert (row(api, "image").value, row(api, "image").layer) == ("registry.acme.example:5000/ml/api", "gpc default")
    assert (row(api, "image_tag").value, row(api, "image_tag").layer) == ("-", "gpc default")  # none: awaits CI
    assert row(api, "health.readiness_path").value == "/healthz"
    staging = explained(GPU_CRON, "trainer", "staging")
    assert (row(staging, "namespace").value, row(staging, "namespace").layer) == ("vision-stg-jobs", "environment")
    assert row(staging, "schedule").layer == "environment override"
    assert row(explained(GPU_CRON, "trainer", "dev"), "namespace").layer == "gpc default"
    gpu = row(explained(GPU_CRON, "trainer", "prod"), "gpu", "resources")
    assert (gpu.value, gpu.layer) == ("2", "environment override")
    backfill = explained(GPU_CRON, "backfill", "dev")
    assert row(backfill, "kind").value == "Job"
    assert row(backfill, "command").value == '["python", "-m", "backfill"]'
    assert "concurrency" not in {r.field for r in backfill.rows}, "a one-off Job has no concurrency policy"
    assert row(backfill, "volume datasets").value.endswith("(read-write, 50Gi ReadWriteMany)")
    assert row(explained(GPU_CRON, "trainer", "dev"), "volume datasets").value.startswith("datasets at /data (read-only")


def test_an_image_set_in_the_spec(tmp_path: Path) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text((ROOT / "specs" / "minimal.yaml").read_text("utf-8")
                    + "    image: ghcr.io/acme/hello-world\n    image_tag: '2.1.0'\n    replicas: 0\n", "utf-8")
    e = explained(spec, "hello", "dev")
    assert (row(e, "image").value, row(e, "image").layer) == ("ghcr.io/acme/hello-world", "workload")
    assert row(e, "image").where is not None
    assert (row(e, "image_tag").value, row(e, "image_tag").layer) == ("2.1.0", "workload")
    assert (row(e, "replicas").value, row(e, "replicas").layer) == ("0", "workload")
    assert (row(e, "cpu").value, row(e, "cpu").layer) == ("100m", "gpc default")


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_every_value_has_a_known_layer_and_a_true_position(spec: Path) -> None:
    platform = load_ir(spec)
    data = yaml.safe_load(spec.read_text("utf-8"))
    for w in platform.workloads:
        for env in platform.environments_of(w):
            e = explained(spec, w.name, env.name)
            assert {r.layer for r in e.rows} <= LAYERS
            for r in e.rows:
                if r.where is not None:
                    assert at(spec, r), r
            for key in ("cpu", "memory", "gpu"):
                r = row(e, key, "resources")
                assert r.value == str(w.placement(env.name).resources[key].value)
                if r.layer == "environment override":
                    override = data["environments"][env.name]["overrides"]["workloads"][w.name]["resources"][key]
                    assert at(spec, r).startswith(str(override))
            assert "Resources" in to_text(e)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["explain", "specs/fraud.yaml", "checkout", "--env", "prod"], capsys)
    assert code == 0
    assert out.splitlines()[0] == "checkout in environment prod (specs/fraud.yaml); other environments: dev (--env)"
    replicas = next(line for line in out.splitlines() if line.strip().startswith("replicas"))
    assert replicas.split()[1:4] == ["3", "environment", "override"]
    code, out, _ = run(["explain", "specs/fraud.yaml", "checkout", "--env", "prod", "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert (data["workload"], data["environment"], data["environments"]) == ("checkout", "prod", ["dev", "prod"])
    assert {"section": "workload", "field": "replicas", "value": "3", "layer": "environment override",
            "where": value_at(FRAUD, "replicas: 3", "3"), "note": None} in data["rows"]


def test_default_environment_is_the_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["explain", "specs/fraud.yaml", "checkout", "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["environment"] == "dev"


@pytest.mark.parametrize(("args", "message"), [
    (["checkuot"], "no workload 'checkuot' in specs/fraud.yaml (known: checkout, fraud-inference, fraud-trainer)"),
    (["checkout", "--env", "staging"], "no environment 'staging' in specs/fraud.yaml (known: dev, prod)"),
], ids=["workload", "env"])
def test_unknown_names_are_usage_errors(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run(["explain", "specs/fraud.yaml", *args], capsys)
    assert code == 2 and out == ""
    assert message in err


def test_a_broken_spec_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text(FRAUD.read_text("utf-8").replace("replicas: 3", "replicas: -3"), "utf-8")
    code, out, err = run(["explain", str(spec), "checkout"], capsys)
    assert code == 1 and out == "" and "GPC1" in err
