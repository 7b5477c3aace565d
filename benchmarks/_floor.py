#!/usr/bin/env python3
"""The least any Python uploader pays before and around rclone: the floors.

    python _floor.py exec RCLONE ARGS...   Python starts, then becomes rclone (execv)
    python _floor.py qt RCLONE ARGS...     Python starts, imports QtCore, runs rclone
                                           through QProcess and waits; rclone's output
                                           goes to /dev/null, unread
    python _floor.py first RCLONE ARGS...  Python starts rclone before anything else,
                                           then imports what Skylift's headless engine
                                           imports while rclone runs, and reads and
                                           parses rclone's log to its end

upload_bench.py runs all three with the exact rclone command Skylift builds, beside plain
``rclone copy``. Whatever Skylift does on top (its queue, reading rclone's log, the
client and the app) can only add to the second: with the design's QProcess, no
headless Skylift can be faster than ``qt``. ``first`` prices the other design: rclone
started before Qt is loaded (not through QProcess), the engine loaded meanwhile. It
still leaves out all of Skylift's work before rclone starts (settings, planning the
files, the queue), so a headless Skylift built that way would cost more than it.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    mode, program, *args = sys.argv[1:]
    if mode == "exec":
        os.execv(program, [program, *args])
    if mode == "first":
        return _first(program, args)
    from PySide6.QtCore import QCoreApplication, QProcess

    app = QCoreApplication([])
    proc = QProcess()
    proc.setStandardInputFile(QProcess.nullDevice())
    proc.setStandardOutputFile(QProcess.nullDevice())
    proc.setStandardErrorFile(QProcess.nullDevice())
    proc.finished.connect(lambda code, _status: app.exit(code))
    proc.errorOccurred.connect(lambda _e: app.exit(127))
    proc.start(program, args)
    return app.exec()


def _first(program: str, args: list[str]) -> int:
    import subprocess

    proc = subprocess.Popen(
        [program, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    import skylift.entry.service  # noqa: F401  (Qt, the engine, the store, the IPC server)
    from skylift.core.rclone_events import parse_line

    assert proc.stderr is not None
    for line in proc.stderr:
        parse_line(line)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
