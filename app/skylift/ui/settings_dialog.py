"""The settings dialog: where uploads go, how they run, and the rclone behind them.

rclone is asked everything asynchronously (``core.remotes``): the dialog opens at
once and fills in the remotes and the rclone version when they arrive.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from skylift.core.remotes import Answer, Call, RcloneQueries, Remote
from skylift.core.settings import SettingError, Settings, parse_value
from skylift.ui import autostart
from skylift.ui.hot_folders_page import HotFoldersPage
from skylift.ui.notifications import notify_failures_enabled, set_notify_failures
from skylift.ui.preset_editor import PresetEditor
from skylift.ui.remote_dialogs import BrowseDialog, NewRemoteDialog
from skylift.ui.widgets import Spinner

log = logging.getLogger(__name__)

GOOD = "#2e7d32"
BAD = "#c62828"


def _hint(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    label.setFont(font)
    label.setForegroundRole(label.foregroundRole())
    label.setEnabled(False)  # the style's muted text colour
    return label


class _Form(QGridLayout):
    """Label | field rows, with hints and errors under a field. A grid, not a
    QFormLayout: word-wrapped messages under fields then get the height they need,
    and a hidden message takes no room."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setColumnStretch(1, 1)
        self.setVerticalSpacing(6)
        self._next = 0

    def row(
        self,
        label: str,
        field: QWidget | QLayout,
        *under: QWidget,
        buddy: QWidget | None = None,
    ) -> None:
        if label:
            text = QLabel(label, self.parentWidget())
            target = buddy or (field if isinstance(field, QWidget) else None)
            if target is not None:
                text.setBuddy(target)
            self.addWidget(
                text, self._next, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            )
        if isinstance(field, QLayout):
            self.addLayout(field, self._next, 1)
        else:
            self.addWidget(
                field,
                self._next,
                1,
                Qt.AlignmentFlag.AlignLeft
                if isinstance(field, (QSpinBox, QDoubleSpinBox))
                else Qt.AlignmentFlag(0),
            )
        self._next += 1
        for w in under:
            self.addWidget(w, self._next, 1)
            self._next += 1


def _error_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {BAD};")
    label.setVisible(False)
    return label


