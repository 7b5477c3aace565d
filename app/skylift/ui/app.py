"""The desktop app: one engine, its queue window, the tray icon (when there is a tray),
notifications, and the settings dialog, wired together."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSocketNotifier, Qt, QTimer
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from skylift.core.settings import Settings
from skylift.core.store import StoreError
from skylift.entry.service import EngineBusy, EngineService
from skylift.ui.hot_folders_page import unavailable_text
from skylift.ui.icons import APP_ID, app_icon
from skylift.ui.notifications import Note, Notifier
from skylift.ui.prefs import ui_state
from skylift.ui.queue_model import Filter, QueueModel
from skylift.ui.queue_window import QueueWindow
from skylift.ui.settings_dialog import SettingsDialog
from skylift.ui.share import LinkCopier
from skylift.ui.tray import Tray
from skylift.ui.widgets import Tone

log = logging.getLogger(__name__)

TRAY_POLL_MS = 3000
NO_TRAY_NOTICE = (
    "There is no system tray here, so Skylift lives in this window: it uploads while the "
    "window is open, and closing it quits Skylift. To get a tray icon on GNOME, install the "
    "“AppIndicator and KStatusNotifierItem Support” extension (Ubuntu ships it); Skylift "
    "moves to the tray as soon as one appears."
)
TRAY_APPEARED_NOTICE = (
    "A system tray appeared: Skylift now has an icon there, and closing this window "
    "keeps it running."
)


class SkyliftApp(QObject):
    """Owns the windows and the tray; the engine service is handed in."""

    def __init__(
        self,
        service: EngineService,
        tray_available: Callable[[], bool] | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.service = service
        self.engine = service.engine
        self.settings = service.settings
        self.tray_available = tray_available or QSystemTrayIcon.isSystemTrayAvailable
        self.tray_shown = False
        self.quitting = False
        self.settings_dialog: SettingsDialog | None = None
        self.quit_box: QMessageBox | None = None
        self.exit_app: Callable[[], None] = QApplication.quit

        self.model = QueueModel(self.engine, self)
        self.window = QueueWindow(self.engine, self.model, tray_visible=lambda: self.tray_shown)
        self.window.settingsRequested.connect(self.open_settings)
        self.window.quitRequested.connect(self.request_quit)
        self.window.hiddenToTray.connect(self._hidden_to_tray)

        self.tray = Tray(self.engine, self.model, self)
        self.tray.openQueue.connect(self.show_window)
        self.tray.uploadFiles.connect(self.window.choose_files)
        self.tray.uploadFilesTo.connect(self.window.choose_files)
        self.tray.openSettings.connect(self.open_settings)
        self.tray.quitRequested.connect(self.request_quit)
        self.tray.icon.messageClicked.connect(self._message_clicked)

        self.notifier = Notifier(self.engine, self._notify, self)
        self.share = LinkCopier(self.engine, self)
        self.share.copied.connect(self._link_copied)
        self.share.failed.connect(self._link_failed)
        self.notifier.can_share = self.share.can_share
        self._folders_missing: list[str] = []
        if service.hot_folders is not None:
            service.hot_folders.foldersChanged.connect(self._folders_changed)
            self._folders_changed()  # a folder may have been missing from the start
        service.on_show = self.show_window
        self._wrap_ipc()

        self._tray_timer = QTimer(self)
        self._tray_timer.setInterval(TRAY_POLL_MS)
        self._tray_timer.timeout.connect(self.poll_tray)

    # --- starting -----------------------------------------------------------------------

    def start(self, files: list[str] | None = None, cwd: str | None = None) -> None:
        if self.tray_available():
            self._show_tray()
        else:
            self.window.show_tray_notice(NO_TRAY_NOTICE)
            self.window.show_normal()
        self._tray_timer.start()
        for warning in self.settings.warnings:
            self.window.show_message(warning, Tone.WARNING, timeout_ms=0)
        if not self.settings.destination_root:
            self.show_window()  # the first start: say what to do first
        if files:
            self.window.add_paths(files, cwd=cwd)
            self.show_window()

    def poll_tray(self) -> None:
        """Pick up a tray that appears later (or notice one that went away)."""
        available = self.tray_available()
        if available and not self.tray_shown:
            self._show_tray()
            if self.window.isVisible():
                self.window.show_tray_notice(TRAY_APPEARED_NOTICE)
        elif not available and self.tray_shown:
            self.tray_shown = False
            self.tray.hide()
            self.window.show_tray_notice(NO_TRAY_NOTICE)
            self.show_window()

    def _show_tray(self) -> None:
        self.tray.show()
        self.tray_shown = True

    def _folders_changed(self) -> None:
        """Say plainly when a watched folder is missing, and when it is back."""
        hot = self.service.hot_folders
        missing = hot.unavailable() if hot is not None else []
        if missing == self._folders_missing:
            return
        self._folders_missing = missing
        text = unavailable_text(missing) if missing else ""
        self.window.show_folder_notice(text)
        self.tray.notice = text
        self.tray.refresh()

    # --- windows ------------------------------------------------------------------------

    def show_window(self) -> None:
        self.window.show_normal()

    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return self.settings_dialog
        dlg = SettingsDialog(self.settings, self.window)
        if self.service.hot_folders is not None:
            dlg.hot_page.watch_status(self.service.hot_folders)
        dlg.saved.connect(self.settings_saved)
        dlg.finished.connect(lambda _r: dlg.deleteLater())
        dlg.finished.connect(lambda _r: self._forget_dialog(dlg))
        self.settings_dialog = dlg
        dlg.open()
        dlg.raise_()
        dlg.activateWindow()
        return dlg

    def _forget_dialog(self, dlg: SettingsDialog) -> None:
        if self.settings_dialog is dlg:
            self.settings_dialog = None

    def settings_saved(self) -> None:
        self.engine.settings_changed()
        if self.service.hot_folders is not None:
            self.service.hot_folders.reload()
        self.window.set_destination_root(self.settings.destination_root)
        self.model.refresh_status()
        self.window.queue_pending()
        self.window.refresh_summary()
        self.tray.refresh(force_icon=True)

    def _hidden_to_tray(self) -> None:
        store = ui_state()
        if not store.value("told/close_to_tray", False, type=bool):
            store.setValue("told/close_to_tray", True)
            store.sync()
            self.tray.show_message(
                "Skylift is still running",
                "Uploads go on in the background. Click the tray icon to see them; "
                "quit from its menu.",
            )

    # --- notifications ------------------------------------------------------------------

    def _notify(self, note: Note) -> None:
        if self.tray_shown:
            self.tray.last_message = "batch"
            self.tray.show_message(note.title, note.body, warning=note.failed > 0)
        else:
            body = "" if note.share else note.body  # the window offers a button instead
            text = note.title + (f". {body}" if body else ".")
            tone = Tone.WARNING if note.failed else Tone.INFO
            share = self.copy_batch_link if note.share else None
            action = "Copy share link" if note.share else ""
            self.window.show_message(text, tone, action, share, timeout_ms=0)
            QApplication.alert(self.window)

    def _message_clicked(self) -> None:
        kind = self.tray.last_message
        if kind != "batch":
            # "n uploads failed" opens the failures; anything else, the queue
            self.show_window()
            if kind == "failures":
                self.window.show_filter(Filter.FAILED)
            return
        note = self.notifier.last
        if note is not None and note.share and not note.failed:
            # a batch that went well: the click copies its link (the tray icon opens
            # the window); the answer comes as a second notification
            self.copy_batch_link()
            return
        self.show_window()
        if note is not None and note.failed:
            self.window.show_filter(Filter.FAILED)

    def copy_batch_link(self) -> None:
        note = self.notifier.last
        if note is not None and note.share:
            self.share.copy_for(note.share)

    def _link_copied(self, url: str, target: str, note: str) -> None:
        self._tell("Share link copied", f"The link to {target} is on the clipboard. {note}")

    def _link_failed(self, error: str) -> None:
        self._tell("No share link", error, warning=True)

    def _tell(self, title: str, body: str, warning: bool = False) -> None:
        if self.tray_shown:
            self.tray.last_message = "info"
            self.tray.show_message(title, body.strip(), warning=warning)
        else:
            self.window.show_message(
                f"{title}: {body.strip()}", Tone.WARNING if warning else Tone.INFO
            )

    # --- requests from other Skylift processes ------------------------------------------

    def _wrap_ipc(self) -> None:
        """``skylift FILE...`` queues like a drop: into the destination bar's folder, and
        kept for later when no remote is set yet (the service alone would refuse)."""
        self.service.on_files = self.upload_from_elsewhere

    def open_files(self, paths: list[str]) -> None:
        """Files opened with Skylift from the file manager (macOS "Open With")."""
        self.upload_from_elsewhere(paths, None)

    def upload_from_elsewhere(self, paths: list[str], cwd: str | None) -> dict[str, Any]:
        result = self.window.add_paths(paths, cwd=cwd)
        self.show_window()
        if result is None:
            return {"ok": True, "ids": [], "added": 0, "rejected": []}
        ids = [j.id for j in result.jobs]
        self.service.external_ids.update(ids)
        return {
            "ok": True,
            "ids": ids,
            "added": result.added,
            "rejected": [[r.path, r.reason, r.missing] for r in result.rejected],
        }

    # --- quitting -----------------------------------------------------------------------

    def uploads_running(self) -> int:
        c = self.engine.counts()
        return int(c.get("queued", 0) + c.get("uploading", 0)) if not self.engine.paused else 0

    def request_quit(self) -> None:
        if self.quitting:
            return
        running = self.uploads_running()
        if not running or not self.engine.settings["enabled"]:
            self.quit_now()
            return
        if self.quit_box is not None:
            self.quit_box.raise_()
            return
        box = QMessageBox(self.window if self.window.isVisible() else None)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Skylift")
        box.setText(f"{running:,} upload{'s are' if running != 1 else ' is'} not finished yet.")
        box.setInformativeText("They stay in the queue and continue the next time Skylift starts.")
        quit_button = box.addButton("Quit", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep uploading", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_button: Any) -> None:
            self.quit_box = None
            if box.clickedButton() is quit_button:
                self.quit_now()

        box.buttonClicked.connect(answered)
        box.rejected.connect(lambda: setattr(self, "quit_box", None))
        self.quit_box = box
        box.open()

    def quit_now(self) -> None:
        if self.quitting:
            return
        self.quitting = True
        self.window.allow_close = True
        self._tray_timer.stop()
        if self.settings_dialog is not None:
            self.settings_dialog.reject()
        self.window.close()  # remembers its size
        self.tray.dispose()
        self.service.close()
        self.exit_app()

    def cleanup(self) -> None:
        """For tests and embedding: stop everything without quitting the QApplication."""
        self.quitting = True
        self.tray_shown = False
        self.window.allow_close = True
        self._tray_timer.stop()
        self.tray.dispose()
        self.window.hide()


def opened_file(event: QEvent) -> str | None:
    """The file of macOS's "Open With > Skylift" (a QFileOpenEvent), if this is one."""
    if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
        return event.file() or None
    return None


