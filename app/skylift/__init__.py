"""Skylift: a system-tray uploader for photographers, driving rclone."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: `import skylift` must stay cheap for the CLI
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"
APP_NAME = "skylift"

if TYPE_CHECKING:
    from skylift.entry.api import CloudSyncManager, Job

__all__ = ["APP_NAME", "CloudSyncManager", "Job", "__version__"]


def __getattr__(name: str) -> Any:
    # The API pulls in QtCore; importing it lazily keeps `import skylift` cheap.
    if name in ("CloudSyncManager", "Job"):
        from skylift.entry import api

        return getattr(api, name)
    raise AttributeError(f"module 'skylift' has no attribute {name!r}")
