"""Share links: ``rclone link`` for the folder (or file) a photographer sends a client.

The argument builder, the choice of what to link and the reading of rclone's answer
are pure functions, unit-tested with recorded output. ``LinkRequest`` runs them in a
QProcess for the GUI (through ``remotes.RcloneCall``); ``make_link`` is the blocking
form for the CLI and the Python API.

What rclone does (recorded in tests/fixtures/rclone/*/link_*): the link is the last
line on stdout; notices (S3's "Reducing expiry to 1w") go to stderr. A backend
without public links (sftp, webdav, local...) says "<fs> doesn't support public
links"; S3 links single objects only: a folder, like a missing file, is "object not
found", and a bucket's top is an empty-key error.
"""

from __future__ import annotations

import enum
import logging
import posixpath
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from skylift.core import rclone_binary, remotes
from skylift.core.messages import is_network, plain, redact
from skylift.core.rclone_args import split_remote
from skylift.core.settings import SettingError, validate_expire, validate_remote

log = logging.getLogger(__name__)

# never wait on a password prompt; a dead server must not keep a click waiting for minutes
FLAGS = (remotes.ASK_PASSWORD, *remotes.NETWORK_FLAGS)
TIMEOUT_S = 90.0
LINK_CLOUDS = "Dropbox, Google Drive, OneDrive or S3"


# --- arguments ---------------------------------------------------------------------------


def checked_target(target: str) -> str:
    """``remote:path`` with the remote's name checked; raises ValueError, plainly worded.

    A checked name never begins with "-", so the target can never be read as a flag.
    """
    name, sep, path = target.strip().partition(":")
    if not sep or not name:
        raise ValueError(
            f"'{target}' is not a place on a remote: write it as REMOTE:PATH, "
            "for example dropbox:/Clients/Smith."
        )
    try:
        clean = validate_remote(name)
    except SettingError as e:
        raise ValueError(str(e)) from None
    if "\n" in path or "\r" in path or "\0" in path:
        raise ValueError("A path on the remote must be a single line.")
    return f"{clean}:{path}"


def checked_expire(expire: str | None) -> str:
    try:
        return validate_expire(expire or "")
    except SettingError as e:
        raise ValueError(str(e)) from None


def link_args(rclone: str, target: str, expire: str = "") -> list[str]:
    """``rclone link [--expire D] REMOTE:PATH``; raises ValueError for bad input."""
    clean = checked_target(target)
    duration = checked_expire(expire)
    return [
        rclone,
        "link",
        *FLAGS,
        *([f"--expire={duration}"] if duration else []),
        "--",  # belt and braces: the target is never a flag, whatever it starts with
        clean,
    ]


# --- what to link ------------------------------------------------------------------------


def folder_of(destination: str) -> str:
    """The folder that holds a file on the remote: ``s3:b/W/a.jpg`` -> ``s3:b/W``."""
    name, path = split_remote(destination)
    return f"{name}:{posixpath.dirname(path)}"


def one_per_folder(destinations: Iterable[str]) -> list[str]:
    """One of these destinations per remote folder, first seen first. What depends only
    on the folder is then worked out once per folder, not once per file: a batch of
    10,000 photos usually has one folder."""
    seen: dict[tuple[str, str], str] = {}
    for d in destinations:
        name, _, path = d.partition(":")
        seen.setdefault((name, path[: path.rfind("/") + 1]), d)
    return list(seen.values())


def common_folder(destinations: Iterable[str]) -> str | None:
    """The one folder that holds all these files, or None (several remotes, or none)."""
    pairs = [split_remote(folder_of(d)) for d in one_per_folder(destinations)]
    names = {n for n, _p in pairs}
    if len(names) != 1:
        return None
    paths = [p for _n, p in pairs]
    try:
        common = posixpath.commonpath(paths)
    except ValueError:  # absolute and relative paths mixed
        return None
    if paths[0].startswith("/") and not common.startswith("/"):
        common = "/" + common
    return f"{names.pop()}:{common}"


@dataclass(frozen=True)
class Target:
    """One thing ``rclone link`` may be asked for, and the jobs its link belongs to."""

    path: str  # remote:path
    ids: tuple[int, ...]
    folder: bool


def targets_for(jobs: Sequence[tuple[int, str]]) -> list[Target]:
    """What to try, in order, for jobs given as (id, destination).

    First the folder that holds them all (the link a photographer sends); where the
    remote shares single files only (S3), one job falls back to its own file.
    """
    if not jobs:
        return []
    folder = common_folder(d for _i, d in jobs)
    out = []
    if folder is not None:
        out.append(Target(folder, tuple(i for i, _d in jobs), True))
    if len(jobs) == 1:
        out.append(Target(jobs[0][1], (jobs[0][0],), False))
    return out


