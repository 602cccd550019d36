"""The database side of the terraform output, run for real: the databases, login roles and grants
gpc writes into `services/locals.tf` are loaded into a PostgreSQL server of our own (Debian's
postgresql 15, loopback, a free port, its own data dir, stopped with pg_ctl), through the
statements the provider's resources issue (fraud_harness.postgres.setup_sql), and each workload's
role is made to do what it declared, and what it did not. The server serves TCP over TLS only and
every connection uses the sslmode of the wiring contract in the cluster (names.DATABASE_SSLMODE).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ROOT, load_ir, unavailable
from test_terraform_support import locals_of, parse, terraform_artifacts

from compiler import names

pytestmark = pytest.mark.slow
SPEC = ROOT / "tests" / "cases" / "valid" / "databases" / "platform.yaml"


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "examples" / "fraud"))
    from fraud_harness.postgres import Postgres, available

    problem = available()
    if problem:
        unavailable(problem)
    platform = load_ir(SPEC)
    files = {a.path: a.text for a in terraform_artifacts(platform)}
    local = locals_of(parse(files["terraform/dev/services/locals.tf"]))
    pg = Postgres()
    try:
        pg.start()
        pg.load(local)
        yield {"pg": pg, "local": local}
    finally:
        pg.close()


def _connect(server: dict[str, Any], workload: str, database: str | None = None) -> Any:
    import psycopg

    pg, local = server["pg"], server["local"]
    role = local["database_roles"][workload]
    return psycopg.connect(pg.url(role["role"], pg.passwords[workload], database or role["database"],
                                  names.DATABASE_SSLMODE), autocommit=True)


def _refused(conn: Any, statement: bytes) -> bool:
    import psycopg.errors

    try:
        conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


@pytest.fixture(scope="module")
def migrated(server: dict[str, Any]) -> dict[str, Any]:
    """The owner migrates: a table (with a serial id) in its schema, found by its search_path."""
    with _connect(server, "api") as conn:
        conn.execute(b"CREATE TABLE orders (id bigserial PRIMARY KEY, item text NOT NULL, paid boolean)")
        conn.execute(b"ALTER TABLE orders ADD COLUMN note text")
        schema = conn.execute(b"SELECT table_schema FROM information_schema.tables "
                              b"WHERE table_name = 'orders'").fetchone()
    assert schema == (server["local"]["databases"]["orders"]["schema"],)
    return server


def test_the_owner_can_migrate_and_use_its_tables(migrated: dict[str, Any]) -> None:
    with _connect(migrated, "api") as conn:
        conn.execute(b"INSERT INTO orders (item) VALUES ('by the owner')")
        conn.execute(b"CREATE INDEX orders_item ON orders (item)")
        conn.execute(b"DROP INDEX orders_item")


def test_the_writer_writes_and_cannot_change_the_schema(migrated: dict[str, Any]) -> None:
    with _connect(migrated, "payments") as conn:
        conn.execute(b"INSERT INTO orders (item, paid) VALUES ('by the writer', true)")  # draws the sequence
        conn.execute(b"UPDATE orders SET paid = false WHERE item = 'by the writer'")
        assert conn.execute(b"SELECT count(*) FROM orders WHERE item = 'by the writer'").fetchone() == (1,)
        conn.execute(b"DELETE FROM orders WHERE item = 'by the writer'")
        assert _refused(conn, b"CREATE TABLE mine (id int)")
        assert _refused(conn, b"ALTER TABLE orders ADD COLUMN x int")
        assert _refused(conn, b"DROP TABLE orders")
        assert _refused(conn, b"TRUNCATE orders")


def test_the_reader_reads_and_is_refused_every_write(migrated: dict[str, Any]) -> None:
    with _connect(migrated, "api") as conn:
        conn.execute(b"INSERT INTO orders (item) VALUES ('to be read')")
    with _connect(migrated, "report") as conn:
        rows = conn.execute(b"SELECT item FROM orders WHERE item = 'to be read'").fetchall()
        assert rows == [("to be read",)]
        # An explicit id: refused for the table itself, not for the sequence a serial id would draw.
        assert _refused(conn, b"INSERT INTO orders (id, item) VALUES (-1, 'by the reader')")
        assert _refused(conn, b"UPDATE orders SET paid = true")
        assert _refused(conn, b"DELETE FROM orders")
        assert _refused(conn, b"CREATE TABLE mine (id int)")
        assert _refused(conn, b"SELECT nextval('orders_id_seq')")


def test_a_table_created_later_is_granted_too(migrated: dict[str, Any]) -> None:
    """Default privileges: the next migration's table reaches readers and writers without a new grant."""
    with _connect(migrated, "api") as conn:
        conn.execute(b"CREATE TABLE IF NOT EXISTS refunds (id bigserial PRIMARY KEY, amount int)")
    with _connect(migrated, "payments") as conn:
        conn.execute(b"INSERT INTO refunds (amount) VALUES (5)")
    with _connect(migrated, "report") as conn:
        assert conn.execute(b"SELECT count(*) >= 1 FROM refunds").fetchone() == (True,)
        assert _refused(conn, b"INSERT INTO refunds (id, amount) VALUES (-1, 6)")


def test_a_workload_that_did_not_declare_the_database_cannot_connect(migrated: dict[str, Any]) -> None:
    import psycopg

    # The ledger worker has a role (on its own database) and a valid password: CONNECT is refused.
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        _connect(migrated, "ledger", "orders").close()
    # ... and the other way round: the orders roles cannot open the ledger.
    for workload in ("api", "payments", "report"):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            _connect(migrated, workload, "ledger").close()
    # A workload without any database use has no role at all.
    pg = migrated["pg"]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg.url("no-such-workload", "guess", "orders")).close()
    # The ledger's owner does reach its own database.
    with _connect(migrated, "ledger") as conn:
        conn.execute(b"CREATE TABLE entries (id int)")


def test_a_wrong_password_is_refused(migrated: dict[str, Any]) -> None:
    import psycopg

    pg = migrated["pg"]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg.url("payments", "not-its-password", "orders")).close()


def test_the_contracts_sslmode_encrypts_and_a_plain_connection_is_refused(migrated: dict[str, Any]) -> None:
    """`sslmode=require` (the cluster's contract) and `prefer` (`gpc env` locally) both negotiate TLS
    with a server that offers it; `disable` is refused by a server that only takes TLS."""
    import psycopg

    from compiler.wiring import LOCAL_SSLMODE

    pg, local = migrated["pg"], migrated["local"]
    for workload, role in sorted(local["database_roles"].items()):
        for mode in (names.DATABASE_SSLMODE, LOCAL_SSLMODE):
            url = pg.url(role["role"], pg.passwords[workload], role["database"], mode)
            with psycopg.connect(url) as conn:
                row = conn.execute(b"SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
                assert row == (True,), (workload, mode)
    role = local["database_roles"]["api"]
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(pg.url(role["role"], pg.passwords["api"], role["database"], "disable")).close()
