"""Start at login: the entries' contents, and the XDG one written and removed for real."""

from __future__ import annotations

import os
import plistlib
import shlex
import stat
import sys
from pathlib import Path

import pytest

from skylift.ui import autostart


def test_exec_line_quotes_by_the_desktop_entry_rules() -> None:
    assert autostart.exec_line(["/usr/bin/skylift"]) == "/usr/bin/skylift"
    line = autostart.exec_line(["/home/a b/venv/bin/python", "-m", "skylift"])
    assert line == '"/home/a b/venv/bin/python" -m skylift'
    # $ and " are escaped inside quotes, then every backslash doubled; % doubled
    assert autostart.exec_line(['/opt/$x"y/py']) == '"/opt/\\\\$x\\\\"y/py"'
    assert autostart.exec_line(["/opt/100%/py"]) == '"/opt/100%%/py"'


def test_desktop_entry() -> None:
    text = autostart.desktop_entry(["/usr/bin/skylift"])
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    assert "Exec=/usr/bin/skylift" in lines
    assert "Type=Application" in lines
    assert "Icon=io.github.skylift.Skylift" in lines
    assert "X-GNOME-Autostart-enabled=true" in lines


def test_launch_agent_plist() -> None:
    data = plistlib.loads(
        autostart.launch_agent(["/Applications/Skylift.app/Contents/MacOS/Skylift"])
    )
    assert data["Label"] == "io.github.skylift.Skylift"
    assert data["ProgramArguments"] == ["/Applications/Skylift.app/Contents/MacOS/Skylift"]
    assert data["RunAtLoad"] is True


def test_windows_run_key_value_quotes_spaces() -> None:
    assert (
        autostart.windows_command([r"C:\Program Files\Skylift\Skylift.exe"])
        == r'"C:\Program Files\Skylift\Skylift.exe"'
    )


def test_command_starts_this_skylift() -> None:
    argv = autostart.command()
    assert os.path.isabs(argv[0])
    assert argv == [argv[0]] or argv[1:] == ["-m", "skylift"]
    if argv[1:] == ["-m", "skylift"]:
        assert argv[0] == sys.executable


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="the XDG entry is for Linux/BSD")
def test_xdg_entry_written_private_and_removed(profile: Path) -> None:
    target = Path(os.environ["XDG_CONFIG_HOME"]) / "autostart" / "skylift.desktop"
    assert not autostart.is_enabled()
    autostart.set_enabled(True, ["/usr/bin/skylift"])
    assert autostart.is_enabled()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "Exec=/usr/bin/skylift" in target.read_text()
    autostart.set_enabled(True, ["/opt/new skylift"])
    assert shlex.split(target.read_text().split("Exec=")[1].splitlines()[0]) == ["/opt/new skylift"]
    autostart.set_enabled(False)
    assert not target.exists() and not autostart.is_enabled()
    autostart.set_enabled(False)  # removing twice is fine
