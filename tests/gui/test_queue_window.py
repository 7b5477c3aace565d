"""The queue window as a person uses it: buttons on rows, drops, menus, the toolbar."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from skylift.core import engine as engine_module
from skylift.core.store import JobState
from skylift.entry.service import EngineService
from skylift.ui.app import SkyliftApp
from skylift.ui.queue_model import ACTION_ROLE, Col, Filter
from skylift.ui.queue_window import subfolder_parts
from tests.conftest import make_files, queue_held
from tests.gui.conftest import cell, click_row_button, states, visible_ids

MakeApp = Callable[..., SkyliftApp]


def _drop(widget: Any, urls: list[QUrl], pos: QPoint | None = None) -> bool:
    """A file manager's drop: DragEnter then Drop, with these URLs, on ``widget``."""
    mime = QMimeData()
    mime.setUrls(urls)
    at = QPointF(pos or widget.rect().center())
    enter = QDragEnterEvent(
        at.toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        at,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def _failed_job(qtbot: Any, service: EngineService, tmp_path: Path) -> int:
    """A real failure: the file vanished before its upload; the engine is left paused."""
    engine = service.engine
    (gone,) = make_files(tmp_path, ["vanished.jpg"])
    engine.pause()
    (job,) = engine.add_paths([str(gone)]).jobs
    os.unlink(gone)
    engine.resume()
    qtbot.waitUntil(lambda: states(engine, [job.id])[job.id] is JobState.FAILED, timeout=10_000)
    engine.pause()
    return job.id


def _failed_row_in_open_window(
    qtbot: Any, make_app: MakeApp, service: EngineService, tmp_path: Path
) -> tuple[SkyliftApp, int]:
    app = make_app()
    job_id = _failed_job(qtbot, service, tmp_path)
    win = app.window
    win.show_normal()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: cell(win, job_id, Col.STATUS) == "The file no longer exists.")
    return app, job_id


def test_retry_button_on_a_failed_row_requeues_it(
    qtbot: Any, make_app: MakeApp, service: EngineService, tmp_path: Path
) -> None:
    app, job_id = _failed_row_in_open_window(qtbot, make_app, service, tmp_path)
    win = app.window
    (gone,) = make_files(tmp_path, ["vanished.jpg"])  # the photographer puts it back
    with qtbot.waitSignal(service.engine.jobsChanged):
        click_row_button(qtbot, win, job_id)
    assert states(service.engine, [job_id])[job_id] is JobState.QUEUED
    assert cell(win, job_id, Col.STATUS) == "Paused"
    assert gone.exists()


