"""The "wait" request: a client following its uploads is answered when they change.

The engine runs here, on the test's event loop; the client asks from a thread, as
another process would, so the engine keeps serving while the client waits.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skylift.core.settings import Settings
from skylift.core.store import JobState
from skylift.entry.ipc_client import Client
from skylift.entry.service import EngineService
from tests.conftest import Server, make_files


class Asked:
    """One request sent from a thread; ``reply`` once the engine has answered."""

    def __init__(self, client: Client, cmd: str, **fields: Any):
        self.reply: dict[str, Any] | None = None
        self._thread = threading.Thread(target=self._run, args=(client, cmd, fields))
        self._thread.start()

    def _run(self, client: Client, cmd: str, fields: dict[str, Any]) -> None:
        self.reply = client.request(cmd, **fields)

    def answered(self) -> bool:
        return self.reply is not None


def ask(qtbot: Any, client: Client, cmd: str, **fields: Any) -> dict[str, Any]:
    asked = Asked(client, cmd, **fields)
    qtbot.waitUntil(asked.answered, timeout=30_000)
    assert asked.reply is not None
    return asked.reply


pytestmark = pytest.mark.usefixtures("no_gc_in_threads")  # the clients ask from threads


@pytest.fixture
def service(qtbot: Any, sftp_server: Server) -> Iterator[EngineService]:
    svc = EngineService(Settings({"remote": "loop", "remote_path": "/W", "retries": 0}))
    svc.engine.pause()  # nothing uploads until a test says so
    yield svc
    svc.close()


_CLIENT = (
    "import sys\n"
    "from skylift.entry.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "heavy = ('PySide6', 'skylift.core.planner', 'skylift.core.store', 'skylift.core.logs',\n"
    "         'skylift.core.rclone_binary', 'skylift.core.settings', 'platformdirs', 'typing')\n"
    "print(' '.join(m for m in heavy if m in sys.modules))\n"
    "sys.exit(code)\n"
)


def run_client(qtbot: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """``skylift ARGS`` in another process, printing which heavy modules it loaded."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLIENT, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def queue(qtbot: Any, client: Client, folder: Path) -> list[int]:
    reply = ask(qtbot, client, "upload", paths=[str(folder)])
    assert reply["ok"], reply
    return list(reply["ids"])


