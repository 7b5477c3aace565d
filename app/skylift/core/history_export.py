"""The upload history as rows: the CSV export (desktop and ``skylift history --csv``)
and the terminal table. No Qt here."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import datetime
from typing import TextIO

from skylift.core.store import Job

COLUMNS = (
    "id",
    "path",
    "destination",
    "state",
    "finished",
    "size",
    "attempts",
    "upload_seconds",
    "verified",
    "link",
    "note",
    "error",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # a spreadsheet would run a cell that begins like a formula
    return "'" + text if text.startswith(_FORMULA) else text


def row(job: Job) -> list[str]:
    """One job as the CSV's cells, in COLUMNS order."""
    seconds = f"{job.duration:.1f}" if job.duration is not None else ""
    return [
        str(job.id),
        _cell(str(job.path)),
        _cell(job.destination),
        job.state.value,
        job.finished or "",
        str(job.size),
        str(job.attempts),
        seconds,
        _cell(job.verified),
        _cell(job.link),
        _cell(job.note),
        _cell(job.error),
    ]


def write_csv(jobs: Iterable[Job], out: TextIO) -> int:
    """Write a header and one row per job; returns the number of rows."""
    w = csv.writer(out)
    w.writerow(COLUMNS)
    n = 0
    for job in jobs:
        w.writerow(row(job))
        n += 1
    return n


def local_time(iso: str | None) -> str:
    """``2024-05-01T10:00:00Z`` in this computer's time zone: ``2024-05-01 12:00``."""
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def table_lines(jobs: Iterable[Job]) -> list[str]:
    """A plain table for a terminal: finished, state, size, path -> destination; the
    error (or note) of a job on the line below it."""
    lines = []
    for j in jobs:
        when = (j.finished or "").replace("T", " ").rstrip("Z")
        line = (
            f"{j.id:>6}  {when:<19}  {j.state.value:<9}  {j.size:>12,}  {j.path} -> {j.destination}"
        )
        if j.link:
            line += f"\n        link: {j.link}"
        if j.error and j.state.value != "done":
            line += f"\n        {j.error}"
        elif j.note:
            line += f"\n        {j.note}"
        lines.append(line)
    return lines
