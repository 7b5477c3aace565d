"""Skylift's settings: defined as data, typed, validated, stored in settings.json.

Unknown keys are kept (a newer Skylift may have written them). Invalid values are
refused with a message that names the key and what it allows. A file that cannot be
parsed is moved aside to ``settings.json.bak`` and the defaults are used.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skylift.core import paths

log = logging.getLogger(__name__)


class SettingError(ValueError):
    """A value that a setting does not allow; the message is one plain sentence."""


# --- rclone's --bwlimit syntax -------------------------------------------------------

# a bare number is KiB; units B, K, M, G, T, P, optionally Ki/KiB style; "10MB" is refused
_SIZE = r"(?:\d+(?:\.\d+)?(?:[bB]|[kKmMgGtTpP](?:i[bB]?)?)?|off)"
_BANDWIDTH = re.compile(rf"^{_SIZE}(?::{_SIZE})?$", re.IGNORECASE)
_DAYS = "mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_SLOT = re.compile(rf"^(?:(?:{_DAYS})-)?([01]\d|2[0-3]):([0-5]\d),(.+)$", re.IGNORECASE)


def validate_bwlimit(value: str) -> str:
    """Check a --bwlimit value as rclone reads it: a rate, UP:DOWN, or a timetable.

    Examples rclone accepts: ``10M``, ``off``, ``1.5M:512k``,
    ``08:00,512k 12:00,10M 23:00,off``, ``Mon-08:00,1M Sat-10:00,off``.
    """
    text = value.strip()
    if not text:
        return ""
    tokens = text.split()
    if len(tokens) == 1 and "," not in tokens[0]:
        if re.fullmatch(r"\d{1,2}:\d{2}", tokens[0]):
            raise SettingError(
                f"bwlimit '{value}' looks like a time without a rate: a timetable entry "
                "is HH:MM,RATE, for example '08:00,512k'."
            )
        if _BANDWIDTH.match(tokens[0]):
            return text
        raise SettingError(
            f"bwlimit '{value}' is not a rate rclone understands: use a number with an "
            "optional unit such as 512k, 10M or 1G, UP:DOWN such as 10M:off, "
            "a timetable such as '08:00,512k 18:00,off', or leave it empty for no limit."
        )
    for token in tokens:
        m = _SLOT.match(token)
        if not m or not _BANDWIDTH.match(m.group(3)):
            raise SettingError(
                f"bwlimit timetable entry '{token}' is not valid: each entry is "
                "[Day-]HH:MM,RATE, for example '08:00,512k' or 'Mon-18:00,off'."
            )
    return " ".join(tokens)


# --- the keys -----------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(name: str) -> Callable[[Any], bool]:
    def parse(v: Any) -> bool:
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
            return v.strip().lower() in _TRUE
        raise SettingError(f"{name} must be true or false, not '{v}'.")

    return parse


def _int(name: str, lo: int, hi: int) -> Callable[[Any], int]:
    def parse(v: Any) -> int:
        try:
            if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
                raise ValueError
            n = int(v.strip()) if isinstance(v, str) else int(v)
        except (TypeError, ValueError, OverflowError):
            raise SettingError(
                f"{name} must be a whole number from {lo} to {hi}, not '{v}'."
            ) from None
        if not lo <= n <= hi:
            raise SettingError(f"{name} must be a whole number from {lo} to {hi}, not '{v}'.")
        return n

    return parse


def _float(name: str, lo: float, hi: float) -> Callable[[Any], float]:
    def parse(v: Any) -> float:
        try:
            if isinstance(v, bool):
                raise ValueError
            x = float(v.strip()) if isinstance(v, str) else float(v)
        except (TypeError, ValueError, OverflowError):
            raise SettingError(
                f"{name} must be a number of seconds from {lo:g} to {hi:g}, not '{v}'."
            ) from None
        if not (lo <= x <= hi):
            raise SettingError(
                f"{name} must be a number of seconds from {lo:g} to {hi:g}, not '{v}'."
            )
        return x

    return parse


def _text(name: str) -> Callable[[Any], str]:
    def parse(v: Any) -> str:
        if not isinstance(v, str):
            raise SettingError(f"{name} must be text, not '{v}'.")
        if "\n" in v or "\r" in v or "\0" in v:
            raise SettingError(f"{name} must be a single line of text.")
        return v

    return parse


_REMOTE_NAME = re.compile(r"^[\w.+@][\w.+@ -]*$")


def validate_remote(v: Any) -> str:
    if not isinstance(v, str):
        raise SettingError(f"remote must be the name of an rclone remote, not '{v}'.")
    name = v.strip()
    if name.endswith(":"):  # people paste "dropbox:" as rclone prints it
        name = name[:-1]
    if name and (not _REMOTE_NAME.match(name) or name.endswith(" ")):
        raise SettingError(
            f"remote '{v}' is not an rclone remote name: use the name shown by "
            "'rclone listremotes' (letters, digits, '_', '-', '.', no colon)."
        )
    return name


def validate_remote_path(v: Any) -> str:
    path = _text("remote_path")(v).strip()
    return path or "/"


def validate_rclone_path(v: Any) -> str:
    p = _text("rclone_path")(v).strip()
    if p and not os.path.isabs(os.path.expanduser(p)):
        raise SettingError(
            f"rclone_path must be an absolute path to the rclone program, not '{v}'."
        )
    return os.path.expanduser(p) if p else ""


def validate_destination(v: Any, name: str = "destination") -> str:
    """``remote:path`` (the path may be empty, meaning the remote's top folder)."""
    text = _text(name)(v).strip()
    remote, sep, path = text.partition(":")
    if not sep or not remote:
        raise SettingError(
            f"{name} '{v}' is not a destination: write it as REMOTE:PATH, "
            "for example dropbox:/Clients/Smith."
        )
    return f"{validate_remote(remote)}:{path.strip() or '/'}"


AFTER_UPLOAD = ("leave", "move")


def validate_watch_folders(v: Any) -> list[dict[str, Any]]:
    """A list of {path, destination, subfolders, after_upload}; destination "" means the
    default destination (remote and remote_path)."""
    if isinstance(v, str):
        v = _json_list("watch_folders", v)
    if not isinstance(v, list):
        raise SettingError("watch_folders must be a list of folders to watch.")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in v:
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise SettingError(
                "each entry of watch_folders must have a 'path' (an absolute local folder)."
            )
        folder = os.path.expanduser(item["path"].strip())
        if not os.path.isabs(folder):
            raise SettingError(f"watch folder '{item['path']}' must be an absolute path.")
        folder = os.path.normpath(folder)
        if folder in seen:
            raise SettingError(f"watch folder '{folder}' is listed twice.")
        seen.add(folder)
        dest = item.get("destination") or ""
        after = item.get("after_upload", "leave")
        if after not in AFTER_UPLOAD:
            raise SettingError(
                f"after_upload of watch folder '{folder}' must be 'leave' or 'move', not '{after}'."
            )
        out.append(
            {
                "path": folder,
                "destination": validate_destination(dest, "watch folder destination")
                if dest
                else "",
                "subfolders": _bool("subfolders")(item.get("subfolders", True)),
                "after_upload": after,
            }
        )
    return out


def validate_presets(v: Any) -> list[dict[str, str]]:
    """A list of {name, destination}: named destinations such as a client's folder."""
    if isinstance(v, str):
        v = _json_list("presets", v)
    if isinstance(v, dict):
        v = [{"name": k, "destination": d} for k, d in v.items()]
    if not isinstance(v, list):
        raise SettingError("presets must be a list of {name, destination} entries.")
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for item in v:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise SettingError("each preset must have a 'name' and a 'destination'.")
        name = _text("preset name")(item["name"]).strip()
        if not name:
            raise SettingError("a preset name cannot be empty.")
        if name.casefold() in seen:
            raise SettingError(f"preset '{name}' is listed twice.")
        seen.add(name.casefold())
        dest = validate_destination(item.get("destination", ""), f"preset '{name}'")
        out.append({"name": name, "destination": dest})
    return out


def _json_list(name: str, text: str) -> Any:
    if not text.strip():
        return []
    try:
        return json.loads(text)
    except ValueError:
        raise SettingError(f"{name} must be given as a JSON list.") from None


_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|M|y))+$")


