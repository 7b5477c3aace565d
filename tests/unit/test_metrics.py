"""Statistics over a store filled directly, the bandwidth window, the health schedule,
the history export, and the words and chart points they become."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from skylift.core import health
from skylift.core.history_export import COLUMNS, local_time, table_lines, write_csv
from skylift.core.metrics import BandwidthHistory, Totals, compute
from skylift.core.store import JobState, Store
from skylift.ui import format as fmt
from skylift.ui.icons import TrayState
from skylift.ui.statistics import chart_points, nice_ceiling
from skylift.ui.tray_health import pile_up_text, tray_state


def _jobs(store: Store, n: int, prefix: str = "f", size: int = 100) -> list[int]:
    items = [(Path(f"/x/{prefix}{i}.jpg"), f"r:/P/{prefix}{i}.jpg", size, 0.0) for i in range(n)]
    jobs, _ = store.add(items)
    return [j.id for j in jobs]


def _finish(store: Store, ids: list[int], state: JobState, tries: int = 1) -> None:
    for _ in range(tries):
        store.update(ids, JobState.UPLOADING, attempt_delta=1)
    store.update(ids, state, error=None if state is JobState.DONE else "The file no longer exists.")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "q.sqlite3")


def test_metrics_of_a_known_mix(store: Store) -> None:
    done = _jobs(store, 5, "done", size=1000)
    failed = _jobs(store, 2, "failed")
    retried_done = _jobs(store, 2, "rdone", size=1000)
    retried_failed = _jobs(store, 1, "rfailed")
    cancelled = _jobs(store, 1, "cancelled")
    _jobs(store, 3, "queued")
    uploading = _jobs(store, 1, "uploading")
    skipped = _jobs(store, 1, "skipped", size=1000)
    _finish(store, done, JobState.DONE)
    _finish(store, failed, JobState.FAILED)
    _finish(store, retried_done, JobState.DONE, tries=3)
    _finish(store, retried_failed, JobState.FAILED, tries=2)
    _finish(store, skipped, JobState.DONE)
    store.set_fields(skipped, note="Already uploaded")
    store.update(cancelled, JobState.CANCELLED)
    store.update(uploading, JobState.UPLOADING, attempt_delta=1)
    # known upload times: 1 s to 7 s for the seven that moved bytes, 100 s for the skipped
    for seconds, job_id in enumerate([*done, *retried_done], start=1):
        store._db.execute("UPDATE jobs SET duration = ? WHERE id = ?", (seconds, job_id))
    store._db.execute("UPDATE jobs SET duration = 100 WHERE id = ?", (skipped[0],))
    store.clear_finished()  # hides done and cancelled from the queue, not from the figures

    m = compute(store.metrics_totals(), 1234.5, [(10.0, 5.0)])
    assert m == {
        "success_rate": 8 / 11,
        "average_upload_seconds": 4.0,
        "failed": 3,
        "retried": 3,
        "retry_success_rate": 2 / 3,
        "queue_size": 4,
        "uploaded_bytes": 8 * 1000,
        "bandwidth_bps": 1234.5,
        "bandwidth_history": [[10.0, 5.0]],
    }
    assert store.counts()["done"] == 0  # cleared, yet counted above


def test_metrics_of_nothing_are_null(store: Store) -> None:
    assert compute(store.metrics_totals()) == compute(Totals())
    m = compute(Totals())
    assert m["success_rate"] is None and m["retry_success_rate"] is None
    assert m["average_upload_seconds"] is None
    assert m["failed"] == m["retried"] == m["queue_size"] == m["uploaded_bytes"] == 0
    assert m["bandwidth_history"] == []


def test_history_pages_with_offset(store: Store) -> None:
    ids = _jobs(store, 5)
    _finish(store, ids, JobState.DONE)
    first = [j.id for j in store.history("", 2, 0)]
    second = [j.id for j in store.history("", 2, 2)]
    rest = [j.id for j in store.history("", 2, 4)]
    assert sorted(first + second + rest) == sorted(ids)
    assert len(set(first + second + rest)) == 5


def test_bandwidth_history_averages_into_steps_and_stays_bounded() -> None:
    h = BandwidthHistory(step=10, window=60)
    for k in range(5):  # 0..8 s: one step, the mean of the samples
        h.add(1000 + 2 * k, 100.0 * k)
    assert h.points(now=1009) == [(1000.0, 200.0)]
    for k in range(1000):  # a long upload: one point per step, at most 6 kept
        h.add(1010 + 2 * k, 1000.0)
    assert len(h) == 6
    pts = h.points(now=1010 + 2 * 999)
    assert all(b == 1000.0 for _, b in pts)
    assert [t for t, _ in pts] == sorted(t for t, _ in pts)
    assert len(pts) <= 7  # the kept steps and the one being filled
    h.add(500, 5.0)  # the clock went back: ignored
    assert h.points(now=1010 + 2 * 999) == pts
    assert h.points(now=10_000) == []  # all older than the window


def test_bandwidth_history_ignores_negative_speeds() -> None:
    h = BandwidthHistory(step=10, window=100)
    h.add(0, -5.0)
    h.add(1, 10.0)
    assert h.points(now=5) == [(0.0, 5.0)]


def test_health_schedule() -> None:
    check = health.next_check
    base = {"queued": 0, "failed": 0, "busy": False, "failure_pending": False, "healthy": True}
    assert check(**base) is None  # idle, nothing failed: no check
    assert check(**{**base, "queued": 3}) == health.CHECK_EVERY_S
    assert check(**{**base, "failure_pending": True}) == health.AFTER_FAILURE_S
    assert check(**{**base, "failed": 2}) is None  # the last check said all is well
    assert check(**{**base, "failed": 2, "healthy": False}) == health.CHECK_EVERY_S
    assert check(**{**base, "queued": 3, "busy": True, "failure_pending": True}) is None


def test_health_state_reports_changes_once() -> None:
    s = health.HealthState()
    assert s.ok and s.message == ""
    s.failure_pending = True
    assert s.report(False, "The remote 'x' refused the connection.") is True
    assert not s.failure_pending
    assert s.report(False, "The remote 'x' refused the connection.") is False
    assert s.message == "The remote 'x' refused the connection."
    assert s.report(True) is True and s.message == ""
    assert s.report(False) and s.message == "The remote did not answer."
    assert s.verdicts == 4


def test_health_target_is_the_upload_folder() -> None:
    assert health.target_for("dropbox:/Photos/x/a.jpg") == "dropbox:/Photos/x"
    assert health.target_for("s3:bucket/a.jpg") == "s3:bucket"
    assert health.target_for("loop:a.jpg") == "loop:"
    with pytest.raises(ValueError):
        health.target_for("not-a-remote")


def test_csv_export_has_a_header_a_row_per_job_and_no_formulas(store: Store) -> None:
    ids = _jobs(store, 2)
    _finish(store, ids[:1], JobState.DONE)
    _finish(store, ids[1:], JobState.FAILED)
    store.set_fields(ids[:1], link="=HYPERLINK(evil)", verified="hash:md5")
    out = io.StringIO()
    assert write_csv(store.history(), out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == COLUMNS
    by_id = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    done, failed = by_id[str(ids[0])], by_id[str(ids[1])]
    assert done["state"] == "done" and done["path"] == "/x/f0.jpg"
    assert done["link"] == "'=HYPERLINK(evil)" and done["verified"] == "hash:md5"
    assert failed["error"] == "The file no longer exists." and failed["size"] == "100"
    lines = table_lines(store.history())
    assert any("/x/f1.jpg -> r:/P/f1.jpg" in line and "no longer exists" in line for line in lines)


def test_local_time() -> None:
    assert local_time(None) == ""
    assert local_time("garbage") == "garbage"
    assert len(local_time("2024-05-01T10:00:00Z")) == len("2024-05-01 10:00")


def test_words_for_the_figures() -> None:
    assert fmt.rate(None) == "—"
    assert fmt.rate(2 / 3) == "66 %"
    assert fmt.rate(0.9996) == "99.9 %"  # not rounded up to a perfect score
    assert fmt.rate(1.0) == "100 %"
    assert fmt.rate(0.0) == "0 %"
    assert fmt.average_time(None) == "—"
    assert fmt.average_time(2.44) == "2.4 s"
    assert fmt.average_time(95) == "2 min"
    assert pile_up_text(12) == "12 uploads failed; open Skylift to retry them."


def test_chart_points_drop_to_zero_when_idle() -> None:
    assert chart_points([], now=100) == []
    pts = chart_points([[100, 5.0], [110, 6.0], [300, 7.0]], now=310, step=10)
    assert pts == [(90, 0.0), (100, 5.0), (110, 6.0), (120, 0.0), (290, 0.0), (300, 7.0)]
    assert chart_points([[100, 5.0]], now=200, step=10)[-2:] == [(110, 0.0), (200, 0.0)]
    assert nice_ceiling(0) == 1000.0
    assert nice_ceiling(7_300_000) == 10_000_000.0
    assert nice_ceiling(1_500_000) == 2_000_000.0


def test_tray_state_with_a_failing_check() -> None:
    assert tray_state(TrayState.UPLOADING, healthy=False) is TrayState.OFFLINE
    assert tray_state(TrayState.UPLOADING, healthy=True) is TrayState.UPLOADING
    assert tray_state(TrayState.PAUSED, healthy=False) is TrayState.PAUSED
    assert tray_state(TrayState.ERROR, healthy=False) is TrayState.ERROR
    assert tray_state(TrayState.IDLE, healthy=False) is TrayState.IDLE


def test_sampler_runs_only_while_uploads_do(qtbot) -> None:  # type: ignore[no-untyped-def]
    from skylift.core.bandwidth import BandwidthSampler

    s = BandwidthSampler(interval_ms=10)
    assert not s.running  # idle: no timer at all
    s.wake()
    assert s.running
    with qtbot.waitSignal(s.due, timeout=5000):
        pass
    s.record(500.0, active=True)
    assert s.running
    s.record(0.0, active=False)  # the last upload ended
    assert not s.running
    pts = s.points()
    assert 1 <= len(pts) <= 2 and max(b for _, b in pts) <= 500.0  # kept after stopping
