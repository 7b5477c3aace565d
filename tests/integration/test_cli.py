"""The `skylift` command, run as a child process, against a real loopback rclone server."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
from pathlib import Path

from tests.conftest import Cli, Server, make_files, status_json, wait_for


def test_version(cli: Cli) -> None:
    out = cli("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("skylift ")


def test_a_bad_remote_name_in_to_is_refused_without_a_running_app(cli: Cli, tmp_path: Path) -> None:
    (f,) = make_files(tmp_path, ["a.jpg"])
    out = cli("upload", "--wait", "--to", "my/box:/W", str(f))
    assert out.returncode == 2
    assert "skylift: remote 'my/box' is not an rclone remote name" in out.stderr
    assert status_json(cli)["total"] == 0  # nothing was queued


def test_help_lists_every_command_and_each_command_has_its_own(cli: Cli) -> None:
    out = cli("--help")
    assert out.returncode == 0
    listed = out.stdout.split("positional arguments:")[1].split("options:")[0]
    for command in ("upload", "drain", "status", "history", "retry", "cancel", "watch"):
        assert f"    {command} " in listed or f"    {command}\n" in listed
    assert "SUPPRESS" not in out.stdout and " gui " not in listed
    up = cli("upload", "--help")
    assert up.returncode == 0
    assert "--to REMOTE:PATH" in up.stdout and "--wait" in up.stdout
    wrong = cli("config", "nonsense")
    assert wrong.returncode == 2 and "invalid choice: 'nonsense'" in wrong.stderr


def test_config_show_get_set(cli: Cli, profile: Path) -> None:
    assert cli("config", "set", "remote", "dropbox:").returncode == 0
    assert cli("config", "get", "remote").stdout.strip() == "dropbox"
    assert cli("config", "set", "bwlimit", "08:00,512k 18:00,10M 23:00,off").returncode == 0
    assert cli("config", "get", "bwlimit").stdout.strip() == "08:00,512k 18:00,10M 23:00,off"
    shown = cli("config", "show").stdout
    for key in (
        "enabled",
        "remote",
        "remote_path",
        "transfers",
        "bwlimit",
        "retries",
        "retry_delay",
        "rclone_path",
        "notify",
        "start_at_login",
    ):
        assert f"{key} = " in shown
    settings = profile / "config" / "skylift" / "settings.json"
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.parent.stat().st_mode) == 0o700


def test_config_refuses_bad_values(cli: Cli) -> None:
    out = cli("config", "set", "transfers", "100")
    assert out.returncode == 2
    assert "transfers must be a whole number from 1 to 64" in out.stderr
    out = cli("config", "set", "bwlimit", "fast")
    assert out.returncode == 2 and "bwlimit" in out.stderr and "10M" in out.stderr
    out = cli("config", "set", "colour", "red")
    assert out.returncode == 2 and "not a Skylift setting" in out.stderr
    out = cli("config", "get", "colour")
    assert out.returncode == 2
    assert cli("config", "get", "transfers").stdout.strip() == "4"


def test_corrupt_settings_are_moved_aside(cli: Cli, profile: Path) -> None:
    folder = profile / "config" / "skylift"
    folder.mkdir(mode=0o700)
    (folder / "settings.json").write_text("{not json")
    out = cli("config", "get", "remote_path")
    assert out.returncode == 0 and out.stdout.strip() == "/"
    assert "unreadable" in out.stderr
    assert (folder / "settings.json.bak").read_text() == "{not json"


def test_upload_without_destination(cli: Cli, tmp_path: Path) -> None:
    (f,) = make_files(tmp_path, ["a.jpg"])
    out = cli("upload", str(f))
    assert out.returncode == 2
    assert "no destination" in out.stderr


def test_nonexistent_path_is_bad_input(cli: Cli, tmp_path: Path, configure, sftp_server) -> None:
    configure(remote="loop")
    (f,) = make_files(tmp_path, ["a.jpg"])
    out = cli("upload", "--wait", str(f), str(tmp_path / "missing.jpg"))
    assert out.returncode == 2
    assert "missing.jpg does not exist; nothing was queued." in out.stderr
    assert status_json(cli)["total"] == 0


def test_upload_queues_then_drain_uploads(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server
) -> None:
    configure(remote="loop", remote_path="/In")
    files = make_files(tmp_path / "Shoot", ["1.jpg", "2.jpg"])
    out = cli("upload", "Shoot", cwd=tmp_path)  # relative to the current folder
    assert out.returncode == 0, out.stderr
    assert "Queued 2 file(s)" in out.stderr
    # the same folder again is not queued twice
    assert cli("upload", str(tmp_path / "Shoot"), str(tmp_path / "Shoot")).returncode == 0
    status = status_json(cli)
    assert (status["queued"], status["total"]) == (2, 2)
    out = cli("drain")
    assert out.returncode == 0, out.stderr
    for f in files:
        assert sftp_server.file(f"In/Shoot/{f.name}").read_bytes() == f.read_bytes()
    status = status_json(cli)
    assert status["done"] == 2 and status["queued"] == 0
    job = status["jobs"][0]
    assert set(job) >= {
        "id",
        "path",
        "destination",
        "state",
        "size",
        "bytes",
        "attempts",
        "error",
        "created",
        "finished",
    }
    assert job["destination"] == "loop:/In/Shoot/1.jpg" and job["bytes"] == job["size"]


def test_upload_wait_to_explicit_destination(cli: Cli, tmp_path: Path, sftp_server: Server) -> None:
    (f,) = make_files(tmp_path, ["x.jpg"])
    out = cli("upload", "--wait", "--to", "loop:/Elsewhere", str(f))
    assert out.returncode == 0, out.stderr
    assert "uploaded  " in out.stdout and "loop:/Elsewhere/x.jpg" in out.stdout
    assert sftp_server.file("Elsewhere/x.jpg").read_bytes() == f.read_bytes()


def test_failure_exit_code_status_retry_and_cancel(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server
) -> None:
    configure(remote="loop", retries=0)
    (f,) = make_files(tmp_path, ["a.jpg"])
    sftp_server.stop()
    out = cli("upload", "--wait", str(f))
    assert out.returncode == 1
    assert "FAILED" in out.stdout and "refused the connection" in out.stdout
    status = status_json(cli)
    assert status["failed"] == 1 and status["failed_count"] == 1
    assert status["jobs"][0]["attempts"] == 1
    human = cli("status").stdout
    assert "failed" in human and "refused the connection" in human

    assert cli("retry", "12345").returncode == 2
    out = cli("retry", "--all-failed")
    assert out.returncode == 0 and "Queued 1 upload(s) again." in out.stdout
    assert status_json(cli)["queued"] == 1

    job_id = str(status["jobs"][0]["id"])
    assert cli("cancel", job_id).returncode == 0
    assert status_json(cli)["jobs"][0]["state"] == "cancelled"
    assert cli("cancel", job_id).returncode == 2  # nothing left to cancel
    assert cli("retry").returncode == 2

    sftp_server.start()
    assert cli("retry", job_id).returncode == 0
    assert cli("drain").returncode == 0
    assert sftp_server.file("a.jpg").read_bytes() == f.read_bytes()


def test_test_connection(cli: Cli, configure, sftp_server: Server) -> None:
    configure(remote="loop", remote_path="/not/yet/there")
    out = cli("test-connection")
    assert out.returncode == 0, out.stderr
    assert "answers" in out.stdout
    out = cli("test-connection", "nosuch:/x")
    assert out.returncode == 3
    assert "'nosuch' does not exist" in out.stderr
    sftp_server.stop()
    out = cli("test-connection", "loop:/")
    assert out.returncode == 1
    assert "refused the connection" in out.stderr


def test_rclone_missing_or_too_old(cli: Cli, tmp_path: Path, configure, sftp_server) -> None:
    (f,) = make_files(tmp_path, ["a.jpg"])
    configure(remote="loop", rclone_path=str(tmp_path / "no-rclone"))
    out = cli("upload", "--wait", str(f))
    assert out.returncode == 3
    assert "not an executable program" in out.stderr
    old = tmp_path / "old-rclone"
    old.write_text("#!/bin/sh\necho 'rclone v1.53.3'\n")
    old.chmod(0o755)
    configure(rclone_path=str(old))
    out = cli("upload", "--wait", str(f))
    assert out.returncode == 3
    assert "too old" in out.stderr and "1.60" in out.stderr


def test_uploads_turned_off(cli: Cli, tmp_path: Path, configure, sftp_server) -> None:
    configure(remote="loop", enabled=False)
    (f,) = make_files(tmp_path, ["a.jpg"])
    out = cli("upload", "--wait", str(f))
    assert out.returncode == 2
    assert "enabled" in out.stderr
    assert status_json(cli)["queued"] == 1  # kept, not lost


def test_second_invocation_joins_the_running_engine(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server
) -> None:
    configure(remote="loop", bwlimit="300k", transfers=1)
    first = make_files(tmp_path / "A", [f"a{i}.jpg" for i in range(4)], size=200_000)
    second = make_files(tmp_path / "B", ["b.jpg"], size=1000)
    running = cli.popen("upload", "--wait", str(tmp_path / "A"))
    wait_for(lambda: (Path(os.environ["XDG_RUNTIME_DIR"]) / "skylift" / "skylift.sock").exists())
    wait_for(lambda: status_json(cli)["uploading"] > 0)
    out = cli("upload", "--wait", str(tmp_path / "B"))
    assert out.returncode == 0, out.stderr
    assert "in the running Skylift" in out.stderr
    assert running.wait(120) == 0
    for f in first:
        assert sftp_server.file(f"A/{f.name}").read_bytes() == f.read_bytes()
    assert sftp_server.file("B/b.jpg").read_bytes() == second[0].read_bytes()
    status = status_json(cli)
    assert status["total"] == 5 and status["done"] == 5


def test_server_stopped_mid_batch_then_retry(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server
) -> None:
    configure(remote="loop", bwlimit="400k", transfers=1, retries=0)
    files = make_files(tmp_path / "Set", [f"{i}.jpg" for i in range(6)], size=150_000)
    running = cli.popen("upload", "--wait", str(tmp_path / "Set"))
    wait_for(lambda: status_json(cli)["done"] >= 1)
    sftp_server.stop()
    assert running.wait(120) == 1
    status = status_json(cli)
    assert status["failed"] >= 1 and status["done"] + status["failed"] == 6
    for job in status["jobs"]:
        if job["state"] == "failed":
            assert job["error"].endswith(".") and "rclone" not in job["error"].split()[0]
    sftp_server.start()
    assert cli("retry", "--all-failed").returncode == 0
    assert cli("drain").returncode == 0
    for f in files:
        assert sftp_server.file(f"Set/{f.name}").read_bytes() == f.read_bytes()
    assert status_json(cli)["done"] == 6


def our_rclones() -> list[int]:
    """rclone processes uploading a batch list of this test's profile."""
    marker = os.environ["XDG_DATA_HOME"].encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().split(") ")[-1][0]
            except OSError:
                continue
            if b"--files-from-raw=" + marker in cmdline and state != "Z":
                found.append(int(entry.name))
    return found


