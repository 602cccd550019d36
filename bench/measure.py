"""Whole-process measurement: wall time from spawn to wait4, CPU time and peak RSS of the child.

`ru_maxrss` comes from the rusage wait4 returns for the child: the largest resident set of the
child or of any descendant it waited for (the number `/usr/bin/time -v` prints). Commands run
through bench/launch.py (see there why). Preparation (deleting the previous output) runs before
the clock starts.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Run:
    wall: float
    user: float
    sys: float
    maxrss_mb: float
    rc: int


@dataclass
class Measurement:
    label: str
    command: list[str]
    cwd: str
    runs: list[Run] = field(default_factory=list)
    load_before: float = 0.0  # 1-minute load average when the measurement started
    stderr_tail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.rc == 0 for r in self.runs)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.user + r.sys for r in self.runs)

    @property
    def maxrss_mb(self) -> float:
        return max(r.maxrss_mb for r in self.runs)

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        if self.runs:
            walls = [r.wall for r in self.runs]
            body.update(ok=self.ok, wall_median=self.wall, wall_min=min(walls), wall_max=max(walls),
                        cpu_median=self.cpu, maxrss_mb=self.maxrss_mb)
        return body


LAUNCHER = Path(__file__).resolve().parent / "launch.py"


def run_once(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None,
             stdout: Path | None = None) -> tuple[Run, str]:
    """Run `command` once through bench/launch.py, which times it from spawn to wait4."""
    out_fh = open(stdout, "wb") if stdout else subprocess.DEVNULL
    fd, result = tempfile.mkstemp(prefix="gpc-bench-run-", suffix=".json")
    os.close(fd)
    try:
        # Its own session, so an interrupted bench can stop the child and its workers by group id.
        proc = subprocess.Popen([sys.executable, "-I", "-S", str(LAUNCHER), result, *command], cwd=cwd, env=env,
                                stdin=subprocess.DEVNULL, stdout=out_fh, stderr=subprocess.PIPE,
                                start_new_session=True)
        assert proc.stderr is not None
        try:
            err = proc.stderr.read()  # drained while the child runs, so a chatty child never blocks
            proc.wait()
        except BaseException:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            raise
        proc.stderr.close()
        if proc.returncode != 0:
            raise RuntimeError(f"bench/launch.py failed ({proc.returncode}): {err[-500:]!r}")
        with open(result) as fh:
            r = json.load(fh)
    finally:
        os.unlink(result)
        if stdout:
            out_fh.close()  # type: ignore[union-attr]
    run = Run(wall=r["wall"], user=r["user"], sys=r["sys"], maxrss_mb=r["maxrss_kb"] / 1024, rc=r["rc"])
    return run, err.decode("utf-8", "replace")


def measure(label: str, command: Sequence[str], cwd: Path, runs: int, *,
            prepare: Callable[[], None] | None = None, env: dict[str, str] | None = None,
            warmup: int = 0, verbose: bool = True) -> Measurement:
    """Median-of-`runs` measurement; `prepare` runs before each run, outside the timed span."""
    m = Measurement(label, list(command), str(cwd), load_before=os.getloadavg()[0])
    for i in range(warmup + runs):
        if prepare:
            prepare()
        run, err = run_once(command, cwd, env)
        m.stderr_tail = err[-2000:]  # the last run's: Kapitan's phase times, gpc's summary, or the error
        if i >= warmup or run.rc != 0:
            m.runs.append(run)
        if run.rc != 0:
            break  # a failing command is reported, not timed again
    if verbose:
        state = f"{m.wall:8.3f} s  {m.maxrss_mb:6.1f} MB" if m.ok else f"FAILED rc={m.runs[-1].rc}"
        print(f"  {label:<44} {state}  (runs {len(m.runs)}, load {m.load_before:.2f})", flush=True)
        if not m.ok:
            print("    " + m.stderr_tail.strip().replace("\n", "\n    ")[-1200:], flush=True)
    return m
