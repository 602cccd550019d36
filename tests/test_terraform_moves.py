"""A state of the earlier Terraform layout survives the move to terraform/modules/: no resource of
it is destroyed and re-created.

`terraform_moves/before.json` holds every resource address (and every instance key) that each
environment's root modules had before the shared modules existed, read from the committed trees of
gpc at commit 1243f8b (terraform_moves/record.py). For every spec recorded there, the current
output must keep each old address where it was, or name it as the `from` of exactly one `moved`
block (of the whole resource, or of every one of its instances) whose `to` is a resource the new
tree declares, with the same instance keys: Terraform then moves each state entry to its new
address and plans no destroy and no create for it.

`terraform plan` cannot run here (it needs the providers from the registry), so the addresses and
keys are computed from the parsed files: a module resource's `for_each` names one of the module's
variables, and the root module's call gives that variable one of its locals.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, load_ir
from test_terraform_support import (
    called_modules,
    locals_of,
    parse,
    parse_module,
    root_files,
    terraform_artifacts,
)

BEFORE: dict[str, Any] = json.loads((ROOT / "tests" / "terraform_moves" / "before.json").read_text(encoding="utf-8"))
_INSTANCE = re.compile(r'^(?P<address>[^\[]+)\["(?P<key>[^"]*)"\]$')


@cache
def _artifacts(spec: str) -> Any:
    return terraform_artifacts(load_ir(ROOT / spec))


def _resources(module: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{t}.{n}": body for block in module.get("resource", []) for t, items in block.items()
            for n, body in items.items()}


def _keys(expression: str | None, scope: dict[str, Any]) -> list[str] | None:
    """The instance keys a `for_each` expression gives, where it names data of `scope`
    (variables as `var.<name>`, locals as `local.<name>`), or None for a single instance."""
    if expression is None:
        return None
    inner = expression[2:-1]
    if inner.startswith("toset(") and inner.endswith(")"):
        return sorted(set(scope[inner[6:-1]]))
    if inner in scope:
        item = scope[inner]
        return sorted(item) if isinstance(item, dict) else sorted(set(item))
    match = re.fullmatch(r'\{for (\w+), (\w+) in ([\w.]+) : \1 => \2( if (.*))?\}', inner)
    assert match, f"cannot tell the instances of for_each = {expression}"
    source, condition = scope[match.group(3)], match.group(5) or ""
    keys = []
    for key, item in source.items():
        ok = all(item[m.group(1)] == m.group(2) for m in re.finditer(rf'{match.group(2)}\.(\w+) == "([^"]*)"', condition))
        ok = ok and all(item[m.group(1)] != m.group(2)
                        for m in re.finditer(rf'{match.group(2)}\.(\w+) != "([^"]*)"', condition))
        if ok:
            keys.append(key)
    return sorted(keys)


@cache
def _new_layout(spec: str, env: str, stage: str) -> tuple[dict[str, list[str] | None], list[tuple[str, str]]]:
    """Every resource address the current root module declares, itself or through its module
    calls (`module.<call>.<type>.<name>`), with its instance keys; and its `moved` blocks."""
    artifacts = _artifacts(spec)
    root = root_files(artifacts, env, stage)
    module = parse_module(root)
    local = {f"local.{k}": v for k, v in locals_of(module).items()}
    # Module calls pass locals, or a `for` over one: what the call passes, evaluated.
    addresses: dict[str, list[str] | None] = {a: _keys(r.get("for_each"), local) for a, r in _resources(module).items()}
    calls = {label: body for block in module.get("module", []) for label, body in block.items()}
    for label, folder in called_modules(root).items():
        prefix = f"terraform/modules/{folder}/"
        shared = parse_module({a.path[len(prefix):]: a.text for a in artifacts if a.path.startswith(prefix)})
        scope: dict[str, Any] = {}
        for name, argument in calls[label].items():
            if isinstance(argument, str) and argument.startswith("${") and name not in ("source", "depends_on"):
                try:
                    scope[f"var.{name}"] = _value(argument, local)
                except KeyError:
                    pass  # a value another module computes (a namespace, a password): no for_each uses it
        for name, expression in locals_of(shared).items():
            if isinstance(expression, str) and expression.startswith("${{for"):
                keys = _keys(expression, scope)
                scope[f"local.{name}"] = {k: scope_item(scope, expression, k) for k in keys or []}
        resources = _resources(shared)
        for address, body in resources.items():
            for_each = body.get("for_each")
            if for_each and for_each[2:-1] in resources:  # for_each over another resource of the module
                keys = _keys(resources[for_each[2:-1]].get("for_each"), scope)
            else:
                keys = _keys(for_each, scope)
            addresses[f"module.{label}.{address}"] = keys
    moves = [(body["from"][2:-1], body["to"][2:-1]) for body in module.get("moved", [])]
    return addresses, moves


def scope_item(scope: dict[str, Any], expression: str, key: str) -> Any:
    source = re.fullmatch(r'\$\{\{for \w+, \w+ in ([\w.]+) :.*', expression)
    assert source, expression
    return scope[source.group(1)][key]


def _value(argument: str, local: dict[str, Any]) -> Any:
    inner = argument[2:-1]
    if inner in local:
        return local[inner]
    if re.fullmatch(r'\{for (\w+), (\w+) in ([\w.]+) : \1 => \2( if (.*))?\}', inner):
        keys = _keys(argument, local)
        source = re.fullmatch(r'\{for \w+, \w+ in ([\w.]+) :.*', inner)
        assert source is not None and keys is not None
        return {k: local[source.group(1)][k] for k in keys}
    raise KeyError(inner)


CASES = [(spec, env, stage) for spec, envs in sorted(BEFORE.items()) for env, stages in sorted(envs.items())
         for stage in sorted(stages) if (ROOT / spec).is_file()]


def _kept(old: list[str] | None, new: list[str] | None) -> bool:
    """Every instance of the earlier layout is still an instance (a keyless resource stays keyless)."""
    if old is None or new is None:
        return old == new
    return set(old) <= set(new)


@pytest.mark.parametrize(("spec", "env", "stage"), CASES, ids=[f"{Path(s).parent.name if s.endswith('platform.yaml') else Path(s).stem}-{e}-{t}" for s, e, t in CASES])
def test_every_old_address_stays_or_moves_to_a_resource_of_the_new_tree(spec: str, env: str, stage: str) -> None:
    before: dict[str, Any] = BEFORE[spec][env][stage]
    after, moves = _new_layout(spec, env, stage)
    assert len({origin for origin, _ in moves}) == len(moves), "two moved blocks from one address"
    assert len({destination for _, destination in moves}) == len(moves), "two moved blocks to one address"
    whole = dict(moves)
    for address, old in before.items():
        old_keys = old["keys"]
        if address in after:
            assert address not in whole, f"{address} is still declared and moved too"
            # A spec changed since the recording may add instances (a new namespace); none may go.
            assert _kept(old_keys, after[address]), address
            continue
        if address in whole:
            destination = whole[address]
            assert destination in after, f"moved {address} to {destination}, which the new tree does not declare"
            assert _kept(old_keys, after[destination]), f"{address} -> {destination} drops instances"
            continue
        # Moved instance by instance: every instance it had, each to an instance of the same key.
        assert old_keys is not None, f"{address} is neither declared any more nor moved"
        for key in old_keys:
            targets = [d for o, d in moves if o == f'{address}["{key}"]']
            assert len(targets) == 1, f'{address}["{key}"] is the from of {len(targets)} moved blocks'
            match = _INSTANCE.match(targets[0])
            assert match and match.group("key") == key, targets[0]
            assert key in (after.get(match.group("address")) or []), f"{targets[0]} is not an instance of the new tree"


def test_moved_blocks_name_only_old_addresses_and_new_resources() -> None:
    """Every `moved` block is needed: its `from` was an address (or instance) of the earlier layout
    in some recorded spec, and its `to` is declared by the new tree."""
    for spec, env, stage in CASES:
        before = BEFORE[spec][env][stage]
        after, moves = _new_layout(spec, env, stage)
        for origin, destination in moves:
            match = _INSTANCE.match(origin)
            base = match.group("address") if match else origin
            if base in before:
                assert match is None or match.group("key") in before[base]["keys"], (spec, env, origin)
            target = _INSTANCE.match(destination)
            assert (target.group("address") if target else destination) in after, (spec, env, destination)


def test_the_record_is_the_layout_before_the_modules() -> None:
    """before.json is what it says: resources declared in the root modules, none in a module."""
    assert len(CASES) >= 20
    fraud = BEFORE["specs/fraud.yaml"]["dev"]
    assert "helm_release.argocd_root" in fraud["cluster"] and "postgresql_role.transactions" in fraud["services"]
    assert fraud["services"]["random_password.database"]["keys"] == ["checkout", "fraud-trainer"]
    assert not any(a.startswith("module.") for envs in BEFORE.values() for stages in envs.values()
                   for resources in stages.values() for a in resources)
    # ... and the current tree no longer declares them at the root.
    artifacts = _artifacts("specs/fraud.yaml")
    assert not parse(root_files(artifacts, "dev", "services")["main.tf"]).get("resource")
