"""IR of secrets from a secret store and of credential rotation (see docs/secrets.md).

A store (`Store`) belongs to an environment; a workload's `StoreSecret`s say where each of its
declared secrets is kept. gpc writes one ClusterSecretStore per environment (restricted to that
environment's workload namespaces) and one ExternalSecret per workload that reads from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from compiler import names


@dataclass(frozen=True)
class Store:
    """An environment's secret store, as External Secrets Operator's provider needs it."""

    provider: Literal["vault", "aws"]
    name: str  # the ClusterSecretStore's name
    refresh_interval: str
    # vault
    server: str | None = None
    path: str | None = None
    version: str | None = None
    namespace: str | None = None
    approle_path: str | None = None
    # aws
    region: str | None = None
    role: str | None = None

    @property
    def credential_keys(self) -> tuple[str, ...]:
        """Keys of `names.SECRET_STORE_CREDENTIALS` the platform engineer fills in."""
        return (names.STORE_VAULT_ROLE_ID_KEY, names.STORE_VAULT_SECRET_ID_KEY) if self.provider == "vault" else (
            names.STORE_AWS_ACCESS_KEY_ID_KEY, names.STORE_AWS_SECRET_ACCESS_KEY_KEY)


@dataclass(frozen=True)
class StoreSecret:
    """One declared secret of a workload and where the store keeps it."""

    name: str  # the environment variable and the key of the workload's app Secret
    key: str
    property: str | None
