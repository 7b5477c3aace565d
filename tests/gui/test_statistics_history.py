"""The Statistics and History pages of the queue window, and the tray's health warnings."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from skylift.core import health
from skylift.core.store import JobState, Store
from skylift.entry.service import EngineService
from skylift.ui.app import SkyliftApp
from skylift.ui.history import PAGE, HCol
from skylift.ui.icons import TrayState
from skylift.ui.notifications import SHARE_HINT, Note
from skylift.ui.queue_model import Filter
from skylift.ui.tray_health import HEALTH_TITLE, PILE_UP
from tests.conftest import free_port, make_files, queue_held
from tests.gui.conftest import states

MakeApp = Callable[..., SkyliftApp]


def _finished(store: Store, names: list[str], state: JobState, tries: int = 1) -> list[int]:
    items = [(Path(f"/photos/{n}"), f"loop:/Photos/{n}", 2_000_000, 0.0) for n in names]
    ids = [j.id for j in store.add(items)[0]]
    for _ in range(tries):
        store.update(ids, JobState.UPLOADING, attempt_delta=1)
    error = None if state is JobState.DONE else "The file no longer exists."
    store.update(ids, state, error=error)
    return ids


def _click_tab(qtbot: Any, app: SkyliftApp, name: str) -> None:
    tabs = app.window.tabs
    (index,) = [i for i in range(tabs.count()) if tabs.tabText(i) == name]
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton, pos=tabs.tabRect(index).center())
    assert tabs.currentIndex() == index


def test_statistics_page_shows_the_figures(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    store = paused_service.store
    _finished(store, [f"ok{i}.jpg" for i in range(5)], JobState.DONE)
    _finished(store, ["again.jpg"], JobState.DONE, tries=2)
    _finished(store, ["lost.jpg", "lost2.jpg"], JobState.FAILED, tries=2)
    make_files(tmp_path, ["w1.jpg", "w2.jpg"])
    paused_service.engine.add_paths([str(tmp_path / "w1.jpg"), str(tmp_path / "w2.jpg")])
    app = make_app()
    app.show_window()
    panel = app.window.statistics_page
    assert not panel.isVisible() and not panel.refreshing
    _click_tab(qtbot, app, "Statistics")
    assert panel.isVisible() and panel.refreshing
    assert panel.success.value.text() == "75 %"  # 6 of 8
    assert panel.failed.value.text() == "2"
    assert panel.retries.value.text() == "33 %"  # 1 of the 3 that needed a second try
    assert panel.retries.hint.text() == "of 3 uploads that needed more than one try"
    assert panel.queue.value.text() == "2"
    assert panel.bandwidth.value.text() == "—"  # paused: nothing moves
    assert panel.average.value.text().endswith(" s")
    assert panel.success.hint.text() == "12.0 MB uploaded in all"
    # hidden, it reads nothing
    _click_tab(qtbot, app, "All (10)")
    assert not panel.refreshing
    assert app.window.view.isVisible()


def test_history_searches_exports_and_clears(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    store = paused_service.store
    done = _finished(store, ["wedding-1.jpg", "wedding-2.jpg", "portrait.jpg"], JobState.DONE)
    failed = _finished(store, ["wedding-3.jpg"], JobState.FAILED)
    store.set_fields(done[:1], link="https://example.com/s/abc", verified="hash:md5")
    paused_service.engine.clear_finished()  # cleared from the queue, kept in the history
    app = make_app()
    app.show_window()
    _click_tab(qtbot, app, "History")
    page = app.window.history_page
    model = page.model
    assert model.rowCount() == 4
    shown = {model.index(r, HCol.FILE).data() for r in range(4)}
    assert shown == {"wedding-1.jpg", "wedding-2.jpg", "portrait.jpg", "wedding-3.jpg"}
    row = next(r for r in range(4) if model.job_at(r).id == done[0])
    assert model.index(row, HCol.VERIFIED).data() == "✓ MD5"
    assert model.index(row, HCol.LINK).data() == "https://example.com/s/abc"
    assert model.index(row, HCol.DESTINATION).data() == "loop:/Photos"
    row = next(r for r in range(4) if model.job_at(r).id == failed[0])
    assert model.index(row, HCol.STATE).data() == "Failed"
    assert model.index(row, HCol.ERROR).data() == "The file no longer exists."
    assert page.count_label.text() == "4 uploads"

    qtbot.keyClicks(page.search, "wedding")
    qtbot.waitUntil(lambda: model.rowCount() == 3)  # after the search box settles
    assert page.count_label.text() == "3 found"

    target = tmp_path / "history.csv"
    dialog = page.choose_export()
    dialog.selectFile(str(target))
    dialog.accept()
    with target.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["path"] for r in rows) == [
        "/photos/wedding-1.jpg",
        "/photos/wedding-2.jpg",
        "/photos/wedding-3.jpg",
    ]
    assert {r["state"] for r in rows} == {"done", "failed"}
    assert next(r for r in rows if r["id"] == str(done[0]))["link"] == "https://example.com/s/abc"

    box = page.confirm_clear()
    assert isinstance(box, QMessageBox) and box.isVisible()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert model.rowCount() == 3  # cancelled: nothing forgotten
    box = page.confirm_clear()
    with qtbot.waitSignal(paused_service.engine.jobsRemoved):
        page.clear_confirm.click()
    assert model.rowCount() == 0
    page.search.clear()
    page.apply_search()
    assert model.rowCount() == 0
    assert page.count_label.text() == "No finished uploads yet"
    assert paused_service.engine.counts()["failed"] == 0  # gone from the queue too
    qtbot.waitUntil(lambda: app.window.tabs.tabText(int(Filter.FAILED)) == "Failed")


def test_clearing_a_history_the_queue_cannot_change_says_so(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService
) -> None:
    store = paused_service.store
    _finished(store, ["wedding-1.jpg", "wedding-2.jpg"], JobState.DONE)
    app = make_app()
    app.show_window()
    _click_tab(qtbot, app, "History")
    page = app.window.history_page
    assert page.model.rowCount() == 2
    store._db.execute("PRAGMA busy_timeout = 100")  # not the usual 5 s of patience
    with queue_held(store.path):
        page.confirm_clear()
        page.clear_confirm.click()
    assert page.last_message == (
        f"The history was not cleared. The upload queue {store.path} is locked by another "
        "program; close it and try again."
    )
    assert app.window.message_banner.text == page.last_message
    assert page.model.rowCount() == 2
    assert len(store.jobs()) == 2


def test_history_loads_a_long_history_a_page_at_a_time(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService
) -> None:
    _finished(paused_service.store, [f"{i:05d}.jpg" for i in range(2 * PAGE + 50)], JobState.DONE)
    app = make_app()
    app.show_window()
    _click_tab(qtbot, app, "History")
    model = app.window.history_page.model
    assert model.rowCount() == PAGE
    view = app.window.history_page.view
    view.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE)
    view.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE + 50)
    assert not model.canFetchMore()
    ids = [model.job_at(r).id for r in range(model.rowCount())]
    assert len(set(ids)) == len(ids)


def test_clear_finished_says_the_history_keeps_them(
    make_app: MakeApp, paused_service: EngineService
) -> None:
    app = make_app()
    assert app.window.act_clear.text() == "Clear finished"
    assert "History" in app.window.act_clear.toolTip()


@pytest.fixture
def dead_remote(monkeypatch: pytest.MonkeyPatch) -> str:
    """An sftp remote on a loopback port where nothing listens."""
    prefix = "RCLONE_CONFIG_DEAD_"
    for key, value in {
        "TYPE": "sftp",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "USER": "nobody",
    }.items():
        monkeypatch.setenv(prefix + key, value)
    return "dead"


def test_a_failing_check_warns_once(
    qtbot: Any,
    make_app: MakeApp,
    service: EngineService,
    tmp_path: Path,
    dead_remote: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # checks every 5 minutes in use; a fraction of a second here (the schedule itself
    # is unit-tested)
    monkeypatch.setattr(health, "CHECK_EVERY_S", 0.2)
    engine = service.engine
    engine.pause()
    (f,) = make_files(tmp_path, ["waiting.jpg"])
    (job,) = engine.add_paths([str(f)], f"{dead_remote}:/Photos").jobs
    # a file waiting out a backoff, as after a failed try
    engine.store.update([job.id], JobState.QUEUED, next_try=4e9)
    app = make_app()
    notes: list[tuple[str, str]] = []
    app.tray.health.note.connect(lambda title, body: notes.append((title, body)))
    engine.resume()
    qtbot.waitUntil(lambda: not engine.health_ok, timeout=60_000)
    assert "dead" in engine.health_message and engine.health_message.endswith(".")
    seen = engine.health.verdicts
    qtbot.waitUntil(lambda: engine.health.verdicts >= seen + 2, timeout=60_000)  # still failing
    assert notes == [(HEALTH_TITLE, engine.health_message)]
    qtbot.waitUntil(lambda: app.tray.state is TrayState.OFFLINE)
    assert engine.health_message in app.tray.tooltip_text()
    assert states(engine, [job.id])[job.id] is JobState.QUEUED  # a check uploads nothing


def test_failures_piling_up_warn_once(
    qtbot: Any, make_app: MakeApp, service: EngineService, tmp_path: Path
) -> None:
    engine = service.engine
    app = make_app()
    notes: list[tuple[str, str]] = []
    app.tray.health.note.connect(lambda title, body: notes.append((title, body)))

    def fail(names: list[str]) -> None:
        total = engine.counts()["failed"] + len(names)
        engine.pause()
        files = make_files(tmp_path, names)
        ids = [j.id for j in engine.add_paths([str(p) for p in files]).jobs]
        for p in files:
            os.unlink(p)
        engine.resume()
        qtbot.waitUntil(
            lambda: set(states(engine, ids).values()) == {JobState.FAILED}, timeout=30_000
        )
        qtbot.waitUntil(lambda: app.tray.health.failed == total)  # the tray has seen them

    fail([f"a{i}.jpg" for i in range(PILE_UP)])
    assert notes == []  # ten is not a pile
    fail(["b0.jpg", "b1.jpg"])
    qtbot.waitUntil(lambda: len(notes) == 1)
    assert notes == [("Uploads are failing", "12 uploads failed; open Skylift to retry them.")]
    # a click on that warning opens the failures (not the last batch's share link)
    app.notifier.last = Note("1 photo uploaded", SHARE_HINT, 0, (1,))  # an earlier batch
    app.tray.health.note.emit(*notes[0])  # the warning is the last balloon shown
    notes.pop()
    app.window.hide()
    copies: list[str] = []
    app.share.started.connect(copies.append)
    app.tray.icon.messageClicked.emit()
    assert app.window.isVisible() and copies == []
    assert app.window.tabs.currentIndex() == int(Filter.FAILED)
    fail(["c0.jpg"])
    assert len(notes) == 1  # not again for every further failure
    engine.pause()
    with qtbot.waitSignal(engine.summaryChanged):
        engine.retry_all_failed()
    with qtbot.waitSignal(engine.summaryChanged):
        engine.cancel([j.id for j in engine.jobs()])
    assert engine.counts()["failed"] == 0
    fail([f"d{i}.jpg" for i in range(PILE_UP + 1)])
    qtbot.waitUntil(lambda: len(notes) == 2)  # dropped, then past the line again
    assert notes[1][1] == "11 uploads failed; open Skylift to retry them."
