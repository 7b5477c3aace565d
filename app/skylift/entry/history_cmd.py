"""``skylift history``: finished uploads from the queue database, read-only."""

from __future__ import annotations

import sys

from skylift.core import paths
from skylift.core.history_export import table_lines, write_csv
from skylift.core.store import Job, Store

TABLE_LIMIT = 100


def _jobs(search: str, limit: int | None) -> list[Job]:
    if not paths.queue_file().exists():
        return []
    store = Store(readonly=True)
    try:
        return store.history(search, limit)
    finally:
        store.close()


def run(search: str, csv_file: str | None, limit: int | None) -> int:
    if limit is not None and limit < 0:
        raise ValueError(f"--limit wants a number of uploads, 0 or more, not {limit}.")
    if csv_file is None:
        shown = TABLE_LIMIT if limit is None else limit
        jobs = _jobs(search, shown or None)
        for line in table_lines(jobs):
            print(line)
        if not jobs:
            print("No finished uploads" + (f" match '{search}'." if search else " yet."))
        elif limit is None and len(jobs) == TABLE_LIMIT:
            print(f"(the newest {TABLE_LIMIT}; --limit 0 shows all, --csv FILE exports them)")
        return 0
    jobs = _jobs(search, limit or None)
    if csv_file == "-":
        write_csv(jobs, sys.stdout)
        return 0
    try:
        with open(csv_file, "w", newline="", encoding="utf-8") as f:
            n = write_csv(jobs, f)
    except OSError as e:
        raise ValueError(
            f"{csv_file} could not be written ({e.strerror}); choose another file."
        ) from None
    print(f"Wrote {n:,} upload(s) to {csv_file}.", file=sys.stderr)
    return 0
