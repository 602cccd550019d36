"""Finding and loading the newest model version in the bucket, and keeping it in service.

Layout written by the trainer: `models/<version>/model.json` then `models/<version>/metadata.json`;
metadata.json is written last, so a version counts only once it exists. Versions are UTC
timestamps (`20261125T204501123456Z`) that sort as strings.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import urllib3
from minio import Minio
from minio.error import S3Error

from .config import Settings
from .model import FraudModel, ModelError, parse

log = logging.getLogger("fraud_inference.store")

PREFIX = "models/"
VERSION = re.compile(r"^\d{8}T\d{12}Z$")
MAX_MODEL_BYTES = 5 * 1024 * 1024


def client(settings: Settings) -> Minio:
    # Short timeouts and one retry: a poll must fail fast and try again later, never hang.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=2, read=5),
        retries=urllib3.Retry(total=1, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
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


@dataclass(frozen=True)
class Loaded:
    model: FraudModel
    metadata: dict[str, Any]


class ModelHolder:
    """The model in service. Swapped as a whole reference, so requests never see half a model."""

    def __init__(self, s3: Minio, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self.current: Loaded | None = None
        self.last_error: str | None = None
        self._refused: set[str] = set()

    def versions(self) -> list[str]:
        """Version folders in the bucket, newest first (complete or not)."""
        found = []
        for obj in self._s3.list_objects(self._bucket, prefix=PREFIX):
            name = obj.object_name.removeprefix(PREFIX).rstrip("/")
            if obj.is_dir and VERSION.match(name):
                found.append(name)
        return sorted(found, reverse=True)

    def refresh(self) -> bool:
        """Serve the newest complete, valid version if it is newer than the current one."""
        current = self.current.model.version if self.current else ""
        for version in self.versions():
            if version <= current:
                break
            if version in self._refused:
                continue
            try:
                metadata = self._read_json(f"{PREFIX}{version}/metadata.json")
            except S3Error as e:
                if e.code == "NoSuchKey":
                    continue  # still being written: metadata.json comes last
                raise
            try:
                model = parse(self._read_json(f"{PREFIX}{version}/model.json"))
                if model.version != version:
                    raise ModelError(f"model.json says version {model.version!r}")
            except (ModelError, ValueError) as e:
                log.error("refusing model version %s: %s", version, e)
                self._refused.add(version)
                continue
            self.current = Loaded(model=model, metadata=metadata)
            self.last_error = None
            log.info("serving model version %s (%s, previous: %s)", version, model.kind, current or "none")
            return True
        self.last_error = None
        return False

    def poll(self, stop: threading.Event, every: float) -> None:
        """Refresh until `stop`; a failing object store is logged and retried, never fatal."""
        while not stop.is_set():
            try:
                self.refresh()
            except Exception as e:  # store down, network, bad credentials: keep serving what we have
                self.last_error = f"{type(e).__name__}: {e}"
                log.warning("cannot check bucket %s for models (%s); serving %s", self._bucket, self.last_error,
                            self.current.model.version if self.current else "nothing")
            stop.wait(every)

    def _read_json(self, key: str) -> Any:
        response = self._s3.get_object(self._bucket, key)
        try:
            data = response.read(MAX_MODEL_BYTES + 1)
        finally:
            response.close()
            response.release_conn()
        if len(data) > MAX_MODEL_BYTES:
            raise ModelError(f"{key} is larger than {MAX_MODEL_BYTES} bytes")
        return json.loads(data)
