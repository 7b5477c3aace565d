"""The upload queue window: the table, its toolbar, filters, summary line and drops."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QHideEvent,
    QIcon,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTabBar,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from skylift.core.engine import ALREADY_UPLOADED, AddResult, Engine
from skylift.core.planner import Rejected
from skylift.core.rclone_args import join_remote
from skylift.core.store import explain
from skylift.ui import format as fmt
from skylift.ui import status
from skylift.ui.delegates import QueueDelegate
from skylift.ui.history import HistoryPage
from skylift.ui.icons import app_icon
from skylift.ui.prefs import ui_state
from skylift.ui.queue_model import (
    DESTINATION_ROLE,
    ID_ROLE,
    PATH_ROLE,
    STATE_ROLE,
    Col,
    Filter,
    QueueFilter,
    QueueModel,
)
from skylift.ui.share import LinkCopier
from skylift.ui.statistics import StatisticsPanel
from skylift.ui.widgets import Banner, Tone

# ends with the display name, so Qt does not append it again
WINDOW_TITLE = "Upload queue — Skylift"
_BAD_PART = re.compile(r"[\x00-\x1f\\]")


def subfolder_parts(text: str) -> list[str]:
    """``'Smith wedding/ selects '`` -> ``['Smith wedding', 'selects']``; raises ValueError
    with a plain sentence for a name that cannot be a folder."""
    parts = [p.strip() for p in text.replace("\\", "/").split("/")]
    parts = [p for p in parts if p]
    for p in parts:
        if p in (".", ".."):
            raise ValueError("A subfolder cannot be '.' or '..'; type a folder name.")
        if _BAD_PART.search(p):
            raise ValueError("A subfolder name cannot contain control characters.")
    return parts


def _theme_icon(name: str) -> QIcon:
    """The desktop theme's icon; none where there is no theme (the style's stand-ins
    look out of place, so the toolbar then shows words only)."""
    return QIcon.fromTheme(name)


class QueueView(QTableView):
    """The table, with fixed row heights and a hint when it is empty."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.empty_text = ""
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setMouseTracking(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setAcceptDrops(False)  # drops go to the window, wherever they land
        self.viewport().setAcceptDrops(False)
        vh = self.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 14)
        hh = self.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setStretchLastSection(False)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setMinimumSectionSize(40)

    def setup_columns(self) -> None:
        hh = self.horizontalHeader()
        em = self.fontMetrics().horizontalAdvance("M")
        widths = {
            Col.FILE: 14 * em,
            Col.DESTINATION: 23 * em,
            Col.SIZE: 6 * em,
            Col.PROGRESS: 11 * em,
            Col.SPEED: 7 * em,
            Col.LEFT: 6 * em,
            Col.STATUS: 18 * em,
            Col.ACTION: 6 * em,
        }
        for col, width in widths.items():
            hh.resizeSection(col, width)
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(Col.STATUS, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(Col.ACTION, QHeaderView.ResizeMode.Fixed)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0 and self.empty_text:
            p = QPainter(self.viewport())
            color = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
            p.setPen(color)
            font = p.font()
            font.setPointSizeF(font.pointSizeF() * 1.15)
            p.setFont(font)
            p.drawText(
                self.viewport().rect().adjusted(24, 24, -24, -24),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.empty_text,
            )
            p.end()


class DestinationBar(QWidget):
    """Where the next drop goes: the configured root, plus an optional subfolder."""

    changeRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._root = ""
        self.lead = QLabel("Drop files or folders anywhere in this window. They go to", self)
        self.root_label = QLabel(self)
        self.root_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.root_label.font()
        font.setBold(True)
        self.root_label.setFont(font)
        self.preset = QComboBox(self)
        self.preset.setObjectName("presetChooser")
        self.preset.setToolTip(
            "A named destination (preset), such as a client's folder; set them up in Settings"
        )
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        self.preset.hide()
        self.slash = QLabel("/", self)
        self.subfolder = QLineEdit(self)
        self.subfolder.setPlaceholderText("subfolder, e.g. a client or album (optional)")
        self.subfolder.setClearButtonEnabled(True)
        self.subfolder.setAcceptDrops(False)  # a drop here queues files, not their names
        self.subfolder.setToolTip(
            "Files you drop next go into this folder under the destination, "
            "e.g. 'Smith wedding' or '2024/Portraits'."
        )
        self.subfolder.textChanged.connect(self._check)
        self.subfolder.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 18)
        self.change = QPushButton("Change…", self)
        self.change.setToolTip("Choose the remote and folder in Settings")
        self.change.clicked.connect(self.changeRequested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.addWidget(self.lead)
        lay.addWidget(self.preset)
        lay.addWidget(self.root_label)
        lay.addWidget(self.slash)
        lay.addWidget(self.subfolder, 1)
        lay.addWidget(self.change)
        lay.addStretch(0)  # takes the room the subfolder field leaves when it is hidden
        self._layout = lay
        self.change.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.set_root("")

    def set_presets(self, presets: Sequence[dict[str, str]]) -> None:
        """Offer the named destinations; the current choice stays if it still exists."""
        current = self.preset.currentText() if self.preset.currentIndex() > 0 else ""
        self.preset.blockSignals(True)
        self.preset.clear()
        self.preset.addItem("Default destination", "")
        for p in presets:
            self.preset.addItem(p["name"], p["destination"])
        found = self.preset.findText(current) if current else 0
        self.preset.setCurrentIndex(max(found, 0))
        self.preset.blockSignals(False)
        self.set_root(self._root)

    def choose_preset(self, name: str) -> bool:
        i = self.preset.findText(name, Qt.MatchFlag.MatchFixedString)
        if i < 1:
            return False
        self.preset.setCurrentIndex(i)
        return True

    def _preset_chosen(self) -> None:
        self.set_root(self._root)

    def _base(self) -> str:
        chosen = self.preset.currentData() if self.preset.currentIndex() > 0 else ""
        return str(chosen or self._root)

    def set_root(self, root: str) -> None:
        self._root = root
        self.preset.setVisible(self.preset.count() > 1)
        root = self._base()
        configured = bool(root)
        self.root_label.setText(root if configured else "")
        self.lead.setText(
            "Drop files or folders anywhere in this window. They go to"
            if configured
            else "Choose where uploads go before dropping files:"
        )
        self.slash.setVisible(configured)
        self.subfolder.setVisible(configured)
        self.change.setText("Change…" if configured else "Choose a remote…")
        self._layout.setStretch(self._layout.count() - 1, 0 if configured else 1)

    @property
    def root(self) -> str:
        return self._root

    def destination(self) -> str | None:
        """``remote:path[/subfolder]`` for the next drop, or None without a remote."""
        base = self._base()
        if not base:
            return None
        parts = subfolder_parts(self.subfolder.text())
        return join_remote(base, *parts) if parts else base

    def _check(self) -> None:
        try:
            subfolder_parts(self.subfolder.text())
            self.subfolder.setStyleSheet("")
            self.subfolder.setToolTip(
                "Files you drop next go into this folder under the destination."
            )
        except ValueError as e:
            self.subfolder.setStyleSheet("QLineEdit { border: 1px solid #d32f2f; }")
            self.subfolder.setToolTip(str(e))


class QueueWindow(QMainWindow):
    settingsRequested = Signal()
    quitRequested = Signal()
    hiddenToTray = Signal()

    def __init__(
        self,
        engine: Engine,
        model: QueueModel,
        tray_visible: Callable[[], bool] = lambda: False,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.engine = engine
        self.model = model
        self.tray_visible = tray_visible
        self.pending: list[str] = []  # paths waiting for a destination
        self.allow_close = False  # set when the app quits: closing is then just closing
        self.file_dialog: QFileDialog | None = None  # the open Add files/folder dialog
        self.chosen_destination: str | None = None  # where the files being chosen go
        self._pending_cwd: str | None = None
        self.setWindowTitle(WINDOW_TITLE)
        self.setWindowIcon(app_icon())
        self.setObjectName("queueWindow")
        self.setAcceptDrops(True)

        self.proxy = QueueFilter(self)
        self.proxy.setSourceModel(model)
        model.set_watched(False)  # until the window is shown (showEvent)
        self.view = QueueView(self)
        self.view.setModel(self.proxy)
        self.delegate = QueueDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setup_columns()
        self.delegate.actionClicked.connect(self._row_action)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(self._double_clicked)

        self._build_actions()
        self._build_toolbar()
        self._build_sharing()

        self.problem_banner = Banner(self)
        self.problem_banner.actionTriggered.connect(self.settingsRequested)
        self.tray_banner = Banner(self)
        self.folder_banner = Banner(self)  # watched folders that are missing
        self.message_banner = Banner(self)
        self.message_banner.actionTriggered.connect(self._message_action)
        self._message_action_cb: Callable[[], None] | None = None
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self.message_banner.hide)

        self.dest_bar = DestinationBar(self)
        self.dest_bar.changeRequested.connect(self.settingsRequested)

        self.tabs = QTabBar(self)
        self.tabs.setExpanding(False)
        self.tabs.setDrawBase(False)
        for f in Filter:
            self.tabs.addTab(f.name.title())
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.view)
        self.history_page = HistoryPage(engine, self.pages)
        self.statistics_page = StatisticsPanel(engine, self.pages)
        for name, page in (("History", self.history_page), ("Statistics", self.statistics_page)):
            self.pages.addWidget(page)
            self.tabs.addTab(name)
        self.tabs.currentChanged.connect(self._tab_changed)

        central = QWidget(self)
        lay = QVBoxLayout(central)
        lay.setContentsMargins(8, 6, 8, 4)
        lay.setSpacing(6)
        lay.addWidget(self.problem_banner)
        lay.addWidget(self.tray_banner)
        lay.addWidget(self.folder_banner)
        lay.addWidget(self.message_banner)
        lay.addWidget(self.dest_bar)
        lay.addWidget(self.tabs)
        lay.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.summary_bar = QProgressBar(self)
        self.summary_bar.setRange(0, 1000)
        self.summary_bar.setTextVisible(False)
        self.summary_bar.setFixedWidth(180)
        self.summary_bar.setMaximumHeight(self.fontMetrics().height())
        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("summary")
        sb = self.statusBar()
        sb.setSizeGripEnabled(True)
        sb.addWidget(self.summary_bar)
        sb.addWidget(self.summary_label, 1)

        self._drop_hint = False
        engine.summaryChanged.connect(self._summary_changed)
        engine.problemChanged.connect(self._problem)
        # a bound method, so the connection ends with the window (a lambda would outlive it)
        engine.pausedChanged.connect(self._paused_changed)
        model.rowsInserted.connect(self._update_empty)
        model.rowsRemoved.connect(self._update_empty)
        model.modelReset.connect(self._update_empty)
        self._problem(engine.problem)
        self.set_destination_root(engine.settings.destination_root)
        self.resize(1080, 600)
        self._restore_geometry()
        self.refresh_summary()

    # --- building -----------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.act_add_files = QAction(_theme_icon("document-open"), "Add files…", self)
        self.act_add_files.setShortcut(QKeySequence.StandardKey.Open)
        self.act_add_files.setToolTip("Choose photos to upload (or drop them on this window)")
        self.act_add_files.triggered.connect(self.choose_files)
        self.act_add_folder = QAction(_theme_icon("folder-open"), "Add folder…", self)
        self.act_add_folder.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.act_add_folder.setToolTip("Upload a whole folder, keeping its subfolders")
        self.act_add_folder.triggered.connect(self.choose_folder)
        self.act_pause = QAction(_theme_icon("media-playback-pause"), "Pause all", self)
        self.act_pause.setShortcut(QKeySequence("Ctrl+P"))
        self.act_pause.triggered.connect(self.toggle_pause)
        self.act_retry_failed = QAction(_theme_icon("view-refresh"), "Retry all failed", self)
        self.act_retry_failed.triggered.connect(
            lambda: self.change_queue(self.engine.retry_all_failed)
        )
        self.act_clear = QAction(_theme_icon("edit-clear-history"), "Clear finished", self)
        self.act_clear.setToolTip(
            "Hide uploaded and cancelled files from this list; the History tab keeps them"
        )
        self.act_clear.triggered.connect(lambda: self.change_queue(self.engine.clear_finished))
        self.act_settings = QAction(_theme_icon("configure"), "Settings…", self)
        self.act_settings.setShortcut(QKeySequence("Ctrl+,"))
        self.act_settings.triggered.connect(self.settingsRequested)
        self.act_quit = QAction("Quit Skylift", self)
        self.act_quit.setShortcut(QKeySequence.StandardKey.Quit)
        self.act_quit.triggered.connect(self.quitRequested)
        self.act_close = QAction("Close window", self)
        self.act_close.setShortcut(QKeySequence.StandardKey.Close)
        self.act_close.triggered.connect(self.close)

        # row actions: context menu and keys
        self.act_retry = QAction("Retry", self)
        self.act_retry.setShortcut(QKeySequence("Ctrl+R"))
        self.act_retry.triggered.connect(
            lambda: self.change_queue(self.engine.retry, self.selected_ids())
        )
        self.act_cancel = QAction("Cancel", self)
        self.act_cancel.triggered.connect(
            lambda: self.change_queue(self.engine.cancel, self.selected_ids())
        )
        self.act_send_again = QAction("Upload again", self)
        self.act_send_again.setToolTip(
            "Send the selected files again, even if the remote's copy looks the same"
        )
        self.act_send_again.triggered.connect(
            lambda: self.change_queue(self.engine.send_again, self.selected_ids())
        )
        self.act_remove = QAction("Remove from list", self)
        self.act_remove.setShortcut(QKeySequence.StandardKey.Delete)
        self.act_remove.triggered.connect(
            lambda: self.change_queue(self.engine.remove, self.selected_ids())
        )
        self.act_open_folder = QAction("Open containing folder", self)
        self.act_open_folder.triggered.connect(self.open_containing_folder)
        self.act_copy_dest = QAction("Copy destination", self)
        self.act_copy_dest.setShortcut(QKeySequence.StandardKey.Copy)
        self.act_copy_dest.triggered.connect(self.copy_destination)
        self.act_verify = QAction("Check remote copy", self)
        self.act_verify.setToolTip("Compare the copy on the remote with the file on this computer")
        self.act_verify.triggered.connect(self.verify_selected)
        for a in (
            self.act_quit,
            self.act_close,
            self.act_retry,
            self.act_remove,
            self.act_copy_dest,
        ):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(a)

    def _build_toolbar(self) -> None:
        tb = QToolBar("Queue", self)
        tb.setObjectName("queueToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonTextBesideIcon
            if QIcon.hasThemeIcon("document-open")
            else Qt.ToolButtonStyle.ToolButtonTextOnly
        )
        tb.addAction(self.act_add_files)
        tb.addAction(self.act_add_folder)
        tb.addSeparator()
        tb.addAction(self.act_pause)
        tb.addAction(self.act_retry_failed)
        tb.addAction(self.act_clear)
        spacer = QWidget(tb)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        tb.addWidget(spacer)
        tb.addAction(self.act_settings)
        self.addToolBar(tb)
        self.toolbar = tb

    # --- adding files -------------------------------------------------------------------

    def set_destination_root(self, root: str) -> None:
        self.dest_bar.set_presets(self.engine.settings["presets"])
        self.dest_bar.set_root(root)
        self._update_empty()

    def add_paths(
        self,
        paths: Sequence[str],
        cwd: str | None = None,
        destination: str | None = None,
    ) -> AddResult | None:
        """Queue files and folders (folders recursively, keeping their structure)."""
        if not paths:
            return None
        try:
            dest = destination or self.dest_bar.destination()
        except ValueError as e:
            self.show_message(f"{e} Nothing was queued.", Tone.ERROR)
            return None
        if dest is None:
            self.pending += list(paths)
            self._pending_cwd = cwd
            n = len(self.pending)
            self.show_message(
                f"{fmt.count(n, 'item')} {'is' if n == 1 else 'are'} waiting for a "
                "destination: choose a remote in Settings and "
                f"{'it' if n == 1 else 'they'} will be queued.",
                Tone.WARNING,
                action="Settings…",
                on_action=self.settingsRequested.emit,
                timeout_ms=0,
            )
            return None
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            result = self.engine.add_paths(list(paths), destination=dest, cwd=cwd)
        except ValueError as e:
            self.show_message(str(e), Tone.ERROR)
            return None
        except sqlite3.Error as e:  # the queue could not take them (locked, a full disk)
            text = explain(self.engine.store.path, e)
            self.show_message(f"Nothing was queued. {text}", Tone.ERROR, timeout_ms=0)
            return None
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._report_added(result, dest)
        return result

    def queue_pending(self) -> None:
        if self.pending and self.dest_bar.destination():
            paths, self.pending = self.pending, []
            self.add_paths(paths, cwd=self._pending_cwd)

    def _report_added(self, result: AddResult, dest: str) -> None:
        rejected = [r for r in result.rejected if r.reason]
        if rejected:
            self.show_message(_rejected_text(rejected, result.added), Tone.WARNING, timeout_ms=0)
        elif result.added:
            self.show_message(_added_text(result, dest), Tone.INFO, timeout_ms=6000)
        elif result.jobs:
            self.show_message("Those files are already in the queue.", Tone.INFO, timeout_ms=6000)

    def choose_files(self, destination: str | None = None) -> None:
        """Pick files to upload, to ``destination`` or to the destination bar's choice."""
        self.show_normal()
        self.chosen_destination = destination or None
        dlg = QFileDialog(self, f"Upload files to {destination}" if destination else "Upload files")
        dlg.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dlg.setNameFilters(
            [
                "Images (*.jpg *.jpeg *.png *.tif *.tiff *.heic *.heif *.webp *.dng *.cr2 *.cr3 "
                "*.nef *.arw *.orf *.raf *.rw2 *.psd *.gif *.avif *.jxl *.JPG *.JPEG)",
                "All files (*)",
            ]
        )
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.filesSelected.connect(self._files_chosen)
        dlg.open()
        self.file_dialog = dlg

    def _files_chosen(self, files: Sequence[str]) -> None:
        self.add_paths(list(files), destination=self.chosen_destination)

    def choose_folder(self) -> None:
        self.show_normal()
        dlg = QFileDialog(self, "Upload a folder")
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.fileSelected.connect(lambda folder: self.add_paths([folder]))
        dlg.open()
        self.file_dialog = dlg

    # --- drag and drop ------------------------------------------------------------------

    @staticmethod
    def local_paths(urls: Iterable[QUrl]) -> list[str]:
        return [u.toLocalFile() for u in urls if u.isLocalFile() and u.toLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and self.local_paths(event.mimeData().urls()):
            event.acceptProposedAction()
            self._set_drop_hint(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_drop_hint(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_drop_hint(False)
        paths = self.local_paths(event.mimeData().urls())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # queue after the drop returns, so the file manager is not kept waiting
        QTimer.singleShot(0, lambda: self.add_paths(paths))

    def _set_drop_hint(self, on: bool) -> None:
        if on == self._drop_hint:
            return
        self._drop_hint = on
        dest = self._safe_destination()
        if on:
            self.view.setStyleSheet("QTableView { border: 2px dashed palette(highlight); }")
            self.statusBar().showMessage(
                f"Drop to upload to {dest}" if dest else "Drop now; then choose a destination"
            )
        else:
            self.view.setStyleSheet("")
            self.statusBar().clearMessage()

    def _safe_destination(self) -> str | None:
        try:
            return self.dest_bar.destination()
        except ValueError:
            return None

    # --- row actions --------------------------------------------------------------------

    def _row_action(self, job_id: int, action: str) -> None:
        if action == "retry":
            self.change_queue(self.engine.retry, [job_id])
        elif action == "cancel":
            self.change_queue(self.engine.cancel, [job_id])

    def change_queue(self, change: Callable[..., object], *args: object) -> None:
        """A person's change to the queue (retry, cancel, remove, clear). When the queue
        cannot be written (a full disk, locked by another program), say that nothing
        changed, rather than leaving the click without an answer."""
        try:
            change(*args)
        except sqlite3.Error as e:
            text = explain(self.engine.store.path, e)
            self.show_message(f"Nothing was changed. {text}", Tone.ERROR, timeout_ms=0)

    def selected_ids(self) -> list[int]:
        sel = self.view.selectionModel()
        if sel is None:
            return []
        return [int(i.data(ID_ROLE)) for i in sel.selectedRows(Col.FILE)]

    def select_job(self, job_id: int) -> None:
        row = self.model.row_of(job_id)
        if row is None:
            return
        idx = self.proxy.mapFromSource(self.model.index(row, 0))
        if idx.isValid():
            self.view.selectionModel().select(
                idx,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.view.scrollTo(idx)

    def _selected_states(self) -> set[str]:
        sel = self.view.selectionModel()
        if sel is None:
            return set()
        return {str(i.data(STATE_ROLE)) for i in sel.selectedRows(Col.FILE)}

    def context_menu(self) -> QMenu:
        states = self._selected_states()
        menu = QMenu(self)
        self.act_retry.setEnabled(bool(states & {"failed", "cancelled"}))
        self.act_cancel.setEnabled(bool(states & {"queued", "uploading"}))
        self.act_send_again.setEnabled("done" in states)
        self.act_remove.setEnabled(bool(states))
        self.act_open_folder.setEnabled(len(self.selected_ids()) == 1)
        self.act_copy_dest.setEnabled(bool(states))
        self.act_verify.setEnabled("done" in states)
        menu.addAction(self.act_retry)
        menu.addAction(self.act_cancel)
        menu.addAction(self.act_send_again)
        menu.addAction(self.act_remove)
        menu.addSeparator()
        menu.addAction(self.act_verify)
        menu.addSeparator()
        menu.addAction(self.act_open_folder)
        menu.addAction(self.act_copy_dest)
        self.act_share_link.setEnabled(bool(states) and states == {"done"})
        menu.addAction(self.act_share_link)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        if not self.view.indexAt(pos).isValid():
            return
        menu = self.context_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _double_clicked(self, index: QModelIndex) -> None:
        if index.column() != Col.ACTION:
            self.open_containing_folder()

    def open_containing_folder(self) -> None:
        sel = self.view.selectionModel()
        rows = sel.selectedRows(Col.FILE) if sel is not None else []
        if len(rows) != 1:
            return
        folder = os.path.dirname(str(rows[0].data(PATH_ROLE)))
        if Path(folder).is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder))
        else:
            self.show_message(f"The folder {folder} no longer exists.", Tone.WARNING)

    def verify_selected(self) -> None:
        checked = self.engine.verify(self.selected_ids())
        if checked:
            self.show_message(
                f"Checking {fmt.count(len(checked), 'remote copy', 'remote copies')}…",
                Tone.INFO,
                timeout_ms=4000,
            )
        else:
            self.show_message(
                "Only uploaded files that are still on this computer can be checked.",
                Tone.WARNING,
            )

    def copy_destination(self) -> None:
        sel = self.view.selectionModel()
        rows = sel.selectedRows(Col.FILE) if sel is not None else []
        if not rows:
            return
        text = "\n".join(str(i.data(DESTINATION_ROLE)) for i in rows)
        QGuiApplication.clipboard().setText(text)

    # --- share links ------------------------------------------------------------------

    def _build_sharing(self) -> None:
        self.act_share_link = QAction("Copy share link", self)
        self.act_share_link.setToolTip(
            "Make a link to the folder on the remote (or the file, where the remote can only "
            "share files) and copy it, to send to a client"
        )
        self.act_share_link.triggered.connect(self.copy_share_link)
        self.share = LinkCopier(self.engine, self)
        self.share.started.connect(self._link_started)
        self.share.copied.connect(self._link_copied)
        self.share.failed.connect(self._link_failed)

    def copy_share_link(self) -> None:
        self.share.copy_for(self.selected_ids(), one_folder=True)

    def _link_started(self, target: str) -> None:
        self.show_message(f"Making a share link for {target}…", Tone.INFO, timeout_ms=0)

    def _link_copied(self, url: str, target: str, note: str) -> None:
        text = f"Share link for {target} copied to the clipboard."
        self.show_message(f"{text} {note}" if note else text, Tone.INFO, timeout_ms=10000)

    def _link_failed(self, error: str) -> None:
        self.show_message(error, Tone.ERROR, timeout_ms=0)

    # --- queue-wide actions -------------------------------------------------------------

    def toggle_pause(self) -> None:
        if self.engine.paused:
            self.engine.resume()
        else:
            self.engine.pause()

    def _paused_changed(self, _paused: bool) -> None:
        self.refresh_summary()

    def _summary_changed(self) -> None:
        # closed to the tray, the window has no one to show its numbers to: showing it
        # again refreshes them (showEvent), so a long upload costs it nothing meanwhile
        if self.isVisible():
            self.refresh_summary()

    def refresh_summary(self) -> None:
        counts = self.engine.counts()
        summary = self.model.summary()
        state = status.tray_state(
            counts,
            self.engine.paused,
            self.engine.problem,
            self.model.offline,
            bool(self.engine.settings["enabled"]),
        )
        self.summary_label.setText(status.summary_text(state, summary, counts))
        self.summary_bar.setValue(int(summary.fraction * 1000))
        self.summary_bar.setVisible(summary.total > 0)
        paused = self.engine.paused
        self.act_pause.setText("Resume all" if paused else "Pause all")
        self.act_pause.setIcon(
            _theme_icon("media-playback-start") if paused else _theme_icon("media-playback-pause")
        )
        failed = counts.get("failed", 0)
        self.act_retry_failed.setEnabled(failed > 0)
        self.act_retry_failed.setText(
            f"Retry all failed ({failed:,})" if failed else "Retry all failed"
        )
        self.act_clear.setEnabled(counts.get("done", 0) + counts.get("cancelled", 0) > 0)
        labels = {
            Filter.ALL: ("All", sum(counts.values())),
            Filter.ACTIVE: ("Active", counts.get("queued", 0) + counts.get("uploading", 0)),
            Filter.FAILED: ("Failed", failed),
            Filter.DONE: ("Done", counts.get("done", 0)),
        }
        for f, (name, n) in labels.items():
            text = f"{name} ({n:,})" if n else name
            if self.tabs.tabText(f) != text:
                self.tabs.setTabText(f, text)

    def show_filter(self, mode: Filter) -> None:
        self.tabs.setCurrentIndex(int(mode))

    def _tab_changed(self, index: int) -> None:
        """The filter tabs show the queue; the tabs after them show their own page."""
        if index < len(Filter):
            self.proxy.set_mode(Filter(index))
            self.pages.setCurrentWidget(self.view)
        else:
            self.pages.setCurrentIndex(index - len(Filter) + 1)

    def show_page(self, page: QWidget) -> None:
        """Show the History or Statistics page."""
        self.tabs.setCurrentIndex(len(Filter) + self.pages.indexOf(page) - 1)

    # --- messages -----------------------------------------------------------------------

    def show_message(
        self,
        text: str,
        tone: Tone = Tone.INFO,
        action: str = "",
        on_action: Callable[[], None] | None = None,
        timeout_ms: int = 8000,
    ) -> None:
        self._message_action_cb = on_action
        self.message_banner.show_message(text, tone, action)
        if timeout_ms:
            self._message_timer.start(timeout_ms)
        else:
            self._message_timer.stop()

    def _message_action(self) -> None:
        if self._message_action_cb is not None:
            self._message_action_cb()

    def show_tray_notice(self, text: str) -> None:
        if text:
            self.tray_banner.show_message(text, Tone.INFO)
        else:
            self.tray_banner.hide()

    def show_folder_notice(self, text: str) -> None:
        """A hot-folder problem (a folder missing); "" hides it."""
        if text:
            if text != self.folder_banner.text or self.folder_banner.isHidden():
                self.folder_banner.show_message(text, Tone.WARNING, closable=True)
        else:
            self.folder_banner.hide()

    def _problem(self, text: str) -> None:
        if text:
            # rclone's problems are mended in the settings; a full disk is not
            action = "Settings…" if self.engine.problem_is_rclone else ""
            self.problem_banner.show_message(text, Tone.ERROR, action, closable=False)
        else:
            self.problem_banner.hide()
        self.refresh_summary()

    def _update_empty(self) -> None:
        if self.dest_bar.root:
            self.view.empty_text = (
                "Drop photos or folders here to upload them,\n"
                "or use Add files… and Add folder… above."
            )
        else:
            self.view.empty_text = (
                "Welcome to Skylift.\nFirst choose where your photos should go: "
                "click “Choose a remote…” above.\nThen drop photos or folders here."
            )
        self.view.viewport().update()

    # --- showing and closing ------------------------------------------------------------

    def show_normal(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def showEvent(self, event: QShowEvent) -> None:
        self.model.set_watched(True)
        super().showEvent(event)
        self.refresh_summary()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        if not self.isVisible():  # closed or hidden, not minimized
            self.model.set_watched(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_geometry()
        if self.allow_close:
            event.accept()
        elif self.tray_visible():
            event.accept()
            self.hiddenToTray.emit()
        else:
            # without a tray, closing the window is quitting; the app decides
            event.ignore()
            self.quitRequested.emit()

    def _save_geometry(self) -> None:
        state = ui_state()
        state.setValue("queue/geometry", self.saveGeometry())
        state.sync()  # on disk now: the program exits without tearing Qt down

    def _restore_geometry(self) -> None:
        geo = ui_state().value("queue/geometry")
        if geo is not None:
            self.restoreGeometry(geo)


def _added_text(result: AddResult, dest: str) -> str:
    """What a drop queued; files sent before and unchanged ended at once, unsent."""
    skipped = sum(1 for j in result.jobs if j.note == ALREADY_UPLOADED)
    sent = result.added - skipped
    if not skipped:
        return f"Queued {fmt.count(sent, 'file')} for {dest}."
    again = f"{fmt.count(skipped, 'file')} uploaded to {dest} before and unchanged since"
    if sent > 0:
        return f"Queued {fmt.count(sent, 'file')} for {dest}; {again}, not sent again."
    return f"Nothing was sent: {again}. To send them anyway, choose Upload again in their menu."


def _rejected_text(rejected: list[Rejected], added: int) -> str:
    shown = rejected[:3]
    lines = [f"{os.path.basename(r.path.rstrip('/')) or r.path} {r.reason}" for r in shown]
    more = len(rejected) - len(shown)
    head = f"Queued {fmt.count(added, 'file')}; " if added else "Nothing was queued; "
    text = head + f"{fmt.count(len(rejected), 'item')} skipped: " + "; ".join(lines)
    if more:
        text += f"; and {more:,} more (see the log)"
    return text + "."
