"""The History page of the queue window: every finished upload, searchable, exportable.

The rows come from ``engine.history()`` a page at a time (``fetchMore``), so a history
of 100,000 uploads costs what is on screen, not what is on disk.
"""

from __future__ import annotations

import enum
import os
import posixpath
import sqlite3
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    Qt,
    QTimer,
)
from PySide6.QtGui import QGuiApplication, QHideEvent, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from skylift.core.engine import ALREADY_UPLOADED, Engine
from skylift.core.history_export import local_time, write_csv
from skylift.core.store import Job, JobState, explain
from skylift.core.verify import describe
from skylift.ui import format as fmt
from skylift.ui.job_table import LEFT, AnyIndex, JobTable

PAGE = 200
SEARCH_DELAY_MS = 300
RELOAD_DELAY_MS = 500  # uploads ending in a burst reload the page once


class HCol(enum.IntEnum):
    FILE = 0
    DESTINATION = 1
    STATE = 2
    FINISHED = 3
    SIZE = 4
    VERIFIED = 5
    LINK = 6
    ERROR = 7


HEADERS = {
    HCol.FILE: "File",
    HCol.DESTINATION: "Destination",
    HCol.STATE: "Result",
    HCol.FINISHED: "Finished",
    HCol.SIZE: "Size",
    HCol.VERIFIED: "Verified",
    HCol.LINK: "Link",
    HCol.ERROR: "Error",
}

STATE_TEXT = {
    JobState.DONE: "Uploaded",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
}


def folder_of(destination: str) -> str:
    """``dropbox:/Photos/a.jpg`` -> ``dropbox:/Photos``."""
    name, sep, path = destination.partition(":")
    return f"{name}{sep}{posixpath.dirname(path) or path}"


def verified_text(verified: str | None) -> str:
    return describe(verified, short=True)


