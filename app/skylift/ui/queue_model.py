"""The upload queue as a table model, fed by the engine's signals.

Rows live in a list with an id -> row index, loaded with one ``engine.jobs()`` call.
Each engine signal touches only the rows it names, and ``dataChanged`` covers only
the columns that can have changed, so 10,000 rows cost nothing while four upload.
"""

from __future__ import annotations

import enum
import os
import posixpath
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from skylift.core.engine import ALREADY_UPLOADED, HELD, Engine
from skylift.core.store import ACTIVE, JobState
from skylift.ui import format as fmt
from skylift.ui.job_table import AnyIndex, JobTable
from skylift.ui.status import Summary, is_connection_error


class Col(enum.IntEnum):
    FILE = 0
    DESTINATION = 1
    SIZE = 2
    PROGRESS = 3
    SPEED = 4
    LEFT = 5
    STATUS = 6
    ACTION = 7


HEADERS = {
    Col.FILE: "File",
    Col.DESTINATION: "Destination",
    Col.SIZE: "Size",
    Col.PROGRESS: "Progress",
    Col.SPEED: "Speed",
    Col.LEFT: "Time left",
    Col.STATUS: "Status",
    Col.ACTION: "",
}

ID_ROLE = Qt.ItemDataRole.UserRole + 1
STATE_ROLE = Qt.ItemDataRole.UserRole + 2
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 3  # 0..1, or -1 for "no bar"
ACTION_ROLE = Qt.ItemDataRole.UserRole + 4  # "retry", "cancel" or ""
PATH_ROLE = Qt.ItemDataRole.UserRole + 5
DESTINATION_ROLE = Qt.ItemDataRole.UserRole + 6

_STATES = {s.value: s for s in JobState}  # a dict lookup: cheaper than JobState(value)


class Row:
    __slots__ = (
        "attempts",
        "bytes",
        "dest",
        "dest_dir",
        "error",
        "eta",
        "id",
        "link",
        "name",
        "note",
        "path",
        "size",
        "speed",
        "started",
        "state",
        "verified",
    )

    def __init__(self, job: Mapping[str, Any]):
        """``job``: the job as ``Job.as_dict()`` gives it (``Engine.job_dicts``)."""
        self.id = job["id"]
        self.path = job["path"]
        self.name = os.path.basename(self.path)
        self.dest = job["destination"]
        self.dest_dir = _folder_of(self.dest)
        self.speed = 0.0
        self.eta = -1.0
        self.started = False  # rclone has reported progress for it in this attempt
        self.size = 0
        self.state = JobState.QUEUED
        self.bytes = 0
        self.attempts = 0
        self.error: str | None = None
        self.verified: str | None = None
        self.note: str | None = None
        self.update(job)

    def update(self, job: Mapping[str, Any]) -> None:
        state = _STATES[job["state"]]
        self.size = job["size"]
        self.state = state
        self.bytes = job["size"] if state is JobState.DONE else job["bytes"]
        self.attempts = job["attempts"]
        self.error = job["error"]
        self.verified = job["verified"]
        self.note = job["note"]
        self.link = job["link"]
        if state is not JobState.UPLOADING:
            self.speed = 0.0
            self.eta = -1.0
            self.started = False

    @property
    def fraction(self) -> float:
        if self.state is JobState.DONE:
            return 1.0
        if self.state is not JobState.UPLOADING or not self.started:
            return -1.0
        return min(1.0, self.bytes / self.size) if self.size > 0 else 0.0


def _folder_of(destination: str) -> str:
    name, sep, path = destination.partition(":")
    return f"{name}{sep}{posixpath.dirname(path) or path}"