def test_a_wait_is_answered_when_one_of_its_jobs_changes(
    qtbot: Any, tmp_path: Path, service: EngineService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skylift.entry import waiters

    monkeypatch.setattr(waiters, "WAIT_MAX_S", 600.0)  # only news answers it here
    make_files(tmp_path / "Set", ["a.jpg", "b.jpg"])
    client = Client()
    assert client.connect()
    ids = queue(qtbot, client, tmp_path / "Set")
    first = ask(qtbot, client, "wait", ids=ids)  # no "since": every job, at once
    assert sorted(j["id"] for j in first["jobs"]) == sorted(ids)
    # not ended yet: each comes with its progress only, however many there are
    assert {tuple(j) for j in first["jobs"]} == {("id", "state", "size", "bytes")}
    assert {(j["state"], j["size"], j["bytes"]) for j in first["jobs"]} == {("queued", 1000, 0)}

    later = Asked(client, "wait", ids=ids, since=first["seq"])
    qtbot.waitUntil(lambda: service.waiters.pending() == 1, timeout=10_000)
    assert service.engine.cancel([ids[1]]) == [ids[1]]
    qtbot.waitUntil(later.answered, timeout=10_000)
    assert later.reply is not None and later.reply["ok"]
    assert [(j["id"], j["state"]) for j in later.reply["jobs"]] == [(ids[1], "cancelled")]
    (ended,) = later.reply["jobs"]  # ended: the whole row, for the follower to print
    assert ended["path"] == str(tmp_path / "Set" / "b.jpg")
    assert ended["destination"] == "loop:/W/Set/b.jpg"
    assert later.reply["seq"] > first["seq"]
    assert service.waiters.pending() == 0
    client.close()


def test_a_wait_since_the_hand_over_hears_only_what_changed_after_it(
    qtbot: Any, tmp_path: Path, service: EngineService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skylift.entry import waiters

    monkeypatch.setattr(waiters, "WAIT_MAX_S", 600.0)  # only news answers it here
    make_files(tmp_path / "Set", ["a.jpg", "b.jpg", "c.jpg"])
    client = Client()
    assert client.connect()
    handed = ask(qtbot, client, "upload", paths=[str(tmp_path / "Set")])
    ids = handed["ids"]
    later = Asked(client, "wait", ids=ids, since=handed["seq"])
    qtbot.waitUntil(lambda: service.waiters.pending() == 1, timeout=10_000)  # nothing new
    assert service.engine.cancel([ids[2]]) == [ids[2]]
    qtbot.waitUntil(later.answered, timeout=10_000)
    assert later.reply is not None
    assert [(j["id"], j["state"]) for j in later.reply["jobs"]] == [(ids[2], "cancelled")]
    client.close()


def test_a_wait_since_the_hand_over_hears_of_a_file_already_uploaded(
    qtbot: Any,
    tmp_path: Path,
    service: EngineService,
    sftp_server: Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Handed over again, an uploaded file ends at once ("unchanged"): that end is
    news to the client, which would otherwise sit out a whole wait for it."""
    from skylift.entry import waiters

    monkeypatch.setattr(waiters, "WAIT_MAX_S", 600.0)  # only news answers it here
    (f,) = make_files(tmp_path / "Set", ["a.jpg"])
    service.engine.resume()
    client = Client()
    assert client.connect()
    first = ask(qtbot, client, "upload", paths=[str(f)])
    qtbot.waitUntil(
        lambda: service.engine.jobs(first["ids"])[0].state is JobState.DONE, timeout=30_000
    )
    again = ask(qtbot, client, "upload", paths=[str(f)])
    reply = ask(qtbot, client, "wait", ids=again["ids"], since=again["seq"])
    assert [(j["id"], j["state"]) for j in reply["jobs"]] == [(again["ids"][0], "done")]
    assert sftp_server.file("W/a.jpg").read_bytes() == f.read_bytes()
    client.close()


def test_a_change_between_two_waits_is_not_missed(
    qtbot: Any, tmp_path: Path, service: EngineService
) -> None:
    make_files(tmp_path / "Set", ["a.jpg", "b.jpg"])
    client = Client()
    assert client.connect()
    ids = queue(qtbot, client, tmp_path / "Set")
    first = ask(qtbot, client, "wait", ids=ids)
    # the job changes, and listeners hear of it, before the client asks again
    with qtbot.waitSignal(service.engine.jobsChanged, timeout=10_000):
        service.engine.cancel([ids[0]])
    reply = ask(qtbot, client, "wait", ids=ids, since=first["seq"])
    assert [(j["id"], j["state"]) for j in reply["jobs"]] == [(ids[0], "cancelled")]
    client.close()


def test_a_client_that_hangs_up_while_waiting_is_forgotten(
    qtbot: Any, tmp_path: Path, service: EngineService
) -> None:
    make_files(tmp_path / "Set", ["a.jpg"])
    client = Client()
    assert client.connect()
    ids = queue(qtbot, client, tmp_path / "Set")
    seq = ask(qtbot, client, "wait", ids=ids)["seq"]
    raw = Client()
    assert raw.connect() and raw._sock is not None
    raw._sock.sendall(f'{{"cmd": "wait", "ids": [{ids[0]}], "since": {seq}}}\n'.encode())
    qtbot.waitUntil(lambda: service.waiters.pending() == 1, timeout=10_000)
    raw.close()
    service.engine.cancel(ids)
    qtbot.waitUntil(lambda: service.waiters.pending() == 0, timeout=10_000)
    assert ask(qtbot, client, "ping") == {"ok": True}  # still serving
    client.close()


def test_bad_since_is_refused(qtbot: Any, service: EngineService) -> None:
    client = Client()
    assert client.connect()
    for bad in (-1, "3", True, 1.5):
        reply = ask(qtbot, client, "wait", ids=[1], since=bad)
        assert reply["ok"] is False and "since" in reply["error"], bad
    client.close()


def test_upload_wait_follows_the_running_engine_by_waiting_not_polling(
    qtbot: Any, tmp_path: Path, service: EngineService, sftp_server: Server
) -> None:
    files = make_files(tmp_path / "Set", [f"{i:02d}.jpg" for i in range(30)], size=2000)
    asked: list[str] = []
    handle, wait = service.handle, service.waiters.wait

    def counting_handle(msg: dict[str, Any]) -> dict[str, Any]:
        asked.append(msg["cmd"])
        return handle(msg)

    def counting_wait(msg: dict[str, Any], reply: Any) -> None:
        asked.append(msg["cmd"])
        wait(msg, reply)

    service.server._handler = counting_handle
    service.server.deferred = counting_wait
    service.engine.resume()
    out = run_client(qtbot, "upload", "--wait", "--to", "loop:/W", str(tmp_path / "Set"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("uploaded  ") == 30
    assert out.stdout.splitlines()[-1] == ""  # following the app needs no engine modules
    assert "jobs" not in asked  # followed by "wait", not by polling every job
    assert asked[0] == "upload" and "wait" in asked
    assert {j.state for j in service.engine.jobs()} == {JobState.DONE}
    for f in files:
        assert sftp_server.file(f"W/Set/{f.name}").read_bytes() == f.read_bytes()


def test_a_lock_held_by_another_process_is_seen_without_qt(tmp_path: Path) -> None:
    from skylift.entry.ipc import lock_path
    from skylift.entry.ipc_client import engine_lock_held

    assert not engine_lock_held()  # no lock file
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from skylift.entry.ipc import EngineLock\n"
            "lock = EngineLock()\n"
            "print(lock.acquire(), flush=True)\n"
            "sys.stdin.read()\n"
            "lock.release()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        assert engine_lock_held()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(30)
    assert not engine_lock_held()  # released
    # a lock file left by a process that is gone
    Path(lock_path()).write_text(f"{holder.pid}\npython3\nhost\n")
    assert not engine_lock_held()


def test_the_engine_checks_rclone_in_the_background_when_it_starts(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skylift.core import rclone_binary

    monkeypatch.setattr(rclone_binary, "_cache", {})
    path = rclone_binary.unchecked()
    assert path is not None  # a fresh profile: rclone's version is not known yet
    svc = EngineService(Settings({"remote": "loop", "remote_path": "/W"}))
    try:
        qtbot.waitUntil(lambda: rclone_binary.unchecked() is None, timeout=30_000)
    finally:
        svc.close()
    monkeypatch.setattr(rclone_binary, "_cache", {})
    assert rclone_binary.unchecked() is None  # kept on disk for the next process
    assert rclone_binary.find().path == path


def test_an_rclone_version_answer_that_is_refused_is_not_kept(tmp_path: Path) -> None:
    from skylift.core import rclone_binary

    fake = tmp_path / "rclone"
    fake.write_text("#!/bin/sh\necho 'rclone v1.50.0'\n")
    fake.chmod(0o755)
    assert rclone_binary.unchecked(str(fake)) == str(fake)
    rclone_binary.remember(str(fake), "rclone v1.50.0\n")
    rclone_binary.remember(str(fake), "not rclone\n")
    assert rclone_binary.unchecked(str(fake)) == str(fake)
    with pytest.raises(rclone_binary.RcloneError, match="too old"):
        rclone_binary.find(str(fake))
    rclone_binary.remember(str(fake), "rclone v1.66.0\n- os/version: x\n")
    assert rclone_binary.unchecked(str(fake)) is None
    assert rclone_binary.find(str(fake)).version == (1, 66, 0)


def test_a_wait_with_no_news_is_answered_with_every_job_afresh(
    qtbot: Any, tmp_path: Path, service: EngineService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skylift.entry import waiters

    monkeypatch.setattr(waiters, "WAIT_MAX_S", 0.0)
    make_files(tmp_path / "Set", ["a.jpg", "b.jpg"])
    client = Client()
    assert client.connect()
    ids = queue(qtbot, client, tmp_path / "Set")
    seq = ask(qtbot, client, "wait", ids=ids)["seq"]
    reply = ask(qtbot, client, "wait", ids=ids, since=seq)  # paused: nothing changes
    assert sorted(j["id"] for j in reply["jobs"]) == sorted(ids)
    assert {j["state"] for j in reply["jobs"]} == {"queued"}
    client.close()


def test_handing_files_over_loads_neither_qt_nor_the_queue_and_uses_the_apps_destination(
    qtbot: Any, tmp_path: Path, service: EngineService
) -> None:
    make_files(tmp_path / "Set", ["a.jpg", "b.jpg", "c.jpg"])
    out = run_client(qtbot, "upload", str(tmp_path / "Set"))
    assert out.returncode == 0, out.stderr
    assert "Queued 3 file(s) for loop:/W in the running Skylift." in out.stderr
    assert out.stdout.strip() == ""  # the app planned the files; this process loaded none
    assert sorted(j.destination for j in service.engine.jobs()) == [
        "loop:/W/Set/a.jpg",
        "loop:/W/Set/b.jpg",
        "loop:/W/Set/c.jpg",
    ]


def test_a_missing_path_handed_to_the_app_queues_nothing(
    qtbot: Any, tmp_path: Path, service: EngineService
) -> None:
    (f,) = make_files(tmp_path, ["a.jpg"])
    out = run_client(qtbot, "upload", "--to", "loop:/W", str(f), str(tmp_path / "gone.jpg"))
    assert out.returncode == 2
    assert "gone.jpg does not exist; nothing was queued." in out.stderr
    assert service.engine.jobs() == []


def test_a_bad_remote_name_handed_to_the_app_is_refused_by_it_in_the_same_words(
    qtbot: Any, tmp_path: Path, service: EngineService
) -> None:
    (f,) = make_files(tmp_path, ["a.jpg"])
    out = run_client(qtbot, "upload", "--to", "my/box:/W", str(f))
    assert out.returncode == 2
    assert "skylift: remote 'my/box' is not an rclone remote name" in out.stderr
    assert out.stdout.strip() == ""  # the app checked the name: no settings loaded here
    assert service.engine.jobs() == []


def test_a_folder_without_files_handed_to_the_app_is_bad_input(
    qtbot: Any, tmp_path: Path, service: EngineService
) -> None:
    (tmp_path / "Empty").mkdir()
    (tmp_path / "Empty" / ".hidden").write_bytes(b"x")
    out = run_client(qtbot, "upload", "--wait", str(tmp_path / "Empty"))
    assert out.returncode == 2
    assert "is a folder with no files in it; skipped." in out.stderr
    assert "there is no file to upload in what was given." in out.stderr
    assert service.engine.jobs() == []


def test_files_handed_over_start_uploading_before_the_window_hears_of_them(
    qtbot: Any, tmp_path: Path, service: EngineService, sftp_server: Server
) -> None:
    files = make_files(tmp_path / "Set", [f"{i:02d}.jpg" for i in range(20)], size=1000)
    seen: list[tuple[int, set[JobState]]] = []

    def added(ids: list[int]) -> None:
        states = {j.state for j in service.engine.jobs(ids=ids)}
        seen.append((service.engine.processes_started, states))

    service.engine.jobsAdded.connect(added)
    service.engine.resume()
    client = Client()
    assert client.connect()
    ids = queue(qtbot, client, tmp_path / "Set")
    assert seen == [(1, {JobState.UPLOADING})]  # rclone was running when rows were announced
    qtbot.waitUntil(
        lambda: all(j.state is JobState.DONE for j in service.engine.jobs(ids=ids)),
        timeout=60_000,
    )
    for f in files:
        assert sftp_server.file(f"W/Set/{f.name}").read_bytes() == f.read_bytes()
