"""The upload engine: turns the queue into rclone batches, retries, cancels, pauses.

It lives on the thread that created it and never blocks: rclone runs in QProcess,
timers do the waiting. Everything it tells the world goes out as Qt signals carrying
ids and numbers, batched and throttled (a few per second), never formatted text.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import sqlite3
import stat
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from skylift.core import (
    health,
    metrics,
    paths,
    rclone_args,
    rclone_binary,
    rclone_events,
)
from skylift.core import verify as remote_check
from skylift.core.bandwidth import BandwidthSampler
from skylift.core.messages import is_network, plain
from skylift.core.planner import Planned, Rejected, plan
from skylift.core.runner import LOG_PREFIX, LOG_SUFFIX, RcloneRun
from skylift.core.settings import Settings
from skylift.core.store import ACTIVE, Job, JobState, Store

if TYPE_CHECKING:
    from pathlib import Path

    from skylift.core.remotes import Answer, RcloneCall

# remotes and connection (rclone calls for checks and probes) are imported where used:
# a headless `skylift upload --wait` starts its upload sooner without them

log = logging.getLogger(__name__)

FLUSH_MS = 250  # how often changes and progress reach listeners
COALESCE_MS = 150  # files arriving together start together
BATCH_MAX = 2000  # files per rclone process
BACKOFF_CAP = 600.0
VANISHED = "The file no longer exists."
CHANGED = "The file changed while it was being uploaded; it is sent again once it settles."
SETTLE_SECONDS = 5.0
CHANGE_TRIES = 5  # a file that changed during this many uploads in a row is given up on
KEPT_CHANGING = (
    "The file kept changing while it was being uploaded; retry it once it is saved for good."
)
ALREADY_UPLOADED = "Already uploaded"
CHECK_TIMEOUT_S = 3600.0  # hashing a large batch on a slow remote takes a while
HELD = "Its watched folder is not available; it is sent when the folder returns."
HOLD_SECONDS = 30.0  # how often a held job looks for its folder again
PROBE_FIRST = 5.0  # seconds before the first check that an unreachable remote is back
PROBE_MAX = 60.0
NO_ROOM_RETRY_MS = 30_000  # how soon to try again when the batches folder took no file
QUEUE_RETRY_MS = 30_000  # how soon to try the queue again when it could not be written
WAKE_GAP = 30.0  # seconds the clock may jump before Skylift assumes the computer slept
WAKE_SETTLE_MS = 3000
_TEXT_PREFIX = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:[A-Z]+\s*: )?")


@dataclass
class JobProgress:
    bytes: int = 0
    speed: float = 0.0
    eta: float | None = None


@dataclass
class Run:
    """One rclone process and the jobs it carries."""

    proc: RcloneRun
    jobs: dict[str, int]  # rclone's name for the file -> job id
    paths: dict[int, str]
    source: str
    dest: str
    list_file: str | None
    single: bool = False
    copied: set[int] = field(default_factory=set)
    file_errors: dict[int, str] = field(default_factory=dict)
    failure: str = ""
    last_text: str = ""
    stamps: dict[int, tuple[int, int]] = field(default_factory=dict)  # size, mtime_ns at start
    stopping: str = ""  # why Skylift stopped it: "requeue" or a failure reason
    last_activity: float = field(default_factory=time.monotonic)
    last_bytes: int = -1
    force: bool = False
    to_verify: list[int] = field(default_factory=list)  # copied, waiting for the check
    dests: dict[int, str] = field(default_factory=dict)  # job id -> destination


@dataclass
class Check:
    """A verification of one group of files: the remote's listing, then local hashes."""

    ids: dict[str, int]  # relative path -> job id
    stamps: dict[str, tuple[int, int]]  # relative path -> local (size, mtime_ns) compared
    source: str
    dest: str
    list_file: str
    after_upload: bool  # the jobs are still 'uploading' and end with the check
    env: dict[str, str]
    rclone: str
    call: RcloneCall | None = None
    remote: dict[str, remote_check.Entry] | None = None
    hash_type: str | None = None

    @property
    def sizes(self) -> dict[str, int]:
        return {rel: stamp[0] for rel, stamp in self.stamps.items()}


@dataclass(frozen=True)
class AddResult:
    jobs: list[Job]
    rejected: list[Rejected]
    added: int


