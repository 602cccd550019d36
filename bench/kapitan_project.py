"""Build the Kapitan project that does gpc's Kubernetes work for the same generated spec.

    .venv/bin/python bench/kapitan_project.py N DIR

Layout (as in shared/research/perf-anchors.md): `inventory/classes/common.yml` (platform and
registry), one `env.<name>` class per environment (its namespaces and name, used through reclass
references such as `${env:services_namespace}`), one `components.<workload>` class per workload
holding its parameters and its own compile item, and one target per environment that includes
every component class and overrides what the spec's environment overrides change (replicas,
resources, schedule, env). Each compile item renders the workload's manifests from the Jinja2
templates in `bench/kapitan/templates/`: a service gets Deployment, Service,
PodDisruptionBudget, ServiceAccount, NetworkPolicy and a kustomization; a job gets Job or
CronJob, ServiceAccount, NetworkPolicy and a kustomization.

The wiring contract (environment variables, Secret references, egress to the broker, the object
store and called services, ingress from callers) is written into the inventory here, by hand
as a Kapitan user would, from the same data gpc reads.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import specgen

TEMPLATES = Path(__file__).resolve().parent / "kapitan" / "templates"
SERVICE_FILES = ("deployment", "service", "pdb", "serviceaccount", "networkpolicy", "kustomization")
JOB_FILES = ("serviceaccount", "networkpolicy", "kustomization")
DEFAULT_RESOURCES = {"service": {"cpu": "100m", "memory": "128Mi"}, "job": {"cpu": "500m", "memory": "512Mi"}}


def _seconds(duration: str | None) -> int | None:
    if not duration:
        return None
    total, number = 0, ""
    for ch in duration:
        if ch.isdigit():
            number += ch
        else:
            total += int(number) * {"h": 3600, "m": 60, "s": 1}[ch]
            number = ""
    return total


def _prefix(alias: str) -> str:
    return alias.upper().replace("-", "_")


def _namespace_ref(wtype: str) -> str:
    return "${env:services_namespace}" if wtype == "service" else "${env:jobs_namespace}"


def component(spec: dict[str, Any], name: str, w: dict[str, Any], callers: list[dict[str, str]]) -> dict[str, Any]:
    """One workload's parameters, as a Kapitan user would write its component class."""
    wtype = w["type"]
    defaults = spec["guardrails"]["defaults"][wtype]
    res = w.get("resources", {})
    uses = w.get("uses", {})
    queues = spec["messaging"]["queues"]
    env: dict[str, dict[str, Any]] = {}
    egress: list[dict[str, Any]] = []
    creds = f"{name}-credentials"
    if wtype == "service":
        env["PORT"] = {"value": str(w["port"])}
    if any("queue" in u for u in uses.values()):
        env["AMQP_URL"] = {"secret": creds, "key": "AMQP_URL"}
        egress.append({"namespace": "${env:infra_namespace}", "name": "rabbitmq", "port": 5672})
    if any("bucket" in u for u in uses.values()):
        env["S3_ENDPOINT"] = {"value": "http://minio.${env:infra_namespace}.svc.cluster.local:9000"}
        env["S3_ACCESS_KEY"] = {"secret": creds, "key": "S3_ACCESS_KEY"}
        env["S3_SECRET_KEY"] = {"secret": creds, "key": "S3_SECRET_KEY"}
        egress.append({"namespace": "${env:infra_namespace}", "name": "minio", "port": 9000})
    volumes = []
    for alias, use in sorted(uses.items()):
        prefix = _prefix(alias)
        if "queue" in use:
            queue = queues[use["queue"]]
            env[f"{prefix}_QUEUE"] = {"value": use["queue"]}
            if queue.get("dead_letter"):
                env[f"{prefix}_DEAD_LETTER_QUEUE"] = {"value": use["queue"] + ".dlq"}
            if queue.get("message_schema"):
                env[f"{prefix}_MESSAGE_SCHEMA"] = {"config_map": f"{name}-contract", "key": use["queue"] + ".schema.json"}
        elif "bucket" in use:
            env[f"{prefix}_BUCKET"] = {"value": use["bucket"]}
        elif "volume" in use:
            env[f"{prefix}_PATH"] = {"value": use["mount"]}
            volumes.append({"name": alias, "claim": use["volume"], "mount": use["mount"],
                            "read_only": bool(use.get("read_only", False))})
        elif "database" in use:  # gpc wires the database's URL from a Secret
            env[f"{prefix}_DATABASE_URL"] = {"secret": f"{name}-db-{use['database']}", "key": "uri"}
        else:
            callee = spec["workloads"][use["service"]]
            env[f"{prefix}_URL"] = {
                "value": f"http://{use['service']}.${{env:services_namespace}}.svc.cluster.local:{callee['port']}"}
            egress.append({"namespace": "${env:services_namespace}", "name": use["service"], "port": callee["port"]})
    for secret in w.get("secrets", []):
        env[secret] = {"secret": f"{name}-app-secrets", "key": secret}
    for key, value in w.get("env", {}).items():
        env[key] = {"value": value}
    c: dict[str, Any] = {
        "name": name,
        "type": wtype,
        "team": name.rsplit("-", 1)[0],
        "namespace": _namespace_ref(wtype),
        "image": w.get("image", f"{spec['registry']}/{name}"),
        "tag": w.get("image_tag", "0.1.0"),
        "cpu": res.get("cpu", defaults.get("cpu", DEFAULT_RESOURCES[wtype]["cpu"])),
        "memory": res.get("memory", defaults.get("memory", DEFAULT_RESOURCES[wtype]["memory"])),
        "gpu": res.get("gpu", 0),
        "env": env,
        "volumes": volumes,
        "egress": egress,
        "callers": callers,
    }
    if wtype == "service":
        c.update(port=w["port"], replicas=w.get("replicas", 1), health_path=w["health"]["path"],
                 readiness_path=w["health"].get("readiness_path", w["health"]["path"]))
    else:
        c.update(schedule=w.get("schedule"), time_zone=w.get("time_zone"), concurrency=w.get("concurrency", "Forbid"),
                 retries=w.get("retries", 0), timeout_seconds=_seconds(w.get("timeout")),
                 ttl_seconds=_seconds(w.get("ttl_after_finished", "1h")), command=w.get("command"),
                 args=w.get("args"))
    return c


