"""Build the Kapitan project that does the work of gpc's kustomize target for the same generated spec.

    .venv/bin/python bench/kapitan_project.py N DIR

Layout (as in shared/research/perf-anchors.md): `inventory/classes/common.yml` (platform, registry,
the SLO burn windows), one `env.<name>` class per environment (its namespaces, domain and the
platform-wide lists of that environment: clients of the broker, object store, Pushgateway and
each database, the queues, the workloads of the environment dashboard), one `components.<workload>`
class per workload holding its parameters and its own compile items, a `platform` class whose
compile items render each environment's shared objects, and one target per environment that
includes every class and overrides what the spec's environments override (replicas, resources,
schedule, env). Reclass references (`${env:services_namespace}`) put each environment's values in.

The templates in `bench/kapitan/templates/` render, per environment, the kinds gpc's kustomize
target writes for the same workload (`kapitan_kinds()` lists them; bench/test_bench.py checks
them against gpc's output): Deployment, Service, PodDisruptionBudget (replicas > 1), the message
contract ConfigMap, NetworkPolicy, ServiceMonitor, PrometheusRule (SLO burn rates, replica and
crash alerts; job failure, timeout, GPU and missed-schedule alerts), a Grafana dashboard ConfigMap
(JSON rendered by Jinja2), HTTPRoute, the migration Job and its NetworkPolicy, Job or CronJob, a
kustomization and its image Component; per environment the namespaces' and infrastructure's
NetworkPolicies, the environment dashboard, AlertmanagerConfigs, the broker's PodMonitor, the
Pushgateway's ServiceMonitor, a PrometheusRule per queue, and a CloudNativePG Cluster per
database. A Kapitan user renders each environment's manifests whole, so where gpc writes a base
once and a patch per environment, Kapitan writes the whole manifest per environment.

The wiring contract (environment variables, Secret references, egress to the broker, the object
store, databases and called services, ingress from callers, the gateway and Prometheus) is
written into the inventory here, by hand as a Kapitan user would, from the same data gpc reads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import specgen

TEMPLATES = Path(__file__).resolve().parent / "kapitan" / "templates"
DEFAULT_RESOURCES = {"service": {"cpu": "100m", "memory": "128Mi"}, "job": {"cpu": "500m", "memory": "512Mi"}}
# (severity, long window, short window, budget share spent, for): the multiwindow burn-rate pairs.
BURN_WINDOWS = (("page", "1h", "5m", 0.02, "2m"), ("page", "6h", "30m", 0.05, "15m"),
                ("ticket", "1d", "2h", 0.1, "1h"), ("ticket", "3d", "6h", 0.1, "3h"))
HOURS = {"1h": 1, "6h": 6, "1d": 24, "3d": 72}
DEFAULT_SLO = {"target": 99.5, "window": "30d"}
PROMETHEUS = {"namespace": "monitoring", "pods": {"app.kubernetes.io/name": "prometheus"}}
PUSHGATEWAY_PODS = {"app.kubernetes.io/instance": "pushgateway", "app.kubernetes.io/name": "prometheus-pushgateway"}
PLATFORM_FILES = ("infra", "jobs", "services", "monitoring", "kustomization")


def _seconds(duration: str | None) -> int | None:
    if not duration:
        return None
    total, number = 0, ""
    for ch in duration:
        if ch.isdigit():
            number += ch
        else:
            total += int(number) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[ch]
            number = ""
    return total


def _human(seconds: int) -> str:
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{n}{unit}" for n, unit in ((d, "d"), (h, "h"), (m, "m"), (s, "s")) if n) or "0s"


def _cron_gap(schedule: str) -> int:
    """The longest gap of the generator's schedules (`M */H * * *` or `M H * * *`)."""
    hour = schedule.split()[1]
    return int(hour[2:]) * 3600 if hour.startswith("*/") else 86400


