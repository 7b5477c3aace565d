"""packaging/: the desktop entry, the AppStream metainfo, the autostart templates, the
PyInstaller spec. The freedesktop validators run where they are installed (CI installs
desktop-file-utils and appstream)."""

from __future__ import annotations

import configparser
import plistlib
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from skylift.ui import autostart
from skylift.ui.icons import APP_ID

ROOT = Path(__file__).parents[2]
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_opens_images_with_skylift() -> None:
    entry = _entry(DESKTOP)
    assert entry["Exec"] == "skylift %F"  # files and folders go to the running app
    assert entry["Icon"] == APP_ID
    assert entry["StartupWMClass"] == "skylift"
    mime = entry["MimeType"].rstrip(";").split(";")
    assert {"image/jpeg", "image/png", "image/tiff", "image/heic", "image/x-adobe-dng"} <= set(mime)
    assert "inode/directory" not in mime  # never the default app for folders


def test_the_app_icon_named_by_the_entry_exists() -> None:
    assert (ROOT / "resources" / f"{APP_ID}.svg").read_bytes().startswith(b"<svg")


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
@pytest.mark.parametrize("path", [DESKTOP, PACKAGING / "autostart" / "skylift.desktop"])
def test_desktop_files_validate(path: Path) -> None:
    out = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_metainfo_names_the_desktop_entry() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("project_license") == "GPL-3.0-or-later"


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="needs appstreamcli (appstream)")
def test_metainfo_validates() -> None:
    out = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_autostart_templates_match_what_the_app_writes() -> None:
    template = _entry(PACKAGING / "autostart" / "skylift.desktop")
    written = configparser.ConfigParser(interpolation=None)
    written.optionxform = str  # type: ignore[assignment,method-assign]
    written.read_string(autostart.desktop_entry(["skylift"]))
    assert dict(template) == dict(written["Desktop Entry"])
    plist = plistlib.loads((PACKAGING / "autostart" / f"{APP_ID}.plist").read_bytes())
    ours = plistlib.loads(
        autostart.launch_agent(["/Applications/Skylift.app/Contents/MacOS/Skylift"])
    )
    assert plist == ours


def test_pyinstaller_spec_and_entry_are_valid_python() -> None:
    for name in ("skylift.spec", "skylift_entry.py"):
        source = (PACKAGING / name).read_text()
        compile(source, name, "exec")
    spec = (PACKAGING / "skylift.spec").read_text()
    assert "bundle_identifier=APP_ID" in spec
    assert "console=False" in spec