def test_kill_9_mid_batch_then_drain(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server
) -> None:
    configure(remote="loop", bwlimit="500k", transfers=2)
    files = make_files(tmp_path / "Big", [f"{i:02d}.jpg" for i in range(10)], size=200_000)
    running = cli.popen("upload", "--wait", str(tmp_path / "Big"))
    wait_for(lambda: status_json(cli)["done"] >= 2)
    assert our_rclones(), "no rclone was uploading"
    os.kill(running.pid, signal.SIGKILL)
    running.wait()
    wait_for(lambda: not our_rclones(), timeout=30)  # rclone does not outlive Skylift
    batches = Path(os.environ["XDG_DATA_HOME"]) / "skylift" / "batches"
    left = sorted(p.name.split("-")[0] for p in batches.iterdir())
    assert left == ["batch", "rclone"]  # the killed process's file list and rclone log
    (batches / "notes.txt").write_text("not Skylift's")
    out = cli("drain", timeout=300)
    assert out.returncode == 0, out.stderr
    # the next engine cleared them; files it did not write stay
    assert sorted(p.name for p in batches.iterdir()) == ["notes.txt"]
    for f in files:
        assert sftp_server.file(f"Big/{f.name}").read_bytes() == f.read_bytes()
    leftovers = [p.name for p in sftp_server.file("Big").iterdir() if p.name.endswith(".partial")]
    status = status_json(cli)
    assert status["total"] == 10 and status["done"] == 10  # each job once
    assert sorted(j["path"] for j in status["jobs"]) == sorted(str(f) for f in files)
    assert leftovers == [] or all(".partial" in n for n in leftovers)


