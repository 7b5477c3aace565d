#!/usr/bin/env python3
"""Skylift against plain rclone: wall time, Skylift's own CPU time and peak memory.

    .venv/bin/python benchmarks/upload_bench.py [--runs 3] [--quick]

Everything happens in a temporary folder: the test files, a private Skylift profile per
run (XDG_* folders, an empty RCLONE_CONFIG, the remote ``bench`` defined by
RCLONE_CONFIG_BENCH_* variables) and a fresh ``rclone serve sftp`` on loopback with a
fresh empty folder for every single measurement, so every variant uploads everything.
Each round runs every variant of every set back to back (in a rotating order), so
the load of the machine falls on all of them alike; the table gives medians.

Skylift runs as a user's installed copy does: this checkout is installed (compiled, not
editable) into a private virtual environment in that folder, which takes PySide6 and
rclone from this environment (_harness.install_copy). An editable install would add
setuptools' import finder, about 8 ms, to every Skylift process. --editable measures the
development copy instead.

Sets: 1,000 files of 100 KB; 3 files of 50 MB; 10 files of 10 MB sent at the same time
(10 processes started together). Variants, all with --transfers=4 (Skylift's default):

- rclone copy            plain ``rclone copy DIR bench:/up/DIR --transfers=4``
- rclone, Skylift's args the exact command Skylift builds (files list, --no-traverse,
                         JSON log, stats): rclone's share of Skylift's figures
- rclone copyto/file     the naive baseline: one ``rclone copyto`` per file, one after the
                         other (all at once for the 10-file set)
- skylift headless       ``skylift upload --wait`` with no app running
- skylift -> engine      ``skylift upload --wait`` handing over to a running engine
                         without a GUI (benchmarks/_engine_host.py): the IPC path alone
- skylift -> GUI         the same, handing over to the running desktop app (``skylift``),
                         under Xvfb with a system tray when available, else offscreen
- floor: Python, exec    Skylift's Python starting and then becoming rclone with Skylift's
                         command (benchmarks/_floor.py): what any Python launcher costs
- floor: Python + Qt     Skylift's Python importing QtCore and running Skylift's command
                         through QProcess, output unread: the least a headless Skylift
                         built as the design says (rclone through QProcess) can cost
- floor: rclone first   Skylift's Python starting Skylift's command first, then loading
                         the headless engine's modules while rclone runs and parsing its
                         log: the least the other design (rclone before Qt) can cost

With --study (default on), the 1,000-file set also runs ``rclone copy`` with
``--no-traverse`` and Skylift's command without it, to price the design's mandated
``--no-traverse`` against an empty destination.

Measuring (see _harness.py): wall time from start to the kernel's exit notice; Skylift's
CPU time is utime+stime of the skylift processes themselves from /proc/PID/stat read
while they are zombies (their rclone children are counted apart); with a running app
the app's CPU is the difference of its /proc/PID/stat before and after the upload
(plus the CPU of the ``skylift upload`` client). Peak memory is VmHWM of Skylift's own
process (for the GUI: the app, from its start).

Results: a Markdown table on stdout, and everything (every run) as JSON in
benchmarks/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h

TRANSFERS = 4
DEST = f"{h.REMOTE}:/up"
MB = 1_000_000
HERE = Path(__file__).resolve().parent
IDLE_S = 2.0  # how long the running app is watched doing nothing after an upload


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    count: int
    size: int
    concurrent: bool  # one skylift process per file, all started together
    folder: str
    prefill: int = 0  # files already in the destination folder (the --no-traverse study)
    study: bool = False  # only for the --no-traverse study, not in the main tables

    @property
    def total(self) -> int:
        return self.count * self.size


FULL = (
    Case("1000x100KB", "1,000 × 100 KB", 1000, 100_000, False, "Wedding"),
    Case("3x50MB", "3 × 50 MB", 3, 50 * MB, False, "Raw"),
    Case("10x10MB-together", "10 × 10 MB at once", 10, 10 * MB, True, "Export"),
)
# the other side of --no-traverse: a small batch into a big folder (study only)
BIG_DEST = Case(
    "2-into-10000",
    "2 × 100 KB into a folder of 10,000",
    2,
    100_000,
    False,
    "Archive",
    prefill=10_000,
    study=True,
)
# an export of 40 photos: on SFTP, looking each file up costs a new connection
EXPORT = Case("40x2MB", "40 × 2 MB (an export)", 40, 2 * MB, False, "Export40", study=True)
PREFILL_SIZE = 100
QUICK = (
    Case("200x100KB", "200 × 100 KB", 200, 100_000, False, "Wedding"),
    Case("3x10MB", "3 × 10 MB", 3, 10 * MB, False, "Raw"),
    Case("10x2MB-together", "10 × 2 MB at once", 10, 2 * MB, True, "Export"),
)

RCLONE_COPY = "rclone copy"
RCLONE_SKY = "rclone, Skylift's args"
COPYTO = "rclone copyto/file"
HEADLESS = "skylift headless"
ENGINE = "skylift → engine (IPC)"
GUI = "skylift → GUI"
NT_PLAIN = "rclone copy --no-traverse"
SKY_NO_NT = "Skylift's args w/o --no-traverse"
SKY_NT = "Skylift's args with --no-traverse"
FLOOR_EXEC = "floor: Python, exec rclone"
FLOOR_QT = "floor: Python + Qt, QProcess"
FLOOR_FIRST = "floor: rclone first, Qt after"
SKYLIFT_VARIANTS = (HEADLESS, ENGINE, GUI)
STUDY = (RCLONE_COPY, NT_PLAIN, SKY_NO_NT, SKY_NT, RCLONE_SKY)


@dataclass
class Env:
    """What every measurement needs."""

    tmp: Path
    rclone: str
    template: h.Profile
    keys: Path
    data: dict[str, list[Path]]
    xsession: h.XSession | None
    gui_ok: bool
    naive_parallel: int
    served: Path  # where the servers keep what they receive (a tmpfs folder by default)
    seq: int = 0

    def workdir(self, label: str) -> Path:
        self.seq += 1
        d = self.tmp / "runs" / f"{self.seq:04d}-{label}"
        d.mkdir(parents=True)
        return d


Metrics = dict[str, float]


# --- variants --------------------------------------------------------------------------------


def _sky_argvs(case: Case, files: list[Path]) -> list[list[str]]:
    if case.concurrent:
        return [
            h.skylift_cmd("upload", "--wait", "--to", f"{DEST}/{case.folder}", str(f))
            for f in files
        ]
    return [h.skylift_cmd("upload", "--wait", "--to", DEST, str(files[0].parent))]


def _skylift_args(
    env: Env, case: Case, files: list[Path], wd: Path, no_traverse: bool | None
) -> list[str]:
    """The rclone command Skylift's engine builds for this set (app/skylift/core/rclone_args).

    ``no_traverse`` None: as Skylift builds it (--no-traverse for small batches only);
    True or False: with or without it, for the study."""
    from skylift.core import rclone_args

    roots = [rclone_args.roots(f, f"{DEST}/{case.folder}/{f.name}") for f in files]
    listing = wd / "files.list"
    listing.write_bytes(rclone_args.files_list(r.rel for r in roots))
    argv = rclone_args.copy_batch(
        env.rclone,
        roots[0].source,
        roots[0].dest,
        str(listing),
        rclone_args.Options(TRANSFERS, remote_type=h.SftpServer.TYPE),
        files=len(files),
    )
    if no_traverse is False and "--no-traverse" in argv:
        argv.remove("--no-traverse")
    if no_traverse is True and "--no-traverse" not in argv:
        argv.insert(5, "--no-traverse")
    return argv


def _rclone_metrics(g: h.GroupResult) -> Metrics:
    return {
        "wall": g.wall,
        "rclone_cpu": sum(p.own_cpu + p.child_cpu for p in g.procs),
        "rclone_mb": max(p.hwm_kb for p in g.procs) / 1024,
    }


def v_rclone_copy(
    env: Env,
    case: Case,
    files: list[Path],
    wd: Path,
    server: h.SftpServer,
    extra: tuple[str, ...] = (),
) -> Metrics:
    argv = [
        env.rclone,
        "copy",
        str(files[0].parent),
        f"{DEST}/{case.folder}",
        f"--transfers={TRANSFERS}",
        *extra,
    ]
    g = h.run_group([argv], env.template.env(server), wd / "logs")
    return _check(g, _rclone_metrics(g))


def v_rclone_sky(
    env: Env,
    case: Case,
    files: list[Path],
    wd: Path,
    server: h.SftpServer,
    no_traverse: bool | None = None,
) -> Metrics:
    argv = _skylift_args(env, case, files, wd, no_traverse)
    g = h.run_group([argv], env.template.env(server), wd / "logs")
    return _check(g, _rclone_metrics(g))


def v_floor(
    env: Env, case: Case, files: list[Path], wd: Path, server: h.SftpServer, mode: str
) -> Metrics:
    """Skylift's rclone command behind the least a Python program must do (_floor.py)."""
    argv = [
        h.skylift_python(),
        str(HERE / "_floor.py"),
        mode,
        *_skylift_args(env, case, files, wd, None),
    ]
    g = h.run_group([argv], env.template.env(server), wd / "logs")
    return _check(g, {"wall": g.wall})