def validate_expire(v: Any) -> str:
    """rclone's duration syntax for ``rclone link --expire``: 1h, 7d, 2w, 1h30m; "" none."""
    text = _text("link_expire")(v).strip()
    if text and not _DURATION.match(text):
        raise SettingError(
            f"link_expire '{v}' is not a duration: use a number and a unit, such as "
            "12h, 7d or 2w, or leave it empty for links that do not expire."
        )
    return text


def find_preset(settings: Settings, name: str) -> str | None:
    """The destination of the preset called ``name`` (case does not matter)."""
    for p in settings["presets"]:
        if p["name"].casefold() == name.strip().casefold():
            return str(p["destination"])
    return None


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    parse: Callable[[Any], Any]
    help: str


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key("enabled", True, _bool("enabled"), "false: files are queued but not uploaded"),
        Key("remote", "", validate_remote, "rclone remote name, e.g. dropbox (no colon)"),
        Key("remote_path", "/", validate_remote_path, "folder on the remote"),
        Key("transfers", 4, _int("transfers", 1, 64), "parallel file transfers"),
        Key("bwlimit", "", validate_bwlimit, "rclone --bwlimit; empty for none"),
        Key("retries", 3, _int("retries", 0, 20), "automatic retries per file"),
        Key("retry_delay", 10.0, _float("retry_delay", 0, 600), "first retry delay, seconds"),
        Key("rclone_path", "", validate_rclone_path, "rclone program; empty to discover"),
        Key("notify", True, _bool("notify"), "desktop notifications"),
        Key("notify_failures", True, _bool("notify_failures"), "notify about failed uploads"),
        Key("start_at_login", False, _bool("start_at_login"), "start Skylift at login"),
        Key(
            "stall_timeout",
            120,
            _int("stall_timeout", 0, 3600),
            "seconds without progress before a transfer is restarted; 0 never",
        ),
        Key("watch_folders", [], validate_watch_folders, "hot folders (JSON list)"),
        Key(
            "settle_seconds",
            5.0,
            _float("settle_seconds", 0.5, 3600),
            "seconds a watched file must stay unchanged before it is queued",
        ),
        Key("presets", [], validate_presets, "named destinations (JSON list)"),
        Key(
            "skip_uploaded",
            True,
            _bool("skip_uploaded"),
            "an unchanged file already uploaded finishes at once",
        ),
        Key("checksum", False, _bool("checksum"), "compare files by checksum (--checksum)"),
        Key("verify", False, _bool("verify"), "check each remote copy after upload"),
        Key("link_expire", "", validate_expire, "share links expire after, e.g. 7d; empty never"),
    )
}


