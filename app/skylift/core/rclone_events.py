"""Turning rclone's JSON log (``--use-json-log -v --stats``) into typed events.

One line in, one event out; nothing here raises on bad input. A line that is not a
JSON object becomes ``Text``. Recorded output of rclone 1.60.1 and 1.75.x is in
tests/fixtures/rclone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

PARTIAL = re.compile(r"\.[0-9a-f]{8}\.partial$")


def strip_partial(name: str) -> str:
    """rclone uploads some backends to ``name.XXXXXXXX.partial``; give back ``name``."""
    return PARTIAL.sub("", name)


@dataclass(frozen=True)
class FileProgress:
    name: str
    bytes: int
    size: int
    speed: float  # bytes per second, averaged by rclone
    eta: float | None  # seconds


@dataclass(frozen=True)
class Stats:
    bytes: int
    total_bytes: int
    speed: float
    eta: float | None
    errors: int
    transfers: int
    total_transfers: int
    transferring: tuple[FileProgress, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Copied:
    name: str
    replaced: bool
    size: int | None = None


@dataclass(frozen=True)
class FileError:
    name: str
    message: str


@dataclass(frozen=True)
class Attempt:
    """``Attempt 1/1 failed with 2 errors and: ...``: the summary of one rclone try."""

    number: int
    total: int
    errors: int
    message: str


@dataclass(frozen=True)
class Failure:
    """An error about the run as a whole (no file named), e.g. a remote that is not there."""

    message: str


@dataclass(frozen=True)
class Log:
    level: str
    message: str
    name: str | None = None


@dataclass(frozen=True)
class Text:
    """A line that is not a JSON log record (logged, never fatal)."""

    line: str


Event = Stats | Copied | FileError | Attempt | Failure | Log | Text

_ATTEMPT = re.compile(r"^Attempt (\d+)/(\d+) (?:failed with (\d+) errors? and: )?(.*)$", re.S)
_ERROR_LEVELS = {"error", "critical", "fatal", "emergency", "alert"}


def _about_remote(rec: dict[str, Any], name: str) -> bool:
    """An error whose object is the remote itself (``*sftp.Fs``), not one file."""
    kind = rec.get("objectType")
    return (isinstance(kind, str) and kind.endswith(".Fs")) or "://" in name


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError, OverflowError):
        return 0


def _float(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return f if f == f and f not in (float("inf"), float("-inf")) else 0.0


def _eta(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return f if 0 <= f < 1e9 else None


def _stats(s: dict[str, Any]) -> Stats:
    files = []
    transferring = s.get("transferring")
    if isinstance(transferring, list):
        for t in transferring:
            if isinstance(t, dict) and isinstance(t.get("name"), str):
                files.append(
                    FileProgress(
                        name=strip_partial(t["name"]),
                        bytes=_int(t.get("bytes")),
                        size=_int(t.get("size")),
                        speed=_float(t.get("speedAvg", t.get("speed"))),
                        eta=_eta(t.get("eta")),
                    )
                )
    return Stats(
        bytes=_int(s.get("bytes")),
        total_bytes=_int(s.get("totalBytes")),
        speed=_float(s.get("speed")),
        eta=_eta(s.get("eta")),
        errors=_int(s.get("errors")),
        transfers=_int(s.get("transfers")),
        total_transfers=_int(s.get("totalTransfers")),
        transferring=tuple(files),
    )


def clean_message(msg: str) -> str:
    """The first meaningful line of an rclone message, without its trailing space."""
    return " ".join(msg.split()) if msg else ""


def parse_line(line: str | bytes) -> Event:
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    text = line.strip()
    if not text.startswith("{"):
        return Text(text)
    try:
        rec = json.loads(text)
    except (ValueError, RecursionError):
        return Text(text)
    if not isinstance(rec, dict):
        return Text(text)
    level = str(rec.get("level", "")).lower()
    msg = rec.get("msg")
    msg = msg if isinstance(msg, str) else ""
    obj = rec.get("object")
    name = strip_partial(obj) if isinstance(obj, str) and obj else None

    stats = rec.get("stats")
    if isinstance(stats, dict):
        return _stats(stats)

    if name is not None and "Copied (" in msg:
        return Copied(
            name, replaced="replaced" in msg, size=_int(rec["size"]) if "size" in rec else None
        )

    if level in _ERROR_LEVELS:
        m = _ATTEMPT.match(msg.strip())
        if m and name is None:
            return Attempt(
                number=_int(m.group(1)),
                total=_int(m.group(2)),
                errors=_int(m.group(3)),
                message=clean_message(m.group(4)),
            )
        if name is not None and not _about_remote(rec, name):
            return FileError(name, clean_message(msg))
        return Failure(clean_message(msg))
    return Log(level, clean_message(msg), name)
