"""Every CloudNativePG object gpc emits validates against CloudNativePG's own schema.

No npm or PyPI package carries CloudNativePG's CRDs (research/toolchain.md §15), so the schema is
the `clusters.postgresql.cnpg.io` CRD of the operator chart gpc pins (0.29.0, CloudNativePG
1.30.0), copied to tests/crds/cnpg-cluster-v1.schema.json with its descriptions removed. That
schema is generated from the same Go types as the upstream API reference (cloudnative-pg.v1.md),
so it is those fields, with their types and enums. The API server prunes unknown fields of a
structural schema silently; here an unknown field is an error, so a misspelled key fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import compiled_tree

from compiler import names
from targets.argocd import charts

SCHEMA = Path(__file__).parent / "crds" / "cnpg-cluster-v1.schema.json"


def closed(schema: Any) -> Any:
    """The CRD schema with every object that lists its properties closed to others (the server's
    pruning, made an error), and Kubernetes' int-or-string accepted as either."""
    if isinstance(schema, list):
        return [closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: closed(v) for k, v in schema.items()}
    if "properties" in out and "additionalProperties" not in out \
            and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    return out


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    stored = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert f"chart {charts.DATABASE_OPERATOR.version}" in stored["source"], \
        "the schema must come from the pinned operator chart: copy it again after a bump"
    return jsonschema.Draft7Validator(closed(stored["schema"]))


def clusters(tree: dict[str, str]) -> list[dict[str, Any]]:
    return [doc for path, text in sorted(tree.items()) if path.startswith("kustomize/_databases/")
            for doc in yaml.safe_load_all(text) if doc and doc.get("kind") == "Cluster"]


def test_every_cluster_validates_against_the_crd(platform: Any, validator: jsonschema.Draft7Validator) -> None:
    found = clusters(compiled_tree(platform))
    infra_envs = [e for e in platform.environments if "infra" in e.namespaces]
    assert len(found) == len(platform.databases) * len(infra_envs)
    for doc in found:
        assert doc["apiVersion"] == "postgresql.cnpg.io/v1"
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert errors == [], doc["metadata"]["name"]
        db = next(d for d in platform.databases if names.database_cluster(d.name) == doc["metadata"]["name"])
        size = db.size(next(e.name for e in infra_envs if e.infra_namespace == doc["metadata"]["namespace"]))
        spec = doc["spec"]
        assert (spec["instances"], spec["storage"]["size"]) == (size.instances, size.storage)
        assert spec["resources"]["requests"] == spec["resources"]["limits"] == {"cpu": size.cpu, "memory": size.memory}
        assert spec["imageName"].endswith(f":{db.version}")
        assert spec["bootstrap"]["initdb"]["database"] == db.name


def test_the_schema_check_bites(validator: jsonschema.Draft7Validator) -> None:
    good = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "orders"},
            "spec": {"instances": 1, "storage": {"size": "1Gi"}, "enableSuperuserAccess": True,
                     "bootstrap": {"initdb": {"database": "orders", "owner": "gpc_bootstrap"}}}}
    assert list(validator.iter_errors(good)) == []
    for spec in ({"instances": "one"}, {"storage": {"sise": "1Gi"}}, {"primaryUpdateStrategy": "sometimes"},
                 {"bootstrap": {"initdb": {"databse": "orders"}}}, {"enableSuperuserAcess": True}):
        bad = json.loads(json.dumps(good))
        bad["spec"].update(spec)
        assert list(validator.iter_errors(bad)), spec


def test_the_owner_migrates_before_its_new_version_starts(platform: Any, tmp_path: Path) -> None:
    """A PreSync hook Job runs the owner's image, at the owner's tag, with the declared command and
    the owner's whole contract; its NetworkPolicy is a hook one wave earlier; none while the owner
    awaits its first image (nothing to migrate with)."""
    import subprocess

    from conftest import require_tool

    owners = [w for w in platform.workloads if w.database is not None and w.database.migrate is not None]
    if not owners:
        pytest.skip("no database owner of this spec declares a migration")
    kubectl = require_tool("kubectl")
    for path, text in compiled_tree(platform).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    for w in owners:
        for env in platform.environments:
            built = subprocess.run([kubectl, "kustomize", str(tmp_path / names.overlay_dir(w.name, env.name))],
                                   capture_output=True, text=True, check=True).stdout
            docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(built) if d}
            job = docs.get(("Job", names.migration_job(w.name)))
            if w.awaits_delivery:
                assert job is None, (w.name, env.name)
                continue
            assert job is not None, (w.name, env.name)
            policy = docs[("NetworkPolicy", names.migration_job(w.name))]
            hook = job["metadata"]["annotations"]
            assert hook["argocd.argoproj.io/hook"] == "PreSync"
            assert int(policy["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) \
                < int(hook["argocd.argoproj.io/sync-wave"])
            main = next(d for (kind, name), d in docs.items() if name == w.name and kind in ("Deployment", "Job",
                                                                                            "CronJob"))
            ours = job["spec"]["template"]["spec"]["containers"][0]
            theirs = (main["spec"].get("jobTemplate", {}).get("spec", main["spec"]))["template"]["spec"]["containers"][0]
            assert ours["image"] == theirs["image"] and ours["image"].endswith(f":{w.initial_tag}")
            assert ours["command"] == list(w.database.migrate)
            assert [e["name"] for e in ours["env"]] == [e["name"] for e in theirs["env"]]
            assert job["spec"]["template"]["metadata"]["labels"][names.LABEL_NAME] != w.name  # not behind its Service
