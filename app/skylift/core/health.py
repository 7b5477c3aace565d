"""Connection health: when to check that the remote answers, and what the last check said.

The check itself is the engine's probe (``connection.args`` run through ``RcloneRun``);
this module holds the state and the schedule, as plain Python, so both are unit-tested.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from skylift.core.rclone_args import split_remote

CHECK_EVERY_S = 300.0  # while files wait, or while the last check failed
AFTER_FAILURE_S = 30.0  # soon after an upload failed


def next_check(
    *,
    queued: int,
    failed: int,
    busy: bool,
    failure_pending: bool,
    healthy: bool,
) -> float | None:
    """Seconds until the next connection check, or None for no check at all.

    ``busy``: rclone runs (uploads or a probe), the computer sleeps, or the engine
    already waits for an unreachable remote; those speak for the connection themselves.
    """
    if busy:
        return None
    if failure_pending:
        return AFTER_FAILURE_S
    if queued or (failed and not healthy):
        return CHECK_EVERY_S
    return None


def target_for(destination: str) -> str:
    """The folder a check lists for an upload going to ``destination``:
    ``'dropbox:/Photos/x/a.jpg'`` -> ``'dropbox:/Photos/x'``."""
    name, path = split_remote(destination)
    return f"{name}:{posixpath.dirname(path)}"


@dataclass
class HealthState:
    """What the last connection check (or upload) said; healthy until told otherwise."""

    ok: bool = True
    message: str = ""  # a plain sentence while failing
    failure_pending: bool = False  # an upload failed since the last check
    verdicts: int = 0  # how many checks and uploads have reported

    def report(self, ok: bool, message: str = "") -> bool:
        """Record a verdict; True when ``ok`` changed."""
        changed = ok != self.ok
        self.verdicts += 1
        self.ok = ok
        self.message = "" if ok else (message or "The remote did not answer.")
        self.failure_pending = False
        return changed
