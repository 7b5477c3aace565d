"""One notification per finished batch; ``skylift FILE...`` reaching the running app."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skylift.core.store import JobState
from skylift.entry.service import EngineService
from skylift.ui.app import SkyliftApp
from skylift.ui.queue_model import Filter
from tests.conftest import make_files
from tests.gui.conftest import states

MakeApp = Callable[..., SkyliftApp]


def test_one_notification_for_a_batch_with_its_failures_grouped(
    qtbot: Any, make_app: MakeApp, service: EngineService, sftp_server: Any, tmp_path: Path
) -> None:
    app = make_app()
    shown: list[tuple[str, str, bool]] = []
    app.tray.show_message = lambda t, b, warning=False: shown.append((t, b, warning))  # type: ignore[method-assign]
    engine = service.engine
    engine.pause()
    files = make_files(tmp_path / "Session", [f"IMG_{i}.jpg" for i in range(5)])
    result = engine.add_paths([str(tmp_path / "Session")])
    os.unlink(files[0])
    os.unlink(files[1])
    with qtbot.waitSignal(engine.drained, timeout=60_000):
        engine.resume()
    assert sorted(s.value for s in states(engine).values()) == ["done"] * 3 + ["failed"] * 2
    assert len(shown) == 1
    title, body, warning = shown[0]
    assert title == "3 photos uploaded to loop:/Photos/Session, 2 failed"
    assert body.startswith("The file no longer exists.")
    assert warning
    # clicking it opens the queue on the failures
    app.tray.icon.messageClicked.emit()
    assert app.window.isVisible()
    assert app.window.proxy.mode is Filter.FAILED
    assert len(result.jobs) == 5


def test_notifications_can_be_switched_off(
    qtbot: Any, make_app: MakeApp, service: EngineService, sftp_server: Any, tmp_path: Path
) -> None:
    service.settings["notify"] = False
    app = make_app()
    shown: list[str] = []
    app.tray.show_message = lambda t, b, warning=False: shown.append(t)  # type: ignore[method-assign]
    (f,) = make_files(tmp_path, ["a.jpg"])
    with qtbot.waitSignal(service.engine.drained, timeout=60_000):
        service.engine.add_paths([str(f)])
    assert shown == []


def test_without_a_tray_the_notification_is_shown_in_the_window(
    qtbot: Any, make_app: MakeApp, service: EngineService, sftp_server: Any, tmp_path: Path
) -> None:
    app = make_app(tray=False)
    (f,) = make_files(tmp_path, ["a.jpg"])
    with qtbot.waitSignal(service.engine.drained, timeout=60_000):
        service.engine.add_paths([str(f)])
    assert app.window.message_banner.text == "1 photo uploaded to loop:/Photos."


def test_skylift_files_from_another_process_are_queued_in_the_running_app(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    app = make_app()
    app.window.dest_bar.subfolder.setText("Client")
    folder = tmp_path / "Export"
    make_files(folder, ["a.jpg", "b.jpg"])
    # what "Open with Skylift" runs: skylift FILE...
    proc = subprocess.Popen(
        [sys.executable, "-m", "skylift", "Export"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30_000)
    finally:
        if proc.poll() is None:
            proc.kill()
    _out, err = proc.communicate()
    assert proc.returncode == 0, err
    got = sorted(j.destination for j in paused_service.engine.jobs())
    assert got == ["loop:/Photos/Client/Export/a.jpg", "loop:/Photos/Client/Export/b.jpg"]
    assert app.window.isVisible()  # the running app raised its window
    assert all(s is JobState.QUEUED for s in states(paused_service.engine).values())


def test_macos_open_with_reaches_the_queue(
    qtbot: Any, make_app: MakeApp, paused_service: EngineService, tmp_path: Path
) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QFileOpenEvent

    from skylift.ui.app import opened_file

    app = make_app()
    (f,) = make_files(tmp_path, ["from-finder.jpg"])
    path = opened_file(QFileOpenEvent(str(f)))
    assert path == str(f)
    assert opened_file(QEvent(QEvent.Type.Show)) is None
    app.open_files([path])
    assert [j.destination for j in paused_service.engine.jobs()] == ["loop:/Photos/from-finder.jpg"]
    assert app.window.isVisible()
