"""The engine together with its IPC server: what runs in the one engine process."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from skylift.core.engine import Engine, clear_leftovers
from skylift.core.settings import Settings
from skylift.core.store import Store
from skylift.entry.ipc import EngineLock, Server
from skylift.entry.platform_hints import PlatformHints
from skylift.entry.progress import FINISHED
from skylift.entry.waiters import Waiters, jobs_reply
from skylift.entry.warmup import VersionWarmup

if TYPE_CHECKING:
    from skylift.core.hotfolders import HotFolders

log = logging.getLogger(__name__)


class EngineBusy(RuntimeError):
    """Another process runs the engine."""


class EngineService(QObject):
    """Owns the lock, the queue store, the engine and the socket the others talk to."""

    def __init__(self, settings: Settings, parent: QObject | None = None, *, watch: bool = False):
        """``watch``: also watch the hot folders. The long-running desktop app does;
        a headless run (drain, upload --wait, the Python API) only empties the queue and
        must not go on collecting files or hold jobs for a folder that is missing."""
        super().__init__(parent)
        self.lock = EngineLock()
        if not self.lock.acquire():
            raise EngineBusy("another Skylift is running")
        clear_leftovers()  # an engine that was killed left its rclone lists and logs
        try:
            self.store = Store()
        except Exception:
            self.lock.release()
            raise
        self.settings = settings
        self.engine = Engine(settings, self.store, self)
        self.server = Server(self.handle, self)
        self.waiters = Waiters(self.engine, self)
        self.server.deferred = self.waiters.wait
        self.server.listen()
        # the platform's hints only make recovery quicker: loading its network backend
        # (about 6 ms) waits for the event loop, after this process's first batch started
        self.hints: PlatformHints | None = None
        QTimer.singleShot(0, self, self._listen_to_platform)
        self.hot_folders: HotFolders | None = None
        if watch:  # only the desktop app watches folders
            from skylift.core.hotfolders import HotFolders

            self.hot_folders = HotFolders(settings, self.engine, self.store, self)
        self.warmup = VersionWarmup(settings, self)
        self.on_show: Callable[[], None] | None = None
        # `skylift FILE...` with no --to: the desktop app queues such files as a drop
        self.on_files: Callable[[list[str], str | None], dict[str, Any]] | None = None
        self.external_ids: set[int] = set()
        self._closed = False

    def _listen_to_platform(self) -> None:
        if self.hints is None and not self._closed:
            self.hints = PlatformHints(self.engine, self)

    def close(self) -> None:
        self._closed = True
        if self.hot_folders is not None:
            self.hot_folders.stop()
        self.waiters.close()
        self.warmup.close()
        self.server.close()
        self.engine.shutdown()
        self.store.close()
        self.lock.release()

    def reload_settings(self) -> None:
        fresh = Settings.load(self.settings.path)
        for key in fresh:
            with contextlib.suppress(ValueError):
                self.settings[key] = fresh[key]
        self.engine.settings_changed()
        if self.hot_folders is not None:
            self.hot_folders.reload()

    # --- requests from other processes ------------------------------------------------

    def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        cmd = msg["cmd"]
        e = self.engine
        if cmd == "ping":
            return {"ok": True}
        if cmd == "show":
            if self.on_show:
                self.on_show()
            return {"ok": True, "shown": self.on_show is not None}
        if cmd == "upload" and msg.get("files") and not msg.get("to") and self.on_files:
            return self.on_files(list(msg.get("paths", [])), msg.get("cwd"))
        if cmd == "upload":
            before = self.waiters.seq
            try:
                result = e.add_paths(
                    msg.get("paths", []),
                    msg.get("to"),
                    msg.get("cwd"),
                    start_now=True,
                    force=bool(msg.get("again")),
                )
            except ValueError as err:
                return {"ok": False, "error": str(err)}
            ids = [j.id for j in result.jobs]
            # a "wait" since the answer's seq hears only what comes next; but a job that
            # ended at once (already uploaded) must still be news to it
            ended_at_once = any(j.state.value in FINISHED for j in result.jobs)
            e.kick(0)  # the request brought all its files: no need to wait for more
            self.external_ids.update(ids)
            if msg.get("files") and self.on_show:
                self.on_show()
            return {
                "ok": True,
                "ids": ids,
                "destination": msg.get("to") or self.settings.destination_root,
                "seq": before if ended_at_once else self.waiters.seq,
                "added": result.added,
                "rejected": [[r.path, r.reason, r.missing] for r in result.rejected],
            }
        if cmd == "status":
            return {"ok": True, "status": e.status()}
        if cmd == "jobs":
            return jobs_reply(e, msg.get("ids", []))
        if cmd == "retry":
            ids = e.retry_all_failed() if msg.get("all_failed") else e.retry(msg.get("ids", []))
            return {"ok": True, "ids": ids}
        if cmd == "verify":
            return {"ok": True, "ids": e.verify(msg.get("ids", []))}
        if cmd == "cancel":
            return {"ok": True, "ids": e.cancel(msg.get("ids", []))}
        if cmd == "pause":
            e.pause()
            return {"ok": True}
        if cmd == "resume":
            e.resume()
            return {"ok": True}
        if cmd == "set_link":
            return {"ok": True, "ids": e.set_link(msg.get("ids", []), msg.get("link", ""))}
        if cmd == "reload":
            self.reload_settings()
            return {"ok": True}
        return {"ok": False, "error": f"unknown command {cmd}"}
