"""The kinds of `uses` entries, described once as data.

A `uses` entry names one thing a workload depends on by the key of its kind (`{queue: orders}`,
`{bucket: models}`, ...). Everything that differs between kinds and is not a computation lives in
this table: where the things of that kind are declared in the spec, which `access` values a use
may ask for, which wiring-contract variables it produces and which credential keys it needs. The
model's discriminator, the shape pass's messages, the semantic checks (references, access,
variable collisions), lowering and `gpc explain` read it.

Adding a kind: an entry here, its model class in compiler/model.py (listed in `USE_MODELS`), its
`wire_*` function in compiler/wiring.py, and emitters in the targets that have something to emit.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler import names


@dataclass(frozen=True)
class Variable:
    """A variable of the wiring contract: `name` is either a fixed name (shared variables) or the
    suffix of `<ALIAS>_<suffix>` (per-use variables)."""

    name: str
    description: str


@dataclass(frozen=True)
class UseKind:
    name: str  # the key that names the target in a use: {queue: orders}
    declared_in: tuple[str, ...]  # spec path of the mapping its targets are declared in
    accesses: tuple[str, ...]  # the `access` values a use of this kind takes; () when it takes none
    no_access_hint: str | None  # shown when a use of a kind without access sets one
    shared: tuple[Variable, ...]  # variables a workload gets once if it has any use of this kind
    shared_origin: str  # who sets the shared variables, for collision messages
    per_use: tuple[Variable, ...]  # <ALIAS>_<name> variables each use may produce
    credential_keys: tuple[str, ...]  # keys of the workload's credentials Secret (Terraform-made)

    @property
    def where(self) -> str:
        """Where the spec declares things of this kind, as a user writes it: `messaging.queues`."""
        return ".".join(self.declared_in)

    def variable_names(self, alias: str) -> tuple[str, ...]:
        prefix = names.env_prefix(alias)
        return tuple(f"{prefix}_{v.name}" for v in self.per_use)


USE_KINDS: dict[str, UseKind] = {
    "queue": UseKind(
        name="queue",
        declared_in=("messaging", "queues"),
        accesses=("publish", "consume"),
        no_access_hint=None,
        shared=(Variable(names.AMQP_URL_KEY, "AMQP URL with this workload's own broker credentials"),),
        shared_origin="gpc (broker credentials)",
        per_use=(
            Variable("QUEUE", "queue to {access}"),
            Variable("EXCHANGE", "exchange to publish to (it routes to the queue only)"),  # publishers only
            Variable("DEAD_LETTER_QUEUE", "where rejected messages go"),
            Variable("MESSAGE_SCHEMA", "JSON Schema every message must match"),
        ),
        credential_keys=(names.AMQP_URL_KEY,),
    ),
    "bucket": UseKind(
        name="bucket",
        declared_in=("storage", "buckets"),
        accesses=("read", "write", "readwrite"),
        no_access_hint=None,
        shared=(
            Variable("S3_ENDPOINT", "object store endpoint"),
            Variable("S3_REGION", "object store region (for request signing)"),
            Variable("S3_FORCE_PATH_STYLE", "address buckets as <endpoint>/<bucket>, never <bucket>.<host>"),
            Variable(names.S3_ACCESS_KEY, "this workload's own object-store access key"),
            Variable(names.S3_SECRET_KEY, "this workload's own object-store secret key"),
        ),
        shared_origin="gpc (object-store credentials)",
        per_use=(Variable("BUCKET", "bucket to {access}"),),
        credential_keys=(names.S3_ACCESS_KEY, names.S3_SECRET_KEY),
    ),
    "volume": UseKind(
        name="volume",
        declared_in=("storage", "volumes"),
        accesses=(),
        no_access_hint="volumes take a 'mount' path; services take nothing but the name",
        shared=(),
        shared_origin="",
        per_use=(Variable("PATH", "where the volume is mounted"),),
        credential_keys=(),
    ),
    "service": UseKind(
        name="service",
        declared_in=("workloads",),
        accesses=(),
        no_access_hint="volumes take a 'mount' path; services take nothing but the name",
        shared=(),
        shared_origin="",
        per_use=(Variable("URL", "base URL of service {target}"),),
        credential_keys=(),
    ),
    # libpq reads the PG* variables itself, and most drivers and frameworks read DATABASE_URL, so
    # they are shared, unprefixed names: a workload uses at most one database (GPC263).
    "database": UseKind(
        name="database",
        declared_in=("storage", "databases"),
        accesses=("read", "write", "owner"),
        no_access_hint=None,
        shared=(
            Variable(names.DATABASE_URL_KEY, "postgresql:// URL with this workload's own role and password"),
            Variable("PGHOST", "the database's read-write service"),
            Variable("PGPORT", "the database's port"),
            Variable("PGDATABASE", "the database's name"),
            Variable("PGUSER", "this workload's own role"),
            Variable(names.PGPASSWORD_KEY, "this workload's own role's password"),
            Variable("PGSSLMODE", "require TLS (CloudNativePG serves it with a CA of its own; `prefer` locally)"),
        ),
        shared_origin="gpc (database credentials)",
        per_use=(),
        credential_keys=(names.DATABASE_URL_KEY, names.PGPASSWORD_KEY),
    ),
}


def kinds_phrase(conjunction: str = "or") -> str:
    """`'queue', 'bucket', 'volume' or 'service'`: the kinds as a message lists them."""
    quoted = [f"'{k}'" for k in USE_KINDS]
    return f"{', '.join(quoted[:-1])} {conjunction} {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def credential_keys(kinds: set[str]) -> tuple[str, ...]:
    """The keys of the credentials Secret of a workload that uses these kinds, in table order."""
    return tuple(key for kind in USE_KINDS.values() if kind.name in kinds for key in kind.credential_keys)
