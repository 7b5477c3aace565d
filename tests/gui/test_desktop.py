"""The real app on a real X server (Xvfb) with a real system tray (trayer).

Skipped, with the reason, where those programs are missing. On Debian:
``apt-get install xvfb trayer xdotool x11-utils`` (plus the libraries Qt's xcb
platform needs: ``libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0``).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.xdesktop import DEBIAN_PACKAGES, XDisplay, missing_programs, stop
from tests.xdesktop import xvfb as start_xvfb

pytestmark = pytest.mark.desktop

WINDOW = "Upload queue"


class Display(XDisplay):
    run_timeout = 20.0

    def visible(self, name: str) -> list[str]:
        return self.run("xdotool", "search", "--onlyvisible", "--name", name).split()


def _wait(what: str, predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll the X server until ``predicate`` holds: a ceiling, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def xvfb(tmp_path: Path) -> Iterator[Display]:
    missing = missing_programs()
    if missing:
        pytest.skip(
            f"needs {', '.join(missing)} for a real X display with a tray "
            f"(Debian: apt-get install {DEBIAN_PACKAGES})"
        )
    try:
        with start_xvfb(tmp_path / "xvfb.log") as display:
            yield Display(display.name, display.env)
    except RuntimeError as e:
        pytest.fail(str(e))


def _start_trayer(display: Display, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            "trayer",
            "--edge",
            "top",
            "--align",
            "right",
            "--widthtype",
            "request",
            "--height",
            "28",
            "--SetDockType",
            "true",
            "--transparent",
            "false",
        ],
        env=display.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    try:
        _wait("trayer's panel", lambda: '"panel": ("panel" "trayer")' in display.windows())
    except AssertionError:
        stop(proc)
        raise AssertionError(
            f"trayer showed no panel (exit {proc.returncode}): {log.read_text()}\n"
            f"{display.windows()}"
        ) from None
    return proc


def _start_app(display: Display, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "skylift"],
        env=display.env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _click(display: Display, x: int, y: int, button: int = 1) -> None:
    display.run("xdotool", "mousemove", str(x), str(y), "click", str(button))


@pytest.fixture
def configured(configure: Any) -> None:
    # a destination is set, so the app starts quietly in the tray
    configure(remote="loop", remote_path="/Photos")


def test_icon_embeds_in_the_tray_and_a_click_opens_the_queue(
    xvfb: Display, configured: None, tmp_path: Path
) -> None:
    trayer = _start_trayer(xvfb, tmp_path / "trayer.log")
    app = _start_app(xvfb, tmp_path / "app.log")
    try:
        x, y, w, h = _wait("Skylift's icon in trayer", xvfb.tray_icon, timeout=30)
        assert w > 4 and h > 4
        assert not xvfb.visible(WINDOW), "with a tray, the app starts in the tray"

        _click(xvfb, x + w // 2, y + h // 2)  # left click
        try:
            (window,) = _wait("the queue window", lambda: xvfb.visible(WINDOW))
        except AssertionError:
            raise AssertionError(
                f"no window after a click at {x + w // 2},{y + h // 2}\n{xvfb.windows()}\n"
                + (tmp_path / "app.log").read_text()
            ) from None
        title = xvfb.run("xdotool", "getwindowname", window).strip()
        assert title == "Upload queue — Skylift"

        # close it (Ctrl+W): the app stays in the tray; a click brings it back
        xvfb.run("xdotool", "windowfocus", "--sync", window)
        xvfb.run("xdotool", "key", "ctrl+w")
        _wait("the window to close", lambda: not xvfb.visible(WINDOW))
        assert app.poll() is None
        assert xvfb.tray_icon() is not None
        _click(xvfb, x + w // 2, y + h // 2)
        _wait("the queue window again", lambda: xvfb.visible(WINDOW))

        # a right click opens the menu: a new window right below the panel
        before = set(xvfb.run("xdotool", "search", "--onlyvisible", "--class", "skylift").split())
        _click(xvfb, x + w // 2, y + h // 2, button=3)
        _wait(
            "the tray menu",
            lambda: (
                set(xvfb.run("xdotool", "search", "--onlyvisible", "--class", "skylift").split())
                - before
            ),
        )
        xvfb.run("xdotool", "key", "Escape")
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGTERM)  # a logout: the app quits cleanly
        try:
            code = app.wait(20)
        finally:
            stop(app)
            stop(trayer)
    assert code == 0, (tmp_path / "app.log").read_text()


def test_without_a_tray_the_window_opens_and_a_later_tray_is_used(
    xvfb: Display, configured: None, tmp_path: Path
) -> None:
    app = _start_app(xvfb, tmp_path / "app.log")
    trayer = None
    try:
        _wait("the queue window", lambda: xvfb.visible(WINDOW), timeout=30)
        trayer = _start_trayer(xvfb, tmp_path / "trayer.log")
        # the app looks for a tray every few seconds
        _wait("Skylift's icon in the late tray", xvfb.tray_icon, timeout=30)
        assert xvfb.visible(WINDOW), "the window stays open when the tray appears"
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGTERM)
        try:
            code = app.wait(20)
        finally:
            stop(app)
            stop(trayer)
    assert code == 0, (tmp_path / "app.log").read_text()
