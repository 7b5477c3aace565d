"""The client side of Skylift's local socket, without Qt.

Commands such as ``skylift status`` only talk to the running engine; importing Qt for
that would cost more than the answer. On POSIX the socket QLocalServer makes is a
plain Unix socket; on Windows (a named pipe) the Qt client is used instead.
"""

from __future__ import annotations

import json
import os
import socket
import stat

TYPE_CHECKING = False  # typing, platformdirs and pathlib are not loaded to hand files over
if TYPE_CHECKING:
    from typing import Any

MAX_MESSAGE = 32 * 1024 * 1024  # 100,000 long paths fit; a runaway client does not


class IpcError(RuntimeError):
    pass


def socket_path() -> str:
    """Where the engine listens: in Skylift's private runtime folder (platformdirs)."""
    from skylift.core import paths

    return str(paths.private_dir(paths.runtime_dir()) / "skylift.sock")


def _xdg_socket() -> str | None:
    """The socket in ``$XDG_RUNTIME_DIR/skylift``, if it is there and safe to trust.

    This is where :func:`socket_path` puts it on a usual desktop, found without loading
    platformdirs (a fifth of a hand-over's start-up). It is trusted only in a folder
    that is this user's own and closed to everyone else, as a socket of this user's:
    nobody else could have put it there. Anything else goes the long way.
    """
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    if not os.path.isabs(base):
        return None
    folder = os.path.join(base, "skylift")
    path = os.path.join(folder, "skylift.sock")
    uid = os.getuid()
    try:
        d, s = os.lstat(folder), os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(d.st_mode) or d.st_uid != uid or d.st_mode & 0o077:
        return None
    if not stat.S_ISSOCK(s.st_mode) or s.st_uid != uid:
        return None
    return path


def engine_lock_held() -> bool:
    """Whether another live process holds the engine's lock, read without Qt (POSIX).

    Only a shortcut for a process that will hand its files over anyway; who runs the
    engine is decided by the lock itself (QLockFile, entry/ipc.py).
    """
    if os.name == "nt":
        return False
    try:
        from skylift.core import paths

        with open(os.path.join(paths.runtime_dir(), "engine.lock")) as f:
            lines = f.read(4096).splitlines()
        pid = int(lines[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    if pid == os.getpid():
        return False
    try:  # QLockFile writes the holder's program name next: a reused pid does not match
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return True
    return len(lines) < 2 or lines[1] == exe


_start_claim: int | None = None  # the open file whose lock is this process's claim


def claim_engine_start() -> bool:
    """Claim, for the rest of this process's life, the turn to start an engine here.

    Starting one (loading Qt, opening the queue) costs a tenth of a second of CPU. When
    several ``skylift upload --wait`` start together and none finds an engine, only the
    holder of this claim does that work; the others wait for its socket and hand their
    files over. The kernel drops the claim when its process ends, however it ends. Which
    process runs the engine is still decided by the engine's own lock (QLockFile); this
    only keeps the others from all loading Qt to find that out. True also where no claim
    can be made (Windows, an unwritable runtime folder): the lock decides alone, as before.
    """
    global _start_claim
    if os.name == "nt" or _start_claim is not None:
        return True
    import fcntl

    try:
        from skylift.core import paths

        where = os.path.join(paths.private_dir(paths.runtime_dir()), "engine.starting")
        fd = os.open(where, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _start_claim = fd
    return True


class Client:
    """A blocking client for the CLI and the API (no event loop needed)."""

    def __init__(self, timeout: float = 10.0):
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._qt: Any = None
        self._buf = b""

    def connect(self) -> bool:
        if os.name == "nt":
            from skylift.entry.ipc import QtClient

            self._qt = QtClient(int(self.timeout * 1000))
            return bool(self._qt.connect())
        quick = _xdg_socket()
        if quick is not None and self._connect(quick):
            return True
        path = socket_path()
        return path != quick and os.path.exists(path) and self._connect(path)

    def _connect(self, path: str) -> bool:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(2)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            return False
        sock.settimeout(self.timeout)
        self._sock = sock
        return True

    def close(self) -> None:
        if self._qt is not None:
            self._qt.close()
            self._qt = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def request(self, cmd: str, **fields: Any) -> dict[str, Any]:
        if self._qt is not None:
            return dict(self._qt.request(cmd, **fields))
        if self._sock is None and not self.connect():
            raise IpcError("Skylift is not running")
        if self._qt is not None:
            return dict(self._qt.request(cmd, **fields))
        assert self._sock is not None
        try:
            self._sock.sendall(json.dumps({"cmd": cmd, **fields}).encode() + b"\n")
            while b"\n" not in self._buf:
                chunk = self._sock.recv(1 << 20)
                if not chunk:
                    raise IpcError("the running Skylift went away")
                self._buf += chunk
                if len(self._buf) > MAX_MESSAGE * 4:
                    raise IpcError("the answer was too large")
        except OSError as e:
            self.close()
            raise IpcError(f"the running Skylift did not answer ({e.strerror or e})") from None
        line, self._buf = self._buf.split(b"\n", 1)
        reply = json.loads(line)
        if not isinstance(reply, dict):
            raise IpcError("the running Skylift gave a malformed answer")
        return reply
