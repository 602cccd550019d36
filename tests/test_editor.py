"""Editor completion, hover and diagnostics, proven with the real YAML language server.

VS Code's YAML extension and Neovim's yamlls both run `yaml-language-server`; this module drives
the same server (tests/lsp, pinned in package.json) over stdio against documents carrying the
modeline every spec starts with, `# yaml-language-server: $schema=../schema/platform.schema.json`.
Documents are opened at URIs under specs/ (never written to disk), so the modeline resolves to
the committed schema, exactly as in a user's checkout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, all_spec_files, require_tool, spec_id, unavailable

sys.path.insert(0, str(ROOT / "tests" / "lsp"))
from lsp_client import SERVER, LanguageServer

from compiler.model import BucketUse, Job, QueueUse, Service, Worker

MODELINE = "# yaml-language-server: $schema=../schema/platform.schema.json\n"
CURSOR = "‸"
HEAD = """version: 1
name: demo
registry: ghcr.io/acme
gitops: {repo: https://github.com/acme/gitops.git}
environments:
  dev: {}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LanguageServer]:
    require_tool("node")
    if not SERVER.exists():
        unavailable(f"{SERVER.relative_to(ROOT)} is missing: run `cd tests/lsp && npm install` (or `make setup-test`)")
    ls = LanguageServer([str(SERVER)], ROOT)
    try:
        ls.start()
        yield ls
    finally:
        ls.close()


class Doc:
    """A document opened in the server; `‸` in the text marks the cursor."""

    def __init__(self, server: LanguageServer, name: str, text: str) -> None:
        self.server = server
        self.path = ROOT / "specs" / f"_editor_{name}.yaml"
        before, cursor, after = text.partition(CURSOR)
        self.text = before + after
        self.cursor = (before.count("\n"), len(before) - before.rfind("\n") - 1) if cursor else None
        # Completion and hover do not wait for diagnostics (200 ms debounce); `messages()` does.
        server.open(self.path, self.text, wait=False)

    @property
    def diagnostics(self) -> list[dict[str, Any]]:
        return self.server.diagnostics(self.path)

    def completion(self) -> dict[str, dict[str, Any]]:
        assert self.cursor is not None, "no ‸ in the document"
        return {item["label"]: item for item in self.server.completion(self.path, *self.cursor)}

    def hover(self, needle: str, offset: int = 0) -> str:
        """Hover over the first occurrence of `needle` (plus `offset` characters)."""
        index = self.text.index(needle) + offset
        line = self.text.count("\n", 0, index)
        return self.server.hover(self.path, line, index - self.text.rfind("\n", 0, index) - 1)

    def messages(self) -> list[tuple[int, str]]:
        """(1-based line, message) of every diagnostic."""
        return sorted((d["range"]["start"]["line"] + 1, d["message"]) for d in self.diagnostics)


def open_doc(server: LanguageServer, name: str, body: str) -> Doc:
    return Doc(server, name, MODELINE + body)


def line_of(doc: Doc, needle: str) -> int:
    return doc.text[: doc.text.index(needle)].count("\n") + 1


# -- the schema the editor sees ---------------------------------------------------------------


def test_committed_schema_is_what_gpc_generates() -> None:
    from compiler.schema import schema_text

    committed = (ROOT / "schema" / "platform.schema.json").read_text("utf-8")
    assert committed == schema_text(), "schema/platform.schema.json is stale: run `gpc schema -o schema/platform.schema.json`"


@pytest.fixture(scope="module")
def committed_specs(server: LanguageServer) -> list[Path]:
    """Every committed spec, opened at its own path (so its own modeline is what resolves)."""
    for spec in all_spec_files():
        server.open(spec, spec.read_text("utf-8"), wait=False)
    return all_spec_files()


@pytest.mark.parametrize("spec", all_spec_files(), ids=spec_id)
def test_committed_specs_have_no_diagnostics(server: LanguageServer, committed_specs: list[Path], spec: Path) -> None:
    assert spec.read_text("utf-8").startswith("# yaml-language-server: $schema="), "every spec has the modeline"
    assert server.diagnostics(spec) == []


def test_a_good_document_loads_the_schema_and_has_no_diagnostics(server: LanguageServer) -> None:
    doc = open_doc(server, "good", HEAD + "workloads:\n  api: {type: service, port: 8080}\n")
    assert doc.messages() == []
    # The schema was loaded (a broken modeline also gives no "missing key" diagnostics): hover works.
    assert "Platform name" in doc.hover("name:")


