"""A private X server with a system tray, for the real-desktop tests and the screenshots.

Shared by ``tests/gui/test_desktop.py`` and ``docs/make_screenshots.py``: start Xvfb on
a display number it picks itself, run the usual X tools against it, and find Skylift's
icon inside trayer's panel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

NEEDED = ("Xvfb", "trayer", "xdotool", "xwininfo")
DEBIAN_PACKAGES = "xvfb trayer xdotool x11-utils"


def missing_programs() -> list[str]:
    return [p for p in NEEDED if shutil.which(p) is None]


def stop(proc: subprocess.Popen[Any] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class XDisplay:
    """Talks to the private X server through the usual command-line tools."""

    run_timeout = 30.0  # seconds one tool may take

    def __init__(self, name: str, env: dict[str, str]):
        self.name = name
        self.env = env

    def run(self, *args: str) -> str:
        return subprocess.run(
            list(args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=self.run_timeout,
            check=False,
        ).stdout

    def windows(self) -> str:
        return self.run("xwininfo", "-root", "-tree")

    def tray_icon(self) -> tuple[int, int, int, int] | None:
        """Where Skylift's icon sits inside trayer's panel: (x, y, width, height)."""
        m = re.search(
            r"^\s*(0x[0-9a-f]+) \"panel\": \(\"panel\" \"trayer\"\)", self.windows(), re.M
        )
        if not m:
            return None
        panel = self.run("xwininfo", "-tree", "-id", m.group(1))
        icon = re.search(
            r"(0x[0-9a-f]+) \"Skylift\": \(\"skylift\" \"skylift\"\)\s+"
            r"(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)",
            panel,
        )
        if not icon:
            return None
        # embedded is not yet shown: a click before the map would land on the panel
        if "IsViewable" not in self.run("xwininfo", "-id", icon.group(1)):
            return None
        w, h, x, y = map(int, icon.groups()[1:])
        return x, y, w, h


@contextmanager
def xvfb(log: Path, size: str = "1280x800", extra: Sequence[str] = ()) -> Iterator[XDisplay]:
    """Xvfb on a free display; Qt is pointed at it (xcb, XEmbed tray, no Wayland).

    ``-noreset``: by default an X server resets whenever its last client disconnects,
    and refuses connections while it does. A test that polls the display with xdotool
    while the app is still starting (no tray, so nothing else stays connected) then
    made the app fail now and then with "could not connect to display": in a scratch
    loop, 75 of 600 connections failed beside a second client connecting and leaving
    over and over, and none with ``-noreset``. The display must also answer an X client
    before it is handed out; one that does not within 10 s is stopped and another one
    started (3 tries).
    """
    for _ in range(3):
        server, display = _start_xvfb(log, size, extra)
        if display is not None and _answers(display, server):
            break
        stop(server)
    else:
        raise RuntimeError(f"Xvfb's display never answered: {log.read_text()}")
    try:
        yield display
    finally:
        stop(server)


def _start_xvfb(
    log: Path, size: str, extra: Sequence[str]
) -> tuple[subprocess.Popen[bytes], XDisplay | None]:
    read, write = os.pipe()
    # -displayfd: the server picks a free display number and tells us
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write),
            "-screen",
            "0",
            f"{size}x24",
            "-nolisten",
            "tcp",
            "-noreset",
            *extra,
        ],
        pass_fds=(write,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    if not number:
        return server, None
    env = {**os.environ, "DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"}
    # no StatusNotifier host on a session bus: the tray icon is XEmbedded in trayer
    for var in ("WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "QT_SCALE_FACTOR"):
        env.pop(var, None)
    return server, XDisplay(f":{number}", env)


def _answers(display: XDisplay, server: subprocess.Popen[bytes], seconds: float = 10.0) -> bool:
    """Whether an X client (xwininfo) can talk to the display, polled up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while server.poll() is None and time.monotonic() < deadline:
        probe = subprocess.run(
            ["xwininfo", "-root"],
            env=display.env,
            capture_output=True,
            timeout=seconds,
            check=False,
        )
        if probe.returncode == 0:
            return True
        time.sleep(0.05)
    return False
