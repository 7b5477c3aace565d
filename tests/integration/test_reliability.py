"""Faults and bad input (docs/reliability.md): real processes, a real loopback cloud."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from skylift.core import engine as engine_module
from skylift.core import paths
from skylift.core.engine import Engine
from skylift.core.settings import Settings
from skylift.core.store import JobState, Store
from skylift.entry.ipc import MAX_MESSAGE, Client
from tests.conftest import (
    Cli,
    Server,
    fill,
    make_files,
    queue_held,
    small_disk,
    status_json,
    wait_for,
)

FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@pytest.fixture
def engine(qtbot, sftp_server: Server) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    settings = Settings({"remote": "loop", "remote_path": "/R", "retries": 1, "retry_delay": 0.2})
    store = Store()
    e = Engine(settings, store)
    yield e
    e.shutdown()
    store.close()


def finished(engine: Engine, ids: list[int]) -> bool:
    return all(j.state in FINISHED for j in engine.jobs(ids=ids))


def rclone_children() -> list[int]:
    """The rclone uploads this test process started (not its rclone servers)."""
    me = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
                cmd = (entry / "cmdline").read_bytes()
            except (OSError, IndexError):
                continue
            if fields[1] == me and b"--files-from-raw" in cmd and fields[0] != "Z":
                found.append(int(entry.name))
    return found


# --- crashes ------------------------------------------------------------------------------


def test_rclone_killed_mid_batch_is_retried(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    engine.settings["bwlimit"] = "500k"
    files = make_files(tmp_path / "S", [f"{i}.jpg" for i in range(4)], size=200_000)
    ids = [j.id for j in engine.add_paths([tmp_path / "S"]).jobs]
    pids = qtbot.waitUntil(lambda: bool(rclone_children()), timeout=30_000) or rclone_children()
    for pid in pids:
        os.kill(pid, 9)
    qtbot.waitUntil(lambda: finished(engine, ids), timeout=120_000)
    assert [(j.state, j.error) for j in engine.jobs(ids=ids)] == [(JobState.DONE, None)] * 4
    for f in files:
        assert sftp_server.file(f"R/S/{f.name}").read_bytes() == f.read_bytes()
    assert engine.counts()["done"] == 4 and sum(engine.counts().values()) == 4


# --- store integrity -------------------------------------------------------------------


def test_corrupt_queue_is_reported_and_kept(cli: Cli, profile: Path) -> None:
    db = profile / "data" / "skylift" / "queue.sqlite3"
    db.parent.mkdir(mode=0o700)
    garbage = os.urandom(8192)
    db.write_bytes(garbage)
    out = cli("status")
    assert out.returncode == 2
    assert "damaged" in out.stderr and "move it aside" in out.stderr
    assert db.read_bytes() == garbage  # never a silent reset


def test_locked_queue_is_reported(cli: Cli, tmp_path: Path, configure) -> None:
    configure(remote="loop")
    Store().close()
    (f,) = make_files(tmp_path, ["a.jpg"])
    with queue_held(Path(os.environ["XDG_DATA_HOME"]) / "skylift" / "queue.sqlite3"):
        out = cli("upload", str(f), timeout=60)
    assert out.returncode == 2
    assert "locked by another program" in out.stderr


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    with small_disk(mnt, "size=256k") as d:
        yield d


def test_full_disk_loses_nothing(
    cli: Cli, tmp_path: Path, tiny_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tiny_disk / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tiny_disk / "data"))
    assert cli("config", "set", "remote", "loop").returncode == 0
    files = make_files(tmp_path, ["a.jpg", "b.jpg"])
    assert cli("upload", str(files[0])).returncode == 0
    fill(tiny_disk)
    out = cli("config", "set", "remote_path", "/Elsewhere")
    assert out.returncode == 2 and "could not be saved" in out.stderr
    assert cli("config", "get", "remote").stdout.strip() == "loop"
    many = make_files(tmp_path / "many", [f"{i:05d}-{'x' * 80}.jpg" for i in range(3000)], 1)
    out = cli("upload", str(tmp_path / "many"))
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    (tiny_disk / "filler").unlink()
    status = status_json(cli)
    assert [j["path"] for j in status["jobs"]] == [str(files[0])]  # the first is still there
    assert len(many) == 3000


def room_again(  # type: ignore[no-untyped-def]
    qtbot, engine: Engine, ids: list[int], filler: Path | None, server: Server, files: list[Path]
) -> None:
    """Free the space: the engine goes on by itself, and every file arrives whole."""
    if filler is not None:
        filler.unlink()
    qtbot.waitUntil(lambda: finished(engine, ids), timeout=120_000)
    assert [(j.state, j.error) for j in engine.jobs(ids=ids)] == [(JobState.DONE, None)] * len(ids)
    assert engine.problem == ""
    for f in files:
        assert server.file(f"R/S/{f.name}").read_bytes() == f.read_bytes()


def test_disk_filling_up_during_an_upload_loses_nothing(
    qtbot, tmp_path: Path, tiny_disk: Path, sftp_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "QUEUE_RETRY_MS", 300)
    monkeypatch.setenv("XDG_DATA_HOME", str(tiny_disk / "data"))  # the queue is on it
    store = Store()
    settings = Settings({"remote": "loop", "remote_path": "/R", "bwlimit": "300k"})
    engine = Engine(settings, store)
    try:
        files = make_files(tmp_path / "S", [f"{i}.jpg" for i in range(4)], size=150_000)
        ids = [j.id for j in engine.add_paths([tmp_path / "S"]).jobs]
        qtbot.waitUntil(lambda: bool(engine.job_progress(ids[0])), timeout=30_000)
        fill(tiny_disk)  # the photographer's disk fills up while the upload runs
        qtbot.waitUntil(lambda: bool(engine.problem), timeout=60_000)
        assert engine.problem.startswith(
            f"Skylift could not save its upload queue in {tiny_disk / 'data' / 'skylift'} ("
        )
        assert engine.problem.endswith("Nothing queued is lost.")
        assert not engine.problem_is_rclone
        room_again(qtbot, engine, ids, tiny_disk / "filler", sftp_server, files)
    finally:
        engine.shutdown()
        store.close()


def test_a_batch_the_queue_cannot_record_does_not_start(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "QUEUE_RETRY_MS", 300)
    engine.pause()
    files = make_files(tmp_path / "S", ["a.jpg", "b.jpg"])
    ids = [j.id for j in engine.add_paths([tmp_path / "S"]).jobs]
    with queue_held(engine.store.path):
        engine.resume()  # the batch cannot be marked uploading (after 5 s of waiting)
        qtbot.waitUntil(lambda: bool(engine.problem), timeout=30_000)
    assert "could not save its upload queue" in engine.problem
    assert "(database is locked)" in engine.problem
    assert engine.processes_started == 0  # no rclone ran for files it could not record
    batches = paths.data_dir() / "batches"
    assert not [p for p in batches.iterdir() if p.suffix in (".list", ".log")]  # tidied
    room_again(qtbot, engine, ids, None, sftp_server, files)


def test_no_room_for_the_batch_list_keeps_files_queued(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server, full_batches: Path, monkeypatch
) -> None:
    monkeypatch.setattr(engine_module, "NO_ROOM_RETRY_MS", 300)
    files = make_files(tmp_path / "S", ["a.jpg", "b.jpg", "c.jpg"])
    ids = [j.id for j in engine.add_paths([tmp_path / "S"]).jobs]
    qtbot.waitUntil(lambda: bool(engine.problem), timeout=30_000)
    assert engine.problem == (
        f"Skylift could not write in {full_batches} (No space left on device); the files "
        "stay queued and are sent once there is room."
    )
    assert not engine.problem_is_rclone
    assert [(j.state, j.attempts) for j in engine.jobs(ids=ids)] == [(JobState.QUEUED, 0)] * 3
    assert engine.processes_started == 0
    room_again(qtbot, engine, ids, full_batches / "filler", sftp_server, files)
    qtbot.waitUntil(lambda: not list(full_batches.iterdir()), timeout=10_000)


def test_upload_wait_with_no_room_says_so_and_keeps_the_files(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server, full_batches: Path
) -> None:
    configure(remote="loop")
    files = make_files(tmp_path / "S", ["a.jpg", "b.jpg"])
    out = cli("upload", "--wait", str(tmp_path / "S"))
    assert out.returncode == 1, out.stderr
    assert f"skylift: Skylift could not write in {full_batches}" in out.stderr
    assert "Traceback" not in out.stderr
    status = status_json(cli)
    assert sorted((j["path"], j["state"]) for j in status["jobs"]) == [
        (str(f), "queued") for f in files
    ]


# --- network ------------------------------------------------------------------------------


@pytest.fixture
def silent_server(no_gc_in_threads: None) -> Iterator[int]:
    """A TCP server that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    for c in held:
        c.close()
    srv.close()


