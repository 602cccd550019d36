"""The local fraud platform: broker, object store and Postgres, set up as the platform would, plus the apps."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from compiler import names

from . import plan as planning
from .apps import APP_DIRS, Job, Service
from .objectstore import ObjectStore
from .ports import free_port
from .postgres import Postgres
from .processes import Process, python_env
from .prometheus import Pushgateway
from .rabbitmq import Broker


class LocalPlatform:
    def __init__(self, workdir: Path, spec: Path = planning.SPEC, *, observed: bool = False) -> None:
        """`observed`: the broker serves its Prometheus metrics and a Pushgateway takes the jobs' runs."""
        self.dir = workdir
        self.plan = planning.load(spec)
        self.broker = Broker(workdir / "rabbitmq", self.plan, prometheus=observed)
        self.pushgateway = Pushgateway(workdir) if observed else None
        self.store = ObjectStore(workdir / "seaweedfs", self.plan)
        self.postgres = Postgres()
        self._apps: list[Process] = []

    def start(self) -> LocalPlatform:
        """Start the broker, the object store and Postgres side by side (each takes seconds to boot),
        then load the roles and grants and run each owner's migration, as the PreSync hook would."""
        errors: list[BaseException] = []

        def run(start: object) -> None:
            try:
                start()  # type: ignore[operator]
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=run, args=(s.start,)) for s in (self.broker, self.store, self.postgres)]
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
        try:
            if self.pushgateway is not None:
                self.pushgateway.start_and_wait()
            self.postgres.load(self.plan.databases)
            self.migrate()
        except BaseException:
            self.close()
            raise
        return self

    def migrate(self) -> None:
        """Each owner's declared `migrate` command, with the owner's contract environment."""
        for workload, uses in sorted(self.plan.uses.items()):
            for use in uses:
                if use.kind == "database" and use.migrate:
                    argv = [sys.executable if use.migrate[0] == "python" else use.migrate[0], *use.migrate[1:]]
                    done = subprocess.run(argv, env=python_env(self.offline_env(workload), [APP_DIRS[workload]]),
                                          cwd=APP_DIRS[workload], capture_output=True, text=True, timeout=60,
                                          check=False)
                    if done.returncode != 0:
                        raise RuntimeError(f"{workload}'s migration {list(use.migrate)} failed:\n{done.stdout}{done.stderr}")

    def offline_env(self, workload: str) -> dict[str, str]:
        """The environment of a process that calls no service (a migration, a query): the services'
        URLs stay the contract's own, the platform's endpoints and credentials are the local ones."""
        contract = {n: v for n, v, _ in planning.contract(self.plan.spec, workload)}
        urls = {u.target: contract[f"{names.env_prefix(u.alias)}_URL"]
                for u in self.plan.uses[workload] if u.kind == "service"}
        return self.env(workload, service_urls=urls)

    def rows(self, workload: str, query: str) -> list[tuple[object, ...]]:
        """A query run as `workload`'s own role (its contract DATABASE_URL)."""
        import psycopg

        with psycopg.connect(self.offline_env(workload)["DATABASE_URL"]) as conn:
            return conn.execute(query.encode()).fetchall()

    def env(self, workload: str, *, port: int | None = None, service_urls: dict[str, str] | None = None,
            scratch: Path | None = None, overrides: dict[str, str] | None = None) -> dict[str, str]:
        return planning.workload_env(
            self.plan, workload, amqp_port=self.broker.port, s3_endpoint=self.store.endpoint,
            service_urls=service_urls or {}, volume_paths={"model-artifacts": str(scratch or self.dir / "scratch")},
            port=port, overrides=overrides, pg_port=self.postgres.port, pg_passwords=self.postgres.passwords,
            pushgateway_url=self.pushgateway.url if self.pushgateway else None)

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
        """Empty queues, buckets and tables: the next test starts from a fresh platform."""
        self.stop_apps()
        self.broker.purge()
        self.store.empty()
        self.postgres.truncate(self.plan.databases["databases"])

    def adopt(self, process: Process) -> None:
        """A process started beside the apps (a Prometheus), stopped with them."""
        self._apps.append(process)

    def stop_apps(self) -> None:
        while self._apps:
            self._apps.pop().stop(grace=10)

    def close(self) -> None:
        self.stop_apps()
        if self.pushgateway is not None:
            self.pushgateway.stop()
        self.store.stop()
        self.broker.close()
        self.postgres.close()

    def __enter__(self) -> LocalPlatform:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
