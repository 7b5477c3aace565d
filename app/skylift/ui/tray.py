"""The tray icon: its state, its tooltip, its menu, and what its clicks do."""

from __future__ import annotations

import sqlite3
import time

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from skylift.core.engine import Engine
from skylift.core.store import explain
from skylift.ui import status
from skylift.ui.icons import TrayState, app_icon, panel_is_dark, tray_icon
from skylift.ui.queue_model import QueueModel
from skylift.ui.tray_health import HEALTH_TITLE, HealthWatch, health_line, tray_state

TOOLTIP_INTERVAL_S = 1.0  # a tooltip change costs a D-Bus message on some desktops


class Tray(QObject):
    openQueue = Signal()
    uploadFiles = Signal()
    uploadFilesTo = Signal(str)  # a preset's destination
    openSettings = Signal()
    quitRequested = Signal()

    def __init__(self, engine: Engine, model: QueueModel, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self.model = model
        self.state: TrayState | None = None
        self._dark: bool | None = None
        self._tooltip = ""
        self._tooltip_at = 0.0
        self.notice = ""  # a line added to the tooltip, e.g. a watched folder missing
        self.icon = QSystemTrayIcon(self)
        # what the last notification was about, for a click on it: "batch" (a finished
        # batch), "failures" (failures piling up), "health", or "info"
        self.last_message = ""
        self.icon.setToolTip("Skylift")
        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        self.act_status = QAction("Skylift", self.menu)
        self.act_status.setEnabled(False)
        self.act_open = QAction("&Open upload queue", self.menu)
        self.act_open.triggered.connect(self.openQueue)
        self.act_upload = QAction("&Upload files…", self.menu)
        self.act_upload.triggered.connect(self.uploadFiles)
        # with presets, "Upload files to…" offers the default and each named destination
        self.upload_menu = QMenu("&Upload files to…", self.menu)
        self.upload_menu.setObjectName("uploadToMenu")
        self.upload_menu.triggered.connect(self._upload_to)
        self.act_pause = QAction("&Pause all", self.menu)
        self.act_pause.triggered.connect(self._toggle_pause)
        self.act_retry = QAction("Retry &failed", self.menu)
        self.act_retry.triggered.connect(self._retry_failed)
        self.act_settings = QAction("&Settings…", self.menu)
        self.act_settings.triggered.connect(self.openSettings)
        self.act_quit = QAction("&Quit", self.menu)
        self.act_quit.triggered.connect(self.quitRequested)
        self.menu.addAction(self.act_status)
        self.menu.addSeparator()
        for a in (
            self.act_open,
            self.act_upload,
            self.upload_menu.menuAction(),
            self.act_pause,
            self.act_retry,
        ):
            self.menu.addAction(a)
        self.menu.addSeparator()
        self.menu.addAction(self.act_settings)
        self.menu.addAction(self.act_quit)
        self.menu.aboutToShow.connect(self.update_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)

        self._tooltip_timer = QTimer(self)
        self._tooltip_timer.setSingleShot(True)
        self._tooltip_timer.timeout.connect(self.refresh)
        self._connections = [
            engine.summaryChanged.connect(self.refresh),
            engine.pausedChanged.connect(self._changed),
            engine.problemChanged.connect(self._changed),
        ]
        self.health = HealthWatch(engine, self)
        self.health.note.connect(self._health_note)
        self._connections.append(engine.healthChanged.connect(self._changed))
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            self._connections.append(hints.colorSchemeChanged.connect(self._scheme_changed))
        self._disposed = False
        self.update_menu()
        self.refresh()

    # --- state --------------------------------------------------------------------------

    def current_state(self) -> TrayState:
        state = status.tray_state(
            self.engine.counts(),
            self.engine.paused,
            self.engine.problem,
            self.model.offline,
            bool(self.engine.settings["enabled"]),
        )
        return tray_state(state, self.engine.health_ok)

    def tooltip_text(self) -> str:
        state = self.current_state()
        text = status.tooltip(
            state,
            self.model.summary(),
            self.engine.counts(),
            self.engine.problem,
            self.model.offline_reason,
            bool(self.engine.settings["enabled"]),
        ) + health_line(state, self.engine.health_ok, self.engine.health_message, self.model)
        return f"{text}\n{self.notice}" if self.notice else text

    def _retry_failed(self) -> None:
        try:
            self.engine.retry_all_failed()
        except sqlite3.Error as e:  # a full disk: the click gets an answer all the same
            body = explain(self.engine.store.path, e)
            self.show_message("Nothing was retried", body, warning=True)

    def _health_note(self, title: str, body: str) -> None:
        self.last_message = "health" if title == HEALTH_TITLE else "failures"
        self.show_message(title, body, warning=True)

    def _changed(self, *_: object) -> None:
        self.refresh()

    def _scheme_changed(self, *_: object) -> None:
        self.refresh(force_icon=True)

    def dispose(self) -> None:
        """Hide the icon and stop listening (the app quits, or a test ends)."""
        if self._disposed:
            return
        self._disposed = True
        self._tooltip_timer.stop()
        self.health.dispose()
        for c in self._connections:
            QObject.disconnect(c)
        self._connections = []
        self.icon.hide()
        self.menu.deleteLater()

    def refresh(self, force_icon: bool = False) -> None:
        if self._disposed:
            return
        state = self.current_state()
        dark = panel_is_dark()
        new_state = state != self.state
        if force_icon or new_state or dark != self._dark:
            self.state, self._dark = state, dark
            self.icon.setIcon(tray_icon(state, dark))
        # a new state is said at once; numbers ticking along at most once a second, and
        # not even worked out more often (a busy batch changes them four times a second)
        wait = self._tooltip_at + TOOLTIP_INTERVAL_S - time.monotonic()
        if wait > 0 and not (force_icon or new_state):
            if not self._tooltip_timer.isActive():
                self._tooltip_timer.start(int(wait * 1000) + 1)
            return
        text = self.tooltip_text()
        if text == self._tooltip:
            return
        self._tooltip, self._tooltip_at = text, time.monotonic()
        self.icon.setToolTip(text)
        if self.menu.isVisible():
            self.update_menu()

    def _fill_upload_menu(self) -> None:
        presets = self.engine.settings["presets"]
        self.act_upload.setVisible(not presets)
        self.upload_menu.menuAction().setVisible(bool(presets))
        self.upload_menu.clear()
        if not presets:
            return
        root = self.engine.settings.destination_root
        default = self.upload_menu.addAction(
            f"Default destination ({root})" if root else "Default destination"
        )
        default.setData("")
        self.upload_menu.addSeparator()
        for p in presets:
            a = self.upload_menu.addAction(p["name"].replace("&", "&&"))
            a.setData(p["destination"])
            a.setToolTip(p["destination"])

    def _upload_to(self, action: QAction) -> None:
        dest = action.data()
        if dest:
            self.uploadFilesTo.emit(str(dest))
        else:
            self.uploadFiles.emit()

    def update_menu(self) -> None:
        self._fill_upload_menu()
        counts = self.engine.counts()
        state = self.current_state()
        self.act_status.setText(
            status.headline(
                state,
                self.model.summary(),
                counts,
                self.engine.problem,
                self.model.offline_reason,
                bool(self.engine.settings["enabled"]),
            )
        )
        self.act_pause.setText("&Resume all" if self.engine.paused else "&Pause all")
        failed = counts.get("failed", 0)
        self.act_retry.setText(f"Retry &failed ({failed:,})")
        self.act_retry.setEnabled(failed > 0)

    # --- clicks -------------------------------------------------------------------------

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        # GNOME's AppIndicator extension sends a double click where others send a click
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.openQueue.emit()

    def _toggle_pause(self) -> None:
        if self.engine.paused:
            self.engine.resume()
        else:
            self.engine.pause()

    # --- showing ------------------------------------------------------------------------

    def show(self) -> None:
        self.refresh(force_icon=True)
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    @property
    def visible(self) -> bool:
        return bool(self.icon.isVisible())

    def show_message(self, title: str, body: str, warning: bool = False) -> None:
        if warning:
            self.icon.showMessage(title, body, QSystemTrayIcon.MessageIcon.Warning, 10_000)
        else:
            self.icon.showMessage(title, body, app_icon(), 10_000)
