"""From paths given by a person (files and folders) to files to queue.

A folder keeps its own name and structure under the destination, as a file manager
would copy it: ``Wedding/`` sent to ``dropbox:/Photos`` lands in
``dropbox:/Photos/Wedding/...``; a file lands directly in the destination.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from skylift.core.rclone_args import destination_for, join_remote

# Files that cameras, operating systems and editors leave in folders; never photos.
_JUNK = {"thumbs.db", "desktop.ini", ".ds_store"}


@dataclass(frozen=True)
class Planned:
    path: Path
    destination: str
    size: int
    mtime: float


@dataclass(frozen=True)
class Rejected:
    path: str
    reason: str
    missing: bool = False  # the path does not exist at all (bad input)


def _skip_in_folder(name: str) -> bool:
    return name.startswith(".") or name.lower() in _JUNK


def _check_file(path: Path) -> tuple[os.stat_result | None, str | None]:
    try:
        st = os.stat(path)  # follows symlinks: a link to a photo uploads the photo
    except FileNotFoundError:
        if os.path.islink(path):
            return None, "is a broken symbolic link"
        return None, "does not exist"
    except OSError as e:
        return None, f"cannot be read ({e.strerror})"
    if stat.S_ISDIR(st.st_mode):
        return st, None
    if not stat.S_ISREG(st.st_mode):
        return None, "is not a regular file (a pipe, socket or device cannot be uploaded)"
    if not os.access(path, os.R_OK):
        return None, "cannot be read (permission denied)"
    return st, None


def _walk(top: Path, dest_root: str) -> Iterator[tuple[Path, str]]:
    """Files below ``top``, each with where it goes: ``dest_root`` + its folder parts
    relative to ``top``'s parent + its name."""
    for folder, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _skip_in_folder(d))
        here = Path(folder)
        dest_folder = join_remote(dest_root, *here.relative_to(top.parent).parts)
        for name in sorted(files):
            if not _skip_in_folder(name):
                yield here / name, join_remote(dest_folder, name)


def plan(
    paths: Iterable[str | os.PathLike[str]], dest_root: str, cwd: str | None = None
) -> tuple[list[Planned], list[Rejected]]:
    planned: list[Planned] = []
    rejected: list[Rejected] = []
    seen: set[tuple[str, str]] = set()  # a file may go to two places, not twice to one
    base = cwd or os.getcwd()
    for given in paths:
        raw = os.fspath(given)
        path = Path(os.path.normpath(os.path.join(base, os.path.expanduser(raw))))
        st, problem = _check_file(path)
        if st is None:
            rejected.append(Rejected(raw, problem or "cannot be used", problem == "does not exist"))
            continue
        if stat.S_ISDIR(st.st_mode):
            found = 0
            for file, dest in _walk(path, dest_root):
                fst, why = _check_file(file)
                if fst is None or stat.S_ISDIR(fst.st_mode):
                    rejected.append(Rejected(str(file), why or "is a folder"))
                    continue
                found += 1
                if (key := (str(file), dest)) not in seen:
                    seen.add(key)
                    planned.append(Planned(file, dest, fst.st_size, fst.st_mtime))
            if not found:
                rejected.append(Rejected(raw, "is a folder with no files in it"))
            continue
        dest_file = destination_for(path, dest_root)
        if (key := (str(path), dest_file)) not in seen:
            seen.add(key)
            planned.append(Planned(path, dest_file, st.st_size, st.st_mtime))
    return planned, rejected