def test_a_wrong_schema_path_is_visible(server: LanguageServer) -> None:
    # The negative control of the test above: what a broken modeline looks like.
    doc = Doc(server, "bad_modeline", "# yaml-language-server: $schema=../nope/platform.schema.json\n" + HEAD)
    assert any("Unable to load schema" in message for _, message in doc.messages())


# -- completion -------------------------------------------------------------------------------


def test_top_level_completion_offers_gpc_keys(server: LanguageServer) -> None:
    labels = open_doc(server, "top", "version: 1\n‸\n").completion()
    assert {"name", "registry", "gitops", "environments", "storage", "messaging", "guardrails", "workloads",
            "description", "kubernetes_version"} <= labels.keys()
    assert "version" not in labels, "keys already present are not offered again"
    assert labels["name"]["insertText"] == "name: ${1:fraud-detection}", "the example becomes the placeholder"


def test_an_empty_document_offers_a_whole_platform(server: LanguageServer) -> None:
    items = open_doc(server, "empty", "‸\n").completion()
    assert items["version"]["insertText"] == "version: 1"
    skeleton = items["gpc platform"]["insertText"]
    for key in ("version: 1", "name:", "registry:", "gitops:", "environments:", "workloads:", "type: service"):
        assert key in skeleton


SERVICE_KEYS = {"port", "replicas", "health", "uses", "image", "image_tag", "resources", "env", "secrets", "repo",
                "command", "args", "api_access", "description"}
JOB_KEYS = {"schedule", "retries", "timeout", "concurrency", "time_zone", "ttl_after_finished", "uses", "image",
            "resources", "env", "secrets", "repo", "command"}


def test_service_completion_offers_service_keys_only(server: LanguageServer) -> None:
    labels = open_doc(server, "service", HEAD + "workloads:\n  api:\n    type: service\n    ‸\n").completion()
    assert SERVICE_KEYS <= labels.keys()
    assert not {"schedule", "retries", "timeout", "concurrency"} & labels.keys()
    assert set(Service.model_fields) - {"type"} <= labels.keys(), "every field of the model is offered"


def test_job_completion_offers_job_keys_only(server: LanguageServer) -> None:
    labels = open_doc(server, "job", HEAD + "workloads:\n  nightly:\n    type: job\n    ‸\n").completion()
    assert JOB_KEYS <= labels.keys()
    assert not {"port", "replicas", "health"} & labels.keys()
    assert set(Job.model_fields) - {"type"} <= labels.keys()


def test_worker_completion_offers_worker_keys_only(server: LanguageServer) -> None:
    labels = open_doc(server, "worker", HEAD + "workloads:\n  orders:\n    type: worker\n    ‸\n").completion()
    assert {"replicas", "probe", "uses", "resources"} <= labels.keys()
    assert not {"port", "health", "schedule", "retries", "timeout"} & labels.keys(), "no HTTP, no schedule"
    assert set(Worker.model_fields) - {"type"} <= labels.keys()
    probe = open_doc(server, "worker_probe", HEAD + "workloads:\n  orders:\n    type: worker\n    probe:\n"
                     "      ‸\n").completion()
    assert {"exec", "tcp_port", "initial_delay"} <= probe.keys()


def test_autoscale_completion_and_hover(server: LanguageServer) -> None:
    doc = open_doc(server, "autoscale", HEAD + "workloads:\n  api:\n    type: service\n    autoscale:\n"
                   "      ‸\n")
    assert {"min_replicas", "max_replicas", "cpu", "memory", "queue", "messages_per_replica"} <= doc.completion().keys()
    hovered = open_doc(server, "autoscale_hover", HEAD + "workloads:\n  api:\n    type: worker\n"
                       "    autoscale: {max_replicas: 4, queue: jobs}\n‸")
    assert "own broker credentials" in hovered.hover("queue")
    override = open_doc(server, "autoscale_override", "version: 1\nenvironments:\n  prod:\n    overrides:\n"
                        "      workloads:\n        api:\n          autoscale:\n            ‸\n")
    labels = override.completion()
    assert {"min_replicas", "max_replicas", "cpu", "memory", "messages_per_replica"} <= labels.keys()
    assert "queue" not in labels  # an environment adjusts the bounds, never what the workload scales on


def test_resources_completion_offers_requests_and_cpu_limit(server: LanguageServer) -> None:
    labels = open_doc(server, "requests", HEAD + "workloads:\n  api:\n    type: service\n    resources:\n"
                      "      ‸\n").completion()
    assert {"cpu", "memory", "gpu", "requests", "cpu_limit"} <= labels.keys()


