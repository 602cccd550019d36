"""Every diagnostic code gpc can emit. Codes are stable and never reused.

GPC0xx: the file itself (encoding, YAML), GPC1xx: the shape of the spec (the model),
GPC2xx: meaning across the spec (references, names, guardrails), GPC3xx: target checks.
Each code is documented in docs/diagnostics.md, generated from this table and from the
invalid test cases that produce it (`make goldens`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Code:
    severity: Level
    title: str
    explanation: str
    good: str  # a YAML fragment showing the right way


def _e(title: str, explanation: str, good: str) -> Code:
    return Code(Level.ERROR, title, explanation, good)


def _w(title: str, explanation: str, good: str) -> Code:
    return Code(Level.WARNING, title, explanation, good)


CODES: dict[str, Code] = {
    # -- GPC0xx: reading the file ---------------------------------------------------------
    "GPC001": _e("file is not UTF-8", "Specs are UTF-8 text; the byte at the reported position is not.",
                 "name: fraud-detection   # saved as UTF-8"),
    "GPC002": _e("YAML syntax error", "The file is not well-formed YAML.",
                 "workloads:\n  checkout:\n    type: service"),
    "GPC003": _e("duplicate key", "A key appears twice in one mapping. YAML parsers silently keep the last "
                 "one; gpc refuses, because one of the two values is a mistake.",
                 "workloads:\n  checkout: {type: service, port: 8080}"),
    "GPC004": _e("non-string key", "Every key in a spec is a string; `1:` or `true:` or a list as a key is not.",
                 "env:\n  \"1\": one"),
    "GPC005": _e("root is not a mapping", "A spec is one mapping with `version`, `name`, `workloads`...",
                 "version: 1\nname: fraud-detection"),
    "GPC006": _e("several YAML documents", "A spec is one YAML document; `---` starts a second one.",
                 "version: 1\nname: fraud-detection"),
    "GPC007": _e("unsupported YAML tag", "Only plain YAML values are allowed: tags such as `!!python/object` "
                 "could execute code in other tools and are refused.", "image: ghcr.io/acme/app"),
    "GPC008": _e("alias expansion too large", "Anchors and aliases expand into more nodes than any real spec "
                 "has (a 'billion laughs' document).", "defaults: &defaults {cpu: 250m}\nresources: *defaults"),
    "GPC009": _e("nesting too deep", "The document nests deeper than any real spec does.",
                 "message_schema: {type: object}"),
    "GPC010": _e("file too large", "The file is larger than the limit gpc reads (8 MiB).",
                 "# split a very large platform into several specs"),
    "GPC011": _e("include matches no file", "A pattern under `include` names no file, so the workloads "
                 "it was meant to bring in are missing. Patterns are globs relative to the root spec's folder.",
                 "include: [teams/*.yaml]"),
    # -- GPC1xx: the shape of the spec -----------------------------------------------------
    "GPC101": _e("unknown key", "The key is not part of the spec at this place. Check the spelling; the "
                 "hint names the closest known key.", "workloads:\n  checkout:\n    replicas: 2"),
    "GPC102": _e("missing key", "A required key is missing.", "workloads:\n  checkout:\n    type: service\n    port: 8080"),
    "GPC103": _e("wrong type", "The value has the wrong type (for example a string where a number belongs).",
                 "port: 8080"),
    "GPC104": _e("invalid value", "The value is of the right type but not allowed (out of range, not one of "
                 "the allowed choices, or not matching the required pattern).", "access: publish"),
    "GPC105": _e("invalid Kubernetes quantity", "Resources and sizes are Kubernetes quantities such as "
                 "`250m`, `1`, `512Mi`, `2Gi`.", "resources: {cpu: 250m, memory: 512Mi}"),
    "GPC106": _e("invalid message schema", "A queue's `message_schema` must itself be a valid JSON Schema "
                 "(draft 2020-12): producers and consumers both validate messages against it.",
                 "message_schema:\n  type: object\n  required: [user_id]"),
    "GPC107": _e("unknown workload type", "`type` must be `service` (a long-running HTTP server) or `job` "
                 "(a batch or scheduled job).", "type: job"),
    "GPC108": _e("invalid duration", "Durations are a number with a unit: `90s`, `15m`, `1h`, `1h30m`.",
                 "timeout: 1h30m"),
    "GPC109": _e("unsupported spec version", "This gpc reads spec `version: 1`.", "version: 1"),
    "GPC110": _e("invalid use", "Each entry under `uses` names exactly one of `queue`, `bucket`, `volume` or "
                 "`service`.", "uses:\n  events: {queue: checkout-events, access: publish}"),
    "GPC111": _e("value read otherwise than written", "YAML gives unquoted scalars a type: gpc reads YAML 1.1, "
                 "where `0755` is the octal number 493, `1:30` is 90 (base 60), `yes`, `on` and `y` are true and "
                 "`~` is null; editors and the schema read YAML 1.2, where `0755` is 755, `yes` is text and `1e3` "
                 "is a number. Where gpc wants text, an unquoted value that is not that text (other than a plain "
                 "whole number such as `4`) is refused; where it wants a number, a boolean, a quantity or a "
                 "duration, a value the two YAML versions read differently is refused. Quote text; write "
                 "numbers in decimal and booleans as `true` or `false`.",
                 "env:\n  MODE: \"0755\"\n  ENABLED: \"yes\"\nport: 8080\nauto_sync: false"),
    "GPC112": _e("unknown time zone", "`time_zone` names a zone of the IANA time zone database, as the CronJob's "
                 "`timeZone` requires: an Area/City name such as `Europe/Berlin` or `America/New_York`, or "
                 "`Etc/UTC`. The API server rejects anything else when Argo CD syncs.",
                 "schedule: \"0 3 * * *\"\ntime_zone: Europe/Berlin"),
    # -- GPC2xx: meaning across the spec ----------------------------------------------------
    "GPC201": _e("invalid name", "Names become Kubernetes object names and DNS labels: lowercase letters, "
                 "digits and '-', starting with a letter, ending with a letter or digit, at most 63 "
                 "characters (or less where gpc adds a suffix).", "workloads:\n  fraud-trainer: {type: job}"),
    "GPC202": _e("derived name too long", "gpc derives names from yours (namespaces, secrets, Argo CD "
                 "applications); one of them would exceed the Kubernetes limit.", "name: fraud"),
    "GPC203": _e("unknown reference", "A `uses` entry names a queue, bucket, volume or service that the spec "
                 "does not declare.", "uses:\n  models: {bucket: fraud-models, access: read}"),
    "GPC204": _e("access does not fit the resource", "Queues take `publish` or `consume`; buckets take "
                 "`read`, `write` or `readwrite`; volumes take a `mount` path and no `access`; services "
                 "take neither.", "uses:\n  events: {queue: checkout-events, access: consume}"),
    "GPC205": _e("called workload is not a service", "`uses: {service: X}` calls X over HTTP, so X must be a "
                 "workload of type service with a port.", "uses:\n  fraud: {service: fraud-inference}"),
    "GPC206": _e("mount path not absolute", "Volume mount paths are absolute container paths.",
                 "uses:\n  scratch: {volume: model-artifacts, mount: /artifacts}"),
    "GPC207": _e("mount paths collide", "Two volumes of one workload are mounted at the same or nested paths.",
                 "uses:\n  a: {volume: data, mount: /data}\n  b: {volume: cache, mount: /cache}"),
    "GPC208": _e("invalid cron schedule", "`schedule` is a Kubernetes CronJob schedule: five fields "
                 "(minute hour day-of-month month day-of-week) or a macro such as `@daily`.",
                 "schedule: \"0 */6 * * *\""),
    "GPC209": _e("resources exceed the guardrail", "A workload asks for more cpu, memory or GPU than "
                 "`guardrails.max` allows for its type; the cluster's admission policy would reject it.",
                 "guardrails:\n  max: {job: {cpu: \"8\", memory: 16Gi, gpu: 2}}"),
    "GPC210": _e("job does not fit its quota", "A job asks for more than its namespace quota "
                 "(`guardrails.quotas`) can ever grant, so it could never be scheduled.",
                 "guardrails:\n  quotas: {jobs: {cpu: \"16\", memory: 32Gi}}"),
    "GPC211": _e("image registry not allowed", "The workload's image is not under one of "
                 "`guardrails.allowed_registries`.", "guardrails:\n  allowed_registries: [ghcr.io/acme]"),
    "GPC212": _e("override of an unknown workload", "An environment override names a workload the spec does "
                 "not declare.", "overrides:\n  workloads:\n    checkout: {replicas: 3}"),
    "GPC213": _e("override does not apply", "The overridden field does not exist for that workload's type "
                 "(for example `replicas` on a job or `schedule` on a service).",
                 "overrides:\n  workloads:\n    fraud-trainer: {schedule: \"0 3 * * *\"}"),
    "GPC214": _e("namespaces collide", "Two environments on the same cluster would use the same namespaces.",
                 "environments:\n  dev: {namespace_prefix: fraud-dev}\n  qa: {namespace_prefix: fraud-qa}"),
    "GPC215": _w("queue without producer or consumer", "Nobody publishes to (or consumes from) this queue: "
                 "messages would never arrive (or pile up).", "uses:\n  events: {queue: checkout-events, access: consume}"),
    "GPC216": _w("bucket read but never written", "Workloads read this bucket but none writes it.",
                 "uses:\n  models: {bucket: fraud-models, access: write}"),
    "GPC217": _e("GPU not allowed for this type", "The workload asks for GPUs but `guardrails.max` allows none "
                 "for its type (services never get GPUs unless the guardrail says so).",
                 "resources: {cpu: \"1\", memory: 2Gi}"),
    "GPC218": _e("environment variable collides", "A variable in `env`, a secret name or a variable derived "
                 "from `uses` has the same name as another one of the same workload.",
                 "env:\n  LOG_LEVEL: info"),
    "GPC219": _e("calls itself", "A service lists itself under `uses`.", "uses:\n  fraud: {service: fraud-inference}"),
    "GPC220": _e("volume access mode conflict", "A ReadWriteOnce volume is mounted by more than one workload, "
                 "or by a service with more than one replica; pods on different nodes cannot share it.",
                 "volumes:\n  shared: {size: 1Gi, access_mode: ReadWriteMany}"),
    "GPC221": _e("no environments", "A spec needs at least one environment to deliver to.",
                 "environments:\n  dev: {cluster: https://kubernetes.default.svc}"),
    "GPC222": _w("unused declaration", "A bucket, queue or volume is declared but no workload uses it.",
                 "uses:\n  models: {bucket: fraud-models, access: read}"),
    "GPC223": _e("derived names collide", "Two things would get the same Argo CD application name on one "
                 "cluster: a workload named `root` collides with the environment's root application, and "
                 "hyphens can make `<platform>-<environment>-<workload>` of two environments equal.",
                 "workloads:\n  root-api: {type: service}"),
    "GPC240": _e("declared in two files", "A workload, queue, bucket or volume has the same name in two files "
                 "of one platform (or twice in one after merging); names are unique across the root spec and "
                 "every file it includes. The message names the other place.",
                 "# teams/payments.yaml\nteam: payments\nworkloads:\n  payments-api: {type: service}"),
    "GPC241": _e("unknown team", "A workload, queue, bucket or volume (or the team file it is in) names a team "
                 "the root spec does not declare under `teams`.",
                 "teams:\n  payments: {github: \"@acme/payments\"}"),
    "GPC242": _e("over the team's maximum", "A workload asks for more than its team's `max` allows. Team "
                 "limits live in the root spec, which the platform team owns; a team's file cannot raise them.",
                 "teams:\n  ml: {max: {job: {cpu: \"8\", memory: 16Gi, gpu: 2}}}"),
    "GPC243": _e("team may not declare this", "A team's file (or a declaration owned by a team) declares a "
                 "queue, bucket or volume, but the root spec's `teams.<team>.declares` does not allow that team "
                 "to own one.", "teams:\n  web: {declares: [buckets]}"),
    "GPC244": _e("team file not included", "`gpc validate` was given a team file (a platform fragment), but no "
                 "spec in its folder or the folders above includes it, so it cannot be checked in context.",
                 "# platform.yaml\ninclude: [teams/*.yaml]"),
    # -- GPC3xx: target checks. Ranges: kustomize 300-319, argocd 320-339, kyverno 340-359,
    #    terraform 360-379, github 380-399. Add a target's codes under its own marker.
    # [kustomize codes]
    # [argocd codes]
    # [kyverno codes]
    "GPC340": _e("image tag 'latest'", "The cluster policy rejects the mutable tag `latest` (it changes under "
                 "a running workload), so the workload could never be deployed.", "image_tag: \"1.0.0\""),
    "GPC341": _e("invalid allowed registry", "Each of `guardrails.allowed_registries` is a registry host with "
                 "an optional port and path, as in `registry`; the cluster policy admits images under it.",
                 "guardrails:\n  allowed_registries: [ghcr.io/acme, registry.example.com:5000/ml]"),
    "GPC342": _e("policy name too long", "Cluster policies are named `<platform name>-<rule>`; Kyverno labels "
                 "its policy reports with that name, which may be at most 63 characters.",
                 "name: fraud"),
    # [terraform codes]
    "GPC360": _e("environments share a cluster", "Every environment is a cluster of its own: its Terraform "
                 "installs Argo CD and Kyverno there, and that Argo CD delivers only that environment. Two "
                 "environments naming the same cluster URL would install both twice.",
                 "environments:\n  dev: {cluster: https://dev.k8s.acme.example}\n  prod: {cluster: https://prod.k8s.acme.example}"),
    # [github codes]
    "GPC380": _e("GitOps repository not on GitHub", "The github target's workflows check out and push to "
                 "the GitOps repository with a GitHub App token, so `gitops.repo` must be a github.com "
                 "repository. Compile the other targets with `--target` if it lives elsewhere.",
                 "gitops:\n  repo: https://github.com/acme/platform-gitops.git"),
    "GPC381": _e("GHCR image outside the repository's owner", "The image is on ghcr.io under another owner than "
                 "the workload's repository; that repository's GITHUB_TOKEN can only push packages of its own "
                 "owner, so every build would fail to push.", "repo: acme/checkout-service\nimage: ghcr.io/acme/checkout"),
    "GPC382": _e("GitOps branch or path unusable in a workflow", "`gitops.branch` must be a valid git branch "
                 "name, and neither it nor `gitops.path` may contain `${{`: GitHub reads them in workflow "
                 "trigger filters, where an expression cannot be written literally.",
                 "gitops:\n  branch: main\n  path: out/fraud"),
}
