"""Every diagnostic code gpc can emit. Codes are stable and never reused.

GPC0xx: the file itself (encoding, YAML), GPC1xx: the shape of the spec (the model),
GPC2xx: meaning across the spec (references, names, guardrails), GPC3xx: target checks,
GPC4xx: `gpc compile` and the compiled tree (where it is written, what CI changed in it).
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
    # GPC225-229: secrets from a secret store (compiler/semantic_secrets.py).
    "GPC225": _e("secret source for an undeclared secret", "A workload's `secret_sources` names a secret that is "
                 "not in its `secrets`; only declared secrets reach the pod, so the source would be read for "
                 "nothing.", "secrets: [STRIPE_API_KEY]\nsecret_sources:\n  STRIPE_API_KEY: {key: payments/stripe}"),
    "GPC226": _e("secrets from two places", "Some of a workload's secrets come from the secret store and some "
                 "do not. The store (External Secrets) writes the workload's whole `<workload>-app-secrets`, so a "
                 "secret without a source would be missing from it: give every secret a source, or none.",
                 "secrets: [STRIPE_API_KEY, WEBHOOK_TOKEN]\nsecret_sources:\n  STRIPE_API_KEY: {key: payments/stripe}"
                 "\n  WEBHOOK_TOKEN: {key: payments/webhook}"),
    "GPC227": _e("no secret store in an environment", "A workload takes its secrets from the secret store, and "
                 "every workload runs in every environment, so every environment names a store "
                 "(`secret_store`). Without one the workload's Secret would be empty there at run time.",
                 "environments:\n  prod:\n    secret_store:\n      vault: {server: https://vault.example.com:8200}"),
    "GPC228": _e("secret store without exactly one provider", "An environment's `secret_store` names exactly one "
                 "of `vault` and `aws`: External Secrets reads one provider per store.",
                 "secret_store:\n  aws: {region: eu-west-1}"),
    # GPC230-239: the toolchain the generated CI installs (`toolchain:`).
    "GPC230": _e("gpc source not pinned", "The platform repository's CI installs exactly the gpc the spec "
                 "names, and only pinned: a git source needs the full 40-hex `commit` (a branch or tag can be "
                 "moved to other code), an index source needs an exact `version` and the `sha256:` hash of every "
                 "file it may serve (pip then refuses anything else, and a look-alike package on another index "
                 "is never considered).",
                 "toolchain:\n  gpc:\n    git: https://github.com/acme/gpc.git\n"
                 "    commit: 0123456789abcdef0123456789abcdef01234567"),
    "GPC231": _e("gpc source ambiguous", "`toolchain.gpc` names exactly one source: `path` (a folder of the "
                 "GitOps repository), `git` with `commit`, or `index` with `version` and `hashes`. Keys of another "
                 "source (a `commit` next to `index`, a `version` without `index`) are a mistake.",
                 "toolchain:\n  gpc:\n    index: https://pypi.acme.example/simple\n    version: 0.1.0\n"
                 "    hashes: [\"sha256:<64 hex digits of the wheel>\"]"),
    "GPC232": _e("gpc source location unusable", "A git or index URL is a plain `https://` URL without "
                 "credentials, query or fragment (the URL is written into the workflow, in the clear; a private "
                 "index or repository takes its credentials from the runner, not from the spec). A `path` is a "
                 "relative folder of the GitOps repository without `..`.",
                 "toolchain:\n  gpc:\n    path: tools/gpc"),
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
    # GPC270-279: scaling and resources (workers, autoscaling, requests, per-environment switches).
    "GPC270": _e("request above limit", "A workload's `resources.requests` asks for more cpu or memory than its "
                 "limit (`resources.cpu` / `resources.memory`, after environment overrides). Kubernetes refuses "
                 "such a pod; requests are what the scheduler reserves and must not exceed the limits.",
                 "resources:\n  cpu: 500m\n  memory: 512Mi\n  requests: {cpu: 100m, memory: 256Mi}"),
    "GPC271": _e("worker probe is not one check", "A worker's `probe` names both `exec` and `tcp_port`, or "
                 "neither. Kubernetes runs one handler per probe: a command whose exit code says healthy, or a "
                 "TCP port that accepts connections.",
                 "probe:\n  exec: [/app/healthcheck]"),
    "GPC272": _e("pod count owned twice", "A service or worker with `autoscale` also sets `replicas` (on the "
                 "workload or in an environment override). The autoscaler owns the number of pods; a `replicas` "
                 "that gpc wrote into the Deployment would be reset by every sync and fight the autoscaler, so "
                 "gpc sets none.", "checkout:\n  type: service\n  autoscale: {min_replicas: 2, max_replicas: 10}"),
    "GPC273": _e("autoscaling bounds invalid", "`min_replicas` is above `max_replicas`, `max_replicas` is 0, "
                 "`min_replicas` is 0 for a workload that scales on CPU or memory (a HorizontalPodAutoscaler "
                 "cannot wake a workload from zero: only a queue-depth trigger can), or a workload scales on a "
                 "queue and on CPU or memory at once.",
                 "autoscale: {min_replicas: 0, max_replicas: 5, queue: orders}"),
    "GPC274": _e("autoscale queue not consumed", "`autoscale.queue` names the alias of a `uses` entry that "
                 "consumes a queue: KEDA reads that queue's depth with the workload's own broker user, whose "
                 "permissions cover only the queues it declared.",
                 "uses:\n  orders: {queue: orders, access: consume}\nautoscale: {max_replicas: 5, queue: orders}"),
    "GPC275": _e("autoscale override without autoscale", "An environment overrides `autoscale` of a workload "
                 "that does not autoscale (or of a job, which never does). The override only adjusts bounds and "
                 "targets of the workload's own `autoscale`.",
                 "workloads:\n  web: {type: service, autoscale: {max_replicas: 4}}\nenvironments:\n  prod:\n"
                 "    overrides: {workloads: {web: {autoscale: {max_replicas: 12}}}}"),
    "GPC277": _e("uses a workload switched off", "A workload enabled in an environment uses a service that an "
                 "override switches off there (`enabled: false`). The service has no objects in that environment, "
                 "so its `<ALIAS>_URL` would point at nothing and its NetworkPolicy would admit nobody.",
                 "environments:\n  dev:\n    overrides:\n      workloads:\n        gpu-report: {enabled: false}\n"
                 "        dashboard: {enabled: false}"),
    "GPC278": _e("workload switched off everywhere", "Every environment switches the workload off (`enabled: "
                 "false`): it would compile to nothing. Remove it from the spec, or enable it somewhere.",
                 "environments:\n  dev:\n    overrides: {workloads: {nightly: {enabled: false}}}\n  prod: {}"),
    "GPC276": _e("autoscaling beyond the quota", "`max_replicas` times one pod's resources (the limits, or the "
                 "CPU request without a CPU limit: what the namespace quota counts), or `max_replicas` itself, "
                 "is more than the namespace's quota. The quota would refuse the pods the autoscaler asks for "
                 "exactly when the load needs them.",
                 "guardrails:\n  quotas: {services: {cpu: \"4\", memory: 4Gi}}\nworkloads:\n  web:\n"
                 "    resources: {cpu: 500m, memory: 512Mi}\n    autoscale: {max_replicas: 8}"),
    # -- GPC280-289: observability (monitoring, metrics, objectives) --------------------------------
    "GPC280": _e("Prometheus selected by a label gpc sets per workload", "`monitoring.prometheus.selector` "
                 "names a label (`app.kubernetes.io/instance`, `name` or `component`) that gpc sets to a different "
                 "value on each workload's objects (Argo CD's tracking label, the workload's name, its type), "
                 "so the Prometheus would select at most one workload's monitors and rules and silently ignore "
                 "the rest.", "monitoring:\n  prometheus:\n    selector: {release: monitoring}"),
    "GPC281": _e("metrics on a job", "A job's runs are short-lived: Prometheus would scrape them seldom or never. "
                 "gpc alerts on its runs (failed, late, over time, unscheduled) from kube-state-metrics.", "fraud-trainer:\n  type: job\n  schedule: \"0 */6 * * *\""),
    "GPC282": _e("worker metrics without a port", "A worker serves no HTTP and has no port of its own, so its "
                 "`metrics` must say which port its metrics endpoint listens on.",
                 "fulfil:\n  type: worker\n  metrics: {port: 9090}"),
    "GPC283": _e("pod labels of an installed Prometheus", "With `install: true` gpc installs the Prometheus "
                 "(kube-prometheus-stack), whose pods carry the labels the Prometheus Operator gives them "
                 "(`app.kubernetes.io/name: prometheus`): other `pod_labels` would admit no pod to the metrics "
                 "ports.", "monitoring:\n  install: true\n  prometheus:\n    selector: {release: monitoring}"),
    "GPC284": _e("monitoring installed twice in one cluster", "Two environments on the same cluster both set "
                 "`install: true`: their two kube-prometheus-stack releases would install the same CRDs, "
                 "cluster roles and webhooks. Install it in one; the other names that Prometheus.",
                 "dev:\n  monitoring: {install: true}\nstaging:\n  monitoring: {}  # the Prometheus dev installs"),
    "GPC285": _e("installed Prometheus selecting by other labels", "With `install: true` the Prometheus "
                 "must select gpc's monitors and rules and the chart's own (kube-state-metrics, which the job and "
                 "replica alerts read): those carry the label `release: <Helm release>`, so the selector is that "
                 "one label, and gpc names the release after its value.",
                 "monitoring:\n  install: true\n  prometheus:\n    selector: {release: monitoring}"),
    "GPC286": _e("queue age alert that cannot fire", "A queue's `max_age` raises an alert when its oldest "
                 "message has waited that long, but its `message_ttl` expires every message sooner (to the "
                 "dead-letter queue, or dropped): no message ever gets that old, and the alert would never fire.",
                 "queues:\n  orders: {message_ttl: 1h, max_age: 15m}"),
    # -- GPC250-259: the platform's edges (exposure, admitted callers, egress) ----------------------
    "GPC250": _e("hostname claimed twice", "A hostname routes to one workload in an environment: two workloads "
                 "(or one workload twice) claim it, and the gateway would pick one of them arbitrarily.",
                 "workloads:\n  shop:\n    expose: {hosts: [shop.example.com]}\n  api:\n"
                 "    expose: {hosts: [api.example.com]}"),
    "GPC251": _e("paths collide", "An exposed workload lists the same path prefix twice (`/api` and `/api/` "
                 "are the same prefix: they match per path segment).", "expose:\n  paths: [/, /api]"),
    "GPC252": _e("nothing to expose or admit", "`expose` and `admit` open a workload's port; only a service "
                 "has one.", "workloads:\n  shop:\n    type: service\n    port: 8080\n    expose: {}"),
    "GPC253": _e("invalid hostname", "Hostnames are DNS names: lowercase letters, digits and '-' in labels of at "
                 "most 63 characters, separated by dots, at most 253 characters, not an IP address. Egress "
                 "hosts may start with `*.` for every subdomain.", "expose:\n  hosts: [shop.example.com]"),
    "GPC254": _e("TLS without an issuer", "An exposed workload serves HTTPS and gpc terminates TLS for it "
                 "(a Gateway gpc creates, or an Ingress), but the environment names no cert-manager issuer.",
                 "environments:\n  prod:\n    exposure:\n      domain: shop.example.com\n"
                 "      tls: {issuer: letsencrypt, kind: ClusterIssuer}"),
    "GPC255": _e("egress to a hostname needs FQDN policies", "Standard NetworkPolicies match addresses, not "
                 "names. Egress to a hostname is enforced only by a CNI with FQDN policies: declare "
                 "`network.cni: cilium` for environments running Cilium, or declare the destination's CIDR.",
                 "environments:\n  prod:\n    network: {cni: cilium, pod_cidrs: [10.244.0.0/16], "
                 "service_cidrs: [10.96.0.0/12]}"),
    "GPC256": _e("invalid or in-cluster CIDR", "An egress or cluster range is not a CIDR in network form, or an "
                 "egress CIDR lies inside the cluster's pod or Service ranges: pods and Services are reached "
                 "through `uses` and `admit`, not by address.", "egress:\n  - {cidr: 192.0.2.0/24, ports: [443]}"),
    "GPC257": _e("cluster ranges not declared", "Egress CIDRs exclude the cluster's pod and Service ranges, so "
                 "that an address block never opens a path to pods. The environment must declare them.",
                 "environments:\n  prod:\n    network: {pod_cidrs: [10.244.0.0/16], service_cidrs: [10.96.0.0/12]}"),
    "GPC258": _e("exposure not configured", "A workload is exposed in an environment that cannot serve it: "
                 "the environment has no `exposure`, no hostname can be derived (neither `hosts` nor "
                 "`exposure.domain`), or gpc cannot know which pods forward public traffic (`exposure.proxy`), "
                 "or a Gateway gpc creates has no `class_name`.",
                 "environments:\n  prod:\n    exposure:\n      domain: shop.example.com\n"
                 "      gateway: {class_name: eg}\n      tls: {issuer: letsencrypt}"),
    "GPC260": _e("database without exactly one owner", "Each database has exactly one workload with `access: "
                 "owner`: its role owns the schema and runs the migrations, and every other role's privileges "
                 "are granted on the tables it creates. No owner means nobody can create a table; two owners "
                 "would race each other's migrations.",
                 "workloads:\n  checkout:\n    uses:\n      db: {database: payments, access: owner}\n"
                 "  reports:\n    uses:\n      db: {database: payments, access: read}"),
    "GPC261": _e("database over the guardrails", "A database (or its size in an environment) asks for more "
                 "storage or instances than `guardrails.databases` allows.",
                 "storage:\n  databases:\n    payments:\n      storage: 20Gi\n"
                 "guardrails:\n  databases: {max_storage: 100Gi, max_instances: 3}"),
    "GPC262": _e("unsupported PostgreSQL version", "gpc runs PostgreSQL 14 to 17 (the majors CloudNativePG "
                 "1.27 supports and the PostgreSQL community still maintains).",
                 "storage:\n  databases:\n    payments: {version: 17}"),
    "GPC263": _e("more than one database", "A workload uses at most one database: `DATABASE_URL` and the "
                 "libpq variables (`PGHOST`, `PGUSER`, ...) name one. Two uses of the same database with two "
                 "accesses would also widen a reader to the wider access.",
                 "workloads:\n  checkout:\n    uses:\n      db: {database: payments, access: write}"),
    "GPC264": _e("migration without ownership", "`migrate` runs schema changes, which only the owner's role may "
                 "make: it belongs on the use with `access: owner`.",
                 "uses:\n  db: {database: payments, access: owner, migrate: [python, -m, migrate]}"),
    "GPC265": _e("database sized for an unknown environment", "A key of a database's `environments` is not an "
                 "environment of the spec, so that size would apply nowhere.",
                 "storage:\n  databases:\n    payments:\n      environments:\n        prod: {instances: 3}"),
    "GPC266": _e("invalid backup schedule", "A database's `backup.schedule` is a five-field cron schedule "
                 "(minute hour day-of-month month day-of-week, UTC) or an @-macro, as for CronJobs. gpc adds the "
                 "seconds field CloudNativePG's ScheduledBackup wants (it reads `0 3 * * *` as every hour at "
                 "minute 3, second 0).",
                 "storage:\n  databases:\n    payments:\n      environments:\n        prod:\n"
                 "          backup: {schedule: \"0 3 * * *\", retention: 14d}"),
    "GPC267": _e("invalid backup retention", "A database's `backup.retention` is how long CloudNativePG keeps "
                 "base backups and WAL: a whole positive number of days, weeks or months (`14d`, `4w`, `6m`).",
                 "storage:\n  databases:\n    payments:\n      environments:\n        prod:\n"
                 "          backup: {schedule: \"0 3 * * *\", retention: 4w}"),
    "GPC268": _e("backups without an object store", "Backups go to the environment's own object store, which "
                 "gpc installs for `storage.buckets`; a platform without buckets has none.",
                 "storage:\n  buckets:\n    models: {}\n  databases:\n    payments:\n      environments:\n"
                 "        prod:\n          backup: {schedule: \"0 3 * * *\"}"),
    "GPC269": _e("backup bucket name unusable", "A database's backups go to the bucket `<database>-backups`, its "
                 "own; a declared bucket of that name would mix them with a workload's objects, and a bucket name "
                 "has at most 63 characters.",
                 "storage:\n  buckets:\n    payments-archive: {}\n  databases:\n    payments:\n"
                 "      environments:\n        prod:\n          backup: {schedule: \"0 3 * * *\"}"),
    # -- GPC290-299: previews per pull request (compiler/semantic_preview.py) ------------------
    "GPC290": _e("previews copy an unknown environment", "`previews.from` names the environment a preview "
                 "copies and whose cluster runs it; it must be a key of `environments`.",
                 "environments:\n  dev: {}\npreviews:\n  from: dev"),
    "GPC291": _e("invalid preview duration", "`previews.ttl` and `previews.requeue_after` are durations in days, "
                 "hours, minutes (`3d`, `72h`, `5m`). A preview lives from 1h (the janitor runs hourly) to 30d "
                 "(longer is an environment, not a preview); Argo CD asks GitHub for pull requests every "
                 "30s to 24h.", "previews:\n  from: dev\n  ttl: 72h\n  requeue_after: 5m"),
    "GPC292": _e("preview count out of range", "`previews.max` is how many previews of one repository may "
                 "exist at once: at least 1 (0 would be no previews: remove the block), at most 50.",
                 "previews:\n  from: dev\n  max: 5"),
    "GPC293": _e("preview quota too small", "A preview runs one replica of every workload of `from`, one run of "
                 "each job, a run of each migration and its own broker, object store and database instances "
                 "(250m CPU and 512Mi each); its quota must hold all of that at once, or the preview never becomes healthy.",
                 "previews:\n  from: dev\n  quota: {cpu: \"4\", memory: 8Gi, pods: 30}"),
    "GPC294": _e("preview quota over the guardrails", "A preview may not get more than the environment it "
                 "copies is allowed: its quota is at most the sum of `guardrails.quotas` of the services and "
                 "jobs namespaces, for each resource both declare.",
                 "guardrails:\n  quotas:\n    services: {cpu: \"4\"}\n    jobs: {cpu: \"4\"}\n"
                 "previews:\n  from: dev\n  quota: {cpu: \"8\"}"),
    "GPC295": _e("invalid preview quota", "`previews.quota.cpu` and `memory` are Kubernetes quantities "
                 "above zero, `pods` a whole number of at least 1.",
                 "previews:\n  from: dev\n  quota: {cpu: 2500m, memory: 6Gi, pods: 20}"),
    "GPC296": _e("previews for forks", "A fork's `pull_request` run gets a read-only token and no secrets, so "
                 "it cannot push the preview image; the only way around it, `pull_request_target`, runs the "
                 "fork's code with the base repository's secrets. gpc does neither: forks get no preview.",
                 "previews:\n  from: dev\n  allow: {forks: false}"),
    "GPC297": _e("invalid preview label", "`previews.label` is the GitHub label that asks for a preview; CI "
                 "adds `<label>-ready` once the image is pushed. GitHub label names are at most 50 characters "
                 "(44 here, with the suffix), and Argo CD's filter cannot match a label with a comma.",
                 "previews:\n  from: dev\n  label: preview"),
    "GPC298": _e("nothing to preview", "A preview starts from a pull request on a workload's repository; no "
                 "workload names its `repo`.", "workloads:\n  api:\n    repo: acme/api"),
    "GPC299": _e("previews of databases on a shared cluster", "A preview's databases are CloudNativePG "
                 "Clusters in the preview's namespace, run by the operator of the environment it copies, which "
                 "then watches every namespace of its cluster. Another environment on that cluster runs an "
                 "operator of its own for its databases: both would reconcile them. So a platform with "
                 "`storage.databases` offers previews only of an environment alone on its cluster.",
                 "environments:\n  dev: {cluster: https://dev.k8s.example}\n"
                 "  prod: {cluster: https://prod.k8s.example}\npreviews:\n  from: dev"),
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
    "GPC342": _e("policy name too long", "Kyverno policies are named `<platform name>-<rule>` (an image's "
                 "signature policy `<platform name>-verify-image-<workload>`); Kyverno labels its policy reports "
                 "with that name, which may be at most 63 characters.",
                 "name: fraud"),
    "GPC343": _e("image is not a plain reference", "The cluster policies admit a workload's image by its "
                 "repository name (a registry host, an optional port and a lowercase path, without a tag), "
                 "matched as a glob by the signature policy; anything else could match other images or none.",
                 "workloads:\n  api:\n    image: ghcr.io/acme/api"),
    "GPC344": _w("image admitted unverified", "Kyverno admits a workload's image only when the delivery "
                 "workflow of the workload's `repo` signed it (cosign keyless, on the default branch). A "
                 "workload without `repo` has no such workflow: its image runs unverified.",
                 "workloads:\n  api:\n    repo: acme/api"),
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
    "GPC383": _e("too many gateway listeners", "gpc creates the environment's Gateway with one HTTP listener and "
                 "one HTTPS listener per TLS hostname of its exposed workloads, and the Gateway API allows at most "
                 "64 listeners on one Gateway: the API server would refuse it.",
                 "environments:\n  prod:\n    exposure:\n      domain: shop.example.com\n"
                 "      gateway: {name: shared, namespace: gateways, create: false}   # wildcard listener"),
    # -- GPC4xx: the compiled tree ----------------------------------------------------------
    "GPC401": _e("compiled tree not at gitops.path", "`gitops.path` is where Argo CD and the platform CI read "
                 "the compiled tree, and `gpc compile` writes it to `OUT/<spec file stem>/`. Without `-o`, OUT "
                 "is the parent of `gitops.path` in the repository gpc runs in; with `-o`, the tree must land "
                 "at `gitops.path` inside the git repository that holds OUT, and `gitops.path` must end with "
                 "the spec file's stem. Otherwise the cluster would deploy a folder gpc never writes.",
                 "# specs/fraud.yaml, compiled with `gpc compile specs/fraud.yaml -o build/gitops`\n"
                 "gitops:\n  repo: https://github.com/acme/platform-gitops.git\n  path: build/gitops/fraud"),
    "GPC402": _w("image_tag is not the deployed tag", "After the first compile, the image tag of each "
                 "environment lives in a file the workload's CI owns (`kustomize/<workload>/overlays/<env>/"
                 "image/kustomization.yaml` in the tree); gpc never rewrites it, so a different `image_tag` "
                 "in the spec changes nothing. Change the deployed tag in that file (or let CI bump it); "
                 "`image_tag` only seeds environments compiled for the first time.",
                 "workloads:\n  checkout:\n    type: service\n    port: 8080   # no image_tag: CI owns the tag"),
}
