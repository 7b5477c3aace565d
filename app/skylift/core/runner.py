"""One rclone process, run through QProcess, its stderr parsed into events.

rclone's stderr goes to a private file (0600, in the caller's 0700 folder) that is read
every ``READ_MS`` and removed when rclone has ended. Through a pipe, every line rclone
writes (one per file copied) would wake Skylift to read it: about 30 ms of CPU per
1,000 files, against under 3 ms this way (docs/performance.md). Lines are parsed as
before, one burst at a time, and what is left when rclone exits is read then.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
from typing import Any, BinaryIO

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from skylift.core import rclone_events
from skylift.core.messages import redact

log = logging.getLogger(__name__)
rclone_log = logging.getLogger("skylift.rclone")

LOG_PREFIX, LOG_SUFFIX = "rclone-", ".log"  # how its stderr file is named
MAX_LINE = 1 << 20  # a longer line without a newline is cut, never buffered forever
READ_MS = 100  # output is read in bursts: one parse and one signal for many lines
_SETPRIV = shutil.which("setpriv") if sys.platform.startswith("linux") else None


def _with_parent_death_signal(argv: list[str]) -> list[str]:
    """On Linux, have the kernel stop rclone if Skylift dies (kill -9, crash).

    util-linux's setpriv sets PR_SET_PDEATHSIG and then execs rclone in place, so the
    process QProcess sees is rclone itself; without setpriv rclone runs as it is.
    """
    if _SETPRIV is None:
        return argv
    return [_SETPRIV, "--pdeathsig", "TERM", "--", *argv]


class RcloneRun(QObject):
    """Runs ``argv`` (never through a shell); emits parsed events and the exit code.

    ``events`` carries a list of events per read, so a busy rclone costs one signal
    per chunk of output, not one per line. ``folder`` (private) holds its stderr file.
    """

    events = Signal(list)
    finished = Signal(int, bool)  # exit code, crashed (killed or did not start)

    def __init__(
        self, argv: list[str], env: dict[str, str], folder: str, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.argv = argv
        self.context: Any = None  # what the owner runs this for (the engine's Run)
        self._buf = b""
        self._proc = QProcess(self)
        launch = _with_parent_death_signal(argv)
        self._proc.setProgram(launch[0])
        self._proc.setArguments(launch[1:])
        qenv = QProcessEnvironment()
        for k, v in env.items():
            qenv.insert(k, v)
        self._proc.setProcessEnvironment(qenv)
        self._proc.setStandardInputFile(QProcess.nullDevice())
        self._proc.setStandardOutputFile(QProcess.nullDevice())
        fd, self._err_path = tempfile.mkstemp(prefix=LOG_PREFIX, suffix=LOG_SUFFIX, dir=folder)
        os.close(fd)  # made 0600; QProcess opens it again for rclone, keeping that mode
        self._proc.setStandardErrorFile(self._err_path)
        self._err: BinaryIO | None = open(self._err_path, "rb")  # noqa: SIM115 (closed at the end)
        self._read_timer = QTimer(self)
        self._read_timer.setInterval(READ_MS)
        self._read_timer.timeout.connect(self._read)
        self._proc.finished.connect(self._finished)
        self._proc.errorOccurred.connect(self._error)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.setInterval(3000)
        self._kill_timer.timeout.connect(self._proc.kill)
        self.start_error: str | None = None
        self._done = False

    def start(self) -> None:
        log.debug("starting %s", redact(" ".join(self.argv[:2])))
        self._proc.start()
        self._read_timer.start()

    def discard(self) -> None:
        """Never started after all: remove its stderr file and the object."""
        self._close_err()
        self.deleteLater()

    def pid(self) -> int:
        return int(self._proc.processId())

    def stop(self) -> None:
        """Ask rclone to stop (SIGTERM), then kill it if it does not within 3 s."""
        if self._proc.state() == QProcess.ProcessState.NotRunning:
            return
        self._proc.terminate()
        # a timer owned by this object dies with it, so it never fires on a deleted process
        self._kill_timer.start()

    def stop_now(self) -> None:
        """Stop rclone before returning (for shutdown): SIGTERM, then SIGKILL after 3 s."""
        if self._proc.state() == QProcess.ProcessState.NotRunning:
            return
        self._proc.terminate()
        if not self._proc.waitForFinished(3000):
            self._proc.kill()
            self._proc.waitForFinished(3000)

    def running(self) -> bool:
        return self._proc.state() != QProcess.ProcessState.NotRunning

    def _read(self) -> None:
        if self._err is None:
            return
        data = self._err.read()
        if not data:
            return
        chunk = self._buf + data
        lines = chunk.split(b"\n")
        self._buf = lines.pop()
        if len(self._buf) > MAX_LINE:
            lines.append(self._buf)
            self._buf = b""
        self._emit(lines)

    def _emit(self, lines: list[bytes]) -> None:
        out = []
        debug = rclone_log.isEnabledFor(logging.DEBUG)  # --debug logs every line, stats too
        for raw in lines:
            if not raw.strip():
                continue
            ev = rclone_events.parse_line(raw)
            if isinstance(ev, rclone_events.Text):
                rclone_log.info("%s", redact(ev.line))
            elif debug:
                rclone_log.debug("%s", redact(raw.decode("utf-8", "replace")))
            out.append(ev)
        if out:
            self.events.emit(out)

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._read_timer.stop()
        self._read()  # what is still waiting to be read
        self._close_err()
        if self._buf:
            rest, self._buf = self._buf, b""
            self._emit([rest])
        if self._done:
            return
        self._done = True
        self.finished.emit(int(code), status == QProcess.ExitStatus.CrashExit)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and not self._done:
            self._read_timer.stop()
            self._close_err()
            self.start_error = f"rclone could not be started: {self._proc.errorString()}"
            self._done = True
            self.finished.emit(-1, True)

    def _close_err(self) -> None:
        if self._err is not None:
            self._err.close()
            self._err = None
            with contextlib.suppress(OSError):
                os.unlink(self._err_path)
