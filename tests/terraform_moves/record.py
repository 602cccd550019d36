"""Records every resource address of the Terraform layout before terraform/modules/ (gpc at commit
1243f8b, where each environment's root modules declared all their resources themselves), read
from that commit's committed trees with python-hcl2: `python tests/terraform_moves/record.py`
writes `before.json`, which test_terraform_moves.py checks the `moved` blocks against.

Per tree (the spec it was compiled from), environment and root module: each resource address with
its `for_each` expression and, where that is a local map or set, the instance keys it had.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
COMMIT = "1243f8b"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def _spec(tree: str) -> str | None:
    """The spec a committed tree was compiled from (None: not a valid spec's tree)."""
    if tree.startswith("out/"):
        return f"specs/{tree.split('/')[1]}.yaml"
    if tree.startswith("tests/cases/valid/"):
        return f"tests/cases/valid/{tree.split('/')[3]}/platform.yaml"
    return None


def _keys(for_each: str | None, local: dict[str, Any]) -> list[str] | None:
    if for_each is None:
        return None
    for prefix, suffix in (("${local.", "}"), ("${toset(local.", ")}")):
        if for_each.startswith(prefix) and for_each.endswith(suffix):
            item = local.get(for_each[len(prefix):-len(suffix)])
            if isinstance(item, dict):
                return sorted(item)
            if isinstance(item, list):
                return sorted(set(item))
    if "local.database_roles" in for_each:  # { for workload, r in local.database_roles : ... if ... }
        database = for_each.split('r.database == "', 1)[1].split('"', 1)[0]
        owners = "r.access != \"owner\"" in for_each
        return sorted(w for w, r in local["database_roles"].items()
                      if r["database"] == database and not (owners and r["access"] == "owner"))
    return None


def record() -> dict[str, Any]:
    from test_terraform_support import locals_of, parse_module

    files = [p for p in _git("ls-tree", "-r", "--name-only", COMMIT).splitlines()
             if "/terraform/" in p and p.endswith(".tf")]
    roots: dict[tuple[str, str, str], dict[str, str]] = {}
    for path in files:
        tree, rest = path.split("/terraform/", 1)
        env, stage, name = rest.split("/")
        roots.setdefault((tree, env, stage), {})[name] = _git("show", f"{COMMIT}:{path}")
    out: dict[str, Any] = {}
    for (tree, env, stage), texts in sorted(roots.items()):
        spec = _spec(tree)
        if spec is None:
            continue
        module = parse_module(texts)
        local = locals_of(module)
        resources = {}
        for block in module.get("resource", []):
            for type_name, items in block.items():
                for name, body in items.items():
                    for_each = body.get("for_each")
                    resources[f"{type_name}.{name}"] = {"for_each": for_each, "keys": _keys(for_each, local)}
        for item in resources.values():  # for_each over another resource: that resource's keys
            if item["keys"] is None and item["for_each"] and item["for_each"][2:-1] in resources:
                item["keys"] = resources[item["for_each"][2:-1]]["keys"]
        out.setdefault(spec, {}).setdefault(env, {})[stage] = dict(sorted(resources.items()))
    return out


if __name__ == "__main__":
    target = Path(__file__).with_name("before.json")
    target.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