def test_server_that_never_answers_stalls_and_fails_plainly(
    qtbot, tmp_path: Path, silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCLONE_CONFIG_MUTE_TYPE", "sftp")
    monkeypatch.setenv("RCLONE_CONFIG_MUTE_HOST", "127.0.0.1")
    monkeypatch.setenv("RCLONE_CONFIG_MUTE_PORT", str(silent_server))
    monkeypatch.setenv("RCLONE_CONFIG_MUTE_USER", "x")
    monkeypatch.setenv("RCLONE_CONFIG_MUTE_PASS", "Bc6vV9FbqqS1hsN5e8YlmV4W6C4")
    settings = Settings({"remote": "mute", "retries": 0, "stall_timeout": 3})
    store = Store()
    engine = Engine(settings, store)
    try:
        (f,) = make_files(tmp_path, ["a.jpg"])
        job_id = engine.add_paths([f]).jobs[0].id
        qtbot.waitUntil(lambda: finished(engine, [job_id]), timeout=60_000)
        job = engine.job(job_id)
        assert job is not None and job.state is JobState.FAILED
        assert job.error == "The transfer stalled (no data for 3 seconds)."
    finally:
        engine.shutdown()
        store.close()


def test_dns_failure_is_plain(cli: Cli, monkeypatch: pytest.MonkeyPatch, sftp_server) -> None:
    monkeypatch.setenv("RCLONE_CONFIG_GONE_TYPE", "sftp")
    monkeypatch.setenv("RCLONE_CONFIG_GONE_HOST", "no-such-host.invalid")
    monkeypatch.setenv("RCLONE_CONFIG_GONE_USER", "x")
    monkeypatch.setenv("RCLONE_CONFIG_GONE_PASS", os.environ["RCLONE_CONFIG_LOOP_PASS"])
    out = cli("test-connection", "gone:/")
    assert out.returncode == 1
    assert "address could not be found" in out.stderr


def test_one_offline_signal_per_outage(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    engine.settings["retries"] = 0
    changes: list[bool] = []
    engine.onlineChanged.connect(changes.append)
    sftp_server.stop()
    for batch in range(3):  # three drops during one outage
        files = make_files(tmp_path / f"d{batch}", ["a.jpg", "b.jpg"])
        ids = [j.id for j in engine.add_paths(files).jobs]
        qtbot.waitUntil(lambda ids=ids: finished(engine, ids), timeout=60_000)
    assert changes == [False]
    sftp_server.start()
    qtbot.waitUntil(lambda: changes == [False, True], timeout=60_000)
    qtbot.waitUntil(lambda: engine.counts()["done"] == 6, timeout=60_000)


def test_wake_restarts_transfers_without_failures(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    engine.settings["bwlimit"] = "400k"
    engine.settings["retries"] = 0
    files = make_files(tmp_path, ["a.jpg", "b.jpg"], size=300_000)
    ids = [j.id for j in engine.add_paths(files).jobs]
    qtbot.waitUntil(lambda: engine.counts()["uploading"] == 2, timeout=30_000)
    engine.woke()
    qtbot.waitUntil(lambda: finished(engine, ids), timeout=120_000)
    assert [j.state for j in engine.jobs(ids=ids)] == [JobState.DONE] * 2
    assert [j.attempts for j in engine.jobs(ids=ids)] == [1, 1]


# --- bad input ----------------------------------------------------------------------------


def test_empty_folder_fifo_and_device(cli: Cli, tmp_path: Path, configure) -> None:
    configure(remote="loop")
    (tmp_path / "empty").mkdir()
    os.mkfifo(tmp_path / "pipe")
    out = cli("upload", str(tmp_path / "empty"))
    assert out.returncode == 2 and "no files in it" in out.stderr
    out = cli("upload", str(tmp_path / "pipe"), "/dev/null")
    assert out.returncode == 2
    assert out.stderr.count("is not a regular file") == 2


def test_zero_byte_long_name_and_symlinks(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server
) -> None:
    configure(remote="loop")
    src = tmp_path / "Odd"
    src.mkdir()
    (src / "empty.jpg").write_bytes(b"")
    long_name = "L" * 251 + ".jpg"  # 255 bytes, the most a name may have
    (src / long_name).write_bytes(b"long")
    real = make_files(tmp_path / "elsewhere", ["real.jpg"])[0]
    os.symlink(real, src / "link.jpg")
    os.symlink(src, src / "loop")  # a folder that contains itself
    os.symlink(tmp_path / "nowhere", src / "broken.jpg")
    out = cli("upload", "--wait", str(src))
    assert out.returncode == 0, out.stderr
    assert "broken.jpg is a broken symbolic link" in out.stderr
    assert sftp_server.file("Odd/empty.jpg").read_bytes() == b""
    assert sftp_server.file(f"Odd/{long_name}").read_bytes() == b"long"
    assert sftp_server.file("Odd/link.jpg").read_bytes() == real.read_bytes()
    assert status_json(cli)["done"] == 3


def test_file_over_4_gb_is_queued_with_its_size(cli: Cli, tmp_path: Path, configure) -> None:
    configure(remote="loop", enabled=False)
    big = tmp_path / "huge.tif"
    with open(big, "wb") as f:
        f.truncate(4 * 1024**3 + 17)  # sparse: no disk used
    cli("upload", "--wait", str(big))
    (job,) = status_json(cli)["jobs"]
    assert job["size"] == 4 * 1024**3 + 17 and job["state"] == "queued"


def test_a_hundred_thousand_files_in_one_drop(tmp_path: Path, configure) -> None:
    from skylift.core.planner import plan

    folder = tmp_path / "Archive"
    folder.mkdir()
    for i in range(100_000):
        (folder / f"{i:06d}.jpg").touch()
    planned, rejected = plan([folder], "loop:/A")
    assert len(planned) == 100_000 and not rejected
    store = Store()
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    jobs, added = store.add([(p.path, p.destination, p.size, p.mtime) for p in planned])
    assert added == 100_000 and len(jobs) == 100_000
    assert sum(s.startswith("BEGIN") for s in statements) == 1
    assert store.counts()["queued"] == 100_000


def test_remote_that_does_not_exist(cli: Cli, tmp_path: Path, configure) -> None:
    configure(remote="nosuch", retries=0)
    (f,) = make_files(tmp_path, ["a.jpg"])
    out = cli("upload", "--wait", str(f))
    assert out.returncode == 1
    (job,) = status_json(cli)["jobs"]
    assert job["state"] == "failed"
    assert "'nosuch' does not exist" in job["error"]


def test_encrypted_config_without_password(
    cli: Cli, tmp_path: Path, configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "enc.conf"
    conf.write_text("# Encrypted rclone configuration File\n\nRCLONE_ENCRYPT_V0:\nAAAA\n")
    monkeypatch.setenv("RCLONE_CONFIG", str(conf))
    configure(remote="loop")
    (f,) = make_files(tmp_path, ["a.jpg"])
    out = cli("upload", "--wait", str(f), timeout=60)
    assert out.returncode == 3
    assert "RCLONE_CONFIG_PASS" in out.stderr
    out = cli("test-connection", timeout=60)
    assert out.returncode != 0 and "RCLONE_CONFIG_PASS" in out.stderr


def test_destination_the_remote_refuses(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server
) -> None:
    configure(remote="loop", retries=0)
    sftp_server.file("Photos").write_bytes(b"a file where a folder should be")
    (f,) = make_files(tmp_path, ["a.jpg"])
    out = cli("upload", "--wait", "--to", "loop:/Photos", str(f))
    assert out.returncode == 1
    (job,) = status_json(cli)["jobs"]
    assert job["state"] == "failed" and job["error"].endswith(".")
    assert sftp_server.file("Photos").read_bytes() == b"a file where a folder should be"


# --- security -----------------------------------------------------------------------------


def test_private_files_and_no_secrets_in_logs(
    cli: Cli,
    tmp_path: Path,
    profile: Path,
    configure,
    sftp_server: Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RCLONE_CONFIG_PASS", "config-pass-never-logged")
    configure(remote="loop", retries=0)
    (f,) = make_files(tmp_path, ["a.jpg"])
    assert cli("--debug", "upload", "--wait", str(f)).returncode == 0
    sftp_server.stop()
    assert cli("--debug", "upload", "--wait", "--to", "loop:/x", str(f)).returncode == 1
    obscured = os.environ["RCLONE_CONFIG_LOOP_PASS"]
    secrets = [sftp_server.password, obscured, "config-pass-never-logged"]
    texts = [p.read_text(errors="replace") for p in profile.rglob("*.log*")]
    texts.append(cli("status", "--json").stdout)
    assert texts[0]  # the log was written
    for text in texts:
        for secret in secrets:
            assert secret not in text
    for path in profile.rglob("*"):
        if path.is_relative_to(profile / "cache") or path.name == "rclone.conf":
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir():
            assert mode == 0o700, path
        elif path.is_file():
            assert mode == 0o600, path


def test_ipc_refuses_bad_messages(cli: Cli, tmp_path: Path, configure, sftp_server: Server) -> None:
    configure(remote="loop", bwlimit="100k")
    make_files(tmp_path / "A", ["a.jpg"], size=300_000)
    running = cli.popen("upload", "--wait", str(tmp_path / "A"))
    try:
        wait_for(lambda: Client().connect())
        c = Client()
        assert c.request("ping") == {"ok": True}
        for bad in (
            {"cmd": "rm"},
            {"cmd": "upload", "paths": ["x"], "to": "--config=/etc/passwd:x"},
            {"cmd": "upload", "paths": ["--dry-run"], "flags": ["-vv"]},
            {"cmd": "upload", "paths": "not a list"},
            {"cmd": "upload", "paths": ["a"], "cwd": "relative"},
            {"cmd": "cancel", "ids": ["1; drop table jobs"]},
        ):
            reply = c.request(**bad)  # type: ignore[arg-type]
            assert reply["ok"] is False and reply["error"], bad
        sock = socket.socket(socket.AF_UNIX)
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "skylift" / "skylift.sock"
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
        assert stat.S_IMODE(path.with_name("engine.lock").stat().st_mode) == 0o600
        sock.connect(str(path))
        sock.sendall(b"{not json}\n")
        assert json.loads(sock.makefile().readline())["ok"] is False
        # the engine may hang up on the oversized message before it is all sent
        with contextlib.suppress(OSError):
            sock.sendall(b"x" * (MAX_MESSAGE + 1024))
        sock.close()
        assert Client().request("ping") == {"ok": True}  # still serving
    finally:
        running.kill()
        running.wait()


def test_read_only_queue_is_reported(
    cli: Cli, tmp_path: Path, tiny_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tiny_disk / "data"))
    configure_remote = cli("config", "set", "remote", "loop")
    assert configure_remote.returncode == 0
    files = make_files(tmp_path, ["a.jpg", "b.jpg"])
    assert cli("upload", str(files[0])).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    out = cli("upload", str(files[1]))
    assert out.returncode == 2
    assert "cannot be written" in out.stderr and "Traceback" not in out.stderr
    status = status_json(cli)  # reading still works
    assert [j["path"] for j in status["jobs"]] == [str(files[0])]
