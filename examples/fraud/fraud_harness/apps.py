"""The three example apps as processes, started the way their images start them."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from .processes import Process, python_env, wait_for

EXAMPLE = Path(__file__).resolve().parents[1]
APP_DIRS = {"checkout": EXAMPLE / "checkout", "fraud-trainer": EXAMPLE / "trainer",
            "fraud-inference": EXAMPLE / "inference"}
MODULES = {"checkout": "fraud_checkout", "fraud-trainer": "fraud_trainer", "fraud-inference": "fraud_inference"}


class Service(Process):
    """An HTTP app (checkout or inference) bound to loopback on its contract PORT."""

    def __init__(self, workload: str, env: dict[str, str], logdir: Path) -> None:
        self.workload = workload
        self.port = int(env["PORT"])
        argv = [sys.executable, "-m", MODULES[workload], "--host", "127.0.0.1"]
        super().__init__(workload, argv, logdir / f"{workload}.log",
                         env=python_env(env, [APP_DIRS[workload]]), cwd=APP_DIRS[workload])
        self.http = httpx.Client(timeout=30)  # one client: a new one per request costs ~30 ms

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_and_wait(self, timeout: float = 30) -> Service:
        self.start()
        wait_for(f"{self.workload} /healthz", lambda: self.get("/healthz").status_code == 200, timeout, self)
        return self

    def get(self, path: str, timeout: float = 5) -> httpx.Response:
        return self.http.get(self.url + path, timeout=timeout)

    def post(self, path: str, body: object, timeout: float = 30) -> httpx.Response:
        return self.http.post(self.url + path, json=body, timeout=timeout)

    def stop(self, grace: float = 10.0) -> int | None:
        self.http.close()
        return super().stop(grace)

    def wait_ready(self, timeout: float = 30) -> None:
        wait_for(f"{self.workload} /readyz", lambda: self.get("/readyz").status_code == 200, timeout, self)


class Job(Process):
    """The trainer: one run of `python -m fraud_trainer`."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__("fraud-trainer", [sys.executable, "-m", MODULES["fraud-trainer"]], log,
                         env=python_env(env, [APP_DIRS["fraud-trainer"]]), cwd=APP_DIRS["fraud-trainer"])

    def run(self, timeout: float = 120) -> int:
        self.start()
        assert self.popen is not None
        deadline = time.monotonic() + timeout
        while self.popen.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"the trainer ran longer than {timeout}s:\n{self.tail()}")
            time.sleep(0.05)
        return self.popen.returncode
