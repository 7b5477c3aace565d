"""Checking remote copies: arguments, rclone's listings (recorded), and the verdicts."""

from __future__ import annotations

import pytest

from skylift.core.verify import (
    MISSING,
    Entry,
    common_hash,
    compare,
    describe,
    local_args,
    parse_listing,
    remote_args,
)

# `rclone lsjson --hash -R --files-only --no-mimetype --no-modtime --files-from-raw LIST`
# against `rclone serve sftp` (remote with md5sum/sha1sum), and against `rclone serve
# webdav`; the same bytes from rclone 1.60.1 and 1.75.2.
SFTP = """[
{"Path":"a.jpg","Name":"a.jpg","Size":1000,"ModTime":"","IsDir":false,"Hashes":{"md5":"bab2008d4db954d4615f1265bea3b9c8","sha1":"538522f9c9a09320c59e0b7c51bf3aa1e918e022"}},
{"Path":"sub/b.jpg","Name":"b.jpg","Size":2000,"ModTime":"","IsDir":false,"Hashes":{"md5":"6f66ac214937a27f9729a8efdde46b5d","sha1":"fd5437ba89a2b1c4862f79dd6c3feccf69510e6d"}}
]
"""
WEBDAV = """[
{"Path":"a.jpg","Name":"a.jpg","Size":1000,"ModTime":"","IsDir":false},
{"Path":"sub","Name":"sub","Size":-1,"ModTime":"","IsDir":true},
{"Path":"sub/b.jpg","Name":"b.jpg","Size":2000,"ModTime":"","IsDir":false}
]
"""
# `rclone lsjson --hash-type=md5 ...` of the local files
LOCAL_MD5 = """[
{"Path":"a.jpg","Name":"a.jpg","Size":1000,"ModTime":"","IsDir":false,"Hashes":{"md5":"bab2008d4db954d4615f1265bea3b9c8"}},
{"Path":"sub/b.jpg","Name":"b.jpg","Size":2000,"ModTime":"","IsDir":false,"Hashes":{"md5":"6f66ac214937a27f9729a8efdde46b5d"}}
]
"""
SIZES = {"a.jpg": 1000, "sub/b.jpg": 2000}


def test_arguments_name_the_files_in_a_list_and_never_a_flag() -> None:
    argv = remote_args("rclone", "dropbox:/Photos", "/run/c.list")
    assert argv[:3] == ["rclone", "lsjson", "dropbox:/Photos"]
    assert "--files-from-raw=/run/c.list" in argv and "--hash" in argv and "-R" in argv
    local = local_args("rclone", "/home/u/Export", "/run/c.list", "md5")
    assert local[2] == "/home/u/Export" and "--hash-type=md5" in local
    with pytest.raises(ValueError):
        local_args("rclone", "-rf", "/run/c.list", "md5")
    with pytest.raises(ValueError):
        remote_args("rclone", "--config=x", "/run/c.list")


def test_listings_are_read_and_folders_left_out() -> None:
    assert set(parse_listing(WEBDAV)) == {"a.jpg", "sub/b.jpg"}
    sftp = parse_listing(SFTP)
    b = sftp["sub/b.jpg"]
    assert b.size == 2000 and b.hashes["md5"] == "6f66ac214937a27f9729a8efdde46b5d"
    assert set(b.hashes) == {"md5", "sha1"}
    assert parse_listing("") == {}
    with pytest.raises(ValueError):
        parse_listing("{}")


def test_the_hash_used_is_one_every_file_has() -> None:
    assert common_hash(parse_listing(SFTP).values()) == "md5"
    assert common_hash(parse_listing(WEBDAV).values()) is None
    assert common_hash([Entry(1, {"sha1": "x", "md5": "y"}), Entry(1, {"sha1": "z"})]) == "sha1"
    assert common_hash([]) is None


def test_matching_copies_are_verified_by_hash() -> None:
    verdicts = compare(SIZES, parse_listing(SFTP), "md5", parse_listing(LOCAL_MD5))
    assert all(v.ok and v.verified == "hash:md5" for v in verdicts.values())
    assert verdicts["a.jpg"].hash == "md5:bab2008d4db954d4615f1265bea3b9c8"


def test_a_different_hash_missing_file_or_size_is_a_mismatch() -> None:
    remote = parse_listing(SFTP)
    local = parse_listing(LOCAL_MD5.replace("bab2008d", "00000000"))
    verdicts = compare({**SIZES, "c.jpg": 5}, remote, "md5", local)
    assert verdicts["sub/b.jpg"].ok
    assert not verdicts["a.jpg"].ok and "MD5 does not match" in str(verdicts["a.jpg"].message)
    assert verdicts["c.jpg"].message == MISSING
    by_size = compare({"a.jpg": 999}, parse_listing(WEBDAV))
    assert "1,000 bytes, not 999" in str(by_size["a.jpg"].message)


def test_without_a_hash_the_size_decides() -> None:
    verdicts = compare(SIZES, parse_listing(WEBDAV))
    assert {v.verified for v in verdicts.values()} == {"size"}
    assert describe("size").startswith("Verified (size")
    assert describe("hash:sha1") == "Verified (SHA1)"
    assert describe(None) == ""
