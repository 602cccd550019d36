"""What each workload's role may do on its database, by declared access: one table, read by the
terraform target (the grants of an environment, services/databases.tf) and by the kustomize
target's previews (the SQL a preview's throwaway CloudNativePG Cluster runs at bootstrap), so an
environment and its previews grant exactly the same.

Every role may CONNECT to its own database (PUBLIC may not: a role of another workload is refused
at connect time). The owner owns the schema, so it needs no grant there: it creates, alters and
drops the tables; the others get privileges on every table in the schema, present (GRANT ... ON
ALL TABLES) and future (ALTER DEFAULT PRIVILEGES FOR ROLE <owner>). Writers get the sequences
too, so INSERTs can draw serial ids.
"""

from __future__ import annotations

from compiler import names
from compiler.ir import Database

DATABASE_PRIVILEGES = {"read": ("CONNECT",), "write": ("CONNECT",), "owner": ("CONNECT",)}
SCHEMA_PRIVILEGES: dict[str, tuple[str, ...]] = {"read": ("USAGE",), "write": ("USAGE",), "owner": ()}
TABLE_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "read": ("SELECT",), "write": ("DELETE", "INSERT", "SELECT", "UPDATE"), "owner": ()}
SEQUENCE_PRIVILEGES: dict[str, tuple[str, ...]] = {"read": ("SELECT",), "write": ("SELECT", "USAGE"), "owner": ()}


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def bootstrap_sql(db: Database) -> list[str]:
    """The statements that give `db`'s workloads their roles and grants, as the superuser inside the
    database (CloudNativePG's `postInitApplicationSQL`), in the order the Terraform provider's
    resources issue them: roles, PUBLIC's database privileges revoked, the schema owned by the
    owner, then each role's database, schema, table and sequence grants and default privileges.
    The roles log in but have no password yet: `managed.roles` sets it from the role's Secret
    once the Cluster is up (it reconciles roles only after bootstrap, so it cannot create them
    before these grants run)."""
    schema = ident(names.DATABASE_SCHEMA)
    roles = sorted(db.roles, key=lambda r: r.role)
    sql: list[str] = []
    for r in roles:
        sql.append(f"CREATE ROLE {ident(r.role)} LOGIN")
        sql.append(f"ALTER ROLE {ident(r.role)} SET search_path TO {schema}")
    sql.append(f"REVOKE ALL ON DATABASE {ident(db.name)} FROM PUBLIC")
    sql.append(f"CREATE SCHEMA {schema} AUTHORIZATION {ident(db.owner.role)}")
    for r in roles:
        role = ident(r.role)
        if DATABASE_PRIVILEGES[r.access]:
            sql.append(f"GRANT {', '.join(DATABASE_PRIVILEGES[r.access])} ON DATABASE {ident(db.name)} TO {role}")
        if r.access == "owner":
            continue
        if SCHEMA_PRIVILEGES[r.access]:
            sql.append(f"GRANT {', '.join(SCHEMA_PRIVILEGES[r.access])} ON SCHEMA {schema} TO {role}")
        for table, plural in ((TABLE_PRIVILEGES, "TABLES"), (SEQUENCE_PRIVILEGES, "SEQUENCES")):
            privileges = table[r.access]
            if privileges:
                sql.append(f"GRANT {', '.join(privileges)} ON ALL {plural} IN SCHEMA {schema} TO {role}")
                sql.append(f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(db.owner.role)} IN SCHEMA {schema} "
                           f"GRANT {', '.join(privileges)} ON {plural} TO {role}")
    return sql
