"""Hot folders: watched export folders whose finished files are queued by themselves.

A photographer points Lightroom, Capture One or darktable at a folder; Skylift notices
each new file, waits until it has stopped growing (size and modification time
unchanged for ``settle_seconds``, and it can be opened for reading), and queues it
once. What was queued, uploaded or given up on is not queued again until the file
changes.

Change notification (QFileSystemWatcher) is only a hint: watchers miss events, have
per-user limits and do not see into large trees, so every folder is also rescanned
periodically. A scan never blocks the event loop: it walks with ``os.scandir`` in
slices of a few milliseconds driven by a zero-timeout timer.

A watched folder that disappears (a card or drive unplugged) is reported as
unavailable and checked again every few seconds; the engine holds its queued jobs
instead of failing them (``Engine.hold_origins``) and lets them go when it returns.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import logging
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from skylift.core.engine import Engine
from skylift.core.planner import Planned
from skylift.core.rclone_args import destination_for
from skylift.core.settings import Settings
from skylift.core.store import ACTIVE, Job, JobState, Store

log = logging.getLogger(__name__)

UPLOADED_DIR = "Uploaded"  # where after_upload="move" puts finished files
RESCAN_MS = 30_000  # a full look at every folder, whatever the watcher said
UNAVAILABLE_POLL_MS = 5_000  # how often a missing folder is looked for
DEBOUNCE_MS = 400  # a burst of watcher events makes one scan
SLICE_SECONDS = 0.008  # longest a scan holds the event loop at a time
MAX_WATCHED_DIRS = 256  # per folder; deeper trees rely on the periodic rescan

# --- what is never uploaded ------------------------------------------------------------
#
# Names are matched case-insensitively. Where each comes from:
# - ".*": hidden files, including macOS's ".DS_Store" and "._name" AppleDouble files,
#   editors' ".name.swp", and the hidden temporary names that tools such as rsync
#   (".name.XXXXXX") and LibreOffice (".~lock.name#") write beside the real file.
# - "*.tmp", "*.temp": the usual temporary suffix of Windows and Adobe programs.
# - "*.part": Firefox downloads and KDE's KIO copies in progress.
# - "*.partial": rclone's own in-progress name (see design.md), Safari's old one.
# - "*.crdownload": Chrome and Edge downloads in progress.
# - "*.download": Safari downloads in progress (a bundle folder on macOS).
# - "*~": backup copies left by editors; "~$*": Microsoft Office owner/lock files.
# - "thumbs.db", "ehthumbs.db", "desktop.ini": Windows Explorer's folder files.
# - "CaptureOne" folders and "*.cos/.cot/.cop/.cof/.comask": Capture One keeps its
#   sidecars (settings, thumbnails, previews, focus masks, layer masks) in a
#   "CaptureOne" subfolder beside images it has shown, which includes an output folder
#   browsed in Capture One (support.captureone.com, "Session sidecar files explained -
#   What's inside the CaptureOne folder").
# - Lightroom Classic: no temporary name of its own was found documented for exports
#   (plug-ins render into the system temp folder, not the export folder), so none is
#   listed; an export still being written is caught by the settle time and the open
#   check instead.
IGNORED_NAMES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store"})
IGNORED_PATTERNS = (
    ".*",
    "*.tmp",
    "*.temp",
    "*.part",
    "*.partial",
    "*.crdownload",
    "*.download",
    "*~",
    "~$*",
    "*.cos",
    "*.cot",
    "*.cop",
    "*.cof",
    "*.comask",
)
IGNORED_DIRS = frozenset({"captureone"})


def ignored(name: str, is_dir: bool = False) -> bool:
    """Whether a file (or folder) of this name is never uploaded from a hot folder."""
    low = name.lower()
    if low.startswith("."):
        return True
    if is_dir:
        return low in IGNORED_DIRS or low.endswith(".download")
    if low in IGNORED_NAMES:
        return True
    return any(fnmatch.fnmatchcase(low, p) for p in IGNORED_PATTERNS)


def uploaded_path(folder: str, rel_parts: list[str], name: str) -> str:
    """A free name under ``folder/Uploaded/rel``: ``a.jpg``, then ``a (2).jpg``, …"""
    target_dir = os.path.join(folder, UPLOADED_DIR, *rel_parts)
    stem, ext = os.path.splitext(name)
    n = 1
    while True:
        candidate = os.path.join(target_dir, name if n == 1 else f"{stem} ({n}){ext}")
        if not os.path.lexists(candidate):
            return candidate
        n += 1


def move_no_replace(src: str, dst: str) -> None:
    """Move ``src`` to ``dst`` without ever replacing a file at ``dst``.

    A hard link then unlink refuses an existing ``dst`` atomically; on file systems
    without hard links (FAT and exFAT memory cards) a rename after a last look.
    Raises FileExistsError when ``dst`` appeared meanwhile.
    """
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, "exists", dst) from None
        os.rename(src, dst)
        return
    os.unlink(src)


# --- the folders -----------------------------------------------------------------------


@dataclass
class Candidate:
    size: int
    mtime_ns: int
    stable_since: float  # monotonic time the size and mtime were last seen to change
    rel: tuple[str, ...]


@dataclass
class Folder:
    path: str
    destination: str  # as set: "" means the default destination
    subfolders: bool
    after_upload: str
    available: bool = True
    root: str = ""  # the destination root its files were last checked against
    candidates: dict[str, Candidate] = field(default_factory=dict)
    known: dict[str, tuple[int, int]] = field(default_factory=dict)  # handled: size, mtime_ns
    active: set[int] = field(default_factory=set)  # its jobs still queued or uploading
    watched_dirs: set[str] = field(default_factory=set)

    def config(self) -> tuple[str, bool, str]:
        return (self.destination, self.subfolders, self.after_upload)


@dataclass
class _Scan:
    folder: Folder
    entries: Iterator[tuple[str, tuple[str, ...], os.stat_result | None]]
    seen: set[str] = field(default_factory=set)
    dirs: list[str] = field(default_factory=list)


def _walk(top: str) -> Iterator[tuple[str, tuple[str, ...], os.stat_result | None]]:
    """(path, folder parts below ``top``, stat) for files; (dir, parts, None) for folders.

    Hidden and ignored names, symbolic links to folders (loops) and the ``Uploaded``
    folder at the top are skipped.
    """
    stack: list[tuple[str, tuple[str, ...]]] = [(top, ())]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as e:
            log.debug("cannot list %s: %s", folder, e)
            continue
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if ignored(name, is_dir=True) or (not rel and name == UPLOADED_DIR):
                        continue
                    sub = (*rel, name)
                    yield entry.path, sub, None
                    stack.append((entry.path, sub))
                    continue
                if ignored(name):
                    continue
                st = entry.stat()  # follows a symlink: a link to a photo uploads it
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                yield entry.path, rel, st


class HotFolders(QObject):
    """Watches the folders of ``settings["watch_folders"]`` and queues what settles."""

    foldersChanged = Signal()  # availability or counts changed: read status()

    def __init__(
        self, settings: Settings, engine: Engine, store: Store, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.settings = settings
        self.engine = engine
        self.store = store
        self.folders: dict[str, Folder] = {}
        self.moved = 0  # files moved to Uploaded/, for tests and the log
        self.scans = 0  # full scans finished, for tests
        self._scan: _Scan | None = None
        self._pending: list[str] = []  # folders waiting for a scan, in order
        self._stopped = False

        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._dir_changed)
        self._slice_timer = QTimer(self)
        self._slice_timer.setInterval(0)
        self._slice_timer.timeout.connect(self._scan_slice)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._scan_dirty)
        self._dirty: set[str] = set()
        self._rescan_timer = QTimer(self)
        self._rescan_timer.setInterval(RESCAN_MS)
        self._rescan_timer.timeout.connect(self.rescan)
        self._missing_timer = QTimer(self)
        self._missing_timer.setInterval(UNAVAILABLE_POLL_MS)
        self._missing_timer.timeout.connect(self._look_for_missing)
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.timeout.connect(self._check_candidates)

        engine.jobsChanged.connect(self._jobs_changed)
        self.reload()
        self._rescan_timer.start()

    # --- public -----------------------------------------------------------------------

    def reload(self) -> None:
        """Take the list of folders from the settings again (added, removed, changed)."""
        if self._stopped:
            return
        wanted: dict[str, dict[str, Any]] = {f["path"]: f for f in self.settings["watch_folders"]}
        for path in list(self.folders):
            f = self.folders[path]
            w = wanted.get(path)
            if w is None or (w["destination"], w["subfolders"], w["after_upload"]) != f.config():
                self._drop(path)
        added = []
        for path, w in wanted.items():
            if path not in self.folders:
                self.folders[path] = Folder(
                    path, w["destination"], bool(w["subfolders"]), w["after_upload"]
                )
                added.append(path)
        if added:
            for job in self.store.jobs(states=ACTIVE):
                if job.origin in added:
                    self.folders[job.origin].active.add(job.id)
        self.engine.hold_origins = set(self.folders)
        for path in added:
            log.info("watching %s", path)
        for f in self.folders.values():
            root = self._dest_root(f)
            if root != f.root:
                # another default destination: what went to the old one goes to the new
                f.root = root
                f.known.clear()
                f.candidates.clear()
            self._queue_scan(f.path)
        if self.folders:
            self._missing_timer.start()
        else:
            self._missing_timer.stop()
        self.foldersChanged.emit()

    def rescan(self) -> None:
        """Look at every available folder now."""
        for path, f in self.folders.items():
            if f.available:
                self._queue_scan(path)

    def status(self) -> list[dict[str, Any]]:
        """One entry per watched folder: path, available, destination (resolved; ""
        when none is set), waiting (files settling), queued (jobs not finished)."""
        return [
            {
                "path": f.path,
                "available": f.available,
                "destination": self._dest_root(f),
                "waiting": len(f.candidates),
                "queued": len(f.active),
            }
            for f in self.folders.values()
        ]

    def unavailable(self) -> list[str]:
        return [f.path for f in self.folders.values() if not f.available]

    def busy(self) -> bool:
        """A scan is running or queued, or files are settling."""
        return bool(self._scan or self._pending or any(f.candidates for f in self.folders.values()))

    def stop(self) -> None:
        self._stopped = True
        for t in (
            self._slice_timer,
            self._debounce,
            self._rescan_timer,
            self._missing_timer,
            self._settle_timer,
        ):
            t.stop()
        with contextlib.suppress(RuntimeError, TypeError):
            self.engine.jobsChanged.disconnect(self._jobs_changed)
        dirs = self.watcher.directories()
        if dirs:
            self.watcher.removePaths(dirs)
        self.engine.hold_origins = set()
        self._scan = None
        self._pending = []

    # --- folders coming and going -----------------------------------------------------

    def _drop(self, path: str) -> None:
        f = self.folders.pop(path)
        if f.watched_dirs:
            self.watcher.removePaths(sorted(f.watched_dirs))
        if self._scan is not None and self._scan.folder is f:
            self._scan = None
        if path in self._pending:
            self._pending.remove(path)
        log.info("no longer watching %s", path)

    def _set_available(self, f: Folder, available: bool) -> None:
        if f.available == available:
            return
        f.available = available
        if available:
            log.info("watched folder %s is back", f.path)
            self.engine.release_origin(f.path)
        else:
            log.warning("watched folder %s is not available; waiting for it to return", f.path)
            f.candidates.clear()
            if f.watched_dirs:
                self.watcher.removePaths(sorted(f.watched_dirs))
                f.watched_dirs.clear()
        self.foldersChanged.emit()

    def _look_for_missing(self) -> None:
        """Every few seconds, one stat per watched folder: a card pulled out is seen
        now, not at the next full look (the watcher does not report its own folder
        going away), and one put back is scanned at once."""
        for path, f in list(self.folders.items()):
            present = os.path.isdir(path)
            if not f.available and present:
                self._queue_scan(path)
            elif f.available and not present:
                self._set_available(f, False)

    # --- scanning ---------------------------------------------------------------------

    def _dir_changed(self, directory: str) -> None:
        for path in self.folders:
            if directory == path or directory.startswith(path.rstrip(os.sep) + os.sep):
                self._dirty.add(path)
        self._debounce.start()

    def _scan_dirty(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for path in dirty:
            if path in self.folders:
                self._queue_scan(path)

    def _queue_scan(self, path: str) -> None:
        if self._stopped:
            return
        if self._scan is not None and self._scan.folder.path == path:
            # a scan of it is under way: it may have passed the change, so look again
            if path not in self._pending:
                self._pending.append(path)
            return
        if path not in self._pending:
            self._pending.append(path)
        if self._scan is None:
            self._next_scan()

    def _next_scan(self) -> None:
        while self._pending:
            path = self._pending.pop(0)
            f = self.folders.get(path)
            if f is None:
                continue
            if not os.path.isdir(path):
                self._set_available(f, False)
                continue
            self._set_available(f, True)
            if path not in f.watched_dirs:
                self._watch(f, path)
            self._scan = _Scan(f, _walk(path))
            self._slice_timer.start()
            return
        self._slice_timer.stop()

    def _watch(self, f: Folder, directory: str) -> None:
        if len(f.watched_dirs) >= MAX_WATCHED_DIRS:
            return
        if self.watcher.addPath(directory):
            f.watched_dirs.add(directory)

    def _scan_slice(self) -> None:
        scan = self._scan
        if scan is None:
            self._next_scan()
            return
        deadline = time.monotonic() + SLICE_SECONDS
        f = scan.folder
        for n, (path, rel, st) in enumerate(scan.entries, 1):
            if st is None:
                scan.dirs.append(path)
            else:
                scan.seen.add(path)
                self._found(f, path, rel, st)
            if n % 8 == 0 and time.monotonic() > deadline:
                return  # the timer brings us back after the event loop has had its turn
        self._scan_done(scan)

    def _scan_done(self, scan: _Scan) -> None:
        f = scan.folder
        self._scan = None
        self.scans += 1
        if not os.path.isdir(f.path):
            self._set_available(f, False)
        else:
            for gone in set(f.candidates) - scan.seen:
                del f.candidates[gone]
            for gone in set(f.known) - scan.seen:
                del f.known[gone]
            for d in scan.dirs:
                if d not in f.watched_dirs:
                    self._watch(f, d)
        self._arm_settle()
        self.foldersChanged.emit()
        self._next_scan()

    def _found(self, f: Folder, path: str, rel: tuple[str, ...], st: os.stat_result) -> None:
        stamp = (st.st_size, st.st_mtime_ns)
        if f.known.get(path) == stamp:
            return
        c = f.candidates.get(path)
        if c is not None:
            if (c.size, c.mtime_ns) != stamp:
                f.candidates[path] = Candidate(*stamp, time.monotonic(), rel)
            return
        dest_root = self._dest_root(f)
        if not dest_root:
            return  # nowhere to send it yet; looked at again once a remote is set
        if self._handled(f, path, rel, st, dest_root):
            f.known[path] = stamp
            return
        f.candidates[path] = Candidate(*stamp, time.monotonic(), rel)

    def _handled(
        self, f: Folder, path: str, rel: tuple[str, ...], st: os.stat_result, dest_root: str
    ) -> bool:
        """Whether this file, as it is now, was already queued, uploaded or given up on."""
        dest = self._destination(f, path, rel, dest_root)
        done = self.store.uploaded(path, dest)
        if done is not None and _same(done[0], done[1], st):
            return True
        job = self.store.last_job(path, dest)
        if job is None:
            return False
        if job.state in ACTIVE:
            return True  # queued or uploading: the engine has it
        if not _same(job.size, job.mtime, st):
            return False  # changed since: send the new version
        if job.state is JobState.DONE and job.origin == f.path and f.after_upload == "move":
            self._move_uploaded(f, job)  # uploaded while Skylift's watcher was not running
        return True

    # --- settling ---------------------------------------------------------------------

    def _arm_settle(self) -> None:
        if self._settle_timer.isActive():
            return
        settle = float(self.settings["settle_seconds"])
        soonest: float | None = None
        for f in self.folders.values():
            for c in f.candidates.values():
                due = c.stable_since + settle
                soonest = due if soonest is None else min(soonest, due)
        if soonest is None:
            return
        # look a little more often than the settle time, so growth is seen as it happens
        wait = min(max(soonest - time.monotonic(), 0.0), max(settle / 2, 0.25))
        self._settle_timer.start(int(wait * 1000) + 20)

    def _check_candidates(self) -> None:
        settle = float(self.settings["settle_seconds"])
        now = time.monotonic()
        deadline = now + SLICE_SECONDS
        more = False
        for f in self.folders.values():
            if more:
                break
            if not f.available or not f.candidates:
                continue
            dest_root = self._dest_root(f)
            ready: list[Planned] = []
            stamps: dict[str, tuple[int, int]] = {}
            for n, (path, c) in enumerate(list(f.candidates.items()), 1):
                if n % 16 == 0 and time.monotonic() > deadline:
                    more = True  # thousands at once: queue these, the rest in a moment
                    break
                try:
                    st = os.stat(path)
                except OSError:
                    del f.candidates[path]  # gone (renamed away or deleted)
                    continue
                stamp = (st.st_size, st.st_mtime_ns)
                if stamp != (c.size, c.mtime_ns):
                    f.candidates[path] = Candidate(*stamp, now, c.rel)
                    continue
                if now - c.stable_since < settle or not _readable(path) or not dest_root:
                    continue
                del f.candidates[path]
                dest = self._destination(f, path, c.rel, dest_root)
                ready.append(Planned(Path(path), dest, st.st_size, st.st_mtime))
                stamps[path] = stamp
            if ready:
                result = self.engine.add_planned(ready, origin=f.path)
                for job in result.jobs:
                    if job.state in ACTIVE:
                        f.active.add(job.id)
                f.known.update(stamps)
                log.info("queued %d file(s) from watched folder %s", len(ready), f.path)
                self.foldersChanged.emit()
        if more:
            self._settle_timer.start(0)
        else:
            self._arm_settle()

    # --- destinations -----------------------------------------------------------------

    def _dest_root(self, f: Folder) -> str:
        return f.destination or self.settings.destination_root

    def _destination(self, f: Folder, path: str, rel: tuple[str, ...], dest_root: str) -> str:
        return destination_for(Path(path), dest_root, rel if f.subfolders else ())

    # --- after upload -----------------------------------------------------------------

    def _jobs_changed(self, ids: list[int]) -> None:
        movers = any(f.after_upload == "move" for f in self.folders.values())
        # with a "move" folder every change is looked at: a job of it retried by hand is
        # not among those it remembers as active, and must be moved when it succeeds
        wanted = ids if movers else [i for i in ids if self._active_anywhere(i)]
        if not wanted:
            return
        changed = False
        for job in self.engine.jobs(ids=wanted):
            f = self.folders.get(job.origin or "")
            if f is None:
                continue
            if job.state in ACTIVE:
                if job.id not in f.active:
                    f.active.add(job.id)
                    changed = True
                continue
            if job.id in f.active:
                f.active.discard(job.id)
                changed = True
            if job.state is JobState.DONE and f.after_upload == "move":
                self._move_uploaded(f, job)
        if changed:
            self.foldersChanged.emit()

    def _active_anywhere(self, job_id: int) -> bool:
        return any(job_id in f.active for f in self.folders.values())

    def _move_uploaded(self, f: Folder, job: Job) -> None:
        """Move an uploaded file to ``Uploaded/`` below its folder, keeping its place."""
        src = str(job.path)
        try:
            st = os.stat(src)
        except OSError:
            return  # moved or deleted by someone else already
        if not _same(job.size, job.mtime, st):
            log.info("not moving %s: it changed after it was queued", src)
            return
        try:
            rel = list(Path(src).parent.relative_to(f.path).parts)
        except ValueError:
            return
        for _ in range(5):
            dst = uploaded_path(f.path, rel, Path(src).name)
            try:
                move_no_replace(src, dst)
            except FileExistsError:
                continue  # taken between the look and the move: pick the next name
            except OSError as e:
                log.warning("could not move %s to %s: %s", src, dst, e)
                return
            f.known.pop(src, None)
            self.moved += 1
            log.info("moved %s to %s", src, dst)
            return


def _same(size: int, mtime: float, st: os.stat_result) -> bool:
    return size == st.st_size and abs(mtime - st.st_mtime) < 1e-6


def _readable(path: str) -> bool:
    """Another program writing the file may hold it exclusively (Windows): not yet."""
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False
