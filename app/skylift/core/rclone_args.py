"""Pure functions that turn queued files into rclone command lines.

Nothing here runs anything, so all of it is unit-tested without a binary.
Local paths are always absolute and remote paths always carry their ``remote:``
prefix, so no file name can be read by rclone as a flag.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath, PurePosixPath

# Flags every upload gets. Skylift owns retrying, so rclone makes one attempt.
COMMON_FLAGS = (
    "--use-json-log",
    "-v",
    "--stats=0.5s",
    "--stats-file-name-length=0",
    "--retries=1",
    "--ask-password=false",
    "--copy-links",  # a symlink to a photo uploads the photo, not nothing
)


def split_remote(destination: str) -> tuple[str, str]:
    """``'dropbox:/Photos/a.jpg'`` -> ``('dropbox', '/Photos/a.jpg')``."""
    name, sep, path = destination.partition(":")
    if not sep or not name:
        raise ValueError(f"not a remote destination: {destination!r}")
    return name, path


def join_remote(root: str, *parts: str) -> str:
    """Join folder names onto ``remote:path`` without doubling slashes."""
    name, path = split_remote(root)
    for part in parts:
        if not part:
            continue
        path = posixpath.join(path, part) if path else part
    return f"{name}:{path}"


def destination_for(local: PurePath, dest_root: str, rel_parts: Sequence[str] = ()) -> str:
    """Where a local file goes: ``dest_root`` + its folder parts + its own name."""
    return join_remote(dest_root, *rel_parts, local.name)


@dataclass(frozen=True)
class Roots:
    """A job seen as ``source_root/rel`` -> ``dest_root/rel``."""

    source: str
    dest: str
    rel: str


def roots(local: PurePath, destination: str) -> Roots:
    """Split a job into the widest source and destination roots that share its tail.

    ``/x/Wedding/a.jpg -> dropbox:/Photos/Wedding/a.jpg`` becomes
    ``/x`` and ``dropbox:/Photos`` with ``Wedding/a.jpg`` in between, so every file
    of a dropped folder tree travels in one rclone process.
    """
    name, rpath = split_remote(destination)
    leaf = local.name
    rdir = rpath[: len(rpath) - len(leaf)]
    if leaf and rpath.endswith(leaf) and (not rdir or rdir.endswith("/")):
        # the files of one folder share their roots: worked out once per folder
        source, dest, tail = _folder_roots(local.parent, name, rdir)
        return Roots(source, dest, f"{tail}/{leaf}" if tail else leaf)
    return _split(list(local.parts), name, list(PurePosixPath(rpath).parts), destination, local)


@functools.lru_cache(maxsize=1024)
def _folder_roots(lparent: PurePath, name: str, rdir: str) -> tuple[str, str, str]:
    """``roots`` of any file named the same on both sides of these two folders."""
    marker = "\0"  # stands for the file's name: never part of a real path
    r = _split(
        [*lparent.parts, marker],
        name,
        [*PurePosixPath(rdir or ".").parts, marker],
        f"{name}:{rdir}",
        lparent,
    )
    return r.source, r.dest, r.rel[: -len(marker)].rstrip("/")


def _split(
    lparts: list[str], name: str, rparts: list[str], destination: str, local: object
) -> Roots:
    if not lparts or not rparts or lparts[-1] != rparts[-1]:
        raise ValueError(f"{destination!r} does not end in the name of {str(local)!r}")
    n = 1
    # never consume a root ("/" or a drive) on either side
    while (
        n < len(lparts) - 1
        and n < len(rparts) - (1 if rparts[0] == "/" else 0)
        and lparts[-1 - n] == rparts[-1 - n]
    ):
        n += 1
    rel = "/".join(lparts[-n:])
    source = str(PurePath(*lparts[:-n]))
    rest = rparts[:-n]
    dest_path = "/" + "/".join(rest[1:]) if rest and rest[0] == "/" else "/".join(rest)
    return Roots(source, f"{name}:{dest_path}", rel)


def listable(rel: str) -> bool:
    """Whether a name can be carried in a --files-from-raw list (one name a line)."""
    return "\n" not in rel and "\r" not in rel


def files_list(rels: Iterable[str]) -> bytes:
    return "".join(f"{r}\n" for r in rels).encode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class Options:
    transfers: int = 4
    bwlimit: str = ""
    checksum: bool = False  # compare by hash, not by size and time, to skip identical files
    force: bool = False  # send even what looks identical (a remote copy found not to match)
    extra: Sequence[str] = field(default_factory=tuple)
    remote_type: str = ""  # the destination's kind of storage ("sftp", "s3"; "" unknown)


def _tuning(opts: Options) -> list[str]:
    args = [f"--transfers={opts.transfers}"]
    if opts.bwlimit:
        args.append(f"--bwlimit={opts.bwlimit}")
    if opts.force:
        args.append("--ignore-times")
    elif opts.checksum:
        args.append("--checksum")
    return [*args, *opts.extra]


def check_paths(local_root: str, dest: str) -> None:
    """Refuse a relative local path or a destination that could be read as a flag."""
    if not PurePath(local_root).is_absolute():
        raise ValueError(f"local paths given to rclone must be absolute: {local_root!r}")
    split_remote(dest)  # 'name:...' can never start with '-'
    if dest.startswith("-"):
        raise ValueError(f"remote names cannot start with '-': {dest!r}")


# Up to this many files, rclone looks each one up on the remote (--no-traverse) rather
# than listing the destination: one lookup per file beats listing a big folder for a
# few files, but for a large batch the lookups cost more than one listing (measured:
# +0.57 s for 1,000 files into an empty folder, see docs/performance.md).
NO_TRAVERSE_MAX = 100


def _traverse(files: int, opts: Options) -> list[str]:
    """``--no-traverse`` when looking the batch's files up beats listing their folder.

    On SFTP, each lookup that runs beside the transfers takes an SSH connection of its
    own, and rclone opens new connections at most ten a second: 40 photos of 2 MB took
    1.2 s with lookups and 0.6 s with a listing, on loopback against OpenSSH and against
    rclone's own server alike (docs/performance.md). There, files are looked up only
    when there are no more of them than transfers: their lookups open the connections
    the transfers then reuse.
    """
    if files > NO_TRAVERSE_MAX or (opts.remote_type == "sftp" and files > opts.transfers):
        return []
    return ["--no-traverse"]


def copy_batch(
    rclone: str,
    source_root: str,
    dest_root: str,
    list_file: str,
    opts: Options,
    files: int = 1,
) -> list[str]:
    """One ``rclone copy`` for ``files`` files named in a --files-from-raw list."""
    check_paths(source_root, dest_root)
    check_paths(list_file, dest_root)
    return [
        rclone,
        "copy",
        source_root,
        dest_root,
        f"--files-from-raw={list_file}",
        *_traverse(files, opts),
        *COMMON_FLAGS,
        *_tuning(opts),
    ]


def copy_single(rclone: str, local: str, destination: str, opts: Options) -> list[str]:
    """``rclone copyto`` for one file: the fallback for names a list cannot carry."""
    check_paths(local, destination)
    return [rclone, "copyto", local, destination, *COMMON_FLAGS, *_tuning(opts)]
