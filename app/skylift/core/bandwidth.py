"""The engine's bandwidth sampler: a timer that runs only while uploads do."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from skylift.core.metrics import BandwidthHistory

SAMPLE_MS = 2000  # how often the engine's speed is read while uploading


class BandwidthSampler(QObject):
    """Asks for a speed sample every ``SAMPLE_MS`` while uploads run; idle, it costs
    nothing (the timer stops) and the history stays."""

    due = Signal()  # the owner answers with record()

    def __init__(self, parent: QObject | None = None, interval_ms: int = SAMPLE_MS):
        super().__init__(parent)
        self.history = BandwidthHistory()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.due)

    @property
    def running(self) -> bool:
        return bool(self._timer.isActive())

    def wake(self) -> None:
        """Uploads started: sample until they stop."""
        if not self._timer.isActive():
            self._timer.start()

    def record(self, bps: float, active: bool) -> None:
        self.history.add(time.time(), bps)
        if not active:
            self._timer.stop()

    def stop(self) -> None:
        self._timer.stop()

    def points(self) -> list[tuple[float, float]]:
        return self.history.points()
