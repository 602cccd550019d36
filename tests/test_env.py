"""`gpc env SPEC WORKLOAD` / `gpc env SPEC --all`: the wiring contract for a local run, with local
ports that never collide (issue 13, items 6 and 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, all_spec_files, load_ir, spec_id

GPC = [sys.executable, "-m", "compiler.cli"]
# Three services on 8080, one of them also calling another; the broker's port taken by a fourth.
CROWDED = """\
version: 1
name: crowded
registry: ghcr.io/acme
gitops: {repo: https://github.com/acme/crowded-gitops.git}
environments:
  dev: {}
messaging:
  queues:
    orders: {}
workloads:
  cart:
    type: service
    port: 8080
    uses:
      payments: {service: payments}
      orders: {queue: orders, access: publish}
  payments:
    type: service
    port: 8080
    uses:
      cart: {service: cart}
  search:
    type: service
    port: 8080
  broker-lookalike:
    type: service
    port: 5672
    uses:
      orders: {queue: orders, access: consume}
"""


def gpc(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GPC, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def crowded(tmp_path: Path) -> Path:
    spec = tmp_path / "crowded.yaml"
    spec.write_text(CROWDED)
    return spec


def dotenv(text: str) -> dict[str, str]:
    return dict(line.split("  #")[0].split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_services_on_one_port_get_distinct_local_ports(crowded: Path) -> None:
    cart = gpc("env", str(crowded), "cart")
    assert cart.returncode == 0, cart.stderr
    assert dotenv(cart.stdout)["PORT"] == "8080"  # the first by name keeps its port
    assert dotenv(cart.stdout)["PAYMENTS_URL"] == "http://127.0.0.1:8081"
    assert "PAYMENTS_URL=http://127.0.0.1:8081  # payments listens on 8081 locally (declared 8080)" in cart.stdout
    payments = gpc("env", str(crowded), "payments").stdout
    assert dotenv(payments)["PORT"] == "8081"
    assert "PORT=8081  # declared 8080, which cart has locally" in payments
    assert dotenv(payments)["CART_URL"] == "http://127.0.0.1:8080"
    assert dotenv(gpc("env", str(crowded), "search").stdout)["PORT"] == "8082"
    assert "PORT=5673  # declared 5672, which the local broker has locally" in \
        gpc("env", str(crowded), "broker-lookalike").stdout


def contracts(spec: Path) -> dict[str, Any]:
    done = gpc("env", str(spec), "--all", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


@pytest.mark.parametrize("spec", [*all_spec_files(), None], ids=[*map(spec_id, all_spec_files()), "crowded"])
def test_all_prints_a_set_that_agrees(spec: Path | None, crowded: Path) -> None:
    """Every service has a local port of its own (not the local broker's or object store's), and
    every <ALIAS>_URL of a call points at the callee's PORT, never at the caller's."""
    doc = contracts(spec or crowded)
    values = {w: {row["name"]: row["value"] for row in rows} for w, rows in doc["workloads"].items()}
    ports = {w: int(v["PORT"]) for w, v in values.items() if "PORT" in v}
    # Local ports are the same whichever environment is printed (a switched-off service keeps its own).
    assert ports == {w: p for w, p in doc["ports"].items() if w in values}
    assert len(set(ports.values())) == len(ports)
    assert not set(ports.values()) & {5672, 9000}
    calls = 0
    for w in load_ir(spec or crowded).workloads:
        if w.name not in values:
            continue  # switched off in the environment printed
        for use in w.calls:
            url = values[w.name][f"{use.alias.upper().replace('-', '_')}_URL"]
            assert urlsplit(url).port == ports[use.target] != ports.get(w.name), f"{w.name}: {use.alias}={url}"
            calls += 1
    assert calls or spec is not None


def test_all_as_dotenv_lists_the_ports_and_every_workload(crowded: Path) -> None:
    done = gpc("env", str(crowded), "--all")
    assert done.returncode == 0, done.stderr
    assert "# local ports: broker-lookalike 5673, cart 8080, payments 8081, search 8082" in done.stdout
    blocks = done.stdout.split("\n# ")[1:]
    assert [b.splitlines()[0] for b in blocks[1:]] == ["broker-lookalike", "cart", "payments", "search"]


# -- the spec first, as for compile (issue 13, item 11) ------------------------------------------


def test_spec_first_and_the_old_forms_print_the_same_with_a_deprecation() -> None:
    new = gpc("env", "specs/fraud.yaml", "checkout")
    assert new.returncode == 0 and new.stderr == ""
    old = gpc("env", "-f", "specs/fraud.yaml", "checkout")
    assert old.returncode == 0 and old.stdout == new.stdout
    assert "gpc env: -f/--spec is deprecated; give the spec first, as for compile: " \
        "gpc env specs/fraud.yaml checkout" in old.stderr


def test_the_spec_less_form_reads_platform_yaml_with_a_deprecation(tmp_path: Path) -> None:
    (tmp_path / "platform.yaml").write_text((ROOT / "specs/minimal.yaml").read_text())
    done = gpc("env", "hello", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "PORT=8080" in done.stdout
    assert "give the spec first, as for compile: gpc env platform.yaml hello" in done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("specs/fraud.yaml",), "missing WORKLOAD: gpc env specs/fraud.yaml WORKLOAD, or gpc env specs/fraud.yaml --all"),
    (("specs/fraud.yaml", "checkout", "--all"), "give WORKLOAD or --all, not both"),
    (("nowhere.yaml", "checkout"), "file 'nowhere.yaml' does not exist"),
    (("specs/fraud.yaml", "nobody"), "no workload 'nobody' in specs/fraud.yaml"),
    ((), "missing SPEC"),
])
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    done = gpc("env", *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_help_says_what_spec_name_means() -> None:
    assert "SPEC [WORKLOAD]" in gpc("env", "--help").stdout
    compile_help = " ".join(gpc("compile", "--help").stdout.split())
    assert "<spec name> is the spec file's stem (specs/fraud.yaml -> OUT/fraud/)" in compile_help