def test_status_json_is_one_object(cli: Cli) -> None:
    out = cli("status", "--json")
    assert out.returncode == 0
    data = json.loads(out.stdout)
    assert data == {
        "queued": 0,
        "uploading": 0,
        "done": 0,
        "failed": 0,
        "cancelled": 0,
        "failed_count": 0,
        "total": 0,
        "paused": False,
        "jobs": [],
        "metrics": {
            "success_rate": None,
            "average_upload_seconds": None,
            "failed": 0,
            "retried": 0,
            "retry_success_rate": None,
            "queue_size": 0,
            "uploaded_bytes": 0,
            "bandwidth_bps": 0.0,
            "bandwidth_history": [],
        },
    }


def test_uploads_started_together_share_one_engine(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server
) -> None:
    configure(remote="loop")
    files = [make_files(tmp_path / f"s{i}", [f"{i}.jpg"], size=50_000)[0] for i in range(10)]
    procs = [cli.popen("upload", "--wait", str(f)) for f in files]
    codes = [p.wait(120) for p in procs]
    errors = [p.stderr.read() for p in procs if p.stderr]
    assert codes == [0] * 10, errors
    for f in files:
        assert sftp_server.file(f.name).read_bytes() == f.read_bytes()
    assert status_json(cli)["done"] == 10