class SkyliftApplication(QApplication):
    """The QApplication, which macOS tells about files opened with Skylift.

    Overriding ``event`` sees only the application's own events. An application-wide
    event filter written in Python would run for every event of every object, and
    PySide wraps each of those objects for it, objects still being constructed
    included, which crashes.
    """

    def __init__(self, argv: list[str]):
        super().__init__(argv)
        self.on_files: Callable[[list[str]], object] | None = None

    def event(self, e: QEvent) -> bool:
        path = opened_file(e)
        if path is not None and self.on_files is not None:
            self.on_files([path])
            return True
        return super().event(e)


class _SignalWaker(QObject):
    """Turns SIGTERM and SIGINT into a clean quit while Qt's loop runs."""

    def __init__(self, on_signal: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._woken)
        self._on_signal = on_signal
        signal.set_wakeup_fd(self._write.fileno())
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)  # the wakeup fd does the work

    def _woken(self) -> None:
        with contextlib.suppress(OSError):
            self._read.recv(64)
        self._on_signal()


def _hand_over(files: list[str]) -> bool:
    """Another Skylift won the race to start: give it the files and raise its window."""
    from skylift.entry.ipc import Client, IpcError

    client = Client()
    try:
        if not client.connect():
            return False
        if files:
            client.request("upload", paths=files, cwd=os.getcwd(), files=True)
        client.request("show")
        return True
    except IpcError:
        return False
    finally:
        client.close()


def run(files: list[str]) -> int:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        # "skylift" as argv[0]: X11 names the window class after it (not "__main__.py")
        app = SkyliftApplication(["skylift"])
    app.setApplicationName("skylift")
    app.setApplicationDisplayName("Skylift")
    app.setOrganizationName("skylift")
    app.setDesktopFileName(APP_ID)  # Wayland finds the icon and name through it
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)

    settings = Settings.load()
    try:
        service = EngineService(settings, watch=True)
    except EngineBusy:
        if _hand_over(files):
            return 0
        QMessageBox.warning(
            None,
            "Skylift is already running",
            "Another Skylift is running but does not answer; close it (or wait a moment) "
            "and start Skylift again.",
        )
        return 1
    except StoreError as e:
        QMessageBox.critical(None, "Skylift cannot start", str(e))
        return 2

    controller = SkyliftApp(service)
    waker = _SignalWaker(controller.quit_now)
    if isinstance(app, SkyliftApplication):
        app.on_files = controller.open_files
    controller.start(files, cwd=os.getcwd())
    log.info("desktop app started (tray: %s)", controller.tray_shown)
    code = app.exec()
    if not controller.quitting:
        controller.quit_now()
    del waker
    return int(code)
