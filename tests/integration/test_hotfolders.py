"""Hot folders with the real engine, real rclone and a loopback SFTP server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from skylift.core import hotfolders
from skylift.core.engine import HELD
from skylift.core.hotfolders import HotFolders
from skylift.core.store import Job, JobState
from skylift.entry.service import EngineService
from tests.conftest import Server

FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)
Start = Callable[..., EngineService]


@pytest.fixture
def start(
    qtbot: Any, sftp_server: Server, configure: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Start]:
    """An engine service that watches one folder, uploading to loop:/Hot."""
    monkeypatch.setattr(hotfolders, "UNAVAILABLE_POLL_MS", 200)
    monkeypatch.setattr(hotfolders, "DEBOUNCE_MS", 100)
    made: list[EngineService] = []

    def make(folder: Path, settle: float = 1, **entry: Any) -> EngineService:
        settings = configure(
            remote="loop",
            remote_path="/Hot",
            retries=0,
            retry_delay=0,
            settle_seconds=settle,
            watch_folders=[{"path": str(folder), **entry}],
        )
        svc = EngineService(settings, watch=True)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        if svc.hot_folders is not None and not svc.hot_folders._stopped:
            svc.close()


def hot(svc: EngineService) -> HotFolders:
    assert svc.hot_folders is not None
    return svc.hot_folders


def jobs_for(svc: EngineService, path: Path) -> list[Job]:
    return [j for j in svc.store.history() + svc.store.jobs() if j.path == path]


def unique_jobs_for(svc: EngineService, path: Path) -> list[Job]:
    return list({j.id: j for j in jobs_for(svc, path)}.values())


def done(svc: EngineService, path: Path) -> bool:
    return any(j.state is JobState.DONE for j in unique_jobs_for(svc, path))


def settled(svc: EngineService) -> bool:
    """Nothing left to look at: no scan running, no file settling, the queue idle."""
    return not hot(svc).busy() and not svc.engine.busy()


class SlowWriter:
    """Writes a file in chunks from a timer, as an export that takes a while."""

    def __init__(self, path: Path, chunks: list[bytes], every_ms: int):
        self.path = path
        self.chunks = list(chunks)
        self.timer = QTimer()
        self.timer.setInterval(every_ms)
        self.timer.timeout.connect(self.write)
        self.finished = False

    def start(self) -> None:
        self.write()
        self.timer.start()

    def write(self) -> None:
        if not self.chunks:
            self.timer.stop()
            self.finished = True
            return
        with open(self.path, "ab") as f:
            f.write(self.chunks.pop(0))


def test_a_file_written_slowly_is_uploaded_once_and_whole(
    qtbot: Any, tmp_path: Path, start: Start, sftp_server: Server
) -> None:
    folder = tmp_path / "Export"
    folder.mkdir()
    # settle 2 s: Skylift looks every second; the export pauses 1.2 s between chunks,
    # so a file is seen unchanged between two looks but never for the settle time
    svc = start(folder, settle=2)
    chunks = [os.urandom(50_000) for _ in range(6)]
    target = folder / "IMG_0001.jpg"
    writer = SlowWriter(target, chunks, every_ms=1200)
    writer.start()
    qtbot.waitUntil(lambda: writer.finished, timeout=20_000)
    # nothing may have been queued while the file was still growing
    assert all(j.size == len(b"".join(chunks)) for j in unique_jobs_for(svc, target))
    qtbot.waitUntil(lambda: done(svc, target), timeout=60_000)
    qtbot.waitUntil(lambda: settled(svc), timeout=30_000)
    jobs = unique_jobs_for(svc, target)
    assert len(jobs) == 1
    assert jobs[0].origin == str(folder)
    assert sftp_server.file("Hot/IMG_0001.jpg").read_bytes() == b"".join(chunks)
    assert svc.engine.processes_started == 1


def test_temporary_names_are_never_queued(
    qtbot: Any, tmp_path: Path, start: Start, sftp_server: Server
) -> None:
    folder = tmp_path / "Export"
    junk = [
        ".hidden.jpg",
        "x.tmp",
        "x.part",
        "x.jpg~",
        "x.jpg.partial",
        "x.crdownload",
        "Thumbs.db",
        "desktop.ini",
        "CaptureOne/Cache/Thumbnails/a.jpg.cot",
        "Uploaded/earlier.jpg",
    ]
    for rel in [*junk, "real.jpg", "Day 2/b.jpg"]:
        p = folder / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(1000))
    svc = start(folder)
    qtbot.waitUntil(lambda: done(svc, folder / "Day 2" / "b.jpg"), timeout=60_000)
    qtbot.waitUntil(lambda: done(svc, folder / "real.jpg"), timeout=60_000)
    hot(svc).rescan()
    qtbot.waitUntil(lambda: settled(svc), timeout=30_000)
    queued = sorted(str(j.path.relative_to(folder)) for j in svc.store.history())
    assert queued == ["Day 2/b.jpg", "real.jpg"]
    assert sftp_server.file("Hot/Day 2/b.jpg").read_bytes() == (folder / "Day 2/b.jpg").read_bytes()
    assert not sftp_server.file("Hot/x.tmp").exists()


def test_flat_folder_puts_every_file_in_the_destination(
    qtbot: Any, tmp_path: Path, start: Start, sftp_server: Server
) -> None:
    folder = tmp_path / "Export"
    (folder / "Day 1").mkdir(parents=True)
    (folder / "Day 1" / "a.jpg").write_bytes(b"a" * 100)
    svc = start(folder, subfolders=False, destination="loop:/Flat")
    qtbot.waitUntil(lambda: done(svc, folder / "Day 1" / "a.jpg"), timeout=60_000)
    assert sftp_server.file("Flat/a.jpg").read_bytes() == b"a" * 100
    assert not sftp_server.file("Flat/Day 1").exists()


def test_a_vanished_folder_holds_its_jobs_and_resumes_when_it_returns(
    qtbot: Any, tmp_path: Path, start: Start, sftp_server: Server
) -> None:
    folder = tmp_path / "card" / "Export"
    folder.mkdir(parents=True)
    (folder / "first.jpg").write_bytes(b"1" * 5000)
    svc = start(folder)
    hf = hot(svc)
    svc.engine.pause()  # the file is queued, but not sent before the card is pulled
    qtbot.waitUntil(lambda: bool(unique_jobs_for(svc, folder / "first.jpg")), timeout=30_000)
    [job] = unique_jobs_for(svc, folder / "first.jpg")
    assert job.state is JobState.QUEUED

    away = tmp_path / "card" / "away"
    # noticed by the periodic look at the folders themselves, not only by a full rescan
    # (every 30 s, longer than this wait)
    assert hf._missing_timer.isActive()
    with qtbot.waitSignal(hf.foldersChanged, timeout=20_000):
        folder.rename(away)
    qtbot.waitUntil(lambda: hf.unavailable() == [str(folder)], timeout=10_000)
    assert hf.status()[0]["available"] is False
    svc.engine.resume()
    qtbot.waitUntil(lambda: svc.engine.job(job.id).error == HELD, timeout=30_000)  # type: ignore[union-attr]
    assert svc.engine.job(job.id).state is JobState.QUEUED  # type: ignore[union-attr]
    assert svc.engine.counts()["failed"] == 0

    away.rename(folder)
    qtbot.waitUntil(lambda: not hf.unavailable(), timeout=10_000)
    qtbot.waitUntil(lambda: done(svc, folder / "first.jpg"), timeout=60_000)
    (folder / "second.jpg").write_bytes(b"2" * 3000)
    qtbot.waitUntil(lambda: done(svc, folder / "second.jpg"), timeout=60_000)
    assert sftp_server.file("Hot/first.jpg").read_bytes() == b"1" * 5000
    assert sftp_server.file("Hot/second.jpg").read_bytes() == b"2" * 3000
    assert svc.engine.counts()["failed"] == 0


def test_without_hot_folders_a_missing_file_still_fails(
    qtbot: Any, tmp_path: Path, configure: Any, sftp_server: Server
) -> None:
    """A headless run holds nothing: it would otherwise wait for a drive forever."""
    folder = tmp_path / "Export"
    folder.mkdir()
    f = folder / "a.jpg"
    f.write_bytes(b"a")
    settings = configure(remote="loop", remote_path="/Hot", retries=0, retry_delay=0)
    svc = EngineService(settings)
    try:
        assert svc.hot_folders is None
        svc.engine.pause()
        result = svc.engine.add_planned(
            [hotfolders.Planned(f, "loop:/Hot/a.jpg", 1, f.stat().st_mtime)], origin=str(folder)
        )
        folder.rename(tmp_path / "gone")
        svc.engine.resume()
        job_id = result.jobs[0].id
        qtbot.waitUntil(
            lambda: svc.engine.job(job_id).state is JobState.FAILED,  # type: ignore[union-attr]
            timeout=30_000,
        )
    finally:
        svc.close()


def test_move_after_upload_never_overwrites(
    qtbot: Any, tmp_path: Path, start: Start, sftp_server: Server
) -> None:
    folder = tmp_path / "Export"
    (folder / "Day 1").mkdir(parents=True)
    first = folder / "Day 1" / "a.jpg"
    first.write_bytes(b"first" * 100)
    svc = start(folder, after_upload="move")
    hf = hot(svc)
    moved_to = folder / "Uploaded" / "Day 1" / "a.jpg"
    qtbot.waitUntil(moved_to.exists, timeout=60_000)
    assert not first.exists()
    assert sftp_server.file("Hot/Day 1/a.jpg").read_bytes() == b"first" * 100
    assert moved_to.read_bytes() == b"first" * 100

    first.write_bytes(b"second" * 100)  # the same name exported again
    second_moved = folder / "Uploaded" / "Day 1" / "a (2).jpg"
    qtbot.waitUntil(second_moved.exists, timeout=60_000)
    assert moved_to.read_bytes() == b"first" * 100
    assert second_moved.read_bytes() == b"second" * 100
    assert sftp_server.file("Hot/Day 1/a.jpg").read_bytes() == b"second" * 100
    assert hf.moved == 2
    qtbot.waitUntil(lambda: settled(svc), timeout=30_000)
    assert len(svc.store.history()) == 2  # the moved files were not queued from Uploaded/


def test_unchanged_files_are_not_queued_again_and_changed_ones_are(
    qtbot: Any, tmp_path: Path, start: Start, sftp_server: Server
) -> None:
    folder = tmp_path / "Export"
    folder.mkdir()
    a = folder / "a.jpg"
    a.write_bytes(b"v1" * 500)
    svc = start(folder)
    hf = hot(svc)
    qtbot.waitUntil(lambda: done(svc, a), timeout=60_000)
    before = hf.scans
    hf.rescan()
    qtbot.waitUntil(lambda: hf.scans > before and settled(svc), timeout=30_000)
    assert len(unique_jobs_for(svc, a)) == 1

    # a restart of the watcher (as after a restart of Skylift) remembers it too
    hf.stop()
    again = HotFolders(svc.settings, svc.engine, svc.store)
    try:
        qtbot.waitUntil(lambda: again.scans > 0 and not again.busy(), timeout=30_000)
        assert len(unique_jobs_for(svc, a)) == 1

        # a file given up on (cancelled here; failed is treated alike) stays given up
        b = folder / "b.jpg"
        svc.engine.pause()
        b.write_bytes(b"b" * 100)
        qtbot.waitUntil(lambda: bool(unique_jobs_for(svc, b)), timeout=30_000)
        svc.engine.cancel([unique_jobs_for(svc, b)[0].id])
        svc.engine.resume()
        n = again.scans
        again.rescan()
        qtbot.waitUntil(lambda: again.scans > n and settled(svc), timeout=30_000)
        assert [j.state for j in unique_jobs_for(svc, b)] == [JobState.CANCELLED]

        # a file taken off the list ("Remove from list") stays off, even for a watcher
        # that starts afresh (as after a restart of Skylift)
        c = folder / "c.jpg"
        svc.engine.pause()
        c.write_bytes(b"c" * 100)
        qtbot.waitUntil(lambda: bool(unique_jobs_for(svc, c)), timeout=30_000)
        removed = svc.engine.remove([unique_jobs_for(svc, c)[0].id])
        assert not [j for j in svc.engine.jobs() if j.id in removed]  # off the list
        svc.engine.resume()
        again.stop()
        again = HotFolders(svc.settings, svc.engine, svc.store)
        qtbot.waitUntil(
            lambda: again.scans > 0 and not again.busy() and not svc.engine.busy(),
            timeout=30_000,
        )
        assert [j.state for j in unique_jobs_for(svc, c)] == [JobState.CANCELLED]
        assert not sftp_server.file("Hot/c.jpg").exists()

        a.write_bytes(b"v2" * 700)  # exported again, changed
        # rewritten in place: the directory watcher says nothing about that (Qt watches
        # folders for names coming and going), so the periodic rescan finds it
        again.rescan()
        qtbot.waitUntil(lambda: len(unique_jobs_for(svc, a)) == 2, timeout=30_000)
        qtbot.waitUntil(lambda: settled(svc), timeout=60_000)
        assert sftp_server.file("Hot/a.jpg").read_bytes() == b"v2" * 700
    finally:
        again.stop()


def test_settings_reload_adds_and_removes_folders(
    qtbot: Any, tmp_path: Path, start: Start, sftp_server: Server
) -> None:
    one = tmp_path / "One"
    two = tmp_path / "Two"
    one.mkdir()
    two.mkdir()
    svc = start(one)
    hf = hot(svc)
    assert [s["path"] for s in hf.status()] == [str(one)]
    svc.settings["watch_folders"] = [{"path": str(two), "destination": "loop:/Two"}]
    svc.settings.save()
    svc.reload_settings()  # what `skylift watch add` asks a running app to do
    assert [s["path"] for s in hf.status()] == [str(two)]
    assert hf.status()[0]["destination"] == "loop:/Two"
    (two / "x.jpg").write_bytes(b"x" * 10)
    (one / "y.jpg").write_bytes(b"y" * 10)
    qtbot.waitUntil(lambda: done(svc, two / "x.jpg"), timeout=60_000)
    qtbot.waitUntil(lambda: settled(svc), timeout=30_000)
    assert sftp_server.file("Two/x.jpg").read_bytes() == b"x" * 10
    assert not unique_jobs_for(svc, one / "y.jpg")


def test_a_failed_file_retried_by_hand_is_moved_once_uploaded(
    qtbot: Any, tmp_path: Path, start: Start, sftp_server: Server
) -> None:
    folder = tmp_path / "Export"
    folder.mkdir()
    a = folder / "a.jpg"
    a.write_bytes(b"a" * 2000)
    # a destination folder the server cannot create: a file stands where it should be
    sftp_server.file("Blocked").write_bytes(b"not a folder")
    svc = start(folder, after_upload="move", destination="loop:/Blocked/Sub")
    qtbot.waitUntil(
        lambda: [j.state for j in unique_jobs_for(svc, a)] == [JobState.FAILED], timeout=60_000
    )
    [job] = unique_jobs_for(svc, a)
    hf = hot(svc)
    n = hf.scans
    hf.rescan()
    qtbot.waitUntil(lambda: hf.scans > n and settled(svc), timeout=30_000)
    assert len(unique_jobs_for(svc, a)) == 1  # a failure is not queued again by itself
    assert a.exists()

    sftp_server.file("Blocked").unlink()
    moved = folder / "Uploaded" / "a.jpg"

    def retried_until_moved() -> bool:
        # the server caches its listing for a second, so the first retry may still fail:
        # press Retry again, as a person would
        if svc.engine.job(job.id).state is JobState.FAILED:  # type: ignore[union-attr]
            svc.engine.retry([job.id])
        return moved.exists()

    qtbot.waitUntil(retried_until_moved, timeout=60_000)
    assert [j.id for j in unique_jobs_for(svc, a)] == [job.id]
    assert sftp_server.file("Blocked/Sub/a.jpg").read_bytes() == b"a" * 2000
    assert moved.read_bytes() == b"a" * 2000
