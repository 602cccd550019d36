"""Child processes we start and stop by their own PID, with their output in a log file."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class Process:
    def __init__(self, name: str, argv: Sequence[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.name, self.argv, self.log, self.env, self.cwd = name, list(argv), log, env, cwd
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> Process:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            # A session of its own: a Ctrl-C in the terminal reaches only us, and we stop children in order.
            self.popen = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=self.env, cwd=self.cwd, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (a crash)."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


def wait_for(what: str, check: Callable[[], bool], timeout: float, process: Process | None = None,
             interval: float = 0.05) -> None:
    """Poll `check` until true; fail with the process's log if it died or time ran out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # not up yet: connection refused and the like
            pass
        if process is not None and process.popen is not None and process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited with {process.popen.returncode} while waiting for {what}:\n"
                               f"{process.tail()}")
        if time.monotonic() > deadline:
            log = f":\n{process.tail()}" if process else ""
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}{log}")
        time.sleep(interval)


def python_env(extra: dict[str, str], pythonpath: Sequence[Path] = ()) -> dict[str, str]:
    """A minimal environment for an app: PATH and locale from ours, then only `extra`."""
    env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR") if k in os.environ}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env
