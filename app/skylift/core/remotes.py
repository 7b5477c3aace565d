"""What the settings dialog asks rclone: its version, the remotes, a remote's folders,
whether a remote answers, and making a new remote.

The argument builders and output parsers are pure functions, unit-tested without a
binary. ``RcloneCall`` runs one command asynchronously in a QProcess (never a shell,
never waiting on a password prompt), and ``RcloneQueries`` puts the two together for
the UI, which never builds an rclone argument itself.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QObject, QProcess, QProcessEnvironment, QTimer, Signal

from skylift.core import connection, rclone_binary
from skylift.core.messages import plain, redact
from skylift.core.rclone_events import Failure, FileError, Text, parse_line
from skylift.core.settings import SettingError, validate_remote

log = logging.getLogger(__name__)

ASK_PASSWORD = "--ask-password=false"
# Listing folders must not hang the Browse dialog on a dead server.
NETWORK_FLAGS = ("--retries=1", "--low-level-retries=1", "--contimeout=15s", "--timeout=30s")


# --- data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Remote:
    name: str
    type: str

    @property
    def label(self) -> str:
        return f"{self.name} ({backend_label(self.type)})" if self.type else self.name


@dataclass(frozen=True)
class Folder:
    name: str
    path: str  # the folder's path on the remote, starting with "/"


@dataclass(frozen=True)
class Field:
    """One value a backend needs when a remote is created."""

    key: str
    label: str
    required: bool = False
    secret: bool = False  # rclone stores it obscured (a password field)
    sensitive: bool = False  # shown as dots, but rclone keeps it as typed
    default: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    placeholder: str = ""


@dataclass(frozen=True)
class Backend:
    type: str
    label: str
    oauth: bool
    fields: tuple[Field, ...] = ()


BACKENDS: tuple[Backend, ...] = (
    Backend("dropbox", "Dropbox", oauth=True),
    Backend("drive", "Google Drive", oauth=True),
    Backend("onedrive", "OneDrive", oauth=True),
    Backend(
        "s3",
        "Amazon S3 or compatible",
        oauth=False,
        fields=(
            Field(
                "provider",
                "Provider",
                required=True,
                default="AWS",
                choices=(
                    ("AWS", "Amazon Web Services"),
                    ("Cloudflare", "Cloudflare R2"),
                    ("DigitalOcean", "DigitalOcean Spaces"),
                    ("Wasabi", "Wasabi"),
                    ("Minio", "MinIO"),
                    ("Other", "Other S3-compatible service"),
                ),
            ),
            Field("access_key_id", "Access key ID", required=True),
            Field("secret_access_key", "Secret access key", required=True, sensitive=True),
            Field("region", "Region", placeholder="e.g. eu-west-1 (may stay empty)"),
            Field("endpoint", "Endpoint", placeholder="only for services other than AWS"),
        ),
    ),
    Backend(
        "sftp",
        "SFTP (SSH server)",
        oauth=False,
        fields=(
            Field("host", "Host", required=True, placeholder="server.example.com"),
            Field("port", "Port", default="22"),
            Field("user", "User name", required=True),
            Field("pass", "Password", secret=True, placeholder="leave empty to use an SSH key"),
            Field("key_file", "SSH key file", placeholder="e.g. ~/.ssh/id_ed25519 (optional)"),
        ),
    ),
    Backend(
        "webdav",
        "WebDAV (Nextcloud, ownCloud…)",
        oauth=False,
        fields=(
            Field(
                "url",
                "URL",
                required=True,
                placeholder="https://cloud.example.com/remote.php/dav/files/NAME",
            ),
            Field(
                "vendor",
                "Service",
                default="nextcloud",
                choices=(
                    ("nextcloud", "Nextcloud"),
                    ("owncloud", "ownCloud"),
                    ("sharepoint", "SharePoint"),
                    ("other", "Other WebDAV server"),
                ),
            ),
            Field("user", "User name"),
            Field("pass", "Password", secret=True),
        ),
    ),
)

# short names for the remote list ("studio (SFTP)"); BACKENDS' labels say more
_LABELS = {
    "dropbox": "Dropbox",
    "drive": "Google Drive",
    "onedrive": "OneDrive",
    "s3": "S3",
    "sftp": "SFTP",
    "webdav": "WebDAV",
    "local": "local disk",
    "b2": "Backblaze B2",
    "box": "Box",
    "pcloud": "pCloud",
    "mega": "MEGA",
    "ftp": "FTP",
    "crypt": "encrypted",
    "alias": "alias",
    "union": "union",
    "combine": "combine",
    "smb": "SMB",
    "swift": "Swift",
    "azureblob": "Azure Blob",
    "gcs": "Google Cloud Storage",
    "protondrive": "Proton Drive",
}


def backend(type_: str) -> Backend:
    for b in BACKENDS:
        if b.type == type_:
            return b
    raise KeyError(type_)


def backend_label(type_: str) -> str:
    return _LABELS.get(type_, type_)


@dataclass(frozen=True)
class Answer:
    """The outcome of one rclone call: a parsed value, or one plain sentence."""

    ok: bool
    value: Any = None
    message: str = ""
    cancelled: bool = False


# --- argument builders --------------------------------------------------------------------


def _checked_remote(name: str) -> str:
    try:
        clean = validate_remote(name)
    except SettingError as e:
        raise ValueError(str(e)) from None
    if not clean:
        raise ValueError("No remote was given.")
    return clean


def target(remote: str, path: str) -> str:
    """``remote:path``; the name is checked, so it can never be read as a flag."""
    return f"{_checked_remote(remote)}:{path or '/'}"


def version_args(rclone: str) -> list[str]:
    return [rclone, "version"]


def listremotes_args(rclone: str) -> list[str]:
    # --long (name and type) exists in every supported rclone; --json only in newer ones
    return [rclone, "listremotes", "--long", ASK_PASSWORD]


def lsdirs_args(rclone: str, remote: str, path: str) -> list[str]:
    return [
        rclone,
        "lsjson",
        target(remote, path),
        "--dirs-only",
        "--max-depth=1",
        "--use-json-log",
        ASK_PASSWORD,
        *NETWORK_FLAGS,
    ]


def test_args(rclone: str, remote: str, path: str) -> list[str]:
    return connection.args(rclone, target(remote, path))


def obscure_args(rclone: str) -> list[str]:
    """``rclone obscure -`` reads the password from stdin, so it never shows in ``ps``."""
    return [rclone, "obscure", "-"]


def config_create_args(
    rclone: str, name: str, type_: str, params: Mapping[str, str], *, obscured: bool
) -> list[str]:
    """``rclone config create NAME TYPE key=value...``.

    ``key=value`` (not ``key value``) so that no value, however it begins, is read as a
    flag. ``obscured``: the password fields were obscured beforehand; say so, so rclone
    does not guess (a 22+ character base64 password confuses its guess).
    """
    clean = _checked_remote(name)
    if type_ not in {b.type for b in BACKENDS}:
        raise ValueError(f"Skylift cannot create a remote of type '{type_}'.")
    pairs = []
    for key, value in params.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ValueError(f"'{key}' is not an rclone option name.")
        if "\n" in value or "\r" in value or "\0" in value:
            raise ValueError(f"The value for {key} must be a single line.")
        pairs.append(f"{key}={value}")
    flags = [ASK_PASSWORD, "--no-obscure" if obscured else "--obscure"]
    return [rclone, "config", "create", *flags, clean, type_, *pairs]


def config_delete_args(rclone: str, name: str) -> list[str]:
    return [rclone, "config", "delete", ASK_PASSWORD, _checked_remote(name)]


# --- output parsers -----------------------------------------------------------------------


def parse_listremotes(stdout: str) -> list[Remote]:
    """``rclone listremotes --long``: ``name:   type   [description]`` per line.

    A name cannot contain a colon, but it may contain spaces.
    """
    remotes = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        name, sep, rest = line.partition(":")
        if not sep or not name.strip():
            continue
        words = rest.split()
        remotes.append(Remote(name.strip(), words[0] if words else ""))
    return remotes


def parse_lsjson_dirs(stdout: str, parent: str) -> list[Folder]:
    """Folders from ``rclone lsjson --dirs-only``, sorted as a person would."""
    data = json.loads(stdout or "[]")
    if not isinstance(data, list):
        raise ValueError("rclone lsjson did not print a list")
    base = parent if parent.startswith("/") else "/" + parent
    folders = [
        Folder(str(item["Name"]), posixpath.join(base, str(item["Name"])))
        for item in data
        if isinstance(item, dict) and item.get("IsDir") and item.get("Name")
    ]
    return sorted(folders, key=lambda f: (f.name.casefold(), f.name))


def parse_version(stdout: str, path: str) -> Answer:
    version = rclone_binary.parse_version(stdout)
    if version is None:
        return Answer(False, None, f"{path} is not rclone (it does not answer 'rclone version').")
    found = rclone_binary.Rclone(path, version)
    if version < rclone_binary.MIN_VERSION:
        return Answer(
            False,
            found,
            f"rclone {found.version_text} at {path} is too old: Skylift needs 1.60 or newer; "
            f"{rclone_binary.UPGRADE_HINT}.",
        )
    return Answer(True, found)


_LOG_TIME = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:[A-Z]+\s*: )?")
_ERROR_WORD = re.compile(r"^(?:fatal )?error: ", re.I)
_OAUTH_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost|\[::1\]):\d+/auth\?state=[\w.~%-]+")


def oauth_url(line: str) -> str | None:
    """The local sign-in link rclone prints while it waits for the browser."""
    m = _OAUTH_URL.search(line)
    return m.group(0) if m else None


def error_text(stderr: str, remote: str = "", action: str = "do it") -> str:
    """One plain sentence from what rclone printed on stderr (JSON log or plain text);
    ``action`` says what rclone was asked to do (see ``messages.plain``).

    A command rclone refuses is followed by its usage and flag list, up to the next
    log line: that is help, not the error (its "passwords" would read as an encrypted
    config), so it is left out. rclone states such an error twice ("Error: X", then
    "Fatal error: X"): it is said once.
    """
    messages: list[str] = []
    in_usage = False
    for line in stderr.splitlines():
        if not line.strip():
            continue
        if line.strip() == "Usage:":
            in_usage = True
        elif in_usage and _LOG_TIME.match(line):
            in_usage = False
        if in_usage:
            continue
        ev = parse_line(line)
        if isinstance(ev, (Failure, FileError)):
            messages.append(ev.message)
        elif isinstance(ev, Text) and ev.line:
            text = _ERROR_WORD.sub("", _LOG_TIME.sub("", ev.line))
            if not text.lower().startswith(("notice", "config file")) and text not in messages:
                messages.append(text)
    if not messages:
        return ""
    return plain(" ".join(messages), remote, action)


def answer_remotes(code: int, stdout: str, stderr: str) -> Answer:
    if code != 0:
        return Answer(
            False,
            None,
            error_text(stderr, action="list the remotes") or f"rclone listremotes failed ({code}).",
        )
    return Answer(True, parse_listremotes(stdout))


def answer_dirs(remote: str, path: str) -> Callable[[int, str, str], Answer]:
    def parse(code: int, stdout: str, stderr: str) -> Answer:
        if code != 0:
            if "directory not found" in stderr.lower():
                return Answer(
                    False,
                    [],
                    f"{remote}:{path} does not exist yet; the first upload creates it.",
                )
            text = error_text(stderr, remote, "list the folders")
            return Answer(False, None, text or f"rclone failed ({code}).")
        try:
            return Answer(True, parse_lsjson_dirs(stdout, path))
        except (ValueError, KeyError, TypeError):
            return Answer(False, None, "rclone gave a folder list Skylift cannot read.")

    return parse


def answer_test(remote: str, path: str) -> Callable[[int, str, str], Answer]:
    where = target(remote, path)

    def parse(code: int, stdout: str, stderr: str) -> Answer:
        ok, reason = connection.verdict(where, code, stderr)
        if ok:
            return Answer(True, where, f"{where} answers; uploads can go there.")
        return Answer(False, where, reason or "The remote did not answer.")

    return parse


def answer_create(name: str) -> Callable[[int, str, str], Answer]:
    def parse(code: int, stdout: str, stderr: str) -> Answer:
        if code == 0:
            return Answer(True, name, f"The remote '{name}' was created.")
        text = error_text(stderr, name, "create the remote")
        return Answer(False, None, text or f"rclone could not create the remote (exit {code}).")

    return parse


# --- running ------------------------------------------------------------------------------


class RcloneCall(QObject):
    """One rclone command in a QProcess. Emits ``line`` for each line on stderr while it
    runs and ``finished`` once, with an ``Answer``."""

    finished = Signal(object)
    line = Signal(str)

    def __init__(
        self,
        argv: Sequence[str],
        parse: Callable[[int, str, str], Answer],
        *,
        stdin: bytes | None = None,
        timeout_s: float = 60,
        env: Mapping[str, str] | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.argv = list(argv)
        self._parse = parse
        self._stdin = stdin
        self._timeout_s = timeout_s
        self._out = b""
        self._err = b""
        self._partial = b""
        self._done = False
        self._proc = QProcess(self)
        self._proc.setProgram(self.argv[0])
        self._proc.setArguments(self.argv[1:])
        if env is not None:
            qenv = QProcessEnvironment()
            for k, v in env.items():
                qenv.insert(k, v)
            self._proc.setProcessEnvironment(qenv)
        if stdin is None:
            self._proc.setStandardInputFile(QProcess.nullDevice())
        self._proc.readyReadStandardOutput.connect(self._read_out)
        self._proc.readyReadStandardError.connect(self._read_err)
        self._proc.finished.connect(self._finished)
        self._proc.errorOccurred.connect(self._error)
        self._proc.started.connect(self._started)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._timed_out)

    @property
    def running(self) -> bool:
        return not self._done

    def start(self) -> RcloneCall:
        log.debug("running %s", redact(" ".join(self.argv[:3])))
        if self._timeout_s > 0:
            self._timer.start(int(self._timeout_s * 1000))
        self._proc.start()
        return self

    def cancel(self) -> None:
        """Stop rclone now; ``finished`` carries a cancelled Answer."""
        self._end(Answer(False, None, "Cancelled.", cancelled=True))

    def _started(self) -> None:
        if self._stdin is not None:
            self._proc.write(QByteArray(self._stdin))
            self._proc.closeWriteChannel()

    def _read_out(self) -> None:
        self._out += bytes(self._proc.readAllStandardOutput().data())

    def _read_err(self) -> None:
        chunk = self._partial + bytes(self._proc.readAllStandardError().data())
        *lines, self._partial = chunk.split(b"\n")
        for raw in lines:
            self._err += raw + b"\n"
            self.line.emit(raw.decode("utf-8", "replace").rstrip("\r"))

    def _finished(self, code: int, status: QProcess.ExitStatus) -> None:
        if self._done:
            return
        self._read_out()
        self._read_err()
        if self._partial:
            self._err += self._partial
            self.line.emit(self._partial.decode("utf-8", "replace"))
            self._partial = b""
        crashed = status == QProcess.ExitStatus.CrashExit
        out = self._out.decode("utf-8", "replace")
        err = self._err.decode("utf-8", "replace")
        try:
            answer = self._parse(-1 if crashed else int(code), out, err)
        except Exception:  # a parser bug must not leave the dialog spinning
            log.exception("could not read rclone's answer to %s", self.argv[1:2])
            answer = Answer(False, None, "Skylift could not read rclone's answer.")
        self._end(answer)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._end(
                Answer(False, None, f"rclone could not be started ({self._proc.errorString()}).")
            )

    def _timed_out(self) -> None:
        self._end(
            Answer(False, None, f"rclone did not answer within {self._timeout_s:.0f} seconds.")
        )

    def _end(self, answer: Answer) -> None:
        if self._done:
            return
        self._done = True
        self._timer.stop()
        if self._proc.state() != QProcess.ProcessState.NotRunning:
            self._proc.kill()
            self._proc.waitForFinished(2000)  # reap it; a killed process ends at once
        self.finished.emit(answer)


class _Failed(QObject):
    """Stands in for a call that could not even start; answers on the next loop turn."""

    finished = Signal(object)
    line = Signal(str)

    def __init__(self, message: str, parent: QObject | None = None):
        super().__init__(parent)
        self._answer = Answer(False, None, message)
        self._done = False

    @property
    def running(self) -> bool:
        return not self._done

    def start(self) -> _Failed:
        QTimer.singleShot(0, self._emit)
        return self

    def cancel(self) -> None:
        self._done = True

    def _emit(self) -> None:
        if not self._done:
            self._done = True
            self.finished.emit(self._answer)


Call = RcloneCall | _Failed


def locate(setting: str = "") -> str | None:
    """The rclone program that would be used (no process is run)."""
    for path in rclone_binary.candidates(setting):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def not_found_message(setting: str) -> str:
    if setting:
        return (
            f"rclone_path is set to {setting}, which is not an executable program; "
            "choose the rclone program, or leave the field empty to search for it."
        )
    return f"rclone was not found; {rclone_binary.UPGRADE_HINT}."


class RcloneQueries(QObject):
    """Starts the settings dialog's rclone calls; each returns a started call whose
    ``finished`` signal carries an ``Answer``."""

    def __init__(self, rclone_setting: str = "", parent: QObject | None = None):
        super().__init__(parent)
        self.rclone_setting = rclone_setting

    def _run(
        self,
        build: Callable[[str], list[str]],
        parse: Callable[[int, str, str], Answer],
        *,
        stdin: bytes | None = None,
        timeout_s: float = 60,
        check_password: bool = True,
    ) -> Call:
        path = locate(self.rclone_setting)
        if path is None:
            return _Failed(not_found_message(self.rclone_setting), self).start()
        try:
            env = rclone_binary.child_environment(check_password=check_password)
            argv = build(path)
        except (rclone_binary.RcloneError, ValueError) as e:
            return _Failed(str(e), self).start()
        return RcloneCall(
            argv, parse, stdin=stdin, timeout_s=timeout_s, env=env, parent=self
        ).start()

    def version(self) -> Call:
        path = locate(self.rclone_setting) or ""

        def parse(code: int, out: str, err: str) -> Answer:
            return parse_version(out, path)

        return self._run(version_args, parse, timeout_s=20, check_password=False)

    def remotes(self) -> Call:
        return self._run(listremotes_args, answer_remotes, timeout_s=30)

    def folders(self, remote: str, path: str) -> Call:
        return self._run(
            lambda r: lsdirs_args(r, remote, path), answer_dirs(remote, path), timeout_s=90
        )

    def test(self, remote: str, path: str) -> Call:
        try:
            parse = answer_test(remote, path)
        except ValueError as e:
            return _Failed(str(e), self).start()
        return self._run(lambda r: test_args(r, remote, path), parse, timeout_s=90)

    def obscure(self, secret: str) -> Call:
        def parse(code: int, out: str, err: str) -> Answer:
            value = out.strip()
            if code != 0 or not value:
                text = error_text(err, action="obscure the secret")
                return Answer(False, None, text or "rclone could not obscure it.")
            return Answer(True, value)

        return self._run(obscure_args, parse, stdin=secret.encode() + b"\n", timeout_s=20)

    def create(self, name: str, type_: str, params: Mapping[str, str], *, obscured: bool) -> Call:
        # OAuth waits for a person in a browser: no timeout; the dialog can cancel
        timeout = 0 if backend(type_).oauth else 90
        return self._run(
            lambda r: config_create_args(r, name, type_, params, obscured=obscured),
            answer_create(name),
            timeout_s=timeout,
        )

    def delete(self, name: str) -> Call:
        def parse(code: int, out: str, err: str) -> Answer:
            return Answer(code == 0, name, error_text(err, name, "delete the remote"))

        return self._run(lambda r: config_delete_args(r, name), parse, timeout_s=20)


class RemoteCreation(QObject):
    """Creates a remote: first obscures its passwords (through stdin), then runs
    ``rclone config create``. ``link`` carries the sign-in address of an OAuth backend
    in case the browser did not open by itself."""

    finished = Signal(object)
    link = Signal(str)

    def __init__(
        self,
        queries: RcloneQueries,
        name: str,
        type_: str,
        params: Mapping[str, str],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._q = queries
        self.name = name
        self.type = type_
        self._params = {k: v for k, v in params.items() if v != ""}
        self._secret_keys = [
            f.key for f in backend(type_).fields if f.secret and self._params.get(f.key)
        ]
        self._call: Call | None = None
        self._done = False

    @property
    def running(self) -> bool:
        return not self._done

    def start(self) -> RemoteCreation:
        self._next()
        return self

    def cancel(self) -> None:
        if self._done:
            return
        call, self._call = self._call, None
        if call is not None:
            call.finished.disconnect()
            call.cancel()
        self._finish(Answer(False, None, "Cancelled; no remote was created.", cancelled=True))

    def _next(self) -> None:
        if self._secret_keys:
            key = self._secret_keys.pop(0)
            call = self._q.obscure(self._params[key])
            call.finished.connect(lambda a, key=key: self._obscured(key, a))
        else:
            call = self._q.create(self.name, self.type, self._params, obscured=True)
            call.line.connect(self._line)
            call.finished.connect(self._finish)
        self._call = call

    def _obscured(self, key: str, answer: Answer) -> None:
        if not answer.ok:
            self._finish(answer)
            return
        self._params[key] = str(answer.value)
        self._next()

    def _line(self, text: str) -> None:
        url = oauth_url(text)
        if url:
            self.link.emit(url)

    def _finish(self, answer: Answer) -> None:
        if self._done:
            return
        self._done = True
        self._call = None
        self.finished.emit(answer)