def sharing(answer: LinkResult, done: Iterable[tuple[int, str]]) -> list[int]:
    """The jobs a link belongs to: those it was made for and, for a folder link, every
    uploaded job (id, destination) directly in that folder."""
    ids = set(answer.ids)
    if answer.url and answer.folder:
        ids.update(i for i, d in done if folder_of(d) == answer.target)
    return sorted(ids)


# --- reading the answer ------------------------------------------------------------------


class Kind(enum.Enum):
    OK = "ok"
    UNSUPPORTED = "unsupported"  # the backend has no public links at all
    FOLDER = "folder"  # a folder was asked for and the remote links files only
    NOT_FOUND = "not_found"
    REMOTE = "remote"  # no such remote, or an unreadable config: exit 3 in the CLI
    EXPIRE = "expire"
    OTHER = "other"


@dataclass(frozen=True)
class LinkResult:
    url: str | None
    error: str | None
    kind: Kind
    note: str = ""  # e.g. "These links expire after at most 1w." (S3's limit)
    target: str = ""
    ids: tuple[int, ...] = field(default=())
    folder: bool = False

    @property
    def ok(self) -> bool:
        return self.url is not None


_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.I)
_PREFIX = re.compile(
    r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:(?:CRITICAL|ERROR|NOTICE|WARNING|INFO|DEBUG)\s*: )?"
)
_REDUCED = re.compile(r"Reducing expiry to (\S+) as")
_UNSUPPORTED = re.compile(
    r"doesn't support public links|optional feature not implemented|not implemented", re.I
)
_FS_KIND = re.compile(r"Failed to link: (?:(\w+)://|(Local file system)|(\w+) root)")


def url_from(stdout: str) -> str | None:
    """The link: rclone prints it as the last line of its output."""
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    if lines and _URL.match(lines[-1]):
        return lines[-1]
    return None


def _messages(stderr: str) -> list[str]:
    out = []
    for line in stderr.splitlines():
        text = _PREFIX.sub("", line.strip()).removeprefix("Failed to link: ")
        if text:
            out.append(text)
    return out


def note_from(stderr: str) -> str:
    m = _REDUCED.search(stderr)
    if m:
        return f"Links on this remote expire after at most {_duration_words(m.group(1))}."
    return ""


def _duration_words(d: str) -> str:
    words = {"1w": "a week", "1d": "a day", "1h": "an hour"}
    return words.get(d, d)


def _backend(stderr: str, remote: str) -> str:
    m = _FS_KIND.search(stderr)
    if m:
        if m.group(1):
            return m.group(1)
        if m.group(2):
            return "local disk"
        return m.group(3)
    return remote


def result(code: int, stdout: str, stderr: str, target: Target | str) -> LinkResult:
    """Read one ``rclone link`` run: the URL, or one plain sentence saying what to do."""
    t = target if isinstance(target, Target) else Target(target, (), False)
    remote = split_remote(t.path)[0]
    url = url_from(stdout)
    note = note_from(stderr)
    if code == 0 and url:
        return LinkResult(url, None, Kind.OK, note, t.path, t.ids, t.folder)
    text = " ".join(m for m in _messages(stderr) if not _REDUCED.search(m))
    kind, sentence = _explain(text, code, t, remote, stderr)
    log.info("rclone link %s failed (%s): %s", t.path, code, redact(text))
    return LinkResult(None, sentence, kind, note, t.path, t.ids)


def _explain(text: str, code: int, t: Target, remote: str, stderr: str) -> tuple[Kind, str]:
    low = text.lower()
    if _UNSUPPORTED.search(text):
        return Kind.UNSUPPORTED, (
            f"This remote ({_backend(stderr, remote)}) cannot make share links; "
            f"upload to a cloud such as {LINK_CLOUDS} to share."
        )
    if "didn't find section" in low or "not found in config" in low:
        return Kind.REMOTE, plain(text, remote)
    if 'for "--expire" flag' in text or ("invalid argument" in low and "expire" in low):
        return Kind.EXPIRE, (
            "rclone did not accept the expiry; use a duration such as 12h, 7d or 2w, "
            "or none (skylift config set link_expire '')."
        )
    if "settings_error" in low or ("expir" in low and "not_authorized" in low):
        return Kind.EXPIRE, (
            "This account cannot make links that expire; clear the expiry "
            "(skylift config set link_expire '') and try again."
        )
    if is_network(text):
        return Kind.OTHER, (
            f"The remote '{remote}' could not be reached; check the connection and try again."
        )
    not_found = any(
        s in low for s in ("object not found", "file not found", "directory not found")
    ) or ("not found" in low and code in (3, 4))
    empty_key = "key must not be empty" in low or "minimum field size of 1" in low
    if t.folder and (not_found or empty_key or "can't share directories" in low):
        return Kind.FOLDER, (
            f"{t.path} is a folder and this remote ({remote}) shares single files only; "
            "use Copy share link on one file."
        )
    if not_found:
        return Kind.NOT_FOUND, (
            f"{t.path} was not found on the remote; it may have been moved or deleted."
        )
    sentence = plain(text or f"rclone exited with code {code}", remote)
    if sentence.startswith(("rclone could not upload", "rclone failed", "The remote refused")):
        detail = " ".join(redact(text).split()).rstrip(".")[:300]
        sentence = (
            f"rclone could not make a share link: {detail}."
            if detail
            else f"rclone could not make a share link (exit code {code})."
        )
    return Kind.OTHER, sentence


