"""Photographer workflow against a real loopback server: presets, skipping what is
already up, and checking remote copies."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from skylift.core.engine import ALREADY_UPLOADED, Engine
from skylift.core.settings import Settings
from skylift.core.store import JobState, Store
from tests.conftest import Cli, Server, make_files, status_json, wait_for


@pytest.fixture
def hashed(sftp_server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """The same server as remote ``hashed``, with rclone's md5sum/sha1sum checks on."""
    for key, value in sftp_server.env().items():
        if key.endswith(("_SHELL_TYPE", "_MD5SUM_COMMAND", "_SHA1SUM_COMMAND")):
            continue
        monkeypatch.setenv(key.replace("_LOOP_", "_HASHED_"), value)
    return sftp_server


def _engine(**values: object) -> Iterator[Engine]:
    settings = Settings({"remote_path": "/E", "retries": 0, **values})
    store = Store()
    e = Engine(settings, store)
    yield e
    e.shutdown()
    store.close()


@pytest.fixture
def engine(qtbot, sftp_server: Server) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    yield from _engine(remote="loop")


@pytest.fixture
def verifying(qtbot, hashed: Server) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    yield from _engine(remote="hashed", verify=True)


# --- skip what is already up ---------------------------------------------------------------


def test_redropping_an_unchanged_file_sends_nothing(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    photo, other = make_files(tmp_path / "Set", ["a.jpg", "b.jpg"])
    with qtbot.waitSignal(engine.drained, timeout=60_000):
        first = engine.add_paths([photo, other])
    assert engine.processes_started == 1
    remote = sftp_server.file("E/a.jpg")
    remote_mtime = remote.stat().st_mtime_ns

    with qtbot.waitSignal(engine.drained, timeout=60_000):
        again = engine.add_paths([photo])
    job = engine.job(again.jobs[0].id)
    assert job is not None and job.id != first.jobs[0].id
    assert (job.state, job.note, job.bytes) == (JobState.DONE, ALREADY_UPLOADED, 1000)
    assert engine.processes_started == 1  # no rclone ran
    assert remote.stat().st_mtime_ns == remote_mtime

    # a file changed since is sent again
    photo.write_bytes(os.urandom(1200))
    with qtbot.waitSignal(engine.drained, timeout=60_000):
        third = engine.add_paths([photo])
    job = engine.job(third.jobs[0].id)
    assert job is not None and (job.state, job.note) == (JobState.DONE, None)
    assert engine.processes_started == 2
    assert remote.read_bytes() == photo.read_bytes()


def test_skipping_can_be_turned_off(qtbot, tmp_path: Path, engine: Engine) -> None:
    [photo] = make_files(tmp_path, ["a.jpg"])
    with qtbot.waitSignal(engine.drained, timeout=60_000):
        engine.add_paths([photo])
    engine.settings["skip_uploaded"] = False
    with qtbot.waitSignal(engine.drained, timeout=60_000):
        again = engine.add_paths([photo])
    assert engine.processes_started == 2
    job = engine.job(again.jobs[0].id)
    assert job is not None and job.state is JobState.DONE and job.note is None


def test_the_cli_reports_an_already_uploaded_file(
    tmp_path: Path, cli: Cli, configure, sftp_server: Server
) -> None:
    configure(remote="loop", remote_path="/E")
    [photo] = make_files(tmp_path, ["a.jpg"])
    assert cli("upload", "--wait", str(photo)).returncode == 0
    out = cli("upload", "--wait", str(photo))
    assert out.returncode == 0, out.stderr
    notes = [j["note"] for j in status_json(cli)["jobs"]]
    assert notes == [None, ALREADY_UPLOADED]


def test_upload_again_sends_what_skylift_sent_before_headless_and_through_a_running_engine(
    tmp_path: Path, cli: Cli, configure, sftp_server: Server
) -> None:
    configure(remote="loop", remote_path="/E", bwlimit="300k", transfers=1)
    [photo] = make_files(tmp_path / "B", ["b.jpg"], size=2000)
    remote = sftp_server.file("E/b.jpg")
    assert cli("upload", "--wait", str(photo)).returncode == 0
    remote.unlink()  # the remote folder was tidied since
    out = cli("upload", "--wait", str(photo))
    assert out.returncode == 0, out.stderr
    assert "not sent again unless --again is given" in out.stdout
    assert not remote.exists()

    out = cli("upload", "--wait", "--again", str(photo))  # no app running: sent right here
    assert out.returncode == 0, out.stderr
    assert f"uploaded  {photo} -> loop:/E/b.jpg" in out.stdout
    assert remote.read_bytes() == photo.read_bytes()

    # the same through a running engine, busy with another upload
    remote.unlink()
    make_files(tmp_path / "A", [f"a{i}.jpg" for i in range(3)], size=200_000)
    running = cli.popen("upload", "--wait", str(tmp_path / "A"))
    wait_for(lambda: status_json(cli)["uploading"] > 0)
    out = cli("upload", "--wait", "--again", str(photo))
    assert out.returncode == 0, out.stderr
    assert "in the running Skylift" in out.stderr
    assert running.wait(120) == 0
    assert remote.read_bytes() == photo.read_bytes()
    notes = [j["note"] for j in status_json(cli)["jobs"] if j["path"] == str(photo)]
    assert notes == [None, ALREADY_UPLOADED, None, None]


# --- verification ----------------------------------------------------------------------------


def test_uploads_are_verified_by_hash_and_remembered(
    qtbot, tmp_path: Path, verifying: Engine, hashed: Server
) -> None:
    files = make_files(tmp_path / "Set", ["a.jpg", "sub/b.jpg"], size=5000)
    with qtbot.waitSignal(verifying.drained, timeout=60_000):
        result = verifying.add_paths([tmp_path / "Set"])
    jobs = verifying.jobs(ids=[j.id for j in result.jobs])
    assert [(j.state, j.verified) for j in jobs] == [(JobState.DONE, "hash:md5")] * 2
    for f, j in zip(files, jobs, strict=True):
        record = verifying.store.uploaded(str(f), j.destination)
        assert record is not None
        assert record[2] == "md5:" + hashlib.md5(f.read_bytes()).hexdigest()


def test_verification_catches_a_remote_copy_changed_behind_skylifts_back(
    qtbot, tmp_path: Path, verifying: Engine, hashed: Server
) -> None:
    good, tampered = make_files(tmp_path / "Set", ["good.jpg", "tampered.jpg"], size=4000)
    with qtbot.waitSignal(verifying.drained, timeout=60_000):
        result = verifying.add_paths([good, tampered])
    ids = [j.id for j in result.jobs]
    remote = hashed.file("E/tampered.jpg")
    hashed.put("E/tampered.jpg", os.urandom(4000))  # same size, other bytes
    assert remote.read_bytes() != tampered.read_bytes()

    assert sorted(verifying.verify(ids)) == sorted(ids)
    qtbot.waitUntil(lambda: not verifying.checking(), timeout=60_000)
    ok, bad = verifying.jobs(ids=ids)
    assert (ok.state, ok.verified) == (JobState.DONE, "hash:md5")
    assert (bad.state, bad.verified) == (JobState.FAILED, "mismatch")
    assert bad.error is not None and "differs" in bad.error and "MD5" in bad.error
    assert verifying.store.uploaded(str(tampered), bad.destination) is None

    # Retry sends it again, even though size and time would say it is the same file
    with qtbot.waitSignal(verifying.drained, timeout=60_000):
        verifying.retry([bad.id])
    again = verifying.job(bad.id)
    assert again is not None and (again.state, again.verified) == (JobState.DONE, "hash:md5")
    assert remote.read_bytes() == tampered.read_bytes()


def test_a_remote_without_hashes_is_checked_by_size(
    tmp_path: Path, cli: Cli, configure, webdav_server: Server
) -> None:
    configure(remote="dav", remote_path="/E", verify=True, retries=0)
    [photo] = make_files(tmp_path, ["a.jpg"], size=3000)
    assert cli("upload", "--wait", str(photo)).returncode == 0
    [job] = status_json(cli)["jobs"]
    assert (job["state"], job["verified"]) == ("done", "size")

    out = cli("verify", str(job["id"]))
    assert out.returncode == 0, out.stderr
    assert "Verified (size" in out.stdout

    webdav_server.put("E/a.jpg", b"short")
    out = cli("verify", "--all")
    assert out.returncode == 1
    assert "5 bytes, not 3,000" in out.stdout
    [job] = status_json(cli)["jobs"]
    assert (job["state"], job["verified"]) == ("failed", "mismatch")


def test_verify_needs_jobs_to_check(cli: Cli) -> None:
    out = cli("verify")
    assert out.returncode == 2 and "JOB_ID" in out.stderr
    out = cli("verify", "999")
    assert out.returncode == 2 and "999" in out.stderr


# --- presets -----------------------------------------------------------------------------------


def test_presets_from_the_command_line(
    tmp_path: Path, cli: Cli, configure, sftp_server: Server
) -> None:
    configure(remote="loop", remote_path="/Photos")
    out = cli("preset", "add", "Smith wedding", "loop:/Clients/Smith/2026-11")
    assert out.returncode == 0, out.stderr
    assert "loop:/Clients/Smith/2026-11" in cli("preset", "list").stdout
    again = cli("preset", "add", "smith WEDDING", "loop:/x")
    assert again.returncode == 2 and "exists already" in again.stderr
    bad = cli("preset", "add", "Nowhere", "no-colon")
    assert bad.returncode == 2 and "REMOTE:PATH" in bad.stderr

    [photo] = make_files(tmp_path, ["a.jpg"])
    out = cli("upload", "--wait", "--preset", "smith wedding", str(photo))
    assert out.returncode == 0, out.stderr
    landed = sftp_server.file("Clients/Smith/2026-11/a.jpg")
    assert landed.read_bytes() == photo.read_bytes()

    unknown = cli("upload", "--preset", "Jones", str(photo))
    assert unknown.returncode == 2
    assert "no preset called 'Jones'" in unknown.stderr and "Smith wedding" in unknown.stderr
    both = cli("upload", "--preset", "Smith wedding", "--to", "loop:/x", str(photo))
    assert both.returncode == 2

    assert cli("preset", "remove", "SMITH wedding").returncode == 0
    assert "No presets yet" in cli("preset", "list").stdout
    assert cli("preset", "remove", "Smith wedding").returncode == 2


def test_verify_through_the_running_engine(
    qtbot, tmp_path: Path, cli: Cli, configure, sftp_server: Server
) -> None:
    from skylift.entry.service import EngineService

    settings = configure(remote="loop", remote_path="/E", retries=0)
    service = EngineService(settings)
    try:
        good, bad = make_files(tmp_path, ["good.jpg", "bad.jpg"], size=2000)
        with qtbot.waitSignal(service.engine.drained, timeout=60_000):
            ids = [j.id for j in service.engine.add_paths([good, bad]).jobs]
        sftp_server.put("E/bad.jpg", b"truncated")
        proc = cli.popen("verify", *map(str, ids))
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
        out, err = proc.communicate()
        assert proc.returncode == 1, err
        lines = out.splitlines()
        assert len(lines) == 2
        assert "Verified (size" in lines[0] and "good.jpg" in lines[0]
        assert "9 bytes, not 2,000" in lines[1] and "bad.jpg" in lines[1]
        states = {j.id: j.state for j in service.engine.jobs(ids=ids)}
        assert states == {ids[0]: JobState.DONE, ids[1]: JobState.FAILED}
    finally:
        service.close()
