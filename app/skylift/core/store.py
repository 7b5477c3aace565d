"""The persistent upload queue: one SQLite database in WAL mode.

Every state change is committed before anyone is told of it, so a crash at any moment
leaves a queue that says no more than what is true. Progress (bytes sent) is kept in
memory by the engine and only written with state changes.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from skylift.core import paths
from skylift.core.metrics import Totals

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2


class JobState(str, enum.Enum):
    QUEUED = "queued"
    UPLOADING = "uploading"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


ACTIVE = (JobState.QUEUED, JobState.UPLOADING)


class StoreError(RuntimeError):
    """The queue database cannot be used; the message says why and what to do."""


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Job:
    id: int
    path: Path
    destination: str
    size: int
    mtime: float
    state: JobState
    bytes: int
    attempts: int
    error: str | None
    created: str
    finished: str | None
    next_try: float
    started: float | None = None  # epoch seconds the last try began
    duration: float | None = None  # seconds the successful try took; None if nothing moved
    verified: str | None = None  # None unchecked; "hash:md5", "size", or "mismatch"
    link: str | None = None  # a share link made for this file's folder
    note: str | None = None  # e.g. "Already uploaded"
    cleared: bool = False  # hidden from the queue, kept in the history
    origin: str | None = None  # the hot folder it came from, if any
    force: bool = False  # upload even if the remote looks identical (after a mismatch)

    @property
    def output_path(self) -> str:
        """Where the file lands: the same as ``destination`` (``remote:path/name``)."""
        return self.destination

    @property
    def remote_path(self) -> str:
        return self.destination

    @property
    def status(self) -> str:
        return self.state.value

    @property
    def name(self) -> str:
        return self.path.name

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": str(self.path),
            "destination": self.destination,
            "state": self.state.value,
            "size": self.size,
            "bytes": self.bytes,
            "attempts": self.attempts,
            "error": self.error,
            "created": self.created,
            "finished": self.finished,
            "verified": self.verified,
            "link": self.link,
            "note": self.note,
        }


_COLUMNS = (
    "id, path, destination, size, mtime, state, bytes, attempts, error, created, finished, "
    "next_try, started, duration, verified, link, note, cleared, origin, force"
)

# Job.as_dict's keys, in its order; the columns have the same names
_DICT_KEYS = (
    "id",
    "path",
    "destination",
    "state",
    "size",
    "bytes",
    "attempts",
    "error",
    "created",
    "finished",
    "verified",
    "link",
    "note",
)
_DICT_COLUMNS = ", ".join(_DICT_KEYS)

# columns that set_fields may write; the rest change only through state transitions
_FIELDS = frozenset({"verified", "link", "note", "origin", "force"})

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        path TEXT NOT NULL,
        destination TEXT NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        mtime REAL NOT NULL DEFAULT 0,
        state TEXT NOT NULL,
        bytes INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        finished TEXT,
        next_try REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX jobs_state ON jobs(state, next_try, id);
    CREATE INDEX jobs_path ON jobs(path, destination);
    """,
    2: """
    ALTER TABLE jobs ADD COLUMN started REAL;
    ALTER TABLE jobs ADD COLUMN duration REAL;
    ALTER TABLE jobs ADD COLUMN verified TEXT;
    ALTER TABLE jobs ADD COLUMN link TEXT;
    ALTER TABLE jobs ADD COLUMN note TEXT;
    ALTER TABLE jobs ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN origin TEXT;
    ALTER TABLE jobs ADD COLUMN force INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE uploaded (
        path TEXT NOT NULL,
        destination TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime REAL NOT NULL,
        hash TEXT,
        uploaded REAL NOT NULL,
        PRIMARY KEY (path, destination)
    );
    """,
}

