#!/usr/bin/env python3
"""The queue window with 10,000 jobs: opening, a 10,000-file drop, memory, stalls.

    .venv/bin/python benchmarks/gui_scale_bench.py [--seconds 10] [--platform auto]

In a private profile (uploads turned off, so nothing runs rclone) the queue holds
10,000 jobs. Measured, each in a fresh process:

1. opening the queue window: constructing it (and its model) over the 10,000 jobs,
   show(), until its item view has painted once;
2. the model's memory: tracemalloc (Python objects) and RSS growth while it is built;
3. 1,000 of the jobs "uploading", with progress for all 1,000 arriving twice a second
   through the engine's own ``progress`` signal (``{job_id: (bytes, speed, eta)}``, as
   ``Engine._flush`` sends it): the longest stall of the event loop, found by a 5 ms
   QTimer probe (the gap between two of its ticks, minus 5 ms);
4. queueing 10,000 dropped files: a QDropEvent with 10,000 file URLs sent to the window,
   until the view's model has the 10,000 new rows and has painted;
5. the process's peak RSS (VmHWM), and what ``engine.status()`` (the reply to
   ``skylift status``) costs the app's event loop with that queue;
6. the end of a batch of 10,000: the first 10,000 jobs are marked done and the engine's
   ``drained`` signal is sent with their ids, as the engine sends it when its queue runs
   empty; the time its listeners hold the event loop (the desktop app composes the one
   notification for the batch).

Two windows are measured: the desktop app's own (``skylift.ui.app.SkyliftApp``, which
builds ``QueueModel`` and ``QueueWindow`` as the app does; skipped with the reason when
it cannot be imported), and a *reference* written here (a plain QAbstractTableModel +
QTableView fed by the same engine signals) as a yardstick for what model/view itself
costs. Progress is sent the way ``Engine._flush`` sends it (``progress`` with the dict,
then ``summaryChanged``); the benchmark also counts the entries a listener receives,
which catches a signal type that drops the payload (``Signal(dict)`` needs str keys).
Each window is measured ``--runs`` times in a fresh process; the table gives medians.

Results: a Markdown table on stdout, JSON in benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h

JOBS = 10_000
UPLOADING = 1_000
DROP = 10_000


# --- the orchestrator -----------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=10, help="how long progress flows")
    ap.add_argument("--platform", choices=("auto", "xcb", "offscreen"), default="auto")
    ap.add_argument("--ui", choices=("both", "skylift", "reference"), default="both")
    ap.add_argument("--runs", type=int, default=2, help="fresh processes per window")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="one more run of each window under cProfile: where opening and the drop go",
    )
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    h.require_skylift()
    if args.child:
        return child(json.loads(args.child))

    tmp = Path(tempfile.mkdtemp(prefix="skylift-guiscale-"))
    xs: h.XSession | None = None
    platform = args.platform
    if platform in ("auto", "xcb") and shutil.which("Xvfb"):
        xs = h.XSession()
        xs.start()
        platform = "xcb"
    elif platform == "xcb":
        sys.exit("--platform xcb needs Xvfb")
    else:
        platform = "offscreen"
    results: list[dict[str, Any]] = []
    try:
        print(f"generating {JOBS + DROP:,} files in {tmp}", file=sys.stderr)
        queued = tmp / "files" / "Session"
        dropped = tmp / "files" / "Dropped"
        for folder, n in ((queued, JOBS), (dropped, DROP)):
            folder.mkdir(parents=True)
            for i in range(n):
                (folder / f"IMG_{i:05d}.jpg").write_bytes(b"x" * 1000)
        uis = ["skylift", "reference"] if args.ui == "both" else [args.ui]
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = h.PYCACHE
        env["QT_QPA_PLATFORM"] = platform
        if xs is not None:
            env["DISPLAY"] = xs.display
        for ui in uis:
            for run in range(args.runs + (1 if args.profile else 0)):
                spec = {
                    "profile_phases": args.profile and run == args.runs,
                    "ui": ui,
                    "profile": str(tmp / f"profile-{ui}-{run}"),
                    "queued": str(queued),
                    "dropped": str(dropped),
                    "seconds": args.seconds,
                }
                print(f"running: {ui} window, run {run + 1}/{args.runs}", file=sys.stderr)
                out = subprocess.run(
                    [sys.executable, __file__, "--child", json.dumps(spec)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                res: dict[str, Any] = {"ui": ui, "run": run + 1}
                if spec["profile_phases"]:
                    res["ui"] = ui + "-profiled"
                    print(out.stderr, file=sys.stderr)
                for line in out.stdout.splitlines():
                    if line.startswith("{"):
                        res.update(json.loads(line))
                if out.returncode != 0 and "skipped" not in res:
                    res["error"] = (out.stderr.strip().splitlines() or ["?"])[-1]
                    print(out.stderr[-3000:], file=sys.stderr)
                results.append(res)
                if "skipped" in res:
                    print(f"  skipped: {res['skipped']}", file=sys.stderr)
                    break
    finally:
        if xs is not None:
            xs.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    text = report(results, platform, args.seconds)
    print(text)
    path = h.save_json(
        "gui_scale_bench", {"machine": h.machine(), "results": results, "markdown": text}
    )
    print(f"\nresults: {path}", file=sys.stderr)
    return 0


def report(results: list[dict[str, Any]], platform: str, seconds: float) -> str:
    headers = [
        "window",
        "build + show + paint, 10,000 jobs s",
        "show again s",
        "queue 10,000 dropped files s",
        "model memory MB (tracemalloc / RSS growth)",
        "RSS with 10,000 jobs MB",
        "peak RSS MB (20,000 jobs)",
        "longest stall while progress flows ms",
        "stall p99 ms",
        "progress entries received",
        "engine.status() 10,000 / 20,000 jobs ms",
        "`skylift status --json` 10,000 / 20,000 jobs s",
        "runs",
    ]
    rows = []
    notes = []
    for ui, label in (
        ("skylift", "Skylift (SkyliftApp)"),
        ("reference", "reference (bench's own)"),
    ):
        rs = [r for r in results if r["ui"] == ui]
        if not rs:
            continue
        skipped = [r["skipped"] for r in rs if "skipped" in r]
        if skipped:
            notes.append(f"- {label}: skipped: {skipped[0]}")
            continue
        for r in rs:
            if "error" in r:
                notes.append(f"- {label}, run {r['run']}: failed: {r['error']}")
        ok = [r for r in rs if "error" not in r]
        if not ok:
            continue

        def med(key: str, rows: list[dict[str, Any]] = ok) -> float:
            return h.median(float(r[key]) for r in rows if key in r)

        sent = sum(int(r["progress_sent"]) for r in ok)
        got = sum(int(r["progress_received"]) for r in ok)
        via = {r.get("drop_via") for r in ok}
        rows.append(
            [
                label,
                h.fmt(med("open_s")),
                h.fmt(med("reopen_s")),
                h.fmt(med("drop_s")) + ("" if via == {"drop"} else " ¹"),
                f"{h.fmt(med('model_traced_mb'), 1)} / {h.fmt(med('model_rss_mb'), 1)}",
                h.fmt(med("rss_10k_mb"), 0),
                h.fmt(med("hwm_mb"), 0),
                f"{h.fmt(med('stall_ms'), 0)} (max {h.fmt(max(r['stall_ms'] for r in ok), 0)})",
                h.fmt(med("stall_p99_ms"), 0),
                f"{got:,} of {sent:,}",
                f"{h.fmt(med('status_10k_ms'), 0)} / {h.fmt(med('status_20k_ms'), 0)}",
                f"{h.fmt(med('cli_status_10k_s'))} / {h.fmt(med('cli_status_20k_s'))}",
                str(len(ok)),
            ]
        )
        if via != {"drop"}:
            notes.append(f"- ¹ {label}: {ok[0].get('drop_note', '')}")
        notes.append(
            f"- {label}: the event loop stalled {h.fmt(med('stall_drop_ms'), 0)} ms (median) "
            f"while the 10,000 dropped files were queued; one progress delivery (1,000 "
            f"entries + summaryChanged) took {h.fmt(med('emit_median_ms'), 1)} ms median, "
            f"{h.fmt(max(r['emit_max_ms'] for r in ok), 1)} ms at most; building the window "
            f"alone {h.fmt(med('build_s'), 2)} s"
        )
        if any(r.get("drained_note") for r in ok):
            notes.append(
                f"- {label}: when a batch of 10,000 ended (the engine's `drained` signal), "
                f"its listeners held the event loop {h.fmt(med('drained_ms'), 0)} ms (median), "
                f"{h.fmt(max(r['drained_ms'] for r in ok), 0)} ms at most; the notification: "
                f'"{ok[0]["drained_note"]}"'
            )
    sky = [r for r in results if r["ui"] == "skylift" and "open_s" in r]
    if sky:

        def verdict(value: float, limit: float) -> str:
            return "not measured" if value != value else ("met" if value <= limit else "**missed**")

        def m(key: str) -> float:
            return h.median(float(r[key]) for r in sky)

        stall = max(float(r["stall_ms"]) for r in sky)
        trows = [
            [
                "queue window opening with 10,000 jobs ≤ 1 s",
                h.fmt(m("open_s"), 2, " s"),
                verdict(m("open_s"), 1),
            ],
            [
                "queueing 10,000 dropped files ≤ 2 s",
                h.fmt(m("drop_s"), 2, " s"),
                verdict(m("drop_s"), 2),
            ],
            [
                "no event-loop stall over 50 ms while progress flows (worst run)",
                h.fmt(stall, 0, " ms"),
                verdict(stall, 50),
            ],
            [
                "GUI with 10,000 jobs ≤ 250 MB (RSS)",
                h.fmt(m("rss_10k_mb"), 0, " MB"),
                verdict(m("rss_10k_mb"), 250),
            ],
            [
                "`skylift status` from the running app ≤ 0.3 s (10,000 jobs)",
                h.fmt(m("cli_status_10k_s"), 2, " s"),
                verdict(m("cli_status_10k_s"), 0.3),
            ],
        ]
        notes += [
            "",
            "Targets (issue 4), Skylift's window:",
            "",
            h.markdown_table(["target", "measured (median)", ""], trows),
        ]
    lines = [
        f"Queue window at scale: {JOBS:,} jobs, {UPLOADING:,} of them uploading, progress for "
        f"all {UPLOADING:,} twice a second for {seconds:.0f} s; Qt platform {platform}; medians",
        "",
        h.markdown_table(headers, rows),
        "",
        *notes,
    ]
    return "\n".join(lines)


# --- one measured process ------------------------------------------------------------------


def child(spec: dict[str, Any]) -> int:
    profile = h.Profile(Path(spec["profile"]))
    os.environ.update(profile.env())
    import tracemalloc

    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    app.setApplicationName("skylift")
    rss_app = h.proc_rss_kb(os.getpid()) / 1024

    from skylift.core.planner import plan
    from skylift.core.settings import Settings
    from skylift.core.store import JobState, Store
    from skylift.entry.service import EngineService

    if spec["ui"] == "skylift":
        try:
            from skylift.ui.app import SkyliftApp
        except ImportError as e:
            print(json.dumps({"skipped": f"skylift.ui.app.SkyliftApp cannot be imported ({e})"}))
            return 0

    settings = Settings.load()
    settings["remote"] = h.REMOTE
    settings["enabled"] = False  # nothing runs rclone; the queue just sits there
    settings.save()
    planned, _ = plan([spec["queued"]], f"{h.REMOTE}:/up")
    store = Store()
    jobs, _ = store.add([(p.path, p.destination, p.size, p.mtime) for p in planned])
    store.close()
    ids = [j.id for j in jobs]
    service = EngineService(settings)
    engine = service.engine
    rss_engine = h.proc_rss_kb(os.getpid()) / 1024

    prof = Profiler(spec.get("profile_phases", False))
    # 1 + 2: build the window (and its model) over 10,000 jobs, show it, first paint
    prof.start()
    tracemalloc.start()
    t0 = time.perf_counter()
    if spec["ui"] == "skylift":
        # what the app builds at start (ui/app.py: SkyliftApp -> QueueModel, QueueWindow,
        # Tray); no tray here, so the tray icon is not shown
        controller = SkyliftApp(service, tray_available=lambda: False)
        window = controller.window
        notifier = controller.notifier
    else:
        window = ReferenceWindow(engine)
        notifier = None
    build_s = time.perf_counter() - t0
    view = item_view(window)
    painted = PaintWatch(view.viewport())
    show(window)
    if not wait(app, lambda: painted.count > 0, 30):
        raise RuntimeError("the queue window did not paint within 30 s")
    open_s = time.perf_counter() - t0
    traced, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    prof.report("opening the window over 10,000 jobs")
    rss_open = h.proc_rss_kb(os.getpid()) / 1024
    # reopening: what a click on the tray icon costs once the window exists
    window.hide()
    settle(app)
    n_paint = painted.count
    t0 = time.perf_counter()
    show(window)
    wait(app, lambda: painted.count > n_paint, 10)
    reopen_s = time.perf_counter() - t0
    status_10k_ms = timed_ms(engine.status)
    cli_status_10k = cli_status_s(app)

    # 3: 1,000 uploading, progress for all of them twice a second
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    uploading = ids[:UPLOADING]
    engine.jobsChanged.emit(list(engine.store.update(uploading, JobState.UPLOADING)))
    settle(app)
    received = [0]
    engine.progress.connect(lambda d: received.__setitem__(0, received[0] + len(d)))
    sizes = {j.id: max(1, j.size) for j in jobs}
    ticks = [0]
    sent = [0]
    emit_ms: list[float] = []

    def feed() -> None:
        ticks[0] += 1
        update = {}
        for i in uploading:
            done = min(sizes[i], ticks[0] * 50)
            update[i] = (done, 1.5e6 + ticks[0], 3.0 + (i % 7))
        sent[0] += len(update)
        t = QElapsedTimer()
        t.start()
        # what Engine._flush emits when progress came in: the dict, then summaryChanged
        engine.progress.emit(update)
        engine.summaryChanged.emit()
        emit_ms.append(t.nsecsElapsed() / 1e6)

    feeder = QTimer()
    feeder.setTimerType(Qt.TimerType.PreciseTimer)
    feeder.timeout.connect(feed)
    loop = QEventLoop()
    probe = StallProbe()
    probe.start()
    feeder.start(500)
    QTimer.singleShot(int(spec["seconds"] * 1000), loop.quit)
    loop.exec()
    feeder.stop()
    stall_ms, stall_p99 = probe.stop()
    rss_10k = h.proc_rss_kb(os.getpid()) / 1024

    # 4: drop 10,000 files onto the window
    before = view.model().rowCount()
    files = sorted(Path(spec["dropped"]).iterdir())
    probe = StallProbe()
    probe.start()
    prof.start()
    t0 = time.perf_counter()
    via, note = drop_files(window, view, engine, files)
    ok = wait(app, lambda: view.model().rowCount() >= before + DROP, 120)
    settle(app)
    drop_s = time.perf_counter() - t0 if ok else float("nan")
    prof.report("queueing 10,000 dropped files")
    stall_drop, _ = probe.stop()
    status_20k_ms = timed_ms(engine.status)
    cli_status_20k = cli_status_s(app)

    # 6: the first 10,000 jobs end, one batch draining: what the app does with
    # ``drained`` (the desktop app composes its one notification for the batch)
    engine.jobsChanged.emit(store_update(engine, ids, JobState.DONE))
    settle(app)
    t0 = time.perf_counter()
    engine.drained.emit(ids)
    drained_ms = 1000 * (time.perf_counter() - t0)
    last_note = notifier.last if notifier is not None else None

    out = {
        "build_s": build_s,
        "open_s": open_s,
        "reopen_s": reopen_s,
        "drop_s": drop_s,
        "drop_via": via,
        "drop_note": note,
        "model_traced_mb": traced / 1e6,
        "model_rss_mb": rss_open - rss_engine,
        "rss_app_mb": rss_app,
        "rss_engine_mb": rss_engine,
        "rss_open_mb": rss_open,
        "rss_10k_mb": rss_10k,
        "hwm_mb": h.proc_hwm_kb(os.getpid()) / 1024,
        "stall_ms": stall_ms,
        "stall_p99_ms": stall_p99,
        "stall_drop_ms": stall_drop,
        "emit_max_ms": max(emit_ms, default=float("nan")),
        "emit_median_ms": h.median(emit_ms),
        "progress_sent": sent[0],
        "progress_received": received[0],
        "status_10k_ms": status_10k_ms,
        "status_20k_ms": status_20k_ms,
        "cli_status_10k_s": cli_status_10k,
        "cli_status_20k_s": cli_status_20k,
        "rows_after_drop": view.model().rowCount(),
        "drained_ms": drained_ms,
        "drained_note": last_note.title if last_note is not None else "",
    }
    print(json.dumps(out))
    sys.stdout.flush()
    # leave without tearing 20,000 rows down one by one
    os._exit(0)


class Profiler:
    """cProfile around one phase, its top functions printed to stderr (or nothing)."""

    def __init__(self, on: bool):
        import cProfile

        self.on = on
        self.prof = cProfile.Profile() if on else None

    def start(self) -> None:
        if self.prof is not None:
            self.prof.enable()

    def report(self, title: str) -> None:
        if self.prof is None:
            return
        import io
        import pstats

        self.prof.disable()
        buf = io.StringIO()
        stats = pstats.Stats(self.prof, stream=buf)
        stats.sort_stats("cumulative").print_stats(30)
        print(f"=== cProfile: {title} ===\n{buf.getvalue()}", file=sys.stderr)
        self.prof = __import__("cProfile").Profile()


def show(window: Any) -> None:
    if hasattr(window, "show_normal"):
        window.show_normal()
    else:
        window.show()


def settle(app: Any) -> None:
    """Run the event loop until what is queued now (layouts, paints) has been handled."""
    from PySide6.QtCore import QTimer

    done = [False]
    QTimer.singleShot(0, lambda: done.__setitem__(0, True))
    wait(app, lambda: done[0], 30)
    wait(app, lambda: False, 0.01)


def store_update(engine: Any, ids: list[int], state: Any) -> list[int]:
    return list(engine.store.update(ids, state))


def timed_ms(fn: Any) -> float:
    t = time.perf_counter()
    json.dumps(fn())  # the IPC server sends it as JSON
    return 1000 * (time.perf_counter() - t)


def wait(app: Any, cond: Any, timeout: float) -> bool:
    """Run the event loop until cond() (checked every millisecond) or the timeout."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    if cond():
        return True
    loop = QEventLoop()
    check = QTimer()
    check.setTimerType(Qt.TimerType.PreciseTimer)
    check.setInterval(1)
    check.timeout.connect(lambda: loop.quit() if cond() else None)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(loop.quit)
    check.start()
    give_up.start(int(timeout * 1000))
    loop.exec()
    check.stop()
    give_up.stop()
    return bool(cond())


