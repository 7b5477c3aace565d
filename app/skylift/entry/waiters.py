"""The "wait" request: a client following its uploads is answered when they change.

Instead of asking for all its jobs several times a second, ``skylift upload --wait``
sends ``{"cmd": "wait", "ids": [...], "since": SEQ}`` and gets the answer once one of
those jobs has changed after ``SEQ`` (its state, or its progress), or after at most
``WAIT_MAX_S`` with nothing new. The answer is that of "jobs", for the changed jobs
only (those still queued or uploading cut down to their progress: a follower prints a
file once it has ended, and 1,000 files turning 'uploading' at once need no more),
plus ``seq`` to send back next time; a "wait" without ``since``, or one that
waited ``WAIT_MAX_S``, gets every job asked for. Changes are counted from the
engine's own (batched) signals, so a change that happens between two requests is
not missed: the next request sees that the job changed after the ``seq`` it brings.
What changed is remembered for ``KEEP_S`` at least (a client asks again within
milliseconds of an answer). The "upload" answer carries ``seq`` too, so a client that
has just handed files over can wait for their first change without being sent all of
them as they were queued.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer

from skylift.core.engine import Engine
from skylift.entry.ipc import Reply
from skylift.entry.progress import FINISHED

WAIT_MAX_S = 1.0  # an answer at least this often, so the client can tell it is alive
CHECK_MS = 250
KEEP_S = 60.0
UNDER_WAY_KEYS = ("id", "state", "size", "bytes")  # what a job not yet ended is sent with


@dataclass
class _Waiter:
    ids: list[int]
    since: int
    deadline: float
    reply: Reply


def jobs_reply(engine: Engine, ids: Iterable[int]) -> dict[str, Any]:
    """What the "jobs" request answers: those jobs with their live progress."""
    jobs = []
    for d in engine.job_dicts(ids):
        p = engine.job_progress(d["id"])
        if p:
            d["bytes"], d["speed"] = p[0], p[1]
        jobs.append(d)
    return {
        "ok": True,
        "jobs": jobs,
        "speed": engine.speed(),
        "paused": engine.paused,
        "busy": engine.busy(),
        "problem": engine.problem,
    }


class Waiters(QObject):
    """Holds "wait" requests until the engine has news for them."""

    def __init__(self, engine: Engine, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self.seq = 0
        self._changed_at: dict[int, int] = {}  # job id -> seq of its last change
        self._waiting: list[_Waiter] = []
        self._pruned_at = time.monotonic()
        self._prune_below = 0  # changes up to this seq are forgotten at the next prune
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self._check)
        engine.jobsChanged.connect(self._jobs_changed)
        engine.progress.connect(self._progress)
        engine.jobsRemoved.connect(self._jobs_removed)
        # a flush ends with summaryChanged: answer then, with all it brought
        engine.summaryChanged.connect(self._check)
        engine.problemChanged.connect(self._problem)

    def wait(self, msg: dict[str, Any], reply: Reply) -> None:
        ids = list(msg.get("ids", []))
        since = msg.get("since")
        if since is None or self.engine.problem:
            reply(self._answer(ids))
            return
        waiter = _Waiter(ids, int(since), time.monotonic() + WAIT_MAX_S, reply)
        news = self._news(waiter)
        if news:
            reply(self._answer(news))
            return
        self._waiting.append(waiter)
        if not self._timer.isActive():
            self._timer.start()

    def pending(self) -> int:
        """How many requests are waiting for an answer."""
        return len(self._waiting)

    def _news(self, waiter: _Waiter) -> list[int]:
        return [i for i in waiter.ids if self._changed_at.get(i, 0) > waiter.since]

    def _answer(self, ids: list[int]) -> dict[str, Any]:
        answer = jobs_reply(self.engine, ids)
        answer["jobs"] = [
            j if j["state"] in FINISHED else {k: j[k] for k in UNDER_WAY_KEYS}
            for j in answer["jobs"]
        ]
        answer["seq"] = self.seq
        return answer

    def _touch(self, ids: Iterable[int]) -> None:
        self.seq += 1
        for i in ids:
            self._changed_at[i] = self.seq
        now = time.monotonic()
        if now - self._pruned_at >= KEEP_S:
            below = self._prune_below
            self._changed_at = {i: s for i, s in self._changed_at.items() if s > below}
            self._pruned_at, self._prune_below = now, self.seq

    def _jobs_changed(self, ids: list[int]) -> None:
        self._touch(ids)

    def _progress(self, update: dict[int, Any]) -> None:
        self._touch(update)

    def _jobs_removed(self, ids: list[int]) -> None:
        for i in ids:
            self._changed_at.pop(i, None)

    def _problem(self, text: str) -> None:
        if text:
            self._release(lambda _w: True)

    def _check(self) -> None:
        now = time.monotonic()
        self._release(lambda w: bool(self._news(w)) or now >= w.deadline)

    def _release(self, due: Any) -> None:
        keep: list[_Waiter] = []
        answering: list[_Waiter] = []
        for w in self._waiting:
            (answering if due(w) else keep).append(w)
        if not answering:
            return
        self._waiting = keep
        for w in answering:
            news = self._news(w)
            w.reply(self._answer(news or w.ids))  # nothing new: all of them, afresh
        if not self._waiting:
            self._timer.stop()

    def close(self) -> None:
        """Answer whoever still waits (the engine is going away)."""
        self._release(lambda _w: True)
