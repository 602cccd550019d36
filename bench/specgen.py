"""A deterministic generator of realistic gpc specs with N workloads.

    .venv/bin/python bench/specgen.py N [-o FILE]

The same N always gives the same bytes. Workloads come in groups of ten that share a domain
(`payments-3-api`, `payments-3-ingest`, ...). Over every twenty workloads: 12 services (60%),
5 cron jobs (25%, every fourth of them asks for a GPU) and 3 one-off jobs (15%). Each group
declares its own queues, buckets, volumes and a PostgreSQL database, used in producer/consumer,
writer/reader and owner/reader pairs, so the spec passes `gpc validate` with zero diagnostics.
Per group the api has an SLO, the gateway and web are public (routes through each environment's
gateway) and the gateway admits Prometheus, the ingest job has an egress rule. Three
environments (dev, staging, prod), all with exposure and monitoring, carry overrides for 45% of
the workloads. The guardrails admit everything the generator asks for.

`build(n)` returns the spec as plain data; `bench/kapitan_project.py` reads the same data to
build the equivalent Kapitan inventory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

PLATFORM = "bench"
REGISTRY = "ghcr.io/acme"
ENVIRONMENTS = ("dev", "staging", "prod")

DOMAINS = (
    "payments", "search", "ranking", "fraud", "catalog", "checkout", "billing", "identity",
    "shipping", "pricing", "reviews", "inventory", "ledger", "alerts", "media", "maps",
    "orders", "support", "growth", "risk",
)

# Two group shapes alternate so that every 20 workloads hold 12 services, 5 cron jobs, 3 jobs.
# (slot role, kind) where kind is S (service), C (cron job) or J (one-off job).
GROUP_A = (("api", "S"), ("gateway", "S"), ("ingest", "C"), ("web", "S"), ("backfill", "J"),
           ("search", "S"), ("trainer", "C"), ("scorer", "S"), ("notify", "S"), ("report", "C"))
GROUP_B = (("api", "S"), ("gateway", "S"), ("ingest", "C"), ("web", "S"), ("backfill", "J"),
           ("search", "S"), ("worker", "S"), ("migrate", "J"), ("notify", "S"), ("report", "C"))
GROUP_SIZE = len(GROUP_A)

EVENT_SCHEMA = {
    "type": "object",
    "required": ["id", "kind", "at"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 64},
        "kind": {"type": "string", "enum": ["created", "updated", "deleted"]},
        "amount": {"type": "number", "minimum": 0},
        "at": {"type": "string", "format": "date-time"},
    },
}


def _kinds() -> tuple[int, int, int]:
    both = GROUP_A + GROUP_B
    return tuple(sum(k == kind for _, k in both) for kind in "SCJ")  # type: ignore[return-value]


assert _kinds() == (12, 5, 3), _kinds()


def _group_name(g: int) -> str:
    return f"{DOMAINS[g % len(DOMAINS)]}-{g // len(DOMAINS)}"


def _exposure(domain: str, issuer: str) -> dict[str, Any]:
    # An existing Gateway with a wildcard certificate: one that gpc creates has a listener per TLS
    # hostname, and a Gateway holds at most 64 (GPC383), fewer than 200 public workloads need.
    return {"domain": domain, "gateway": {"name": "public", "namespace": "gateways", "create": False},
            "proxy": {"namespace": "gateways", "pods": {"app.kubernetes.io/name": "envoy"}},
            "tls": {"issuer": f"letsencrypt-{issuer}"}}


def build(n: int) -> dict[str, Any]:
    """The spec of N workloads as plain data (insertion order is the order written)."""
    if n < 1:
        raise ValueError("N must be at least 1")
    workloads: dict[str, dict[str, Any]] = {}
    buckets: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    queues: dict[str, Any] = {}
    databases: dict[str, Any] = {}
    overrides: dict[str, dict[str, Any]] = {env: {} for env in ENVIRONMENTS}
    cron_count = 0
    for g in range((n + GROUP_SIZE - 1) // GROUP_SIZE):
        shape = GROUP_A if g % 2 == 0 else GROUP_B
        size = min(GROUP_SIZE, n - g * GROUP_SIZE)
        group = _group_name(g)
        slots: dict[int, tuple[str, str]] = {}
        for slot in range(size):
            role, kind = shape[slot]
            name = f"{group}-{role}"
            slots[slot] = (name, kind)
            w: dict[str, Any]
            if kind == "S":
                w = {
                    "type": "service",
                    "description": f"The {role} service of {group}.",
                    "repo": f"acme/{name}",
                    "image_tag": f"1.{g % 7}.{slot}",
                    "port": 8080 if slot % 2 == 0 else 8000,
                    "replicas": 2 if slot in (0, 1) else 1,
                    "health": {"path": "/healthz", "readiness_path": "/readyz"},
                    "env": {"LOG_LEVEL": "info"},
                }
                if slot in (0, 5):
                    w["resources"] = {"cpu": "500m", "memory": "512Mi"}
                if slot == 0:
                    w["secrets"] = ["API_TOKEN"]
            else:
                w = {
                    "type": "job",
                    "description": f"The {role} job of {group}.",
                    "repo": f"acme/{name}",
                    "image_tag": f"2.{g % 5}.{slot}",
                }
                if kind == "C":
                    gpu = cron_count % 4 == 0
                    cron_count += 1
                    w["schedule"] = f"{(g * 7 + slot) % 60} */{1 + (g + slot) % 6} * * *"
                    w["retries"] = 2
                    w["timeout"] = "2h" if gpu else "30m"
                    if gpu:
                        w["resources"] = {"cpu": "4", "memory": "16Gi", "gpu": 1}
                else:
                    w["command"] = ["python", "-m", f"{role}.main"]
                    w["args"] = ["--batch-size", "500"]
                    w["retries"] = 1
                    w["timeout"] = "1h"
                    w["resources"] = {"cpu": "2", "memory": "4Gi"}
                w["env"] = {"LOG_LEVEL": "info", "BATCH_SIZE": "500"}
            w["uses"] = {}
            workloads[name] = w

        def use(slot: int, alias: str, entry: dict[str, Any], slots: dict[int, tuple[str, str]] = slots) -> None:
            workloads[slots[slot][0]]["uses"][alias] = entry

        def have(*wanted: int, slots: dict[int, tuple[str, str]] = slots) -> bool:
            return all(s in slots for s in wanted)

        if have(0, 2):  # the api publishes events; the ingest cron job consumes them
            q = f"{group}-events"
            queues[q] = {"description": f"Events of {group}.", "dead_letter": True, "message_schema": EVENT_SCHEMA}
            use(0, "events", {"queue": q, "access": "publish"})
            use(2, "events", {"queue": q, "access": "consume"})
        if have(2, 5):  # ingest publishes results; search consumes them
            q = f"{group}-results"
            queues[q] = {"description": f"Ingest results of {group}."}
            use(2, "results", {"queue": q, "access": "publish"})
            use(5, "results", {"queue": q, "access": "consume"})
        if have(2, 3):  # ingest writes the data bucket; web and notify read it
            b = f"{group}-data"
            buckets[b] = {"description": f"Raw data of {group}.", "versioning": False}
            use(2, "data", {"bucket": b, "access": "write"})
            use(3, "data", {"bucket": b, "access": "read"})
            if have(8):
                use(8, "data", {"bucket": b, "access": "read"})
        if have(4, 5):  # backfill and search both read and write the index bucket
            b = f"{group}-index"
            buckets[b] = {"versioning": True}
            use(4, "index", {"bucket": b, "access": "readwrite"})
            use(5, "index", {"bucket": b, "access": "readwrite"})
        if have(4):  # one job, one ReadWriteOnce scratch volume
            v = f"{group}-scratch"
            volumes[v] = {"size": "10Gi", "access_mode": "ReadWriteOnce"}
            use(4, "scratch", {"volume": v, "mount": "/scratch"})
        if have(3, 8):  # two services share a ReadWriteMany cache
            v = f"{group}-cache"
            volumes[v] = {"size": "2Gi", "access_mode": "ReadWriteMany", "storage_class": "shared"}
            use(3, "cache", {"volume": v, "mount": "/var/cache/app"})
            use(8, "cache", {"volume": v, "mount": "/var/cache/app", "read_only": True})
        if have(0, 5):  # the api owns the group's database (and migrates it); search reads it
            d = f"{group}-db"
            databases[d] = {"description": f"The records of {group}.", "version": 17, "storage": "1Gi"}
            use(0, "records", {"database": d, "access": "owner", "migrate": ["python", "-m", "api.migrate"]})
            use(5, "records", {"database": d, "access": "read"})
        if have(0):  # the api has an objective: burn-rate alerts where monitoring is on
            workloads[slots[0][0]]["slo"] = {"target": 99.9, "window": "30d"}
        if have(1):  # the gateway is public under /api, and admits the monitoring namespace's scraper
            workloads[slots[1][0]]["expose"] = {"paths": ["/api"]}
            workloads[slots[1][0]]["admit"] = [{"namespace": "monitoring", "pods": {"app.kubernetes.io/name": "prometheus"},
                                               "description": "Prometheus scrapes /metrics."}]
        if have(3):  # web is public on every path
            workloads[slots[3][0]]["expose"] = {}
        if have(2):  # ingest fetches from a partner network
            workloads[slots[2][0]]["egress"] = [{"cidr": "192.0.2.0/28", "ports": [443],
                                                 "description": "The partner's export endpoint."}]
        if have(1, 0):  # the gateway calls the api and search; web calls the gateway
            use(1, "api", {"service": slots[0][0]})
            if have(5):
                use(1, "search", {"service": slots[5][0]})
            if have(3):
                use(3, "gateway", {"service": slots[1][0]})

        # Four or five of every ten workloads change in some environment.
        if have(0):
            overrides["dev"][slots[0][0]] = {"env": {"LOG_LEVEL": "debug"}}
            overrides["prod"][slots[0][0]] = {"replicas": 4, "resources": {"cpu": "1", "memory": "1Gi"}}
        if have(1):
            overrides["prod"][slots[1][0]] = {"replicas": 3}
        if have(2):
            overrides["staging"][slots[2][0]] = {"schedule": "15 3 * * *"}
        if have(3):
            overrides["staging"][slots[3][0]] = {"env": {"LOG_LEVEL": "debug", "FEATURE_PREVIEW": "true"}}
        if have(6) and slots[6][1] == "C":
            overrides["prod"][slots[6][0]] = {"resources": {"gpu": 2, "memory": "24Gi"}}
    for w in workloads.values():
        if not w["uses"]:
            del w["uses"]

    environments: dict[str, Any] = {
        "dev": {"cluster": "https://kubernetes.default.svc", "exposure": _exposure("dev.bench.acme.example", "staging"),
                "monitoring": {"alerts": "none"}},
        "staging": {"cluster": "https://staging.k8s.acme.example", "namespace_prefix": "bench-stg",
                    "exposure": _exposure("staging.bench.acme.example", "staging"), "monitoring": {}},
        "prod": {"cluster": "https://prod.k8s.acme.example", "auto_sync": False,
                 "exposure": _exposure("bench.acme.example", "prod"), "monitoring": {}},
    }
    for env in ENVIRONMENTS:  # egress rules need the cluster's own ranges (to exclude them)
        environments[env]["network"] = {"pod_cidrs": ["10.244.0.0/16"], "service_cidrs": ["10.96.0.0/12"]}
        if overrides[env]:
            environments[env]["overrides"] = {"workloads": overrides[env]}
    return {
        "version": 1,
        "name": PLATFORM,
        "description": f"A generated platform of {n} workloads for gpc's benchmarks.",
        "registry": REGISTRY,
        "kubernetes_version": "1.35",
        "gitops": {"repo": "https://github.com/acme/platform-gitops.git", "branch": "main"},
        "environments": environments,
        "storage": {"databases": databases, "buckets": buckets, "volumes": volumes},
        "messaging": {"queues": queues},
        "guardrails": {
            "max": {
                "service": {"cpu": "2", "memory": "4Gi"},
                "job": {"cpu": "8", "memory": "32Gi", "gpu": 2},
            },
            "defaults": {
                "service": {"cpu": "250m", "memory": "256Mi"},
                "job": {"cpu": "1", "memory": "2Gi"},
            },
            "quotas": {
                "services": {"cpu": "4000", "memory": "8000Gi", "pods": 50000},
                "jobs": {"cpu": "4000", "memory": "16000Gi", "gpu": 1000, "pods": 20000},
            },
            "allowed_registries": [REGISTRY],
        },
        "workloads": workloads,
    }


def render(n: int) -> str:
    """The spec of N workloads as YAML text, the way a person would lay it out."""
    body = yaml.safe_dump(build(n), sort_keys=False, default_flow_style=False, width=120, allow_unicode=True)
    head = (f"# Generated by bench/specgen.py for N={n}: {n} workloads, 3 environments.\n"
            "# Deterministic: the same N always gives these bytes.\n")
    return head + body


def render_split(n: int, files: int = 50) -> dict[str, str]:
    """The same platform as `render(n)` split into `files` team files (`teams/team-NN.yaml`, each
    owning whole groups of ten workloads with their queues, buckets and volumes) and a root spec
    that includes them: the layout of an organisation whose teams own their part."""
    spec = build(n)
    tables = (("workloads",), ("messaging", "queues"), ("storage", "buckets"), ("storage", "volumes"))
    parts: list[dict[str, Any]] = [{"team": f"team-{i:02}"} for i in range(files)]
    groups = sorted({name.rsplit("-", 1)[0] for name in spec["workloads"]})
    owner = {group: i * files // max(len(groups), 1) for i, group in enumerate(groups)}
    for table in tables:
        source = spec
        for key in table:
            source = source.get(key, {})
        for name in list(source):
            group = next((g for g in groups if name.startswith(g + "-") or name == g), None)
            part = parts[owner[group] if group is not None else 0]
            for key in table[:-1]:
                part = part.setdefault(key, {})
            part.setdefault(table[-1], {})[name] = source.pop(name)
    spec["teams"] = {part["team"]: {} for part in parts}
    spec["include"] = ["teams/*.yaml"]
    dump = lambda data: yaml.safe_dump(data, sort_keys=False, width=120, allow_unicode=True)  # noqa: E731
    out = {"platform.yaml": dump(spec)}
    out |= {f"teams/{part['team']}.yaml": dump(part) for part in parts}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of workloads")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    args = parser.parse_args(argv)
    text = render(args.n)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