def test_a_workload_without_type_offers_the_type_and_whole_workloads(server: LanguageServer) -> None:
    items = open_doc(server, "untyped", HEAD + "workloads:\n  api:\n    ‸\n").completion()
    assert items["type"]["insertText"] == "type: ${1|service,worker,job|}"
    assert {"service", "worker", "scheduled job", "one-off job"} <= items.keys()
    assert "type: worker" in items["worker"]["insertText"]
    assert "type: job" in items["scheduled job"]["insertText"]
    assert "schedule:" in items["scheduled job"]["insertText"]


def test_a_new_workload_can_be_inserted_whole(server: LanguageServer) -> None:
    items = open_doc(server, "new_workload", HEAD + "workloads:\n  api: {type: service}\n  ‸\n").completion()
    snippet = items["new service"]["insertText"]
    assert snippet.startswith("${1:name}:\n  type: service\n")


def test_completion_of_the_workload_type_value(server: LanguageServer) -> None:
    labels = open_doc(server, "type_value", HEAD + "workloads:\n  api:\n    type: ‸\n").completion()
    assert {"service", "worker", "job"} <= labels.keys()


def test_uses_entry_completion_offers_the_four_kinds(server: LanguageServer) -> None:
    items = open_doc(server, "use_empty", HEAD + "workloads:\n  api:\n    type: service\n    uses:\n"
                     "      events:\n        ‸\n").completion()
    assert {"queue", "bucket", "volume", "service"} <= items.keys()
    assert {"publish to a queue", "consume a queue", "read a bucket", "write a bucket", "read and write a bucket",
            "mount a volume", "call a service"} <= items.keys()
    assert items["publish to a queue"]["insertText"] == "queue: ${1:checkout-events}\naccess: publish"


def test_uses_alias_completion_explains_the_alias(server: LanguageServer) -> None:
    items = open_doc(server, "use_alias", HEAD + "workloads:\n  api:\n    type: service\n    uses:\n"
                     "      ‸\n").completion()
    documentation = items["alias"]["documentation"]["value"]
    assert "EVENTS_QUEUE" in documentation


@pytest.mark.parametrize(("use", "values"), [
    ("{queue: orders, access: ‸}", {"publish", "consume"}),
    ("{bucket: models, access: ‸}", {"read", "write", "readwrite"}),
], ids=["queue", "bucket"])
def test_access_values_fit_the_kind(server: LanguageServer, use: str, values: set[str]) -> None:
    name = "access_" + ("queue" if "queue" in use else "bucket")
    items = open_doc(server, name, HEAD + f"workloads:\n  api:\n    type: service\n    uses:\n      x: {use}\n").completion()
    assert set(items) == values
    assert all(item["documentation"] for item in items.values()), "each access value is explained"


def test_a_volume_use_offers_mount_not_access(server: LanguageServer) -> None:
    labels = open_doc(server, "use_volume", HEAD + "workloads:\n  api:\n    type: service\n    uses:\n"
                      "      scratch:\n        volume: scratch\n        ‸\n").completion()
    assert {"mount", "read_only"} <= labels.keys()
    assert "access" not in labels
    assert "queue" not in labels, "once the kind is chosen, only that kind's keys are offered"


def test_environment_completion(server: LanguageServer) -> None:
    labels = open_doc(server, "env", HEAD.replace("  dev: {}\n", "  dev:\n    ‸\n") + "workloads: {}\n").completion()
    assert {"cluster", "namespace_prefix", "auto_sync", "overrides"} <= labels.keys()


def test_environment_override_completion(server: LanguageServer) -> None:
    body = HEAD + ("  prod:\n    overrides:\n      workloads:\n        api:\n          ‸\n"
                   "workloads:\n  api: {type: service}\n")
    items = open_doc(server, "override", body).completion()
    assert {"replicas", "resources", "env", "schedule"} <= items.keys()
    assert items["resources"]["insertText"] == "resources:\n  cpu: ${1:500m}\n  memory: ${2:512Mi}"


def test_an_environment_can_be_inserted_whole(server: LanguageServer) -> None:
    items = open_doc(server, "new_env", HEAD + "  ‸\nworkloads: {}\n").completion()
    assert items["environment"]["insertText"] == "${1:dev}:\n  cluster: ${2:https://kubernetes.default.svc}"


def test_guardrails_storage_and_messaging_completion(server: LanguageServer) -> None:
    guardrails = open_doc(server, "guardrails", HEAD + "guardrails:\n  ‸\n").completion()
    assert {"max", "defaults", "quotas", "allowed_registries", "excluded_namespaces"} <= guardrails.keys()
    volume = open_doc(server, "volume", HEAD + "storage:\n  volumes:\n    scratch:\n      ‸\n").completion()
    assert {"size", "access_mode", "storage_class"} <= volume.keys()
    queue = open_doc(server, "queue", HEAD + "messaging:\n  queues:\n    orders:\n      ‸\n").completion()
    assert {"dead_letter", "message_schema", "description"} <= queue.keys()