class SettingsDialog(QDialog):
    saved = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings — Skylift")
        self.setObjectName("settingsDialog")
        self.settings = settings
        self.queries = RcloneQueries(settings["rclone_path"], self)
        self.remotes: list[Remote] = []
        self.rclone_ok: bool | None = None
        self._calls: dict[str, Call] = {}
        self.errors: dict[str, QLabel] = {}
        # the dialogs this one opened (non-modal to the event loop: open(), not exec())
        self.new_remote_dialog: NewRemoteDialog | None = None
        self.browse_dialog: BrowseDialog | None = None
        self.rclone_dialog: QFileDialog | None = None

        self._build()
        self._load(settings)
        self._probe_timer = QTimer(self)
        self._probe_timer.setSingleShot(True)
        self._probe_timer.setInterval(600)
        self._probe_timer.timeout.connect(self.refresh_rclone)
        self.refresh_rclone()

    # --- building -----------------------------------------------------------------------

    def _build(self) -> None:
        # where uploads go
        where = QGroupBox("Where uploads go", self)
        where.setMinimumWidth(52 * self.fontMetrics().horizontalAdvance("M"))
        form = _Form(where)
        self.remote_combo = QComboBox(where)
        self.remote_combo.setMinimumContentsLength(22)
        self.remote_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.remote_combo.setPlaceholderText("Choose a remote")
        self.remote_combo.setToolTip("The rclone remotes on this computer ('rclone listremotes')")
        self.remote_combo.currentIndexChanged.connect(self._remote_changed)
        self.remote_spinner = Spinner(where)
        self.reload_button = QPushButton("&Reload", where)
        self.reload_button.setToolTip("Read the list of remotes from rclone again")
        self.reload_button.clicked.connect(self.load_remotes)
        self.new_remote_button = QPushButton("&New remote…", where)
        self.new_remote_button.setToolTip(
            "Connect Dropbox, Google Drive, OneDrive, S3, SFTP or WebDAV"
        )
        self.new_remote_button.clicked.connect(self.new_remote)
        row = QHBoxLayout()
        row.addWidget(self.remote_combo, 1)
        row.addWidget(self.remote_spinner)
        row.addWidget(self.reload_button)
        row.addWidget(self.new_remote_button)
        self.remote_status = _hint("", where)
        self.remote_status.setVisible(False)
        self.errors["remote"] = _error_label(where)
        form.row(
            "&Remote:", row, self.remote_status, self.errors["remote"], buddy=self.remote_combo
        )

        self.folder_edit = QLineEdit(where)
        self.folder_edit.setPlaceholderText("/Photos/Processed")
        self.folder_edit.setToolTip("The folder on the remote; it is created by the first upload")
        self.browse_button = QPushButton("&Browse…", where)
        self.browse_button.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.browse_button)
        self.errors["remote_path"] = _error_label(where)
        form.row("F&older:", row, self.errors["remote_path"], buddy=self.folder_edit)

        self.test_button = QPushButton("&Test connection", where)
        self.test_button.clicked.connect(self.test_connection)
        self.test_spinner = Spinner(where)
        self.test_result = QLabel(where)
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.test_spinner)
        row.addWidget(self.test_result, 1)
        form.row("", row)

        # named destinations, and the links made for them
        named = QGroupBox("Presets and share links", self)
        form5 = _Form(named)
        self.preset_editor = PresetEditor(named)
        self.errors["presets"] = _error_label(named)
        form5.row("Pr&esets:", self.preset_editor, self.errors["presets"])
        self.expire_edit = QLineEdit(named)
        self.expire_edit.setPlaceholderText("never")
        self.expire_edit.setToolTip("How long a share link works: 12h, 7d, 2w; empty for ever")
        self.errors["link_expire"] = _error_label(named)
        form5.row(
            "Links e&xpire after:",
            self.expire_edit,
            _hint("For example 7d or 2w; where the cloud allows it. Empty: never.", named),
            self.errors["link_expire"],
        )

        # how uploads run
        how = QGroupBox("Uploading", self)
        form2 = _Form(how)
        self.enabled_check = QCheckBox("Upload files as soon as they are queued", how)
        self.enabled_check.setToolTip("Untick to collect files in the queue without uploading")
        form2.row("", self.enabled_check)
        self.transfers_spin = QSpinBox(how)
        self.transfers_spin.setRange(1, 64)
        self.transfers_spin.setSuffix(" at a time")
        form2.row("&Parallel uploads:", self.transfers_spin)
        self.transfers_spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.bwlimit_edit = QLineEdit(how)
        self.bwlimit_edit.setPlaceholderText("no limit")
        self.bwlimit_edit.setToolTip(
            "rclone's --bwlimit: 10M is 10 MB/s; 512k; a timetable such as "
            "'08:00,1M 19:00,off' limits office hours only"
        )
        self.bwlimit_edit.textChanged.connect(self._check_bwlimit)
        self.errors["bwlimit"] = _error_label(how)
        form2.row(
            "Speed &limit:",
            self.bwlimit_edit,
            _hint("For example 10M (10 MB/s), 512k, or a timetable: 08:00,1M 19:00,off", how),
            self.errors["bwlimit"],
        )
        self.retries_spin = QSpinBox(how)
        self.retries_spin.setRange(0, 20)
        self.retries_spin.setSpecialValueText("never")
        self.retries_spin.setSuffix(" times")
        form2.row("Retry a &failed file:", self.retries_spin)
        self.retries_spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.delay_spin = QDoubleSpinBox(how)
        self.delay_spin.setRange(0, 600)
        self.delay_spin.setDecimals(0)
        self.delay_spin.setSuffix(" s")
        self.delay_spin.setToolTip("The wait doubles after each try, up to 10 minutes")
        form2.row("First retry &after:", self.delay_spin)
        self.delay_spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.skip_check = QCheckBox("Skip files already uploaded and unchanged", how)
        self.skip_check.setToolTip(
            "A file dropped again, with the same size and time, finishes at once as "
            "'Already uploaded'"
        )
        self.checksum_check = QCheckBox("Compare files by checksum, not size and time", how)
        self.checksum_check.setToolTip(
            "rclone's --checksum: slower to start, but finds identical files even when "
            "their times differ"
        )
        self.verify_check = QCheckBox("Check each remote copy after upload", how)
        self.verify_check.setToolTip(
            "Compares a checksum where the cloud keeps one, the size otherwise; a copy "
            "that does not match is sent again"
        )
        for check in (self.skip_check, self.checksum_check, self.verify_check):
            form2.row("", check)
        em = self.fontMetrics().horizontalAdvance("M")
        for spin in (self.transfers_spin, self.retries_spin, self.delay_spin):
            spin.setMinimumWidth(10 * em)

        # desktop
        desk = QGroupBox("Desktop", self)
        lay3 = QVBoxLayout(desk)
        self.notify_check = QCheckBox("Notify me when a batch of uploads finishes", desk)
        self.notify_failed_check = QCheckBox("Notify me when uploads fail", desk)
        self.login_check = QCheckBox("Start Skylift when I log in", desk)
        lay3.addWidget(self.notify_check)
        lay3.addWidget(self.notify_failed_check)
        lay3.addWidget(self.login_check)
        self.errors["start_at_login"] = _error_label(desk)
        lay3.addWidget(self.errors["start_at_login"])

        # rclone
        rc = QGroupBox("rclone", self)
        form4 = _Form(rc)
        self.rclone_edit = QLineEdit(rc)
        self.rclone_edit.setPlaceholderText("found automatically")
        self.rclone_edit.textChanged.connect(lambda _t: self._probe_timer.start())
        self.rclone_browse = QPushButton("Browse…", rc)
        self.rclone_browse.clicked.connect(self.choose_rclone)
        row = QHBoxLayout()
        row.addWidget(self.rclone_edit, 1)
        row.addWidget(self.rclone_browse)
        program_row = row
        self.rclone_spinner = Spinner(rc)
        self.rclone_info = QLabel(rc)
        self.rclone_info.setWordWrap(True)
        self.rclone_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.rclone_spinner)
        row.addWidget(self.rclone_info, 1)
        self.errors["rclone_path"] = _error_label(rc)
        form4.row("Pro&gram:", program_row, buddy=self.rclone_edit)
        form4.row("", row, self.errors["rclone_path"])

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.save_error = _error_label(self)

        lay = QVBoxLayout(self)
        # always the size its fields need, growing when a message appears under one
        # (Qt would otherwise cap the first size to 2/3 of the screen and crush rows)
        lay.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)
        general = QWidget(self)
        glay = QVBoxLayout(general)
        glay.addWidget(where)
        glay.addWidget(how)
        glay.addWidget(desk)
        glay.addWidget(rc)
        self.hot_page = HotFoldersPage(self)
        self.hot_page.browseRequested.connect(self.browse_hot_destination)
        self.errors["watch_folders"] = self.hot_page.error
        self.remote_combo.currentIndexChanged.connect(self._default_destination_changed)
        self.folder_edit.textChanged.connect(self._default_destination_changed)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(general, "&General")
        presets_page = QWidget(self)
        play = QVBoxLayout(presets_page)
        play.addWidget(named)
        play.addStretch(1)
        self.tabs.addTab(presets_page, "&Presets and links")
        self.tabs.addTab(self.hot_page, "&Hot folders")
        lay.addWidget(self.tabs)
        lay.addWidget(self.save_error)
        lay.addWidget(self.buttons)

    def _load(self, s: Settings) -> None:
        self._set_remote_items([], keep=s["remote"])
        self.folder_edit.setText(s["remote_path"])
        self.enabled_check.setChecked(bool(s["enabled"]))
        self.transfers_spin.setValue(int(s["transfers"]))
        self.bwlimit_edit.setText(s["bwlimit"])
        self.retries_spin.setValue(int(s["retries"]))
        self.delay_spin.setValue(float(s["retry_delay"]))
        self.notify_check.setChecked(bool(s["notify"]))
        self.notify_failed_check.setChecked(notify_failures_enabled(s))
        self.login_check.setChecked(bool(s["start_at_login"]))
        self.rclone_edit.setText(s["rclone_path"])
        self.preset_editor.set_presets(s["presets"])
        self.expire_edit.setText(s["link_expire"])
        self.skip_check.setChecked(bool(s["skip_uploaded"]))
        self.checksum_check.setChecked(bool(s["checksum"]))
        self.verify_check.setChecked(bool(s["verify"]))
        self.hot_page.load(s)

    # --- remotes ------------------------------------------------------------------------

    @property
    def remote(self) -> str:
        data = self.remote_combo.currentData()
        return str(data) if data else ""

    def _set_remote_items(self, found: list[Remote], keep: str) -> None:
        self.remote_combo.blockSignals(True)
        self.remote_combo.clear()
        names = set()
        for r in found:
            self.remote_combo.addItem(r.label, r.name)
            names.add(r.name)
        if keep and keep not in names:
            # still offered, so saving does not silently drop it
            self.remote_combo.addItem(f"{keep} (not in rclone's list)" if found else keep, keep)
        self.remote_combo.setCurrentIndex(self.remote_combo.findData(keep) if keep else -1)
        self.remote_combo.blockSignals(False)
        self._remote_changed()

    def load_remotes(self) -> None:
        self._cancel("remotes")
        self.remote_spinner.start()
        self.reload_button.setEnabled(False)
        self._show_remote_status("Reading the remotes from rclone…")
        call = self.queries.remotes()
        self._calls["remotes"] = call
        call.finished.connect(self._remotes_listed)

    def _remotes_listed(self, answer: Answer, select: str = "") -> None:
        self._calls.pop("remotes", None)
        self.remote_spinner.stop()
        self.reload_button.setEnabled(True)
        if answer.cancelled:
            return
        if not answer.ok:
            self._show_remote_status(answer.message, error=True)
            return
        self.remotes = list(answer.value)
        self._set_remote_items(self.remotes, select or self.remote or self.settings["remote"])
        if not self.remotes:
            self._show_remote_status(
                "rclone has no remotes yet: click New remote… to connect a cloud."
            )
        else:
            self._show_remote_status("")

    def _show_remote_status(self, text: str, error: bool = False) -> None:
        self.remote_status.setText(text)
        self.remote_status.setVisible(bool(text))
        self.remote_status.setEnabled(error)
        self.remote_status.setStyleSheet(f"color: {BAD};" if error else "")

    def _remote_changed(self, *_: Any) -> None:
        has = bool(self.remote)
        self.browse_button.setEnabled(has)
        self.test_button.setEnabled(has and "test" not in self._calls)
        self.test_result.setText("")
        self.errors["remote"].setVisible(False)

    def new_remote(self) -> None:
        dlg = NewRemoteDialog(self.queries, [r.name for r in self.remotes], self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self._remote_created(dlg.created_name))
        dlg.open()
        self.new_remote_dialog = dlg

    def _remote_created(self, name: str) -> None:
        self.remote_combo.addItem(name, name)
        self.remote_combo.setCurrentIndex(self.remote_combo.count() - 1)
        self._cancel("remotes")
        call = self.queries.remotes()
        self._calls["remotes"] = call
        call.finished.connect(lambda a: self._remotes_listed(a, select=name))

    def browse(self) -> None:
        if not self.remote:
            return
        dlg = BrowseDialog(self.queries, self.remote, self.folder_edit.text() or "/", self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self.folder_edit.setText(dlg.path))
        dlg.open()
        self.browse_dialog = dlg

    def browse_hot_destination(self) -> None:
        """Browse for a hot folder's destination: its own remote, else the default one."""
        remote, start = self.hot_page.destination_remote()
        if not remote:
            remote, start = self.remote, self.folder_edit.text() or "/"
        if not remote:
            return
        dlg = BrowseDialog(self.queries, remote, start, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self.hot_page.set_destination(f"{dlg.remote}:{dlg.path}"))
        dlg.open()
        self.browse_dialog = dlg

    def _default_destination_changed(self, *_: Any) -> None:
        remote = self.remote
        self.hot_page.set_default_destination(
            f"{remote}:{self.folder_edit.text().strip() or '/'}" if remote else ""
        )

    # --- testing ------------------------------------------------------------------------

    def test_connection(self) -> None:
        if not self.remote:
            return
        self._cancel("test")
        self.test_button.setEnabled(False)
        self.test_spinner.start()
        folder = self.folder_edit.text().strip() or "/"
        self.test_result.setStyleSheet("")
        self.test_result.setText(f"Asking {self.remote}:{folder}…")
        call = self.queries.test(self.remote, folder)
        self._calls["test"] = call
        call.finished.connect(self._tested)

    def _tested(self, answer: Answer) -> None:
        self._calls.pop("test", None)
        self.test_spinner.stop()
        self.test_button.setEnabled(bool(self.remote))
        if answer.cancelled:
            return
        self.test_result.setStyleSheet(f"color: {GOOD if answer.ok else BAD};")
        self.test_result.setText(answer.message)

    @property
    def test_message(self) -> str:
        return str(self.test_result.text())

    # --- rclone itself ------------------------------------------------------------------

    def refresh_rclone(self) -> None:
        text = self.rclone_edit.text().strip()
        try:
            setting = parse_value("rclone_path", text)
        except SettingError as e:
            self._rclone_answer(Answer(False, None, str(e)))
            return
        self.queries.rclone_setting = setting
        self._cancel("version")
        self.rclone_spinner.start()
        self.rclone_info.setStyleSheet("")
        self.rclone_info.setText("Looking for rclone…")
        call = self.queries.version()
        self._calls["version"] = call
        call.finished.connect(self._rclone_answer)
        self.load_remotes()

    def _rclone_answer(self, answer: Answer) -> None:
        self._calls.pop("version", None)
        self.rclone_spinner.stop()
        if answer.cancelled:
            return
        self.rclone_ok = answer.ok
        if answer.ok:
            found = answer.value
            self.rclone_info.setStyleSheet("")
            self.rclone_info.setText(f"rclone {found.version_text} at {found.path}")
        else:
            self.rclone_info.setStyleSheet(f"color: {BAD};")
            self.rclone_info.setText(f"⚠ {answer.message}")

    def choose_rclone(self) -> None:
        dlg = QFileDialog(self, "Choose the rclone program")
        dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.fileSelected.connect(self.rclone_edit.setText)
        dlg.open()
        self.rclone_dialog = dlg

    # --- validating and saving ----------------------------------------------------------

    def _check_bwlimit(self) -> None:
        try:
            parse_value("bwlimit", self.bwlimit_edit.text())
            self.errors["bwlimit"].setVisible(False)
        except SettingError as e:
            self.errors["bwlimit"].setText(str(e))
            self.errors["bwlimit"].setVisible(True)

    def values(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "remote_path": self.folder_edit.text(),
            "enabled": self.enabled_check.isChecked(),
            "transfers": self.transfers_spin.value(),
            "bwlimit": self.bwlimit_edit.text(),
            "retries": self.retries_spin.value(),
            "retry_delay": self.delay_spin.value(),
            "notify": self.notify_check.isChecked(),
            "start_at_login": self.login_check.isChecked(),
            "rclone_path": self.rclone_edit.text(),
            "presets": self.preset_editor.presets(),
            "link_expire": self.expire_edit.text(),
            "skip_uploaded": self.skip_check.isChecked(),
            "checksum": self.checksum_check.isChecked(),
            "verify": self.verify_check.isChecked(),
            **self.hot_page.values(),
        }

    def validate(self) -> dict[str, Any] | None:
        """The checked values, or None after showing what is wrong beside each field."""
        clean: dict[str, Any] = {}
        first_bad: QWidget | None = None
        focus = {
            "remote": self.remote_combo,
            "remote_path": self.folder_edit,
            "bwlimit": self.bwlimit_edit,
            "rclone_path": self.rclone_edit,
            "presets": self.preset_editor.table,
            "link_expire": self.expire_edit,
        }
        for key, value in self.values().items():
            label = self.errors.get(key)
            try:
                clean[key] = parse_value(key, value)
                if label is not None:
                    label.setVisible(False)
            except SettingError as e:
                if label is None:
                    label = self.save_error
                label.setText(str(e))
                label.setVisible(True)
                first_bad = first_bad or focus.get(key)
                if first_bad is None:
                    first_bad = self.buttons
        if first_bad is not None:
            # show the page that holds the first field to fix
            for i in range(self.tabs.count()):
                page = self.tabs.widget(i)
                if page is not None and (first_bad is page or page.isAncestorOf(first_bad)):
                    self.tabs.setCurrentIndex(i)
                    break
            else:
                if not self.hot_page.error.isHidden():
                    self.tabs.setCurrentWidget(self.hot_page)
            first_bad.setFocus()
            return None
        return clean

    def save(self) -> None:
        clean = self.validate()
        if clean is None:
            return
        old_login = bool(self.settings["start_at_login"])
        before = self.settings.as_dict()
        try:
            for key, value in clean.items():
                self.settings[key] = value
            set_notify_failures(self.settings, self.notify_failed_check.isChecked())
            self.settings.save()
        except (OSError, SettingError) as e:
            self._restore(before)
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            self.save_error.setText(f"The settings could not be saved ({reason}); try again.")
            self.save_error.setVisible(True)
            return
        if clean["start_at_login"] != old_login or (
            clean["start_at_login"] and not autostart.is_enabled()
        ):
            try:
                autostart.set_enabled(clean["start_at_login"])
            except OSError as e:
                log.warning("cannot change the login entry: %s", e)
                self.errors["start_at_login"].setText(
                    f"Skylift could not change its login entry ({e.strerror or e}); "
                    "the other settings were saved."
                )
                self.errors["start_at_login"].setVisible(True)
                self.saved.emit()
                return
        self.saved.emit()
        self.accept()

    def _restore(self, before: dict[str, Any]) -> None:
        for key, value in before.items():
            with contextlib.suppress(SettingError):
                self.settings[key] = value

    # --- closing ------------------------------------------------------------------------

    def _cancel(self, name: str) -> None:
        call = self._calls.pop(name, None)
        if call is not None:
            call.finished.disconnect()
            call.cancel()

    def done(self, result: int) -> None:
        self._probe_timer.stop()
        for name in list(self._calls):
            self._cancel(name)
        super().done(result)