def _files(c: dict[str, Any]) -> list[str]:
    if c["type"] == "service":
        names = list(SERVICE_FILES)
    else:
        names = ["cronjob" if c["schedule"] else "job", *JOB_FILES]
    return [f"templates/{n}.yaml.j2" for n in names]


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


def write_project(spec: dict[str, Any], root: Path) -> dict[str, int]:
    """Write the Kapitan project for `spec` into `root`; returns counts for the report."""
    if root.exists():
        shutil.rmtree(root)
    (root / "templates").mkdir(parents=True)
    for template in sorted(TEMPLATES.glob("*.j2")):
        shutil.copyfile(template, root / "templates" / template.name)
    workloads = spec["workloads"]
    callers: dict[str, list[dict[str, str]]] = {name: [] for name in workloads}
    for name, w in workloads.items():
        for use in w.get("uses", {}).values():
            if "service" in use:
                callers[use["service"]].append({"name": name, "namespace": _namespace_ref(w["type"])})
    inventory = root / "inventory"
    _dump(inventory / "classes" / "common.yml", {"parameters": {"platform": spec["name"], "registry": spec["registry"]}})
    for env_name, env in spec["environments"].items():
        prefix = env.get("namespace_prefix") or f"{spec['name']}-{env_name}"
        _dump(inventory / "classes" / "env" / f"{env_name}.yml", {"parameters": {"env": {
            "name": env_name, "cluster": env["cluster"], "services_namespace": f"{prefix}-services",
            "jobs_namespace": f"{prefix}-jobs", "infra_namespace": f"{prefix}-infra"}}})
    for name, w in workloads.items():
        c = component(spec, name, w, callers[name])
        _dump(inventory / "classes" / "components" / f"{name}.yml", {"parameters": {
            "components": {name: c},
            "kapitan": {"compile": [{
                "output_path": name, "input_type": "jinja2", "input_paths": _files(c),
                "input_params": {"name": name}, "suffix_remove": True,
            }]},
        }})
    for env_name, env in spec["environments"].items():
        overrides = env.get("overrides", {}).get("workloads", {})
        params: dict[str, Any] = {"kapitan": {"vars": {"target": env_name}}}
        if overrides:
            params["components"] = {n: _override(o) for n, o in overrides.items()}
        _dump(inventory / "targets" / f"{env_name}.yml", {
            "classes": ["common", f"env.{env_name}", *(f"components.{n}" for n in workloads)],
            "parameters": params,
        })
    files = sum(len(_files(component(spec, n, w, []))) for n, w in workloads.items()) * len(spec["environments"])
    return {"components": len(workloads), "targets": len(spec["environments"]), "files": files}


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
