"""The client side of Skylift's local socket, without Qt.

Commands such as ``skylift status`` only talk to the running engine; importing Qt for
that would cost more than the answer. On POSIX the socket QLocalServer makes is a
plain Unix socket; on Windows (a named pipe) the Qt client is used instead.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

from skylift.core import paths

MAX_MESSAGE = 32 * 1024 * 1024  # 100,000 long paths fit; a runaway client does not


class IpcError(RuntimeError):
    pass


def socket_path() -> str:
    return str(paths.private_dir(paths.runtime_dir()) / "skylift.sock")


def engine_lock_held() -> bool:
    """Whether another live process holds the engine's lock, read without Qt (POSIX).

    Only a shortcut for a process that will hand its files over anyway; who runs the
    engine is decided by the lock itself (QLockFile, entry/ipc.py).
    """
    if os.name == "nt":
        return False
    try:
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
        path = socket_path()
        if not os.path.exists(path):
            return False
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
