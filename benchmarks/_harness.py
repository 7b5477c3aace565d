"""Shared pieces of Skylift's benchmarks.

An isolated profile (XDG_* folders and an empty rclone config, the remote defined only
through RCLONE_CONFIG_BENCH_* variables, as tests/conftest.py does), a loopback
``rclone serve sftp`` started fresh for every measured run, test data, and a way to
measure one process's own CPU time and peak memory without counting its children.

How a process is measured (see ``Measured``):

- wall time: from just before ``Popen`` to the moment the kernel reports the process
  exited (a blocking ``waitid(WEXITED | WNOWAIT)`` in a thread, so no polling delay).
- own CPU time: ``utime + stime`` from ``/proc/PID/stat`` read while the exited process
  is still a zombie (``WNOWAIT`` keeps it). Those fields sum all of its threads and
  exclude its children; the children it reaped (rclone) are in ``cutime + cstime``,
  reported separately. Only then is it reaped with ``wait4``.
- peak memory: ``VmHWM`` from ``/proc/PID/status``, sampled every 20 ms while it runs.
  It is a high-water mark, so sampling misses only growth in the last 20 ms. The
  ``ru_maxrss`` of ``wait4`` is not used: it is the maximum over the process *and* the
  children it reaped, so it could be rclone's.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.loopback import free_port, wait_port  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
REMOTE = "bench"
PYCACHE = os.path.join(tempfile.gettempdir(), "skylift-bench-pycache")
XDG = (
    ("XDG_CONFIG_HOME", "config"),
    ("XDG_DATA_HOME", "data"),
    ("XDG_STATE_HOME", "state"),
    ("XDG_CACHE_HOME", "cache"),
    ("XDG_RUNTIME_DIR", "run"),
)


def require_skylift() -> None:
    try:
        import skylift  # noqa: F401
    except ImportError:
        sys.exit(
            "benchmarks: skylift is not importable by this Python; run them with the "
            "project's environment, e.g. .venv/bin/python benchmarks/upload_bench.py"
        )


def rclone_path() -> str:
    """The rclone Skylift itself would run (the one beside this Python first)."""
    from skylift.core import rclone_binary

    return rclone_binary.find().path


_PYTHON = sys.executable  # the Python that runs Skylift: see install_copy()


def skylift_python() -> str:
    return _PYTHON


def skylift_cmd(*args: str) -> list[str]:
    """The ``skylift`` console script, as a user would run it (see install_copy())."""
    script = Path(_PYTHON).with_name("skylift")
    if script.exists():
        return [str(script), *args]
    return [_PYTHON, "-m", "skylift", *args]


def install_copy(folder: Path, base: str | None = None) -> str:
    """Measure Skylift as packaging/install.sh installs it, not the editable checkout.

    A development environment's editable install loads setuptools' import finder
    (pathlib, urllib, ipaddress...) in every Python process it starts: about 8 ms that
    an installed Skylift never pays. So this checkout is installed, as a regular
    package (compiled, no finder), into a virtual environment in ``folder`` that takes
    its dependencies (PySide6, platformdirs) from this environment's site-packages and
    its rclone from this environment. From then on skylift_cmd() and skylift_python()
    run that copy. Returns its Python.

    ``base``: the Python to build that environment on (as ``PYTHON=... install.sh``
    would), by default this one. It must be of the same minor version as this one, as
    it loads this environment's packages.
    """
    global _PYTHON
    venv = folder / "venv"
    base = base or sys.executable
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet")
    wheels = folder / "wheel"
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (wheel,) = wheels.glob("skylift-*.whl")
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", str(wheel)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    import sysconfig

    Path(site, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    rclone = Path(sysconfig.get_path("scripts"), "rclone")
    if rclone.exists():
        (venv / "bin" / "rclone").symlink_to(rclone)
    probe = subprocess.run(
        [str(python), "-c", "import skylift, PySide6.QtCore"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        sys.exit(f"Skylift does not load on {base}: {probe.stderr.strip()[-300:]}")
    _PYTHON = str(python)
    return _PYTHON


def python_build(python: str, runs: int = 11) -> str:
    """A Python's version, the interpreter behind it and its bare start-up (median wall
    time of ``python -c pass``), as "3.11.2 at /usr/bin/python3.11, 'python -c pass'
    8 ms", so a run says which interpreter it measured and how fast that one starts.
    """
    code = "import platform, sys; print(platform.python_version(), sys._base_executable)"
    r = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    version, _, where = r.stdout.strip().partition(" ")
    walls = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=False)
        walls.append(time.perf_counter() - t)
    real = os.path.realpath(where) if where else "?"
    return f"{version or '?'} at {real}, 'python -c pass' {1000 * median(walls):.0f} ms"


# --- machine -------------------------------------------------------------------------


def machine() -> dict[str, object]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    rclone = rclone_path()
    version = subprocess.run(
        [rclone, "version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    import PySide6

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": _os_name(),
        "python": platform.python_version(),
        "pyside6": PySide6.__version__,
        "rclone": version[0] if version else "?",
        "rclone_path": rclone,
        "skylift": _source_state(),
    }


def _source_state() -> str:
    """The commit measured, and whether app/ had uncommitted changes (work in progress)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "app")
    return f"{head}{' + uncommitted changes in app/' if dirty else ''}"