def v_copyto(env: Env, case: Case, files: list[Path], wd: Path, server: h.SftpServer) -> Metrics:
    argvs = [[env.rclone, "copyto", str(f), f"{DEST}/{case.folder}/{f.name}"] for f in files]
    parallel = len(argvs) if case.concurrent else env.naive_parallel
    g = h.run_group(argvs, env.template.env(server), wd / "logs", parallel=parallel)
    return _check(g, _rclone_metrics(g))


def v_headless(env: Env, case: Case, files: list[Path], wd: Path, server: h.SftpServer) -> Metrics:
    profile = h.Profile(wd / "profile", env.template)
    pids: list[int] = []
    window = h.UploadWindow(profile.root, lambda: list(pids))
    g = h.run_group(_sky_argvs(case, files), profile.env(server), wd / "logs", cwd=wd, started=pids)
    m = {
        "wall": g.wall,
        "sky_cpu": sum(p.own_cpu for p in g.procs),
        "rclone_cpu": sum(p.child_cpu for p in g.procs),
        "sky_mb": max(p.hwm_kb for p in g.procs) / 1024,
        **window.around(g),
    }
    return _check(g, m)


def _ipc_ping(sock_path: Path) -> bool:
    """One request on Skylift's socket (one JSON object per line, app/skylift/entry/ipc.py)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(sock_path))
            s.sendall(b'{"cmd": "ping"}\n')
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    return False
                buf += chunk
            return bool(json.loads(buf.split(b"\n", 1)[0]).get("ok"))
    except (OSError, ValueError):
        return False


class Host:
    """A long-running Skylift process (the GUI app or the engine stand-in)."""

    def __init__(self, env: Env, kind: str, profile: h.Profile, server: h.SftpServer, wd: Path):
        self.kind = kind
        self.profile = profile
        self.xs = env.xsession if kind == "gui" else None
        if self.xs is not None:
            self.xs.ensure()
        extra: dict[str, str] = {}
        if self.xs is not None:
            # X11 with an XEmbed tray (trayer); no session bus, so Qt docks there
            extra = {
                "QT_QPA_PLATFORM": "xcb",
                "DISPLAY": self.xs.display,
                "DBUS_SESSION_BUS_ADDRESS": "",
            }
        self.env = profile.env(server, **extra)
        argv = (
            h.skylift_cmd()
            if kind == "gui"
            else [h.skylift_python(), str(Path(__file__).with_name("_engine_host.py"))]
        )
        self.tray_s = float("nan")
        self._tray_stop = threading.Event()
        self.m = h.Measured(argv, self.env, wd / f"{kind}.log")
        if self.xs is not None:
            threading.Thread(target=self._watch_tray, daemon=True).start()
        self.ready_s = self._wait_ready()

    def _watch_tray(self) -> None:
        assert self.xs is not None
        while not self._tray_stop.is_set() and not self.m._exited.is_set():
            if self.xs.tray_icons() > 0:
                self.tray_s = time.perf_counter() - self.m.t0
                return
            if time.perf_counter() - self.m.t0 > 20:
                return
            time.sleep(0.01)

    def _wait_ready(self, timeout: float = 30) -> float:
        sock = self.profile.socket_path()
        while time.perf_counter() - self.m.t0 < timeout:
            if self.m._exited.is_set():
                raise RuntimeError(f"the {self.kind} process exited at start:\n{_tail(self.m.log)}")
            if sock.exists() and _ipc_ping(sock):
                return time.perf_counter() - self.m.t0
            time.sleep(0.005)
        raise RuntimeError(f"the {self.kind} process did not answer on {sock} within {timeout} s")

    def wait_tray(self, timeout: float = 10) -> None:
        end = time.perf_counter() + timeout
        while self.xs is not None and self.tray_s != self.tray_s and time.perf_counter() < end:
            time.sleep(0.05)

    def cpu(self) -> tuple[float, float]:
        return h.proc_cpu(self.m.pid)

    def hwm_mb(self) -> float:
        h.SAMPLER.sample(self.m.pid)
        return h.SAMPLER.hwm.get(self.m.pid, 0) / 1024

    def stop(self) -> None:
        self._tray_stop.set()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.m.pid, signal.SIGTERM)
        if not self.m._exited.wait(10):
            self.m.kill()
        self.m.wait(10)
        if self.xs is not None:  # let the tray drop the icon before the next start
            end = time.monotonic() + 5
            while self.xs.tray_icons() > 0 and time.monotonic() < end:
                time.sleep(0.05)


def _tail(path: Path | None, n: int = 12) -> str:
    if not path or not Path(path).exists():
        return ""
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])


def _status_times(host: Host, wd: Path, n: int) -> tuple[float, float]:
    """Median wall and client CPU of `skylift status --json` answered by the host."""
    walls, cpus = [], []
    for i in range(n):
        g = h.run_group([h.skylift_cmd("status", "--json")], host.env, wd / f"status-{i}")
        if g.ok:
            walls.append(g.wall)
            cpus.append(g.procs[0].own_cpu)
    return h.median(walls), h.median(cpus)


def v_hosted(
    env: Env, case: Case, files: list[Path], wd: Path, server: h.SftpServer, kind: str
) -> Metrics:
    profile = h.Profile(wd / "profile", env.template)
    host = Host(env, kind, profile, server, wd)
    try:
        host.wait_tray()
        st_empty, _ = _status_times(host, wd, 3)
        cpu0 = host.cpu()
        pids = [host.m.pid]
        window = h.UploadWindow(profile.root, lambda: list(pids))
        g = h.run_group(_sky_argvs(case, files), host.env, wd / "logs", cwd=wd, started=pids)
        around = window.around(g)
        cpu1 = host.cpu()
        st_full, st_cpu = _status_times(host, wd, 3)
        idle0 = host.cpu()
        time.sleep(IDLE_S)
        idle_pct = 100 * (host.cpu()[0] - idle0[0]) / IDLE_S
        host_mb = host.hwm_mb()
    finally:
        host.stop()
    host_cpu = cpu1[0] - cpu0[0]
    clients = sum(p.own_cpu for p in g.procs)
    m = {
        "wall": g.wall,
        "sky_cpu": host_cpu + clients,
        "host_cpu": host_cpu,
        "client_cpu": clients,
        "rclone_cpu": cpu1[1] - cpu0[1],
        **around,
        "sky_mb": host_mb,
        "client_mb": max(p.hwm_kb for p in g.procs) / 1024,
        "ready_s": host.ready_s,
        "tray_s": host.tray_s,
        "status_empty_s": st_empty,
        "status_full_s": st_full,
        "status_cpu_s": st_cpu,
        "idle_cpu_pct": idle_pct,
    }
    return _check(g, m)


def _check(g: h.GroupResult, m: Metrics) -> Metrics:
    m["exit_ok"] = float(g.ok)
    if not g.ok:
        bad = next(p for p in g.procs if p.code != 0)
        m["_error"] = f"exit {bad.code}: {_tail(Path(bad.log), 2)}"  # type: ignore[assignment]
        m["_failed_procs"] = float(sum(1 for p in g.procs if p.code != 0))
    return m


VariantFn = Callable[[Env, Case, list[Path], Path, h.SftpServer], Metrics]


def variants_for(case: Case, env: Env, study: bool, skip_naive: bool) -> dict[str, VariantFn]:
    if case.prefill:
        return {
            RCLONE_SKY: v_rclone_sky,
            SKY_NO_NT: lambda e, c, f, w, s: v_rclone_sky(e, c, f, w, s, no_traverse=False),
        }
    if case.study:
        return {
            RCLONE_COPY: v_rclone_copy,
            RCLONE_SKY: v_rclone_sky,
            SKY_NT: lambda e, c, f, w, s: v_rclone_sky(e, c, f, w, s, no_traverse=True),
        }
    v: dict[str, VariantFn] = {RCLONE_COPY: v_rclone_copy}
    if not case.concurrent:
        v[RCLONE_SKY] = v_rclone_sky
        v[FLOOR_EXEC] = lambda e, c, f, w, s: v_floor(e, c, f, w, s, "exec")
        v[FLOOR_QT] = lambda e, c, f, w, s: v_floor(e, c, f, w, s, "qt")
        v[FLOOR_FIRST] = lambda e, c, f, w, s: v_floor(e, c, f, w, s, "first")
    if not skip_naive:
        v[COPYTO] = v_copyto
    v[HEADLESS] = v_headless
    v[ENGINE] = lambda e, c, f, w, s: v_hosted(e, c, f, w, s, "engine")
    if env.gui_ok:
        v[GUI] = lambda e, c, f, w, s: v_hosted(e, c, f, w, s, "gui")
    if study and case.count >= 200:
        v[NT_PLAIN] = lambda e, c, f, w, s: v_rclone_copy(e, c, f, w, s, ("--no-traverse",))
        v[SKY_NO_NT] = lambda e, c, f, w, s: v_rclone_sky(e, c, f, w, s, no_traverse=False)
        v[SKY_NT] = lambda e, c, f, w, s: v_rclone_sky(e, c, f, w, s, no_traverse=True)
    return v


def measure(env: Env, case: Case, name: str, fn: VariantFn) -> Metrics:
    wd = env.workdir(f"{case.key}-{name.split()[0]}")
    server = h.SftpServer(env.rclone, env.served / wd.name, env.keys)
    load = h.ForeignLoad(env.xsession.pids() if env.xsession else ())
    server.start()
    if case.prefill:
        old = server.root / "up" / case.folder
        old.mkdir(parents=True)
        for i in range(case.prefill):
            (old / f"OLD_{i:05d}.jpg").write_bytes(b"x" * PREFILL_SIZE)
    try:
        m = fn(env, case, env.data[case.key], wd, server)
    except RuntimeError as e:
        m = {"wall": float("nan"), "exit_ok": 0.0, "_error": str(e)}  # type: ignore[dict-item]
    finally:
        server.stop()
    m["server_cpu"] = server.cpu_s
    m["foreign_cpu_s"], m["foreign_pct"] = load.stop()
    files, size = server.received()
    files -= case.prefill
    size -= case.prefill * PREFILL_SIZE
    m["complete"] = float(files == case.count and size == case.total)
    if not m["complete"]:
        m.setdefault("_error", f"the remote got {files} of {case.count} files")  # type: ignore[arg-type]
    shutil.rmtree(server.root, ignore_errors=True)
    return m


# --- GUI availability --------------------------------------------------------------------


def gui_available(mode: str) -> tuple[bool, str]:
    if mode == "off":
        return False, "GUI variant turned off (--gui off)"
    probe = subprocess.run(
        [sys.executable, "-c", "from skylift.ui.app import run"],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return False, f"skipped: the desktop app is not there yet (skylift.ui.app.run: {last})"
    return True, ""


# --- main --------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--runs", type=int, default=3, help="rounds; the table shows medians (default 3)"
    )
    ap.add_argument("--quick", action="store_true", help="smaller sets, one round (a smoke test)")
    ap.add_argument("--only", nargs="*", metavar="SET", help="only these sets (keys as printed)")
    ap.add_argument(
        "--gui",
        choices=("auto", "xvfb", "offscreen", "off"),
        default="auto",
        help="how to run the GUI variant: auto = Xvfb + trayer when installed",
    )
    ap.add_argument(
        "--naive-parallel",
        type=int,
        default=1,
        help="copyto processes at a time for the naive baseline (default 1: a loop)",
    )
    ap.add_argument(
        "--naive-runs",
        type=int,
        default=None,
        help="rounds that run the slow naive baseline (default: all)",
    )
    ap.add_argument(
        "--no-study", dest="study", action="store_false", help="skip the --no-traverse study"
    )
    ap.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (logs, profiles)"
    )
    ap.add_argument(
        "--study-only",
        action="store_true",
        help="only the --no-traverse study (the 1,000-file set and the big folder)",
    )
    ap.add_argument(
        "--editable",
        action="store_true",
        help="run this environment's (editable) Skylift instead of an installed copy",
    )
    ap.add_argument(
        "--python",
        metavar="PATH",
        help="install the copy on this Python (e.g. the distribution's /usr/bin/python3; "
        "the same minor version as this one) instead of this environment's",
    )
    ap.add_argument(
        "--served-on",
        choices=("memory", "disk"),
        default="memory",
        help="where the loopback server writes what it receives: memory = a tmpfs folder "
        "(/dev/shm; the default), disk = the temporary folder",
    )
    ap.add_argument("--report", metavar="JSON", help="print the tables again from a results file")
    args = ap.parse_args()
    h.require_skylift()
    if args.report:
        return _report_again(Path(args.report))
    runs = 1 if args.quick and args.runs == 3 else args.runs
    cases = _cases(args)

    t_start = time.perf_counter()
    machine = h.machine()
    gui_ok, gui_note = gui_available(args.gui)
    xs: h.XSession | None = None
    if gui_ok and args.gui in ("auto", "xvfb"):
        if h.XSession.available():
            xs = h.XSession()
            xs.start()
        elif args.gui == "xvfb":
            sys.exit("--gui xvfb needs Xvfb, trayer and xwininfo")
    if gui_ok and xs is None:
        gui_note = "GUI ran offscreen (no Xvfb/trayer): the tray icon time is not measured"
    tmp = Path(tempfile.mkdtemp(prefix="skylift-bench-"))
    served: Path | None = None
    print(f"working in {tmp}", file=sys.stderr)
    try:
        if not args.editable:
            print("installing this checkout in a private environment", file=sys.stderr)
            h.install_copy(tmp, args.python)
        machine["python"] = h.python_build(h.skylift_python())
        served, machine["served_on"] = h.served_folder(args.served_on, tmp)
        env = _prepare(tmp, cases, xs, gui_ok, args.naive_parallel, served)
        results = _run(env, cases, runs, args)
    finally:
        if xs is not None:
            xs.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        if served is not None:
            shutil.rmtree(served, ignore_errors=True)
    elapsed = time.perf_counter() - t_start
    report = _report(results, cases, machine, gui_note, runs, elapsed, args)
    print(report["markdown"])
    path = h.save_json("upload_bench", report)
    print(f"\nresults: {path}", file=sys.stderr)
    return 0


def _cases(args: argparse.Namespace) -> list[Case]:
    cases = [c for c in (QUICK if args.quick else FULL) if not args.only or c.key in args.only]
    if getattr(args, "study_only", False):
        cases = cases[:1]
    if args.study:
        cases += [EXPORT, BIG_DEST]
    return cases


def _report_again(path: Path) -> int:
    data = json.loads(path.read_text())
    saved = argparse.Namespace(**data["args"])
    elapsed = data.get("elapsed")
    if elapsed is None:
        m = re.search(r"total benchmark time ([0-9.]+) min", data.get("markdown", ""))
        elapsed = 60 * float(m.group(1)) if m else float("nan")
    report = _report(
        data["results"],
        _cases(saved),
        data["machine"],
        data.get("gui_note", ""),
        data["runs"],
        elapsed,
        saved,
    )
    print(report["markdown"])
    return 0


def _prepare(
    tmp: Path,
    cases: list[Case],
    xs: h.XSession | None,
    gui_ok: bool,
    naive_parallel: int,
    served: Path,
) -> Env:
    rclone = h.rclone_path()
    template = h.Profile(tmp / "template")
    for key, value in (("remote", h.REMOTE), ("remote_path", "/up")):
        g = h.run_group([h.skylift_cmd("config", "set", key, value)], template.env(), tmp / "setup")
        if not g.ok:
            sys.exit(f"skylift config set failed:\n{_tail(Path(g.procs[0].log))}")
    data = {}
    for c in cases:
        print(f"generating {c.title}", file=sys.stderr)
        data[c.key] = h.make_files(tmp / "data" / c.key / c.folder, c.count, c.size)
    return Env(tmp, rclone, template, tmp / "server-keys", data, xs, gui_ok, naive_parallel, served)


def _run(
    env: Env, cases: list[Case], runs: int, args: argparse.Namespace
) -> dict[str, dict[str, list[Metrics]]]:
    results: dict[str, dict[str, list[Metrics]]] = {c.key: {} for c in cases}
    loads: list[dict[str, float]] = []
    # a discarded warm-up: page cache, .pyc files, rclone's first start
    warm = min((c for c in cases if not c.study), key=lambda c: c.total)
    for name, fn in variants_for(warm, env, False, True).items():
        measure(env, warm, name, fn)
    for r in range(runs):
        idle = h.ForeignLoad()
        time.sleep(1.0)
        _, busy = idle.stop()
        loads.append({"round": r + 1, "idle_busy_pct": busy, "loadavg1": os.getloadavg()[0]})
        print(
            f"round {r + 1}/{runs}: other processes used {busy:.0f}% of a core while the "
            f"benchmark idled; load average {os.getloadavg()[0]:.2f}",
            file=sys.stderr,
        )
        for c in cases:
            skip_naive = args.naive_runs is not None and r >= args.naive_runs and not c.concurrent
            vs = list(variants_for(c, env, args.study, skip_naive).items())
            if getattr(args, "study_only", False):
                vs = [(n, f) for n, f in vs if n in STUDY]
            k = r % len(vs)
            for name, fn in vs[k:] + vs[:k]:  # rotate, so no variant always runs first
                m = measure(env, c, name, fn)
                m["round"] = r + 1
                results[c.key].setdefault(name, []).append(m)
                ok = (
                    "ok"
                    if m.get("exit_ok") and m.get("complete")
                    else f"FAILED ({m.get('_error')})"
                )
                print(f"  {c.key:18s} {name:34s} {h.fmt(m['wall'])} s  {ok}", file=sys.stderr)
    results["_loads"] = loads  # type: ignore[assignment]
    return results


ORDER = (RCLONE_COPY, RCLONE_SKY, FLOOR_EXEC, FLOOR_QT, FLOOR_FIRST, COPYTO, HEADLESS, ENGINE, GUI)


def _ok(m: Metrics) -> bool:
    return bool(m.get("exit_ok")) and bool(m.get("complete"))


def _med(ms: list[Metrics], key: str) -> float:
    return h.median(m[key] for m in ms if key in m and _ok(m))


def _report(
    results: dict,
    cases: list[Case],
    machine: dict,
    gui_note: str,
    runs: int,
    elapsed: float,
    args: argparse.Namespace,
) -> dict:
    lines = [
        f"Skylift upload benchmark: {runs} round(s), medians; --transfers={TRANSFERS}; "
        f"loopback `rclone serve sftp` writing to {machine.get('served_on', 'disk')}; "
        f"{machine['nproc']} × {machine['cpu']}, "
        f"{machine['rclone']}, Python {machine['python']}",
        "",
    ]
    headers = [
        "set",
        "variant",
        "wall s",
        "best s",
        "× rclone copy (per round)",
        "Skylift CPU s",
        "Skylift CPU % of wall",
        "Skylift CPU % while rclone runs",
        "rclone CPU s",
        "Skylift peak RSS MB",
        "others' load %",
        "ok runs",
    ]
    rows = []
    summary: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    for c in cases:
        if c.study:
            continue
        per = results[c.key]
        for name in ORDER:
            ms = per.get(name)
            if not ms:
                continue
            wall = _med(ms, "wall")
            cpu = _med(ms, "sky_cpu")
            pct = h.median(100 * m["sky_cpu"] / m["wall"] for m in ms if "sky_cpu" in m and _ok(m))
            up_pct = h.median(
                100 * m["upload_cpu"] / m["upload_s"]
                for m in ms
                if m.get("upload_s", 0) > 0 and _ok(m)
            )
            good = sum(1 for m in ms if _ok(m))
            # paired: each run against the rclone copy of the same round (same load)
            base_of = {m["round"]: m["wall"] for m in per.get(RCLONE_COPY, []) if _ok(m)}
            ratio = h.median(
                m["wall"] / base_of[m["round"]] for m in ms if _ok(m) and m["round"] in base_of
            )
            best = min((m["wall"] for m in ms if _ok(m)), default=float("nan"))
            best_base = min((m["wall"] for m in per.get(RCLONE_COPY, []) if _ok(m)), default=0)
            summary[f"{c.key}/{name}"] = {
                "wall": wall,
                "best": best,
                "best_ratio": best / best_base if best_base else float("nan"),
                "ratio": ratio,
                "sky_cpu": cpu,
                "cpu_pct": pct,
                "upload_cpu_pct": up_pct,
                "sky_mb": _med(ms, "sky_mb"),
                "ok": good,
                "runs": len(ms),
            }
            rows.append(
                [
                    c.title,
                    name,
                    h.fmt(wall),
                    h.fmt(min((m["wall"] for m in ms if _ok(m)), default=float("nan"))),
                    h.fmt(ratio),
                    h.fmt(cpu),
                    h.fmt(pct, 1, "%") if pct == pct else "—",
                    h.fmt(up_pct, 1, "%") if up_pct == up_pct else "—",
                    h.fmt(_med(ms, "rclone_cpu")),
                    h.fmt(_med(ms, "sky_mb"), 0),
                    h.fmt(h.median(m["foreign_pct"] for m in ms), 0),
                    f"{good}/{len(ms)}",
                ]
            )
            errors = sorted({str(m["_error"]).strip() for m in ms if "_error" in m})
            for e in errors:
                notes.append(f"{c.title}, {name}: {e}")
    lines.append(h.markdown_table(headers, rows))
    around = []
    for c in cases:
        if c.study:
            continue
        per = results[c.key]
        for name in SKYLIFT_VARIANTS:
            ms = per.get(name)
            if ms:
                around.append(
                    [
                        c.title,
                        name,
                        h.fmt(_med(ms, "before_s")),
                        h.fmt(_med(ms, "upload_s")),
                        h.fmt(_med(ms, "after_s")),
                        h.fmt(_med(per.get(RCLONE_SKY, []), "wall")),
                    ]
                )
    if around:
        lines += ["", "Where Skylift's time goes (medians; rclone's batch list marks its run):", ""]
        lines.append(
            h.markdown_table(
                [
                    "set",
                    "variant",
                    "start → rclone starts s",
                    "rclone running s",
                    "rclone ends → last exit s",
                    "rclone alone, Skylift's args s",
                ],
                around,
            )
        )
    # the app's own figures
    app_rows = []
    for name in (ENGINE, GUI):
        all_ms = [m for c in cases for m in results[c.key].get(name, []) if _ok(m)]
        if not all_ms:
            continue
        app_rows.append(
            [
                name,
                h.fmt(h.median(m["ready_s"] for m in all_ms)),
                h.fmt(h.median(m["tray_s"] for m in all_ms)),
                h.fmt(h.median(m["status_empty_s"] for m in all_ms)),
                h.fmt(_med(results[cases[0].key].get(name, []), "status_full_s")),
                h.fmt(
                    h.median(
                        100 * m["host_cpu"] / m["wall"]
                        for m in results[cases[0].key].get(name, [])
                        if _ok(m)
                    ),
                    1,
                ),
                h.fmt(h.median(m["idle_cpu_pct"] for m in all_ms), 1),
                h.fmt(h.median(m["sky_mb"] for m in all_ms), 0),
            ]
        )
    if app_rows:
        lines += ["", "Running app (medians over all its runs):", ""]
        lines.append(
            h.markdown_table(
                [
                    "host",
                    "start → answers on socket s",
                    "start → tray icon docked s",
                    "`skylift status --json`, empty queue s",
                    f"… after {cases[0].title} s",
                    f"app's own CPU % of wall during {cases[0].title}",
                    f"idle CPU % ({IDLE_S:.0f} s after an upload)",
                    "peak RSS MB",
                ],
                app_rows,
            )
        )
    # the --no-traverse study
    study_c = cases[0]
    sp = results[study_c.key]
    if NT_PLAIN in sp:
        lines += [
            "",
            f"`--no-traverse` against an empty destination ({study_c.title}, plain rclone):",
            "",
        ]
        big = results.get(BIG_DEST.key, {})
        export = results.get(EXPORT.key, {})
        srows = []
        for per, name, label, pair in (
            (sp, RCLONE_COPY, "rclone copy DIR", None),
            (sp, NT_PLAIN, "rclone copy DIR --no-traverse", RCLONE_COPY),
            (sp, SKY_NO_NT, "Skylift's command without --no-traverse", None),
            (sp, SKY_NT, "Skylift's command with --no-traverse", SKY_NO_NT),
            (big, SKY_NO_NT, f"{BIG_DEST.title}: Skylift's command without --no-traverse", None),
            (big, RCLONE_SKY, f"{BIG_DEST.title}: Skylift's command", SKY_NO_NT),
            (export, RCLONE_COPY, f"{EXPORT.title}: rclone copy DIR", None),
            (export, RCLONE_SKY, f"{EXPORT.title}: Skylift's command", None),
            (export, SKY_NT, f"{EXPORT.title}: Skylift's command with --no-traverse", RCLONE_SKY),
        ):
            ms = per.get(name, [])
            if not ms:
                continue
            delta = "—"
            if pair:
                # paired by round: the two ran back to back, under the same load
                other = {m["round"]: m["wall"] for m in per.get(pair, []) if _ok(m)}
                diffs = [
                    m["wall"] - other[m["round"]] for m in ms if _ok(m) and m["round"] in other
                ]
                delta = f"{h.median(diffs):+.2f}" if diffs else "—"
            srows.append(
                [
                    label,
                    h.fmt(_med(ms, "wall")),
                    delta,
                    h.fmt(_med(ms, "rclone_cpu")),
                    h.fmt(_med(ms, "server_cpu")),
                    ", ".join(h.fmt(m["wall"]) for m in ms),
                ]
            )
        lines.append(
            h.markdown_table(
                [
                    "rclone command",
                    "wall s",
                    "--no-traverse costs s (median of per-round differences)",
                    "rclone CPU s",
                    "server CPU s",
                    "runs s",
                ],
                srows,
            )
        )
    trows = _targets(summary, results, cases)
    if trows:
        lines += ["", "Targets (issue 4) this benchmark measures:", ""]
        lines.append(h.markdown_table(["target", "measured (median)", ""], trows))
    loads = results.get("_loads", [])
    lines += ["", "Notes:", ""]
    if loads:
        lines.append(
            "- others' load %: user CPU of processes this benchmark did not start, in % of "
            f"one core ({machine['nproc']} cores = {100 * int(machine['nproc'] or 1)}%), "
            "median over the runs; before each round, idle: "
            + ", ".join(f"{x['idle_busy_pct']:.0f}%" for x in loads)
            + "; load average "
            + ", ".join(f"{x['loadavg1']:.2f}" for x in loads)
        )
    if gui_note:
        lines.append(f"- GUI: {gui_note}")
    if args.naive_parallel == 1:
        lines.append(
            "- rclone copyto/file: one process per file, one after the other "
            "(the 10-file set: all 10 at once)"
        )
    lines += [f"- {n}" for n in notes]
    lines.append(f"- total benchmark time {elapsed / 60:.1f} min")
    return {
        "machine": machine,
        "gui_note": gui_note,
        "elapsed": elapsed,
        "runs": runs,
        "args": vars(args),
        "summary": summary,
        "results": results,
        "markdown": "\n".join(lines),
    }


def _targets(summary: dict, results: dict, cases: list[Case]) -> list[list[str]]:
    def verdict(value: float, limit: float) -> str:
        if value != value:
            return "not measured"
        return "met" if value <= limit else "**missed**"

    rows = []
    for c in cases:
        if c.concurrent:
            continue
        for name in (HEADLESS, GUI):
            s = summary.get(f"{c.key}/{name}")
            if s:
                text = f"{h.fmt(s['ratio'])} (best run against best run: {h.fmt(s['best_ratio'])})"
                # what no Skylift can beat: any Python program (both), or one built
                # either way (headless)
                floors = (FLOOR_EXEC, FLOOR_QT, FLOOR_FIRST) if name == HEADLESS else (FLOOR_EXEC,)
                for floor_name in floors:
                    floor = summary.get(f"{c.key}/{floor_name}")
                    if floor:
                        text += f"; {floor_name}: {h.fmt(floor['ratio'])}"
                rows.append(
                    [
                        f"wall Skylift/rclone ≤ 1.05: {c.title}, {name}",
                        text,
                        verdict(s["ratio"], 1.05),
                    ]
                )
    for c in cases:
        for name in SKYLIFT_VARIANTS:
            s = summary.get(f"{c.key}/{name}")
            if s:
                rows.append(
                    [
                        f"Skylift's CPU ≤ 5% of wall while uploading: {c.title}, {name}",
                        f"{h.fmt(s['upload_cpu_pct'], 1, '%')} while rclone runs "
                        f"({h.fmt(s['cpu_pct'], 1, '%')} of the whole command)",
                        verdict(s["upload_cpu_pct"], 5),
                    ]
                )
    head = [summary[k]["sky_mb"] for k in summary if k.endswith("/" + HEADLESS)]
    head = [v for v in head if v == v]
    if head:
        rows.append(
            [
                "headless engine peak RSS ≤ 120 MB",
                h.fmt(max(head), 0, " MB"),
                verdict(max(head), 120),
            ]
        )
    gui = [m for c in cases for m in results[c.key].get(GUI, []) if _ok(m)]
    if gui:
        st = h.median(max(m["status_empty_s"], m["status_full_s"]) for m in gui)
        rows.append(
            ["`skylift status` from the running app ≤ 0.3 s", h.fmt(st, 2, " s"), verdict(st, 0.3)]
        )
        tray = h.median(m["tray_s"] for m in gui)
        rows.append(
            ["tray icon visible ≤ 1.5 s after start", h.fmt(tray, 2, " s"), verdict(tray, 1.5)]
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
