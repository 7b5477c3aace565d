"""The tray icon's menu, clicks, states and tooltip; and the app without a tray."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox, QSystemTrayIcon

from skylift.core.store import JobState
from skylift.entry.service import EngineService
from skylift.ui.app import NO_TRAY_NOTICE, TRAY_APPEARED_NOTICE, SkyliftApp
from skylift.ui.icons import TrayState
from skylift.ui.settings_dialog import SettingsDialog
from tests.conftest import make_files
from tests.gui.conftest import states

MakeApp = Callable[..., SkyliftApp]


def _menu(app: SkyliftApp) -> list[str]:
    app.tray.menu.aboutToShow.emit()  # what Qt does just before it shows the menu
    return [
        a.text() if not a.isSeparator() else "-" for a in app.tray.menu.actions() if a.isVisible()
    ]


def test_menu_lists_the_actions_in_order(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService
) -> None:
    app = make_app()
    assert _menu(app) == [
        "Paused",
        "-",
        "&Open upload queue",
        "&Upload files…",
        "&Resume all",
        "Retry &failed (0)",
        "-",
        "&Settings…",
        "&Quit",
    ]
    assert not app.tray.act_status.isEnabled()
    assert not app.tray.act_retry.isEnabled()


def test_presets_turn_upload_into_a_submenu_of_destinations(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    paused_service.settings["presets"] = [
        {"name": "Smith wedding", "destination": "loop:/Clients/Smith"},
        {"name": "Jones & Co", "destination": "loop:/Clients/Jones"},
    ]
    app = make_app()
    menu = _menu(app)
    assert "&Upload files…" not in menu and "&Upload files to…" in menu
    sub = [a.text() for a in app.tray.upload_menu.actions() if not a.isSeparator()]
    assert sub == ["Default destination (loop:/Photos)", "Smith wedding", "Jones && Co"]
    # choosing a preset opens the file chooser for that destination; files go there
    smith = app.tray.upload_menu.actions()[2]
    app.tray.upload_menu.triggered.emit(smith)
    assert app.window.file_dialog is not None
    assert app.window.file_dialog.windowTitle() == "Upload files to loop:/Clients/Smith"
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"x" * 10)
    app.window.file_dialog.filesSelected.emit([str(photo)])
    [job] = paused_service.engine.jobs()
    assert job.destination == "loop:/Clients/Smith/a.jpg"


def test_open_and_clicks_show_the_queue(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService
) -> None:
    app = make_app()
    assert not app.window.isVisible()  # with a tray and a remote, it starts in the tray
    app.tray.act_open.trigger()
    assert app.window.isVisible()
    app.window.hide()
    app.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)  # left click
    assert app.window.isVisible()
    app.window.hide()
    app.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.DoubleClick)  # GNOME
    assert app.window.isVisible()
    app.window.hide()
    app.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Context)  # right: menu only
    assert not app.window.isVisible()


def test_pause_and_resume_from_the_menu(
    qtbot: Any, make_app: MakeApp, service: EngineService, tmp_path: Path
) -> None:
    app = make_app()
    engine = service.engine
    engine.pause()
    (f,) = make_files(tmp_path, ["a.jpg"])
    engine.add_paths([str(f)])
    qtbot.waitUntil(lambda: app.tray.state is TrayState.PAUSED)
    assert _menu(app)[0] == "Paused · 1 upload waiting"
    app.tray.act_pause.trigger()
    assert not engine.paused
    assert _menu(app)[4] == "&Pause all"
    app.tray.act_pause.trigger()
    assert engine.paused
    assert _menu(app)[4] == "&Resume all"


def test_retry_failed_from_the_menu(
    qtbot: Any, make_app: MakeApp, service: EngineService, tmp_path: Path
) -> None:
    app = make_app()
    engine = service.engine
    engine.pause()
    gone = make_files(tmp_path, ["a.jpg", "b.jpg"])
    ids = [j.id for j in engine.add_paths([str(f) for f in gone]).jobs]
    for f in gone:
        os.unlink(f)
    engine.resume()
    qtbot.waitUntil(lambda: set(states(engine).values()) == {JobState.FAILED}, timeout=10_000)
    engine.pause()
    qtbot.waitUntil(lambda: app.tray.state is TrayState.PAUSED)
    assert _menu(app)[5] == "Retry &failed (2)"
    assert app.tray.act_retry.isEnabled()
    engine.resume()
    qtbot.waitUntil(lambda: app.tray.state is TrayState.ERROR)
    assert app.tray.icon.toolTip() == "2 uploads failed"
    engine.pause()
    with qtbot.waitSignal(engine.jobsChanged):
        app.tray.act_retry.trigger()
    assert set(states(engine, ids).values()) == {JobState.QUEUED}


def test_settings_and_upload_files_from_the_menu(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService
) -> None:
    app = make_app()
    app.tray.act_settings.trigger()
    assert isinstance(app.settings_dialog, SettingsDialog)
    qtbot.waitUntil(lambda: app.settings_dialog is not None and app.settings_dialog.isVisible())
    app.settings_dialog.reject()
    app.tray.act_upload.trigger()
    assert app.window.isVisible()
    dialog = app.window.file_dialog
    assert dialog.isVisible()
    dialog.reject()


def test_quit_when_idle_quits_at_once(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService
) -> None:
    app = make_app()
    exited: list[bool] = []
    app.exit_app = lambda: exited.append(True)
    app.tray.act_quit.trigger()
    assert exited == [True]
    assert app.quitting


def test_quit_while_uploading_asks_first_and_the_queue_stays(
    qtbot: Any, make_app: MakeApp, service: EngineService, tmp_path: Path
) -> None:
    service.settings["bwlimit"] = "1k"  # slow enough to still be uploading when asked
    app = make_app()
    engine = service.engine
    exited: list[bool] = []
    app.exit_app = lambda: exited.append(True)
    (f,) = make_files(tmp_path, ["big.jpg"], size=2_000_000)
    (job,) = engine.add_paths([str(f)]).jobs
    app.tray.act_quit.trigger()
    box = app.quit_box
    assert isinstance(box, QMessageBox)
    assert box.text() == "1 upload is not finished yet."
    keep = next(b for b in box.buttons() if b.text() == "Keep uploading")
    keep.click()
    assert exited == [] and not app.quitting
    app.tray.act_quit.trigger()
    box = app.quit_box
    assert box is not None
    quit_button = next(b for b in box.buttons() if b.text() == "Quit")
    quit_button.click()
    assert exited == [True]
    # the service was closed: the job waits in the queue for the next start
    from skylift.core.store import Store

    store = Store()
    try:
        assert store.get(job.id) is not None
        assert store.get(job.id).state is JobState.QUEUED  # type: ignore[union-attr]
    finally:
        store.close()


def test_icon_state_and_tooltip_follow_the_queue(
    qtbot: Any, make_app: MakeApp, service: EngineService, sftp_server: Any, tmp_path: Path
) -> None:
    app = make_app()
    assert app.tray.state is TrayState.IDLE
    assert app.tray.icon.toolTip() == "Ready for uploads"
    assert not app.tray.icon.icon().isNull()
    service.settings["bwlimit"] = "200k"
    files = make_files(tmp_path, ["a.jpg", "b.jpg"], size=300_000)
    service.engine.add_paths([str(f) for f in files])
    qtbot.waitUntil(lambda: app.tray.state is TrayState.UPLOADING)
    qtbot.waitUntil(lambda: " of 2" in app.tray.icon.toolTip(), timeout=10_000)
    service.engine.pause()
    qtbot.waitUntil(lambda: app.tray.state is TrayState.PAUSED)
    service.settings["bwlimit"] = ""
    service.engine.resume()
    qtbot.waitUntil(lambda: set(states(service.engine).values()) == {JobState.DONE}, timeout=60_000)
    qtbot.waitUntil(lambda: app.tray.state is TrayState.IDLE)
    qtbot.waitUntil(lambda: app.tray.icon.toolTip() == "All uploads done", timeout=5_000)


def test_offline_state_when_the_remote_cannot_be_reached(
    qtbot: Any,
    make_app: MakeApp,
    service: EngineService,
    sftp_server: Any,
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    from tests.conftest import free_port

    monkeypatch.setenv("RCLONE_CONFIG_LOOP_PORT", str(free_port()))  # nothing listens there
    service.settings["retries"] = 3
    service.settings["retry_delay"] = 600
    app = make_app()
    (f,) = make_files(tmp_path, ["a.jpg"])
    (job,) = service.engine.add_paths([str(f)]).jobs
    qtbot.waitUntil(lambda: app.tray.state is TrayState.OFFLINE, timeout=30_000)
    assert "Offline" in app.tray.icon.toolTip()
    assert "refused the connection" in app.tray.icon.toolTip()
    row = app.model.row_of(job.id)
    assert row is not None
    assert app.model.index(row, 6).data().startswith("Waiting for the remote")


# --- without a tray -----------------------------------------------------------------------


def test_without_a_tray_the_window_opens_and_says_how_to_get_one(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService
) -> None:
    app = make_app(tray=False)
    win = app.window
    assert win.isVisible()
    assert not app.tray_shown
    assert win.tray_banner.isVisible() and win.tray_banner.text == NO_TRAY_NOTICE
    assert "AppIndicator" in NO_TRAY_NOTICE
    banners = [
        b for b in (win.problem_banner, win.tray_banner, win.message_banner) if b.isVisible()
    ]
    assert banners == [win.tray_banner]  # said once
    # everything the tray offers is in the window
    for action in (win.act_add_files, win.act_add_folder, win.act_pause, win.act_settings):
        assert action in win.toolbar.actions()
    # closing the window is quitting (nothing would be left to reach the app)
    exited: list[bool] = []
    app.exit_app = lambda: exited.append(True)
    win.close()
    assert exited == [True]


def test_a_tray_that_appears_later_is_picked_up(qtbot: Any, paused_service: EngineService) -> None:
    available = [False]
    app = SkyliftApp(paused_service, tray_available=lambda: available[0])
    qtbot.addWidget(app.window)
    try:
        app.start()
        assert not app.tray_shown and app.window.isVisible()
        app.poll_tray()
        assert not app.tray_shown
        available[0] = True
        app.poll_tray()  # the timer's job, every few seconds
        assert app.tray_shown
        assert app.tray.icon.isVisible()
        assert app.window.tray_banner.text == TRAY_APPEARED_NOTICE
        # and now closing the window keeps the app running
        app.tray.show_message = lambda *a, **k: None  # type: ignore[method-assign]
        app.window.close()
        assert not app.window.isVisible() and not app.quitting
        # the tray goes away again: the window comes back
        available[0] = False
        app.poll_tray()
        assert not app.tray_shown and app.window.isVisible()
    finally:
        app.cleanup()


def test_tooltip_numbers_are_worked_out_at_most_once_a_second(
    qtbot: Any, make_app: MakeApp, service: EngineService, sftp_server: Any, tmp_path: Path
) -> None:
    """A busy batch flushes four times a second; the tooltip's numbers, which it may
    show once a second, are not even worked out in between, and catch up after."""
    app = make_app()
    worked: list[str] = []
    work = app.tray.tooltip_text
    app.tray.tooltip_text = lambda: (worked.append(work()), worked[-1])[1]  # type: ignore[method-assign]
    app.tray.refresh()  # says "Ready for uploads" at once (or already has)
    service.settings["bwlimit"] = "100k"
    (f,) = make_files(tmp_path, ["a.jpg"], size=400_000)
    service.engine.add_paths([str(f)])
    qtbot.waitUntil(lambda: app.tray.state is TrayState.UPLOADING)  # a new state: at once
    worked.clear()
    for _ in range(20):
        service.engine.summaryChanged.emit()  # twenty flushes within the same second
    n = len(worked)
    assert n <= 1
    qtbot.waitUntil(lambda: len(worked) > n, timeout=5_000)  # the held-back update comes
    assert app.tray.icon.toolTip() == worked[-1]
    service.engine.cancel([j.id for j in service.engine.jobs()])