def _os_name() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return platform.system()


def machine_user_s() -> float:
    """CPU seconds the whole machine has spent in user space (all cores), from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (f[0] + f[1]) / CLK_TCK  # user + nice (guest time is part of user)


def own_tree_user_s(extra_pids: Iterable[int] = ()) -> float:
    """User CPU seconds of this process, the children it reaped, and long-lived helpers."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        total += resource.getrusage(who).ru_utime
    for pid in extra_pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            raw = Path(f"/proc/{pid}/stat").read_text()
            total += int(raw[raw.rindex(")") + 2 :].split()[11]) / CLK_TCK
    return total


class ForeignLoad:
    """How much CPU other people's processes used while a measurement ran.

    The machine's user-space CPU time (/proc/stat) minus the user CPU time of everything
    this benchmark ran: itself, all the children it reaped in between (every process a
    measurement starts, with their own children) and the long-lived helpers named by
    pid. User time only: the kernel's own work for our I/O (page writeback in kworker
    threads) is system time and would pass for someone else's load.
    """

    def __init__(self, extra_pids: Iterable[int] = ()):
        self.extra = list(extra_pids)
        self.t0 = time.perf_counter()
        self.m0 = machine_user_s()
        self.o0 = own_tree_user_s(self.extra)

    def stop(self) -> tuple[float, float]:
        """(foreign user CPU seconds, as % of one core over the elapsed time)."""
        wall = time.perf_counter() - self.t0
        foreign = (machine_user_s() - self.m0) - (own_tree_user_s(self.extra) - self.o0)
        foreign = max(0.0, foreign)
        return foreign, 100 * foreign / wall if wall > 0 else 0.0


# --- profile and server ----------------------------------------------------------------