class QueueModel(JobTable):
    headers = HEADERS
    right_aligned = frozenset({Col.SIZE, Col.SPEED, Col.LEFT})

    def __init__(self, engine: Engine, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self._rows: list[Row] = []
        self._index: dict[int, int] = {}
        self._batch: set[int] = set()
        self._summary: Summary | None = None
        self._watched = True  # a view shows the rows (see set_watched)
        self._stale = False  # rows changed while nobody watched
        self._offline = False  # derived from the errors, for engines without onlineChanged
        self.offline_reason = ""
        self._failure_color = QColor()
        self._muted_color = QColor()
        self._pick_colors()
        self.load()
        engine.jobsAdded.connect(self.on_added)
        engine.jobsChanged.connect(self.on_changed)
        engine.jobsRemoved.connect(self.on_removed)
        engine.progress.connect(self.on_progress)
        engine.pausedChanged.connect(self.on_paused)
        engine.drained.connect(self.on_drained)
        online_changed = getattr(engine, "onlineChanged", None)
        if online_changed is not None:
            online_changed.connect(self.on_online)

    def _pick_colors(self) -> None:
        app = QGuiApplication.instance()
        pal = app.palette() if isinstance(app, QGuiApplication) else QPalette()
        dark = pal.color(QPalette.ColorRole.Base).lightness() < 128
        self._failure_color = QColor("#ff8a80" if dark else "#c62828")
        self._muted_color = pal.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)

    # --- loading and engine signals ---------------------------------------------------

    def load(self) -> None:
        """All jobs, in one query."""
        self._summary = None
        self.beginResetModel()
        self._rows = [Row(j) for j in self.engine.job_dicts()]
        self._index = {r.id: i for i, r in enumerate(self._rows)}
        for r in self._rows:
            if r.state is JobState.UPLOADING:
                p = self.engine.job_progress(r.id)
                if p:
                    r.started = True
                    r.bytes, r.speed = p[0], p[1]
                    r.eta = p[2] if p[2] is not None else -1.0
        self._batch = {r.id for r in self._rows if r.state in ACTIVE}
        self._offline = False
        self.offline_reason = ""
        for r in self._rows:
            if r.state is JobState.QUEUED and is_connection_error(r.error):
                self._offline, self.offline_reason = True, r.error or ""
        self.endResetModel()

    def on_added(self, ids: list[int]) -> None:
        self._summary = None
        known = [i for i in ids if i in self._index]
        fresh = [Row(j) for j in self.engine.job_dicts([i for i in ids if i not in self._index])]
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            for row in fresh:
                self._index[row.id] = len(self._rows)
                self._rows.append(row)
            self.endInsertRows()
            self._join_batch([r.id for r in fresh])
        if known:
            self.on_changed(known)

    def on_changed(self, ids: list[int]) -> None:
        self._summary = None
        rows = []
        joining = []
        for job in self.engine.job_dicts([i for i in ids if i in self._index]):
            row_no = self._index[job["id"]]
            row = self._rows[row_no]
            was_active = row.state in ACTIVE
            row.update(job)
            rows.append(row_no)
            if row.state in ACTIVE and not was_active:
                joining.append(row.id)
            if row.state is JobState.DONE:
                self._offline = False
            elif row.state in (JobState.QUEUED, JobState.FAILED) and is_connection_error(row.error):
                self._offline, self.offline_reason = True, row.error or ""
        self._join_batch(joining)
        self._emit_rows(rows, Col.SIZE, Col.ACTION)

    def _join_batch(self, ids: list[int]) -> None:
        """Jobs queued (or queued again) join the batch the summary line counts. When
        nothing of it is still to do, the queue was idle: they begin a new batch. (Files
        that end at once, as already uploaded, drain the queue before the window hears
        of them, so the engine's ``drained`` cannot end their batch.)"""
        if not ids:
            return
        new = set(ids)
        if not any(self.row_state(i) in ACTIVE for i in self._batch if i not in new):
            self._batch = set()
        self._batch |= new

    def on_progress(self, update: dict[int, tuple[int, float, float]]) -> None:
        self._summary = None
        rows: list[int] = []
        firsts: list[int] = []
        for job_id, (done, speed, eta) in update.items():
            row_no = self._index.get(job_id)
            if row_no is None:
                continue
            row = self._rows[row_no]
            if row.state is not JobState.UPLOADING:
                continue
            first = not row.started
            row.bytes, row.speed, row.eta = int(done), float(speed), float(eta)
            row.started = True
            (firsts if first else rows).append(row_no)
        self._emit_rows(rows, Col.PROGRESS, Col.LEFT)
        self._emit_rows(firsts, Col.PROGRESS, Col.STATUS)

    def on_removed(self, ids: list[int]) -> None:
        self._summary = None
        doomed = sorted((self._index[i] for i in ids if i in self._index), reverse=True)
        if not doomed:
            return
        for first, last in _runs_descending(doomed):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            self.endRemoveRows()
        self._index = {r.id: i for i, r in enumerate(self._rows)}
        self._batch.difference_update(ids)

    def on_paused(self, paused: bool) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        """Queued rows say "Paused" or "Waiting": repaint the status column."""
        if self._rows:
            self._changed(0, len(self._rows) - 1, Col.STATUS, Col.STATUS)

    def on_online(self, online: bool) -> None:
        if online:
            self._offline = False
        self.refresh_status()

    @property
    def offline(self) -> bool:
        """The remote cannot be reached: the engine says so, or (for an engine that does
        not tell) the latest failures were connection errors and nothing got through since.
        """
        engine_online = getattr(self.engine, "online", None)
        if engine_online is not None:
            return not engine_online
        return self._offline

    def on_drained(self, ids: list[int]) -> None:
        self._summary = None
        # a new batch begins with the next file queued
        self._batch = {i for i in self._batch if self.row_state(i) in ACTIVE}

    def set_watched(self, watched: bool) -> None:
        """Whether a view shows the rows. Unwatched (the window closed to the tray), the
        rows still follow the engine, for the summary, but no ``dataChanged`` goes out:
        nothing filters, sorts or paints them. Watched again, one ``dataChanged`` over
        every row brings the view and its filter up to date."""
        self._watched = watched
        if watched and self._stale:
            self._stale = False
            if self._rows:
                self._changed(0, len(self._rows) - 1, 0, len(self.headers) - 1)

    def _emit_rows(self, rows: Iterable[int], first_col: Col, last_col: Col) -> None:
        for first, last in _runs(sorted(set(rows))):
            self._changed(first, last, first_col, last_col)

    def _changed(self, first: int, last: int, first_col: int, last_col: int) -> None:
        """``dataChanged`` for these rows and columns; unwatched, only noted (set_watched)."""
        if not self._watched:
            self._stale = True
            return
        self.dataChanged.emit(self.index(first, first_col), self.index(last, last_col))

    # --- queries ----------------------------------------------------------------------

    def row_state(self, job_id: int) -> JobState | None:
        row_no = self._index.get(job_id)
        return self._rows[row_no].state if row_no is not None else None

    def state_at(self, row_no: int) -> JobState:
        return self._rows[row_no].state

    def job_id_at(self, row_no: int) -> int:
        return self._rows[row_no].id

    def row_of(self, job_id: int) -> int | None:
        return self._index.get(job_id)

    def ids(self) -> Iterator[int]:
        return (r.id for r in self._rows)

    def summary(self) -> Summary:
        """The batch's numbers; computed once per change, however many ask."""
        if self._summary is None:
            self._summary = self._compute_summary()
        return self._summary

    def _compute_summary(self) -> Summary:
        total = finished = uploaded = skipped = failed = active = 0
        bytes_total = bytes_done = 0
        speed = 0.0
        for job_id in self._batch:
            row_no = self._index.get(job_id)
            if row_no is None:
                continue
            r = self._rows[row_no]
            if r.state is JobState.CANCELLED:
                continue
            total += 1
            bytes_total += r.size
            if r.state is JobState.DONE and r.note == ALREADY_UPLOADED:
                finished += 1
                skipped += 1
                bytes_total -= r.size  # nothing of it was sent, nor will be
            elif r.state is JobState.DONE:
                finished += 1
                uploaded += 1
                bytes_done += r.size
            elif r.state is JobState.FAILED:
                finished += 1
                failed += 1
                bytes_total -= r.size  # it will not be sent: not part of what is left
            else:
                active += 1
                if r.state is JobState.UPLOADING:
                    bytes_done += r.bytes
                    speed += r.speed
        return Summary(
            total, finished, failed, active, bytes_total, bytes_done, speed, uploaded, skipped
        )

    # --- the model interface ----------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(r, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(col)
        if role == Qt.ItemDataRole.ForegroundRole and col == Col.STATUS:
            if r.state is JobState.FAILED:
                return self._failure_color
            if r.state in (JobState.CANCELLED, JobState.QUEUED):
                return self._muted_color
            return None
        if role == ID_ROLE:
            return r.id
        if role == STATE_ROLE:
            return r.state.value
        if role == FRACTION_ROLE:
            return r.fraction
        if role == ACTION_ROLE:
            return action_for(r.state)
        if role == PATH_ROLE:
            return r.path
        if role == DESTINATION_ROLE:
            return r.dest
        return None

    def _display(self, r: Row, col: int) -> str:
        if col == Col.FILE:
            return r.name
        if col == Col.DESTINATION:
            return r.dest_dir
        if col == Col.SIZE:
            return fmt.size(r.size)
        if col == Col.PROGRESS:
            f = r.fraction
            return f"{fmt.percent(f, 1.0)} %" if f >= 0 else ""
        if col == Col.SPEED:
            return fmt.speed(r.speed) if r.state is JobState.UPLOADING else ""
        if col == Col.LEFT:
            return fmt.duration(r.eta) if r.state is JobState.UPLOADING and r.eta >= 0 else ""
        if col == Col.STATUS:
            return self.status_text(r)
        return ""

    def status_text(self, r: Row) -> str:
        if r.state is JobState.QUEUED:
            if self.engine.paused:
                return "Paused"
            if not self.engine.settings["enabled"]:
                return "Queued (uploads are turned off in Settings)"
            if r.error == HELD:
                return "Waiting for its watched folder to return"
            if self.offline:
                return f"Waiting for the remote: {r.error}" if r.error else "Waiting for the remote"
            if r.error:
                return f"Will retry: {r.error}"
            return "Waiting"
        if r.state is JobState.UPLOADING:
            if r.verified == "checking":
                return "Checking the remote copy"
            if not r.started:
                # in rclone's batch, waiting for one of the --transfers slots
                return "Waiting for its turn"
            return "Uploading" if r.attempts <= 1 else f"Uploading (try {r.attempts})"
        if r.state is JobState.DONE:
            if r.note == ALREADY_UPLOADED:
                return "Already uploaded"
            if r.verified == "checking":
                return "Uploaded; checking the remote copy"
            if r.verified and r.verified.startswith("hash:"):
                return f"Uploaded and verified ({r.verified[5:].upper()})"
            if r.verified == "size":
                return "Uploaded and verified (size)"
            if r.verified == "unverified" and r.note:
                return f"Uploaded; {r.note[0].lower()}{r.note[1:]}"
            return "Uploaded"
        if r.state is JobState.FAILED:
            return r.error or "Failed"
        return "Cancelled"

    def _tooltip(self, r: Row, col: int) -> str | None:
        if col == Col.FILE:
            return r.path
        if col == Col.DESTINATION:
            return r.dest
        if col == Col.STATUS:
            text = self.status_text(r)
            if r.state is JobState.DONE and r.link:
                text += f"\nShare link: {r.link}"
            if r.state is JobState.FAILED and r.attempts:
                text += f"\n(tried {fmt.count(r.attempts, 'time')})"
            return text
        if col == Col.PROGRESS and r.state is JobState.UPLOADING:
            return f"{fmt.size(r.bytes)} of {fmt.size(r.size)}"
        if col == Col.ACTION:
            action = action_for(r.state)
            if action == "retry":
                return "Upload this file again"
            if action == "cancel":
                return "Stop uploading this file"
        return None


