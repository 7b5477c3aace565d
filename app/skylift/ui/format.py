"""Numbers into words for people: sizes, speeds, durations, counts.

Signals carry numbers; this is the one place they become text.
"""

from __future__ import annotations

import math

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def size(n: float) -> str:
    """Decimal units, as file managers and cloud services show them: ``8.3 MB``."""
    if n < 0 or math.isnan(n):
        return ""
    value = float(n)
    for unit in _UNITS:
        if value < 1000 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
        value /= 1000
    return ""  # pragma: no cover


def speed(bytes_per_s: float) -> str:
    if bytes_per_s <= 0 or math.isnan(bytes_per_s):
        return ""
    return f"{size(bytes_per_s)}/s"


def duration(seconds: float) -> str:
    """Rounded the way a person says it: ``45 s``, ``2 min``, ``1 h 5 min``, ``3 days``."""
    if seconds < 0 or math.isnan(seconds) or math.isinf(seconds):
        return ""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    minutes = round(s / 60)
    if minutes < 60:
        return f"{minutes} min"
    if s < 86400:
        h, m = divmod(minutes, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    days = s // 86400
    return f"{days} day" if days == 1 else f"{days} days"


def time_left(seconds: float) -> str:
    text = duration(seconds)
    return f"{text} left" if text else ""


def count(n: int, one: str, many: str | None = None) -> str:
    """``1 photo``, ``40 photos``, ``1,200 photos``."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def percent(done: float, total: float) -> int:
    if total <= 0:
        return 0
    return max(0, min(100, int(done * 100 / total)))


def progress_line(done: int, total: int, speed_bps: float, eta_s: float) -> str:
    """The tray tooltip's line: ``12 of 40 · 8.3 MB/s · 2 min left``."""
    parts = [f"{done:,} of {total:,}"]
    if speed_bps > 0:
        parts.append(speed(speed_bps))
    left = time_left(eta_s)
    if left:
        parts.append(left)
    return " · ".join(parts)


def rate(fraction: float | None) -> str:
    """A share as people read it: ``97 %``, ``99.5 %``; ``—`` when there is none yet."""
    if fraction is None or math.isnan(fraction):
        return "—"
    pct = max(0.0, min(1.0, fraction)) * 100
    if 99 < pct < 100:
        return f"{math.floor(pct * 10) / 10:.1f} %"  # 99.96 % is not 100 %
    return f"{math.floor(pct):.0f} %" if pct < 100 else "100 %"


def average_time(seconds: float | None) -> str:
    """An average upload time: ``2.4 s`` below ten seconds, then as ``duration``."""
    if seconds is None or seconds < 0 or math.isnan(seconds) or math.isinf(seconds):
        return "—"
    if seconds < 10:
        return f"{seconds:.1f} s"
    return duration(seconds)