class Profile:
    """A private Skylift profile: its own settings, queue, logs and socket."""

    def __init__(self, root: Path, template: Profile | None = None):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for _, sub in XDG:
            d = root / sub
            d.mkdir(mode=0o700, exist_ok=True)
        self.rclone_conf = root / "rclone.conf"
        self.rclone_conf.write_text("")
        if template is not None:
            # settings.json written once by `skylift config set`, copied as is
            src = template.root / "config" / "skylift"
            if src.exists():
                shutil.copytree(src, root / "config" / "skylift", dirs_exist_ok=True)

    def env(self, server: SftpServer | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
        for var, sub in XDG:
            env[var] = str(self.root / sub)
        env["RCLONE_CONFIG"] = str(self.rclone_conf)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        # Like an installed Skylift (pip compiles its .pyc files): compiled once, kept in
        # the benchmark's own folder, so nothing is written under app/.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYCACHE
        if server is not None:
            env.update(server.env())
        env.update(extra)
        return env

    def socket_path(self) -> Path:
        # app/skylift/entry/ipc.py: socket_path() = user_runtime_dir / "skylift.sock",
        # and platformdirs' user_runtime_dir is $XDG_RUNTIME_DIR/skylift on Linux
        return self.root / "run" / "skylift" / "skylift.sock"


def sftp_remote_env(port: int, user: str, **login: str) -> dict[str, str]:
    """The remote ``bench``, an SFTP server on loopback ``port``, defined by rclone's
    environment variables; ``login``: PASS (obscured) or KEY_FILE. No shell commands are
    run on the server (hashes and disk usage), as with a plain SFTP account."""
    p = f"RCLONE_CONFIG_{REMOTE.upper()}_"
    fields = {"TYPE": SftpServer.TYPE, "HOST": "127.0.0.1", "PORT": str(port), "USER": user}
    fields |= login | {"SHELL_TYPE": "none", "MD5SUM_COMMAND": "none", "SHA1SUM_COMMAND": "none"}
    return {p + k: v for k, v in fields.items()}


class SftpServer:
    """``rclone serve sftp`` on a free loopback port, serving a fresh empty folder."""

    TYPE = "sftp"  # the remote's kind, as Skylift's engine finds it in the environment

    def __init__(self, rclone: str, root: Path, keys: Path):
        self.rclone = rclone
        self.root = root
        self.keys = keys  # host keys are made once and reused (--cache-dir)
        self.port = free_port()
        self.password = secrets.token_hex(8)
        self._obscured = subprocess.run(
            [rclone, "obscure", self.password], capture_output=True, text=True, check=True
        ).stdout.strip()
        self.proc: subprocess.Popen[bytes] | None = None
        self.cpu_s = float("nan")  # the server's CPU time, read when it stops

    def env(self) -> dict[str, str]:
        return sftp_remote_env(self.port, "skylift", PASS=self._obscured)

    def start(self) -> None:
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        self.keys.mkdir(parents=True, exist_ok=True)
        conf = self.keys / "server.conf"
        conf.touch()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
        self.proc = subprocess.Popen(
            [
                self.rclone,
                "serve",
                "sftp",
                str(self.root),
                f"--addr=127.0.0.1:{self.port}",
                "--user=skylift",
                f"--pass={self.password}",
                "--dir-cache-time=1s",
                f"--config={conf}",
                f"--cache-dir={self.keys}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        wait_port(self.port, interval=0.02)

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(OSError, ValueError):
                self.cpu_s = proc_cpu(self.proc.pid)[0]
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def received(self) -> tuple[int, int]:
        """(files, bytes) under the served folder, partial uploads excluded."""
        n = size = 0
        for folder, _dirs, files in os.walk(self.root):
            for f in files:
                if f.endswith(".partial"):
                    continue
                n += 1
                size += os.path.getsize(os.path.join(folder, f))
        return n, size


def served_folder(where: str, tmp: Path) -> tuple[Path, str]:
    """The folder the loopback servers write to, and how the report names it.

    With the server writing to disk, plain ``rclone copy`` of the 1,000 files got slower
    run after run (1.2 s in the first round, 1.6-1.7 s from the fifth on), against a
    steady 1.07-1.25 s on tmpfs (docs/performance.md; the likeliest cause, the kernel
    writing back earlier runs, is not proven). That drift is the disk's, not rclone's or
    Skylift's, so by default the servers write to memory.
    """
    shm = Path("/dev/shm")
    if where == "memory" and shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="skylift-served-", dir=shm)), "memory (/dev/shm)"
    folder = tmp / "served"
    folder.mkdir()
    note = "disk" if where == "disk" else "disk (no writable /dev/shm)"
    return folder, note


def make_files(folder: Path, count: int, size: int, prefix: str = "IMG_") -> list[Path]:
    """Files of distinct random content (incompressible, like photos)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    block = os.urandom(size)
    for i in range(count):
        p = folder / f"{prefix}{i:04d}.jpg"
        # distinct content per file without paying os.urandom for every byte
        p.write_bytes(i.to_bytes(8, "little") + block[8:])
        out.append(p)
    return out


# --- measuring processes ----------------------------------------------------------------


def proc_cpu(pid: int) -> tuple[float, float]:
    """(own CPU s of all threads, CPU s of reaped children) from /proc/PID/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    f = raw[raw.rindex(")") + 2 :].split()
    # fields 14-17 of proc(5): utime stime cutime cstime (here offset by the 2 skipped)
    ut, st, cut, cst = (int(x) for x in f[11:15])
    return (ut + st) / CLK_TCK, (cut + cst) / CLK_TCK


def proc_hwm_kb(pid: int) -> int:
    """Peak resident memory (VmHWM) in KB; 0 once the process has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def proc_rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except (OSError, ValueError, IndexError):
        return 0


@dataclass
class ProcResult:
    argv: list[str]
    code: int
    wall: float
    own_cpu: float  # the process's own threads
    child_cpu: float  # the children it reaped (rclone)
    hwm_kb: int  # its own peak RSS
    log: str = ""


class _Sampler:
    """One thread that keeps the VmHWM of the watched processes."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.hwm: dict[int, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, pid: int) -> None:
        with self._lock:
            self.hwm.setdefault(pid, 0)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def unwatch(self, pid: int) -> int:
        with self._lock:
            return self.hwm.pop(pid, 0)

    def sample(self, pid: int) -> None:
        v = proc_hwm_kb(pid)
        with self._lock:
            if pid in self.hwm and v > self.hwm[pid]:
                self.hwm[pid] = v

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                pids = list(self.hwm)
            for pid in pids:
                self.sample(pid)


SAMPLER = _Sampler()


class Measured:
    """A child process whose wall time, own CPU and own peak memory are measured."""

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        log: Path | None = None,
        cwd: Path | None = None,
        on_exit: threading.Event | None = None,
    ):
        self.argv = list(argv)
        self._on_exit = on_exit
        self.log = log
        out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, so a timeout can stop rclone too
        )
        if log:
            out.close()  # type: ignore[union-attr]
        self.pid = self.proc.pid
        SAMPLER.watch(self.pid)
        self.t_exit: float | None = None
        self._exited = threading.Event()
        threading.Thread(target=self._wait_exit, daemon=True).start()

    def _wait_exit(self) -> None:
        # returns the moment the process exits, and leaves it a zombie to be read
        while True:
            try:
                os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue
        self.t_exit = time.perf_counter()
        self._exited.set()
        if self._on_exit is not None:
            self._on_exit.set()

    def wait(self, timeout: float | None = None) -> ProcResult:
        if not self._exited.wait(timeout):
            self.kill()
            self._exited.wait(30)
        SAMPLER.sample(self.pid)
        hwm = SAMPLER.unwatch(self.pid)
        try:
            own, children = proc_cpu(self.pid)
        except (OSError, ValueError):
            own = children = float("nan")
        FINAL_CPU[self.pid] = own
        _pid, status, _ru = os.wait4(self.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        self.proc.returncode = code  # reaped here; Popen must not wait again
        wall = (self.t_exit or time.perf_counter()) - self.t0
        return ProcResult(self.argv, code, wall, own, children, hwm, str(self.log or ""))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


FINAL_CPU: dict[int, float] = {}  # own CPU s of measured processes, read as they exited


class UploadWindow:
    """While Skylift's rclone runs, and Skylift's own CPU time meanwhile.

    Skylift writes a batch's file list into ``<data>/skylift/batches`` just before it
    starts rclone, and deletes it once rclone has ended (engine.py ``_start`` and
    ``_forget``), so the folder holds a list exactly while an upload runs. A thread
    looks at the folder every 5 ms (a directory listing: microseconds) and reads the
    CPU time of Skylift's processes (``pids()``) from /proc only when the first list
    appears and whenever the folder empties; the window runs from the first start to
    the last end. CPU times come in ticks of 10 ms, so on a 2 s window a reading is
    good to about 1 %.
    """

    def __init__(self, profile_root: Path, pids: Callable[[], Iterable[int]]):
        self.folder = profile_root / "data" / "skylift" / "batches"
        self._pids = pids
        self._stop = threading.Event()
        self.start_t = self.end_t = float("nan")
        self.start_cpu = self.end_cpu = float("nan")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _cpu(self) -> float:
        total = 0.0
        for pid in self._pids():
            try:
                total += proc_cpu(pid)[0]
            except (OSError, ValueError):  # reaped already: as read when it exited
                total += FINAL_CPU.get(pid, 0.0)
        return total

    def _run(self) -> None:
        busy = False
        while not self._stop.wait(0.005):
            try:
                now_busy = any(n.endswith(".list") for n in os.listdir(self.folder))
            except OSError:
                now_busy = False
            if now_busy and self.start_t != self.start_t:
                self.start_t, self.start_cpu = time.perf_counter(), self._cpu()
            elif busy and not now_busy:
                self.end_t, self.end_cpu = time.perf_counter(), self._cpu()
            busy = now_busy

    def stop(self) -> tuple[float, float]:
        """(seconds rclone ran, Skylift's CPU seconds meanwhile); NaN if none ran."""
        self._stop.set()
        self._thread.join(5)
        return self.end_t - self.start_t, self.end_cpu - self.start_cpu

    def around(self, g: GroupResult) -> dict[str, float]:
        """The window's figures for a group of commands: how long rclone ran, Skylift's
        CPU meanwhile, and the time from the first command's start to rclone's start
        and from rclone's end to the last command's exit."""
        up_s, up_cpu = self.stop()
        return {
            "upload_s": up_s,
            "upload_cpu": up_cpu,
            "before_s": self.start_t - g.t0,
            "after_s": g.t0 + g.wall - self.end_t,
        }


@dataclass
class GroupResult:
    wall: float  # from the first start to the last exit
    procs: list[ProcResult]
    t0: float = 0.0  # perf_counter() at the first start

    @property
    def ok(self) -> bool:
        return all(p.code == 0 for p in self.procs)


def run_group(
    argvs: Sequence[Sequence[str]],
    env: dict[str, str],
    logdir: Path,
    timeout: float = 600,
    cwd: Path | None = None,
    parallel: int | None = None,
    started: list[int] | None = None,
) -> GroupResult:
    """Run the commands, at most ``parallel`` at a time (all at once by default);
    ``started`` gets the pid of each as it starts."""
    logdir.mkdir(parents=True, exist_ok=True)
    limit = parallel or len(argvs)
    t0 = time.perf_counter()
    deadline = t0 + timeout
    results: list[ProcResult] = []
    running: list[Measured] = []
    t_last = t0
    pending = list(enumerate(argvs))
    some_exit = threading.Event()
    while pending or running:
        while pending and len(running) < limit:
            i, argv = pending.pop(0)
            running.append(Measured(argv, env, logdir / f"{i:04d}.log", cwd, some_exit))
            if started is not None:
                started.append(running[-1].pid)
        # wait for whichever ends first
        done: list[Measured] = []
        while not done and time.perf_counter() < deadline:
            some_exit.wait(1)
            some_exit.clear()
            done = [m for m in running if m._exited.is_set()]
        if not done:  # timeout: stop them all
            for m in running:
                m.kill()
            done = list(running)
        for m in done:
            running.remove(m)
            results.append(m.wait(30))
            t_last = max(t_last, m.t_exit or time.perf_counter())
    return GroupResult(t_last - t0, results, t0)


# --- statistics and output ----------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    vals = [v for v in values if v == v]
    return statistics.median(vals) if vals else float("nan")


@dataclass
class Row:
    """One line of a results table: the medians over runs of one measurement."""

    case: str
    variant: str
    values: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, **vals: float) -> None:
        for k, v in vals.items():
            self.values.setdefault(k, []).append(v)

    def med(self, key: str) -> float:
        return median(self.values.get(key, []))


