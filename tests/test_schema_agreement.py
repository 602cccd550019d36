"""gpc and its JSON Schema give the same verdict on every scalar field, written every way YAML allows.

Editors validate a spec with schema/platform.schema.json; CI and pre-commit with `gpc validate`.
If one accepts what the other rejects, a user sees a green editor and a red build (or the reverse).
This test writes one spec per (field, value) — every scalar field of the model, each with the
values YAML can coerce (quoted numbers, YAML 1.1 booleans, octal, sexagesimal, hex, exponents,
null, infinities...) — and compares the verdict of gpc with the verdict of the real
check-jsonschema (ruamel.yaml, YAML 1.2) on the same file:

- the schema rejects  => gpc rejects it;
- the schema accepts  => gpc accepts its shape (no GPC0xx, GPC1xx, nor the GPC201 and GPC204
  that the shape rules report), except for what a JSON Schema cannot see: how a scalar was
  written (`0755`, `yes`, `1:30`... which YAML 1.1 and 1.2 read differently, or not as the text
  written) and what it cannot know (see NOT_EXPRESSIBLE).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, require_tool

from compiler.pipeline import check

SCHEMA = ROOT / "schema" / "platform.schema.json"
# Verdicts a JSON Schema cannot reach: the way a scalar or a key is written is gone once YAML has
# read it (GPC111; GPC004 for keys such as `yes:` and `~:`, which YAML 1.1 reads as a boolean and
# null); whether a time zone exists depends on the IANA database of the day (GPC112), and whether
# an include pattern matches a file on the disk (GPC011); whether a message schema is itself valid
# needs the meta-schema, which editors must not fetch (GPC106).
NOT_EXPRESSIBLE = {"GPC004", "GPC011", "GPC106", "GPC111", "GPC112"}
# The codes of the shape rules: names (GPC201) are checked with the semantic pass to say which
# rule a name breaks, and a use's `access` is reported with the code of the use rules (GPC204).
SHAPE = ("GPC0", "GPC1", "GPC201", "GPC204")

# The base spec is valid for both. Each «field» is replaced by one written value at a time; the
# others keep their default below. Block style only, so that any value text fits on its line.
BASE = """\
version: «version»
name: «name»
description: «description»
registry: «registry»
kubernetes_version: «kubernetes_version»
owner: «owner»
registry_auth: «registry_auth»
include: «include»
teams:
  shop-team:
    github: «github»
    declares:
      - «declares»
gitops:
  repo: «gitops.repo»
  branch: «gitops.branch»
  path: «gitops.path»
environments:
  dev:
    cluster: «cluster»
    namespace_prefix: «namespace_prefix»
    auto_sync: «auto_sync»
    dns:
      namespace: «dns.namespace»
      pod_labels:
        «dns.label_key»: «dns.label_value»
      ports:
        - «dns.port»
      node_local_address: «dns.node_local_address»
    overrides:
      workloads:
        api:
          replicas: «override.replicas»
          env:
            EXTRA: «override.env»
          resources:
            cpu: «override.cpu»
        report:
          schedule: «override.schedule»
          time_zone: «override.time_zone»
storage:
  buckets:
    models:
      description: «bucket.description»
      versioning: «versioning»
  volumes:
    scratch:
      size: «size»
      access_mode: «access_mode»
      storage_class: «storage_class»
messaging:
  queues:
    orders:
      dead_letter: «dead_letter»
previews:
  from: dev
  label: «previews.label»
  ttl: «previews.ttl»
  max: «previews.max»
  requeue_after: «previews.requeue_after»
  quota:
    cpu: «previews.cpu»
    memory: «previews.memory»
    pods: «previews.pods»
  allow:
    bots: «previews.bots»
    drafts: «previews.drafts»
guardrails:
  max:
    service:
      cpu: «max.cpu»
      memory: «max.memory»
      gpu: «max.gpu»
  defaults:
    job:
      memory: «defaults.memory»
  quotas:
    jobs:
      cpu: «quota.cpu»
      gpu: «quota.gpu»
      pods: «quota.pods»
  allowed_registries:
    - «allowed_registry»
  excluded_namespaces:
    - «excluded_namespace»
