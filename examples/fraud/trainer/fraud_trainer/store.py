"""Writing a model version to the bucket: `models/<version>/model.json`, then `metadata.json`.

Versions are UTC timestamps to the microsecond (`20261125T204501123456Z`): they sort as strings,
and the trainer needs no permission beyond writing (it never lists or reads the bucket).
metadata.json goes last and marks the version complete; inference ignores versions without it.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import urllib3
from minio import Minio

from .config import Settings

PREFIX = "models/"


def client(settings: Settings) -> Minio:
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=5, read=30),
        retries=urllib3.Retry(total=3, backoff_factor=0.5, status_forcelist=(500, 502, 503, 504)),
    )
    # The platform's region (S3_REGION) spares the SDK a GetBucketLocation call, which the
    # workload is not granted; path style (S3_FORCE_PATH_STYLE) keeps requests on the endpoint's
    # host instead of `<bucket>.<host>`, a name no in-cluster DNS resolves.
    s3 = Minio(settings.s3_endpoint, access_key=settings.s3_access_key, secret_key=settings.s3_secret_key,
               secure=settings.s3_secure, http_client=http, region=settings.s3_region)
    if settings.s3_path_style:
        s3.disable_virtual_style_endpoint()
    else:
        s3.enable_virtual_style_endpoint()
    return s3


def new_version(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def put_version(s3: Minio, bucket: str, version: str, document: dict[str, Any], metadata: dict[str, Any]) -> None:
    for name, content in (("model.json", document), ("metadata.json", metadata)):
        data = (json.dumps(content, indent=2, sort_keys=True) + "\n").encode()
        s3.put_object(bucket, f"{PREFIX}{version}/{name}", io.BytesIO(data), len(data),
                      content_type="application/json")