# Indexes that need no new schema version: a Skylift that does not know one only keeps
# it up to date. counts() runs after every flush of a busy batch; this index lets it
# read only the index, not every job of a long history (3.7 against 1.3 ms at 33,000).
_INDEXES = ("CREATE INDEX IF NOT EXISTS jobs_live ON jobs(cleared, state)",)
COUNTS_QUERY = "SELECT state, count(*) FROM jobs WHERE cleared = 0 GROUP BY state"


def _row(r: Sequence[Any]) -> Job:
    return Job(
        id=r[0],
        path=Path(r[1]),
        destination=r[2],
        size=r[3],
        mtime=r[4],
        state=JobState(r[5]),
        bytes=r[6],
        attempts=r[7],
        error=r[8],
        created=r[9],
        finished=r[10],
        next_try=r[11],
        started=r[12],
        duration=r[13],
        verified=r[14],
        link=r[15],
        note=r[16],
        cleared=bool(r[17]),
        origin=r[18],
        force=bool(r[19]),
    )


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[tuple[list[Any], str]]:
    """``values`` in slices for ``IN (...)``, each with its ``?,?,...`` placeholders: many
    ids or paths at once, far below SQLite's limit on bound values."""
    for start in range(0, len(values), size):
        chunk = list(values[start : start + size])
        yield chunk, ",".join("?" * len(chunk))


def _new_job(
    job_id: int,
    path: Path,
    destination: str,
    size: int,
    mtime: float,
    created: str,
    origin: str | None,
    force: bool = False,
) -> Job:
    """The Job that reading a row just inserted by ``Store.add`` would give."""
    return Job(
        id=job_id,
        path=path if isinstance(path, Path) else Path(path),
        destination=destination,
        size=int(size),
        mtime=float(mtime),
        state=JobState.QUEUED,
        bytes=0,
        attempts=0,
        error=None,
        created=created,
        finished=None,
        next_try=0.0,
        origin=origin,
        force=force,
    )


def explain(path: Path, e: sqlite3.Error) -> str:
    """One plain sentence for a database error on the queue at ``path``."""
    text = str(e)
    if "locked" in text or "busy" in text:
        return f"The upload queue {path} is locked by another program; close it and try again."
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return (
            f"The upload queue {path} cannot be written; check that its folder "
            "is yours and writable."
        )
    if "no such table" in text:
        return f"The upload queue {path} has no queue in it yet; start Skylift once."
    if "full" in text:
        return (
            f"The disk holding the upload queue {path} is full; free some space and try "
            "again (what was queued before is kept)."
        )
    return (
        f"The upload queue {path} is damaged ({text}); move it aside to start "
        "a new queue (Skylift will not erase it for you)."
    )


# how long a reader waits for the tables of a queue another process is creating
CREATING_WAIT_S = 3.0


