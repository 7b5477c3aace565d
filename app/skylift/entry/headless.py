"""Running the engine without a display, and following jobs from a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

from skylift.entry.progress import FINISHED, ProgressPrinter


def core_app() -> QCoreApplication:
    app = QCoreApplication.instance()
    if app is None:
        app = QCoreApplication(sys.argv[:1])
        app.setApplicationName("skylift")
    return app


def follow_engine(service: Any, own_ids: list[int] | None) -> list[dict[str, Any]]:
    """Print progress until this command's jobs have ended; return their rows.

    With ``own_ids`` None (drain), follow everything queued until the engine is idle.
    Jobs other processes hand over meanwhile are followed too, so they are not left
    behind when this process exits. Driven by the engine's signals, not by polling.
    """
    engine = service.engine
    if own_ids is None:
        own_ids = [j.id for j in engine.jobs() if j.state.value in ("queued", "uploading")]
    rows: dict[int, dict[str, Any]] = {d["id"]: d for d in engine.job_dicts(own_ids)}
    printer = ProgressPrinter()
    loop = QEventLoop()

    def done() -> bool:
        if engine.problem:
            return True
        external = [i for i in service.external_ids if i not in rows]
        if external:
            rows.update((d["id"], d) for d in engine.job_dicts(external))
        return all(r["state"] in FINISHED for r in rows.values()) and (
            not engine.busy() or own_ids is not None
        )

    def quit_when_done() -> None:
        if done():
            loop.quit()

    def changed(ids: list[int]) -> None:
        fresh = engine.job_dicts([i for i in ids if i in rows])
        for d in fresh:
            rows[d["id"]] = d
        printer.update(rows.values(), engine.speed(), fresh)
        quit_when_done()

    def progress(update: dict[int, tuple[int, float, float]]) -> None:
        for job_id, (sent, _speed, _eta) in update.items():
            if job_id in rows:
                rows[job_id]["bytes"] = sent
        printer.update(rows.values(), engine.speed(), ())  # progress ends no job

    engine.jobsChanged.connect(changed)
    engine.progress.connect(progress)
    engine.problemChanged.connect(lambda _text: loop.quit())
    engine.summaryChanged.connect(quit_when_done)
    printer.update(rows.values(), 0.0)
    if not done():
        loop.exec()
    printer.finish()
    return [r for i, r in rows.items() if i in own_ids or i in service.external_ids]


def wait_until(done: Callable[[], bool], poll_ms: int = 250) -> None:
    """Run the event loop until ``done()`` is true (checked every poll_ms)."""
    core_app()
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(poll_ms)

    def check() -> None:
        if done():
            loop.quit()

    timer.timeout.connect(check)
    timer.start()
    if not done():
        loop.exec()
    timer.stop()
