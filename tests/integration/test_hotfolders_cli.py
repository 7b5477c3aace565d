"""`skylift watch list | add | remove`: settings.json, exit codes, and a running app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from skylift.core.settings import Settings
from skylift.entry.service import EngineService
from tests.conftest import Cli


def watched(profile: Path) -> list[dict[str, Any]]:
    data = json.loads((profile / "config" / "skylift" / "settings.json").read_text())
    return list(data["watch_folders"])


def test_watch_add_list_remove(cli: Cli, profile: Path, tmp_path: Path) -> None:
    out = cli("watch", "list")
    assert out.returncode == 0
    assert "No folder is watched" in out.stdout

    export = tmp_path / "Export"
    export.mkdir()
    out = cli("watch", "add", "Export", "--to", "dav:/Clients", "--flat", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert watched(profile) == [
        {
            "path": str(export),
            "destination": "dav:/Clients",
            "subfolders": False,
            "after_upload": "leave",
        }
    ]
    other = tmp_path / "Other"
    other.mkdir()
    assert cli("watch", "add", str(other), "--move-after-upload").returncode == 0
    entry = watched(profile)[1]
    assert entry["subfolders"] is True and entry["after_upload"] == "move"
    assert entry["destination"] == ""

    other.rmdir()
    out = cli("watch", "list")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"{export} -> dav:/Clients")
    assert lines[1].startswith(str(other)) and "[not available]" in lines[1]

    # a folder that is gone can still be removed
    out = cli("watch", "remove", str(other))
    assert out.returncode == 0, out.stderr
    assert [f["path"] for f in watched(profile)] == [str(export)]


def test_watch_refuses_bad_folders(cli: Cli, profile: Path, tmp_path: Path) -> None:
    out = cli("watch", "add", str(tmp_path / "nope"))
    assert out.returncode == 2
    assert "does not exist" in out.stderr
    a_file = tmp_path / "a.jpg"
    a_file.write_bytes(b"x")
    out = cli("watch", "add", str(a_file))
    assert out.returncode == 2
    assert "is not a folder" in out.stderr
    export = tmp_path / "Export"
    (export / "Day 1").mkdir(parents=True)
    assert cli("watch", "add", str(export)).returncode == 0
    out = cli("watch", "add", str(export) + "/")
    assert out.returncode == 2
    assert "already watched" in out.stderr
    out = cli("watch", "add", str(export / "Day 1"))
    assert out.returncode == 2
    assert "uploaded twice" in out.stderr
    out = cli("watch", "add", str(tmp_path))
    assert out.returncode == 2
    out = cli("watch", "add", str(tmp_path / "Export" / "Day 1"), "--to", "no-colon")
    assert out.returncode == 2
    out = cli("watch", "remove", str(tmp_path / "Elsewhere"))
    assert out.returncode == 2
    assert "is not watched" in out.stderr
    assert [f["path"] for f in watched(profile)] == [str(export)]


def test_watch_add_reaches_the_running_app(
    qtbot: Any, cli: Cli, configure: Any, tmp_path: Path
) -> None:
    settings: Settings = configure(remote="loop", remote_path="/Hot")
    svc = EngineService(settings, watch=True)
    try:
        assert svc.hot_folders is not None
        assert svc.hot_folders.status() == []
        export = tmp_path / "Export"
        export.mkdir()
        # the command asks this process to reload: let its event loop answer meanwhile
        proc = cli.popen("watch", "add", str(export))
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30_000)
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
        assert [s["path"] for s in svc.hot_folders.status()] == [str(export)]
        proc = cli.popen("watch", "remove", str(export))
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30_000)
        assert proc.returncode == 0
        assert svc.hot_folders.status() == []
    finally:
        svc.close()