workloads:
  api:
    type: «type»
    team: «team»
    repo: «repo»
    image: «image»
    image_tag: «image_tag»
    command:
      - «command»
    args:
      - «args»
    port: «port»
    replicas: «replicas»
    api_access: «api_access»
    resources:
      cpu: «cpu»
      memory: «memory»
      gpu: «gpu»
    health:
      path: «health.path»
      initial_delay: «initial_delay»
    env:
      «env.key»: «env»
    secrets:
      - «secret»
    uses:
      events:
        queue: «queue»
        access: «queue.access»
      models:
        bucket: models
        access: «bucket.access»
      scratch:
        volume: scratch
        mount: «mount»
        read_only: «read_only»
  report:
    type: job
    schedule: «schedule»
    time_zone: «time_zone»
    concurrency: «concurrency»
    retries: «retries»
    timeout: «timeout»
    ttl_after_finished: «ttl_after_finished»
    starting_deadline: «starting_deadline»
    uses:
      events:
        queue: orders
        access: consume
      models:
        bucket: models
        access: write
"""

# How YAML can write a value of each scalar type. Quoted forms are strings to every reader. The
# first field of each type gets every form; the others the forms most likely to differ per field.
INT = ["3", '"3"', "3.0", "3.5", "-1", "true", "yes", "0x3", "0o3", "03", "0755", "08", "1:30", "1_0", "+3",
       "1e1", "~", ".inf", ".nan", '"0x3"', "[3]", "{a: 3}", "''"]
BOOL = ["true", "false", "True", "FALSE", '"true"', "yes", "no", "on", "Off", "y", "n", "1", "0", "1.0", "~",
        "'yes'", "[true]"]
TEXT = ["abc", '"abc"', "4", '"4"', "-4", "4.0", "1.10", "0755", "0x1F", "0o17", "1:30", "1e3", "1_000", "+12",
        "~", "null", ".inf", ".nan", "yes", "y", "on", "true", '"true"', "2024-01-01", "''", "[a]", "{a: b}"]
QUANTITY = ["1", '"1"', "0.5", "250m", "1e3", '"1e3"', "1.0e3", "-1", '"-1"', "0755", "1:30", "true", ".inf",
            ".nan", "~", "1Gi", '"1.5Gi"', "0x10", "1_0", "''", "[1]", "1.5e20", "1.5e+20", "1.0E-3", "+1"]
DURATION = ["1h", "30", '"30"', "30.0", "0", "-5", "1:30", "0755", "true", "1h30m", "~", "''", "1e3", "1_0",
            "s", "1d"]
VERSION = ["1", '"1"', "1.0", "true", "0x1", "01", "+1", "2", "~", "1_0"]
SHORT = {
    "int": ["3", '"3"', "true", "3.0", "-1", "0755", "1:30", "~"],
    "bool": ["true", '"true"', "no", "1", "~"],
    "text": ["abc", "4", '"4"', "0755", "yes", "~", "1.10", "''"],
    "quantity": ["1", '"1"', "-1", "1:30", ".inf", "true", "0755"],
    "duration": ["30", '"30"', "1:30", "30.0"],
}


def _literal(value: str) -> list[str]:
    return [value, f'"{value}"', value.upper(), "yes", "on", "1", "~", "''"]


def _name(value: str) -> list[str]:
    return [value, f'"{value}"', f"{value.title()}", "yes", "y", "4", "~", "0755", "1e3", "''"]


def _pattern_text(value: str, *wrong: str) -> list[str]:
    quoted = value if value.startswith('"') else f'"{value}"'
    return [value, quoted, "yes", "4", "~", "1.10", "1e3", "''", *wrong]


# field: (scalar type, valid default, written values)
FIELDS: dict[str, tuple[str, str, list[str]]] = {
    "version": ("version", "1", VERSION),
    "port": ("int", "8080", INT),
    "replicas": ("int", "1", SHORT["int"]),
    "gpu": ("int", "0", SHORT["int"]),
    "initial_delay": ("int", "5", SHORT["int"]),
    "retries": ("int", "2", SHORT["int"]),
    "override.replicas": ("int", "1", SHORT["int"]),
    "max.gpu": ("int", "8", SHORT["int"]),
    "quota.gpu": ("int", "8", SHORT["int"]),
    "quota.pods": ("int", "10", SHORT["int"]),
    "auto_sync": ("bool", "true", BOOL),
    "versioning": ("bool", "false", SHORT["bool"]),
    "dead_letter": ("bool", "true", SHORT["bool"]),
    "api_access": ("bool", "false", SHORT["bool"]),
    "read_only": ("bool", "false", SHORT["bool"]),
    "env": ("text", "info", TEXT),
    "image_tag": ("text", '"1.0.0"', TEXT),
    "override.env": ("text", "x", SHORT["text"]),
    "command": ("text", "serve", SHORT["text"]),
    "args": ("text", "--verbose", SHORT["text"]),
    "description": ("text", "a shop", TEXT),
    "bucket.description": ("text", "models", SHORT["text"]),
    "gitops.branch": ("text", "main", SHORT["text"]),
    "gitops.path": ("text", "out/shop", SHORT["text"]),
    "storage_class": ("text", "fast", SHORT["text"]),
    "excluded_namespace": ("text", "kube-system", SHORT["text"]),
    "image": ("text", "ghcr.io/acme/api", SHORT["text"]),
    "mount": ("text", "/scratch", SHORT["text"]),
    "registry": ("pattern", "ghcr.io/acme", _pattern_text("ghcr.io/acme", "https://ghcr.io/acme", "GHCR.io/acme")),
    "kubernetes_version": ("pattern", '"1.30"', _pattern_text('"1.30"', "1.30", "1.3", "1:30", "2.0")),
    "gitops.repo": ("pattern", "https://github.com/acme/shop.git", _pattern_text("https://github.com/acme/shop.git")),
    "cluster": ("pattern", "https://kubernetes.default.svc",
                _pattern_text("https://kubernetes.default.svc", "http://k8s")),
    "allowed_registry": ("pattern", "ghcr.io/acme", _pattern_text("ghcr.io/acme")),
    "repo": ("pattern", "acme/api", _pattern_text("acme/api", "acme")),
    "health.path": ("pattern", "/healthz", _pattern_text("/healthz", "healthz")),
    "schedule": ("pattern", '"0 3 * * *"', _pattern_text('"0 3 * * *"')),
    "override.schedule": ("pattern", '"0 4 * * *"', _pattern_text('"0 4 * * *"')),
    "time_zone": ("pattern", "Etc/UTC", _pattern_text("Etc/UTC", "Berlin", "Mars/Olympus", "UTC")),
    "override.time_zone": ("pattern", "Europe/Berlin", _pattern_text("Europe/Berlin", "Berlin", '"Etc/UTC"')),
    "env.key": ("pattern", "LOG_LEVEL", ["LOG_LEVEL", '"LOG_LEVEL"', "4", "yes", "~", "1e3", "0x1F", "log-level"]),
    "secret": ("pattern", "API_KEY", ["API_KEY", '"API_KEY"', "yes", "4", "~", "1e3", "api-key"]),
    "name": ("name", "shop", _name("shop")),
    "team": ("name", "shop-team", _name("shop-team")),
    "owner": ("pattern", '"@acme/platform"', _pattern_text('"@acme/platform"', "acme", '"@acme/"')),
    "github": ("pattern", '"@acme/shop"', _pattern_text('"@acme/shop"', '"acme/shop"')),
    "include": ("list", "[]", ["[]", "[4]", "[yes]", "[~]", "x", "[1.10]", "~"]),
    "declares": ("literal", "buckets", _literal("buckets")),
    "namespace_prefix": ("name", "shop-dev", _name("shop-dev")),
    "queue": ("name", "orders", _name("orders")),
    "type": ("literal", "service", _literal("service")),
    "access_mode": ("literal", "ReadWriteMany", _literal("ReadWriteMany")),
    "queue.access": ("literal", "publish", _literal("publish")),
    "bucket.access": ("literal", "read", _literal("read")),
    "concurrency": ("literal", "Forbid", _literal("Forbid")),
    "cpu": ("quantity", "250m", QUANTITY),
    "memory": ("quantity", "256Mi", SHORT["quantity"]),
    "size": ("quantity", "1Gi", SHORT["quantity"]),
    "override.cpu": ("quantity", "500m", SHORT["quantity"]),
    "max.cpu": ("quantity", '"64"', SHORT["quantity"]),
    "max.memory": ("quantity", "64Gi", SHORT["quantity"]),
    "defaults.memory": ("quantity", "1Gi", SHORT["quantity"]),
    "quota.cpu": ("quantity", '"64"', SHORT["quantity"]),
    "timeout": ("duration", "1h", DURATION),
    "ttl_after_finished": ("duration", "1h", SHORT["duration"]),
    "starting_deadline": ("duration", "15m", SHORT["duration"]),
    "registry_auth": ("literal", "public", _literal("public")),
    "dns.namespace": ("name", "kube-system", _name("kube-system")),
    "dns.label_key": ("pattern", "k8s-app", _pattern_text("k8s-app", "-bad", "a/b/c")),
    "dns.label_value": ("text", "kube-dns", SHORT["text"]),
    "dns.port": ("int", "53", SHORT["int"]),
    "previews.label": ("text", "preview", SHORT["text"]),
    "previews.ttl": ("text", "72h", SHORT["text"]),
    "previews.requeue_after": ("text", "5m", SHORT["text"]),
    "previews.max": ("int", "5", SHORT["int"]),
    "previews.pods": ("int", "30", SHORT["int"]),
    "previews.cpu": ("quantity", '"16"', SHORT["quantity"]),
    "previews.memory": ("quantity", "32Gi", SHORT["quantity"]),
    "previews.bots": ("bool", "false", SHORT["bool"]),
    "previews.drafts": ("bool", "true", SHORT["bool"]),
    "dns.node_local_address": ("pattern", "169.254.20.10", _pattern_text("169.254.20.10", "not-an-ip", "::1",
                                                                         "999.1.1.1")),
}


@dataclass(frozen=True)
class Variant:
    field: str
    written: str

    @property
    def id(self) -> str:
        return f"{self.field}={self.written}"

    def text(self) -> str:
        spec = BASE
        for name, (_, default, _) in FIELDS.items():
            spec = spec.replace(f"«{name}»", self.written if name == self.field else default)
        return spec


TYPES = sorted({kind for kind, _, _ in FIELDS.values()})


def variants(kind: str) -> list[Variant]:
    return [Variant(f, w) for f, (k, _, written) in FIELDS.items() if k == kind for w in dict.fromkeys(written)]


def verdicts(found: list[Variant], folder: Path) -> dict[str, tuple[list[str], list[str]]]:
    """variant id -> (check-jsonschema's errors, gpc's error codes), each tool run on the same files."""
    tool = require_tool("check-jsonschema")
    files = {}
    for i, variant in enumerate(found):
        path = folder / f"v{i:04}.yaml"
        path.write_text(variant.text(), "utf-8")
        files[path.name] = variant.id
    run = subprocess.run([tool, "--schemafile", str(SCHEMA), "-o", "json", *sorted(files)], cwd=folder,
                         capture_output=True, text=True, check=False)
    report = json.loads(run.stdout)
    assert not report.get("parse_errors"), report["parse_errors"]
    result: dict[str, tuple[list[str], list[str]]] = {v: ([], []) for v in files.values()}
    for error in report["errors"]:
        result[files[Path(error["filename"]).name]][0].append(f"{error['path']}: {error['message']}")
    for name, variant_id in files.items():
        codes = [d.code for d in check(folder / name).diagnostics if d.severity.value == "error"]
        result[variant_id][1].extend(codes)
    return result


def test_the_base_spec_is_valid_for_both(tmp_path: Path) -> None:
    (base,) = verdicts([Variant("version", "1")], tmp_path).values()
    assert base == ([], [])


@pytest.mark.parametrize("kind", TYPES)
def test_gpc_and_the_schema_agree(kind: str, tmp_path: Path) -> None:
    disagreements = []
    for variant, (schema_errors, codes) in verdicts(variants(kind), tmp_path).items():
        shape = [c for c in codes if c.startswith(SHAPE)]
        if schema_errors and not codes:
            disagreements.append(f"{variant}: gpc accepts what its schema rejects: {schema_errors}")
        if not schema_errors and [c for c in shape if c not in NOT_EXPRESSIBLE]:
            disagreements.append(f"{variant}: the schema accepts what gpc rejects: {shape}")
    assert not disagreements, "\n".join(disagreements)


def test_every_scalar_field_is_covered() -> None:
    from compiler.model import Platform

    written = {v.field for kind in TYPES for v in variants(kind)}
    assert len(written) == len(FIELDS)
    assert {kind for kind, _, _ in FIELDS.values()} >= {"int", "bool", "text", "quantity", "duration", "literal",
                                                          "name", "pattern", "version", "list"}
    assert "«" not in Variant("version", "1").text()
    assert Platform.model_fields.keys() <= {f.split(".")[0] for f in FIELDS} | {"gitops", "environments", "storage",
                                                                                  "messaging", "guardrails",
                                                                                  "workloads", "teams", "toolchain"}
