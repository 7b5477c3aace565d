"""The Hot folders page of the settings dialog, and how the app shows a missing folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialog

from skylift.core import hotfolders, paths
from skylift.core.settings import Settings
from skylift.core.store import JobState
from skylift.entry.service import EngineService
from skylift.ui.app import SkyliftApp
from skylift.ui.queue_model import Col
from skylift.ui.settings_dialog import SettingsDialog
from tests.conftest import Server
from tests.gui.conftest import cell


def _on_disk() -> dict[str, Any]:
    return dict(json.loads(paths.settings_file().read_text()))


@pytest.fixture
def dialog(qtbot: Any, configure: Any) -> Iterator[SettingsDialog]:
    settings = configure(remote="loop", remote_path="/Photos")
    dlg = SettingsDialog(settings)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: "remotes" not in dlg._calls and "version" not in dlg._calls)
    yield dlg
    dlg.reject()


def test_the_page_adds_edits_and_removes_folders_and_saves(
    qtbot: Any, dialog: SettingsDialog, tmp_path: Path
) -> None:
    page = dialog.hot_page
    dialog.tabs.setCurrentWidget(page)
    export = tmp_path / "Export"
    export.mkdir()
    assert page.add_folder(str(export)) == ""  # what the folder chooser hands over
    assert page.list.count() == 1
    assert page.details.isEnabled()
    assert "loop:/Photos" in page.dest_edit.placeholderText()
    page.dest_edit.setText("loop:/Clients/Smith")
    page.dest_edit.textEdited.emit("loop:/Clients/Smith")
    page.subfolders_check.setChecked(False)
    page.after_combo.setCurrentIndex(page.after_combo.findData("move"))
    page.settle_spin.setValue(2.5)
    dialog.buttons.accepted.emit()
    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = _on_disk()
    assert saved["watch_folders"] == [
        {
            "path": str(export),
            "destination": "loop:/Clients/Smith",
            "subfolders": False,
            "after_upload": "move",
        }
    ]
    assert saved["settle_seconds"] == 2.5

    again = SettingsDialog(Settings.load())
    qtbot.addWidget(again)
    assert again.hot_page.list.count() == 1
    assert again.hot_page.dest_edit.text() == "loop:/Clients/Smith"
    assert not again.hot_page.subfolders_check.isChecked()
    again.hot_page.list.setCurrentRow(0)
    again.hot_page.remove_selected()
    assert again.hot_page.list.count() == 0
    assert not again.hot_page.remove_button.isEnabled()
    again.buttons.accepted.emit()
    assert _on_disk()["watch_folders"] == []


def test_the_page_refuses_what_cannot_be_watched(
    qtbot: Any, dialog: SettingsDialog, tmp_path: Path
) -> None:
    page = dialog.hot_page
    export = tmp_path / "Export"
    (export / "Day 1").mkdir(parents=True)
    assert "is not a folder" in page.add_folder(str(tmp_path / "nope"))
    assert page.error.isVisibleTo(page)
    assert page.add_folder(str(export)) == ""
    assert not page.error.isVisibleTo(page)
    assert "already watched" in page.add_folder(str(export))
    assert "uploaded twice" in page.add_folder(str(export / "Day 1"))
    assert page.list.count() == 1


def test_a_bad_destination_is_shown_and_not_saved(
    qtbot: Any, dialog: SettingsDialog, tmp_path: Path
) -> None:
    before = paths.settings_file().read_bytes()
    page = dialog.hot_page
    export = tmp_path / "Export"
    export.mkdir()
    page.add_folder(str(export))
    page.dest_edit.setText("nocolon")
    page.dest_edit.textEdited.emit("nocolon")
    assert page.dest_error.isVisibleTo(page)
    assert "REMOTE:PATH" in page.dest_error.text()
    dialog.tabs.setCurrentIndex(0)
    dialog.buttons.accepted.emit()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.tabs.currentWidget() is page  # taken to where the problem is
    assert "is not a destination" in page.error.text()
    assert paths.settings_file().read_bytes() == before


def test_the_app_says_when_a_watched_folder_is_missing(
    qtbot: Any, configure: Any, tmp_path: Path, sftp_server: Server, monkeypatch: Any
) -> None:
    monkeypatch.setattr(hotfolders, "UNAVAILABLE_POLL_MS", 200)
    folder = tmp_path / "card" / "Export"
    folder.mkdir(parents=True)
    (folder / "a.jpg").write_bytes(b"a" * 1000)
    settings = configure(
        remote="loop",
        remote_path="/Hot",
        retries=0,
        settle_seconds=0.5,
        watch_folders=[{"path": str(folder)}],
    )
    svc = EngineService(settings, watch=True)
    app = SkyliftApp(svc, tray_available=lambda: True)
    app.exit_app = lambda: None
    qtbot.addWidget(app.window)
    try:
        app.start()
        hot = svc.hot_folders
        assert hot is not None
        svc.engine.pause()
        qtbot.waitUntil(lambda: svc.engine.counts()["queued"] == 1, timeout=30_000)
        job = svc.engine.jobs()[0]

        folder.rename(tmp_path / "card" / "away")
        hot.rescan()
        banner = app.window.folder_banner
        qtbot.waitUntil(lambda: banner.isVisibleTo(app.window), timeout=10_000)
        assert str(folder) in banner.text and "not available" in banner.text
        assert str(folder) in app.tray.tooltip_text()
        dlg = app.open_settings()
        assert "not available" in dlg.hot_page.list.item(0).text()
        dlg.reject()

        svc.engine.resume()
        qtbot.waitUntil(
            lambda: (
                cell(app.window, job.id, Col.STATUS) == "Waiting for its watched folder to return"
            ),
            timeout=30_000,
        )

        (tmp_path / "card" / "away").rename(folder)
        qtbot.waitUntil(lambda: not banner.isVisibleTo(app.window), timeout=10_000)
        assert str(folder) not in app.tray.tooltip_text()
        qtbot.waitUntil(
            lambda: svc.engine.job(job.id).state is JobState.DONE,  # type: ignore[union-attr]
            timeout=60_000,
        )
        assert sftp_server.file("Hot/a.jpg").read_bytes() == b"a" * 1000
    finally:
        app.cleanup()
        svc.close()
