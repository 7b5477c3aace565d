"""One engine per user: a lock file, and a local socket the other processes talk to.

Messages are single JSON objects, one per line, size-limited and checked against a
small schema before anything acts on them. The socket is reachable by its owner only
(the runtime folder is 0700 and the socket is created user-only).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QLockFile, QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from skylift.core import paths
from skylift.core.settings import validate_remote
from skylift.entry.ipc_client import MAX_MESSAGE, Client, IpcError, socket_path

log = logging.getLogger(__name__)

__all__ = ["MAX_MESSAGE", "Client", "EngineLock", "IpcError", "QtClient", "Server", "socket_path"]

MAX_PATHS = 200_000
MAX_PATH_LEN = 16_384
COMMANDS = {
    "ping",
    "show",
    "upload",
    "status",
    "jobs",
    "retry",
    "cancel",
    "pause",
    "resume",
    "reload",
    "verify",
    "set_link",
    "wait",
}


def lock_path() -> str:
    return str(paths.private_dir(paths.runtime_dir()) / "engine.lock")


class EngineLock:
    """Held by the one process that runs the engine. A dead holder's lock is taken over."""

    def __init__(self) -> None:
        self._path = lock_path()
        self._lock = QLockFile(self._path)
        self._lock.setStaleLockTime(0)  # stale only when its process is gone

    def acquire(self) -> bool:
        taken = bool(self._lock.tryLock(0))
        # a lock left by a process that no longer exists is removed and taken
        if not taken and self._lock.removeStaleLockFile():
            taken = bool(self._lock.tryLock(0))
        if taken:  # QLockFile makes it with the umask's mode; like every Skylift file, 0600
            with contextlib.suppress(OSError):
                os.chmod(self._path, 0o600)
        return taken

    def release(self) -> None:
        self._lock.unlock()


_DEST = re.compile(r"^[^:\n\r\0]+:[^\n\r\0]*$")
_LINK = re.compile(r"^https?://\S+$", re.I)


def validate(msg: Any) -> dict[str, Any]:
    """Check a request against the schema; raise IpcError with a plain reason."""
    if not isinstance(msg, dict):
        raise IpcError("a request must be a JSON object")
    cmd = msg.get("cmd")
    if cmd not in COMMANDS:
        raise IpcError(f"unknown command {cmd!r}")
    allowed = {"cmd", "paths", "to", "cwd", "ids", "all_failed", "files", "link", "since", "again"}
    extra = set(msg) - allowed
    if extra:
        raise IpcError(f"unexpected fields: {', '.join(sorted(extra))}")
    if "paths" in msg:
        p = msg["paths"]
        if not isinstance(p, list) or len(p) > MAX_PATHS:
            raise IpcError("paths must be a list of at most 200,000 paths")
        for item in p:
            if not isinstance(item, str) or not item or len(item) > MAX_PATH_LEN or "\0" in item:
                raise IpcError("every path must be a non-empty string")
    if "cwd" in msg and msg["cwd"] is not None:
        cwd = msg["cwd"]
        if not isinstance(cwd, str) or not os.path.isabs(cwd) or "\0" in cwd:
            raise IpcError("cwd must be an absolute path")
    if "to" in msg and msg["to"] is not None:
        to = msg["to"]
        if not isinstance(to, str) or not _DEST.match(to):
            raise IpcError("to must be REMOTE:PATH")
        validate_remote(to.split(":", 1)[0])
    if "ids" in msg:
        ids = msg["ids"]
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise IpcError("ids must be a list of job numbers")
    if "since" in msg and (
        not isinstance(msg["since"], int) or isinstance(msg["since"], bool) or msg["since"] < 0
    ):
        raise IpcError("since must be the seq of an earlier answer")
    for flag in ("all_failed", "again"):
        if flag in msg and not isinstance(msg[flag], bool):
            raise IpcError(f"{flag} must be true or false")
    if "link" in msg:
        link = msg["link"]
        if not isinstance(link, str) or len(link) > MAX_PATH_LEN or not _LINK.match(link):
            raise IpcError("link must be one http(s) address")
    return msg


