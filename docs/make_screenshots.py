#!/usr/bin/env python3
"""Take the README's screenshots from the real app, on a private X server.

    python docs/make_screenshots.py [--out docs/screenshots]

Starts Xvfb and a system tray (trayer), a real ``rclone serve sftp`` on loopback as
the remote ``studio``, and Skylift itself in a throw-away profile. It queues real
photos-to-be (random bytes) so that the queue shows every state at once: uploaded,
uploading (a speed limit keeps them visibly in progress), waiting, and failed with its
plain reason. Then it clicks the tray icon, opens the menu and the settings dialog as a
person would (xdotool), and grabs each from the screen.

Needs (Debian): xvfb trayer xdotool x11-utils, and the libraries Qt's xcb platform
uses (libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.loopback import free_port  # noqa: E402
from tests.xdesktop import DEBIAN_PACKAGES, XDisplay, missing_programs, stop, xvfb  # noqa: E402

WIDTH, HEIGHT = 1400, 860


# --- small helpers --------------------------------------------------------------------------


def wait(what: str, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"make_screenshots: timed out waiting for {what}")


class X(XDisplay):
    """The private X server, driven as a person would drive a desktop."""

    def visible(self, **how: str) -> list[str]:
        args = ["xdotool", "search", "--onlyvisible"]
        for k, v in how.items():
            args += [f"--{k}", v]
        return self.run(*args).split()

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        info = self.run("xwininfo", "-id", window)

        def num(label: str) -> int:
            m = re.search(rf"{label}:\s+(-?\d+)", info)
            if not m:
                raise SystemExit(f"make_screenshots: no {label} for window {window}")
            return int(m.group(1))

        return (
            num("Absolute upper-left X"),
            num("Absolute upper-left Y"),
            num("Width"),
            num("Height"),
        )

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.run("xdotool", "mousemove", str(x), str(y), "click", str(button))

    def key(self, *keys: str) -> None:
        self.run("xdotool", "key", *keys)

    def grab(self, out: Path, rect: tuple[int, int, int, int]) -> None:
        """Grab a part of the screen, as a screenshot tool would (Qt reads the root window)."""
        subprocess.run(
            [sys.executable, __file__, "--grab", str(out), *map(str, rect)],
            env=self.env,
            check=True,
            timeout=60,
        )
        print(f"wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")


def wallpaper_main() -> None:
    """A plain desktop background, so the tray menu is not shown on black."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent
    from PySide6.QtWidgets import QApplication, QWidget

    class Wallpaper(QWidget):
        def paintEvent(self, event: QPaintEvent) -> None:
            p = QPainter(self)
            g = QLinearGradient(0, 0, 0, self.height())
            g.setColorAt(0, QColor("#5b7fa6"))
            g.setColorAt(1, QColor("#a7bcd3"))
            p.fillRect(self.rect(), g)

    app = QApplication(["skylift-wallpaper"])
    w = Wallpaper()
    w.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnBottomHint)
    w.setAttribute(Qt.WidgetAttribute.WA_X11DoNotAcceptFocus)
    w.setGeometry(app.primaryScreen().geometry())
    w.show()
    app.exec()


def grab_main(out: str, x: str, y: str, w: str, h: str) -> None:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(["skylift-screenshot"])
    screen = app.primaryScreen()
    pixmap = screen.grabWindow(0, int(x), int(y), int(w), int(h))
    if pixmap.isNull() or not pixmap.save(out, "PNG"):
        raise SystemExit(f"make_screenshots: could not save {out}")


# --- the scene --------------------------------------------------------------------------------


def profile(base: Path, env: dict[str, str]) -> None:
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "run"),
    ):
        d = base / sub
        d.mkdir(mode=0o700, parents=True)
        env[var] = os.environ[var] = str(d)
    for var in list(env):
        if var.startswith("RCLONE_"):
            del env[var]
            os.environ.pop(var, None)
    env["RCLONE_CONFIG"] = os.environ["RCLONE_CONFIG"] = str(base / "rclone.conf")
    (base / "rclone.conf").write_text("")


def photo(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ns = parser.parse_args()
    missing = missing_programs()
    if missing:
        print(
            f"make_screenshots: needs {', '.join(missing)} "
            f"(Debian: apt-get install {DEBIAN_PACKAGES})",
            file=sys.stderr,
        )
        return 2
    ns.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="skylift-shots-"))
    procs: list[subprocess.Popen[Any]] = []
    try:
        with xvfb(tmp / "xvfb.log", f"{WIDTH}x{HEIGHT}", ("-dpi", "96")) as display:
            return scene(display.env, tmp, ns.out, procs)
    finally:
        for p in reversed(procs):
            stop(p)
        if not ns.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")


