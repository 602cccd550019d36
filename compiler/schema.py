"""The JSON Schema of platform.yaml, generated from the model (schema/platform.schema.json).

The model is the truth; this module only makes its schema pleasant in an editor (the YAML
language server of VS Code and Neovim), without changing what it accepts:
- `markdownDescription` (preferred for hover and completion docs) carries the default value;
- optional fields are `type: [X, "null"]` instead of `anyOf`, and lose `default: null`, so that
  completing `args` inserts a list item rather than the text `null`;
- fields gpc coerces (numbers for env values, integer seconds for durations) accept what gpc accepts;
- `defaultSnippets` offer whole `uses` entries, workloads and environments;
- every map keyed by a name says what the names look like (`propertyNames`).
tests/test_editor.py drives the real language server against this schema.
"""

from __future__ import annotations

import json
import re
from typing import Any

from compiler.model import DURATION_PATTERN, NAME_PATTERN, Platform

SCHEMA_ID = "https://gpc.dev/schema/platform.schema.json"
_NAME = {"pattern": NAME_PATTERN, "maxLength": 63,
         "description": "A DNS label: lowercase letters, digits and `-`, starting with a letter."}


def build_schema() -> dict[str, Any]:
    schema = Platform.model_json_schema(mode="validation")
    _editor_friendly(schema)
    props = schema["properties"]
    defs = schema["$defs"]
    props["workloads"]["propertyNames"] = {**_NAME, "title": "workload name"}
    props["environments"]["propertyNames"] = {**_NAME, "title": "environment name"}
    defs["Storage"]["properties"]["buckets"]["propertyNames"] = {**_NAME, "minLength": 3, "title": "bucket name"}
    defs["Storage"]["properties"]["volumes"]["propertyNames"] = {**_NAME, "title": "volume name"}
    defs["Messaging"]["properties"]["queues"]["propertyNames"] = {**_NAME, "title": "queue name"}
    defs["Overrides"]["properties"]["workloads"]["propertyNames"] = {**_NAME, "title": "workload name"}
    for kind in ("Service", "Worker", "Job"):
        defs[kind]["properties"]["uses"]["propertyNames"] = {
            "pattern": "^[a-z][a-z0-9_-]*$", "title": "alias",
            "description": "Names the variables the use gives: alias `events` -> `EVENTS_QUEUE`."}
    for env_map in (defs["Service"]["properties"]["env"], defs["Job"]["properties"]["env"],
                    defs["WorkloadOverride"]["properties"]["env"]):
        _env_values(env_map)
    _durations(schema)
    _snippets(schema, props, defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _editor_friendly(node: Any) -> None:
    if isinstance(node, list):
        for value in node:
            _editor_friendly(value)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _editor_friendly(value)
    _merge_nullable(node)
    if "default" in node and node["default"] is None:
        del node["default"]
    if isinstance(node.get("description"), str) and "markdownDescription" not in node:
        markdown = node["description"]
        default = node.get("default")
        if default not in (None, [], {}) and not isinstance(default, dict):
            markdown += f"\n\nDefault: `{json.dumps(default) if not isinstance(default, str) else default}`"
        node["markdownDescription"] = markdown
    if "markdownEnumDescriptions" in node:
        node["enumDescriptions"] = [re.sub(r"`", "", text) for text in node["markdownEnumDescriptions"]]


def _merge_nullable(node: dict[str, Any]) -> None:
    """`anyOf: [{type: X, ...}, {type: null}]` -> `{type: [X, null], ...}`: the same values, and
    the language server then knows the type when it builds a completion."""
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
        return
    other = options[0] if options[1] == {"type": "null"} else options[1]
    kinds = other.get("type")
    if isinstance(kinds, (str, list)) and "$ref" not in other and "anyOf" not in other:
        del node["anyOf"]
        _inherit(node, other)
        node["type"] = [*([kinds] if isinstance(kinds, str) else kinds), "null"]  # text is [string, integer]
    elif "anyOf" in other and "$ref" not in other:
        # A nullable quantity: flatten the two unions into one.
        node["anyOf"] = [*other["anyOf"], {"type": "null"}]
        _inherit(node, {k: v for k, v in other.items() if k != "anyOf"})


def _inherit(node: dict[str, Any], inner: dict[str, Any]) -> None:
    """Copy what the field does not say itself; the field's own description wins over the type's."""
    for key, value in inner.items():
        if key == "markdownDescription" and "description" in node:
            continue
        node.setdefault(key, value)


def _env_values(env_map: dict[str, Any]) -> None:
    """Env maps: gpc reads numbers as strings (`WORKERS: 4`) and rejects badly named keys."""
    (pattern,) = env_map.pop("patternProperties")
    env_map["propertyNames"] = {"pattern": pattern, "title": "VARIABLE_NAME",
                                "description": "Letters, digits and `_`, not starting with a digit."}
    env_map["additionalProperties"] = {"type": ["string", "integer"]}


def _durations(node: Any) -> None:
    """Durations: `1h30m`, or a whole number of seconds, as gpc accepts both."""
    if isinstance(node, list):
        for value in node:
            _durations(value)
    elif isinstance(node, dict):
        for value in node.values():
            _durations(value)
        if node.get("pattern") == DURATION_PATTERN and "type" in node:
            types = node.pop("type")
            pattern = node.pop("pattern")
            node["anyOf"] = [{"type": "string", "pattern": pattern, "minLength": 2},
                             {"type": "integer", "minimum": 1, "description": "seconds"}]
            if isinstance(types, list) and "null" in types:
                node["anyOf"].append({"type": "null"})


_USE_SNIPPETS = [
    ("publish to a queue", "queue", "publish", "${1:checkout-events}"),
    ("consume a queue", "queue", "consume", "${1:checkout-events}"),
    ("read a bucket", "bucket", "read", "${1:fraud-models}"),
    ("write a bucket", "bucket", "write", "${1:fraud-models}"),
    ("read and write a bucket", "bucket", "readwrite", "${1:fraud-models}"),
]


def _use_by_kind(union: dict[str, Any]) -> dict[str, Any]:
    """A `uses` entry picks its schema by the key it names (`queue:`, `bucket:`, ...), as gpc does.

    With a plain `oneOf` the language server guesses the branch from the best-matching values, so
    `{bucket: b, access: publish}` was reported as a broken queue use. `if`/`then` on the kind key
    says "a bucket use; publish is not a bucket access", and completion offers only that kind's keys.
    """
    from compiler.model import USE_MODELS

    kind_of = {model.__name__: model.kind for model in USE_MODELS}
    chain: dict[str, Any] = {"oneOf": union["oneOf"]}
    for option in reversed(union["oneOf"]):
        kind = kind_of[option["$ref"].rsplit("/", 1)[-1]]
        chain = {"if": {"type": "object", "required": [kind]}, "then": option, "else": chain}
    return {"title": "Use", **chain}


def _workload_by_type(union: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A workload picks its schema by `type`, as gpc does: `type: cron` is reported as an unknown
    type (not as "must be service"), and a missing `type` as missing; completion without a type
    still offers the keys of both kinds."""
    options = union["oneOf"]
    kinds = [ref["$ref"].rsplit("/", 1)[-1].lower() for ref in options]
    shown = ", ".join(f"`{kind}`" for kind in kinds[:-1]) + f" or `{kinds[-1]}`."
    described = {"title": "Type", "description": shown, "markdownDescription": shown}
    chain: dict[str, Any] = {
        "if": {"type": "object", "required": ["type"]},
        "then": {"properties": {"type": {"enum": kinds, **described}}},
        "else": {"oneOf": options},
    }
    for kind, option in reversed(list(zip(kinds, options, strict=True))):
        # The language server shows the `if` in hovers too, so it carries the field's own text.
        # `type: string` keeps an empty `type: ` from matching the first kind while completing.
        own = {k: v for k, v in defs[kind.title()]["properties"]["type"].items() if k not in ("const", "enum")}
        condition = {"type": "object", "required": ["type"], "properties": {"type": {**own, "const": kind}}}
        chain = {"if": condition, "then": option, "else": chain}
    return {"title": "Workload", **chain}


def _renumber(body: dict[str, Any]) -> dict[str, Any]:
    """Shift `${n:...}` placeholders by one, so that the workload's name is typed first."""
    return {k: re.sub(r"\$\{(\d+):", lambda m: f"${{{int(m.group(1)) + 1}:", v) if isinstance(v, str) else v
            for k, v in body.items()}


def _snippets(schema_root: dict[str, Any], props: dict[str, Any], defs: dict[str, Any]) -> None:
    """Whole entries a user can insert in one go; `${n:...}` are placeholders the editor tabs through."""
    use_snippets: list[dict[str, Any]] = [
        {"label": label, "description": f"`{kind}` with `access: {access}`", "body": {kind: target, "access": access}}
        for label, kind, access, target in _USE_SNIPPETS
    ]
    use_snippets += [
        {"label": "mount a volume", "description": "`volume` mounted at an absolute path",
         "body": {"volume": "${1:model-artifacts}", "mount": "${2:/artifacts}"}},
        {"label": "call a service", "description": "HTTP calls to a workload of type `service`",
         "body": {"service": "${1:fraud-inference}"}},
    ]
    for kind in ("Service", "Worker", "Job"):
        uses = defs[kind]["properties"]["uses"]
        uses["additionalProperties"] = {**_use_by_kind(uses["additionalProperties"]), "defaultSnippets": use_snippets}
    resources = [{"label": "cpu and memory", "body": {"cpu": "${1:500m}", "memory": "${2:512Mi}"}}]
    defs["WorkloadOverride"]["properties"]["resources"]["defaultSnippets"] = resources
    for group in ("services", "jobs"):
        defs["Quotas"]["properties"][group]["defaultSnippets"] = [
            {"label": "quota", "body": {"cpu": "${1:4}", "memory": "${2:8Gi}", "pods": "^${3:10}"}}]
    props["environments"]["defaultSnippets"] = [
        {"label": "environment", "description": "An environment: the cluster its Argo CD delivers to",
         "body": {"${1:dev}": {"cluster": "${2:https://kubernetes.default.svc}"}}}]
    schema_root["defaultSnippets"] = [
        {"label": "gpc platform", "description": "A platform with one environment and one service",
         "body": {"version": "^1", "name": "${1:hello}", "registry": "${2:ghcr.io/acme}",
                  "gitops": {"repo": "${3:https://github.com/acme/platform-gitops.git}"},
                  "environments": {"dev": {"cluster": "https://kubernetes.default.svc"}},
                  "workloads": {"${4:hello}": {"type": "service", "repo": "${5:acme/hello}", "port": "^${6:8080}"}}}}]
    workload_snippets: list[dict[str, Any]] = [
        {"label": "service", "description": "A long-running HTTP service",
         "body": {"type": "service", "repo": "${1:acme/checkout-service}", "port": "^${2:8080}",
                  "replicas": "^${3:2}"}},
        {"label": "worker", "description": "A long-running queue consumer that serves no HTTP",
         "body": {"type": "worker", "repo": "${1:acme/order-worker}", "replicas": "^${2:1}"}},
        {"label": "scheduled job", "description": "A CronJob",
         "body": {"type": "job", "repo": "${1:acme/fraud-trainer}", "schedule": "${2:0 */6 * * *}",
                  "timeout": "${3:1h}"}},
        {"label": "one-off job", "description": "A Job that runs once per deploy",
         "body": {"type": "job", "repo": "${1:acme/backfill}", "retries": "^${2:0}", "timeout": "${3:30m}"}},
    ]
    props["workloads"]["additionalProperties"] = {**_workload_by_type(props["workloads"]["additionalProperties"], defs),
                                                  "defaultSnippets": workload_snippets}
    # The same, one level up: typed where a new workload's name goes.
    props["workloads"]["defaultSnippets"] = [
        {**snippet, "label": f"new {snippet['label']}", "body": {"${1:name}": _renumber(snippet["body"])}}
        for snippet in workload_snippets
    ]


FRAGMENT_ID = "https://gpc.dev/schema/fragment.schema.json"


def build_fragment_schema() -> dict[str, Any]:
    """The schema of a team file (a file the root spec's `include` names): the same workloads,
    queues, buckets and volumes as the root spec, and the file's `team`, nothing else."""
    from compiler.includes import FRAGMENT_KEYS

    full = build_schema()
    props = full["properties"]
    team = {**_NAME, "type": "string", "title": "team",
            "description": "The team that owns this file: the default `team` of everything it declares. A key "
            "of the root spec's `teams`, where the platform team sets its limits."}
    properties = {"team": team} | {key: props[key] for key in FRAGMENT_KEYS if key != "team"}
    return {
        "$schema": full["$schema"], "$id": FRAGMENT_ID, "title": "gpc team file",
        "description": "Workloads and the queues, buckets and volumes they own, included by a root spec's "
        "`include`. Environments, guardrails and teams belong to the root spec.",
        "type": "object", "additionalProperties": False, "properties": properties,
        "$defs": dict(sorted(full["$defs"].items())),
    }


def fragment_schema_text() -> str:
    return json.dumps(build_fragment_schema(), indent=2, ensure_ascii=False) + "\n"


def schema_text() -> str:
    schema = build_schema()
    # Keys keep the model's order (what an editor's skeletons insert: `version`, `name`, ...);
    # only the definitions are sorted, so the file reads like a reference.
    schema["$defs"] = dict(sorted(schema["$defs"].items()))
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
