"""GUI fixtures: a real engine service in the test's own profile, and the app around it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication

from skylift.core.settings import Settings
from skylift.core.store import JobState
from skylift.entry.service import EngineService
from skylift.ui.app import SkyliftApp
from skylift.ui.delegates import button_rect
from skylift.ui.queue_model import Col
from skylift.ui.queue_window import QueueWindow


@pytest.fixture
def settings(configure: Callable[..., Settings]) -> Settings:
    """The remote ``loop`` (defined by the sftp_server fixture when a test uses it)."""
    return configure(remote="loop", remote_path="/Photos", retries=0, retry_delay=0)


@pytest.fixture
def service(qapp: QApplication, settings: Settings) -> Iterator[EngineService]:
    svc = EngineService(settings)
    yield svc
    svc.close()


@pytest.fixture
def paused_service(service: EngineService) -> EngineService:
    """Nothing uploads: jobs stay queued until a test says otherwise."""
    service.engine.pause()
    return service


@pytest.fixture
def make_app(qtbot: Any, service: EngineService) -> Iterator[Callable[..., SkyliftApp]]:
    made: list[SkyliftApp] = []

    def make(
        tray: bool = True, files: list[str] | None = None, cwd: str | None = None
    ) -> SkyliftApp:
        app = SkyliftApp(service, tray_available=lambda: tray)
        app.exit_app = lambda: None
        qtbot.addWidget(app.window)
        made.append(app)
        app.start(files, cwd)
        return app

    yield make
    for app in made:
        app.cleanup()


def states(engine: Any, ids: list[int] | None = None) -> dict[int, JobState]:
    return {j.id: j.state for j in engine.jobs(ids=ids)}


def click_row_button(qtbot: Any, window: QueueWindow, job_id: int) -> None:
    """Click the Retry/Cancel button the delegate draws on a job's row, as a person would."""
    view = window.view
    row = window.model.row_of(job_id)
    assert row is not None
    index = window.proxy.mapFromSource(window.model.index(row, Col.ACTION))
    assert index.isValid(), "the row is not shown under the current filter"
    view.scrollTo(index)
    rect = button_rect(view.visualRect(index), view)
    assert rect.width() > 10 and rect.height() > 10, "the button has no room to be drawn"
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def cell(
    window: QueueWindow, job_id: int, col: Col, role: int = Qt.ItemDataRole.DisplayRole
) -> Any:
    row = window.model.row_of(job_id)
    assert row is not None
    return window.model.index(row, col).data(role)


def visible_ids(window: QueueWindow) -> list[int]:
    from skylift.ui.queue_model import ID_ROLE

    proxy = window.proxy
    return [int(proxy.index(r, 0, QModelIndex()).data(ID_ROLE)) for r in range(proxy.rowCount())]