class HistoryModel(JobTable):
    """Finished jobs, newest first, loaded ``PAGE`` rows at a time."""

    headers = HEADERS
    right_aligned = frozenset({HCol.SIZE})

    def __init__(self, engine: Engine, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self.search = ""
        self._rows: list[Job] = []
        self._ids: set[int] = set()
        self._more = False  # until the first reload
        self.live = False  # shown: the view may read more pages; hidden, nothing is read
        self._muted = QGuiApplication.palette().color(
            QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text
        )

    # --- loading ----------------------------------------------------------------------

    def set_search(self, text: str) -> None:
        self.search = text.strip()
        self.reload()

    def reload(self) -> None:
        """Read again what is shown (at least one page), e.g. after uploads ended."""
        want = max(PAGE, len(self._rows))
        self.beginResetModel()
        self._rows = self.engine.history(self.search, want, 0)
        self._ids = {j.id for j in self._rows}
        self._more = len(self._rows) == want
        self.endResetModel()

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more and self.live

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        page = self.engine.history(self.search, PAGE, len(self._rows))
        self._more = len(page) == PAGE
        # an upload that ended meanwhile shifts the pages by one: skip what is shown
        fresh = [j for j in page if j.id not in self._ids]
        if not fresh:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows += fresh
        self._ids.update(j.id for j in fresh)
        self.endInsertRows()

    def job_at(self, row: int) -> Job:
        return self._rows[row]

    # --- the model interface ----------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        j = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(j, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == HCol.FILE:
                return str(j.path)
            if col == HCol.DESTINATION:
                return j.destination
            if col in (HCol.LINK, HCol.ERROR):
                return self._display(j, col) or None
            if col == HCol.STATE and j.note:
                return j.note
            if col == HCol.VERIFIED and j.verified:
                return describe(j.verified)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(col)
        if role == Qt.ItemDataRole.ForegroundRole and col == HCol.STATE:
            return self._muted if j.state is JobState.CANCELLED else None
        if role == Qt.ItemDataRole.UserRole:
            return j.id
        return None

    @staticmethod
    def _display(j: Job, col: int) -> str:
        if col == HCol.FILE:
            return j.path.name
        if col == HCol.DESTINATION:
            return folder_of(j.destination)
        if col == HCol.STATE:
            if j.note == ALREADY_UPLOADED:
                return "Already there"
            return STATE_TEXT.get(j.state, j.state.value)
        if col == HCol.FINISHED:
            return local_time(j.finished)
        if col == HCol.SIZE:
            return fmt.size(j.size)
        if col == HCol.VERIFIED:
            return verified_text(j.verified)
        if col == HCol.LINK:
            return j.link or ""
        if col == HCol.ERROR:
            return (j.error or "") if j.state is not JobState.DONE else ""
        return ""


class HistoryPage(QWidget):
    """Search box, Export CSV…, Clear history…, and the table."""

    def __init__(self, engine: Engine, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("history")
        self.engine = engine
        self.model = HistoryModel(engine, self)
        self.file_dialog: QFileDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self._loaded = False
        self._stale = False
        self.last_message = ""
        self.clear_confirm: Any = None

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search file, destination, link or error")
        self.search.setClearButtonEnabled(True)
        self.search.setAcceptDrops(False)
        self.search.textChanged.connect(self._search_later)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.count_label = QLabel(self)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setToolTip("Save the uploads listed here as a spreadsheet (CSV)")
        self.export_button.clicked.connect(self.choose_export)
        self.clear_button = QPushButton("Clear history…", self)
        self.clear_button.setToolTip(
            "Forget every finished upload; files on the remote are not touched"
        )
        self.clear_button.clicked.connect(self.confirm_clear)

        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setAcceptDrops(False)
        self.view.viewport().setAcceptDrops(False)
        vh = self.view.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 10)
        hh = self.view.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setDefaultAlignment(LEFT)
        em = self.fontMetrics().horizontalAdvance("M")
        widths = {
            HCol.FILE: 14 * em,
            HCol.DESTINATION: 16 * em,
            HCol.STATE: 10 * em,
            HCol.FINISHED: self.fontMetrics().horizontalAdvance("2000-00-00 00:00") + 16,
            HCol.SIZE: 6 * em,
            HCol.VERIFIED: 8 * em,
            HCol.LINK: 12 * em,
        }
        for col, w in widths.items():
            hh.resizeSection(col, w)
        hh.setStretchLastSection(True)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.export_button)
        top.addWidget(self.clear_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)

        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self.reload)
        engine.drained.connect(self._jobs_ended)
        engine.jobsRemoved.connect(self._jobs_ended)

    # --- loading ----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.model.live = True
        if not self._loaded or self._stale:
            self.reload()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.model.live = False
        self._reload_timer.stop()

    def _jobs_ended(self, _ids: list[int]) -> None:
        if self.isVisible():
            self._reload_timer.start()
        else:
            self._stale = True  # read again when shown; nothing to do while hidden

    def reload(self) -> None:
        self._loaded, self._stale = True, False
        self.model.reload()
        self._update_count()

    def _search_later(self) -> None:
        self._search_timer.start()

    def apply_search(self) -> None:
        self._search_timer.stop()
        self._loaded, self._stale = True, False
        self.model.set_search(self.search.text())
        self._update_count()

    def _update_count(self) -> None:
        n = self.model.rowCount()
        more = "+" if self.model.canFetchMore() else ""
        if self.model.search:
            text = f"{n:,}{more} found" if n else "Nothing found"
        else:
            text = f"{fmt.count(n, 'upload')}{more}" if n else "No finished uploads yet"
        self.count_label.setText(text)
        self.clear_button.setEnabled(bool(n) or bool(self.model.search))
        self.export_button.setEnabled(bool(n))

    # --- export -----------------------------------------------------------------------

    def choose_export(self) -> QFileDialog:
        dlg = QFileDialog(self, "Export upload history")
        dlg.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dlg.setFileMode(QFileDialog.FileMode.AnyFile)
        dlg.setNameFilters(["CSV files (*.csv)", "All files (*)"])
        dlg.setDefaultSuffix("csv")
        dlg.selectFile(os.path.join(os.path.expanduser("~"), "skylift-history.csv"))
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.fileSelected.connect(self.export_to)
        dlg.open()
        self.file_dialog = dlg
        return dlg

    def export_to(self, path: str) -> int:
        """Write every upload the search matches (not only the loaded rows) to ``path``."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            jobs = self.engine.history(self.model.search)
            with open(path, "w", newline="", encoding="utf-8") as f:
                n = write_csv(jobs, f)
        except OSError as e:
            QGuiApplication.restoreOverrideCursor()
            self._tell(f"{path} could not be written ({e.strerror}); choose another folder.")
            return 0
        QGuiApplication.restoreOverrideCursor()
        self._tell(f"Exported {fmt.count(n, 'upload')} to {path}.")
        return n

    def _tell(self, text: str) -> None:
        window = self.window()
        show = getattr(window, "show_message", None)
        if callable(show):
            show(text)
        self.last_message = text

    # --- clearing ---------------------------------------------------------------------

    def confirm_clear(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Clear history")
        box.setText("Forget every finished upload?")
        box.setInformativeText(
            "Uploaded, failed and cancelled files leave the history and the queue. "
            "Files on the remote are not touched, and Skylift still knows which files "
            "it has uploaded."
        )
        self.clear_confirm = box.addButton("Clear history", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(self._clear_answered)
        self.confirm_box = box
        box.open()
        return box

    def _clear_answered(self, button: Any) -> None:
        box, self.confirm_box = self.confirm_box, None
        if box is not None and button is self.clear_confirm:
            try:
                gone = self.engine.clear_history()
            except sqlite3.Error as e:
                self._tell(f"The history was not cleared. {explain(self.engine.store.path, e)}")
                return
            self.reload()
            self._tell(f"Cleared {fmt.count(len(gone), 'upload')} from the history.")
