"""`python -m fraud_checkout.migrate`: create checkout's tables in the transactions database.

Run by the migration Job gpc generates (an Argo CD PreSync hook with checkout's image and
contract), so the schema is there before the new version starts. Idempotent. Exit 0 or 1.
"""

from __future__ import annotations

import sys

import psycopg

from .config import ConfigError, from_env, redact
from .ledger import migrate


def main() -> int:
    try:
        settings = from_env()
    except ConfigError as e:
        print(f"checkout migrate: {e}", file=sys.stderr)
        return 2
    try:
        migrate(settings.database_url)
    except psycopg.Error as e:
        print(f"checkout migrate: {redact(settings.database_url)}: {e}", file=sys.stderr)
        return 1
    print(f"checkout migrate: {redact(settings.database_url)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