def test_cancel_button_on_a_queued_row_cancels_it(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    app = make_app()
    files = make_files(tmp_path, ["a.jpg", "b.jpg"])
    ids = [j.id for j in paused_service.engine.add_paths([str(f) for f in files]).jobs]
    win = app.window
    win.show_normal()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(paused_service.engine.jobsChanged):
        click_row_button(qtbot, win, ids[1])
    assert states(paused_service.engine) == {ids[0]: JobState.QUEUED, ids[1]: JobState.CANCELLED}
    assert cell(win, ids[1], Col.STATUS) == "Cancelled"


def test_a_click_beside_the_button_does_nothing(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    app = make_app()
    (f,) = make_files(tmp_path, ["a.jpg"])
    (job,) = paused_service.engine.add_paths([str(f)]).jobs
    win = app.window
    win.show_normal()
    qtbot.waitExposed(win)
    index = win.proxy.mapFromSource(win.model.index(0, Col.ACTION))
    corner = win.view.visualRect(index).topLeft() + QPoint(1, 1)
    qtbot.mouseClick(win.view.viewport(), Qt.MouseButton.LeftButton, pos=corner)
    assert states(paused_service.engine)[job.id] is JobState.QUEUED


def test_dropped_files_and_folder_are_queued_under_the_subfolder(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    app = make_app()
    win = app.window
    win.show_normal()
    qtbot.waitExposed(win)
    single = make_files(tmp_path / "exports", ["cover.jpg"])[0]
    make_files(tmp_path / "exports" / "Wedding", ["a.jpg", "sub/b.jpg", ".hidden.jpg"])
    win.dest_bar.subfolder.setText(" Smith / 2024 ")
    urls = [
        QUrl.fromLocalFile(str(single)),
        QUrl.fromLocalFile(str(tmp_path / "exports" / "Wedding")),
        QUrl("https://example.com/not-a-file.jpg"),
    ]
    # dropped on the table, the drop reaches the window
    assert _drop(win.view.viewport(), urls)
    qtbot.waitUntil(lambda: len(paused_service.engine.jobs()) == 3)
    got = sorted(j.destination for j in paused_service.engine.jobs())
    assert got == [
        "loop:/Photos/Smith/2024/Wedding/a.jpg",
        "loop:/Photos/Smith/2024/Wedding/sub/b.jpg",
        "loop:/Photos/Smith/2024/cover.jpg",
    ]
    assert win.model.rowCount() == 3
    assert "Queued 3 files for loop:/Photos/Smith/2024" in win.message_banner.text


def test_a_drop_of_no_local_files_is_refused(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService
) -> None:
    app = make_app()
    assert not _drop(app.window, [QUrl("https://example.com/a.jpg")])
    assert paused_service.engine.jobs() == []


def test_subfolder_names_are_checked() -> None:
    assert subfolder_parts("") == []
    assert subfolder_parts("a//b/") == ["a", "b"]
    for bad in ("..", "a/../b", "x\x01"):
        try:
            subfolder_parts(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_without_a_remote_drops_wait_and_go_once_one_is_chosen(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    settings = paused_service.settings
    settings["remote"] = ""
    app = make_app()
    win = app.window
    assert win.isVisible()  # the first start shows what to do first
    assert "Choose a remote" in win.dest_bar.change.text()
    (f,) = make_files(tmp_path, ["a.jpg"])
    assert _drop(win, [QUrl.fromLocalFile(str(f))])
    qtbot.waitUntil(lambda: "waiting for a destination" in win.message_banner.text)
    assert paused_service.engine.jobs() == []
    settings["remote"] = "loop"
    app.settings_saved()
    assert [j.destination for j in paused_service.engine.jobs()] == ["loop:/Photos/a.jpg"]


def test_context_menu_actions(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    app = make_app()
    win = app.window
    engine = paused_service.engine
    files = make_files(tmp_path, ["a.jpg", "b.jpg", "c.jpg"])
    ids = [j.id for j in engine.add_paths([str(f) for f in files]).jobs]
    win.select_job(ids[1])
    menu = win.context_menu()
    labels = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert labels == [
        "Retry",
        "Cancel",
        "Upload again",
        "Remove from list",
        "Check remote copy",
        "Open containing folder",
        "Copy destination",
        "Copy share link",
    ]
    assert not win.act_retry.isEnabled() and win.act_cancel.isEnabled()
    assert not win.act_share_link.isEnabled()  # only uploaded files can be shared
    assert not win.act_send_again.isEnabled()  # nor sent again
    win.act_copy_dest.trigger()
    assert QGuiApplication.clipboard().text() == "loop:/Photos/b.jpg"
    with qtbot.waitSignal(engine.jobsChanged):
        win.act_cancel.trigger()
    assert states(engine)[ids[1]] is JobState.CANCELLED
    menu = win.context_menu()
    assert win.act_retry.isEnabled() and not win.act_cancel.isEnabled()
    with qtbot.waitSignal(engine.jobsChanged):
        win.act_retry.trigger()
    assert states(engine)[ids[1]] is JobState.QUEUED
    win.act_remove.trigger()
    assert ids[1] not in states(engine)
    assert win.model.rowCount() == 2


def test_toolbar_pause_retry_and_clear(
    qtbot: Any, make_app: MakeApp, service: EngineService, tmp_path: Path
) -> None:
    app = make_app()
    win = app.window
    app.show_window()  # the toolbar is clicked in an open window
    engine = service.engine
    failed = _failed_job(qtbot, service, tmp_path)  # leaves the engine paused
    qtbot.waitUntil(lambda: win.act_pause.text() == "Resume all")
    assert win.act_retry_failed.isEnabled()
    assert win.tabs.tabText(Filter.FAILED) == "Failed (1)"
    win.act_pause.trigger()
    assert not engine.paused
    win.act_pause.trigger()
    assert engine.paused
    with qtbot.waitSignal(engine.jobsChanged):
        win.act_retry_failed.trigger()
    assert states(engine)[failed] is JobState.QUEUED
    engine.cancel([failed])
    qtbot.waitUntil(lambda: win.act_clear.isEnabled())
    win.act_clear.trigger()
    assert engine.jobs() == []
    qtbot.waitUntil(lambda: win.model.rowCount() == 0)


def test_a_closed_window_leaves_its_numbers_until_it_is_shown(
    qtbot: Any, make_app: MakeApp, service: EngineService, sftp_server: Any, tmp_path: Path
) -> None:
    """Closed to the tray, the window does not redo its summary on every flush of a
    long upload, nor does its model tell the (unseen) table of each row's change;
    opened again, it shows the numbers and rows of the moment."""
    app = make_app()
    win = app.window
    assert not win.isVisible()
    refreshed: list[bool] = []
    redo = win.refresh_summary
    win.refresh_summary = lambda: (refreshed.append(True), redo())[1]  # type: ignore[method-assign]
    repaints: list[bool] = []
    win.model.dataChanged.connect(lambda *_: repaints.append(True))
    win.show_filter(Filter.ACTIVE)
    files = make_files(tmp_path, ["a.jpg", "b.jpg"], size=50_000)
    ids = [j.id for j in service.engine.add_paths([str(f) for f in files]).jobs]
    assert visible_ids(win) == ids  # queued: on the Active tab
    qtbot.waitUntil(
        lambda: [*states(service.engine).values()] == [JobState.DONE] * 2, timeout=60_000
    )
    with qtbot.waitSignal(service.engine.summaryChanged, timeout=5_000, raising=False):
        pass  # the last flush has reached the window (or would have)
    assert refreshed == []
    assert repaints == []
    assert [win.model.row_state(i) for i in ids] == [JobState.DONE] * 2  # the rows follow
    app.show_window()
    assert refreshed
    assert repaints == [True]  # one change over every row
    assert visible_ids(win) == []  # done: no longer on the Active tab
    assert win.summary_label.text() == "2 files uploaded"
    assert win.tabs.tabText(Filter.DONE) == "Done (2)"
    win.show_filter(Filter.DONE)
    assert visible_ids(win) == ids


def test_failed_tab_shows_only_failures(
    qtbot: Any, make_app: MakeApp, service: EngineService, tmp_path: Path
) -> None:
    app = make_app()
    win = app.window
    failed = _failed_job(qtbot, service, tmp_path)
    (ok,) = make_files(tmp_path, ["ok.jpg"])
    other = service.engine.add_paths([str(ok)]).jobs[0].id
    win.show_filter(Filter.FAILED)
    assert visible_ids(win) == [failed]
    win.show_filter(Filter.ACTIVE)
    assert visible_ids(win) == [other]
    win.show_filter(Filter.ALL)
    assert visible_ids(win) == [failed, other]


def test_closing_keeps_the_app_in_the_tray_and_says_so_once(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService
) -> None:
    app = make_app(tray=True)
    messages: list[str] = []
    app.tray.show_message = lambda title, body, warning=False: messages.append(title)  # type: ignore[method-assign]
    quits: list[bool] = []
    app.window.quitRequested.connect(lambda: quits.append(True))
    for _ in range(2):
        app.show_window()
        assert app.window.close()
        assert not app.window.isVisible()
    assert messages == ["Skylift is still running"]
    assert quits == []
    assert not app.quitting


def test_uploading_a_dropped_folder_for_real(
    qtbot: Any, make_app: MakeApp, service: EngineService, sftp_server: Any, tmp_path: Path
) -> None:
    app = make_app()
    win = app.window
    app.show_window()  # files are dropped on an open window
    files = make_files(tmp_path / "Shoot", ["a.jpg", "b.jpg", "raw/c.cr3"], size=50_000)
    assert _drop(win, [QUrl.fromLocalFile(str(tmp_path / "Shoot"))])
    qtbot.waitUntil(lambda: len(service.engine.jobs()) == 3)
    qtbot.waitUntil(
        lambda: all(s is JobState.DONE for s in states(service.engine).values()), timeout=60_000
    )
    qtbot.waitUntil(lambda: "3 of 3 uploaded" in win.summary_label.text())
    for row in range(win.model.rowCount()):
        assert win.model.index(row, Col.PROGRESS).data() == "100 %"
        assert win.model.index(row, Col.STATUS).data() == "Uploaded"
    for f in files:
        rel = f.relative_to(tmp_path)
        assert sftp_server.file(f"Photos/{rel}").read_bytes() == f.read_bytes()
    # the same folder again: nothing is sent, and the summary does not claim it was
    assert _drop(win, [QUrl.fromLocalFile(str(tmp_path / "Shoot"))])
    qtbot.waitUntil(lambda: len(service.engine.jobs()) == 6)
    qtbot.waitUntil(lambda: "already" in win.summary_label.text())
    assert win.summary_label.text() == "3 already uploaded, not sent again"
    assert win.message_banner.text == (
        "Nothing was sent: 3 files uploaded to loop:/Photos before and unchanged since. "
        "To send them anyway, choose Upload again in their menu."
    )
    # its remote copy deleted since, one file is sent again from its row's menu
    remote = sftp_server.file("Photos/Shoot/a.jpg")
    remote.unlink()
    (again,) = [
        j.id for j in service.engine.jobs() if j.path == files[0] and j.note == "Already uploaded"
    ]
    win.select_job(again)
    win.context_menu()
    assert win.act_send_again.isEnabled()
    assert win.act_send_again.text() == "Upload again"
    win.act_send_again.trigger()
    # the window hears at once that it is queued again: a small file can be sent and end
    # before the next flush, and the summary must still count it as a batch of its own
    assert win.model.row_state(again) is JobState.QUEUED
    qtbot.waitUntil(lambda: cell(win, again, Col.STATUS) == "Uploaded", timeout=60_000)
    assert remote.read_bytes() == files[0].read_bytes()
    # a batch of its own: the files skipped before it are not counted in it
    qtbot.waitUntil(lambda: win.summary_label.text().startswith("1 of 1 uploaded"))
    assert win.summary_label.text() == "1 of 1 uploaded · 50.0 KB of 50.0 KB"


def test_a_full_disk_is_said_in_the_window_and_the_drop_waits_for_room(
    qtbot: Any,
    make_app: MakeApp,
    service: EngineService,
    sftp_server: Any,
    tmp_path: Path,
    full_batches: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine_module, "NO_ROOM_RETRY_MS", 300)
    win = make_app(tray=False).window  # the window is open
    files = make_files(tmp_path / "Shoot", ["a.jpg", "b.jpg"], size=20_000)
    assert _drop(win, [QUrl.fromLocalFile(str(tmp_path / "Shoot"))])
    qtbot.waitUntil(win.problem_banner.isVisible, timeout=30_000)
    assert win.problem_banner.text == (
        f"Skylift could not write in {full_batches} (No space left on device); the files "
        "stay queued and are sent once there is room."
    )
    assert not win.problem_banner.button.isVisible()  # the settings cannot help with this
    assert set(states(service.engine).values()) == {JobState.QUEUED}
    (full_batches / "filler").unlink()
    qtbot.waitUntil(
        lambda: all(s is JobState.DONE for s in states(service.engine).values()), timeout=60_000
    )
    assert not win.problem_banner.isVisible()
    for f in files:
        assert sftp_server.file(f"Photos/Shoot/{f.name}").read_bytes() == f.read_bytes()


def test_a_drop_the_queue_cannot_take_says_so_and_queues_nothing(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    win = make_app(tray=False).window
    make_files(tmp_path / "Shoot", ["a.jpg"])
    with queue_held(paused_service.store.path):
        assert _drop(win, [QUrl.fromLocalFile(str(tmp_path / "Shoot"))])
        qtbot.waitUntil(win.message_banner.isVisible, timeout=30_000)  # queued just after
    assert win.message_banner.text == (
        f"Nothing was queued. The upload queue {paused_service.store.path} is locked by "
        "another program; close it and try again."
    )
    assert paused_service.engine.jobs() == []


def test_a_retry_the_queue_cannot_take_says_so_and_changes_nothing(
    qtbot: Any, make_app: MakeApp, service: EngineService, tmp_path: Path
) -> None:
    """Retry on a row, and Retry failed in the tray, while another program holds the
    queue: each click is answered, the job stays failed, and works once it is free."""
    app, job_id = _failed_row_in_open_window(qtbot, make_app, service, tmp_path)
    win = app.window
    balloons: list[tuple[str, str]] = []
    app.tray.show_message = lambda title, body, warning=False: balloons.append((title, body))  # type: ignore[method-assign]
    service.store._db.execute("PRAGMA busy_timeout = 100")  # not the usual 5 s of patience
    locked = (
        f"The upload queue {service.store.path} is locked by another program; close it and "
        "try again."
    )
    with queue_held(service.store.path):
        click_row_button(qtbot, win, job_id)
        assert win.message_banner.isVisible()
        assert win.message_banner.text == f"Nothing was changed. {locked}"
        app.tray.update_menu()  # as opening the menu does
        assert app.tray.act_retry.isEnabled()
        app.tray.act_retry.trigger()
        assert balloons == [("Nothing was retried", locked)]
    assert states(service.engine)[job_id] is JobState.FAILED
    click_row_button(qtbot, win, job_id)
    assert states(service.engine)[job_id] is JobState.QUEUED


def test_a_drop_goes_to_the_preset_chosen_in_the_destination_bar(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    paused_service.settings["presets"] = [
        {"name": "Smith wedding", "destination": "loop:/Clients/Smith/2026-11"}
    ]
    app = make_app()
    win = app.window
    win.show_normal()
    qtbot.waitExposed(win)
    bar = win.dest_bar
    assert bar.preset.isVisible()
    assert [bar.preset.itemText(i) for i in range(bar.preset.count())] == [
        "Default destination",
        "Smith wedding",
    ]
    assert bar.root_label.text() == "loop:/Photos"
    bar.preset.setCurrentIndex(1)
    assert bar.root_label.text() == "loop:/Clients/Smith/2026-11"
    bar.subfolder.setText("Selects")
    photo = make_files(tmp_path, ["a.jpg"])[0]
    assert _drop(win.view.viewport(), [QUrl.fromLocalFile(str(photo))])
    qtbot.waitUntil(lambda: len(paused_service.engine.jobs()) == 1)
    assert paused_service.engine.jobs()[0].destination == (
        "loop:/Clients/Smith/2026-11/Selects/a.jpg"
    )
    # presets edited in Settings: the choice stays while the preset exists
    paused_service.settings["presets"] = [
        {"name": "Jones", "destination": "loop:/Clients/Jones"},
        {"name": "Smith wedding", "destination": "loop:/Clients/Smith/2026-11"},
    ]
    win.set_destination_root(paused_service.settings.destination_root)
    assert bar.preset.currentText() == "Smith wedding"
    paused_service.settings["presets"] = []
    win.set_destination_root(paused_service.settings.destination_root)
    assert not bar.preset.isVisible()
    assert bar.destination() == "loop:/Photos/Selects"


def test_checking_a_remote_copy_from_the_row_menu(
    qtbot: Any, make_app: MakeApp, service: EngineService, sftp_server: Any, tmp_path: Path
) -> None:
    app = make_app()
    win = app.window
    engine = service.engine
    [photo] = make_files(tmp_path, ["a.jpg"], size=2000)
    with qtbot.waitSignal(engine.drained, timeout=60_000):
        [job] = engine.add_paths([str(photo)]).jobs
    sftp_server.put("Photos/a.jpg", b"cut short")
    win.select_job(job.id)
    win.context_menu()
    assert win.act_verify.isEnabled()
    win.act_verify.trigger()
    assert "Checking 1 remote copy" in win.message_banner.text
    qtbot.waitUntil(lambda: states(engine)[job.id] is JobState.FAILED, timeout=60_000)
    assert "9 bytes, not 2,000" in cell(win, job.id, Col.STATUS)
    assert cell(win, job.id, Col.ACTION, ACTION_ROLE) == "retry"


def test_the_window_size_is_remembered_in_a_private_file(
    qtbot: Any, make_app: MakeApp, service: EngineService
) -> None:
    app = make_app()
    win = app.window
    win.show_normal()
    qtbot.waitExposed(win)
    default = win.size()
    win.resize(780, 520)  # fits the offscreen screen (800 × 600), where it is restored
    chosen = win.size()
    assert chosen != default
    win.allow_close = True
    win.close()  # remembers its size, on disk at once
    state = Path(os.environ["XDG_CONFIG_HOME"]) / "skylift" / "ui-state.ini"
    assert state.stat().st_mode & 0o777 == 0o600
    again = make_app()
    again.window.show_normal()
    qtbot.waitExposed(again.window)
    assert again.window.size() == chosen
