"""Secrets from a secret store (External Secrets Operator) and the operators' NetworkPolicies.

One ClusterSecretStore per environment, not a SecretStore per namespace: the store's own credential
(`names.SECRET_STORE_CREDENTIALS`) then lives once, in the environment's infra namespace, which no
workload can read, instead of a copy next to the workloads in every workload namespace. Its
`conditions` admit only that environment's workload namespaces that read the store, so another
environment on the same cluster (or any other namespace) cannot read it.

One ExternalSecret per workload and environment (in its overlay: the refresh interval and the store
are the environment's) writes the Secret the pods already read, `<workload>-app-secrets`, with one key
per declared secret: the wiring contract does not change when a workload moves from the Terraform
variable to a store.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from compiler import names
from compiler.ir import Environment, Platform, Workload
from compiler.ir_secrets import Store
from targets.kustomize import meta
from targets.kustomize.network import API_SERVER_PORTS, _policy, tcp

API = "external-secrets.io/v1"


def external_secret(platform: Platform, workload: Workload, env: Environment) -> dict[str, Any]:
    store = env.secret_store
    assert store is not None and workload.app_secret is not None, "semantic_secrets: every environment has a store"
    data = []
    for secret in workload.store_secrets:
        ref = {"key": secret.key, **({"property": secret.property} if secret.property else {})}
        data.append({"secretKey": secret.name, "remoteRef": ref})
    return {
        "apiVersion": API,
        "kind": "ExternalSecret",
        "metadata": meta.metadata(workload.app_secret, meta.labels(platform, workload)),
        "spec": {
            "refreshInterval": store.refresh_interval,
            "refreshPolicy": "Periodic",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": store.name},
            # Owner: the Secret goes with its ExternalSecret; a workload that leaves the store for
            # the Terraform variable gets its Secret from Terraform again, not two owners.
            "target": {"name": workload.app_secret, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
            "data": data,
        },
    }


def cluster_secret_store(platform: Platform, env: Environment) -> dict[str, Any]:
    store = env.secret_store
    assert store is not None
    readers = sorted({w.placement(env.name).namespace for w in platform.workloads if w.store_secrets})
    return {
        "apiVersion": API,
        "kind": "ClusterSecretStore",
        "metadata": meta.metadata(store.name, meta.platform_labels(platform, store.name, "secret-store")),
        "spec": {"conditions": [{"namespaces": readers}], "provider": _provider(store, env)},
    }


def _credential(env: Environment, key: str) -> dict[str, str]:
    return {"name": names.SECRET_STORE_CREDENTIALS, "key": key, "namespace": env.infra_namespace}


def _provider(store: Store, env: Environment) -> dict[str, Any]:
    if store.provider == "vault":
        vault: dict[str, Any] = {"server": store.server, "path": store.path, "version": store.version}
        if store.namespace is not None:
            vault["namespace"] = store.namespace
        vault["auth"] = {"appRole": {"path": store.approle_path,
                                     "roleRef": _credential(env, names.STORE_VAULT_ROLE_ID_KEY),
                                     "secretRef": _credential(env, names.STORE_VAULT_SECRET_ID_KEY)}}
        return {"vault": vault}
    aws: dict[str, Any] = {"service": "SecretsManager", "region": store.region}
    if store.role is not None:
        aws["role"] = store.role
    aws["auth"] = {"secretRef": {
        "accessKeyIDSecretRef": _credential(env, names.STORE_AWS_ACCESS_KEY_ID_KEY),
        "secretAccessKeySecretRef": _credential(env, names.STORE_AWS_SECRET_ACCESS_KEY_KEY)}}
    return {"aws": aws}


def store_port(store: Store) -> int:
    """The port External Secrets reaches the store on (AWS: HTTPS)."""
    if store.provider == "vault" and store.server is not None:
        return urlsplit(store.server).port or 443
    return 443


def operator_policies(platform: Platform, env: Environment) -> list[dict[str, Any]]:
    """Egress of the operators' controllers (the infra namespace denies everything else): the API
    server, whose address gpc does not know, so by port only, as for `api_access`; External Secrets
    also the stores of every environment on the cluster it serves (an address outside it)."""
    out = []
    for operator in platform.operators(env):
        ports = set(API_SERVER_PORTS)
        if operator == names.EXTERNAL_SECRETS:
            cluster = names.cluster_url(env.cluster)
            ports |= {store_port(e.secret_store) for e in platform.environments
                      if e.secret_store is not None and names.cluster_url(e.cluster) == cluster}
        pods = names.OPERATOR_POD_LABELS[operator]
        out.append(_policy(platform, f"{operator}-egress", env.infra_namespace, {
            "podSelector": {"matchLabels": dict(pods)},
            "policyTypes": ["Egress"],
            "egress": [{"ports": tcp(*sorted(ports))}],
        }))
    return out