def scene(env: dict[str, str], tmp: Path, out: Path, procs: list[subprocess.Popen[Any]]) -> int:
    profile(tmp / "profile", env)
    x = X(env["DISPLAY"], env)
    from skylift.core import rclone_binary

    rclone = rclone_binary.find().path

    # the remote: a real SFTP server on loopback, configured as a person would
    served = tmp / "studio-nas"
    (served / "Clients" / "2024").mkdir(parents=True)
    for folder in ("Archive", "Clients/2023", "Portfolio", "Weddings"):
        (served / folder).mkdir(parents=True, exist_ok=True)
    port, password = free_port(), "pictures-are-precious"
    procs.append(
        subprocess.Popen(
            [
                rclone,
                "serve",
                "sftp",
                str(served),
                f"--addr=127.0.0.1:{port}",
                "--user=anna",
                f"--pass={password}",
                f"--config={tmp / 'server.conf'}",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    wait("the SFTP server", lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0)
    subprocess.run(
        [
            rclone,
            "config",
            "create",
            "studio",
            "sftp",
            "host=127.0.0.1",
            f"port={port}",
            "user=anna",
            f"pass={password}",
            "shell_type=none",
            "md5sum_command=none",
            "sha1sum_command=none",
            "--obscure",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            rclone,
            "config",
            "create",
            "nextcloud",
            "webdav",
            "url=https://cloud.example.com/remote.php/dav/files/anna",
            "vendor=nextcloud",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    from skylift.core.settings import Settings

    s = Settings.load()
    s["remote"] = "studio"
    s["remote_path"] = "/Clients/2024"
    s["transfers"] = 2
    s["bwlimit"] = "900k"
    s["retries"] = 3
    s["notify"] = False  # a balloon over the tray icon would take the clicks below
    s["presets"] = [
        {"name": "Novak wedding", "destination": "studio:/Clients/2024/Novak wedding"},
        {"name": "Garcia family", "destination": "studio:/Clients/2024/Garcia"},
    ]
    s.save()

    # the desktop: a background, a panel with a tray, then Skylift as a session starts it
    procs.append(
        subprocess.Popen(
            [sys.executable, __file__, "--wallpaper"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    wait(
        "the background",
        lambda: x.visible(name="skylift-wallpaper") or x.visible(**{"class": "skylift-wallpaper"}),
    )
    procs.append(
        subprocess.Popen(
            [
                "trayer",
                "--edge",
                "bottom",
                "--align",
                "right",
                "--widthtype",
                "request",
                "--height",
                "30",
                "--SetDockType",
                "true",
                "--transparent",
                "false",
                "--padding",
                "6",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    app_log = (tmp / "app.log").open("wb")
    procs.append(
        subprocess.Popen(
            [sys.executable, "-m", "skylift"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=app_log,
            stderr=subprocess.STDOUT,
        )
    )
    icon = wait("Skylift's tray icon", x.tray_icon)

    from skylift.entry.ipc import Client

    client = Client()
    wait("the app's socket", client.connect)

    def jobs() -> list[dict[str, Any]]:
        return list(client.request("status")["status"]["jobs"])

    # 1. a finished batch: the selects of a wedding, already uploaded
    exports = tmp / "Pictures" / "Exports"
    selects = [
        photo(exports / "Novak wedding" / f"NOVAK_{n:04}.jpg", 180_000 + n * 911)
        for n in (112, 118, 131, 140, 152, 167)
    ]
    client.request("upload", paths=[str(exports / "Novak wedding")], cwd=str(tmp))
    wait(
        "the first batch to upload",
        lambda: sum(j["state"] == "done" for j in jobs()) == len(selects),
        timeout=120,
    )

    # 2. a new shoot: two large files upload slowly, two wait, one is gone before its turn
    client.request("pause")
    shoot = exports / "Garcia family"
    big = [
        photo(shoot / "GARCIA_0031.tif", 5_400_000),
        photo(shoot / "GARCIA_0044.tif", 6_100_000),
        photo(shoot / "GARCIA_0057.jpg", 4_200_000),
        photo(shoot / "GARCIA_0063.jpg", 3_900_000),
    ]
    gone = photo(shoot / "GARCIA_0029.jpg", 2_000_000)
    client.request("upload", paths=[str(gone), *map(str, big)], cwd=str(tmp))
    gone.unlink()  # moved away by the photographer before Skylift got to it
    client.request("resume")
    wait(
        "uploads to be under way",
        lambda: (
            sum(j["state"] == "uploading" and j["bytes"] > 0.3 * j["size"] for j in jobs()) >= 2
        ),
        timeout=60,
    )
    time.sleep(1.0)  # let the speed and time-left readings settle

    # the queue window, opened from the tray icon with a left click
    ix, iy, iw, ih = icon
    x.click(ix + iw // 2, iy + ih // 2)
    (window,) = wait("the queue window", lambda: x.visible(name="Upload queue"))
    x.run("xdotool", "windowsize", "--sync", window, "1180", "560")
    x.run("xdotool", "windowmove", "--sync", window, "60", "70")
    time.sleep(1.2)
    x.grab(out / "queue-window.png", x.geometry(window))

    # the tray menu, with a right click
    before = set(x.visible(**{"class": "skylift"}))
    x.click(ix + iw // 2, iy + 1, button=3)  # at its top edge: the menu leaves it in view
    menu = wait("the tray menu", lambda: list(set(x.visible(**{"class": "skylift"})) - before))[0]
    time.sleep(0.5)
    mx, my, _mw, _mh = x.geometry(menu)
    left = max(0, min(mx, ix) - 24)
    top = max(0, my - 16)
    x.grab(out / "tray-menu.png", (left, top, WIDTH - left, HEIGHT - top))

    # Settings… from the menu (its mnemonic), then Test connection (Alt+T)
    x.key("s")
    (dialog,) = wait("the settings dialog", lambda: x.visible(name="Settings — Skylift"))
    time.sleep(1.5)  # the remotes and the rclone version arrive
    x.run("xdotool", "windowfocus", "--sync", dialog)
    x.key("alt+t")
    time.sleep(3.0)
    x.grab(out / "settings-dialog.png", x.geometry(dialog))
    x.key("Escape")

    client.close()
    os.kill(procs[-1].pid, signal.SIGTERM)
    procs[-1].wait(20)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--wallpaper"]:
        wallpaper_main()
        raise SystemExit(0)
    if len(sys.argv) == 7 and sys.argv[1] == "--grab":
        grab_main(*sys.argv[2:])
        raise SystemExit(0)
    raise SystemExit(main())
