"""Starting Skylift at login: an XDG autostart entry on Linux and the BSDs, the Run key
on Windows, a LaunchAgent on macOS. The file contents are pure functions."""

from __future__ import annotations

import os
import plistlib
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

from skylift.ui.icons import APP_ID

RUN_KEY = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Skylift"


def command() -> list[str]:
    """How this Skylift is started again: the frozen app, its script, or ``python -m``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    scripts = sysconfig.get_path("scripts") or os.path.dirname(sys.executable)
    names = ("skylift-gui.exe", "skylift.exe") if os.name == "nt" else ("skylift",)
    for name in names:
        candidate = os.path.join(scripts, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return [candidate]
    python = sys.executable
    if os.name == "nt":  # no console window at login
        pythonw = os.path.join(os.path.dirname(python), "pythonw.exe")
        python = pythonw if os.path.isfile(pythonw) else python
    return [python, "-m", "skylift"]


_NEEDS_QUOTES = re.compile(r"[\s\"'\\><~|&;$*?#()`=%]")


def exec_line(argv: list[str]) -> str:
    """A desktop entry's Exec value (Desktop Entry Specification, "The Exec key")."""
    out = []
    for arg in argv:
        arg = arg.replace("%", "%%")
        if _NEEDS_QUOTES.search(arg):
            inner = re.sub(r'(["`$\\])', r"\\\1", arg)
            arg = f'"{inner}"'
        # the string-level escape is applied on top of the quoting rule
        out.append(arg.replace("\\", "\\\\"))
    return " ".join(out)


def desktop_entry(argv: list[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Skylift\n"
        "Comment=Upload exported photos to the cloud\n"
        f"Exec={exec_line(argv)}\n"
        f"Icon={APP_ID}\n"
        "Terminal=false\n"
        "StartupNotify=false\n"
        "X-GNOME-Autostart-enabled=true\n"
        "X-GNOME-Autostart-Delay=5\n"
        "X-KDE-autostart-phase=2\n"
    )


def launch_agent(argv: list[str]) -> bytes:
    return plistlib.dumps(
        {
            "Label": APP_ID,
            "ProgramArguments": argv,
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        }
    )


def windows_command(argv: list[str]) -> str:
    return subprocess.list2cmdline(argv)


def xdg_autostart_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / "skylift.desktop"


def launch_agent_file() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{APP_ID}.plist"


def is_enabled() -> bool:
    if sys.platform == "win32":
        from PySide6.QtCore import QSettings

        return bool(QSettings(RUN_KEY, QSettings.Format.NativeFormat).contains(RUN_VALUE))
    if sys.platform == "darwin":
        return launch_agent_file().exists()
    return xdg_autostart_file().exists()


def set_enabled(on: bool, argv: list[str] | None = None) -> None:
    """Create or remove the login entry; raises OSError if the file cannot be written."""
    argv = argv or command()
    if sys.platform == "win32":
        from PySide6.QtCore import QSettings

        reg = QSettings(RUN_KEY, QSettings.Format.NativeFormat)
        if on:
            reg.setValue(RUN_VALUE, windows_command(argv))
        else:
            reg.remove(RUN_VALUE)
        reg.sync()
        return
    if sys.platform == "darwin":
        target, data = launch_agent_file(), launch_agent(argv)
    else:
        target, data = xdg_autostart_file(), desktop_entry(argv).encode()
    if on:
        # the folder is shared with other programs' entries: create it, leave its mode
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_0600(target, data)
    elif target.exists():
        target.unlink()


def _write_0600(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
