"""The settings dialog: validation, saving, cancelling, and its real rclone questions."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialog

from skylift.core import paths
from skylift.core.remotes import Answer
from skylift.core.settings import Settings
from skylift.ui.remote_dialogs import BrowseDialog, NewRemoteDialog
from skylift.ui.settings_dialog import SettingsDialog
from tests.conftest import free_port


@pytest.fixture
def dialog(qtbot: Any, configure: Any) -> Iterator[SettingsDialog]:
    settings = configure(remote="loop", remote_path="/Photos")
    dlg = SettingsDialog(settings)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: "remotes" not in dlg._calls and "version" not in dlg._calls)
    yield dlg
    dlg.reject()


def _on_disk() -> dict[str, Any]:
    return dict(json.loads(paths.settings_file().read_text()))


def test_it_shows_the_current_settings_and_the_rclone_it_found(dialog: SettingsDialog) -> None:
    assert dialog.remote == "loop"
    assert dialog.folder_edit.text() == "/Photos"
    assert dialog.transfers_spin.value() == 4
    assert dialog.rclone_ok is True
    assert dialog.rclone_info.text().startswith("rclone 1.")
    assert os.path.isabs(dialog.rclone_info.text().split(" at ", 1)[1])


def test_an_invalid_speed_limit_is_refused_beside_the_field(
    qtbot: Any, dialog: SettingsDialog
) -> None:
    before = paths.settings_file().read_bytes()
    dialog.bwlimit_edit.setText("fast")
    assert dialog.errors["bwlimit"].isVisible()
    assert "bwlimit 'fast' is not a rate" in dialog.errors["bwlimit"].text()
    dialog.buttons.accepted.emit()  # OK
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert paths.settings_file().read_bytes() == before
    dialog.bwlimit_edit.setText("08:00,512k 18:00,off")
    assert not dialog.errors["bwlimit"].isVisible()


def test_a_relative_rclone_path_is_refused(qtbot: Any, dialog: SettingsDialog) -> None:
    dialog.rclone_edit.setText("bin/rclone")
    dialog.buttons.accepted.emit()
    assert dialog.errors["rclone_path"].isVisible()
    assert "absolute path" in dialog.errors["rclone_path"].text()
    assert dialog.isVisible()


def test_ok_saves_everything(qtbot: Any, dialog: SettingsDialog, profile: Path) -> None:
    dialog.folder_edit.setText("/Clients/2024")
    dialog.enabled_check.setChecked(False)
    dialog.transfers_spin.setValue(8)
    dialog.bwlimit_edit.setText("Mon-08:00,1M Sat-10:00,off")
    dialog.retries_spin.setValue(5)
    dialog.delay_spin.setValue(30)
    dialog.notify_check.setChecked(False)
    dialog.notify_failed_check.setChecked(False)
    dialog.login_check.setChecked(True)
    with qtbot.waitSignal(dialog.saved):
        dialog.buttons.accepted.emit()
    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = _on_disk()
    assert saved["remote"] == "loop"
    assert saved["remote_path"] == "/Clients/2024"
    assert saved["enabled"] is False
    assert saved["transfers"] == 8
    assert saved["bwlimit"] == "Mon-08:00,1M Sat-10:00,off"
    assert saved["retries"] == 5
    assert saved["retry_delay"] == 30
    assert saved["notify"] is False
    assert saved["notify_failures"] is False
    assert saved["start_at_login"] is True
    assert dialog.settings["transfers"] == 8  # the engine's settings object, too
    entry = Path(os.environ["XDG_CONFIG_HOME"]) / "autostart" / "skylift.desktop"
    assert entry.is_file() and "Exec=" in entry.read_text()
    assert Settings.load().destination_root == "loop:/Clients/2024"


def test_cancel_changes_nothing(qtbot: Any, dialog: SettingsDialog) -> None:
    before = paths.settings_file().read_bytes()
    dialog.folder_edit.setText("/Elsewhere")
    dialog.transfers_spin.setValue(16)
    dialog.login_check.setChecked(True)
    dialog.buttons.rejected.emit()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert paths.settings_file().read_bytes() == before
    assert dialog.settings["remote_path"] == "/Photos"
    assert dialog.settings["transfers"] == 4
    assert not (Path(os.environ["XDG_CONFIG_HOME"]) / "autostart" / "skylift.desktop").exists()


def test_remotes_are_read_from_rclone_with_their_type(
    qtbot: Any, configure: Any, sftp_server: Any
) -> None:
    dlg = SettingsDialog(configure(remote="", remote_path="/"))
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.remote_combo.count() > 0, timeout=20_000)
    labels = [dlg.remote_combo.itemText(i) for i in range(dlg.remote_combo.count())]
    # (the fixture's RCLONE_CONFIG_LOOP_SHELL_TYPE also reads to rclone as a remote)
    assert "loop (SFTP)" in labels
    assert dlg.remote == ""  # nothing chosen for the person
    dlg.remote_combo.setCurrentIndex(labels.index("loop (SFTP)"))
    assert dlg.remote == "loop"
    dlg.reject()


def test_test_connection_succeeds_against_a_real_sftp_server(
    qtbot: Any, dialog: SettingsDialog, sftp_server: Any
) -> None:
    assert dialog.test_button.isEnabled()
    dialog.test_button.click()
    assert dialog.test_spinner.spinning
    assert not dialog.test_button.isEnabled()
    qtbot.waitUntil(lambda: "test" not in dialog._calls, timeout=60_000)
    assert not dialog.test_spinner.spinning
    assert dialog.test_message == "loop:/Photos answers; uploads can go there."


def test_test_connection_to_a_wrong_port_fails_readably(
    qtbot: Any, dialog: SettingsDialog, sftp_server: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RCLONE_CONFIG_LOOP_PORT", str(free_port()))
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "test" not in dialog._calls, timeout=60_000)
    message = dialog.test_message
    assert message.startswith("The remote refused the connection;")
    assert "dial tcp" not in message and "{" not in message


def test_browse_lists_the_remotes_folders(
    qtbot: Any, dialog: SettingsDialog, sftp_server: Any
) -> None:
    for d in ("Clients", "Archive", "Clients/Smith"):
        (sftp_server.root / d).mkdir()
    (sftp_server.root / "file.jpg").write_bytes(b"x")
    dialog.browse()
    browse = dialog.browse_dialog
    assert isinstance(browse, BrowseDialog)
    root = browse.tree.topLevelItem(0)
    qtbot.waitUntil(lambda: root.childCount() == 2, timeout=30_000)
    assert [root.child(i).text(0) for i in range(2)] == ["Archive", "Clients"]
    clients = root.child(1)
    clients.setExpanded(True)
    qtbot.waitUntil(lambda: clients.childCount() == 1, timeout=30_000)
    browse.tree.setCurrentItem(clients.child(0))
    browse.accept()
    assert dialog.folder_edit.text() == "/Clients/Smith"


def test_new_remote_creates_an_sftp_remote_that_answers(
    qtbot: Any, dialog: SettingsDialog, sftp_server: Any
) -> None:
    dialog.new_remote()
    new = dialog.new_remote_dialog
    assert isinstance(new, NewRemoteDialog)
    new.type_combo.setCurrentIndex(new.type_combo.findData("sftp"))
    assert new.name_edit.text() == "sftp"
    new.name_edit.setText("studio")
    fields = new._fields["sftp"]
    fields["host"].setText("127.0.0.1")  # type: ignore[union-attr]
    fields["port"].setText(str(sftp_server.port))  # type: ignore[union-attr]
    fields["user"].setText(sftp_server.user)  # type: ignore[union-attr]
    fields["pass"].setText(sftp_server.password)  # type: ignore[union-attr]
    new.create_button.click()
    assert new.spinner.spinning
    qtbot.waitUntil(lambda: dialog.remote == "studio", timeout=30_000)
    qtbot.waitUntil(lambda: "remotes" not in dialog._calls, timeout=30_000)
    names = [dialog.remote_combo.itemData(i) for i in range(dialog.remote_combo.count())]
    assert "studio" in names and "loop" in names
    conf = Path(os.environ["RCLONE_CONFIG"]).read_text()
    assert "[studio]" in conf
    assert sftp_server.password not in conf  # stored obscured, never in plain
    dialog.folder_edit.setText("/")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "test" not in dialog._calls, timeout=60_000)
    assert dialog.test_message == "studio:/ answers; uploads can go there."


def test_new_remote_checks_what_was_typed(qtbot: Any, dialog: SettingsDialog) -> None:
    dialog.remotes = []
    new = NewRemoteDialog(dialog.queries, ["loop"])
    qtbot.addWidget(new)
    new.type_combo.setCurrentIndex(new.type_combo.findData("sftp"))
    new.name_edit.setText("loop")
    assert "already is a remote called 'loop'" in new.validate()
    new.name_edit.setText("-bad")
    assert "not an rclone remote name" in new.validate()
    new.name_edit.setText("nas")
    assert new.validate() == "Host is needed for SFTP (SSH server)."
    new._fields["sftp"]["host"].setText("nas.local")  # type: ignore[union-attr]
    new._fields["sftp"]["user"].setText("me")  # type: ignore[union-attr]
    new._fields["sftp"]["port"].setText("99999")  # type: ignore[union-attr]
    assert "port" in new.validate()


def test_oauth_remote_waits_for_the_browser_and_can_be_cancelled(
    qtbot: Any, dialog: SettingsDialog, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no browser to open: rclone prints the link
    new = NewRemoteDialog(dialog.queries, [])
    qtbot.addWidget(new)
    new.type_combo.setCurrentIndex(new.type_combo.findData("dropbox"))
    page = new.stack.currentWidget()
    assert "web browser" in " ".join(w.text() for w in page.findChildren(type(new.status)))
    new.create_button.click()
    assert "Waiting for you to sign in to Dropbox" in new.status.text()
    try:
        qtbot.waitUntil(lambda: "127.0.0.1:53682/auth" in new.status.text(), timeout=30_000)
    except qtbot.TimeoutError:  # say what the dialog showed instead (rclone's port busy?)
        raise AssertionError(f"no sign-in link; the dialog says: {new.status.text()}") from None
    assert new.creation is not None and new.creation.running
    new.reject()  # Cancel
    assert new.creation is None
    assert "[dropbox]" not in Path(os.environ["RCLONE_CONFIG"]).read_text()


def test_a_missing_rclone_is_explained(qtbot: Any, dialog: SettingsDialog, tmp_path: Path) -> None:
    dialog.rclone_edit.setText(str(tmp_path / "no-rclone"))
    dialog.refresh_rclone()
    qtbot.waitUntil(lambda: "version" not in dialog._calls)
    assert dialog.rclone_ok is False
    assert "not an executable program" in dialog.rclone_info.text()
    qtbot.waitUntil(lambda: "remotes" not in dialog._calls)
    assert "not an executable program" in dialog.remote_status.text()


def test_an_rclone_call_that_cannot_start_answers_anyway(qtbot: Any) -> None:
    from skylift.core.remotes import RcloneCall

    call = RcloneCall(["/nonexistent/rclone", "version"], lambda c, o, e: Answer(True))
    with qtbot.waitSignal(call.finished) as blocker:
        call.start()
    answer = blocker.args[0]
    assert not answer.ok and answer.message.startswith("rclone could not be started")


def test_presets_and_checking_options_are_saved(qtbot: Any, dialog: SettingsDialog) -> None:
    editor = dialog.preset_editor
    editor.add_row("Smith wedding", "loop:/Clients/Smith/2026-11")
    editor.add_row("Jones", "loop:Clients/Jones")
    editor.add_row()  # an empty row is left out
    dialog.expire_edit.setText("7d")
    dialog.verify_check.setChecked(True)
    dialog.checksum_check.setChecked(True)
    dialog.skip_check.setChecked(False)
    with qtbot.waitSignal(dialog.saved):
        dialog.buttons.accepted.emit()
    saved = _on_disk()
    assert saved["presets"] == [
        {"name": "Smith wedding", "destination": "loop:/Clients/Smith/2026-11"},
        {"name": "Jones", "destination": "loop:Clients/Jones"},
    ]
    assert (saved["link_expire"], saved["verify"], saved["checksum"]) == ("7d", True, True)
    assert saved["skip_uploaded"] is False


def test_a_preset_without_a_remote_is_refused(qtbot: Any, dialog: SettingsDialog) -> None:
    before = paths.settings_file().read_bytes()
    dialog.preset_editor.add_row("Smith", "/Clients/Smith")
    dialog.expire_edit.setText("a week")
    dialog.buttons.accepted.emit()
    assert dialog.isVisible()
    assert "REMOTE:PATH" in dialog.errors["presets"].text()
    assert "not a duration" in dialog.errors["link_expire"].text()
    assert dialog.tabs.currentIndex() == 1  # the page with what to fix is shown
    assert paths.settings_file().read_bytes() == before
    dialog.preset_editor.table.selectRow(0)
    dialog.preset_editor.remove_selected()
    assert dialog.preset_editor.presets() == []
