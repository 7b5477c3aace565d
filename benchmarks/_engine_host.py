"""A running Skylift engine without any window: the IPC path without the GUI's cost.

The upload benchmark starts this (in the benchmark's private profile) as a stand-in
for the desktop app, so the hand-over through ``skylift upload --wait`` to a running
engine is measured even where the GUI cannot start. It builds exactly what the app
holds: ``EngineService`` (lock, store, engine, IPC server) under a Qt event loop.
SIGTERM ends it the way quitting the app would (``EngineService.close``).
"""

from __future__ import annotations

import signal
import sys

from PySide6.QtCore import QTimer

from skylift.core import logs
from skylift.core.settings import Settings
from skylift.entry.headless import core_app
from skylift.entry.service import EngineService


def main() -> int:
    logs.setup()
    app = core_app()
    service = EngineService(Settings.load())
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    # Python runs signal handlers only between bytecodes; give it a turn now and then
    tick = QTimer()
    tick.timeout.connect(lambda: None)
    tick.start(200)
    try:
        app.exec()
    finally:
        service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
