"""logind's PrepareForSleep, sent on a private D-Bus bus standing in for the system bus."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, Server, make_files, status_json, wait_for

EMIT = """
import sys
from PySide6.QtCore import QCoreApplication
from PySide6.QtDBus import QDBusConnection, QDBusMessage
app = QCoreApplication([])
bus = QDBusConnection.systemBus()
assert bus.registerService("org.freedesktop.login1")
msg = QDBusMessage.createSignal(
    "/org/freedesktop/login1", "org.freedesktop.login1.Manager", "PrepareForSleep")
msg.setArguments([sys.argv[1] == "sleep"])
assert bus.send(msg)
bus.disconnectFromBus(bus.name())
"""


@pytest.fixture
def system_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed")
    conf = tmp_path / "bus.conf"
    conf.write_text(
        "<busconfig><type>system</type>"
        f"<listen>unix:path={tmp_path}/bus</listen>"
        "<policy context='default'><allow send_destination='*' eavesdrop='true'/>"
        "<allow eavesdrop='true'/><allow own='*'/><allow user='*'/></policy></busconfig>"
    )
    proc = subprocess.Popen(
        ["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", address)
    yield address
    proc.terminate()
    proc.wait()


def announce(what: str) -> None:
    subprocess.run([sys.executable, "-c", EMIT, what], check=True, timeout=30)


def test_sleep_stops_transfers_and_wake_resumes_them(
    cli: Cli, tmp_path: Path, configure, sftp_server: Server, system_bus: str
) -> None:
    configure(remote="loop", bwlimit="200k", transfers=1, retries=0)
    files = make_files(tmp_path / "Set", ["a.jpg", "b.jpg"], size=300_000)
    running = cli.popen("upload", "--wait", str(tmp_path / "Set"))
    wait_for(lambda: status_json(cli)["uploading"] == 2)
    announce("sleep")
    status = wait_for(lambda: (s := status_json(cli))["queued"] == 2 and s)
    assert status["failed"] == 0  # stopped for sleep, not failed
    announce("wake")
    assert running.wait(120) == 0
    status = status_json(cli)
    assert status["done"] == 2 and [j["attempts"] for j in status["jobs"]] == [1, 1]
    for f in files:
        assert sftp_server.file(f"Set/{f.name}").read_bytes() == f.read_bytes()