def fmt(v: float, digits: int = 2, unit: str = "") -> str:
    if v != v:  # NaN
        return "—"
    return f"{v:.{digits}f}{unit}"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def save_json(name: str, data: object) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(data, indent=2, default=_json_default))
    return path


def _json_default(o: object) -> object:
    if hasattr(o, "__dataclass_fields__"):
        return asdict(o)  # type: ignore[call-overload]
    if isinstance(o, Path):
        return str(o)
    return str(o)


# --- a virtual desktop with a system tray ------------------------------------------------


class XSession:
    """Xvfb and trayer (a freedesktop system tray), to see when a tray icon is docked."""

    def __init__(self) -> None:
        self.display = ""
        self._procs: list[subprocess.Popen[bytes]] = []

    @staticmethod
    def available() -> bool:
        return all(shutil.which(b) for b in ("Xvfb", "trayer", "xwininfo"))

    def start(self) -> None:
        r, w = os.pipe()
        # -noreset: no refused connections while the server resets (tests/xdesktop.py)
        xvfb = subprocess.Popen(
            [
                "Xvfb",
                "-displayfd",
                str(w),
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
                "-noreset",
            ],
            pass_fds=(w,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(w)
        self._procs.append(xvfb)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            self.stop()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"
        tray = subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request"],
            env={**os.environ, "DISPLAY": self.display},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._procs.append(tray)
        deadline = time.monotonic() + 10
        while self.tray_icons() < 0:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("trayer did not start")
            time.sleep(0.05)

    def alive(self) -> bool:
        return bool(self._procs) and all(p.poll() is None for p in self._procs)

    def ensure(self) -> None:
        """Start again if someone else's cleanup took the X server or the tray away."""
        if not self.alive():
            self.stop()
            self.start()

    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def tray_icons(self) -> int:
        """How many icons are docked in trayer's panel; -1 while there is no panel."""
        out = subprocess.run(
            ["xwininfo", "-root", "-tree"],
            env={**os.environ, "DISPLAY": self.display},
            capture_output=True,
            text=True,
            check=False,
        ).stdout.splitlines()
        for i, line in enumerate(out):
            if '"panel": ("panel" "trayer")' not in line:
                continue
            indent = len(line) - len(line.lstrip())
            icons = 0
            # panel -> one socket window per icon -> the app's own window (a grandchild)
            for sub in out[i + 1 :]:
                if not sub.strip():
                    continue
                depth = len(sub) - len(sub.lstrip())
                if depth <= indent:
                    break
                if sub.lstrip().startswith("0x") and depth > indent + 3:
                    icons += 1
            return icons
        return -1

    def stop(self) -> None:
        for p in reversed(self._procs):
            if p.poll() is not None:
                continue
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._procs = []