def cli_status_s(app: Any) -> float:
    """`skylift status --json` run as a user would, answered by this process's engine."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        h.skylift_cmd("status", "--json"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait(app, lambda: proc.poll() is not None, 60)
    wall = time.perf_counter() - t0
    return wall if proc.returncode == 0 else float("nan")


class StallProbe:
    """A 5 ms timer; the longest gap between two ticks, minus 5 ms, is the longest stall."""

    def __init__(self, interval_ms: int = 5):
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer

        self.interval = interval_ms
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.gaps: list[float] = []
        self.last = 0

    def start(self) -> None:
        self.clock.start()
        self.last = self.clock.nsecsElapsed()
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.gaps.append((now - self.last) / 1e6)
        self.last = now

    def stop(self) -> tuple[float, float]:
        self.timer.stop()
        self._tick()
        stalls = sorted(max(0.0, g - self.interval) for g in self.gaps)
        if not stalls:
            return float("nan"), float("nan")
        return stalls[-1], stalls[min(len(stalls) - 1, int(0.99 * len(stalls)))]


class PaintWatch:
    def __init__(self, widget: Any):
        from PySide6.QtCore import QEvent, QObject

        class Filter(QObject):
            def eventFilter(inner, obj: Any, ev: Any) -> bool:
                if ev.type() == QEvent.Type.Paint:
                    self.count += 1
                return False

        self.count = 0
        self._filter = Filter()
        widget.installEventFilter(self._filter)


def item_view(window: Any) -> Any:
    from PySide6.QtWidgets import QAbstractItemView

    views = [v for v in window.findChildren(QAbstractItemView) if v.model() is not None]
    if not views:
        raise RuntimeError("the queue window has no item view with a model")
    return max(views, key=lambda v: v.model().rowCount())


def drop_files(window: Any, view: Any, engine: Any, files: list[Path]) -> tuple[str, str]:
    """Drop the files as a file manager would; where no widget takes drops, use the engine."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
    for target in (window, view.viewport(), view):
        if not target.acceptDrops():
            continue
        center = target.rect().center()
        enter = QDragEnterEvent(
            QPoint(center),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(target, enter)
        if not enter.isAccepted():
            continue
        drop = QDropEvent(
            QPointF(center),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(target, drop)
        return "drop", ""
    engine.add_paths([str(f) for f in files])
    return "engine", "no widget of the window accepts drops; queued with engine.add_paths"


# --- the reference window ---------------------------------------------------------------------


def _reference_classes() -> tuple[type, type]:
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
    from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMainWindow, QTableView

    Index = QModelIndex | QPersistentModelIndex
    columns = ("File", "Destination", "State", "Progress", "Speed", "Time left")

    class JobsModel(QAbstractTableModel):
        """Rows are Job objects; progress lives in a dict; formatting happens in data()."""

        def __init__(self, engine: Any):
            super().__init__()
            self.engine = engine
            self.rows = engine.jobs()
            self.row_of = {j.id: i for i, j in enumerate(self.rows)}
            self.progress: dict[int, tuple[int, float, float]] = {}
            engine.jobsAdded.connect(self.on_added)
            engine.jobsChanged.connect(self.on_changed)
            engine.progress.connect(self.on_progress)

        def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else len(self.rows)

        def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else len(columns)

        def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
            if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
                return columns[section]
            return None

        def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            if role != Qt.ItemDataRole.DisplayRole:
                return None
            j = self.rows[index.row()]
            c = index.column()
            if c == 0:
                return j.path.name
            if c == 1:
                return j.destination
            if c == 2:
                return j.state.value
            p = self.progress.get(j.id)
            if c == 3:
                done = p[0] if p else j.bytes
                return f"{100 * done // max(1, j.size)}%"
            if p is None:
                return ""
            if c == 4:
                return f"{p[1] / 1e6:.1f} MB/s"
            return f"{p[2]:.0f} s" if p[2] >= 0 else ""

        def on_added(self, ids: list[int]) -> None:
            new = [j for j in self.engine.jobs(ids=ids) if j.id not in self.row_of]
            if not new:
                return
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for j in new:
                self.row_of[j.id] = len(self.rows)
                self.rows.append(j)
            self.endInsertRows()

        def on_changed(self, ids: list[int]) -> None:
            rows = []
            for j in self.engine.jobs(ids=ids):
                r = self.row_of.get(j.id)
                if r is not None:
                    self.rows[r] = j
                    rows.append(r)
            if rows:
                last = len(columns) - 1
                self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), last))

        def on_progress(self, update: dict[int, tuple[int, float, float]]) -> None:
            self.progress.update(update)
            rows = [self.row_of[i] for i in update if i in self.row_of]
            if rows:
                self.dataChanged.emit(self.index(min(rows), 3), self.index(max(rows), 5))

    class QueueWindow(QMainWindow):
        def __init__(self, engine: Any):
            super().__init__()
            self.engine = engine
            self.setWindowTitle("Skylift queue (benchmark reference)")
            self.model = JobsModel(engine)
            view = QTableView(self)
            view.setModel(self.model)
            view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            view.verticalHeader().setDefaultSectionSize(22)
            view.verticalHeader().hide()
            view.horizontalHeader().setStretchLastSection(True)
            self.setCentralWidget(view)
            self.setAcceptDrops(True)
            self.resize(900, 600)

        def dragEnterEvent(self, ev: Any) -> None:
            if ev.mimeData().hasUrls():
                ev.acceptProposedAction()

        def dropEvent(self, ev: Any) -> None:
            paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
            self.engine.add_paths(paths)
            ev.acceptProposedAction()

    return JobsModel, QueueWindow


def ReferenceWindow(engine: Any) -> Any:
    return _reference_classes()[1](engine)


if __name__ == "__main__":
    sys.exit(main())
