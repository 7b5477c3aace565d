"""Checking rclone's version in the background when the engine starts.

``rclone_binary.find`` runs ``rclone version`` the first time it meets a program (the
answer is then kept, on disk too). In the running app that first check would fall on
the first upload, on its way to starting rclone; here it runs while the app starts,
without blocking its event loop.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer

from skylift.core import rclone_binary
from skylift.core.settings import Settings

log = logging.getLogger(__name__)


class VersionWarmup(QObject):
    """Runs ``rclone version`` once the event loop turns, if the answer is not known."""

    def __init__(self, settings: Settings, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self._path: str | None = None
        self._proc: QProcess | None = None
        # after the current work: a process that checks rclone itself right away
        # (skylift upload --wait) finds the answer known by then and starts nothing
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start)
        self._timer.start(0)

    def _start(self) -> None:
        try:
            path = rclone_binary.unchecked(self.settings["rclone_path"])
            env = rclone_binary.child_environment(check_password=False)
        except (OSError, ValueError, rclone_binary.RcloneError):
            return
        if path is None:
            return
        proc = QProcess(self)
        qenv = QProcessEnvironment()
        for k, v in env.items():
            qenv.insert(k, v)
        proc.setProcessEnvironment(qenv)
        proc.setProgram(path)
        proc.setArguments(["version"])
        proc.setStandardInputFile(QProcess.nullDevice())
        proc.finished.connect(self._finished)
        self._path, self._proc = path, proc
        proc.start()

    def _finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        if self._proc is None or self._path is None:
            return
        out = bytes(self._proc.readAllStandardOutput().data()).decode("utf-8", "replace")
        if code == 0:
            rclone_binary.remember(self._path, out)
        self._proc.deleteLater()
        self._proc = None

    def close(self) -> None:
        self._timer.stop()
        if self._proc is not None:
            self._proc.finished.disconnect()
            self._proc.kill()
            self._proc.waitForFinished(1000)
            self._proc = None
