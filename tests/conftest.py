"""Shared fixtures: an isolated profile for every test, and real rclone servers on loopback.

Every test gets its own XDG folders and an empty rclone config, so nothing of the
machine's own Skylift or rclone setup is read or touched. Remotes are defined only
through RCLONE_CONFIG_<NAME>_* environment variables.
"""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import pytest

from tests.loopback import free_port, wait_port, wait_port_closed

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

FIXTURES = Path(__file__).parent / "fixtures"


def rclone_path() -> str:
    from skylift.core import rclone_binary

    return rclone_binary.find().path


@pytest.fixture(autouse=True)
def profile(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, private Skylift profile (settings, queue, logs, socket) per test."""
    home = tmp_path_factory.mktemp("profile")
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "run"),
    ):
        d = home / sub
        d.mkdir(mode=0o700)
        monkeypatch.setenv(var, str(d))
    for var in list(os.environ):
        if var.startswith("RCLONE_"):
            monkeypatch.delenv(var)
    conf = home / "rclone.conf"
    conf.write_text("")
    monkeypatch.setenv("RCLONE_CONFIG", str(conf))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    # rclone retries a refused connection ten times over ~11 s before it reports it; one
    # try is enough on loopback and keeps the outage tests short (Skylift's own
    # retrying, which the tests are about, is unchanged)
    monkeypatch.setenv("RCLONE_LOW_LEVEL_RETRIES", "1")
    return home


@dataclass
class Server:
    """A real rclone server on 127.0.0.1, its remote defined in the environment."""

    kind: str
    name: str
    root: Path
    port: int
    user: str = "skylift"
    password: str = field(default_factory=lambda: secrets.token_hex(8))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def remote(self) -> str:
        return self.name

    def env(self) -> dict[str, str]:
        obscured = subprocess.run(
            [rclone_path(), "obscure", self.password], capture_output=True, text=True, check=True
        ).stdout.strip()
        prefix = f"RCLONE_CONFIG_{self.name.upper()}_"
        if self.kind == "sftp":
            return {
                prefix + "TYPE": "sftp",
                prefix + "HOST": "127.0.0.1",
                prefix + "PORT": str(self.port),
                prefix + "USER": self.user,
                prefix + "PASS": obscured,
                prefix + "SHELL_TYPE": "none",
                prefix + "MD5SUM_COMMAND": "none",
                prefix + "SHA1SUM_COMMAND": "none",
            }
        return {
            prefix + "TYPE": "webdav",
            prefix + "URL": f"http://127.0.0.1:{self.port}",
            prefix + "VENDOR": "other",
            prefix + "USER": self.user,
            prefix + "PASS": obscured,
        }

    def start(self) -> None:
        args = [
            rclone_path(),
            "serve",
            self.kind,
            str(self.root),
            f"--addr=127.0.0.1:{self.port}",
            *self.auth_args(),
            "--dir-cache-time=1s",
            f"--config={self.root.parent / 'server.conf'}",
            f"--cache-dir={self.root.parent / 'server-cache'}",
        ]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port(self.port)

    def auth_args(self) -> list[str]:
        return [f"--user={self.user}", f"--pass={self.password}"]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            wait_port_closed(self.port)

    def file(self, rel: str) -> Path:
        return self.root / rel.lstrip("/")

    def put(self, rel: str, data: bytes) -> None:
        """Replace a file through the server, as another program using the remote would
        (writing the served folder directly can hide behind the server's cache)."""
        subprocess.run(
            [rclone_path(), "rcat", f"{self.name}:{rel}"],
            input=data,
            check=True,
            capture_output=True,
            timeout=60,
        )


S = TypeVar("S", bound=Server)


def _server(
    kind: str,
    name: str,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    cls: type[S] = Server,  # type: ignore[assignment]
    folders: Sequence[str] = (),
) -> Iterator[S]:
    root = tmp / f"{kind}-served"
    root.mkdir()
    for folder in folders:
        (root / folder).mkdir()
    server = cls(kind, name, root, free_port())
    for k, v in server.env().items():
        monkeypatch.setenv(k, v)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sftp_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """``rclone serve sftp`` on a free loopback port, as the remote ``loop``."""
    yield from _server("sftp", "loop", tmp_path, monkeypatch)


@pytest.fixture
def webdav_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """``rclone serve webdav`` on a free loopback port, as the remote ``dav``."""
    yield from _server("webdav", "dav", tmp_path, monkeypatch)


@dataclass
class Cli:
    """Runs the real ``skylift`` command in a child process."""

    def __call__(
        self, *args: str, cwd: Path | None = None, timeout: float = 180, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [sys.executable, "-m", "skylift", *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"skylift {' '.join(args)} -> {out.returncode}\n{out.stderr}")
        return out

    def popen(
        self,
        *args: str,
        cwd: Path | None = None,
        stdout: int | IO[str] | None = subprocess.PIPE,
        stderr: int | IO[str] | None = subprocess.PIPE,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[str]:
        """``skylift ARGS`` started and left running; its output piped unless told
        where else it goes (a file, for a child whose output could fill a pipe)."""
        return subprocess.Popen(
            [sys.executable, "-m", "skylift", *args],
            stdout=stdout,
            stderr=stderr,
            text=True,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            env=env,
        )


@pytest.fixture
def cli() -> Cli:
    return Cli()


def make_files(folder: Path, names: list[str], size: int = 1000) -> list[Path]:
    """Files with distinct random content, so a wrong byte is noticed."""
    out = []
    for name in names:
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(size))
        out.append(p)
    return out


@pytest.fixture
def configure():
    """Write settings.json for this test's profile, as `skylift config set` would."""
    from skylift.core.settings import Settings

    def apply(**values: object) -> Settings:
        s = Settings.load()
        for k, v in values.items():
            s[k] = v
        s.save()
        return s

    return apply


def status_json(cli: Cli) -> dict:
    import json

    out = cli("status", "--json", check=True)
    return dict(json.loads(out.stdout))


def wait_for(predicate, timeout: float = 60, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll until predicate() is truthy; a generous ceiling, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached")


@pytest.fixture
def no_gc_in_threads() -> Iterator[None]:
    """For tests whose helper threads run Python beside Qt's event loop.

    Python's garbage collector runs in whichever thread allocates when its threshold
    is reached. In a helper thread it may collect a cycle holding a Qt object and run
    its C++ destructor off the GUI thread, which crashes the whole run (seen as a bus
    error inside the "wait" tests). Garbage is collected here, on the GUI thread, and
    collection is off until the test ends. Skylift itself runs no Python threads.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def fill(folder: Path) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass  # full
    finally:
        os.close(fd)


@contextlib.contextmanager
def small_disk(folder: Path, options: str) -> Iterator[Path]:
    """``folder`` on a tmpfs of its own (``options``: ``size=...`` and the like), for as
    long as the block runs; the test is skipped where mounting is not allowed."""
    mount = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)]
    if subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@contextlib.contextmanager
def queue_held(queue_file: Path) -> Iterator[None]:
    """Another program holds the upload queue (an exclusive SQLite transaction) for as
    long as the block runs."""
    holder = sqlite3.connect(queue_file)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


@pytest.fixture
def full_batches() -> Iterator[Path]:
    """Skylift's batches folder on a full 64 KB disk of its own; the queue has room."""
    from skylift.core import paths

    with small_disk(paths.private_dir(paths.data_dir() / "batches"), "size=64k,mode=0700") as d:
        fill(d)
        yield d


@pytest.fixture(autouse=True, scope="session")
def _one_qapplication(qapp):  # type: ignore[no-untyped-def]
    """Create the QApplication first, so the API's in-process engine finds it."""
    return qapp


# --- S3 (share links) -----------------------------------------------------------------


def serve_s3_missing() -> str | None:
    """Why ``rclone serve s3`` cannot run here (it needs rclone 1.65+), or None."""
    out = subprocess.run(
        [rclone_path(), "serve", "s3", "--help"], capture_output=True, text=True, timeout=30
    )
    if out.returncode != 0 or "--auth-key" not in out.stdout:
        return "this rclone has no 'serve s3' (rclone 1.65 or newer is needed for the S3 tests)"
    return None


@dataclass
class S3Server(Server):
    """``rclone serve s3`` over ``root``: each top-level folder of it is a bucket."""

    # serve s3 wants keys of some length; random per test
    user: str = field(default_factory=lambda: "skylift" + secrets.token_hex(6))
    password: str = field(default_factory=lambda: secrets.token_hex(16))

    def env(self) -> dict[str, str]:
        prefix = f"RCLONE_CONFIG_{self.name.upper()}_"
        return {
            prefix + "TYPE": "s3",
            prefix + "PROVIDER": "Rclone",
            prefix + "ENDPOINT": f"http://127.0.0.1:{self.port}",
            prefix + "ACCESS_KEY_ID": self.user,
            prefix + "SECRET_ACCESS_KEY": self.password,
            prefix + "FORCE_PATH_STYLE": "true",
        }

    def auth_args(self) -> list[str]:
        return [f"--auth-key={self.user},{self.password}"]


@pytest.fixture
def s3_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    """``rclone serve s3`` on a free loopback port, as the remote ``s3loop``, with the
    bucket ``bucket`` (a folder of the served directory)."""
    reason = serve_s3_missing()
    if reason:
        pytest.skip(reason)
    yield from _server("s3", "s3loop", tmp_path, monkeypatch, S3Server, folders=["bucket"])
