#!/usr/bin/env python3
"""The least any Python uploader pays before and around rclone: the floors.

    python _floor.py exec RCLONE ARGS...   Python starts, then becomes rclone (execv)
    python _floor.py qt RCLONE ARGS...     Python starts, imports QtCore, runs rclone
                                           through QProcess and waits; rclone's output
                                           goes to /dev/null, unread

upload_bench.py runs both with the exact rclone command Skylift builds, beside plain
``rclone copy``. Whatever Skylift does on top (its queue, reading rclone's log, the
client and the app) can only add to the second: with the design's QProcess, no
headless Skylift can be faster than ``qt``.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    mode, program, *args = sys.argv[1:]
    if mode == "exec":
        os.execv(program, [program, *args])
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


if __name__ == "__main__":
    sys.exit(main())
