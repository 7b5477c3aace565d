"""Following uploads from a terminal: one line per finished file, a live progress line.

No Qt here: a command that only talks to the running app does not need it.
"""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False  # typing costs a client following its upload 2 ms of start-up
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, TextIO

FINISHED = {"done", "failed", "cancelled"}


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h {(s % 3600) // 60} min"


class ProgressPrinter:
    """Prints each file's outcome once, and a live progress line on a terminal."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr):
        self.out = out
        self.err = err
        self.live = err.isatty()
        self._reported: set[int] = set()
        self._line = False

    def update(
        self,
        jobs: Iterable[dict[str, Any]],
        speed: float,
        changed: Iterable[dict[str, Any]] | None = None,
    ) -> None:
        """Print the outcome of each job that ended, once; redraw the progress line.

        ``jobs``: all the jobs followed. ``changed``: those that changed since the last
        update, the only ones that can have ended (None: look at them all). With 1,000
        files, looking only at the few that changed keeps this cheap while they upload.
        """
        printed = False
        for j in jobs if changed is None else changed:
            if j["state"] in FINISHED and j["id"] not in self._reported:
                printed = True
                self._reported.add(j["id"])
                self._clear()
                if j["state"] == "done" and j.get("note") == "Already uploaded":
                    # Skylift's own record says so; the remote was not asked
                    sent = (
                        f"sent to {j['destination']} before; not sent again unless --again is given"
                    )
                    print(f"unchanged {j['path']} ({sent})", file=self.out)
                elif j["state"] == "done":
                    checked = str(j.get("verified") or "")
                    how = ""
                    if checked.startswith("hash:"):
                        how = f" (verified, {checked[5:].upper()})"
                    elif checked == "size":
                        how = " (verified, size)"
                    print(f"uploaded  {j['path']} -> {j['destination']}{how}", file=self.out)
                elif j["state"] == "failed":
                    print(f"FAILED    {j['path']}: {j['error']}", file=self.out)
                else:
                    print(f"cancelled {j['path']}", file=self.out)
        if printed:  # once per update: a script reading the lines gets them as they come
            self.out.flush()
        if self.live:
            jobs = list(jobs)
            done = sum(1 for j in jobs if j["state"] in FINISHED)
            left = sum(max(0, j["size"] - j["bytes"]) for j in jobs if j["state"] not in FINISHED)
            line = f"{done} of {len(jobs)} · {human_bytes(speed)}/s"
            if speed > 0 and left:
                line += f" · {human_duration(left / speed)} left"
            self.err.write("\r\033[K" + line)
            self.err.flush()
            self._line = True

    def _clear(self) -> None:
        if self._line:
            self.err.write("\r\033[K")
            self._line = False

    def finish(self) -> None:
        self._clear()


def poll_until(done: Callable[[], bool], interval: float = 0.3) -> None:
    """Block without an event loop (a client of another process)."""
    while not done():
        time.sleep(interval)
