"""Icons from the ``skylift.resources`` package: the tray states and the app icon."""

from __future__ import annotations

import enum
import functools
import os
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

APP_ID = "io.github.skylift.Skylift"
_TRAY_SIZES = (16, 22, 24, 32, 48, 64)


class TrayState(str, enum.Enum):
    IDLE = "idle"
    UPLOADING = "uploading"
    PAUSED = "paused"
    OFFLINE = "offline"
    ERROR = "error"


def _read(name: str) -> bytes:
    try:
        return (resources.files("skylift.resources") / name).read_bytes()
    except ModuleNotFoundError:
        # a frozen build (PyInstaller) keeps the files beside the code, not as a package
        base = getattr(sys, "_MEIPASS", None)
        if base is None:
            raise
        return (Path(base) / "skylift-resources" / name).read_bytes()


def svg_bytes(name: str) -> bytes:
    return _read(name)


def _icon_from_svg(data: bytes, sizes: tuple[int, ...]) -> QIcon:
    # Rendered to pixmaps at the usual sizes: a tray host that asks for a pixmap
    # (XEmbed, StatusNotifierItem) then gets a crisp one instead of a scaled one.
    renderer = QSvgRenderer(QByteArray(data))
    icon = QIcon()
    ratio = 1.0
    app = QGuiApplication.instance()
    if isinstance(app, QGuiApplication):
        ratio = max(1.0, app.devicePixelRatio())
    for s in sizes:
        pm = QPixmap(QSize(int(s * ratio), int(s * ratio)))
        pm.setDevicePixelRatio(ratio)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        renderer.render(p)
        p.end()
        icon.addPixmap(pm)
    return icon


# Desktops whose panel is dark whatever the colour scheme of the apps.
_DARK_PANEL_DESKTOPS = ("gnome", "unity", "pantheon", "budgie")


def panel_is_dark(
    palette: QPalette | None = None,
    environ: Mapping[str, str] | None = None,
    platform: str = sys.platform,
) -> bool:
    """Which monochrome icon the panel needs. Qt cannot see the panel, so: what the
    person said (SKYLIFT_PANEL=dark|light), what the desktop is known for, or the
    desktop's palette (KDE's and Xfce's panels follow the colour scheme)."""
    env = os.environ if environ is None else environ
    said = env.get("SKYLIFT_PANEL", "").strip().lower()
    if said in ("dark", "light"):
        return said == "dark"
    if platform == "win32":
        return _windows_taskbar_is_dark()
    desktop = env.get("XDG_CURRENT_DESKTOP", "").lower()
    if any(d in desktop for d in _DARK_PANEL_DESKTOPS):
        return True
    if palette is None:
        app = QGuiApplication.instance()
        palette = app.palette() if isinstance(app, QGuiApplication) else QPalette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def _windows_taskbar_is_dark() -> bool:  # pragma: no cover - Windows only
    from PySide6.QtCore import QSettings

    key = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Themes\Personalize"
    value = QSettings(key, QSettings.Format.NativeFormat).value("SystemUsesLightTheme", 0)
    try:
        return int(value) == 0  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return True


def tray_file(state: TrayState, dark_panel: bool) -> str:
    variant = "dark" if dark_panel else "light"
    return f"icons/tray-{state.value}-{variant}.svg"


@functools.lru_cache(maxsize=16)
def _tray_icon(state: TrayState, dark_panel: bool) -> QIcon:
    icon = _icon_from_svg(_read(tray_file(state, dark_panel)), _TRAY_SIZES)
    if sys.platform == "darwin":
        icon.setIsMask(True)  # a template image: macOS tints it for its menu bar
    return icon


def tray_icon(state: TrayState, dark_panel: bool | None = None) -> QIcon:
    return _tray_icon(state, panel_is_dark() if dark_panel is None else dark_panel)


@functools.lru_cache(maxsize=1)
def app_icon() -> QIcon:
    themed = QIcon.fromTheme(APP_ID)
    if not themed.isNull():
        return themed
    return _icon_from_svg(_read(f"{APP_ID}.svg"), (16, 24, 32, 48, 64, 128, 256))
