"""One desktop notification per finished batch, with the failures grouped in it."""

from __future__ import annotations

import dataclasses
import os
import posixpath
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from PySide6.QtCore import QObject, Signal

from skylift.core import links
from skylift.core.engine import ALREADY_UPLOADED, Engine
from skylift.core.settings import Settings
from skylift.core.store import Job, JobState
from skylift.ui import format as fmt

_PHOTO_SUFFIXES = (
    "jpg jpeg png tif tiff heic heif webp avif jxl gif bmp psd dng cr2 cr3 "
    "crw nef nrw arw srf sr2 orf raf rw2 pef srw x3f 3fr iiq erf raw"
)
PHOTO_EXTENSIONS = frozenset(f".{s}" for s in _PHOTO_SUFFIXES.split(" "))
NOTIFY_FAILURES = "notify_failures"
SHARE_HINT = "Click to copy a share link."


@dataclass(frozen=True)
class Note:
    title: str
    body: str
    failed: int  # > 0: the queue opens on its Failed tab when this is clicked
    share: tuple[int, ...] = ()  # uploaded jobs whose share link a click copies


_STATES = {s.value: s for s in JobState}


class Ended(NamedTuple):
    """What a notification needs of an ended job: read as a dict, it costs a fraction of
    a ``Job`` (and its ``Path``), which counts when a batch of 10,000 photos ends."""

    id: int
    path: str
    destination: str
    state: JobState
    error: str | None
    note: str | None
    verified: str | None

    @classmethod
    def of(cls, d: Mapping[str, Any]) -> Ended:
        return cls(
            d["id"],
            d["path"],
            d["destination"],
            _STATES[d["state"]],
            d["error"],
            d["note"],
            d["verified"],
        )

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


AnyEnded = Job | Ended


def _noun(jobs: Sequence[AnyEnded]) -> tuple[str, str]:
    photos = all(os.path.splitext(os.fspath(j.path))[1].lower() in PHOTO_EXTENSIONS for j in jobs)
    return ("photo", "photos") if photos else ("file", "files")


def common_destination(destinations: Sequence[str]) -> str:
    """The folder all these uploads went to: ``dropbox:/Photos/Processed``."""
    if not destinations:
        return ""
    destinations = links.one_per_folder(destinations)
    remotes = {d.partition(":")[0] for d in destinations}
    if len(remotes) > 1:
        return f"{len(remotes)} remotes"
    remote = remotes.pop()
    folders = [posixpath.dirname(d.partition(":")[2]) for d in destinations]
    absolute = all(f.startswith("/") for f in folders)
    try:
        common = posixpath.commonpath(folders) if folders else ""
    except ValueError:  # a mix of absolute and relative paths
        common = ""
    if absolute and not common.startswith("/"):
        common = "/" + common
    return f"{remote}:{common}"


def compose(
    jobs: Sequence[AnyEnded], notify_done: bool = True, notify_failed: bool = True
) -> Note | None:
    """The one notification for a batch of ended jobs, or None when there is nothing to say."""
    done = [j for j in jobs if j.state is JobState.DONE]
    failed = [j for j in jobs if j.state is JobState.FAILED]
    say_done = notify_done and bool(done)
    say_failed = notify_failed and bool(failed)
    if not say_done and not say_failed:
        return None
    one, many = _noun(done or failed)
    where = common_destination([j.destination for j in done])
    # files sent before and unchanged: nothing went to the remote, and the title says so
    sent = any(j.note != ALREADY_UPLOADED for j in done)
    uploaded = f"{fmt.count(len(done), one, many)} {'' if sent else 'already '}uploaded to {where}"
    if not say_failed:
        checked = _checked(done)
        if not sent:  # nothing new to share: a click opens the queue, where Upload again is
            return Note(uploaded, f"{checked} Click to open the queue.", 0)
        # whether the remote can make links is only known by asking it: the click asks
        if links.common_folder(j.destination for j in done) is None:
            return Note(uploaded, checked, 0)
        body = f"{checked} {SHARE_HINT}" if checked else SHARE_HINT
        return Note(uploaded, body, 0, tuple(j.id for j in done))
    reasons = Counter(j.error or "The upload failed." for j in failed)
    reason, n = reasons.most_common(1)[0]
    if len(failed) == 1:
        title = f"{failed[0].name} could not be uploaded"
        body = reason
    else:
        title = f"{fmt.count(len(failed), one, many)} could not be uploaded"
        body = reason if n == len(failed) else f"{reason} ({n:,} of them; others for other reasons)"
    body += " Click to open the queue and retry."
    if say_done:
        title = f"{uploaded}, {len(failed):,} failed"
    return Note(title, body, len(failed))


def _checked(done: Sequence[AnyEnded]) -> str:
    """What the batch's verification and skipping found, for the notification's body."""
    parts = []
    already = sum(1 for j in done if j.note == ALREADY_UPLOADED)
    if already == len(done):
        return (
            "They were uploaded before and have not changed, so nothing was sent. "
            "To send them anyway, choose Upload again on their rows in the queue."
        )
    if already:
        parts.append(f"{already:,} of them were already there and unchanged.")
    kinds = Counter(j.verified for j in done if j.note != ALREADY_UPLOADED)
    sent = len(done) - already
    by_hash = [k for k in kinds if k and k.startswith("hash:")]
    if kinds.get("size", 0) + sum(kinds[k] for k in by_hash) == sent:
        how = ", ".join(sorted(k[5:].upper() for k in by_hash)) or "size"
        parts.append(f"Every remote copy was checked ({how}) and matches.")
    return " ".join(parts)


def _always(_remote: str) -> bool:
    return True


def _remote_of(jobs: Sequence[AnyEnded]) -> str:
    return jobs[0].destination.partition(":")[0] if jobs else ""


def notify_failures_enabled(settings: Settings) -> bool:
    return bool(settings.get(NOTIFY_FAILURES, True))


def set_notify_failures(settings: Settings, value: bool) -> None:
    settings[NOTIFY_FAILURES] = value


class Notifier(QObject):
    """Listens for finished batches and hands one Note to whatever can show it."""

    noted = Signal(object)  # the Note, for the window when there is no tray

    def __init__(
        self,
        engine: Engine,
        show: Callable[[Note], None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.engine = engine
        self._show = show
        self.last: Note | None = None
        # whether a remote can make share links; the app learns it from the first try
        self.can_share: Callable[[str], bool] = _always
        engine.drained.connect(self.on_drained)

    def on_drained(self, ids: list[int]) -> None:
        settings = self.engine.settings
        jobs = [Ended.of(d) for d in self.engine.job_dicts(ids)]
        note = compose(jobs, bool(settings["notify"]), notify_failures_enabled(settings))
        if note is None:
            return
        if note.share and not self.can_share(_remote_of(jobs)):
            # this remote said it cannot make links: a click opens the queue instead
            body = note.body.replace(SHARE_HINT, "").strip()
            note = dataclasses.replace(note, body=body, share=())
        self.last = note
        self._show(note)
        self.noted.emit(note)
