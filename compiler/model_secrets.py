"""The spec model of secrets that come from a secret store (External Secrets Operator).

An environment names one store (`environments.<env>.secret_store`: HashiCorp Vault's KV engine or
AWS Secrets Manager); a workload says where each of its declared `secrets` is kept in that store
(`workloads.<w>.secret_sources`). Field descriptions become editor hover text. What the model
cannot judge alone (a source for a secret the workload does not declare, a workload whose secrets
come from two places, an environment without a store) is checked by compiler/semantic_secrets.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
# A store path or key: no leading '/', no empty or dot segments.
STORE_KEY_PATTERN = r"^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$"
AWS_REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"
AWS_ROLE_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$"
# The Secret the platform engineer creates in the environment's infra namespace for the store.
CREDENTIALS_DESCRIPTION = ("The store's own credential is never in the spec: the platform engineer creates "
                           "the Secret `secret-store-credentials` in the environment's infra namespace "
                           "(the generated README says which keys).")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class VaultStore(_Strict):
    """HashiCorp Vault (or OpenBao): a KV secrets engine, read with an AppRole."""

    model_config = ConfigDict(title="Vault store")
    server: str = Field(pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]+)?/?$",
                        description="Vault's address (HTTPS only).", examples=["https://vault.example.com:8200"])
    path: str = Field("secret", pattern=STORE_KEY_PATTERN, description="Mount path of the KV secrets engine.",
                      examples=["secret"])
    version: Literal["v1", "v2"] = Field("v2", description="Version of the KV engine at `path`.")
    namespace: str | None = Field(None, pattern=STORE_KEY_PATTERN, description="Vault Enterprise namespace, "
                                  "when the engine lives in one.", examples=["platform"])
    approle_path: str = Field("approle", pattern=STORE_KEY_PATTERN, description="Mount path of the AppRole "
                              "auth method External Secrets logs in with. Its role ID and secret ID are the "
                              "keys `role-id` and `secret-id` of `secret-store-credentials`. "
                              + CREDENTIALS_DESCRIPTION, examples=["approle"])


class AwsStore(_Strict):
    """AWS Secrets Manager, read with an access key (and optionally a role it assumes)."""

    model_config = ConfigDict(title="AWS Secrets Manager store")
    region: str = Field(pattern=AWS_REGION_PATTERN, description="AWS region of the secrets.",
                        examples=["eu-west-1"])
    role: str | None = Field(None, pattern=AWS_ROLE_PATTERN, description="IAM role to assume before reading, "
                             "so the access key itself can be allowed nothing but `sts:AssumeRole`. The access "
                             "key is the keys `access-key-id` and `secret-access-key` of "
                             "`secret-store-credentials`. " + CREDENTIALS_DESCRIPTION,
                             examples=["arn:aws:iam::123456789012:role/platform-dev-secrets"])


class SecretStore(_Strict):
    """Where the environment's workloads' `secret_sources` are read from: name exactly one of
    `vault` and `aws`. gpc installs External Secrets Operator in the environment and writes one
    ClusterSecretStore that only the environment's own workload namespaces may use."""

    model_config = ConfigDict(title="Secret store")
    vault: VaultStore | None = Field(None, description="HashiCorp Vault's KV secrets engine.")
    aws: AwsStore | None = Field(None, description="AWS Secrets Manager.")
    refresh_interval: str = Field("1h", pattern=DURATION_PATTERN, min_length=2,
                                  description="How often External Secrets reads each workload's secrets again; a "
                                  "changed value then restarts the workload's pods (Reloader).",
                                  examples=["1h", "15m"])


class SecretSource(_Strict):
    """Where one declared secret is kept in the environment's secret store."""

    model_config = ConfigDict(title="Secret source")
    key: str = Field(pattern=STORE_KEY_PATTERN, description="The secret's path in the store: below the KV "
                     "mount (Vault) or the secret's name (AWS Secrets Manager). Every environment reads the "
                     "same key from its own store.", examples=["payments/stripe"])
    property: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+$", description="The field of a structured "
                                 "(JSON or KV) secret to take. Absent: the whole value.", examples=["api_key"])