def _prefix(alias: str) -> str:
    return alias.upper().replace("-", "_")


def _namespace_ref(wtype: str) -> str:
    return "${env:services_namespace}" if wtype == "service" else "${env:jobs_namespace}"


def _to(namespace: str, pods: dict[str, str], ports: list[int]) -> dict[str, Any]:
    return {"namespace": namespace, "pods": pods, "ports": ports}


def _uid(*parts: str) -> str:
    return "gpc-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


def component(spec: dict[str, Any], name: str, w: dict[str, Any], callers: list[dict[str, Any]]) -> dict[str, Any]:
    """One workload's parameters, as a Kapitan user would write its component class."""
    wtype = w["type"]
    kind = "Deployment" if wtype == "service" else "CronJob" if w.get("schedule") else "Job"
    defaults = spec["guardrails"]["defaults"][wtype]
    res = w.get("resources", {})
    uses = w.get("uses", {})
    queues = spec["messaging"]["queues"]
    infra = "${env:infra_namespace}"
    env: dict[str, dict[str, Any]] = {
        "HOME": {"value": "/tmp"}, "OTEL_SERVICE_NAME": {"value": name},
        "OTEL_RESOURCE_ATTRIBUTES": {"value": f"deployment.environment.name=${{env:name}},service.namespace="
                                              f"{spec['name']},gpc.workload={name}"}}
    egress: list[dict[str, Any]] = []
    ingress: list[dict[str, Any]] = [dict(c) for c in callers]
    creds = f"{name}-credentials"
    panels: list[dict[str, Any]] = []
    schemas: dict[str, str] = {}
    migrate: dict[str, Any] | None = None
    if wtype == "service":
        env["PORT"] = {"value": str(w["port"])}
    else:
        env["PUSHGATEWAY_URL"] = {"value": "http://pushgateway.${env:infra_namespace}.svc.cluster.local:9091"}
    if any("queue" in u for u in uses.values()):
        env["AMQP_URL"] = {"secret": creds, "key": "AMQP_URL"}
        egress.append(_to(infra, {"app.kubernetes.io/name": "rabbitmq"}, [5672]))
    if any("bucket" in u for u in uses.values()):
        env["S3_ENDPOINT"] = {"value": "http://minio.${env:infra_namespace}.svc.cluster.local:9000"}
        env["S3_ACCESS_KEY"] = {"secret": creds, "key": "S3_ACCESS_KEY"}
        env["S3_SECRET_KEY"] = {"secret": creds, "key": "S3_SECRET_KEY"}
        env["S3_FORCE_PATH_STYLE"] = {"value": "true"}
        env["S3_REGION"] = {"value": "us-east-1"}
        egress.append(_to(infra, {"app.kubernetes.io/name": "minio"}, [9000]))
    volumes = []
    for alias, use in sorted(uses.items()):
        prefix = _prefix(alias)
        if "queue" in use:
            queue = queues[use["queue"]]
            env[f"{prefix}_QUEUE"] = {"value": use["queue"]}
            dlq = use["queue"] + ".dlq" if queue.get("dead_letter") else None
            if dlq:
                env[f"{prefix}_DEAD_LETTER_QUEUE"] = {"value": dlq}
            if use.get("access") == "publish":
                env[f"{prefix}_EXCHANGE"] = {"value": use["queue"] + ".exchange"}
            if queue.get("message_schema"):
                key = use["queue"] + ".schema.json"
                schemas[key] = json.dumps(queue["message_schema"], sort_keys=True, separators=(",", ":"))
                env[f"{prefix}_MESSAGE_SCHEMA"] = {"config_map": f"{name}-contract", "key": key}
            panels.append({"alias": alias, "kind": "queue", "target": use["queue"], "access": use["access"],
                           "dlq": dlq})
        elif "bucket" in use:
            env[f"{prefix}_BUCKET"] = {"value": use["bucket"]}
            panels.append({"alias": alias, "kind": "bucket", "target": use["bucket"],
                           "how": f"access `{use['access']}`"})
        elif "volume" in use:
            env[f"{prefix}_PATH"] = {"value": use["mount"]}
            volumes.append({"name": alias, "claim": use["volume"], "mount": use["mount"],
                            "read_only": bool(use.get("read_only", False))})
            panels.append({"alias": alias, "kind": "volume", "target": use["volume"],
                           "how": f"mounted at `{use['mount']}`"})
        elif "database" in use:
            db = use["database"]
            env["DATABASE_URL"] = {"secret": creds, "key": "DATABASE_URL"}
            env["PGPASSWORD"] = {"secret": creds, "key": "PGPASSWORD"}
            env.update(PGDATABASE={"value": db}, PGPORT={"value": "5432"}, PGSSLMODE={"value": "require"},
                       PGUSER={"value": name}, PGHOST={"value": f"{db}-rw.${{env:infra_namespace}}.svc.cluster.local"})
            egress.append(_to(infra, {"cnpg.io/cluster": db}, [5432]))
            panels.append({"alias": alias, "kind": "database", "target": db, "how": f"access `{use['access']}`"})
            if use.get("migrate"):
                migrate = {"command": use["migrate"], "database": db}
        else:
            callee = spec["workloads"][use["service"]]
            env[f"{prefix}_URL"] = {
                "value": f"http://{use['service']}.${{env:services_namespace}}.svc.cluster.local:{callee['port']}"}
            egress.append(_to("${env:services_namespace}", {"app.kubernetes.io/name": use["service"]}, [callee["port"]]))
            panels.append({"alias": alias, "kind": "service", "target": use["service"],
                           "namespace": "${env:services_namespace}"})
    for rule in w.get("egress", []):
        egress.append({"cidr": rule["cidr"], "ports": rule["ports"]})
    if wtype == "job":
        egress.append(_to(infra, PUSHGATEWAY_PODS, [9091]))
    for secret in w.get("secrets", []):
        env[secret] = {"secret": f"{name}-app-secrets", "key": secret}
    for key, value in w.get("env", {}).items():
        env[key] = {"value": value}
    c: dict[str, Any] = {
        "name": name, "type": wtype, "kind": kind, "team": name.rsplit("-", 1)[0],
        "description": w.get("description", ""),
        "namespace": _namespace_ref(wtype),
        "image": w.get("image", f"{spec['registry']}/{name}"),
        "tag": w.get("image_tag", "0.1.0"),
        "cpu": res.get("cpu", defaults.get("cpu", DEFAULT_RESOURCES[wtype]["cpu"])),
        "memory": res.get("memory", defaults.get("memory", DEFAULT_RESOURCES[wtype]["memory"])),
        "gpu": res.get("gpu", 0),
        "env": env, "volumes": volumes, "egress": egress, "panels": panels, "schemas": schemas,
        "secret_refs": sorted({v["secret"] for v in env.values() if "secret" in v}),
        "dashboard_uid": {e: _uid(spec["name"], e, name) for e in spec["environments"]},
    }
    if wtype == "service":
        for admit in w.get("admit", []):
            ingress.append({"namespace": admit["namespace"], "pods": admit["pods"]})
        expose = w.get("expose")
        if expose is not None:
            ingress.append({"namespace": "${env:proxy_namespace}", "pods": {"app.kubernetes.io/name": "envoy"}})
            c["expose"] = {"paths": expose.get("paths", ["/"])}
        ingress.append(dict(PROMETHEUS))
        c.update(port=w["port"], replicas=w.get("replicas", 1), health_path=w["health"]["path"],
                 readiness_path=w["health"].get("readiness_path", w["health"]["path"]), migrate=migrate,
                 pdb=w.get("replicas", 1) > 1)
        slo = w.get("slo") or DEFAULT_SLO  # gpc gives every service an objective
        days = (_seconds(slo["window"]) or 0) // 86400
        budget = round(1 - slo["target"] / 100, 6)
        c["slo"] = {"target": f"{slo['target']:g}", "days": days, "burn": [
            {"severity": sev, "long": long, "short": short, "for": for_,
             "rate": f"{max(1.0, round(spent * days * 24 / HOURS[long], 4)):g}", "budget": f"{budget:g}"}
            for sev, long, short, spent, for_ in BURN_WINDOWS]}
    else:
        timeout = _seconds(w.get("timeout"))
        retries = w.get("retries", 0)
        c.update(schedule=w.get("schedule"), time_zone=w.get("time_zone"), concurrency=w.get("concurrency", "Forbid"),
                 retries=retries, timeout_seconds=timeout, timeout_human=_human(timeout) if timeout else None,
                 ttl_seconds=_seconds(w.get("ttl_after_finished", "1h")), command=w.get("command"),
                 args=w.get("args"), job_deadline=(timeout or 3600) * (retries + 1) + 30 * retries)
        if w.get("schedule"):
            missed = _cron_gap(w["schedule"]) + 3600 + c["job_deadline"]
            c.update(missed_after=missed, missed_human=_human(missed))
    c["ingress"] = ingress
    c["files"] = [Path(f).name.removesuffix(".j2") for f in _files(c)]
    return c