# -- hover ------------------------------------------------------------------------------------

HOVER_DOC = HEAD + """workloads:
  api:
    type: service
    replicas: 2
    uses:
      models: {bucket: models, access: read}
      events: {queue: orders, access: publish}
  nightly:
    type: job
    schedule: "0 3 * * *"
"""


@pytest.fixture(scope="module")
def hover_doc(server: LanguageServer) -> Doc:
    return open_doc(server, "hover", HOVER_DOC)


def test_hover_shows_gpc_field_descriptions(hover_doc: Doc) -> None:
    replicas = hover_doc.hover("replicas:")
    assert replicas.startswith("#### Replicas")
    assert Service.model_fields["replicas"].description in replicas
    assert "Default: `1`" in replicas
    schedule = hover_doc.hover("schedule:")
    assert Job.model_fields["schedule"].description in schedule
    assert "0 */6 * * *" in schedule, "the example is shown"


def test_hover_on_the_type_value(hover_doc: Doc) -> None:
    text = hover_doc.hover("type: service", len("type: "))
    assert Service.model_fields["type"].description in text


def test_hover_on_a_workload_names_its_kind(hover_doc: Doc) -> None:
    text = hover_doc.hover("api:")
    assert text.startswith("#### Workload")
    assert Service.__doc__ is not None and Service.__doc__ in text
    assert Job.__doc__ is not None and Job.__doc__ in hover_doc.hover("nightly:")


def test_hover_explains_access_values(hover_doc: Doc) -> None:
    bucket = hover_doc.hover("access: read", len("access: "))
    assert BucketUse.model_fields["access"].description in bucket
    assert "Get and list objects (and their older versions on a versioned bucket)." in bucket
    queue = hover_doc.hover("access: publish", len("access: "))
    assert QueueUse.model_fields["access"].description in queue
    assert "Send messages to the queue" in queue


# -- diagnostics ------------------------------------------------------------------------------


def test_a_wrong_type_is_flagged_on_its_line(server: LanguageServer) -> None:
    doc = open_doc(server, "wrong_type", HEAD + "workloads:\n  api:\n    type: service\n    port: eighty\n"
                   "    replicas: many\n")
    assert (line_of(doc, "port: eighty"), 'Incorrect type. Expected "integer".') in doc.messages()
    assert (line_of(doc, "replicas: many"), 'Incorrect type. Expected "integer".') in doc.messages()


def test_an_unknown_key_is_flagged_on_its_line(server: LanguageServer) -> None:
    doc = open_doc(server, "unknown_key", HEAD + "colour: red\nworkloads:\n  api:\n    type: service\n"
                   "    replica: 2\n    uses:\n      events: {queue: orders, acess: publish}\n")
    messages = doc.messages()
    assert (line_of(doc, "colour"), "Property colour is not allowed.") in messages
    assert (line_of(doc, "replica:"), "Property replica is not allowed.") in messages
    assert (line_of(doc, "acess"), "Property acess is not allowed.") in messages


def test_keys_of_the_other_workload_type_are_flagged(server: LanguageServer) -> None:
    doc = open_doc(server, "other_kind", HEAD + "workloads:\n  nightly:\n    type: job\n    port: 80\n"
                   "  api:\n    type: service\n    schedule: '@daily'\n")
    assert (line_of(doc, "port: 80"), "Property port is not allowed.") in doc.messages()
    assert (line_of(doc, "schedule:"), "Property schedule is not allowed.") in doc.messages()


def test_an_unknown_workload_type_lists_the_valid_types(server: LanguageServer) -> None:
    doc = open_doc(server, "bad_type", HEAD + "workloads:\n  api:\n    type: cron\n")
    assert doc.messages() == [(line_of(doc, "type: cron"), 'Value is not accepted. Valid values: "service", "worker", "job".')]


def test_an_access_that_does_not_fit_the_kind_is_flagged(server: LanguageServer) -> None:
    doc = open_doc(server, "bad_access", HEAD + "workloads:\n  api:\n    type: service\n    uses:\n"
                   "      models: {bucket: models, access: publish}\n")
    assert doc.messages() == [(line_of(doc, "models: {"),
                               'Value is not accepted. Valid values: "read", "write", "readwrite".')]