def _keeps_queue(method: Any) -> Any:
    """For the engine's own slots (timers, rclone's signals): when the queue cannot be
    written (a full disk), the engine says so and recovers later (``_queue_unwritable``)
    instead of letting the error escape into Qt's event loop, which would leave jobs
    'uploading' with nothing uploading them."""

    @functools.wraps(method)
    def guarded(self: Engine, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as e:
            self._queue_unwritable(e)
            return None

    return guarded


class Engine(QObject):
    jobsAdded = Signal(list)  # job ids, new rows
    jobsChanged = Signal(list)  # job ids whose state, attempts or error changed
    jobsRemoved = Signal(list)  # job ids
    progress = Signal(object)  # dict: job id -> (bytes, speed B/s, eta s or -1)
    summaryChanged = Signal()
    pausedChanged = Signal(bool)
    problemChanged = Signal(str)  # "" when there is none; otherwise one plain sentence
    drained = Signal(list)  # ids of the jobs that ended since the queue was last idle
    onlineChanged = Signal(bool)  # False while the remote cannot be reached
    healthChanged = Signal(bool)  # False while the last connection check failed

    def __init__(self, settings: Settings, store: Store, parent: QObject | None = None):
        super().__init__(parent)
        self.settings = settings
        self.store = store
        self.transfers_override: int | None = None
        self._runs: list[Run] = []
        self._progress: dict[int, JobProgress] = {}
        self._changed: list[int] = []
        self._progress_dirty: set[int] = set()
        self._summary_dirty = True
        self._ended_since_idle: list[int] = []
        self._copied: list[tuple[Run, list[int]]] = []  # done at the next flush, in one go
        self._paused = False
        self._problem = ""
        self.problem_is_rclone = True  # False: the problem is this computer's (a full disk)
        self._counts_cache = store.counts()
        self._counts_dirty = False
        self.processes_started = 0  # rclone processes run, for tests and benchmarks
        # watched folders (set by HotFolders): a job from one of them that is missing is
        # held, not failed, while the folder itself is missing (a drive unplugged)
        self.hold_origins: set[str] = set()
        self._offline_target = ""  # the remote that could not be reached, "" when online
        self._failed_offline: set[int] = set()  # out of retries because the remote was gone
        self._changes: dict[int, int] = {}  # job id -> uploads it changed during, in a row
        self._queue_broken = False  # the queue could not be written: start nothing
        self._probe: RcloneRun | None = None
        self._probe_messages: list[str] = []
        self._probe_delay = PROBE_FIRST
        self._asleep = False
        self._checks: list[Check] = []
        self._last_wall = time.time()
        self._last_mono = time.monotonic()

        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)
        self._flush_timer.start()
        self._kick_timer = QTimer(self)
        self._kick_timer.setSingleShot(True)
        self._kick_timer.timeout.connect(self._schedule)
        self._wake_timer = QTimer(self)
        self._wake_timer.setSingleShot(True)
        self._wake_timer.timeout.connect(self._schedule)
        self._stall_timer = QTimer(self)
        self._stall_timer.setInterval(5000)
        self._stall_timer.timeout.connect(self._check_stalls)
        self._stall_timer.start()
        self._probe_timer = QTimer(self)
        self._probe_timer.setSingleShot(True)
        self._probe_timer.timeout.connect(self._start_probe)
        self._queue_timer = QTimer(self)
        self._queue_timer.setSingleShot(True)
        self._queue_timer.timeout.connect(self._retry_queue)
        self._probe_target = ""  # what the running probe checks
        self.health = health.HealthState()
        self._health_timer = QTimer(self)
        self._health_timer.setSingleShot(True)
        self._health_timer.timeout.connect(self._check_health)
        self.bandwidth = BandwidthSampler(self)
        self.bandwidth.due.connect(self._sample_bandwidth)

        restored = store.requeue_interrupted()
        if restored:
            log.info("requeued %d uploads interrupted by the last exit", restored)
            self._counts_dirty = True
        self.kick(0)

    # --- public: queries --------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def online(self) -> bool:
        return not self._offline_target

    @property
    def problem(self) -> str:
        return self._problem

    @property
    def _counts(self) -> dict[str, int]:
        # read from the store when asked, not after every change: a busy batch changes
        # the queue many times between two looks
        if self._counts_dirty:
            self._counts_cache = self.store.counts()
            self._counts_dirty = False
        return self._counts_cache

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    def jobs(self, ids: Iterable[int] | None = None) -> list[Job]:
        return self.store.jobs(ids=ids)

    def job_dicts(self, ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """``[j.as_dict() for j in self.jobs(ids)]``, cheaper: for whoever follows jobs."""
        return self.store.job_dicts(ids)

    def job(self, job_id: int) -> Job | None:
        return self.store.get(job_id)

    def job_progress(self, job_id: int) -> tuple[int, float, float | None] | None:
        p = self._progress.get(job_id)
        return (p.bytes, p.speed, p.eta) if p else None

    def speed(self) -> float:
        return sum(p.speed for p in self._progress.values())

    def busy(self) -> bool:
        return (
            bool(self._runs)
            or bool(self._checks)
            or self._counts["queued"] > 0
            or self._counts["uploading"] > 0
        )

    def status(self) -> dict[str, object]:
        """The object that ``skylift status --json`` prints."""
        c = self.counts()
        jobs = self.store.job_dicts()
        for d in jobs:
            p = self._progress.get(d["id"])
            if p is not None and d["state"] == JobState.UPLOADING.value:
                d["bytes"] = p.bytes
        return status_object(c, self._paused, jobs, self.metrics())

    def metrics(self) -> metrics.Metrics:
        """The statistics: ``status --json``'s ``metrics`` object."""
        return metrics.compute(self.store.metrics_totals(), self.speed(), self.bandwidth.points())

    def history(self, search: str = "", limit: int | None = None, offset: int = 0) -> list[Job]:
        """Finished jobs, cleared ones included, newest first."""
        return self.store.history(search, limit, offset)

    @property
    def health_ok(self) -> bool:
        return self.health.ok

    @property
    def health_message(self) -> str:
        """Why the last connection check failed, in one plain sentence; "" when healthy."""
        return self.health.message

    # --- public: commands -------------------------------------------------------------

    def add_paths(
        self,
        given: Iterable[str | os.PathLike[str]],
        destination: str | None = None,
        cwd: str | None = None,
        *,
        start_now: bool = False,
        force: bool = False,
    ) -> AddResult:
        root = destination or self.settings.destination_root
        if not root:
            raise ValueError(
                "No destination is set; choose a remote with "
                "'skylift config set remote NAME' or in Settings."
            )
        planned, rejected = plan(given, root, cwd)
        return self.add_planned(planned, rejected, start_now=start_now, force=force)

    def add_planned(
        self,
        planned: Sequence[Planned],
        rejected: Sequence[Rejected] = (),
        *,
        origin: str | None = None,
        start_now: bool = False,
        force: bool = False,
    ) -> AddResult:
        """Queue planned files; ``origin`` names the hot folder they came from, if any.

        ``force``: send them even if they were sent before and have not changed, or the
        remote's copy looks the same (``skylift upload --again``).

        ``start_now``: the files came together (handed over by ``skylift upload``), so
        when nothing is uploading their batch starts before listeners hear of them: a
        window showing 1,000 new rows does not hold up the upload.
        """
        jobs, added = self.store.add(
            [(p.path, p.destination, p.size, p.mtime) for p in planned],
            origin=origin,
            force=force,
        )
        if added:
            new_ids = [j.id for j in jobs if j.state is JobState.QUEUED]
            skipped = self._skip_uploaded([j for j in jobs if j.state is JobState.QUEUED])
            if skipped:
                jobs = self.store.jobs(ids=[j.id for j in jobs])
            self._counts_dirty = True
            self._summary_dirty = True
            if start_now and not self._runs:
                self._kick_timer.stop()
                # all of them new: they are what the queue would give, if nothing older waits
                self._schedule(fresh=jobs if added == len(jobs) else None)
            self.jobsAdded.emit(sorted(set(new_ids)))
            self.kick()
        return AddResult(jobs, list(rejected), added)

    def _skip_uploaded(self, jobs: list[Job]) -> list[int]:
        """Jobs whose file went to the same place before, unchanged since, end at once."""
        if not jobs or not self.settings["skip_uploaded"]:
            return []
        known = self.store.uploaded_many([(str(j.path), j.destination) for j in jobs])
        same = []
        for j in jobs:
            k = known.get((str(j.path), j.destination))
            if k is not None and k[0] == j.size and abs(k[1] - j.mtime) < 1e-3 and not j.force:
                same.append(j.id)
        if not same:
            return []
        done = self.store.update(same, JobState.DONE, only_from=(JobState.QUEUED,))
        self.store.set_fields(done, note=ALREADY_UPLOADED)
        log.info("%d file(s) already uploaded and unchanged; not sent again", len(done))
        self._ended(done)
        return done

    def verify(self, ids: Iterable[int]) -> list[int]:
        """Check again that the remote copies of done jobs match the local files.

        A copy that does not match turns its job 'failed', ready for Retry. Returns the
        ids being checked (a job whose local file is gone cannot be compared).
        """
        jobs = [
            j
            for j in self.store.jobs(ids=list(ids))
            if j.state is JobState.DONE and j.verified != "checking"
        ]
        stamps = {j.id: st for j in jobs if (st := _stamp(str(j.path))) is not None}
        present = [j for j in jobs if j.id in stamps]
        if not present or not self._start_checks(present, stamps, after_upload=False):
            return []
        return [j.id for j in present]

    def checking(self) -> bool:
        """Whether a verification is running."""
        return bool(self._checks)

    def retry(self, ids: Iterable[int]) -> list[int]:
        """Put failed or cancelled jobs back in the queue, attempts counted afresh."""
        changed = self.store.retry(ids)
        self._requeued_now(changed)
        return changed

    def send_again(self, ids: Iterable[int]) -> list[int]:
        """Upload done jobs again, even where the remote's copy looks the same: a
        person's choice, say after the remote folder was deleted (an "Already uploaded"
        file is otherwise never sent again). A copy being checked is left alone."""
        done = [
            j.id
            for j in self.store.jobs(ids=list(ids))
            if j.state is JobState.DONE and j.verified != "checking"
        ]
        changed = self.store.send_again(done)
        self._requeued_now(changed)
        return changed

    def _requeued_now(self, ids: list[int]) -> None:
        """Ended jobs a person put back in the queue: listeners hear of it at once, before
        a small file can be sent and end again within one flush (the queue window would
        then never see it queued, and count it in the batch it ended in before)."""
        self._changed_now(ids)
        if ids:
            self._flush()
        self.kick()

    def retry_all_failed(self) -> list[int]:
        return self.retry(j.id for j in self.store.jobs(states=(JobState.FAILED,)))

    def cancel(self, ids: Iterable[int]) -> list[int]:
        self._commit_copied()  # a file already on the remote stays done
        id_list = list(ids)
        changed = self.store.update(id_list, JobState.CANCELLED, only_from=ACTIVE)
        hit = set(changed)
        for run in list(self._runs):
            if hit & set(run.jobs.values()):
                # the rest of the batch goes again without the cancelled files
                self._stop_run(run, "requeue")
        for i in changed:
            self._progress.pop(i, None)
            self._changes.pop(i, None)
        self._changed_now(changed)
        self.kick()
        return changed

    def remove(self, ids: Iterable[int]) -> list[int]:
        id_list = list(ids)
        self.cancel(id_list)
        gone = [j.id for j in self.store.jobs(ids=id_list) if j.state is not JobState.UPLOADING]
        self.store.clear(gone)
        self._counts_dirty = True
        self._summary_dirty = True
        self.jobsRemoved.emit(gone)
        return gone

    def clear_finished(self) -> list[int]:
        gone = self.store.clear_finished()
        self._counts_dirty = True
        self._summary_dirty = True
        if gone:
            self.jobsRemoved.emit(gone)
        return gone

    def set_link(self, ids: Iterable[int], url: str) -> list[int]:
        """Keep a share link on jobs (those of the linked folder, or the linked file)."""
        id_list = sorted(set(ids))
        self.store.set_fields(id_list, link=url)
        if id_list:
            self.jobsChanged.emit(id_list)
        return id_list

    def clear_history(self) -> list[int]:
        """Forget every finished job, the history's and the queue's."""
        gone = self.store.clear_history()
        self._failed_offline.difference_update(gone)
        self._counts_dirty = True
        self._summary_dirty = True
        if gone:
            self.jobsRemoved.emit(gone)
        self._arm_health()
        return gone

    def pause(self) -> None:
        if self._paused:
            return
        self._paused = True
        for run in list(self._runs):
            self._stop_run(run, "requeue")
        self.pausedChanged.emit(True)
        self._summary_dirty = True

    def resume(self) -> None:
        if not self._paused:
            return
        self._paused = False
        self.pausedChanged.emit(False)
        self._summary_dirty = True
        self.kick(0)

    def settings_changed(self) -> None:
        self._set_problem("")
        self.kick(0)

    def release_origin(self, origin: str) -> list[int]:
        """The watched folder ``origin`` is back: its held jobs may go now."""
        held = [
            j.id
            for j in self.store.jobs(states=(JobState.QUEUED,))
            if j.origin == origin and j.error == HELD
        ]
        changed = self.store.update(held, JobState.QUEUED, next_try=0, only_from=(JobState.QUEUED,))
        self._changed_now(changed)
        if changed:
            self.kick(0)
        return changed

    def _held(self, job: Job) -> bool:
        return (
            bool(job.origin)
            and job.origin in self.hold_origins
            and not os.path.isdir(str(job.origin))
        )

    def _hold(self, ids: list[int], only_from: tuple[JobState, ...]) -> None:
        changed = self.store.update(
            ids,
            JobState.QUEUED,
            error=HELD,
            attempt_delta=-1 if JobState.UPLOADING in only_from else 0,
            next_try=time.time() + HOLD_SECONDS,
            only_from=only_from,
        )
        self._changed_now(changed)

    def kick(self, delay_ms: int = COALESCE_MS) -> None:
        if not self._kick_timer.isActive() or delay_ms == 0:
            self._kick_timer.start(delay_ms)

    def shutdown(self) -> None:
        """Stop rclone; the jobs it carried go back to the queue for the next start."""
        for timer in (
            self._flush_timer,
            self._kick_timer,
            self._wake_timer,
            self._stall_timer,
            self._probe_timer,
            self._health_timer,
        ):
            timer.stop()
        self.bandwidth.stop()
        if self._probe is not None:
            self._probe.finished.disconnect()
            self._probe.stop_now()
        for check in list(self._checks):
            if check.call is not None:
                check.call.finished.disconnect()
                check.call.cancel()
            self._end_check(check)
            ids = list(check.ids.values())
            if check.after_upload:
                self._requeue(ids, undo_attempt=True)
            self.store.set_fields(ids, verified=None)
        self._commit_copied()  # what rclone reported copied is done, not sent again
        for run in list(self._runs):
            run.proc.finished.disconnect()
            run.proc.events.disconnect()
            run.proc.stop_now()
            self._requeue(list(run.jobs.values()), undo_attempt=True)
            self._forget(run)
        self._flush()

    # --- scheduling -------------------------------------------------------------------

    def _set_problem(self, text: str, rclone: bool = True) -> None:
        if not text and self._queue_broken:
            return  # said until the queue can be written again (_retry_queue)
        self.problem_is_rclone = rclone
        if text != self._problem:
            self._problem = text
            if text:
                log.error("%s", text)
            self.problemChanged.emit(text)

    @_keeps_queue
    def _schedule(self, fresh: Sequence[Job] | None = None) -> None:
        """Start the next batch. ``fresh``: jobs just queued, which are the batch when no
        older job is due (saving the queue a read of what it has just written)."""
        self._arm_health()
        if (
            self._paused
            or self._asleep
            or self._queue_broken
            or not self.settings["enabled"]
            or self._runs
        ):
            return
        now = time.time()
        waiting = [j for j in fresh or () if j.state is JobState.QUEUED]
        if (
            waiting
            and len(waiting) <= BATCH_MAX
            and not self.store.due_before(now, min(j.id for j in waiting))
        ):
            due = sorted(waiting, key=lambda j: j.id)
        else:
            due = self.store.due(now, BATCH_MAX)
        if not due:
            self._arm_wakeup()
            self._maybe_drained()
            return
        found = self._rclone()
        if found is None:
            return
        rclone, env = found
        groups, stamps = self._preflight(due)
        if not groups:  # every due file had vanished: look again
            self.kick(0)
            return
        self._start(rclone, env, groups[0], stamps)

    def _rclone(self) -> tuple[str, dict[str, str]] | None:
        """The rclone program and its environment, or None with the problem set."""
        try:
            rclone = rclone_binary.find(self.settings["rclone_path"])
            env = rclone_binary.child_environment()
        except rclone_binary.RcloneError as e:
            self._set_problem(str(e))
            return None
        self._set_problem("")
        return rclone.path, env

    def _arm_wakeup(self) -> None:
        nxt = self.store.next_wakeup()
        if nxt is not None:
            delay = max(0.0, nxt - time.time())
            self._wake_timer.start(int(min(delay, 3600) * 1000) + 50)

    def _preflight(
        self, due: list[Job]
    ) -> tuple[list[list[tuple[Job, rclone_args.Roots]]], dict[int, tuple[int, int]]]:
        """Check the files still exist; group the rest by (source root, destination root),
        the group of the oldest job first. Also returns each file's (size, mtime_ns)."""
        groups: dict[tuple[str, str, bool] | int, list[tuple[Job, rclone_args.Roots]]] = {}
        stamps: dict[int, tuple[int, int]] = {}
        vanished: list[int] = []
        held: list[int] = []
        for job in due:
            st = _file_stat(str(job.path))
            if st is None:
                (held if self._held(job) else vanished).append(job.id)
                continue
            stamps[job.id] = (st.st_size, st.st_mtime_ns)
            r = rclone_args.roots(job.path, job.destination)
            key: tuple[str, str, bool] | int = (
                (r.source, r.dest, job.force) if rclone_args.listable(r.rel) else -job.id
            )
            groups.setdefault(key, []).append((job, r))
        if vanished:
            changed = self.store.update(
                vanished,
                JobState.FAILED,
                error=VANISHED,
                attempt_delta=1,
                only_from=(JobState.QUEUED,),
            )
            self._ended(changed)
        if held:
            self._hold(held, only_from=(JobState.QUEUED,))
        return sorted(groups.values(), key=lambda g: g[0][0].id), stamps

    def _options(self, dest: str, force: bool = False) -> rclone_args.Options:
        """How rclone sends a batch to ``dest`` (``remote:path``)."""
        transfers = self.transfers_override or self.settings["transfers"]
        return rclone_args.Options(
            transfers=transfers,
            bwlimit=self.settings["bwlimit"],
            checksum=self.settings["checksum"],
            force=force,
            remote_type=rclone_binary.remote_type(rclone_args.split_remote(dest)[0]),
        )

    def _start(
        self,
        rclone: str,
        env: dict[str, str],
        group: list[tuple[Job, rclone_args.Roots]],
        stamps: dict[int, tuple[int, int]],
    ) -> None:
        first_job, first_roots = group[0]
        opts = self._options(first_roots.dest, force=first_job.force)
        list_file = None
        single = not rclone_args.listable(first_roots.rel)
        try:
            if single:
                argv = rclone_args.copy_single(
                    rclone, str(first_job.path), first_job.destination, opts
                )
                names = {_leaf(first_job.destination): first_job.id}
            else:
                list_file = _write_list(_BATCH_LIST, (r.rel for _, r in group))
                argv = rclone_args.copy_batch(
                    rclone, first_roots.source, first_roots.dest, list_file, opts, files=len(group)
                )
                names = {r.rel: j.id for j, r in group}
            proc = RcloneRun(argv, env, _batch_dir(), self)
        except OSError as e:  # a full disk: the files stay queued, nothing is lost
            _remove(list_file)
            self._set_problem(_no_room(e), rclone=False)
            self._kick_timer.start(NO_ROOM_RETRY_MS)
            return
        ids = [j.id for j, _ in group]
        try:
            started = self.store.update(
                ids, JobState.UPLOADING, attempt_delta=1, only_from=(JobState.QUEUED,)
            )
        except sqlite3.OperationalError:  # the queue cannot be written: nothing starts
            proc.discard()
            _remove(list_file)
            raise
        run = Run(
            proc,
            names,
            {j.id: str(j.path) for j, _ in group},
            first_roots.source,
            first_roots.dest,
            list_file,
            single,
            force=first_job.force,
            dests={j.id: j.destination for j, _ in group},
        )
        self._runs.append(run)
        for i in started:
            self._progress[i] = JobProgress()
        run.stamps.update((j.id, stamps[j.id]) for j, _ in group)  # as checked just now
        self._changed_now(started)
        # bound methods, not closures: a closure held by the child would keep the engine
        # alive until the child's deletion, and then delete the engine from inside it
        proc.context = run
        proc.events.connect(self._run_events)
        proc.finished.connect(self._run_finished)
        log.info("uploading %d file(s) from %s to %s", len(ids), run.source, run.dest)
        self.processes_started += 1
        proc.start()
        self.bandwidth.wake()
        self._health_timer.stop()  # the upload itself tells

    # --- rclone's events --------------------------------------------------------------

    def _job_for(self, run: Run, name: str) -> int | None:
        job_id = run.jobs.get(name)
        if job_id is None and run.single:
            return next(iter(run.jobs.values()))
        return job_id

    @_keeps_queue
    def _run_events(self, events: list[rclone_events.Event]) -> None:
        run = self._sender_run()
        if run is not None:
            self._on_events(run, events)

    @_keeps_queue
    def _run_finished(self, code: int, crashed: bool) -> None:
        run = self._sender_run()
        if run is not None:
            self._on_finished(run, code, crashed)

    def _sender_run(self) -> Run | None:
        proc = self.sender()
        run = getattr(proc, "context", None)
        return run if isinstance(run, Run) and any(r is run for r in self._runs) else None

    def _on_events(self, run: Run, events: list[rclone_events.Event]) -> None:
        done: list[int] = []
        for ev in events:
            if isinstance(ev, rclone_events.Stats):
                if ev.bytes != run.last_bytes:
                    run.last_bytes = ev.bytes
                    run.last_activity = time.monotonic()
                for fp in ev.transferring:
                    job_id = self._job_for(run, fp.name)
                    if job_id is not None and job_id in self._progress:
                        self._progress[job_id] = JobProgress(fp.bytes, fp.speed, fp.eta)
                        self._progress_dirty.add(job_id)
            elif isinstance(ev, rclone_events.Copied):
                job_id = self._job_for(run, ev.name)
                run.last_activity = time.monotonic()
                if job_id is not None:
                    run.copied.add(job_id)
                    done.append(job_id)
            elif isinstance(ev, rclone_events.FileError):
                job_id = self._job_for(run, ev.name)
                if job_id is not None:
                    run.file_errors[job_id] = ev.message
                    if is_network(ev.message):
                        # the remote is gone: the rest of the batch would only fail
                        # one slow file at a time, so end it now and let backoff work
                        self._stop_run(run, ev.message)
                else:
                    run.failure = ev.message
            elif isinstance(ev, rclone_events.Failure):
                run.failure = ev.message
            elif isinstance(ev, rclone_events.Attempt) and ev.message:
                run.failure = run.failure or ev.message
            elif isinstance(ev, rclone_events.Text) and ev.line:
                # rclone 1.60 prints its closing error as plain text
                run.last_text = _TEXT_PREFIX.sub("", ev.line)
        if done:
            moved = [i for i in done if _stamp(run.paths[i]) != run.stamps.get(i)]
            if moved:
                # written to while it was sent: the remote may hold a mix
                self._requeue_changed(moved)
                done = [i for i in done if i not in moved]
            if done:
                self._copied.append((run, done))
                for i in done:  # its last speed is not part of the speed now
                    self._progress.pop(i, None)
                self._health_verdict(True, "")
            if done and self._offline_target:
                self._go_online()

    def _on_finished(self, run: Run, code: int, crashed: bool) -> None:
        self._commit_copied()
        self._forget(run)
        pending = [i for i in run.jobs.values() if i not in run.copied]
        if run.stopping == "requeue":
            self._requeue(pending, undo_attempt=True)
        elif pending:
            ok = code == 0 and not crashed and not run.stopping
            clean = [i for i in pending if i not in run.file_errors]
            if ok:
                # exit 0 and no "Copied": the remote already holds identical files,
                # unless the file vanished, which rclone skips without a word
                gone = [i for i in clean if not _is_file(run.paths[i])]
                for i in gone:
                    run.file_errors[i] = VANISHED
                present = [i for i in clean if i not in run.file_errors]
                self._done(run, present)
            else:
                reason = (
                    run.stopping
                    or run.failure
                    or run.last_text
                    or run.proc.start_error
                    or (f"rclone stopped unexpectedly (exit code {code})")
                )
                for i in clean:
                    run.file_errors[i] = reason
            failures = {i: m for i, m in run.file_errors.items() if i in pending}
            moved = [i for i in failures if _stamp(run.paths[i]) != run.stamps.get(i)]
            moved = [i for i in moved if _is_file(run.paths[i])]
            if moved:
                # rclone saw the file change under it ("sizes differ", "being updated"):
                # not the user's fault, so it waits to settle and goes again
                self._requeue_changed(moved)
                failures = {i: m for i, m in failures.items() if i not in moved}
            self._failed_attempts(failures, remote=rclone_args.split_remote(run.dest)[0])
            if any(is_network(m) for m in failures.values()):
                self._go_offline(run.dest)
        if run.to_verify:
            self._verify_run(run)
        self.kick(0)
        self._flush()  # a batch's outcome is news now, not at the next tick

    # --- done, and checked -------------------------------------------------------------

    def _commit_copied(self) -> None:
        """Mark done what rclone reported copied since the last flush: one transaction
        for many files instead of one per chunk of rclone's output."""
        pending, self._copied = self._copied, []
        merged: list[tuple[Run, list[int]]] = []
        for run, ids in pending:
            if merged and merged[-1][0] is run:
                merged[-1][1].extend(ids)
            else:
                merged.append((run, list(ids)))
        for run, ids in merged:
            self._done(run, ids)

    def _done(self, run: Run, ids: list[int]) -> None:
        """rclone has put these files on the remote (or found them there already)."""
        if not ids:
            return
        if self.settings["verify"]:
            # they stay 'uploading' until the check says the remote copy matches
            run.to_verify += ids
            self.store.set_fields(ids, verified="checking")
            self._changed_now(ids)
            return
        changed = self.store.finish_uploads(self._uploaded_rows(ids, run.stamps, {}, run))
        if run.force:
            self.store.set_fields(changed, force=False)
        self._ended(changed)

    def _record(
        self, ids: list[int], stamps: dict[int, tuple[int, int]], hashes: dict[int, str]
    ) -> None:
        """Remember what the remote now holds, so an unchanged file is not sent again."""
        if ids:
            self.store.record_uploaded(self._uploaded_rows(ids, stamps, hashes).values())

    def _uploaded_rows(
        self,
        ids: list[int],
        stamps: dict[int, tuple[int, int]],
        hashes: dict[int, str],
        run: Run | None = None,
    ) -> dict[int, tuple[str, str, int, float, str | None]]:
        """(path, destination, size, mtime, hash) of each job for the ``uploaded`` table,
        from what ``run`` knows; only the jobs it does not know are read from the store."""
        rows: dict[int, tuple[str, str, int, float, str | None]] = {}
        unknown: list[int] = []
        for i in ids:
            stamp = stamps.get(i)
            if run is None or stamp is None or i not in run.dests:
                unknown.append(i)
            else:
                rows[i] = (run.paths[i], run.dests[i], stamp[0], stamp[1] / 1e9, hashes.get(i))
        for job in self.store.jobs(ids=unknown) if unknown else ():
            size, mtime_ns = stamps.get(job.id, (job.size, int(job.mtime * 1e9)))
            rows[job.id] = (
                str(job.path),
                job.destination,
                size,
                mtime_ns / 1e9,
                hashes.get(job.id),
            )
        return rows

    def _verify_run(self, run: Run) -> None:
        ids = [i for i in run.to_verify if i in run.stamps]
        lost = [i for i in run.to_verify if i not in run.stamps]
        if lost:  # the file was gone when the batch started: nothing to compare with
            self._failed_attempts({i: VANISHED for i in lost}, remote="")
        jobs = [j for j in self.store.jobs(ids=ids) if j.state is JobState.UPLOADING]
        if not jobs:
            return
        for j in jobs:
            self._progress[j.id] = JobProgress(j.size, 0.0, None)
            self._progress_dirty.add(j.id)
        self._start_checks(jobs, {i: run.stamps[i] for i in ids}, after_upload=True)

    def _start_checks(
        self, jobs: list[Job], stamps: dict[int, tuple[int, int]], after_upload: bool
    ) -> bool:
        """Start checking these jobs' remote copies against the local files as ``stamps``
        (size, mtime_ns) describe them; False when rclone cannot run."""
        found = self._rclone()
        if found is None:
            if after_upload:
                self._failed_attempts({j.id: self._problem for j in jobs}, remote="")
            return False
        rclone, env = found
        groups: dict[tuple[str, str], list[tuple[Job, rclone_args.Roots]]] = {}
        unlisted: list[int] = []
        for job in jobs:
            r = rclone_args.roots(job.path, job.destination)
            if rclone_args.listable(r.rel):
                groups.setdefault((r.source, r.dest), []).append((job, r))
            else:
                unlisted.append(job.id)
        if unlisted:  # a name with a line break cannot be named in a list to check
            self._not_checked(unlisted, after_upload, "its name has a line break.")
        for (source, dest), group in groups.items():
            try:
                list_file = _write_list(_CHECK_LIST, (r.rel for _, r in group))
            except OSError as e:  # a full disk: say so rather than leave them checking
                self._not_checked([j.id for j, _ in group], after_upload, f"{_unwritable(e)}.")
                continue
            check = Check(
                ids={r.rel: j.id for j, r in group},
                stamps={r.rel: stamps[j.id] for j, r in group},
                source=source,
                dest=dest,
                list_file=list_file,
                after_upload=after_upload,
                env=env,
                rclone=rclone,
            )
            self._checks.append(check)
            self.store.set_fields(check.ids.values(), verified="checking")
            self._changed_now(list(check.ids.values()))
            self._run_check(check, remote_check.remote_args(rclone, check.dest, list_file))
        return True

    def _not_checked(self, ids: list[int], after_upload: bool, why: str) -> None:
        """Uploaded files that cannot be checked end done, marked as not verified."""
        if after_upload:
            self._ended(self.store.update(ids, JobState.DONE, only_from=(JobState.UPLOADING,)))
        self.store.set_fields(ids, verified="unverified", note=f"Not verified: {why}")
        self._changed_now(ids)

    def _run_check(self, check: Check, argv: list[str]) -> None:
        remote = rclone_args.split_remote(check.dest)[0]
        from skylift.core.remotes import RcloneCall

        call = RcloneCall(
            argv,
            functools.partial(_listing, remote),
            timeout_s=CHECK_TIMEOUT_S,
            env=check.env,
            parent=self,
        )
        check.call = call
        call.finished.connect(self._check_answered)
        call.start()

    @_keeps_queue
    def _check_answered(self, answer: Answer) -> None:
        call = self.sender()
        check = next((c for c in self._checks if c.call is call), None)
        if check is None:
            return
        if check.call is not None:
            check.call.deleteLater()
        check.call = None
        if check.remote is None:  # the remote's listing
            if not answer.ok:
                self._check_failed(check, answer.message)
                return
            check.remote = answer.value
            mine = [check.remote[r] for r in check.sizes if r in check.remote]
            check.hash_type = remote_check.common_hash(mine)
            if check.hash_type and len(mine) == len(check.sizes):
                argv = remote_check.local_args(
                    check.rclone, check.source, check.list_file, check.hash_type
                )
                self._run_check(check, argv)
                return
            self._check_done(check, remote_check.compare(check.sizes, check.remote))
            return
        # the local hashes; if they could not be read, the sizes still tell something
        local = answer.value if answer.ok else None
        hash_type = check.hash_type if local is not None else None
        self._check_done(check, remote_check.compare(check.sizes, check.remote, hash_type, local))

    def _check_failed(self, check: Check, message: str) -> None:
        self._end_check(check)
        ids = list(check.ids.values())
        log.warning("could not verify %d file(s): %s", len(ids), message)
        if check.after_upload:
            remote = rclone_args.split_remote(check.dest)[0]
            self._failed_attempts({i: message for i in ids}, remote)
            if is_network(message):
                self._go_offline(check.dest)
        else:
            self.store.set_fields(ids, verified="unverified", note=f"Not verified: {message}")
            self._changed_now(ids)
        self.kick(0)

    def _check_done(self, check: Check, verdicts: dict[str, remote_check.Verdict]) -> None:
        self._end_check(check)
        good = {check.ids[r]: v for r, v in verdicts.items() if v.ok}
        bad = {check.ids[r]: v for r, v in verdicts.items() if not v.ok}
        if good:
            if check.after_upload:
                ended = self.store.update(
                    list(good), JobState.DONE, only_from=(JobState.UPLOADING,)
                )
                self.store.set_fields(ended, force=False)
            else:
                ended = list(good)
            by_kind: dict[str, list[int]] = {}
            for i in ended:
                by_kind.setdefault(good[i].verified, []).append(i)
            for kind, ids in by_kind.items():
                self.store.set_fields(ids, verified=kind, note=None)
            stamps = {check.ids[r]: stamp for r, stamp in check.stamps.items()}
            hashes = {i: v.hash for i, v in good.items() if v.hash}
            self._record(ended, stamps, hashes)
            if check.after_upload:
                self._ended(ended)
            else:
                self._changed_now(ended)
        if bad:
            log.warning("%d remote copies do not match their files", len(bad))
            ids = list(bad)
            jobs = self.store.jobs(ids=ids)
            self.store.forget_uploaded((str(j.path), j.destination) for j in jobs)
            self.store.set_fields(ids, verified="mismatch", force=True)
            if check.after_upload:
                self._failed_attempts(
                    {i: v.message or remote_check.MISSING for i, v in bad.items()}, remote=""
                )
            else:
                for i, v in bad.items():
                    self._ended(
                        self.store.update(
                            [i], JobState.FAILED, error=v.message, only_from=(JobState.DONE,)
                        )
                    )
        self.kick(0)

    def _end_check(self, check: Check) -> None:
        if check in self._checks:
            self._checks.remove(check)
        if check.after_upload:
            for i in check.ids.values():
                self._progress.pop(i, None)
        _remove(check.list_file)
        self._summary_dirty = True

    def _forget(self, run: Run) -> None:
        if run in self._runs:
            self._runs.remove(run)
        for i in run.jobs.values():
            self._progress.pop(i, None)
        _remove(run.list_file)
        run.proc.deleteLater()
        self._summary_dirty = True

    def _stop_run(self, run: Run, why: str) -> None:
        if not run.stopping:
            run.stopping = why
            run.proc.stop()

    @_keeps_queue
    def _check_stalls(self) -> None:
        wall, mono = time.time(), time.monotonic()
        gap = (wall - self._last_wall) - (mono - self._last_mono)
        late = mono - self._last_mono
        self._last_wall, self._last_mono = wall, mono
        if gap > WAKE_GAP or late > WAKE_GAP:
            log.info("the computer was asleep for about %d s; reconnecting", max(gap, late))
            self.woke()
            return
        limit = self.settings["stall_timeout"]
        if not limit:
            return
        now = time.monotonic()
        for run in list(self._runs):
            if now - run.last_activity > limit:
                log.warning("no progress for %d s; restarting the transfer", limit)
                self._stop_run(run, f"The transfer stalled (no data for {limit} seconds).")

    # --- network, sleep and wake --------------------------------------------------------

    def _go_offline(self, target: str) -> None:
        if self._offline_target:
            return
        self._offline_target = target
        self._probe_delay = PROBE_FIRST
        log.warning("%s cannot be reached; waiting for it to come back", target)
        self.onlineChanged.emit(False)
        self._summary_dirty = True
        self._probe_timer.start(int(self._probe_delay * 1000))

    def _go_online(self) -> None:
        if not self._offline_target:
            return
        log.info("%s answers again; resuming uploads", self._offline_target)
        self._offline_target = ""
        self._probe_timer.stop()
        self.store.release_backoff()  # what waited for the outage goes now
        # and what ran out of retries during the outage gets another chance
        again = self.retry(sorted(self._failed_offline))
        if again:
            log.info("queued %d upload(s) again that failed during the outage", len(again))
        self._failed_offline.clear()
        self.onlineChanged.emit(True)
        self._summary_dirty = True
        self.kick(0)

    @_keeps_queue
    def _start_probe(self) -> None:
        if not self._offline_target or self._probe is not None:
            return
        self._run_probe(self._offline_target)

    def _run_probe(self, target: str) -> None:
        found = self._rclone()
        if found is None:
            return
        rclone, env = found
        self._probe_target = target
        from skylift.core import connection

        try:
            probe = RcloneRun(connection.args(rclone, target), env, _batch_dir(), self)
        except OSError as e:  # a full disk: look again later
            self._set_problem(_no_room(e), rclone=False)
            self._probe_timer.start(int(self._probe_delay * 1000))
            return
        self._probe_messages = []
        probe.events.connect(self._probe_events)
        probe.finished.connect(self._probe_finished)
        self._probe = probe
        probe.start()

    def _probe_events(self, events: list[rclone_events.Event]) -> None:
        for ev in events:
            if isinstance(ev, (rclone_events.FileError, rclone_events.Failure)):
                self._probe_messages.append(ev.message)

    @_keeps_queue
    def _probe_finished(self, code: int, crashed: bool) -> None:
        if self._probe is not None:
            self._probe.deleteLater()
        self._probe = None
        from skylift.core import connection

        ok, reason = connection.verdict(
            self._probe_target or "x:",
            code,
            "" if code == 0 else "\n".join(self._probe_messages),
        )
        self._health_verdict(ok and not crashed, reason or "")
        if ok and not crashed and self._probe_target == self._offline_target:
            self._go_online()
        elif self._offline_target:
            self._probe_delay = min(self._probe_delay * 2, PROBE_MAX)
            self._probe_timer.start(int(self._probe_delay * 1000))
        self._arm_health()

    def network_changed(self, reachable: bool) -> None:
        """A hint from the platform (QNetworkInformation): check now instead of later."""
        if reachable and self._offline_target and self._probe is None:
            self._probe_timer.start(500)

    def woke(self) -> None:
        """After sleep, connections are dead: restart transfers without counting it."""
        for run in list(self._runs):
            self._stop_run(run, "requeue")
        if self._offline_target:
            self._probe_timer.start(1000)
        self.kick(WAKE_SETTLE_MS)

    def set_asleep(self, asleep: bool) -> None:
        """logind's PrepareForSleep: stop cleanly before sleep, resume after wake."""
        self._asleep = asleep
        if asleep:
            for run in list(self._runs):
                self._stop_run(run, "requeue")
        else:
            self.woke()

    # --- outcomes ---------------------------------------------------------------------

    def _failed_attempts(self, failures: dict[int, str], remote: str) -> None:
        retries = self.settings["retries"]
        delay = float(self.settings["retry_delay"])
        now = time.time()
        for job in self.store.jobs(ids=failures):
            if job.state is not JobState.UPLOADING:
                continue
            raw = failures[job.id]
            if self._held(job):
                self._hold([job.id], only_from=(JobState.UPLOADING,))
                continue
            log.warning("upload of %s failed (attempt %d): %s", job.path, job.attempts, raw)
            # Skylift's own reasons are already plain sentences; rclone's are not
            reason = raw if raw.startswith("The ") else plain(raw, remote)
            self.health.failure_pending = True
            permanent = reason in (VANISHED,) and not job.path.exists()
            if job.attempts <= retries and not permanent:
                wait = min(delay * (2 ** (job.attempts - 1)), BACKOFF_CAP)
                self.store.update(
                    [job.id],
                    JobState.QUEUED,
                    error=reason,
                    next_try=now + wait,
                    only_from=(JobState.UPLOADING,),
                )
                self._changed_now([job.id])
            else:
                ended = self.store.update(
                    [job.id], JobState.FAILED, error=reason, only_from=(JobState.UPLOADING,)
                )
                if is_network(raw):
                    self._failed_offline.update(ended)
                self._ended(ended)

    # --- connection health and bandwidth ------------------------------------------------

    def _arm_health(self) -> None:
        c = self._counts
        delay = health.next_check(
            queued=c["queued"],
            failed=c["failed"],
            busy=bool(self._runs)
            or self._probe is not None
            or self._asleep
            or bool(self._offline_target),
            failure_pending=self.health.failure_pending,
            healthy=self.health.ok,
        )
        if delay is None:
            self._health_timer.stop()
        elif not self._health_timer.isActive() or self._health_timer.remainingTime() > delay * 1000:
            self._health_timer.start(int(delay * 1000))

    @_keeps_queue
    def _check_health(self) -> None:
        if self._runs or self._probe is not None or self._offline_target:
            return
        due = self.store.due(float("inf"), 1)
        try:
            target = (
                health.target_for(due[0].destination) if due else self.settings.destination_root
            )
        except ValueError:
            target = ""
        if not target:
            return
        self._run_probe(target)

    def _health_verdict(self, ok: bool, message: str) -> None:
        if self.health.report(ok, message):
            if not ok:
                log.warning("connection check failed: %s", message)
            self.healthChanged.emit(ok)

    def _sample_bandwidth(self) -> None:
        self.bandwidth.record(self.speed(), bool(self._runs))

    def _queue_unwritable(self, e: sqlite3.Error) -> None:
        """The queue could not be written, most likely a full disk. Nothing new starts;
        the problem says so; every ``QUEUE_RETRY_MS`` the engine tries again."""
        log.error("the upload queue could not be written: %s", e)
        self._queue_broken = True
        self._set_problem(
            f"Skylift could not save its upload queue in {self.store.path.parent} ({e}); "
            "nothing new starts until it can, and Skylift tries again every 30 s. "
            "Nothing queued is lost.",
            rclone=False,
        )
        self._queue_timer.start(QUEUE_RETRY_MS)

    def _retry_queue(self) -> None:
        """Once the queue can be written again, what was uploading when it could not be
        (and is no longer) goes back to the queue; rclone skips what already arrived."""
        running = {i for run in self._runs for i in run.jobs.values()}
        try:
            stuck = [
                j.id for j in self.store.jobs(states=[JobState.UPLOADING]) if j.id not in running
            ]
            back = self.store.update(
                stuck, JobState.QUEUED, attempt_delta=-1, next_try=0, only_from=ACTIVE
            )
        except sqlite3.OperationalError as e:
            log.info("the upload queue still cannot be written: %s", e)
            self._queue_timer.start(QUEUE_RETRY_MS)
            return
        log.info("the upload queue can be written again; %d upload(s) go again", len(back))
        self._queue_broken = False
        for i in back:
            self._progress.pop(i, None)
        self._changed_now(back)
        self._set_problem("")
        self.kick(0)

    def _requeue_changed(self, ids: list[int]) -> None:
        """Send again, once settled, files that changed while they were sent; that costs
        no retry. A file that changes during every upload (still being written, say) is
        given up on after ``CHANGE_TRIES`` uploads, rather than sent whole again forever."""
        for i in ids:
            self._changes[i] = self._changes.get(i, 0) + 1
        given_up = [i for i in ids if self._changes[i] >= CHANGE_TRIES]
        again = [i for i in ids if self._changes[i] < CHANGE_TRIES]
        if given_up:
            log.warning("%d file(s) kept changing during upload; not sent again", len(given_up))
            ended = self.store.update(
                given_up, JobState.FAILED, error=KEPT_CHANGING, only_from=(JobState.UPLOADING,)
            )
            self._ended(ended)
        if again:
            log.info("%d file(s) changed during upload; sending again once settled", len(again))
            changed = self.store.update(
                again,
                JobState.QUEUED,
                error=CHANGED,
                attempt_delta=-1,
                next_try=time.time() + SETTLE_SECONDS,
                only_from=(JobState.UPLOADING,),
            )
            self._changed_now(changed)

    def _requeue(self, ids: list[int], undo_attempt: bool) -> None:
        changed = self.store.update(
            ids,
            JobState.QUEUED,
            attempt_delta=-1 if undo_attempt else 0,
            next_try=0,
            only_from=(JobState.UPLOADING,),
        )
        self._changed_now(changed)

    def _ended(self, ids: list[int]) -> None:
        self._ended_since_idle += ids
        for i in ids:
            self._changes.pop(i, None)
        self._changed_now(ids)

    def _changed_now(self, ids: list[int]) -> None:
        if ids:
            self._changed += ids
            self._counts_dirty = True
            self._summary_dirty = True

    def _maybe_drained(self) -> None:
        idle = (
            not self._runs
            and not self._checks
            and not self._counts["queued"]
            and not self._counts["uploading"]
        )
        if idle and self._ended_since_idle:
            ended, self._ended_since_idle = self._ended_since_idle, []
            self._flush()
            self.drained.emit(ended)

    @_keeps_queue
    def _flush(self) -> None:
        self._commit_copied()
        # the queue window and a waiting client each read these jobs: one reading serves both
        self.store.hold_dicts({*self._changed, *self._progress_dirty})
        try:
            self._emit_flush()
        finally:
            self.store.hold_dicts(None)

    def _emit_flush(self) -> None:
        if self._changed:
            ids = sorted(set(self._changed))
            self._changed = []
            self.jobsChanged.emit(ids)
        if self._progress_dirty:
            update = {}
            for i in self._progress_dirty:
                p = self._progress.get(i)
                if p is not None:
                    update[i] = (p.bytes, p.speed, p.eta if p.eta is not None else -1.0)
            self._progress_dirty = set()
            if update:
                self.progress.emit(update)
            self._summary_dirty = True
        if self._summary_dirty:
            self._summary_dirty = False
            self.summaryChanged.emit()


def _listing(remote: str, code: int, stdout: str, stderr: str) -> Answer:
    """An ``rclone lsjson`` answer: the listing, or one plain sentence."""
    from skylift.core.remotes import Answer

    messages = []
    for line in stderr.splitlines():
        ev = rclone_events.parse_line(line)
        if isinstance(ev, (rclone_events.Failure, rclone_events.FileError)):
            messages.append(ev.message)
    text = " ".join(messages)
    if code != 0 and "directory not found" in text.lower():
        return Answer(True, {})  # the folder is not there: none of the files are
    if code == 0:
        try:
            return Answer(True, remote_check.parse_listing(stdout))
        except (ValueError, KeyError, TypeError) as e:
            return Answer(False, None, f"rclone's listing could not be read ({e}).")
    text = text or f"rclone exited with code {code}"
    return Answer(False, None, plain(text, remote, "list the remote folder"))


def _leaf(destination: str) -> str:
    return destination.rstrip("/").rsplit("/", 1)[-1].split(":", 1)[-1]


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _file_stat(path: str) -> os.stat_result | None:
    """The file's stat, or None if it is not (or no longer) a regular file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _is_file(path: str) -> bool:
    return _file_stat(path) is not None


# the file lists the engine writes for rclone's --files-from-raw: an upload's, a check's
_BATCH_LIST, _CHECK_LIST, _LIST_SUFFIX = "batch-", "check-", ".list"


def _batches() -> Path:
    """Where rclone's file lists and logs go (made private by ``_batch_dir``)."""
    return paths.data_dir() / "batches"


def _batch_dir() -> str:
    return str(paths.private_dir(_batches()))


def _write_list(prefix: str, names: Iterable[str]) -> str:
    """A private file listing ``names`` for rclone's --files-from-raw; its path."""
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=_LIST_SUFFIX, dir=_batch_dir())
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(rclone_args.files_list(names))
    except OSError:
        _remove(path)
        raise
    return path


