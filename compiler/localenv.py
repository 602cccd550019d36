"""`gpc env`: the wiring contract of workloads for a local run, all on one machine.

In the cluster every service has an address of its own; on a laptop they all listen on
127.0.0.1, so two services that declare the same port would collide, and a caller's
`<ALIAS>_URL` could point at the caller itself. So each service gets a distinct local port: the
one it declares, unless the local broker or object store uses it or another service declares it
too; then the first of them by name keeps it and the others get the next free port above. The
same spec always gives the same ports, so every workload's variables agree with each other.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from compiler import names
from compiler.ir import Platform, Workload, contract_json
from compiler.wiring import LOCAL_BROKER_PORT, LOCAL_OBJECT_STORE

RESERVED = {LOCAL_BROKER_PORT: "the local broker", urlsplit(LOCAL_OBJECT_STORE).port or 9000: "the local object store"}


def local_ports(platform: Platform) -> dict[str, int]:
    """Service name -> the port it listens on locally (distinct, deterministic)."""
    taken = set(RESERVED)
    ports: dict[str, int] = {}
    moved: list[Workload] = []
    for service in sorted(platform.services, key=lambda s: s.name):
        assert service.port is not None  # every service has a port (the model requires it)
        if service.port in taken:
            moved.append(service)
        else:
            ports[service.name] = service.port
            taken.add(service.port)
    for service in moved:
        assert service.port is not None
        port = next(p for p in _candidates(service.port) if p not in taken)
        ports[service.name] = port
        taken.add(port)
    return ports


def _candidates(port: int) -> Iterator[int]:
    yield from range(port + 1, 65536)
    yield from range(port - 1, 1023, -1)


@dataclass(frozen=True)
class LocalVar:
    name: str
    value: str
    description: str
    source: str  # "value", "secret NAME/KEY" or "configmap NAME/KEY"
    secret: bool
    note: str | None = None  # why the local value is not the declared one


def local_env(platform: Platform, workload: str, env: str, ports: dict[str, int]) -> list[LocalVar]:
    """Every variable of `workload` in `env` as a local run sets it."""
    w = platform.workload(workload)
    urls = {f"{names.env_prefix(use.alias)}_URL": use.target for use in w.calls}
    out = []
    for var in w.placement(env).env_vars:
        value = var.local_value if var.local_value is not None else (var.value or "")
        note = None
        if var.config_map is not None:
            queue = platform.queue(var.config_map.key.removesuffix(".schema.json"))
            assert queue.message_schema is not None  # a contract ConfigMap exists only for a schema
            value = contract_json(queue.message_schema)
        if var.name == "PORT" and w.type == "service" and ports[w.name] != w.port:
            value = str(ports[w.name])
            note = f"declared {w.port}, which {_holder(platform, w.port, ports)} has locally"
        elif var.name in urls and var.secret is None:
            callee = platform.workload(urls[var.name])
            value = f"http://127.0.0.1:{ports[callee.name]}"
            if ports[callee.name] != callee.port:
                note = f"{callee.name} listens on {ports[callee.name]} locally (declared {callee.port})"
        source = (f"secret {var.secret.name}/{var.secret.key}" if var.secret else
                  f"configmap {var.config_map.name}/{var.config_map.key}" if var.config_map else "value")
        out.append(LocalVar(var.name, value, var.description, source, var.secret is not None, note))
    return out


def _holder(platform: Platform, port: int | None, ports: dict[str, int]) -> str:
    if port in RESERVED:
        return RESERVED[port]
    return next(name for name, p in sorted(ports.items()) if p == port)


def render(platform: Platform, spec_file: str, workload: str | None, env: str, fmt: str) -> str:
    """What `gpc env` prints: one workload's variables, or (workload None) every workload's,
    as dotenv lines or JSON."""
    ports = local_ports(platform)
    chosen = [workload] if workload is not None else [w.name for w in platform.workloads_in(env)]
    contracts = {name: local_env(platform, name, env, ports) for name in chosen}
    if fmt == "json":
        rows = {name: [asdict(v) for v in variables] for name, variables in contracts.items()}
        if workload is not None:
            return json.dumps(rows[workload], indent=2) + "\n"
        return json.dumps({"spec": spec_file, "environment": env, "ports": dict(sorted(ports.items())),
                           "workloads": rows}, indent=2) + "\n"
    lines = []
    if workload is None:
        lines += [f"# wiring contracts of every workload of {spec_file} (environment {env}) for a local run",
                  "# local ports: " + (", ".join(f"{n} {p}" for n, p in sorted(ports.items())) or "none")]
    for name, variables in contracts.items():
        lines += [f"\n# {name}"] if workload is None else \
            [f"# wiring contract of {name} ({spec_file}, environment {env}) for a local run"]
        for var in variables:
            note = f"  # {var.source}: fill in" if var.secret else f"  # {var.note}" if var.note else ""
            value = shlex.quote(var.value) if var.value else "''"
            lines.append(f"{var.name}={value}{note}")
    return "\n".join(lines) + "\n"