def test_names_and_env_vars_are_checked_as_you_type(server: LanguageServer) -> None:
    doc = open_doc(server, "names", HEAD + "workloads:\n  API_Server:\n    type: service\n"
                   "    env: {1BAD: x}\n")
    messages = doc.messages()
    assert any(line == line_of(doc, "API_Server") and "does not match the pattern" in m for line, m in messages)
    assert any(line == line_of(doc, "1BAD") and "does not match the pattern" in m for line, m in messages)


def test_what_gpc_accepts_is_not_flagged(server: LanguageServer, tmp_path: Path) -> None:
    # gpc reads whole numbers as env values and whole seconds as durations; the editor must
    # agree. (An unquoted 0.5 is refused by both: see test_floats_must_be_quoted.)
    doc = open_doc(server, "lenient", HEAD + "workloads:\n  worker:\n    type: job\n    timeout: 3600\n"
                   "    env: {WORKERS: 4, RATIO: \"0.5\"}\n    args: [--fast]\n")
    assert doc.messages() == []
    from compiler.pipeline import check

    spec = tmp_path / "platform.yaml"
    spec.write_text(doc.text, "utf-8")
    assert check(spec).diagnostics == [], "and gpc accepts it too"


def test_floats_must_be_quoted(server: LanguageServer, tmp_path: Path) -> None:
    # YAML reads 1.10 as 1.1: gpc refuses an unquoted float where it wants text, and so does the editor.
    doc = open_doc(server, "float", HEAD + "workloads:\n  worker:\n    type: job\n    env: {RATIO: 1.10}\n")
    assert [message for _, message in doc.messages()] == ["Incorrect type. Expected one of string, integer."]
    from compiler.pipeline import check

    spec = tmp_path / "platform.yaml"
    spec.write_text(doc.text, "utf-8")
    assert [d.code for d in check(spec).diagnostics] == ["GPC111"]


def test_diagnostics_follow_edits(server: LanguageServer) -> None:
    doc = open_doc(server, "edits", HEAD + "workloads:\n  api: {type: service, port: 8080}\n")
    assert doc.messages() == []
    broken = server.change(doc.path, doc.text.replace("port: 8080", "port: 99999"))
    assert [d["message"] for d in broken] == ["Value is above the maximum of 65535."]
    assert server.change(doc.path, doc.text) == []


# -- team files (included by a root spec) ------------------------------------------------------

FRAGMENT_MODELINE = "# yaml-language-server: $schema=../schema/fragment.schema.json\n"


def test_committed_fragment_schema_is_what_gpc_generates() -> None:
    from compiler.schema import fragment_schema_text

    committed = (ROOT / "schema" / "fragment.schema.json").read_text("utf-8")
    assert committed == fragment_schema_text(), "schema/fragment.schema.json is stale: run `make goldens`"


def test_a_team_file_completes_its_keys_and_flags_root_only_ones(server: LanguageServer) -> None:
    top = Doc(server, "team_top", FRAGMENT_MODELINE + "team: payments\n‸\n").completion()
    assert {"workloads", "messaging", "storage"} <= top.keys()
    assert not {"version", "environments", "guardrails", "teams", "include"} & top.keys()
    service = Doc(server, "team_service", FRAGMENT_MODELINE
                  + "team: payments\nworkloads:\n  api:\n    type: service\n    ‸\n").completion()
    assert SERVICE_KEYS | {"team"} <= service.keys()
    wrong = Doc(server, "team_wrong", FRAGMENT_MODELINE + "team: payments\nenvironments:\n  dev: {}\n")
    assert any(line == 3 and "environments" in message for line, message in wrong.messages()), wrong.messages()


# -- the platform's edges (issue 14) ------------------------------------------------------------


def test_expose_completion_offers_hosts_paths_tls_with_their_descriptions(server: LanguageServer) -> None:
    items = open_doc(server, "expose", HEAD + "workloads:\n  shop:\n    type: service\n    expose:\n"
                     "      ‸\n").completion()
    assert {"hosts", "paths", "tls"} <= items.keys()
    assert "cidr" not in items and "namespace" not in items
    assert "exposure.domain" in json.dumps(items["hosts"]), "hosts explains its derived default"


def test_an_egress_entry_offers_cidr_or_host_and_exposure_is_explained(server: LanguageServer) -> None:
    items = open_doc(server, "egress", HEAD + "workloads:\n  shop:\n    type: service\n    egress:\n"
                     "      - ‸\n").completion()
    assert {"cidr", "host", "ports"} <= items.keys()
    doc = open_doc(server, "exposure_hover", HEAD.replace("  dev: {}\n", "  dev:\n    exposure: {api: ingress}\n")
                   + "workloads: {}\n")
    assert "Gateway API" in doc.hover("exposure")