Handler = Callable[[dict[str, Any]], dict[str, Any]]
Reply = Callable[[dict[str, Any]], None]
# answers a request later (a "wait" for news): called with the request and a function that
# sends the answer, if the asker is still connected by then
Deferred = Callable[[dict[str, Any], Reply], None]


class Server(QObject):
    """Answers requests from other Skylift processes, on the engine's thread."""

    def __init__(self, handler: Handler, parent: QObject | None = None):
        super().__init__(parent)
        self._handler = handler
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytes] = {}
        self.deferred: Deferred | None = None

    def listen(self) -> bool:
        path = socket_path()
        QLocalServer.removeServer(path)  # we hold the lock: anything there is stale
        ok = self._server.listen(path)
        if not ok:
            log.error("cannot listen on %s: %s", path, self._server.errorString())
        else:
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)
        return bool(ok)

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            self._buffers[sock] = b""
            # bound methods, not closures holding the server: see Engine._start
            sock.readyRead.connect(self._ready_read)
            sock.disconnected.connect(self._disconnected)

    def _ready_read(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket) and sock in self._buffers:
            self._read(sock)

    def _disconnected(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            self._drop(sock)

    def _drop(self, sock: QLocalSocket) -> None:
        self._buffers.pop(sock, None)
        sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        data = self._buffers.get(sock, b"") + bytes(sock.readAll().data())
        while b"\n" in data:
            line, data = data.split(b"\n", 1)
            self._answer(sock, line)
        if len(data) > MAX_MESSAGE:
            self._reply(sock, {"ok": False, "error": "request too large"})
            sock.disconnectFromServer()
            data = b""
        self._buffers[sock] = data

    def _answer(self, sock: QLocalSocket, line: bytes) -> None:
        try:
            msg = validate(json.loads(line))
            if msg["cmd"] == "wait" and self.deferred is not None:
                self.deferred(msg, functools.partial(self._reply_later, sock))
                return
            reply = self._handler(msg)
        except (IpcError, ValueError) as e:
            reply = {"ok": False, "error": str(e)}
        except Exception as e:  # a bad request must never take the engine down
            log.exception("IPC request failed")
            reply = {"ok": False, "error": f"internal error: {type(e).__name__}"}
        self._reply(sock, reply)

    def _reply_later(self, sock: QLocalSocket, reply: dict[str, Any]) -> None:
        if sock in self._buffers:  # not disconnected meanwhile
            self._reply(sock, reply)

    def _reply(self, sock: QLocalSocket, reply: dict[str, Any]) -> None:
        sock.write(QByteArray(json.dumps(reply).encode() + b"\n"))
        sock.flush()


class QtClient:
    """A blocking client through QLocalSocket (Windows' named pipes)."""

    def __init__(self, timeout_ms: int = 10_000):
        self.timeout_ms = timeout_ms
        self._sock: QLocalSocket | None = None

    def connect(self) -> bool:
        if not Path(socket_path()).exists():
            return False
        sock = QLocalSocket()
        sock.connectToServer(socket_path())
        if not sock.waitForConnected(2000):
            return False
        self._sock = sock
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.disconnectFromServer()
            self._sock = None

    def request(self, cmd: str, **fields: Any) -> dict[str, Any]:
        if self._sock is None and not self.connect():
            raise IpcError("Skylift is not running")
        assert self._sock is not None
        body = json.dumps({"cmd": cmd, **fields}).encode() + b"\n"
        self._sock.write(QByteArray(body))
        if not self._sock.waitForBytesWritten(self.timeout_ms):
            raise IpcError("the running Skylift did not take the request")
        buf = b""
        while b"\n" not in buf:
            if not self._sock.waitForReadyRead(self.timeout_ms):
                self.close()
                raise IpcError("the running Skylift did not answer")
            buf += bytes(self._sock.readAll().data())
            if len(buf) > MAX_MESSAGE * 4:
                raise IpcError("the answer was too large")
        reply = json.loads(buf.split(b"\n", 1)[0])
        if not isinstance(reply, dict):
            raise IpcError("the running Skylift gave a malformed answer")
        return reply
