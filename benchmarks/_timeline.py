"""Runs the ``skylift`` command with time stamps at the steps of an upload.

Used by profile_upload.py as the child process instead of ``skylift``: it wraps a few
functions of the running code (nothing is changed on disk) and prints, at exit, one
JSON line ``{"timeline": [[label, seconds since BENCH_T0], ...]}`` on stderr.
BENCH_T0 is the parent's ``time.perf_counter()`` just before it started this process
(the same clock: CLOCK_MONOTONIC, shared by all processes).
"""

from __future__ import annotations

import json
import os
import sys
import time

TYPE_CHECKING = False  # typing is not loaded: Skylift's command does not load it either
if TYPE_CHECKING:
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
    from skylift.core import planner, rclone_binary
    from skylift.entry import cli

    mark("command loaded")
    wrap(planner, "plan", "files planned")
    wrap(rclone_binary, "start_check", "rclone version check started", once=True)
    wrap(rclone_binary, "find", "rclone version known", once=True)
    run_headless = cli._run_headless

    def headless_with_stamps(*args: Any, **kwargs: Any) -> Any:
        # Qt and the engine are imported here, where the command imports them
        from skylift.core import engine, runner
        from skylift.entry import headless, service

        mark("Qt and the engine imported")
        wrap(service.EngineService, "__init__", "engine ready")
        wrap(engine.Engine, "add_planned", "jobs queued")
        wrap(runner.RcloneRun, "start", "rclone started")
        wrap(runner.RcloneRun, "_finished", "rclone exited", after=False)
        wrap(headless, "wait_until", "wait loop returned")
        wrap(service.EngineService, "close", "engine closed")
        return run_headless(*args, **kwargs)

    cli._run_headless = headless_with_stamps
    main = cli.main

    def main_then_report(argv: Any = None) -> int:
        try:
            return int(main(sys.argv[1:]))
        finally:
            line = json.dumps({"timeline": [*marks, ("exit", time.perf_counter() - T0)]})
            print(line, file=sys.stderr)

    # cli.run() is what the `skylift` program runs: main(), then a direct exit
    cli.main = main_then_report
    cli.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