def action_for(state: JobState) -> str:
    if state is JobState.FAILED:
        return "retry"
    if state in ACTIVE:
        return "cancel"
    return ""


def _runs(sorted_rows: list[int]) -> Iterator[tuple[int, int]]:
    """Contiguous (first, last) runs of ascending row numbers."""
    if not sorted_rows:
        return
    first = last = sorted_rows[0]
    for r in sorted_rows[1:]:
        if r == last + 1:
            last = r
        else:
            yield first, last
            first = last = r
    yield first, last


def _runs_descending(rows: list[int]) -> Iterator[tuple[int, int]]:
    """(first, last) runs from descending row numbers, the highest run first."""
    if not rows:
        return
    last = first = rows[0]
    for r in rows[1:]:
        if r == first - 1:
            first = r
        else:
            yield first, last
            last = first = r
    yield first, last


class Filter(enum.IntEnum):
    ALL = 0
    ACTIVE = 1
    FAILED = 2
    DONE = 3


_FILTER_STATES = {
    Filter.ACTIVE: ACTIVE,
    Filter.FAILED: (JobState.FAILED,),
    Filter.DONE: (JobState.DONE,),
}


class QueueFilter(QSortFilterProxyModel):
    """The filter tabs: All, Active, Failed, Done."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._mode = Filter.ALL

    @property
    def mode(self) -> Filter:
        return self._mode

    def set_mode(self, mode: Filter) -> None:
        if mode != self._mode:
            if hasattr(self, "beginFilterChange"):  # Qt 6.10+: invalidateRowsFilter is deprecated
                self.beginFilterChange()
                self._mode = mode
                self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
            else:  # pragma: no cover
                self._mode = mode
                self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if self._mode is Filter.ALL:
            return True
        model = self.sourceModel()
        assert isinstance(model, QueueModel)
        return model.state_at(source_row) in _FILTER_STATES[self._mode]
