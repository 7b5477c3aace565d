"""Copy share link: from a done row's menu and from the finished-batch notification,
with real rclone against loopback S3 (links) and SFTP (no links) servers."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from skylift.core.store import JobState
from skylift.entry.service import EngineService
from skylift.ui.app import SkyliftApp
from skylift.ui.queue_model import Col
from tests.conftest import Cli, S3Server, Server, make_files
from tests.gui.conftest import cell

MakeApp = Callable[..., SkyliftApp]


def _fetch(url: str) -> bytes:
    assert url.startswith("http://127.0.0.1:"), url
    with urllib.request.urlopen(url, timeout=30) as r:
        return bytes(r.read())


def _upload(qtbot: Any, service: EngineService, files: list[Path], to: str) -> list[int]:
    with qtbot.waitSignal(service.engine.drained, timeout=60_000):
        ids = [j.id for j in service.engine.add_paths(list(map(str, files)), destination=to).jobs]
    assert {j.state for j in service.engine.jobs(ids=ids)} == {JobState.DONE}
    return ids


def test_row_menu_copies_the_link_and_keeps_it_on_the_job(
    qtbot: Any, make_app: MakeApp, service: EngineService, s3_server: S3Server, tmp_path: Path
) -> None:
    app = make_app()
    win = app.window
    QGuiApplication.clipboard().setText("nothing yet")
    (f,) = make_files(tmp_path, ["bride.jpg"], size=3000)
    (job_id,) = _upload(qtbot, service, [f], "s3loop:bucket/Smith")

    win.select_job(job_id)
    menu = win.context_menu()
    assert "Copy share link" in [a.text() for a in menu.actions()]
    assert win.act_share_link.isEnabled()
    with qtbot.waitSignal(win.share.copied, timeout=60_000) as sig:
        win.act_share_link.trigger()
    url = sig.args[0]

    assert QGuiApplication.clipboard().text() == url
    assert _fetch(url) == f.read_bytes()
    assert win.message_banner.text.startswith(
        "Share link for s3loop:bucket/Smith/bride.jpg copied to the clipboard."
    )
    job = service.engine.job(job_id)
    assert job is not None and job.link == url
    assert [j.link for j in service.store.history() if j.id == job_id] == [url]
    assert url in cell(win, job_id, Col.STATUS, Qt.ItemDataRole.ToolTipRole)

    # a selection across folders is not linked at the folder above them
    (g,) = make_files(tmp_path / "other", ["groom.jpg"])
    (other_id,) = _upload(qtbot, service, [g], "s3loop:bucket/Jones")
    win.view.selectAll()
    win.context_menu()
    with qtbot.waitSignal(win.share.failed, timeout=10_000):
        win.act_share_link.trigger()
    assert win.message_banner.text == (
        "These files are in different folders; choose files from one folder to share."
    )
    other = service.engine.job(other_id)
    assert other is not None and other.link is None


def test_row_menu_on_a_remote_without_links_says_so(
    qtbot: Any, make_app: MakeApp, service: EngineService, sftp_server: Server, tmp_path: Path
) -> None:
    app = make_app()
    win = app.window
    QGuiApplication.clipboard().setText("unchanged")
    (f,) = make_files(tmp_path, ["a.jpg"])
    (job_id,) = _upload(qtbot, service, [f], "loop:/Photos")
    win.select_job(job_id)
    win.context_menu()
    with qtbot.waitSignal(win.share.failed, timeout=60_000):
        win.act_share_link.trigger()
    assert win.message_banner.text == (
        "This remote (sftp) cannot make share links; upload to a cloud such as Dropbox, "
        "Google Drive, OneDrive or S3 to share."
    )
    assert QGuiApplication.clipboard().text() == "unchanged"
    job = service.engine.job(job_id)
    assert job is not None and job.link is None


def test_clicking_the_batch_notification_copies_its_link(
    qtbot: Any, make_app: MakeApp, service: EngineService, s3_server: S3Server, tmp_path: Path
) -> None:
    app = make_app()
    shown: list[tuple[str, str, bool]] = []
    app.tray.show_message = lambda t, b, warning=False: shown.append((t, b, warning))  # type: ignore[method-assign]
    (f,) = make_files(tmp_path, ["one.jpg"])
    (job_id,) = _upload(qtbot, service, [f], "s3loop:bucket/Batch")
    assert shown == [
        ("1 photo uploaded to s3loop:bucket/Batch", "Click to copy a share link.", False)
    ]

    with qtbot.waitSignal(app.share.copied, timeout=60_000) as sig:
        app.tray.icon.messageClicked.emit()
    url = sig.args[0]
    assert QGuiApplication.clipboard().text() == url
    assert _fetch(url) == f.read_bytes()
    assert shown[-1][0] == "Share link copied" and not shown[-1][2]
    assert not app.window.isVisible()  # the click copied; the window stays where it was
    job = service.engine.job(job_id)
    assert job is not None and job.link == url

    # S3 links objects, not folders: a batch of several files cannot have one link
    files = make_files(tmp_path / "more", ["a.jpg", "b.jpg"])
    _upload(qtbot, service, files, "s3loop:bucket/Two")
    with qtbot.waitSignal(app.share.failed, timeout=60_000):
        app.tray.icon.messageClicked.emit()
    title, body, warning = shown[-1]
    assert title == "No share link" and warning
    assert body == (
        "s3loop:bucket/Two is a folder and this remote (s3loop) shares single files only; "
        "use Copy share link on one file."
    )


def test_batch_notification_on_a_remote_without_links(
    qtbot: Any, make_app: MakeApp, service: EngineService, sftp_server: Server, tmp_path: Path
) -> None:
    app = make_app()
    shown: list[tuple[str, str, bool]] = []
    app.tray.show_message = lambda t, b, warning=False: shown.append((t, b, warning))  # type: ignore[method-assign]
    files = make_files(tmp_path / "Set", ["a.jpg", "b.jpg"])
    _upload(qtbot, service, files, "loop:/Photos/Set")
    with qtbot.waitSignal(app.share.failed, timeout=60_000):
        app.tray.icon.messageClicked.emit()
    assert shown[-1] == (
        "No share link",
        "This remote (sftp) cannot make share links; upload to a cloud such as Dropbox, "
        "Google Drive, OneDrive or S3 to share.",
        True,
    )
    # the next batch to that remote does not offer a link; its click opens the queue
    more = make_files(tmp_path / "More", ["c.jpg"])
    _upload(qtbot, service, more, "loop:/Photos/More")
    note = app.notifier.last
    assert note is not None and note.share == () and "share link" not in note.body
    app.window.hide()
    app.tray.icon.messageClicked.emit()
    assert app.window.isVisible() and not app.share.running


def test_without_a_tray_the_window_offers_the_link(
    qtbot: Any, make_app: MakeApp, service: EngineService, s3_server: S3Server, tmp_path: Path
) -> None:
    app = make_app(tray=False)
    (f,) = make_files(tmp_path, ["w.jpg"])
    _upload(qtbot, service, [f], "s3loop:bucket/Win")
    banner = app.window.message_banner
    assert banner.text == "1 photo uploaded to s3loop:bucket/Win."
    assert banner.button.isVisible() and banner.button.text() == "Copy share link"
    with qtbot.waitSignal(app.share.copied, timeout=60_000) as sig:
        qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == sig.args[0]
    assert banner.text.startswith("Share link copied: The link to s3loop:bucket/Win/w.jpg")


def test_cli_link_for_a_job_reaches_the_running_app(
    qtbot: Any,
    make_app: MakeApp,
    service: EngineService,
    s3_server: S3Server,
    tmp_path: Path,
    cli: Cli,
) -> None:
    app = make_app()
    (f,) = make_files(tmp_path, ["cli.jpg"])
    (job_id,) = _upload(qtbot, service, [f], "s3loop:bucket/Cli")
    with qtbot.waitSignal(service.engine.jobsChanged, timeout=60_000) as sig:
        proc = cli.popen("link", "--job", str(job_id))
    assert sig.args[0] == [job_id]
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    url = out.strip()
    assert _fetch(url) == f.read_bytes()
    job = service.engine.job(job_id)
    assert job is not None and job.link == url
    assert url in cell(app.window, job_id, Col.STATUS, Qt.ItemDataRole.ToolTipRole)