def test_of_uploads_started_together_only_one_loads_qt(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server
) -> None:
    """An export tool calling `skylift upload --wait` once per photo, with no app
    running: one process starts the engine; the others wait for it and hand their
    files over without loading Qt (a tenth of a second of CPU each) or planning them."""
    import subprocess

    configure(remote="loop")
    files = [make_files(tmp_path / f"s{i}", [f"{i}.jpg"], size=200_000)[0] for i in range(8)]
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}  # each child lists its imports
    logs = [tmp_path / f"stderr{i}.txt" for i in range(len(files))]
    procs = []
    for f, log in zip(files, logs, strict=True):
        with open(log, "w") as err:
            procs.append(
                cli.popen(
                    "upload", "--wait", str(f), stdout=subprocess.DEVNULL, stderr=err, env=env
                )
            )
    codes = [p.wait(120) for p in procs]
    texts = [log.read_text() for log in logs]
    assert codes == [0] * len(files), [t[-2000:] for t in texts]
    for f in files:
        assert sftp_server.file(f.name).read_bytes() == f.read_bytes()

    def loaded(module: str) -> list[int]:
        line = re.compile(rf"\|\s+{re.escape(module)}$", re.M)
        return [i for i, t in enumerate(texts) if line.search(t)]

    # one engine; a second only if a late process found the first already gone
    assert 1 <= len(loaded("PySide6.QtCore")) <= 2, loaded("PySide6.QtCore")
    # the others leave planning their files to the engine they hand them to
    assert loaded("skylift.core.planner") == loaded("PySide6.QtCore")


def test_run_from_cron_without_a_runtime_folder_it_prints_no_warning(cli: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """cron and ssh often leave XDG_RUNTIME_DIR unset: Skylift then finds its socket in
    the session's /run/user/UID (or a private folder in /tmp) without a warning on
    every command, which cron would mail."""
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    out = cli("status", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"] == 0
    assert out.stderr == ""


def test_the_app_without_a_display_says_so(cli: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    out = cli()
    assert out.returncode == 2
    assert "no desktop here" in out.stderr and "skylift upload --wait" in out.stderr
