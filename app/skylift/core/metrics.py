"""Upload statistics: figures over the whole history, and the last hour of bandwidth.

The figures come from one aggregate query over the jobs (cleared ones included, since
the history keeps them); ``compute`` turns those sums into the ``metrics`` object that
``skylift status --json`` prints. Bandwidth is sampled by the engine while rclone runs
and kept, averaged into fixed steps, in a bounded window.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

STEP_S = 10.0  # one point of history per this many seconds
WINDOW_S = 3600.0  # how much history is kept


@dataclass(frozen=True)
class Totals:
    """Sums over the jobs table (``Store.metrics_totals``)."""

    done: int = 0
    failed: int = 0  # every failed job, cleared or not
    failed_shown: int = 0  # failed jobs still in the queue
    retried: int = 0  # done or failed after more than one try
    retried_done: int = 0
    queued: int = 0
    uploading: int = 0
    uploaded_bytes: int = 0
    average_seconds: float | None = None  # of done jobs that moved bytes


class Metrics(TypedDict):
    """The ``metrics`` object of ``skylift status --json``."""

    success_rate: float | None  # done / (done + failed); None before any finished
    average_upload_seconds: float | None
    failed: int
    retried: int
    retry_success_rate: float | None
    queue_size: int
    uploaded_bytes: int
    bandwidth_bps: float
    bandwidth_history: list[list[float]]  # [unix time, bytes per second], oldest first


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def compute(
    totals: Totals,
    bandwidth_bps: float = 0.0,
    history: Sequence[tuple[float, float]] = (),
) -> Metrics:
    """The ``metrics`` object of ``skylift status --json``."""
    avg = totals.average_seconds
    return {
        "success_rate": _ratio(totals.done, totals.done + totals.failed),
        "average_upload_seconds": avg if avg is not None and math.isfinite(avg) else None,
        "failed": totals.failed_shown,
        "retried": totals.retried,
        "retry_success_rate": _ratio(totals.retried_done, totals.retried),
        "queue_size": totals.queued + totals.uploading,
        "uploaded_bytes": totals.uploaded_bytes,
        "bandwidth_bps": max(0.0, float(bandwidth_bps)),
        "bandwidth_history": [[round(t, 3), round(b, 1)] for t, b in history],
    }


class BandwidthHistory:
    """Speeds averaged into ``step``-second points; at most ``window`` seconds kept.

    Memory is bounded by the number of steps in the window, whatever is fed in.
    """

    def __init__(self, step: float = STEP_S, window: float = WINDOW_S):
        self.step = step
        self.window = window
        self._points: deque[tuple[float, float]] = deque(maxlen=max(1, int(window // step)))
        self._bucket: float | None = None  # start of the step being filled
        self._sum = 0.0
        self._n = 0

    def add(self, t: float, bps: float) -> None:
        bucket = math.floor(t / self.step) * self.step
        if self._bucket is not None and bucket < self._bucket:
            return  # the clock went back: keep the points in order
        if bucket != self._bucket:
            self._close()
            self._bucket = bucket
        self._sum += max(0.0, bps)
        self._n += 1

    def _close(self) -> None:
        if self._bucket is not None and self._n:
            self._points.append((self._bucket, self._sum / self._n))
        self._bucket, self._sum, self._n = None, 0.0, 0

    def points(self, now: float | None = None) -> list[tuple[float, float]]:
        """(unix time, bytes per second) for the last ``window`` seconds, oldest first;
        the step being filled is included."""
        pts = list(self._points)
        if self._bucket is not None and self._n:
            pts.append((self._bucket, self._sum / self._n))
        if now is None:
            now = time.time()
        return [p for p in pts if p[0] >= now - self.window]

    def __len__(self) -> int:
        return len(self._points)
