"""The queue's table model: rows and cells follow the engine's signals, touching only
what changed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from skylift.core.store import JobState
from skylift.entry.service import EngineService
from skylift.ui.queue_model import (
    ACTION_ROLE,
    FRACTION_ROLE,
    Col,
    Filter,
    QueueFilter,
    QueueModel,
)
from tests.conftest import make_files

TIP = Qt.ItemDataRole.ToolTipRole


def _text(model: QueueModel, row: int, col: Col, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
    return model.index(row, col).data(role)


def test_loads_every_job_with_one_query(
    qtbot: Any, paused_service: EngineService, tmp_path: Path
) -> None:
    engine = paused_service.engine
    make_files(tmp_path / "Wedding", ["a.jpg", "sub/b.jpg"], size=2500)
    engine.add_paths([str(tmp_path / "Wedding")])
    calls: list[Any] = []
    real = engine.job_dicts

    def counting(ids: Any = None) -> Any:
        calls.append(ids)
        return real(ids)

    engine.job_dicts = counting  # type: ignore[method-assign]
    model = QueueModel(engine)
    assert calls == [None]
    assert model.rowCount() == 2
    assert _text(model, 0, Col.FILE) == "a.jpg"
    assert _text(model, 0, Col.FILE, TIP) == str(tmp_path / "Wedding" / "a.jpg")
    assert _text(model, 1, Col.DESTINATION) == "loop:/Photos/Wedding/sub"
    assert _text(model, 1, Col.DESTINATION, TIP) == "loop:/Photos/Wedding/sub/b.jpg"
    assert _text(model, 0, Col.SIZE) == "2.5 KB"
    assert _text(model, 0, Col.STATUS) == "Paused"
    assert _text(model, 0, Col.PROGRESS) == ""
    assert model.index(0, Col.ACTION).data(ACTION_ROLE) == "cancel"
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert int(_text(model, 0, Col.SIZE, Qt.ItemDataRole.TextAlignmentRole)) == right


def test_jobs_added_arrive_as_one_insertion(
    qtbot: Any, paused_service: EngineService, tmp_path: Path
) -> None:
    engine = paused_service.engine
    model = QueueModel(engine)
    files = make_files(tmp_path, ["1.jpg", "2.jpg", "3.jpg"])
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    with qtbot.waitSignal(engine.jobsAdded):
        engine.add_paths([str(f) for f in files])
    assert inserted == [(0, 2)]
    assert [_text(model, r, Col.FILE) for r in range(3)] == ["1.jpg", "2.jpg", "3.jpg"]
    # the same files again: nothing new, no second row
    engine.add_paths([str(f) for f in files])
    assert model.rowCount() == 3


def test_state_changes_update_only_their_rows(
    qtbot: Any, paused_service: EngineService, tmp_path: Path
) -> None:
    engine = paused_service.engine
    files = make_files(tmp_path, [f"{i}.jpg" for i in range(5)])
    jobs = engine.add_paths([str(f) for f in files]).jobs
    model = QueueModel(engine)
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda a, b, _r=None: changed.append((a.row(), a.column(), b.row(), b.column()))
    )
    with qtbot.waitSignal(engine.jobsChanged):
        engine.cancel([jobs[3].id])
    assert changed == [(3, Col.SIZE, 3, Col.ACTION)]
    assert _text(model, 3, Col.STATUS) == "Cancelled"
    assert model.index(3, Col.ACTION).data(ACTION_ROLE) == ""
    assert model.index(3, Col.PROGRESS).data(FRACTION_ROLE) == -1

    changed.clear()
    with qtbot.waitSignal(engine.jobsChanged):
        engine.retry([jobs[3].id])
    assert changed == [(3, Col.SIZE, 3, Col.ACTION)]
    assert _text(model, 3, Col.STATUS) == "Paused"


def test_progress_touches_only_the_progress_speed_and_time_cells(
    qtbot: Any, paused_service: EngineService, tmp_path: Path
) -> None:
    engine = paused_service.engine
    files = make_files(tmp_path, ["a.jpg", "b.jpg", "c.jpg"], size=4_000_000)
    ids = [j.id for j in engine.add_paths([str(f) for f in files]).jobs]
    model = QueueModel(engine)
    # two jobs start uploading (what the engine writes when rclone starts them)
    paused_service.store.update(ids[:2], JobState.UPLOADING, attempt_delta=1)
    model.on_changed(ids[:2])
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda a, b, _r=None: changed.append((a.row(), a.column(), b.row(), b.column()))
    )
    assert _text(model, 1, Col.STATUS) == "Waiting for its turn"  # rclone has not begun it
    assert _text(model, 1, Col.PROGRESS) == ""
    model.on_progress({ids[1]: (1_000_000, 2_000_000.0, 1.5), 999_999: (1, 1.0, 1.0)})
    assert changed == [(1, Col.PROGRESS, 1, Col.STATUS)]  # the first report: status too
    assert _text(model, 1, Col.PROGRESS) == "25 %"
    assert model.index(1, Col.PROGRESS).data(FRACTION_ROLE) == 0.25
    assert _text(model, 1, Col.SPEED) == "2.0 MB/s"
    assert _text(model, 1, Col.LEFT) == "2 s"
    assert _text(model, 1, Col.PROGRESS, TIP) == "1.0 MB of 4.0 MB"
    assert _text(model, 1, Col.STATUS) == "Uploading"
    assert _text(model, 0, Col.SPEED) == ""

    changed.clear()
    model.on_progress({ids[1]: (1_500_000, 2_000_000.0, 1.0)})
    assert changed == [(1, Col.PROGRESS, 1, Col.LEFT)]  # later ones: only these three
    model.on_progress({ids[0]: (1, 1.0, 0.0)})
    changed.clear()
    model.on_progress({ids[0]: (4_000_000, 1.0, 0.0), ids[1]: (2_000_000, 1.0, 0.0)})
    assert changed == [(0, Col.PROGRESS, 1, Col.LEFT)]  # neighbours: one range

    summary = model.summary()
    assert (summary.total, summary.finished, summary.active) == (3, 0, 3)
    assert summary.bytes_done == 6_000_000 and summary.bytes_total == 12_000_000

    # the upload ends: speed and time left go, the bar is full
    paused_service.store.update([ids[1]], JobState.DONE)
    model.on_changed([ids[1]])
    assert _text(model, 1, Col.SPEED) == "" and _text(model, 1, Col.LEFT) == ""
    assert _text(model, 1, Col.PROGRESS) == "100 %"
    assert _text(model, 1, Col.STATUS) == "Uploaded"


def test_a_failure_shows_its_plain_reason_in_full(
    qtbot: Any, service: EngineService, tmp_path: Path
) -> None:
    engine = service.engine
    model = QueueModel(engine)
    (gone,) = make_files(tmp_path, ["gone.jpg"])
    engine.pause()
    (job,) = engine.add_paths([str(gone)]).jobs
    os.unlink(gone)
    with qtbot.waitSignal(engine.jobsChanged, timeout=10_000):
        engine.resume()
    qtbot.waitUntil(lambda: model.row_state(job.id) is JobState.FAILED)
    row = model.row_of(job.id)
    assert row is not None
    assert _text(model, row, Col.STATUS) == "The file no longer exists."
    assert _text(model, row, Col.STATUS, TIP).startswith("The file no longer exists.")
    assert model.index(row, Col.ACTION).data(ACTION_ROLE) == "retry"
    assert model.index(row, Col.STATUS).data(Qt.ItemDataRole.ForegroundRole) is not None


def test_removed_jobs_leave_and_the_index_stays_right(
    qtbot: Any, paused_service: EngineService, tmp_path: Path
) -> None:
    engine = paused_service.engine
    files = make_files(tmp_path, [f"{i}.jpg" for i in range(6)])
    ids = [j.id for j in engine.add_paths([str(f) for f in files]).jobs]
    model = QueueModel(engine)
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))
    engine.remove([ids[1], ids[2], ids[4]])
    assert removed == [(4, 4), (1, 2)]
    assert [_text(model, r, Col.FILE) for r in range(model.rowCount())] == [
        "0.jpg",
        "3.jpg",
        "5.jpg",
    ]
    assert model.row_of(ids[5]) == 2
    model.on_changed([ids[5]])  # still finds its row


def test_filter_tabs(qtbot: Any, paused_service: EngineService, tmp_path: Path) -> None:
    engine = paused_service.engine
    files = make_files(tmp_path, ["a.jpg", "b.jpg", "c.jpg"])
    ids = [j.id for j in engine.add_paths([str(f) for f in files]).jobs]
    paused_service.store.update([ids[0]], JobState.DONE)
    paused_service.store.update([ids[1]], JobState.FAILED, error="The file no longer exists.")
    model = QueueModel(engine)
    proxy = QueueFilter()
    proxy.setSourceModel(model)

    def shown() -> list[str]:
        return [proxy.index(r, Col.FILE, QModelIndex()).data() for r in range(proxy.rowCount())]

    assert shown() == ["a.jpg", "b.jpg", "c.jpg"]
    proxy.set_mode(Filter.ACTIVE)
    assert shown() == ["c.jpg"]
    proxy.set_mode(Filter.FAILED)
    assert shown() == ["b.jpg"]
    proxy.set_mode(Filter.DONE)
    assert shown() == ["a.jpg"]
    # a retried failure leaves the Failed tab by itself
    proxy.set_mode(Filter.FAILED)
    with qtbot.waitSignal(engine.jobsChanged):
        engine.retry([ids[1]])
    assert shown() == []


def test_ten_thousand_rows_load_at_once_and_update_cheaply(
    qtbot: Any, paused_service: EngineService, tmp_path: Path
) -> None:
    engine = paused_service.engine
    folder = tmp_path / "Big"
    folder.mkdir()
    for i in range(10_000):
        (folder / f"IMG_{i:05}.jpg").write_bytes(b"x")
    result = engine.add_paths([str(folder)])
    assert result.added == 10_000
    model = QueueModel(engine)
    assert model.rowCount() == 10_000
    last = result.jobs[-1].id
    paused_service.store.update([last], JobState.UPLOADING)
    model.on_changed([last])
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _r=None: changed.append((a.row(), b.row())))
    model.on_progress({last: (1, 10.0, 0.1)})
    assert changed == [(9999, 9999)]
    assert model.row_of(last) == 9999
