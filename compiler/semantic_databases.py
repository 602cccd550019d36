"""Checks of `storage.databases` and the workloads' database uses (GPC260-GPC269).

A reference to an undeclared database, an access a database use does not take and a variable
collision come from the kinds table (GPC203, GPC204, GPC218); what is only true of databases is here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from compiler import names
from compiler.cron import cron_error
from compiler.hints import did_you_mean
from compiler.model import RETENTION_PATTERN, DatabaseBackup, DatabaseUse, Platform
from compiler.quantity import parse_quantity
from compiler.source import Path

if TYPE_CHECKING:
    from compiler.semantic import Reporter

# The PostgreSQL majors CloudNativePG runs and the community still supports, each with its image
# pinned by digest (names.POSTGRES_IMAGES).
SUPPORTED_VERSIONS = range(14, 18)
# CloudNativePG's `backup.retentionPolicy` (its CRD pattern): days, weeks or months, never zero.
RETENTION = re.compile(RETENTION_PATTERN)
BUCKET_NAME_MAX = 63  # S3 and MinIO


def _phrase() -> str:
    return f"{SUPPORTED_VERSIONS.start} to {SUPPORTED_VERSIONS.stop - 1}"


def check_database_uses(spec: Platform, report: Reporter) -> None:
    """One database per workload, exactly one owner per database, migrations only by the owner."""
    owners: dict[str, list[tuple[str, Path]]] = {}
    misnamed = False  # an owner naming an undeclared database (GPC203) explains a database without one
    for wname, w in spec.workloads.items():
        seen: str | None = None
        for alias, use in sorted(w.uses.items()):
            if not isinstance(use, DatabaseUse):
                continue
            path: Path = ("workloads", wname, "uses", alias)
            if seen is not None:
                report("GPC263", f"workload '{wname}' uses database '{use.database}' as '{alias}' and already "
                       f"uses a database as '{seen}'; a workload uses one database", (*path, "database"),
                       hint="DATABASE_URL and the PG* variables name one database: split the workload, or give "
                       "it the one access it needs (owner covers write, write covers read)")
                continue
            seen = alias
            if use.access == "owner":
                misnamed |= use.database not in spec.storage.databases
                owners.setdefault(use.database, []).append((wname, (*path, "access")))
            elif use.migrate is not None:
                report("GPC264", f"'{alias}' of workload '{wname}' declares a migration but has access "
                       f"'{use.access}'; only the owner migrates", (*path, "migrate"), key=True,
                       hint=f"move 'migrate' to the use with access owner of database '{use.database}'")
    for dname in spec.storage.databases:
        found = owners.get(dname, [])
        if not found and not misnamed:
            report("GPC260", f"database '{dname}' has no owner", ("storage", "databases", dname), key=True,
                   hint="give exactly one workload {database: " + dname + ", access: owner}: its role owns the "
                   "schema and runs the migrations")
        for wname, path in found[1:]:
            report("GPC260", f"database '{dname}' is owned by '{found[0][0]}' and by '{wname}'", path,
                   hint="exactly one workload owns a database; give the others access write")


def check_databases(spec: Platform, report: Reporter) -> None:
    """Supported versions, known environments, and sizes within the guardrails."""
    rails = spec.guardrails.databases
    most = parse_quantity(rails.max_storage)
    for dname, db in spec.storage.databases.items():
        base: Path = ("storage", "databases", dname)
        if db.version not in SUPPORTED_VERSIONS:
            nearest = min(SUPPORTED_VERSIONS, key=lambda v: abs(v - db.version))
            report("GPC262", f"database '{dname}' asks for PostgreSQL {db.version}; gpc supports {_phrase()}",
                   (*base, "version"), hint=f"use version {nearest}")
        sizes: list[tuple[Path, int | None, str | None]] = [(base, db.instances, db.storage)]
        for ename, size in db.environments.items():
            epath: Path = (*base, "environments", ename)
            if ename not in spec.environments:
                report("GPC265", f"database '{dname}' sizes environment '{ename}', which the spec does not "
                       "declare", epath, key=True,
                       hint=did_you_mean(ename, spec.environments) or "size only declared environments")
                continue
            sizes.append((epath, size.instances, size.storage))
            if size.backup is not None:
                _check_backup(spec, dname, size.backup, (*epath, "backup"), report)
        for path, instances, storage in sizes:
            if storage is not None and parse_quantity(storage) > most:
                report("GPC261", f"database '{dname}' asks for storage {storage}; the guardrails allow at most "
                       f"{rails.max_storage}", (*path, "storage"),
                       hint="lower it, or raise guardrails.databases.max_storage")
            if instances is not None and instances > rails.max_instances:
                report("GPC261", f"database '{dname}' asks for {instances} instances; the guardrails allow at "
                       f"most {rails.max_instances}", (*path, "instances"),
                       hint="lower it, or raise guardrails.databases.max_instances")


def _check_backup(spec: Platform, dname: str, backup: DatabaseBackup, path: Path, report: Reporter) -> None:
    problem = cron_error(backup.schedule)
    if problem is not None:
        report("GPC266", f"backup schedule '{backup.schedule}' of database '{dname}': {problem}",
               (*path, "schedule"), hint="five fields, minute first, in UTC: '0 3 * * *' is 03:00 every day")
    if not RETENTION.match(backup.retention):
        report("GPC267", f"backup retention '{backup.retention}' of database '{dname}' is not a whole number of "
               "days, weeks or months", (*path, "retention"), hint="for example '14d', '4w' or '6m'")
    if not spec.storage.buckets:
        # The object store is installed for the buckets (targets/argocd infra_charts); a platform
        # without any has none to back up to.
        report("GPC268", f"database '{dname}' asks for backups, but the platform has no object store to keep "
               "them in", path, key=True,
               hint="gpc installs the object store for 'storage.buckets'; declare the bucket your workloads "
               "need first, or leave backups out")
    bucket = names.database_backup_bucket(dname)
    if bucket in spec.storage.buckets:
        report("GPC269", f"the backups of database '{dname}' go to bucket '{bucket}', which the spec declares "
               "for its workloads", ("storage", "buckets", bucket), key=True,
               hint=f"rename the bucket: '{bucket}' holds the backups of database '{dname}' and nothing else")
    elif len(bucket) > BUCKET_NAME_MAX:
        report("GPC269", f"the backups of database '{dname}' would go to bucket '{bucket}', longer than "
               f"{BUCKET_NAME_MAX} characters", path, key=True,
               hint=f"shorten the database's name to at most {BUCKET_NAME_MAX - len(bucket) + len(dname)} "
               "characters")
