"""Where Skylift keeps its files, and how it writes them (0600 files in 0700 folders)."""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

import platformdirs

from skylift import APP_NAME

# Run from cron or ssh, XDG_RUNTIME_DIR is often unset; platformdirs then uses the
# session's /run/user/UID (where the app's socket is) or a private folder in /tmp,
# which is what Skylift wants, but warns on every command. A runtime folder that is
# set and unsafe is still warned about.
warnings.filterwarnings(
    "ignore",
    message="XDG_RUNTIME_DIR is not set",
    category=getattr(platformdirs, "RuntimeDirWarning", UserWarning),
)


def _dirs() -> platformdirs.PlatformDirs:
    return platformdirs.PlatformDirs(APP_NAME, appauthor=False)


def config_dir() -> Path:
    return Path(_dirs().user_config_dir)


def data_dir() -> Path:
    return Path(_dirs().user_data_dir)


def log_dir() -> Path:
    return Path(_dirs().user_log_dir)


def runtime_dir() -> Path:
    return Path(_dirs().user_runtime_dir)


def settings_file() -> Path:
    return config_dir() / "settings.json"


def queue_file() -> Path:
    return data_dir() / "queue.sqlite3"


def log_file() -> Path:
    return log_dir() / "skylift.log"


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents as 0700, and make ``path`` itself 0700."""
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for folder in reversed(missing):  # every folder Skylift makes is private, not just the last
        folder.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(OSError):
        if (path.stat().st_mode & 0o777) != 0o700:
            path.chmod(0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data``, as a 0600 file.

    The old content survives any failure (a full disk included): the new bytes go to a
    temporary file in the same folder, are flushed to disk, and only then renamed over.
    """
    import tempfile  # only writers need it; readers of the paths start faster

    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
