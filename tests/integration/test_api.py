"""The Python API against a real rclone server on loopback."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from skylift import CloudSyncManager
from tests.conftest import Server, make_files


@pytest.fixture
def manager(sftp_server: Server):  # type: ignore[no-untyped-def]
    m = CloudSyncManager(
        {"enabled": True, "remote": "loop", "remote_path": "/Photos/Test", "retries": 0}
    )
    yield m
    m.close()


def remote_bytes(server: Server, rel: str) -> bytes:
    return server.file(f"Photos/Test/{rel}").read_bytes()


def test_small_file(tmp_path: Path, sftp_server: Server, manager: CloudSyncManager) -> None:
    (f,) = make_files(tmp_path, ["portrait.jpg"], size=2048)
    job = manager.upload_file(f)
    assert job is not None
    assert job.path == f
    assert job.destination == "loop:/Photos/Test/portrait.jpg"
    ok, err = manager.process_upload_job(job.id)
    assert (ok, err) == (True, None)
    assert remote_bytes(sftp_server, "portrait.jpg") == f.read_bytes()
    done = manager.get_job(job.id)
    assert done is not None and done.state.value == "done" and done.bytes == 2048


def test_file_over_10_mb(tmp_path: Path, sftp_server: Server, manager: CloudSyncManager) -> None:
    (f,) = make_files(tmp_path, ["panorama.tif"], size=12 * 1024 * 1024 + 7)
    job = manager.upload_file(f)
    assert job is not None
    assert manager.process_upload_job(job.id) == (True, None)
    assert remote_bytes(sftp_server, "panorama.tif") == f.read_bytes()


def test_batch_of_three_two_at_a_time(
    tmp_path: Path, sftp_server: Server, manager: CloudSyncManager
) -> None:
    files = make_files(tmp_path, ["a.jpg", "b.jpg", "c.jpg"], size=50_000)
    jobs = manager.upload_batch(files)
    assert [j.path for j in jobs] == files
    result = manager.process_upload_queue(max_concurrent=2)
    assert result["succeeded"] == 3 and result["failed"] == 0
    for f in files:
        assert remote_bytes(sftp_server, f.name) == f.read_bytes()
    status = manager.get_queue_status()
    assert status["done"] == 3 and status["total"] == 3 and status["failed_count"] == 0


def test_batch_of_200(tmp_path: Path, sftp_server: Server, manager: CloudSyncManager) -> None:
    files = make_files(tmp_path, [f"IMG_{i:04d}.jpg" for i in range(200)], size=3000)
    assert len(manager.upload_batch(files)) == 200
    assert manager.process_upload_queue()["succeeded"] == 200
    for f in files:
        assert remote_bytes(sftp_server, f.name) == f.read_bytes()


def test_folder_tree_keeps_structure(
    tmp_path: Path, sftp_server: Server, manager: CloudSyncManager
) -> None:
    files = make_files(
        tmp_path / "Wedding", ["ceremony/1.jpg", "ceremony/2.jpg", "party/x/3.jpg", "cover.jpg"]
    )
    jobs = manager.upload_batch([tmp_path / "Wedding"])
    assert sorted(j.destination for j in jobs) == [
        "loop:/Photos/Test/Wedding/ceremony/1.jpg",
        "loop:/Photos/Test/Wedding/ceremony/2.jpg",
        "loop:/Photos/Test/Wedding/cover.jpg",
        "loop:/Photos/Test/Wedding/party/x/3.jpg",
    ]
    assert manager.process_upload_queue()["succeeded"] == 4
    for f in files:
        assert remote_bytes(sftp_server, str(f.relative_to(tmp_path))) == f.read_bytes()


TRICKY = [
    "-n.jpg",
    "--dry-run.jpg",
    "with space.jpg",
    "quote'single.jpg",
    'quote"double.jpg',
    "semi;colon&amp.jpg",
    "dollar$HOME.jpg",
    "star*.jpg",
    unicodedata.normalize("NFC", "Zoë Café.jpg"),
    unicodedata.normalize("NFD", "Renée Noël.jpg"),
    "日本語.jpg",
]


def test_tricky_names(tmp_path: Path, sftp_server: Server, manager: CloudSyncManager) -> None:
    files = make_files(tmp_path / "Tricky", TRICKY)
    jobs = manager.upload_batch(files)
    assert len(jobs) == len(TRICKY)
    assert manager.process_upload_queue()["succeeded"] == len(TRICKY)
    served = {p.name for p in sftp_server.file("Photos/Test").iterdir()}
    assert served == set(TRICKY)  # byte for byte: NFD stays NFD
    for f in files:
        assert remote_bytes(sftp_server, f.name) == f.read_bytes()


def test_name_with_newline_is_uploaded_alone(
    tmp_path: Path, sftp_server: Server, manager: CloudSyncManager
) -> None:
    files = make_files(tmp_path, ["line\nbreak.jpg", "plain.jpg"])
    manager.upload_batch(files)
    assert manager.process_upload_queue()["succeeded"] == 2
    assert remote_bytes(sftp_server, "line\nbreak.jpg") == files[0].read_bytes()


def test_nonexistent_path_gives_none(tmp_path: Path, manager: CloudSyncManager) -> None:
    assert manager.upload_file(tmp_path / "nope.jpg") is None
    assert manager.last_error is not None and "does not exist" in manager.last_error
    assert manager.get_queue_status()["total"] == 0


def test_webdav_remote(tmp_path: Path, webdav_server: Server) -> None:
    files = make_files(tmp_path / "Shoot", ["a.jpg", "b.jpg"], size=10_000)
    with CloudSyncManager({"provider": "dav", "remote_path": "/Delivered"}) as m:
        ok, err = m.test_connection()
        assert (ok, err) == (True, None)
        m.upload_batch([tmp_path / "Shoot"])
        assert m.process_upload_queue()["succeeded"] == 2
    for f in files:
        assert webdav_server.file(f"Delivered/Shoot/{f.name}").read_bytes() == f.read_bytes()


def test_vanished_file_fails_plainly(
    tmp_path: Path, sftp_server: Server, manager: CloudSyncManager
) -> None:
    (f,) = make_files(tmp_path, ["gone.jpg"])
    job = manager.upload_file(f)
    assert job is not None
    os.unlink(f)
    ok, err = manager.process_upload_job(job.id)
    assert not ok
    assert err == "The file no longer exists."


def test_unreachable_remote_then_retry(
    tmp_path: Path, sftp_server: Server, manager: CloudSyncManager
) -> None:
    files = make_files(tmp_path, ["a.jpg", "b.jpg"])
    sftp_server.stop()
    manager.upload_batch(files)
    result = manager.process_upload_queue()
    assert result["failed"] == 2
    status = manager.get_queue_status()
    errors = {j["error"] for j in status["jobs"]}
    assert errors == {
        "The remote refused the connection; check that it is online and "
        "reachable, Skylift will retry."
    }
    sftp_server.start()
    assert manager.retry_all_failed_uploads() == 2
    assert manager.process_upload_queue()["succeeded"] == 2
    for f in files:
        assert remote_bytes(sftp_server, f.name) == f.read_bytes()


def test_connection_to_a_missing_remote(tmp_path: Path) -> None:
    with CloudSyncManager({"remote": "nosuch", "remote_path": "/"}) as m:
        ok, err = m.test_connection()
    assert not ok
    assert err is not None and "'nosuch' does not exist" in err