def _remove(path: str | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _unwritable(e: OSError) -> str:
    return f"Skylift could not write in {_batches()} ({e.strerror or e})"


def _no_room(e: OSError) -> str:
    return f"{_unwritable(e)}; the files stay queued and are sent once there is room."


# what the engine writes into the batches folder: rclone's file lists and its stderr
_LEFTOVERS = ((_BATCH_LIST, _LIST_SUFFIX), (_CHECK_LIST, _LIST_SUFFIX), (LOG_PREFIX, LOG_SUFFIX))


def clear_leftovers() -> int:
    """Remove the file lists and rclone logs a crash or kill -9 left behind.

    Only for the process that has just taken the engine's lock: no other process
    writes there while it holds it, so whatever is there is from an engine now gone.
    Returns how many files went.
    """
    folder = _batches()
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:  # not made yet: nothing left over
        return 0
    for entry in entries:
        if not any(entry.name.startswith(p) and entry.name.endswith(s) for p, s in _LEFTOVERS):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed += 1
    if removed:
        log.info("removed %d file(s) an earlier run left in %s", removed, folder)
    return removed


def status_object(
    counts: dict[str, int],
    paused: bool,
    jobs: list[dict[str, object]],
    metrics_: metrics.Metrics | None = None,
) -> dict[str, object]:
    total = sum(counts.values())
    return {
        "queued": counts.get("queued", 0),
        "uploading": counts.get("uploading", 0),
        "done": counts.get("done", 0),
        "failed": counts.get("failed", 0),
        "cancelled": counts.get("cancelled", 0),
        "failed_count": counts.get("failed", 0),
        "total": total,
        "paused": paused,
        "jobs": jobs,
        "metrics": metrics_ if metrics_ is not None else metrics.compute(metrics.Totals()),
    }