class Store:
    """The queue. Use it from one thread; other processes may read it at the same time."""

    def __init__(self, path: Path | None = None, *, readonly: bool = False):
        self.path = path or paths.queue_file()
        self._held_ids: frozenset[int] | None = None  # see hold_dicts()
        self._held: tuple[int, dict[int, dict[str, Any]]] | None = None
        paths.private_dir(self.path.parent)
        if not readonly and not self.path.exists():
            # create it private before SQLite does, with the umask's mode
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        try:
            if readonly:
                self._db = self._open_readonly()
            else:
                self._db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout = 5000")
            if not readonly:
                mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode != "wal":
                    log.warning("queue database is not in WAL mode (%s)", mode)
                self._db.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
        except sqlite3.DatabaseError as e:
            raise StoreError(self._explain(e)) from e
        for suffix in ("", "-wal", "-shm"):
            f = Path(f"{self.path}{suffix}")
            if f.exists() and (f.stat().st_mode & 0o777) != 0o600:
                with contextlib.suppress(OSError):
                    f.chmod(0o600)

    def _open_readonly(self) -> sqlite3.Connection:
        """Open for reading only. A queue file with no tables at all is being created by
        the first Skylift command (which makes the file, then its tables): wait for them
        a moment, as for a lock, rather than tell the user to start Skylift."""
        deadline = time.monotonic() + CREATING_WAIT_S
        while True:
            try:
                return self._open_readonly_now()
            except sqlite3.OperationalError as e:
                if (
                    "no such table" not in str(e)
                    or time.monotonic() >= deadline
                    or not self._being_created()
                ):
                    raise
            time.sleep(0.02)

    def _being_created(self) -> bool:
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
            try:
                return db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
            finally:
                db.close()
        except sqlite3.Error:
            return False

    def _open_readonly_now(self) -> sqlite3.Connection:
        """Open for reading only; on a read-only disk, where SQLite cannot make the WAL
        index, read the file as it stands (``immutable``), which is all a reader needs."""
        error: sqlite3.Error | None = None
        for query in ("mode=ro", "mode=ro&immutable=1"):
            db = sqlite3.connect(
                f"file:{self.path}?{query}", uri=True, timeout=5, isolation_level=None
            )
            try:
                db.execute("SELECT count(*) FROM jobs").fetchone()
                return db
            except sqlite3.OperationalError as e:
                db.close()
                error = e
                if "no such table" in str(e):
                    break
        assert error is not None
        raise error

    def _explain(self, e: sqlite3.Error) -> str:
        return explain(self.path, e)

    def close(self) -> None:
        self._db.close()

    # --- schema ---------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The upload queue {self.path} was written by a newer Skylift "
                f"(schema {version}); update Skylift to use it."
            )
        if version and version < SCHEMA_VERSION:
            backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copy2(self.path, backup)
            os.chmod(backup, 0o600)
            log.info("backed up the queue to %s before upgrading its schema", backup)
        for v in range(version + 1, SCHEMA_VERSION + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _MIGRATIONS[v].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {v}")
                self._db.execute("COMMIT")
            except sqlite3.Error as e:
                self._db.execute("ROLLBACK")  # the queue stays as it was, at schema v - 1
                raise StoreError(
                    f"The upload queue {self.path} could not be upgraded to schema {v} "
                    f"({e}); it is unchanged, and a copy is kept beside it."
                ) from e
        for statement in _INDEXES:
            try:
                self._db.execute(statement)
            except sqlite3.Error as e:  # the queue works without it, only slower
                log.warning("could not add an index to the upload queue: %s", e)

    # --- reading ----------------------------------------------------------------------

    def get(self, job_id: int) -> Job | None:
        r = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _row(r) if r else None

    def jobs(
        self, states: Iterable[JobState] | None = None, ids: Iterable[int] | None = None
    ) -> list[Job]:
        sql = f"SELECT {_COLUMNS} FROM jobs WHERE "
        args: list[Any] = []
        where = []
        if states is not None:
            st = [s.value for s in states]
            where.append(f"state IN ({','.join('?' * len(st))})")
            args += st
        if ids is None:
            where.append("cleared = 0")  # cleared jobs live on in the history only
            everything = self._db.execute(sql + " AND ".join(where) + " ORDER BY id", args)
            return [_row(r) for r in everything]
        rows: list[tuple[Any, ...]] = []
        for chunk, marks in _chunks(sorted(set(ids))):  # a selection of 50,000 rows too
            cond = " AND ".join([*where, f"id IN ({marks})"])
            rows += self._db.execute(sql + cond, [*args, *chunk]).fetchall()
        rows.sort()  # by id, the first column
        return [_row(r) for r in rows]

    def job_dicts(self, ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """These jobs as ``Job.as_dict`` gives them (cleared or not, by id; without ids,
        every job still in the queue, as ``jobs()``), read straight into dicts: a client
        following its uploads, or the queue window, asks for them after every change,
        and building a Job and a Path for each costs more than the read."""
        if ids is None:
            everything = self._db.execute(
                f"SELECT {_DICT_COLUMNS} FROM jobs WHERE cleared = 0 ORDER BY id"
            )
            return [dict(zip(_DICT_KEYS, r, strict=True)) for r in everything]
        id_list = sorted(set(ids))
        held = self._held_ids
        if held is not None and held.issuperset(id_list):
            if self._held is None or self._held[0] != self._db.total_changes:
                read = self._read_dicts(sorted(held))
                self._held = (self._db.total_changes, {d["id"]: d for d in read})
            rows_by_id = self._held[1]
            return [dict(rows_by_id[i]) for i in id_list if i in rows_by_id]
        return self._read_dicts(id_list)

    def hold_dicts(self, ids: Iterable[int] | None) -> None:
        """Several listeners ask for the same changed jobs after each of the engine's
        flushes (the queue window, a waiting client): until ``hold_dicts(None)``, asking
        for some of ``ids`` reads all of them once and then answers from that reading,
        each caller getting its own copies. Any write to the queue in between (counted
        by SQLite's ``total_changes``) makes the next request read afresh."""
        self._held_ids = frozenset(ids) if ids is not None else None
        self._held = None

    def _read_dicts(self, id_list: list[int]) -> list[dict[str, Any]]:
        rows: list[tuple[Any, ...]] = []
        for chunk, marks in _chunks(id_list):
            rows += self._db.execute(
                f"SELECT {_DICT_COLUMNS} FROM jobs WHERE id IN ({marks})", chunk
            ).fetchall()
        rows.sort()
        # paths are stored as str(Path), so they read back as as_dict writes them
        return [dict(zip(_DICT_KEYS, r, strict=True)) for r in rows]

    def last_job(self, path: str, destination: str) -> Job | None:
        """The newest job, cleared or not, that sent ``path`` to ``destination``."""
        r = self._db.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE path = ? AND destination = ? "
            "ORDER BY id DESC LIMIT 1",
            (path, destination),
        ).fetchone()
        return _row(r) if r else None

    def due(self, now: float, limit: int) -> list[Job]:
        """Queued jobs whose backoff has passed, oldest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE state = 'queued' AND next_try <= ? "
            "ORDER BY id LIMIT ?",
            (now, limit),
        )
        return [_row(r) for r in rows]

    def due_before(self, now: float, job_id: int) -> bool:
        """Whether a queued job older than ``job_id`` is due (what ``due`` would give first)."""
        r = self._db.execute(
            "SELECT 1 FROM jobs WHERE state = 'queued' AND next_try <= ? AND id < ? LIMIT 1",
            (now, job_id),
        ).fetchone()
        return r is not None

    def next_wakeup(self) -> float | None:
        r = self._db.execute("SELECT min(next_try) FROM jobs WHERE state = 'queued'").fetchone()
        return r[0]

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in JobState}
        for state, n in self._db.execute(COUNTS_QUERY):
            counts[state] = n
        return counts

    # --- writing ----------------------------------------------------------------------

    def add(
        self,
        items: Sequence[tuple[Path, str, int, float]],
        *,
        origin: str | None = None,
        force: bool = False,
    ) -> tuple[list[Job], int]:
        """Queue (path, destination, size, mtime) items in one transaction.

        A file already waiting or uploading to the same destination is not queued
        twice: its existing job is returned instead. Returns (jobs, newly_added).
        ``force``: the new jobs are sent even if sent before, or the remote's copy
        looks the same.
        The new jobs are built from what was written, not read back: a folder of 1,000
        photos handed over waits for that before its upload starts.
        """
        stamp = now_iso()
        ids: list[int] = []
        made: dict[int, Job] = {}
        added = 0
        with self._transaction():
            seen: dict[tuple[str, str], int] = {}
            for path, destination, size, mtime in items:
                key = (str(path), destination)
                if key in seen:
                    continue
                r = self._db.execute(
                    "SELECT id FROM jobs WHERE path = ? AND destination = ? "
                    "AND state IN ('queued', 'uploading') LIMIT 1",
                    key,
                ).fetchone()
                if r:
                    job_id = r[0]
                else:
                    cur = self._db.execute(
                        "INSERT INTO jobs (path, destination, size, mtime, state, created,"
                        " updated, origin, force) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)",
                        (*key, size, mtime, stamp, stamp, origin, int(force)),
                    )
                    job_id = int(cur.lastrowid or 0)
                    added += 1
                    made[job_id] = _new_job(
                        job_id, path, destination, size, mtime, stamp, origin, force
                    )
                seen[key] = job_id
                ids.append(job_id)
        old = [i for i in ids if i not in made]
        if old:
            made.update((j.id, j) for j in self.jobs(ids=old))
        return [made[i] for i in ids], added

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction around the block, committed at its end and rolled back
        if it raises. Inside another one it simply joins it, so that methods that each
        commit on their own can be combined into a single transaction."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:  # SQLite has already rolled back on a full disk
                self._db.execute("ROLLBACK")
            raise

    def update(
        self,
        job_ids: Iterable[int],
        state: JobState,
        *,
        error: str | None = None,
        bytes_done: int | None = None,
        attempt_delta: int = 0,
        next_try: float | None = None,
        size: int | None = None,
        only_from: Iterable[JobState] | None = None,
    ) -> list[int]:
        """Move jobs to ``state`` in one transaction; returns the ids that changed.

        ``only_from`` restricts the change to jobs currently in one of those states,
        so that, say, a job cancelled meanwhile is not marked done.
        """
        id_list = list(job_ids)
        if not id_list:
            return []
        stamp = now_iso()
        sets = ["state = ?", "updated = ?", "error = ?"]
        args: list[Any] = [state.value, stamp, error]
        sets.append("finished = ?")
        args.append(stamp if state.finished else None)
        if bytes_done is not None:
            sets.append("bytes = ?")
            args.append(bytes_done)
        elif state is JobState.DONE and size is not None:
            sets.append("bytes = ?")
            args.append(size)
        elif state is JobState.DONE:
            sets.append("bytes = size")
        elif state is JobState.QUEUED:
            sets.append("bytes = 0")
        if state is JobState.UPLOADING:
            sets += ["started = ?", "verified = NULL", "note = NULL", "duration = NULL"]
            args.append(time.time())
        elif state is JobState.DONE:
            sets.append("duration = max(0, ? - started)")
            args.append(time.time())
        elif state is JobState.QUEUED:
            sets += ["verified = NULL", "note = NULL"]
        if attempt_delta:
            sets.append("attempts = max(0, attempts + ?)")
            args.append(attempt_delta)
        if next_try is not None:
            sets.append("next_try = ?")
            args.append(next_try)
        if size is not None:
            sets.append("size = ?")
            args.append(size)
        cond = ""
        cond_args: list[Any] = []
        if only_from is not None:
            st = [s.value for s in only_from]
            cond = f" AND state IN ({','.join('?' * len(st))})"
            cond_args = st
        changed: list[int] = []
        with self._transaction():
            for chunk, marks in _chunks(id_list):
                rows = self._db.execute(
                    f"SELECT id FROM jobs WHERE id IN ({marks}){cond}", [*chunk, *cond_args]
                ).fetchall()
                hit = [r[0] for r in rows]
                if not hit:
                    continue
                marks = ",".join("?" * len(hit))
                self._db.execute(
                    f"UPDATE jobs SET {', '.join(sets)} WHERE id IN ({marks})", [*args, *hit]
                )
                changed += hit
        return changed

    def finish_uploads(
        self, records: dict[int, tuple[str, str, int, float, str | None]]
    ) -> list[int]:
        """Mark 'uploading' jobs done and remember what the remote now holds, in one
        transaction; returns the ids that changed. ``records`` maps each job id to
        (path, destination, size, mtime, hash); a job no longer uploading (cancelled
        meanwhile) is neither marked done nor remembered."""
        if not records:
            return []
        with self._transaction():
            changed = self.update(list(records), JobState.DONE, only_from=(JobState.UPLOADING,))
            self.record_uploaded(records[i] for i in changed)
        return changed

    def retry(self, job_ids: Iterable[int]) -> list[int]:
        """Failed or cancelled jobs back in the queue, their attempts counted afresh."""
        return self._requeue(job_ids, (JobState.FAILED, JobState.CANCELLED))

    def send_again(self, job_ids: Iterable[int]) -> list[int]:
        """Done jobs back in the queue, to be sent even if the remote's copy looks the
        same (``force``); their attempts counted afresh."""
        return self._requeue(job_ids, (JobState.DONE,), force=True)

    def _requeue(
        self, job_ids: Iterable[int], only_from: tuple[JobState, ...], force: bool = False
    ) -> list[int]:
        """Ended jobs a person puts back in the queue, in one transaction."""
        with self._transaction():
            changed = self.update(job_ids, JobState.QUEUED, next_try=0, only_from=only_from)
            self.reset_attempts(changed)
            if force:
                self.set_fields(changed, force=True)
        return changed

    def reset_attempts(self, job_ids: Iterable[int]) -> None:
        id_list = list(job_ids)
        for chunk, marks in _chunks(id_list):
            self._db.execute(f"UPDATE jobs SET attempts = 0 WHERE id IN ({marks})", chunk)

    def release_backoff(self) -> int:
        """Queued jobs waiting out a backoff may go now (the remote is back)."""
        return self._db.execute(
            "UPDATE jobs SET next_try = 0 WHERE state = 'queued' AND next_try > 0"
        ).rowcount

    def requeue_interrupted(self) -> int:
        """Jobs left 'uploading' by a crash go back to 'queued'."""
        cur = self._db.execute(
            "UPDATE jobs SET state = 'queued', bytes = 0, updated = ?, next_try = 0 "
            "WHERE state = 'uploading'",
            (now_iso(),),
        )
        return cur.rowcount

    def clear(self, job_ids: Iterable[int]) -> int:
        """Take jobs out of the queue ("Remove from list"), never an upload in progress.

        Their rows stay, cleared, as ``clear_finished`` leaves them: the history still
        shows them, and a watched folder still knows it had the file, so it does not
        queue it again after a restart (it does once the file changes)."""
        n = 0
        with self._transaction():
            for chunk, marks in _chunks(list(job_ids)):
                n += self._db.execute(
                    f"UPDATE jobs SET cleared = 1 WHERE id IN ({marks}) "
                    "AND state != 'uploading' AND cleared = 0",
                    chunk,
                ).rowcount
        return n

    def clear_finished(self) -> list[int]:
        """Take done and cancelled jobs out of the queue; the history keeps them."""
        ids = [
            r[0]
            for r in self._db.execute(
                "SELECT id FROM jobs WHERE state IN ('done', 'cancelled') AND cleared = 0 "
                "ORDER BY id"
            )
        ]
        for chunk, marks in _chunks(ids):
            self._db.execute(f"UPDATE jobs SET cleared = 1 WHERE id IN ({marks})", chunk)
        return ids

    def set_fields(self, job_ids: Iterable[int], **values: Any) -> None:
        """Write bookkeeping columns (verified, link, note, origin, force) of jobs."""
        unknown = set(values) - _FIELDS
        if unknown:
            raise ValueError(f"not a settable job field: {', '.join(sorted(unknown))}")
        id_list = list(job_ids)
        if not id_list or not values:
            return
        sets = ", ".join(f"{k} = ?" for k in values)
        args = [int(v) if isinstance(v, bool) else v for v in values.values()]
        with self._transaction():
            for chunk, marks in _chunks(id_list):
                self._db.execute(f"UPDATE jobs SET {sets} WHERE id IN ({marks})", [*args, *chunk])

    # --- history ----------------------------------------------------------------------

    def history(self, search: str = "", limit: int | None = None, offset: int = 0) -> list[Job]:
        """Finished jobs, cleared or not, newest first; ``search`` matches the local path,
        the destination, the error or the link, ignoring case. ``offset`` skips that many
        (with ``limit``: one page of a long history)."""
        sql = f"SELECT {_COLUMNS} FROM jobs WHERE state IN ('done', 'failed', 'cancelled')"
        args: list[Any] = []
        if search:
            pattern = (
                "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            sql += (
                " AND (path LIKE ? ESCAPE '\\' OR destination LIKE ? ESCAPE '\\'"
                " OR error LIKE ? ESCAPE '\\' OR link LIKE ? ESCAPE '\\')"
            )
            args += [pattern] * 4
        sql += " ORDER BY finished DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, max(0, offset)]
        return [_row(r) for r in self._db.execute(sql, args)]

    def clear_history(self) -> list[int]:
        """Forget finished jobs for good (what was uploaded is still remembered, so
        unchanged files are not sent again)."""
        ids = [
            r[0]
            for r in self._db.execute(
                "SELECT id FROM jobs WHERE state IN ('done', 'failed', 'cancelled')"
            )
        ]
        self._db.execute("DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled')")
        return ids

    def metrics_totals(self) -> Totals:
        """Sums over every job, cleared ones included, for the statistics."""
        r = self._db.execute(
            "SELECT"
            " total(state = 'done'),"
            " total(state = 'failed'),"
            " total(state = 'failed' AND cleared = 0),"
            " total(state IN ('done', 'failed') AND attempts > 1),"
            " total(state = 'done' AND attempts > 1),"
            " total(state = 'queued'),"
            " total(state = 'uploading'),"
            " total(CASE WHEN state = 'done' THEN size END),"
            # "Already uploaded" and the like moved nothing: no upload time to speak of
            " avg(CASE WHEN state = 'done' AND note IS NULL THEN duration END)"
            " FROM jobs"
        ).fetchone()
        n = [int(v) for v in r[:8]]
        return Totals(
            done=n[0],
            failed=n[1],
            failed_shown=n[2],
            retried=n[3],
            retried_done=n[4],
            queued=n[5],
            uploading=n[6],
            uploaded_bytes=n[7],
            average_seconds=r[8],
        )

    # --- what was uploaded where --------------------------------------------------------

    def record_uploaded(self, items: Iterable[tuple[str, str, int, float, str | None]]) -> None:
        """Remember (path, destination, size, mtime, hash) of files the remote now holds."""
        stamp = time.time()
        rows = [(*item, stamp) for item in items]
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO uploaded (path, destination, size, mtime, hash, uploaded)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def uploaded(self, path: str, destination: str) -> tuple[int, float, str | None] | None:
        """(size, mtime, hash) recorded for ``path`` at ``destination``, if any."""
        r = self._db.execute(
            "SELECT size, mtime, hash FROM uploaded WHERE path = ? AND destination = ?",
            (path, destination),
        ).fetchone()
        return (r[0], r[1], r[2]) if r else None

    def uploaded_many(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int, float, str | None]]:
        """The records of many (path, destination) pairs at once."""
        wanted = set(keys)
        out: dict[tuple[str, str], tuple[int, float, str | None]] = {}
        paths_ = sorted({p for p, _ in wanted})
        for chunk, marks in _chunks(paths_):
            rows = self._db.execute(
                "SELECT path, destination, size, mtime, hash FROM uploaded "
                f"WHERE path IN ({marks})",
                chunk,
            )
            for path, dest, size, mtime, hash_ in rows:
                if (path, dest) in wanted:
                    out[(path, dest)] = (size, mtime, hash_)
        return out

    def forget_uploaded(self, items: Iterable[tuple[str, str]]) -> None:
        """Drop records that turned out wrong (a remote copy that no longer matches)."""
        self._db.executemany("DELETE FROM uploaded WHERE path = ? AND destination = ?", list(items))
