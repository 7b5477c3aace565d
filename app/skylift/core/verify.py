"""Checking that the remote holds what was sent.

Two ``rclone lsjson`` calls per group of files: the remote's listing with the hashes it
keeps (or computes, as sftp does), then, if it has one, the same hash of the local files,
computed by rclone. A remote without hashes (WebDAV, for one) is checked by size. Both
calls name the files in a ``--files-from-raw`` list, as uploads do.

The functions here are pure: the engine runs the commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from skylift.core.rclone_args import check_paths

# Hashes rclone's local backend computes, cheapest and most common first: the first one
# the remote offers for every file is used.
PREFERRED = ("md5", "sha1", "crc32", "sha256", "dropbox", "quickxor", "whirlpool", "sha512")

_LISTING_FLAGS = (
    "-R",
    "--files-only",
    "--no-mimetype",
    "--no-modtime",
    "--use-json-log",
    "--ask-password=false",
    "--retries=1",
)

MISSING = "The remote has no copy of this file."


def remote_args(rclone: str, dest_root: str, list_file: str) -> list[str]:
    """List the uploaded files on the remote with every hash it has for them."""
    check_paths(list_file, dest_root)
    return [rclone, "lsjson", dest_root, f"--files-from-raw={list_file}", "--hash", *_LISTING_FLAGS]


def local_args(rclone: str, source_root: str, list_file: str, hash_type: str) -> list[str]:
    """Have rclone compute one hash of the local files (the one the remote has)."""
    check_paths(source_root, "local:")
    check_paths(list_file, "local:")
    return [
        rclone,
        "lsjson",
        source_root,
        f"--files-from-raw={list_file}",
        f"--hash-type={hash_type}",
        *_LISTING_FLAGS,
    ]


@dataclass(frozen=True)
class Entry:
    size: int
    hashes: Mapping[str, str] = field(default_factory=dict)


def parse_listing(stdout: str) -> dict[str, Entry]:
    """``rclone lsjson`` output -> {relative path: Entry}; raises ValueError if unreadable."""
    data = json.loads(stdout or "[]")
    if not isinstance(data, list):
        raise ValueError("not a listing")
    out: dict[str, Entry] = {}
    for item in data:
        if not isinstance(item, dict) or item.get("IsDir"):
            continue
        hashes = item.get("Hashes") or {}
        out[str(item["Path"])] = Entry(
            int(item.get("Size", -1)),
            {str(k).lower(): str(v).lower() for k, v in hashes.items() if v},
        )
    return out


def common_hash(entries: Iterable[Entry]) -> str | None:
    """A hash type the remote gave for every file, or None (check by size only)."""
    listed = list(entries)
    if not listed:
        return None
    shared = set(listed[0].hashes)
    for e in listed[1:]:
        shared &= set(e.hashes)
    for name in PREFERRED:
        if name in shared:
            return name
    return None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    verified: str  # "hash:md5", "size" or "mismatch"
    hash: str | None = None  # "md5:…" for the record of what was uploaded
    message: str | None = None


def compare(
    local_sizes: Mapping[str, int],
    remote: Mapping[str, Entry],
    hash_type: str | None = None,
    local: Mapping[str, Entry] | None = None,
) -> dict[str, Verdict]:
    """One verdict per local file: does the remote copy match it?"""
    out: dict[str, Verdict] = {}
    for rel, size in local_sizes.items():
        r = remote.get(rel)
        if r is None:
            out[rel] = Verdict(False, "mismatch", None, MISSING)
            continue
        if r.size >= 0 and r.size != size:
            out[rel] = Verdict(
                False,
                "mismatch",
                None,
                f"The copy on the remote is {r.size:,} bytes, not {size:,}; "
                "Retry sends the file again.",
            )
            continue
        if hash_type and local is not None:
            theirs = r.hashes.get(hash_type)
            mine = local[rel].hashes.get(hash_type) if rel in local else None
            if theirs and mine:
                if theirs != mine:
                    out[rel] = Verdict(
                        False,
                        "mismatch",
                        None,
                        f"The copy on the remote differs from this file ({hash_type.upper()} "
                        "does not match); Retry sends the file again.",
                    )
                else:
                    out[rel] = Verdict(True, f"hash:{hash_type}", f"{hash_type}:{mine}")
                continue
        out[rel] = Verdict(True, "size")
    return out


def describe(verified: str | None, short: bool = False) -> str:
    """Words for a job's verification: for tooltips and the CLI, or ``short`` for a
    table column."""
    if not verified:
        return ""
    if verified.startswith("hash:"):
        kind = verified[5:].upper()
        return f"✓ {kind}" if short else f"Verified ({kind})"
    words = {
        "size": ("✓ Size", "Verified (size; the remote keeps no checksum)"),
        "mismatch": ("Does not match", "The remote copy does not match"),
        "checking": ("Checking…", "Checking the remote copy"),
        "unverified": ("Not checked", "Not checked"),
    }
    pair = words.get(verified)
    return verified if pair is None else pair[0 if short else 1]
