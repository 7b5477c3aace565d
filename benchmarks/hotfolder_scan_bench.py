"""How long hot folders take to look at a large export folder, and how long they hold
the event loop at a time.

Makes a private profile and a folder of N small files (default 10,000), starts the
hot-folder watcher on it with a paused engine (nothing is uploaded), and measures:
the first scan (every file new: a queue lookup each), the settle step that queues them
all, and a rescan when everything is known. For each, the wall time and the longest
single stretch the watcher kept the event loop busy.

    .venv/bin/python benchmarks/hotfolder_scan_bench.py [--files 10000] [--depth 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--depth", type=int, default=10, help="subfolders to spread them over")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="skylift-hotbench-"))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        d = tmp / var.lower()
        d.mkdir(mode=0o700)
        os.environ[var] = str(d)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from skylift.core import hotfolders
    from skylift.core.engine import Engine
    from skylift.core.settings import Settings
    from skylift.core.store import Store

    folder = tmp / "Export"
    for i in range(args.files):
        sub = folder / f"Day {i % args.depth:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"IMG_{i:05d}.jpg").write_bytes(b"x" * 100)

    app = QCoreApplication.instance() or QCoreApplication([])
    settings = Settings(
        {
            "remote": "bench",
            "remote_path": "/",
            "settle_seconds": 0.5,
            "watch_folders": [{"path": str(folder)}],
        }
    )
    store = Store()
    engine = Engine(settings, store)
    engine.pause()

    longest: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a)
            finally:
                longest[name] = max(longest.get(name, 0.0), time.perf_counter() - t)

        return wrapper

    hf = hotfolders.HotFolders.__new__(hotfolders.HotFolders)
    for name in ("_scan_slice", "_check_candidates"):
        setattr(hf, name, timed(name, getattr(hotfolders.HotFolders, name).__get__(hf)))

    def run_until(done: Callable[[], bool]) -> float:
        loop = QEventLoop()
        t0 = time.perf_counter()
        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(lambda: loop.quit() if done() else None)
        timer.start()
        loop.exec()
        timer.stop()
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    hotfolders.HotFolders.__init__(hf, settings, engine, store)
    run_until(lambda: hf.scans >= 1)
    first_scan = time.perf_counter() - t0
    scan_longest = longest.get("_scan_slice", 0.0)
    queue_time = run_until(lambda: engine.counts()["queued"] >= args.files)
    settle_longest = longest.get("_check_candidates", 0.0)
    longest.clear()
    hf.rescan()
    rescan = run_until(lambda: hf.scans >= 2)

    print(f"| {args.files:,} files in {args.depth} subfolders | wall time | longest stall |")
    print("| --- | --- | --- |")
    print(f"| first scan (all new) | {first_scan:.2f} s | {scan_longest * 1000:.1f} ms |")
    print(
        f"| settle check + queueing all | {queue_time:.2f} s (incl. {0.5} s settle) "
        f"| {settle_longest * 1000:.0f} ms |"
    )
    print(
        f"| rescan (all known) | {rescan:.2f} s | {longest.get('_scan_slice', 0.0) * 1000:.1f} ms |"
    )
    hf.stop()
    engine.shutdown()
    store.close()
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
