"""A small launcher: run a command, report its wall time, CPU time and peak RSS as JSON.

    python -I -S bench/launch.py RESULT.json COMMAND...

Why a launcher: Linux records the address space a process had before `exec` in its peak RSS,
and Python's subprocess spawns with vfork, so a child started straight from the harness
reports at least the harness's own peak (it held a whole output tree in memory for the floor).
Started from this tiny process, the child's `ru_maxrss` is its own. The clock runs inside the
launcher, from spawn to `wait4`, so the launcher's own start-up is not counted.
"""

import json
import os
import sys
import time


def main() -> int:
    result, command = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    with open(result, "w") as fh:
        json.dump({"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime,
                   "maxrss_kb": usage.ru_maxrss, "rc": os.waitstatus_to_exitcode(status)}, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