def _files(c: dict[str, Any]) -> list[str]:
    if c["type"] == "service":
        names = ["deployment", "service", *(["poddisruptionbudget"] if c["pdb"] else []), "servicemonitor"]
        if c.get("expose"):
            names.append("httproute")
        if c["migrate"]:
            names += ["migrate-job", "migrate-networkpolicy"]
    else:
        names = ["cronjob" if c["schedule"] else "job"]
    if c["schemas"]:
        names.append("configmap")
    names += ["networkpolicy", "prometheusrule", "dashboard", "kustomization"]
    return [f"templates/{n}.yaml.j2" for n in names]


def _compile_items(c: dict[str, Any]) -> list[dict[str, Any]]:
    params = {"name": c["name"]}
    return [{"output_path": c["name"], "input_type": "jinja2", "input_paths": _files(c), "input_params": params,
             "suffix_remove": True},
            {"output_path": f"{c['name']}/image", "input_type": "jinja2", "input_paths": ["templates/image"],
             "input_params": params, "suffix_remove": True}]


def _override(o: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "replicas" in o:
        out["replicas"] = o["replicas"]
    for key in ("cpu", "memory", "gpu"):
        if key in o.get("resources", {}):
            out[key] = o["resources"][key]
    if "schedule" in o:
        out["schedule"] = o["schedule"]
    if "env" in o:
        out["env"] = {k: {"value": v} for k, v in o["env"].items()}
    return out


def _dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=200), encoding="utf-8")


