"""Every CloudNativePG object gpc emits validates against CloudNativePG's own schema.

No npm or PyPI package carries CloudNativePG's CRDs (research/toolchain.md §15), so the schema is
the `clusters.postgresql.cnpg.io` CRD of the operator chart gpc pins (0.29.0, CloudNativePG
1.30.0), copied to tests/crds/cnpg-cluster-v1.schema.json with its descriptions removed. That
schema is generated from the same Go types as the upstream API reference (cloudnative-pg.v1.md),
so it is those fields, with their types and enums. The API server prunes unknown fields of a
structural schema silently; here an unknown field is an error, so a misspelled key fails. The
`ScheduledBackup` of a backed-up database is checked the same way against the
`scheduledbackups.postgresql.cnpg.io` CRD of the same chart (tests/crds/cnpg-scheduledbackup-v1.schema.json),
and the object-store side of its backups against the Terraform that creates it.
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
BACKUP_SCHEMA = Path(__file__).parent / "crds" / "cnpg-scheduledbackup-v1.schema.json"


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


def _validator(path: Path) -> jsonschema.Draft7Validator:
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert f"chart {charts.DATABASE_OPERATOR.version}" in stored["source"], \
        "the schema must come from the pinned operator chart: copy it again after a bump"
    return jsonschema.Draft7Validator(closed(stored["schema"]))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return _validator(SCHEMA)


@pytest.fixture(scope="module")
def backup_validator() -> jsonschema.Draft7Validator:
    return _validator(BACKUP_SCHEMA)


def clusters(tree: dict[str, str], kind: str = "Cluster") -> list[dict[str, Any]]:
    return [doc for path, text in sorted(tree.items()) if path.startswith("kustomize/_databases/")
            for doc in yaml.safe_load_all(text) if doc and doc.get("kind") == kind]


def _errors(validator: jsonschema.Draft7Validator, doc: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_every_cluster_validates_against_the_crd(platform: Any, validator: jsonschema.Draft7Validator) -> None:
    found = clusters(compiled_tree(platform))
    infra_envs = [e for e in platform.environments if "infra" in e.namespaces]
    assert len(found) == len(platform.databases) * len(infra_envs)
    for doc in found:
        assert doc["apiVersion"] == "postgresql.cnpg.io/v1"
        assert _errors(validator, doc) == [], doc["metadata"]["name"]
        db = next(d for d in platform.databases if names.database_cluster(d.name) == doc["metadata"]["name"])
        size = db.size(next(e.name for e in infra_envs if e.infra_namespace == doc["metadata"]["namespace"]))
        spec = doc["spec"]
        assert (spec["instances"], spec["storage"]["size"]) == (size.instances, size.storage)
        assert spec["resources"]["requests"] == spec["resources"]["limits"] == {"cpu": size.cpu, "memory": size.memory}
        assert spec["imageName"] == names.postgres_image(db.version)
        assert spec["bootstrap"]["initdb"]["database"] == db.name
        if size.backup is None:
            assert "backup" not in spec, doc["metadata"]["name"]
            continue
        store = spec["backup"]["barmanObjectStore"]
        assert spec["backup"]["retentionPolicy"] == size.backup.retention
        assert store["destinationPath"] == f"s3://{names.database_backup_bucket(db.name)}/"
        assert store["endpointURL"] == (f"http://{names.OBJECT_STORE_SERVICE}.{doc['metadata']['namespace']}"
                                        f".svc.cluster.local:{names.OBJECT_STORE_PORT}")
        assert {ref["name"] for ref in store["s3Credentials"].values()} == {names.database_backup_secret(db.name)}


def test_every_scheduled_backup_validates_and_runs_when_the_spec_says(
        platform: Any, backup_validator: jsonschema.Draft7Validator) -> None:
    """One ScheduledBackup per database and environment that asks for backups; its six-field
    schedule (seconds first, as CloudNativePG's parser reads it) fires at the minutes the spec's
    five-field schedule names, never every hour."""
    found = clusters(compiled_tree(platform), "ScheduledBackup")
    wanted = {(e.infra_namespace, db.name): db.size(e.name).backup for e in platform.environments
              if "infra" in e.namespaces for db in platform.databases if db.size(e.name).backup is not None}
    assert {(d["metadata"]["namespace"], d["spec"]["cluster"]["name"]) for d in found} == set(wanted)
    for doc in found:
        assert _errors(backup_validator, doc) == [], doc["metadata"]
        backup = wanted[(doc["metadata"]["namespace"], doc["spec"]["cluster"]["name"])]
        schedule = doc["spec"]["schedule"]
        if backup.schedule.startswith("@"):
            assert schedule == backup.schedule
        else:
            assert schedule.split() == ["0", *backup.schedule.split()]
        assert doc["spec"]["method"] == "barmanObjectStore" and doc["spec"]["immediate"] is True


def test_backups_reach_their_own_bucket_with_their_own_user(platform: Any) -> None:
    """The Secret, keys and bucket each Cluster names are the ones Terraform creates, and the user's
    policy names that bucket and no other."""
    from test_terraform_support import locals_of, parse

    tree = compiled_tree(platform)
    for env in platform.environments:
        backed = {db.name for db in platform.databases if db.size(env.name).backup is not None}
        path = f"terraform/{env.name}/services/locals.tf"
        local = locals_of(parse(tree[path])) if path in tree else {}
        made = local.get("database_backups", {})
        assert set(made) == backed, env.name
        kept = {d["metadata"]["name"]: d["spec"]["backup"]["barmanObjectStore"] for d in clusters(tree)
                if d["metadata"]["namespace"] == env.infra_namespace and "backup" in d["spec"]}
        for name, entry in made.items():
            store = kept[names.database_cluster(name)]
            assert store["destinationPath"] == f"s3://{entry['bucket']}/"
            assert {(ref["name"], ref["key"]) for ref in store["s3Credentials"].values()} \
                == {(entry["keys_secret"], entry["access_key"]), (entry["keys_secret"], entry["secret_key"])}
            resources = {r for st in entry["policy"]["Statement"] for r in st["Resource"]}
            assert resources == {f"arn:aws:s3:::{entry['bucket']}", f"arn:aws:s3:::{entry['bucket']}/*"}
            assert not any("*" in a for st in entry["policy"]["Statement"] for a in st["Action"])


def test_in_tree_backups_only_on_an_operator_that_still_has_them() -> None:
    """CloudNativePG removes `barmanObjectStore` in 1.31.0 (its 1.30 release notes): a bump of the
    operator chart past 1.30 must move the backups to the Barman Cloud plugin first, or the
    operator would drop them. This fails the bump until it does."""
    version = tuple(int(p) for p in charts.CNPG_IMAGE[2].split("@")[0].split("."))
    assert version < (1, 31), "switch database backups to the Barman Cloud plugin before this operator bump"


def test_gpc_checks_the_retention_the_crd_accepts() -> None:
    """GPC267 and the editor schema use the CRD's own pattern, so no retention passes gpc and fails
    at the API server."""
    from compiler.model import RETENTION_PATTERN

    stored = json.loads(SCHEMA.read_text(encoding="utf-8"))["schema"]
    assert stored["properties"]["spec"]["properties"]["backup"]["properties"]["retentionPolicy"]["pattern"] \
        == RETENTION_PATTERN


def test_the_backup_schema_check_bites(backup_validator: jsonschema.Draft7Validator) -> None:
    good = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "ScheduledBackup", "metadata": {"name": "orders"},
            "spec": {"schedule": "0 0 3 * * *", "cluster": {"name": "orders"}, "method": "barmanObjectStore"}}
    assert list(backup_validator.iter_errors(good)) == []
    for spec in ({"method": "barman"}, {"cluster": {"nmae": "orders"}}, {"immediate": "yes"},
                 {"backupOwnerReference": "mine"}, {"schedul": "@daily"}):
        bad = json.loads(json.dumps(good))
        bad["spec"].update(spec)
        assert list(backup_validator.iter_errors(bad)), spec


def test_every_supported_major_runs_a_pinned_image_with_barman_cloud() -> None:
    """Each major gpc accepts has an image of that major, pinned by digest, of the `system` type (the
    one with barman-cloud, which in-tree backups run)."""
    import re

    from compiler.semantic_databases import SUPPORTED_VERSIONS

    assert set(names.POSTGRES_IMAGES) == set(SUPPORTED_VERSIONS)
    for major, ref in names.POSTGRES_IMAGES.items():
        assert re.fullmatch(rf"{major}\.[0-9]+-[0-9]{{12}}-system-trixie@sha256:[0-9a-f]{{64}}", ref), ref


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
