"""A PostgreSQL server of our own (Debian's postgresql package) on loopback, with its own data dir,
loaded with the databases, roles and grants the platform's Terraform declares.

`setup_sql` turns the terraform services module's locals (`databases`, `database_roles`) into
the statements the cyrilgdn/postgresql provider's resources issue for them (postgresql_role,
postgresql_schema, postgresql_grant, postgresql_default_privileges), so a test proves what the
generated data grants, not what a test author thinks it grants. Postgres refuses to run as root:
as root the server runs as the `postgres` user the package creates (`runuser`), in a temporary
directory it owns. The server is started and stopped with `pg_ctl` on its own data directory.
It serves TLS only, as the cluster's does: every URL here asks for `sslmode=require`, the mode
of the wiring contract in the cluster.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ports import free_port

BIN = Path(os.environ.get("GPC_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"


def available() -> str | None:
    """Why the server cannot run here, or None."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not (BIN / tool).exists():
            return f"{BIN / tool} is missing (apt-get install postgresql; `make system-deps`)"
    if shutil.which("openssl") is None:
        return "openssl is missing (it makes the server's TLS certificate; apt-get install openssl)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root needs runuser to start postgres as the postgres user"
    return None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def setup_sql(local: dict[str, Any], passwords: dict[str, str]) -> dict[str, list[str]]:
    """Per database, the statements `terraform apply` makes the provider run, in dependency order
    (terraform/modules/database/): roles, PUBLIC's database privileges revoked, the schema owned by the owner,
    then each role's database, schema, table and sequence grants and default privileges."""
    out: dict[str, list[str]] = {}
    for name, db in sorted(local["databases"].items()):
        roles = {w: r for w, r in local["database_roles"].items() if r["database"] == name}
        schema = _ident(db["schema"])
        sql = []
        for workload, r in sorted(roles.items()):
            sql.append(f"CREATE ROLE {_ident(r['role'])} LOGIN PASSWORD {_literal(passwords[workload])}")
            sql.append(f"ALTER ROLE {_ident(r['role'])} SET search_path TO {schema}")
        sql.append(f"REVOKE ALL ON DATABASE {_ident(name)} FROM PUBLIC")
        sql.append(f"CREATE SCHEMA {schema} AUTHORIZATION {_ident(db['owner'])}")
        for _, r in sorted(roles.items()):
            role = _ident(r["role"])
            if r["database_privileges"]:
                sql.append(f"GRANT {', '.join(r['database_privileges'])} ON DATABASE {_ident(name)} TO {role}")
            if r["access"] == "owner":
                continue
            if r["schema_privileges"]:
                sql.append(f"GRANT {', '.join(r['schema_privileges'])} ON SCHEMA {schema} TO {role}")
            for kind, plural in (("table", "TABLES"), ("sequence", "SEQUENCES")):
                privileges = r[f"{kind}_privileges"]
                if privileges:
                    sql.append(f"GRANT {', '.join(privileges)} ON ALL {plural} IN SCHEMA {schema} TO {role}")
                    sql.append(f"ALTER DEFAULT PRIVILEGES FOR ROLE {_ident(db['owner'])} IN SCHEMA {schema} "
                               f"GRANT {', '.join(privileges)} ON {plural} TO {role}")
        out[name] = sql
    return out


@dataclass
class Postgres:
    """One server: `start()`, `load(local)`, `url(role, password, database)`, `close()`."""

    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gpc-postgres-")))
    passwords: dict[str, str] = field(default_factory=dict)  # workload -> its role's password

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *argv: str, timeout: float = 120) -> None:
        command = [*argv]
        if os.geteuid() == 0:  # postgres refuses root: run as the package's own user
            command = ["runuser", "-u", SUPERUSER, "--", *argv]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed ({done.returncode}):\n{done.stdout}{done.stderr}")

    def start(self) -> Postgres:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, SUPERUSER)
            shutil.chown(pwfile, SUPERUSER)
        # Password authentication on every connection, as in the cluster: no trust, no peer.
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--no-instructions")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off " + self._tls()
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
                  "-w", "-t", "60", "start")
        return self

    def _tls(self) -> str:
        """TLS as CloudNativePG serves it: a certificate of the server's own (here a throwaway
        self-signed one), and TCP connections only over TLS (`hostssl`), so a client whose sslmode
        would not negotiate it is refused instead of passing unnoticed."""
        key, cert = self.root / "server.key", self.root / "server.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                       capture_output=True, check=True, timeout=60)
        key.chmod(0o600)
        if os.geteuid() == 0:
            shutil.chown(key, SUPERUSER)
            shutil.chown(cert, SUPERUSER)
        hba = self.data / "pg_hba.conf"
        hba.write_text(re.sub(r"(?m)^host(\s)", r"hostssl\1", hba.read_text()))
        return f"-c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"

    def url(self, role: str, password: str, database: str = "postgres", sslmode: str = "require") -> str:
        return f"postgresql://{role}:{password}@127.0.0.1:{self.port}/{database}?sslmode={sslmode}"

    def admin(self, database: str = "postgres") -> str:
        return self.url(SUPERUSER, self.password, database)

    def load(self, local: dict[str, Any]) -> None:
        """The databases (CloudNativePG's bootstrap creates each) and everything Terraform grants."""
        import psycopg

        self.passwords = {w: secrets.token_urlsafe(18) for w in local["database_roles"]}
        with psycopg.connect(self.admin(), autocommit=True) as conn:
            for name in sorted(local["databases"]):
                conn.execute(f"CREATE DATABASE {_ident(name)}".encode())
        for name, statements in setup_sql(local, self.passwords).items():
            with psycopg.connect(self.admin(name), autocommit=True) as conn:
                for statement in statements:
                    conn.execute(statement.encode())

    def truncate(self, databases: dict[str, Any]) -> None:
        """Empty every table of each database's schema (as the superuser), keeping the schema."""
        import psycopg

        for name, db in sorted(databases.items()):
            with psycopg.connect(self.admin(name), autocommit=True) as conn:
                tables = [r[0] for r in conn.execute(b"SELECT tablename FROM pg_tables WHERE schemaname = %s",
                                                     (db["schema"],)).fetchall()]
                if tables:
                    listed = ", ".join(f"{_ident(db['schema'])}.{_ident(t)}" for t in sorted(tables))
                    conn.execute(f"TRUNCATE {listed}".encode())

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