def _environment(spec: dict[str, Any], env_name: str, components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An environment's class: its namespaces, and the platform-wide lists its shared objects need."""
    env = spec["environments"][env_name]
    prefix = env.get("namespace_prefix") or f"{spec['name']}-{env_name}"
    ns = {"services": f"{prefix}-services", "jobs": f"{prefix}-jobs", "infra": f"{prefix}-infra"}
    exposure = env.get("exposure", {})

    def client(c: dict[str, Any], suffix: str = "") -> dict[str, str]:
        return {"namespace": ns["services" if c["type"] == "service" else "jobs"], "name": c["name"] + suffix}

    uses = {n: spec["workloads"][n].get("uses", {}).values() for n in components}
    databases = {}
    for db, d in spec["storage"].get("databases", {}).items():
        clients = [client(c) for n, c in components.items() if any(u.get("database") == db for u in uses[n])]
        clients += [client(c, "-migrate") for c in components.values() if c.get("migrate") and
                    c["migrate"]["database"] == db]
        databases[db] = {"description": d.get("description", ""), "storage": d.get("storage", "1Gi"),
                         "clients": clients}
    queues = [{"name": q, "dlq": q + ".dlq" if v.get("dead_letter") else None}
              for q, v in spec["messaging"].get("queues", {}).items()]
    return {
        "name": env_name, "cluster": env["cluster"], "services_namespace": ns["services"],
        "jobs_namespace": ns["jobs"], "infra_namespace": ns["infra"], "domain": exposure.get("domain", ""),
        "gateway": exposure.get("gateway", {"name": "public", "namespace": "gateways"}),
        "proxy_namespace": exposure.get("proxy", {}).get("namespace", "gateways"),
        "dashboard_uid": _uid(spec["name"], env_name, "environment"),
        # An environment whose alerts go nowhere marks them so Alertmanager's routes drop them.
        "alert_labels": {"route": "none"} if env.get("monitoring", {}).get("alerts") == "none" else {},
        "rabbitmq_clients": [client(c) for n, c in components.items() if any("queue" in u for u in uses[n])],
        "minio_clients": [client(c) for n, c in components.items() if any("bucket" in u for u in uses[n])],
        "pushgateway_clients": [client(c) for c in components.values() if c["type"] == "job"],
        "databases": databases, "queues": queues,
        "workloads": [{"name": c["name"], "kind": c["kind"], "namespace": ns["services" if c["type"] == "service"
                                                                             else "jobs"]}
                      for c in components.values()],
    }


def write_project(spec: dict[str, Any], root: Path) -> dict[str, int]:
    """Write the Kapitan project for `spec` into `root`; returns counts for the report."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(TEMPLATES, root / "templates")
    workloads = spec["workloads"]
    callers: dict[str, list[dict[str, Any]]] = {name: [] for name in workloads}
    for name, w in workloads.items():
        for use in w.get("uses", {}).values():
            if "service" in use:
                callers[use["service"]].append({"namespace": _namespace_ref(w["type"]),
                                                "pods": {"app.kubernetes.io/name": name}})
    components = {name: component(spec, name, w, callers[name]) for name, w in workloads.items()}
    inventory = root / "inventory"
    _dump(inventory / "classes" / "common.yml", {"parameters": {"platform": spec["name"], "registry": spec["registry"]}})
    _dump(inventory / "classes" / "platform.yml", {"parameters": {"kapitan": {"compile": [
        {"output_path": "_platform", "input_type": "jinja2", "suffix_remove": True,
         "input_paths": [f"templates/platform/{f}.yaml.j2" for f in PLATFORM_FILES]},
        {"output_path": "_databases", "input_type": "jinja2", "suffix_remove": True,
         "input_paths": ["templates/databases"]}]}}})
    for env_name in spec["environments"]:
        _dump(inventory / "classes" / "env" / f"{env_name}.yml",
              {"parameters": {"env": _environment(spec, env_name, components)}})
    for name, c in components.items():
        _dump(inventory / "classes" / "components" / f"{name}.yml", {"parameters": {
            "components": {name: c}, "kapitan": {"compile": _compile_items(c)}}})
    for env_name, env in spec["environments"].items():
        overrides = env.get("overrides", {}).get("workloads", {})
        params: dict[str, Any] = {"kapitan": {"vars": {"target": env_name}}}
        if overrides:
            params["components"] = {n: _override(o) for n, o in overrides.items()}
        _dump(inventory / "targets" / f"{env_name}.yml", {
            "classes": ["common", f"env.{env_name}", "platform", *(f"components.{n}" for n in workloads)],
            "parameters": params,
        })
    per_env = sum(len(_files(c)) + 1 for c in components.values()) + len(PLATFORM_FILES) + 2
    return {"components": len(workloads), "targets": len(spec["environments"]), "files": per_env * len(spec["environments"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    counts = write_project(specgen.build(args.n), args.dir)
    print(f"{args.dir}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
