"""Copy share link: make the link for uploaded jobs, put it on the clipboard, keep it
on the jobs. Used by the queue window's row menu and by a click on the notification
of a finished batch."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication

from skylift.core import links
from skylift.core.engine import Engine
from skylift.core.store import JobState


class LinkCopier(QObject):
    """One share link at a time; a new request replaces one still running."""

    started = Signal(str)  # the remote folder or file being linked
    copied = Signal(str, str, str)  # url, what it links to, a note ("" or one sentence)
    failed = Signal(str)  # one plain sentence

    def __init__(self, engine: Engine, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self.request: links.LinkRequest | None = None
        self.cannot_share: set[str] = set()  # remotes whose backend has no public links

    @property
    def running(self) -> bool:
        return self.request is not None and not self.request.done

    def copy_for(self, ids: Iterable[int], one_folder: bool = False) -> bool:
        """Start making the link for these jobs (their uploaded ones); False if none.

        ``one_folder``: refuse files from several folders rather than link the folder
        above them, which may hold more than was meant to be shared (a hand-picked
        selection); a finished batch is linked at the folder it went to.
        """
        jobs = [j for j in self.engine.jobs(ids=list(ids)) if j.state is JobState.DONE]
        if not jobs:
            self.failed.emit("Only uploaded files can be shared; wait until they are uploaded.")
            return False
        if one_folder and len({links.folder_of(j.destination) for j in jobs}) > 1:
            self.failed.emit(
                "These files are in different folders; choose files from one folder to share."
            )
            return False
        targets = links.targets_for([(j.id, j.destination) for j in jobs])
        if not targets:
            self.failed.emit(
                "These files went to different remotes; choose files from one remote to share."
            )
            return False
        if self.request is not None:
            self.request.cancel()
            self.request.deleteLater()
        settings = self.engine.settings
        req = links.LinkRequest(
            targets, str(settings["link_expire"]), str(settings["rclone_path"]), self
        )
        req.finished.connect(self._finished)
        self.request = req
        req.start()
        self.started.emit(targets[0].path)
        return True

    def can_share(self, remote: str) -> bool:
        """False once the remote has said it cannot make links (until Skylift restarts)."""
        return remote not in self.cannot_share

    def _finished(self, url: str, error: str) -> None:
        req = self.request
        result = req.result if req is not None else None
        if result is None:
            return
        if not url:
            if result.kind is links.Kind.UNSUPPORTED:
                self.cannot_share.add(result.target.partition(":")[0])
            self.failed.emit(error)
            return
        QGuiApplication.clipboard().setText(url)
        done = [(j.id, j.destination) for j in self.engine.jobs() if j.state is JobState.DONE]
        self.engine.set_link(links.sharing(result, done), url)
        self.copied.emit(url, result.target, result.note)
