"""A preview's own database, run for real: the roles and grants the preview's CloudNativePG Cluster
makes at bootstrap (`postInitApplicationSQL` of kustomize/_preview/_platform/databases.yaml), loaded
into a PostgreSQL server of our own (the harness of tests/test_terraform_postgres.py: Debian's
postgresql 15, loopback, TLS only) the way CloudNativePG runs them, and each workload's role made
to do what it declared, and what it did not.

The bootstrap is played as the operator plays it: `initdb` creates the database owned by the
bootstrap role, the statements run as the superuser inside it, then `managed.roles` sets each
listed role's password (from its Secret; here a random one). A server of its own, not the one the
Terraform test loads: roles are global to a server, and both create the same roles.
"""

from __future__ import annotations

import re
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, compiled_tree, load_ir, unavailable
from test_terraform_support import locals_of, parse

from compiler import names

pytestmark = pytest.mark.slow
BASE = ROOT / "tests" / "cases" / "valid" / "databases" / "platform.yaml"


def _with_previews() -> Path:
    """The databases case (dev alone on its cluster) with previews of dev."""
    data = yaml.safe_load(BASE.read_text("utf-8"))
    data["previews"] = {"from": "dev", "quota": {"cpu": "4", "memory": "8Gi", "pods": 20}}
    spec = Path(tempfile.mkdtemp(prefix="gpc-preview-db-")) / "platform.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return spec


@pytest.fixture(scope="module")
def tree() -> dict[str, str]:
    return compiled_tree(load_ir(_with_previews()))


def _clusters(tree: dict[str, str]) -> dict[str, dict[str, Any]]:
    docs = yaml.safe_load_all(tree["kustomize/_preview/_platform/databases.yaml"])
    return {d["metadata"]["name"]: d for d in docs if d and d["kind"] == "Cluster"}


@pytest.fixture(scope="module")
def server(tree: dict[str, str]) -> Iterator[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "examples" / "fraud"))
    from fraud_harness.postgres import Postgres, available

    problem = available()
    if problem:
        unavailable(problem)
    import psycopg

    pg = Postgres()
    passwords: dict[str, str] = {}
    try:
        pg.start()
        for name, cluster in sorted(_clusters(tree).items()):
            initdb = cluster["spec"]["bootstrap"]["initdb"]
            with psycopg.connect(pg.admin(), autocommit=True) as conn:  # CloudNativePG's initdb
                # each Cluster is a server of its own; here the databases share one, and its owner role
                if not conn.execute(b"SELECT 1 FROM pg_roles WHERE rolname = %s", (initdb["owner"],)).fetchone():
                    conn.execute(f'CREATE ROLE "{initdb["owner"]}" LOGIN'.encode())
                conn.execute(f'CREATE DATABASE "{initdb["database"]}" OWNER "{initdb["owner"]}"'.encode())
            with psycopg.connect(pg.admin(initdb["database"]), autocommit=True) as conn:
                for statement in initdb["postInitApplicationSQL"]:
                    conn.execute(statement.encode())
            with psycopg.connect(pg.admin(), autocommit=True) as conn:  # managed.roles, after bootstrap
                for role in cluster["spec"]["managed"]["roles"]:
                    assert (role["ensure"], role["login"]) == ("present", True), name
                    passwords[role["name"]] = secrets.token_urlsafe(18)
                    conn.execute(f'ALTER ROLE "{role["name"]}" LOGIN PASSWORD '
                                 f"'{passwords[role['name']]}'".encode())
        yield {"pg": pg, "passwords": passwords}
    finally:
        pg.close()


def _connect(server: dict[str, Any], role: str, database: str) -> Any:
    import psycopg

    pg = server["pg"]
    return psycopg.connect(pg.url(role, server["passwords"][role], database, names.DATABASE_SSLMODE),
                           autocommit=True)


def _refused(conn: Any, statement: bytes) -> bool:
    import psycopg.errors

    try:
        conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_the_preview_grants_what_terraform_grants(tree: dict[str, str]) -> None:
    """Statement for statement the provider's (fraud_harness.postgres.setup_sql of dev's Terraform
    locals), but for the password, which `managed.roles` sets afterwards."""
    sys.path.insert(0, str(ROOT / "examples" / "fraud"))
    from fraud_harness.postgres import setup_sql

    local = locals_of(parse(tree["terraform/dev/services/locals.tf"]))
    terraform = setup_sql(local, {w: "PW" for w in local["database_roles"]})
    clusters = _clusters(tree)
    assert set(clusters) == set(terraform)
    for name, statements in terraform.items():
        expected = [re.sub(r" PASSWORD 'PW'$", "", s) for s in statements]
        assert clusters[name]["spec"]["bootstrap"]["initdb"]["postInitApplicationSQL"] == expected
        roles = {r["name"] for r in clusters[name]["spec"]["managed"]["roles"]}
        assert roles == {r["role"] for r in local["database_roles"].values() if r["database"] == name}


def test_the_owner_migrates_the_writer_writes_the_reader_reads(server: dict[str, Any]) -> None:
    with _connect(server, "api", "orders") as conn:
        conn.execute(b"CREATE TABLE orders (id bigserial PRIMARY KEY, item text NOT NULL, paid boolean)")
        conn.execute(b"ALTER TABLE orders ADD COLUMN note text")
        conn.execute(b"INSERT INTO orders (item) VALUES ('to be read')")
    with _connect(server, "payments", "orders") as conn:
        conn.execute(b"INSERT INTO orders (item, paid) VALUES ('by the writer', true)")  # draws the sequence
        conn.execute(b"UPDATE orders SET paid = false WHERE item = 'by the writer'")
        conn.execute(b"DELETE FROM orders WHERE item = 'by the writer'")
        assert _refused(conn, b"CREATE TABLE mine (id int)")
        assert _refused(conn, b"DROP TABLE orders")
    with _connect(server, "report", "orders") as conn:
        assert conn.execute(b"SELECT item FROM orders").fetchall() == [("to be read",)]
        assert _refused(conn, b"INSERT INTO orders (id, item) VALUES (-1, 'by the reader')")
        assert _refused(conn, b"UPDATE orders SET paid = true")
        assert _refused(conn, b"DELETE FROM orders")


def test_a_workload_that_did_not_declare_the_database_cannot_connect(server: dict[str, Any]) -> None:
    import psycopg

    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        _connect(server, "ledger", "orders").close()
    for role in ("api", "payments", "report"):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            _connect(server, role, "ledger").close()
    with _connect(server, "ledger", "ledger") as conn:
        conn.execute(b"CREATE TABLE entries (id int)")


def test_the_role_secret_and_the_url_share_one_password(tree: dict[str, str]) -> None:
    """The workload's DATABASE_URL and PGPASSWORD and the role's password are one generated value,
    and the URL names the preview's own primary, namespace-relative."""
    docs = [d for d in yaml.safe_load_all(tree["kustomize/_preview/_platform/databases.yaml"])
            if d and d["kind"] == "ExternalSecret"]
    for doc in docs:
        data = doc["spec"]["target"]["template"]["data"]
        assert doc["spec"]["target"]["template"]["type"] == "kubernetes.io/basic-auth"
        password = data["password"]
        assert data[names.PGPASSWORD_KEY] == password and len(doc["spec"]["dataFrom"]) == 1
        role = data["username"]
        assert re.fullmatch(rf"postgresql://{re.escape(role)}:{re.escape(password)}@[a-z0-9-]+-rw:5432/[a-z0-9_-]+"
                            rf"\?sslmode={names.DATABASE_SSLMODE}", data[names.DATABASE_URL_KEY]), data
