"""What the tray, the summary line and the menu say about the queue as a whole.

Pure functions over numbers, so every wording and every icon choice is unit-tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from skylift.ui import format as fmt
from skylift.ui.icons import TrayState

# The engine's plain sentences for a remote that cannot be reached (core/messages.py).
CONNECTION_PHRASES = (
    "refused the connection",
    "could not be found",
    "unreachable",
    "did not answer",
    "connection to the remote was lost",
)


def is_connection_error(text: str | None) -> bool:
    low = (text or "").lower()
    return any(p in low for p in CONNECTION_PHRASES)


@dataclass(frozen=True)
class Summary:
    """The current batch: the jobs queued since the queue was last idle."""

    total: int = 0  # jobs in the batch, cancelled ones left out
    finished: int = 0  # of those: uploaded or failed for good
    failed: int = 0
    active: int = 0  # queued or uploading
    bytes_total: int = 0
    bytes_done: int = 0
    speed: float = 0.0  # bytes per second, all transfers together
    uploaded: int = 0  # of the finished: those sent to the remote
    skipped: int = 0  # of the finished: sent before and unchanged, so not sent again

    @property
    def to_send(self) -> int:
        """The jobs of the batch that are (or were) for sending: the skipped left out."""
        return self.total - self.skipped

    @property
    def eta(self) -> float:
        """Seconds left at the current speed; -1 when unknown."""
        left = self.bytes_total - self.bytes_done
        if self.speed <= 0 or left <= 0:
            return -1.0
        return left / self.speed

    @property
    def fraction(self) -> float:
        if self.bytes_total > 0:
            return min(1.0, self.bytes_done / self.bytes_total)
        return self.finished / self.total if self.total else 0.0


def tray_state(
    counts: Mapping[str, int],
    paused: bool,
    problem: str,
    offline: bool,
    enabled: bool = True,
) -> TrayState:
    """One state for the icon. A problem that stops everything wins; then what the
    person chose (paused, or uploads turned off); then what the network does; then
    work; then old failures."""
    active = counts.get("queued", 0) + counts.get("uploading", 0)
    if problem:
        return TrayState.ERROR
    if paused or (not enabled and active):
        return TrayState.PAUSED
    if offline and active:
        return TrayState.OFFLINE
    if active:
        return TrayState.UPLOADING
    if counts.get("failed", 0):
        return TrayState.ERROR
    return TrayState.IDLE


def headline(
    state: TrayState,
    summary: Summary,
    counts: Mapping[str, int],
    problem: str = "",
    offline_reason: str = "",
    enabled: bool = True,
) -> str:
    """One short line: the menu's status line and the first line of the tooltip."""
    failed = counts.get("failed", 0)
    waiting = counts.get("queued", 0) + counts.get("uploading", 0)
    if state is TrayState.ERROR and problem:
        return "Uploads are stopped"
    if state is TrayState.PAUSED and not enabled:
        return f"Uploads are off · {fmt.count(waiting, 'file')} queued"
    if state is TrayState.PAUSED:
        return f"Paused · {fmt.count(waiting, 'upload')} waiting" if waiting else "Paused"
    if state is TrayState.OFFLINE:
        return "Offline · waiting for the remote"
    if state is TrayState.UPLOADING:
        return fmt.progress_line(summary.uploaded, summary.to_send, summary.speed, summary.eta)
    if state is TrayState.ERROR:
        return f"{fmt.count(failed, 'upload')} failed"
    return "All uploads done" if counts.get("done", 0) else "Ready for uploads"


def tooltip(
    state: TrayState,
    summary: Summary,
    counts: Mapping[str, int],
    problem: str = "",
    offline_reason: str = "",
    enabled: bool = True,
) -> str:
    lines = [headline(state, summary, counts, problem, offline_reason, enabled)]
    failed = counts.get("failed", 0)
    if problem:
        lines.append(problem)
    elif state is TrayState.OFFLINE and offline_reason:
        lines.append(offline_reason)
    if failed and state is not TrayState.ERROR:
        lines.append(f"{fmt.count(failed, 'upload')} failed")
    return "\n".join(lines)


def summary_text(state: TrayState, summary: Summary, counts: Mapping[str, int]) -> str:
    """The queue window's summary line (the progress bar beside it shows the fraction)."""
    parts: list[str] = []
    if summary.total:
        if summary.to_send:
            parts.append(f"{summary.uploaded:,} of {summary.to_send:,} uploaded")
        if summary.skipped:
            parts.append(f"{summary.skipped:,} already uploaded, not sent again")
        if summary.bytes_total:
            parts.append(f"{fmt.size(summary.bytes_done)} of {fmt.size(summary.bytes_total)}")
        if summary.active and summary.speed > 0:
            parts.append(fmt.speed(summary.speed))
            left = fmt.time_left(summary.eta)
            if left:
                parts.append(left)
    else:
        done = counts.get("done", 0)
        parts.append(f"{fmt.count(done, 'file')} uploaded" if done else "Nothing to upload yet")
    if state is TrayState.PAUSED:
        parts.insert(0, "Paused")
    elif state is TrayState.OFFLINE:
        parts.insert(0, "Offline, will retry")
    failed = counts.get("failed", 0)
    if failed:
        parts.append(f"{failed:,} failed")
    return " · ".join(parts)
