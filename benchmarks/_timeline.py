"""Runs the ``skylift`` command with time stamps at the steps of an upload.

Used by profile_upload.py as the child process instead of ``skylift``: it wraps a few
functions of the running code (nothing is changed on disk) and prints, at exit, one
JSON line ``{"timeline": [[label, seconds since BENCH_T0], ...]}`` on stderr.
BENCH_T0 is the parent's ``time.perf_counter()`` just before it started this process
(the same clock: CLOCK_MONOTONIC, shared by all processes).
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
from typing import Any

T0 = float(os.environ.get("BENCH_T0", "0")) or time.perf_counter()
marks: list[tuple[str, float]] = [("python started", time.perf_counter() - T0)]


def mark(label: str) -> None:
    marks.append((label, time.perf_counter() - T0))


def wrap(owner: Any, name: str, label: str, after: bool = True, once: bool = False) -> None:
    orig = getattr(owner, name, None)
    if orig is None:
        return
    seen = [False]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not after and not (once and seen[0]):
            mark(label)
        result = orig(*args, **kwargs)
        if after and not (once and seen[0]):
            mark(label)
        seen[0] = True
        return result

    setattr(owner, name, wrapper)


def main() -> int:
    from skylift.core import engine, planner, runner
    from skylift.entry import cli, headless, service

    mark("skylift imported")
    wrap(planner, "plan", "files planned")
    wrap(service.EngineService, "__init__", "engine ready")
    wrap(engine.Engine, "add_planned", "jobs queued")
    wrap(runner.RcloneRun, "start", "rclone started")
    wrap(runner.RcloneRun, "_finished", "rclone exited", after=False)
    wrap(headless, "wait_until", "wait loop returned")
    wrap(headless, "poll_until", "poll loop returned")
    wrap(service.EngineService, "close", "engine closed")
    atexit.register(
        lambda: print(
            json.dumps({"timeline": [*marks, ("exit", time.perf_counter() - T0)]}), file=sys.stderr
        )
    )
    return int(cli.main(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
