"""Small things the desktop app remembers (window size, messages already shown).

Kept in ``ui-state.ini`` beside settings.json, looked up on every use so that a profile
chosen through XDG_CONFIG_HOME is honoured (QSettings' own default path is fixed once
per process).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from skylift.core import paths


def ui_state() -> QSettings:
    folder = paths.private_dir(paths.config_dir())
    return QSettings(str(folder / "ui-state.ini"), QSettings.Format.IniFormat)
