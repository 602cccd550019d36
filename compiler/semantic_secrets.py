"""Semantic checks of secrets that come from a secret store (GPC225-228).

A workload's secrets come from one place: the Terraform variable (no `secret_sources`) or the
environment's store (every secret has a source). Mixing the two would make two owners write one
Secret. A workload that reads its secrets from a store runs in every environment, so each
environment must name a store: otherwise the Secret would exist empty at run time. Listed in
compiler/semantic.py's CHECKS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.hints import did_you_mean
from compiler.model import Platform

if TYPE_CHECKING:
    from compiler.semantic import Reporter


def check_secret_sources(spec: Platform, report: Reporter) -> None:
    for wname, w in spec.workloads.items():
        if not w.secret_sources:
            continue
        declared = set(w.secrets)
        for name in w.secret_sources:
            if name not in declared:
                guess = did_you_mean(name, sorted(declared))
                report("GPC225", f"secret source '{name}' of workload '{wname}' names no secret it declares",
                       ("workloads", wname, "secret_sources", name), key=True,
                       hint=guess if guess else f"add '{name}' to the workload's `secrets`")
        for index, name in enumerate(w.secrets):
            if name not in w.secret_sources:
                report("GPC226", f"secret '{name}' of workload '{wname}' has no source, but its other secrets "
                       "come from the secret store; one workload's secrets come from one place",
                       ("workloads", wname, "secrets", index),
                       hint=f"add '{name}: {{key: <path in the store>}}' to `secret_sources`")


def check_stores(spec: Platform, report: Reporter) -> None:
    readers = sorted(wname for wname, w in spec.workloads.items() if w.secret_sources)
    for ename, env in spec.environments.items():
        store = env.secret_store
        if store is None:
            if readers:
                first = readers[0]
                report("GPC227", f"environment '{ename}' names no secret store, but workload '{first}' takes "
                       f"'{next(iter(spec.workloads[first].secret_sources))}' from one"
                       + (f" (and {len(readers) - 1} more workloads)" if len(readers) > 1 else "")
                       + f"; its Secret would be empty in '{ename}'", ("environments", ename), key=True,
                       hint="add 'secret_store: {vault: {server: https://vault.example.com}}' (or `aws`)")
            continue
        providers = [name for name in ("vault", "aws") if getattr(store, name) is not None]
        if len(providers) != 1:
            what = "names no provider" if not providers else "names two providers (vault and aws)"
            report("GPC228", f"the secret store of environment '{ename}' {what}; it names exactly one",
                   ("environments", ename, "secret_store"), key=True,
                   hint="keep one of `vault: {server: ...}` and `aws: {region: ...}`")
