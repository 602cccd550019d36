"""The object-store side of database backups (terraform/modules/database_backups/, called by
terraform/<env>/services/ with that environment's `database_backups` local).

Each backed-up database gets its own bucket, its own object-store user and a policy that lets that
user do in that bucket exactly what barman-cloud does there (CloudNativePG's base backups, WAL
archiving and retention: list, read, write, delete, multipart uploads) and nothing anywhere else.
Its keys go to a Secret in the infra namespace that the Cluster's `barmanObjectStore` names, like
the workloads' object-store users and their credentials Secrets (targets/kustomize/databases.py).
"""

from __future__ import annotations

from typing import Any

from compiler import names
from compiler.ir import Environment, Platform

BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")
OBJECT_ACTIONS = ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts",
                  "s3:PutObject")


def policy(bucket: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(OBJECT_ACTIONS), "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        {"Effect": "Allow", "Action": list(BUCKET_ACTIONS), "Resource": [f"arn:aws:s3:::{bucket}"]},
    ]}


def database_backups(platform: Platform, env: Environment) -> dict[str, dict[str, Any]] | None:
    """database -> bucket, user, keys_secret (the Secret of the user's keys), the key names, policy;
    None where no database is backed up here."""
    out = {}
    for db in platform.databases:
        if db.size(env.name).backup is None:
            continue
        bucket = names.database_backup_bucket(db.name)
        out[db.name] = {"bucket": bucket, "user": names.database_backup_user(db.name),
                        "keys_secret": names.database_backup_secret(db.name),
                        "access_key": names.S3_ACCESS_KEY, "secret_key": names.S3_SECRET_KEY,
                        "policy": policy(bucket)}
    return out or None