def next_after(answer: LinkResult, remaining: Sequence[Target]) -> bool:
    """Whether to try the next target: only when a folder cannot be linked here."""
    return not answer.ok and answer.kind is Kind.FOLDER and bool(remaining)


# --- blocking (CLI, API) -------------------------------------------------------------------


def make_link(
    targets: Sequence[Target] | str,
    expire: str = "",
    rclone_path: str = "",
    timeout: float = TIMEOUT_S,
) -> LinkResult:
    """Run ``rclone link`` for each target in turn until one gives a link.

    Raises ValueError for bad input and RcloneError when rclone is missing or too old.
    """
    todo = [Target(targets, (), False)] if isinstance(targets, str) else list(targets)
    if not todo:
        raise ValueError("There is nothing to make a share link for.")
    for t in todo:
        link_args("rclone", t.path, expire)  # every target checked before anything runs
    rclone = rclone_binary.find(rclone_path)
    env = rclone_binary.child_environment()
    answer: LinkResult | None = None
    while todo:
        t = todo.pop(0)
        try:
            out = subprocess.run(
                link_args(rclone.path, t.path, expire),
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return LinkResult(
                None,
                f"The remote did not answer within {timeout:.0f} seconds; try again.",
                Kind.OTHER,
                target=t.path,
                ids=t.ids,
            )
        except OSError as e:
            raise rclone_binary.RcloneError(redact(f"rclone could not be started: {e}")) from None
        answer = result(out.returncode, out.stdout, out.stderr, t)
        if not next_after(answer, todo):
            return answer
    assert answer is not None
    return answer


# --- asynchronous (GUI) --------------------------------------------------------------------


class LinkRequest(QObject):
    """Makes one share link without blocking: tries ``targets`` in turn.

    ``finished(url, error)`` is emitted once: a URL and "", or "" and one plain sentence.
    Afterwards ``result`` holds the whole answer (which target, which jobs, any note).
    """

    finished = Signal(str, str)

    def __init__(
        self,
        targets: Sequence[Target],
        expire: str = "",
        rclone_setting: str = "",
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._todo = list(targets)
        self._expire = expire
        self._setting = rclone_setting
        self._call: remotes.RcloneCall | None = None
        self._target = Target("", (), False)
        self.result: LinkResult | None = None
        self.done = False
        self._cancelled = False

    def start(self) -> LinkRequest:
        if not self._todo:
            self._fail("There is nothing to make a share link for.")
        else:
            self._next()
        return self

    def cancel(self) -> None:
        if self._call is not None and self._call.running:
            self._call.finished.disconnect(self._answered)
            self._call.cancel()
        self._call = None
        self.done = True
        self._cancelled = True

    def _next(self) -> None:
        target = self._todo.pop(0)
        path = remotes.locate(self._setting)
        if path is None:
            self._fail(remotes.not_found_message(self._setting), target)
            return
        try:
            argv = link_args(path, target.path, self._expire)
            env = rclone_binary.child_environment()
        except (ValueError, rclone_binary.RcloneError) as e:
            self._fail(str(e), target)
            return
        self._target = target
        call = remotes.RcloneCall(argv, self._parse, timeout_s=TIMEOUT_S, env=env, parent=self)
        call.finished.connect(self._answered)
        self._call = call
        call.start()

    def _parse(self, code: int, out: str, err: str) -> remotes.Answer:
        r = result(code, out, err, self._target)
        return remotes.Answer(r.ok, r, r.error or "")

    def _answered(self, answer: remotes.Answer) -> None:
        self._call = None
        if isinstance(answer.value, LinkResult):
            r = answer.value
        else:  # did not start, timed out or was cancelled
            r = LinkResult(
                None, answer.message, Kind.OTHER, target=self._target.path, ids=self._target.ids
            )
        if next_after(r, self._todo):
            self._next()
            return
        self._finish(r)

    def _fail(self, message: str, target: Target | None = None) -> None:
        t = target or Target("", (), False)
        self._finish(LinkResult(None, message, Kind.OTHER, target=t.path, ids=t.ids))

    def _finish(self, r: LinkResult) -> None:
        if self.done:
            return
        self.done = True
        self.result = r
        # on the next turn of the loop, so a failure before any rclone runs still reaches
        # a caller that connects after start()
        QTimer.singleShot(0, self._emit)

    def _emit(self) -> None:
        r = self.result
        if r is not None and not self._cancelled:
            self.finished.emit(r.url or "", "" if r.url else (r.error or "rclone failed."))