def parse_value(name: str, value: Any) -> Any:
    """Return ``value`` converted and checked for setting ``name``."""
    key = KEYS.get(name)
    if key is None:
        raise SettingError(
            f"'{name}' is not a Skylift setting; the settings are: {', '.join(KEYS)}."
        )
    return key.parse(value)


class Settings:
    """The settings of one profile. Reads and writes ``settings.json``."""

    def __init__(self, values: dict[str, Any] | None = None, path: Path | None = None):
        self.path = path
        self.warnings: list[str] = []
        self._values: dict[str, Any] = {k.name: copy.deepcopy(k.default) for k in KEYS.values()}
        for name, value in (values or {}).items():
            self[name] = value

    # mapping-style access
    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __setitem__(self, name: str, value: Any) -> None:
        if name == "provider":  # accepted as a synonym by the Python API
            name = "remote"
        self._values[name] = parse_value(name, value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @property
    def destination_root(self) -> str:
        """``remote:path`` where uploads go, or "" when no remote is chosen."""
        if not self["remote"]:
            return ""
        return f"{self['remote']}:{self['remote_path']}"

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or paths.settings_file()
        self = cls(path=path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return self
        except OSError as e:
            self._warn(f"Could not read settings file {path} ({e.strerror}); using defaults.")
            return self
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:
            backup = path.with_name(path.name + ".bak")
            try:
                os.replace(path, backup)
                where = f"it was moved to {backup}"
            except OSError as e:
                where = f"it could not be moved aside ({e.strerror})"
            self._warn(f"The settings file {path} was unreadable; {where} and defaults are used.")
            return self
        for name, value in data.items():
            if name not in KEYS:
                self._values[name] = value  # kept for whoever wrote it
                continue
            try:
                self[name] = value
            except SettingError as e:
                self._warn(f"Ignored an invalid value in {path}: {e}")
        return self

    def save(self) -> None:
        if self.path is None:
            return
        data = json.dumps(self._values, indent=2, sort_keys=True) + "\n"
        paths.write_private(self.path, data.encode())

    def _warn(self, message: str) -> None:
        log.warning("%s", message)
        self.warnings.append(message)
