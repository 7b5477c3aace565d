"""What the tray says about connection health and failures that pile up.

One notification when a connection check starts failing, and one when more than
``PILE_UP`` uploads have failed; the latter again only after the count has dropped
to ``PILE_UP`` or below and risen past it once more.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from skylift.core.engine import Engine
from skylift.ui import format as fmt
from skylift.ui.icons import TrayState
from skylift.ui.notifications import notify_failures_enabled
from skylift.ui.queue_model import QueueModel

PILE_UP = 10
HEALTH_TITLE = "Skylift cannot reach the remote"


def tray_state(state: TrayState, healthy: bool) -> TrayState:
    """The icon with the connection check's verdict: files waiting on a remote that
    does not answer are offline (failed uploads already show the error icon)."""
    if not healthy and state is TrayState.UPLOADING:
        return TrayState.OFFLINE
    return state


def health_line(state: TrayState, healthy: bool, message: str, model: QueueModel) -> str:
    """The tooltip's line about a failing check, while it matters (files wait or failed)
    and the offline line does not say it already."""
    if healthy or state not in (TrayState.OFFLINE, TrayState.ERROR) or not message:
        return ""
    return "" if message == model.offline_reason else f"\n{message}"


def pile_up_text(failed: int) -> str:
    return f"{fmt.count(failed, 'upload')} failed; open Skylift to retry them."


class HealthWatch(QObject):
    """Turns the engine's health and failure count into at most one note each."""

    note = Signal(str, str)  # title, body: a warning for the tray to show

    def __init__(self, engine: Engine, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        # failures already there at start were seen before; only new ones are news
        self._piled = engine.counts().get("failed", 0) > PILE_UP
        self.notes = 0
        self.failed = engine.counts().get("failed", 0)  # as last seen
        self._connections = [
            engine.healthChanged.connect(self._health_changed),
            engine.summaryChanged.connect(self._counts_changed),
        ]

    def dispose(self) -> None:
        for c in self._connections:
            QObject.disconnect(c)
        self._connections = []

    def _enabled(self) -> bool:
        return notify_failures_enabled(self.engine.settings)

    def _say(self, title: str, body: str) -> None:
        self.notes += 1
        self.note.emit(title, body)

    def _health_changed(self, ok: bool) -> None:
        if not ok and self._enabled():
            self._say(HEALTH_TITLE, self.engine.health_message)

    def _counts_changed(self) -> None:
        failed = self.failed = self.engine.counts().get("failed", 0)
        if failed <= PILE_UP:
            self._piled = False
        elif not self._piled:
            self._piled = True
            if self._enabled():
                self._say("Uploads are failing", pile_up_text(failed))
