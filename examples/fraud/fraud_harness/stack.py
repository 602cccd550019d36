"""The local fraud platform: broker + object store, set up as the platform would, plus the apps."""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

from . import plan as planning
from .apps import Job, Service
from .objectstore import ObjectStore
from .ports import free_port
from .processes import Process
from .rabbitmq import Broker


class LocalPlatform:
    def __init__(self, workdir: Path, spec: Path = planning.SPEC) -> None:
        self.dir = workdir
        self.plan = planning.load(spec)
        self.broker = Broker(workdir / "rabbitmq", self.plan)
        self.store = ObjectStore(workdir / "seaweedfs", self.plan)
        self._apps: list[Process] = []

    def start(self) -> LocalPlatform:
        """Start the broker and the object store side by side (each takes seconds to boot)."""
        errors: list[BaseException] = []

        def run(start: object) -> None:
            try:
                start()  # type: ignore[operator]
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=run, args=(s.start,)) for s in (self.broker, self.store)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                t.join()
        except BaseException:  # Ctrl-C: let both finish starting, so that close() stops what they started
            for t in threads:
                t.join()
            self.close()
            raise
        if errors:
            self.close()
            raise errors[0]
        return self

    def env(self, workload: str, *, port: int | None = None, service_urls: dict[str, str] | None = None,
            scratch: Path | None = None, overrides: dict[str, str] | None = None) -> dict[str, str]:
        return planning.workload_env(
            self.plan, workload, amqp_port=self.broker.port, s3_endpoint=self.store.endpoint,
            service_urls=service_urls or {}, volume_paths={"model-artifacts": str(scratch or self.dir / "scratch")},
            port=port, overrides=overrides)

    def service(self, workload: str, logdir: Path, *, service_urls: dict[str, str] | None = None,
                overrides: dict[str, str] | None = None) -> Service:
        """An app process with its contract environment (not started yet; stopped by close())."""
        env = self.env(workload, port=free_port(), service_urls=service_urls, overrides=overrides)
        app = Service(workload, env, logdir)
        self._apps.append(app)
        return app

    def trainer(self, log: Path, scratch: Path, overrides: dict[str, str] | None = None) -> Job:
        job = Job(self.env("fraud-trainer", scratch=scratch, overrides=overrides), log)
        self._apps.append(job)
        return job

    def reset(self) -> None:
        """Empty queues and buckets: the next test starts from a fresh platform."""
        self.stop_apps()
        self.broker.purge()
        self.store.empty()

    def stop_apps(self) -> None:
        while self._apps:
            self._apps.pop().stop(grace=10)

    def close(self) -> None:
        self.stop_apps()
        self.store.stop()
        self.broker.close()

    def __enter__(self) -> LocalPlatform:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
