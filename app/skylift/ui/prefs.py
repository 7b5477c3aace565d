"""Small things the desktop app remembers (window size, messages already shown).

Kept in ``ui-state.ini`` beside settings.json, looked up on every use so that a profile
chosen through XDG_CONFIG_HOME is honoured (QSettings' own default path is fixed once
per process).
"""

from __future__ import annotations

import contextlib
import os
import stat

from PySide6.QtCore import QSettings

from skylift.core import paths


def ui_state() -> QSettings:
    folder = paths.private_dir(paths.config_dir())
    path = folder / "ui-state.ini"
    with contextlib.suppress(OSError):
        # made private first: QSettings then replaces it keeping its mode (else 0644)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        if stat.S_IMODE(path.stat().st_mode) != 0o600:
            path.chmod(0o600)
    return QSettings(str(path), QSettings.Format.IniFormat)
