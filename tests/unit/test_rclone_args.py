"""Building rclone command lines: remote paths, batch roots, list files and argv."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from skylift.core.rclone_args import (
    COMMON_FLAGS,
    Options,
    Roots,
    copy_batch,
    copy_single,
    destination_for,
    files_list,
    join_remote,
    listable,
    roots,
    split_remote,
)

# --- split_remote / join_remote / destination_for -------------------------------------


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        ("dropbox:/Photos/a.jpg", ("dropbox", "/Photos/a.jpg")),
        ("dropbox:Photos/a.jpg", ("dropbox", "Photos/a.jpg")),
        ("dropbox:", ("dropbox", "")),
        ("dropbox:/", ("dropbox", "/")),
        ("my nas:Photos/12:30 shoot/a.jpg", ("my nas", "Photos/12:30 shoot/a.jpg")),
        ("loop:-n.jpg", ("loop", "-n.jpg")),
    ],
)
def test_split_remote(destination: str, expected: tuple[str, str]) -> None:
    assert split_remote(destination) == expected


@pytest.mark.parametrize("bad", ["", "/tmp/a.jpg", "a.jpg", ":s3:bucket/a.jpg", ":"])
def test_split_remote_refuses_what_is_not_a_remote(bad: str) -> None:
    with pytest.raises(ValueError, match="not a remote destination"):
        split_remote(bad)


@pytest.mark.parametrize(
    ("root", "parts", "expected"),
    [
        ("dropbox:", ("a.jpg",), "dropbox:a.jpg"),
        ("dropbox:/", ("a.jpg",), "dropbox:/a.jpg"),
        ("dropbox:/Photos", ("Wedding", "a.jpg"), "dropbox:/Photos/Wedding/a.jpg"),
        ("dropbox:/Photos/", ("a.jpg",), "dropbox:/Photos/a.jpg"),
        ("dropbox:Photos", ("", "a.jpg", ""), "dropbox:Photos/a.jpg"),
        ("dropbox:/Photos", (), "dropbox:/Photos"),
        ("dropbox:", ("-n.jpg",), "dropbox:-n.jpg"),
        ("dropbox:/P", ("b with space.jpg",), "dropbox:/P/b with space.jpg"),
    ],
)
def test_join_remote(root: str, parts: tuple[str, ...], expected: str) -> None:
    assert join_remote(root, *parts) == expected


def test_join_remote_refuses_a_local_root() -> None:
    with pytest.raises(ValueError):
        join_remote("/tmp/out", "a.jpg")


@pytest.mark.parametrize(
    ("root", "rel", "expected"),
    [
        ("dropbox:/Photos", (), "dropbox:/Photos/a.jpg"),
        ("dropbox:/Photos", ("Wedding", "day 1"), "dropbox:/Photos/Wedding/day 1/a.jpg"),
        ("dropbox:", ("Wedding",), "dropbox:Wedding/a.jpg"),
        ("dropbox:/", (), "dropbox:/a.jpg"),
    ],
)
def test_destination_for(root: str, rel: tuple[str, ...], expected: str) -> None:
    assert destination_for(PurePosixPath("/home/u/Wedding/a.jpg"), root, rel) == expected


# --- roots ------------------------------------------------------------------------------


def test_roots_of_the_documented_example() -> None:
    r = roots(PurePosixPath("/x/Wedding/a.jpg"), "dropbox:/Photos/Wedding/a.jpg")
    assert r == Roots(source="/x", dest="dropbox:/Photos", rel="Wedding/a.jpg")


@pytest.mark.parametrize(
    ("local", "destination", "expected"),
    [
        ("/home/u/a.jpg", "d:/a.jpg", Roots("/home/u", "d:/", "a.jpg")),
        ("/home/u/a.jpg", "d:a.jpg", Roots("/home/u", "d:", "a.jpg")),
        ("/a.jpg", "d:/Photos/a.jpg", Roots("/", "d:/Photos", "a.jpg")),
        # the whole remote path matches: the root of the remote becomes the dest root
        ("/Photos/W/a.jpg", "d:Photos/W/a.jpg", Roots("/", "d:", "Photos/W/a.jpg")),
        ("/home/u/Photos/a.jpg", "d:/Photos/a.jpg", Roots("/home/u", "d:/", "Photos/a.jpg")),
    ],
)
def test_roots_never_consume_a_root(local: str, destination: str, expected: Roots) -> None:
    assert roots(PurePosixPath(local), destination) == expected


@pytest.mark.parametrize(
    ("local", "destination"),
    [
        ("/x/a.jpg", "d:/Photos/b.jpg"),
        ("/x/a.jpg", "d:/Photos/A.JPG"),
        ("/x/café.jpg", "d:/" + unicodedata.normalize("NFD", "café.jpg")),
        ("/x/a.jpg", "d:"),
        ("/x/a.jpg", "not-a-remote"),
    ],
)
def test_roots_refuse_a_destination_that_is_not_the_file(local: str, destination: str) -> None:
    with pytest.raises(ValueError):
        roots(PurePosixPath(local), destination)


_SPECIAL_NAMES = [
    "-n",
    "--dry-run.jpg",
    "-",
    "b with space.jpg",
    " leading",
    "trailing ",
    "it's",
    '"quoted"',
    "café",
    "Ünïcødé",
    "日本語",
    "#1",
    "~",
    "12:30",
    "a\\b",
    "a\nb",
    "*?[x]",
    "{a}",
    "...",
    "caf\udce9",  # a Latin-1 byte that is not UTF-8, as os.fsdecode gives it
]


def _forms(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [name, unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)]
    )


_COMPONENT = (
    st.sampled_from(_SPECIAL_NAMES)
    | st.text(
        st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=10,
    ).filter(lambda s: s not in (".", ".."))
).flatmap(_forms)
_PARTS = st.lists(_COMPONENT, max_size=4)
_REMOTE = st.sampled_from(["dropbox", "my nas", "loop", "a.b-c_d"])


@st.composite
def _jobs(draw: st.DrawFn) -> tuple[str, list[str], list[str], str]:
    """(dest_root, local prefix, folder parts, file name) for one planned file."""
    prefix = draw(_PARTS)
    kind = draw(st.sampled_from(["slash", "empty", "absolute", "relative", "trailing", "echo"]))
    remote = draw(_REMOTE)
    nested = draw(st.lists(_COMPONENT, min_size=1, max_size=3))
    if kind == "echo" and prefix:
        # the remote folder ends like the local one: roots() may widen across it
        nested = [*nested, *prefix[-draw(st.integers(1, len(prefix))) :]]
    path = {
        "slash": "/",
        "empty": "",
        "absolute": "/" + "/".join(nested),
        "relative": "/".join(nested),
        "trailing": "/" + "/".join(nested) + "/",
        "echo": "/" + "/".join(nested),
    }[kind]
    return f"{remote}:{path}", prefix, draw(_PARTS), draw(_COMPONENT)


@given(_jobs())
def test_roots_rebuild_both_ends_of_a_job(job: tuple[str, list[str], list[str], str]) -> None:
    dest_root, prefix, folders, name = job
    local = PurePosixPath("/", *prefix, *folders, name)
    destination = destination_for(local, dest_root, folders)
    r = roots(local, destination)
    assert PurePosixPath(r.source) / r.rel == local
    assert join_remote(r.dest, r.rel) == destination
    assert PurePosixPath(r.source).is_absolute()
    assert split_remote(r.dest)[0] == split_remote(dest_root)[0]
    # the folder structure the person dropped is always inside rel
    assert r.rel.split("/")[-len(folders) - 1 :] == [*folders, name]


@given(_jobs())
def test_roots_are_the_widest(job: tuple[str, list[str], list[str], str]) -> None:
    dest_root, prefix, folders, name = job
    local = PurePosixPath("/", *prefix, *folders, name)
    r = roots(local, destination_for(local, dest_root, folders))
    source_parts = PurePosixPath(r.source).parts
    dest_parts = PurePosixPath(split_remote(r.dest)[1]).parts
    at_a_root = len(source_parts) <= 1 or not dest_parts or dest_parts == ("/",)
    assert at_a_root or source_parts[-1] != dest_parts[-1]


@given(_jobs(), _PARTS, _COMPONENT, _COMPONENT)
def test_files_of_one_dropped_folder_share_one_batch(
    job: tuple[str, list[str], list[str], str], deeper: list[str], other: str, folder: str
) -> None:
    """Every file of one dropped folder tree gets the same roots, so one rclone runs."""
    dest_root, prefix, folders, name = job
    top = [folder, *folders]
    a = PurePosixPath("/", *prefix, *top, name)
    b = PurePosixPath("/", *prefix, *top, *deeper, other)
    assume(a != b)
    ra = roots(a, destination_for(a, dest_root, top))
    rb = roots(b, destination_for(b, dest_root, [*top, *deeper]))
    assert (ra.source, ra.dest) == (rb.source, rb.dest)


# --- listable / files_list --------------------------------------------------------------


@pytest.mark.parametrize(
    "rel", ["a.jpg", "Wedding/b with space.jpg", "-n.jpg", " x ", "#c.jpg", "ü/é.jpg", "\t"]
)
def test_listable_names(rel: str) -> None:
    assert listable(rel)


@pytest.mark.parametrize("rel", ["a\nb.jpg", "a\rb.jpg", "a.jpg\r", "W/\n.jpg"])
def test_names_with_line_breaks_are_not_listable(rel: str) -> None:
    assert not listable(rel)


def test_files_list_is_one_name_per_line() -> None:
    rels = ["a.jpg", "Wedding/b with space.jpg", "-n.jpg", "ünïcode.jpg", " x "]
    data = files_list(rels)
    assert data == "a.jpg\nWedding/b with space.jpg\n-n.jpg\nünïcode.jpg\n x \n".encode()
    assert data.decode().split("\n")[:-1] == rels


def test_files_list_gives_back_the_original_bytes_of_non_utf8_names() -> None:
    rel = "caf\udce9.jpg"  # the on-disk name is b"caf\xe9.jpg"
    assert files_list([rel, "b.jpg"]) == b"caf\xe9.jpg\nb.jpg\n"


def test_files_list_of_nothing_is_empty() -> None:
    assert files_list([]) == b""


@given(st.lists(_COMPONENT.filter(listable), max_size=6))
def test_files_list_round_trips(rels: list[str]) -> None:
    data = files_list(rels)
    assert data.count(b"\n") == len(rels)
    assert [r.encode("utf-8", "surrogateescape") for r in rels] == data.split(b"\n")[:-1]


# --- copy_batch / copy_single -----------------------------------------------------------

_KNOWN_FLAGS = {
    "--files-from-raw",
    "--no-traverse",
    "--use-json-log",
    "-v",
    "--stats",
    "--stats-file-name-length",
    "--retries",
    "--ask-password",
    "--copy-links",
    "--transfers",
    "--bwlimit",
}


def _split(argv: list[str]) -> tuple[list[str], dict[str, str | None]]:
    """(positional arguments after the command, {flag: value or None})."""
    positional: list[str] = []
    flags: dict[str, str | None] = {}
    for arg in argv[2:]:
        if arg.startswith("-"):
            name, eq, value = arg.partition("=")
            assert name in _KNOWN_FLAGS, f"unexpected flag {arg!r}"
            assert name not in flags, f"flag given twice: {arg!r}"
            flags[name] = value if eq else None
        else:
            positional.append(arg)
    return positional, flags


def test_copy_batch_argv() -> None:
    argv = copy_batch("/usr/bin/rclone", "/home/u", "dropbox:/Photos", "/run/b.list", Options())
    assert argv[:2] == ["/usr/bin/rclone", "copy"]
    positional, flags = _split(argv)
    assert positional == ["/home/u", "dropbox:/Photos"]
    assert flags["--files-from-raw"] == "/run/b.list"
    assert flags["--no-traverse"] is None
    assert flags["--use-json-log"] is None
    assert flags["-v"] is None
    assert flags["--stats"] == "0.5s"
    assert flags["--retries"] == "1"
    assert flags["--ask-password"] == "false"  # never a hidden password prompt
    assert flags["--transfers"] == "4"
    assert "--bwlimit" not in flags


def test_copy_single_argv() -> None:
    argv = copy_single("rclone", "/home/u/a\nb.jpg", "dropbox:/Photos/a\nb.jpg", Options())
    assert argv[:2] == ["rclone", "copyto"]
    positional, flags = _split(argv)
    assert positional == ["/home/u/a\nb.jpg", "dropbox:/Photos/a\nb.jpg"]
    assert "--files-from-raw" not in flags and "--no-traverse" not in flags
    assert flags["--use-json-log"] is None
    assert (flags["--stats"], flags["--retries"], flags["--transfers"]) == ("0.5s", "1", "4")
    assert "--bwlimit" not in flags


@pytest.mark.parametrize(
    ("opts", "transfers", "bwlimit"),
    [
        (Options(transfers=1), "1", None),
        (Options(transfers=64, bwlimit="10M"), "64", "10M"),
        (Options(bwlimit="10M:off"), "4", "10M:off"),
        (
            Options(bwlimit="08:00,512k 12:00,10M 23:00,off"),
            "4",
            "08:00,512k 12:00,10M 23:00,off",
        ),
    ],
)
def test_tuning_flags_carry_their_value_in_one_argument(
    opts: Options, transfers: str, bwlimit: str | None
) -> None:
    for argv in (
        copy_batch("rclone", "/src", "d:/", "/tmp/l", opts),
        copy_single("rclone", "/src/a.jpg", "d:/a.jpg", opts),
    ):
        _, flags = _split(argv)
        assert flags["--transfers"] == transfers
        assert flags.get("--bwlimit") == bwlimit


_ABS_DIR = st.lists(_COMPONENT.filter(listable), max_size=3).map(lambda p: "/" + "/".join(p))


@given(
    source=_ABS_DIR,
    remote=_REMOTE,
    remote_path=st.sampled_from(["", "/", "-n", "/--dry-run", "Photos/-x"]),
    list_dir=_ABS_DIR,
    bwlimit=st.sampled_from(["", "10M", "08:00,512k 18:00,off", "1.5M:512k"]),
    transfers=st.integers(1, 64),
)
def test_copy_batch_only_flags_start_with_a_dash(
    source: str, remote: str, remote_path: str, list_dir: str, bwlimit: str, transfers: int
) -> None:
    dest = f"{remote}:{remote_path}"
    list_file = list_dir.rstrip("/") + "/-batch.list"
    opts = Options(transfers=transfers, bwlimit=bwlimit)
    argv = copy_batch("/opt/rclone", source, dest, list_file, opts)
    positional, flags = _split(argv)
    assert positional == [source, dest]
    assert not any(p.startswith("-") for p in positional)
    assert flags["--files-from-raw"] == list_file
    assert flags["--transfers"] == str(transfers)
    assert flags.get("--bwlimit") == (bwlimit or None)
    assert set(COMMON_FLAGS) <= set(argv)


@given(folder=_ABS_DIR, name=_COMPONENT, remote=_REMOTE)
def test_copy_single_only_flags_start_with_a_dash(folder: str, name: str, remote: str) -> None:
    local = str(PurePosixPath(folder, name))
    dest = f"{remote}:{name}"
    positional, _ = _split(copy_single("/opt/rclone", local, dest, Options()))
    assert positional == [local, dest]


@pytest.mark.parametrize("local", ["a.jpg", "-n.jpg", "./-n.jpg", "--dry-run.jpg", "", "~/a.jpg"])
def test_relative_local_paths_are_refused(local: str) -> None:
    with pytest.raises(ValueError, match="absolute"):
        copy_single("rclone", local, "d:/a.jpg", Options())
    with pytest.raises(ValueError, match="absolute"):
        copy_batch("rclone", local, "d:/", "/tmp/list", Options())
    with pytest.raises(ValueError, match="absolute"):
        copy_batch("rclone", "/src", "d:/", local, Options())


@pytest.mark.parametrize("dest", ["/tmp/out", "out", "-evil:x", "--dry-run:", ":local:/x", ""])
def test_destinations_that_are_not_remotes_or_look_like_flags_are_refused(dest: str) -> None:
    with pytest.raises(ValueError):
        copy_single("rclone", "/src/a.jpg", dest, Options())
    with pytest.raises(ValueError):
        copy_batch("rclone", "/src", dest, "/tmp/list", Options())


def test_large_batches_list_the_destination_instead_of_looking_up_each_file() -> None:
    opts = Options()
    small = copy_batch("rclone", "/src", "r:/d", "/tmp/l", opts, files=100)
    large = copy_batch("rclone", "/src", "r:/d", "/tmp/l", opts, files=101)
    assert "--no-traverse" in small
    assert "--no-traverse" not in large
    assert [a for a in large if a != "--no-traverse"] == [a for a in small if a != "--no-traverse"]


def test_on_sftp_only_a_batch_no_larger_than_the_transfers_is_looked_up_file_by_file() -> None:
    """On SFTP a lookup beside the transfers waits for a new SSH connection (rclone
    opens at most ten a second): a batch of more files than transfers lists instead."""
    sftp = Options(transfers=4, remote_type="sftp")
    assert "--no-traverse" in copy_batch("rclone", "/src", "r:/d", "/tmp/l", sftp, files=4)
    assert "--no-traverse" not in copy_batch("rclone", "/src", "r:/d", "/tmp/l", sftp, files=5)
    wide = Options(transfers=16, remote_type="sftp")
    assert "--no-traverse" in copy_batch("rclone", "/src", "r:/d", "/tmp/l", wide, files=16)
    for kind in ("s3", "drive", ""):  # elsewhere a lookup costs no connection
        opts = Options(transfers=4, remote_type=kind)
        assert "--no-traverse" in copy_batch("rclone", "/src", "r:/d", "/tmp/l", opts, files=40)


def test_checksum_and_force_choose_how_rclone_compares() -> None:
    plain_argv = copy_batch("rclone", "/h", "r:/p", "/b.list", Options())
    assert "--checksum" not in plain_argv and "--ignore-times" not in plain_argv
    by_hash = copy_batch("rclone", "/h", "r:/p", "/b.list", Options(checksum=True))
    assert "--checksum" in by_hash
    # a copy found not to match is sent whatever size, time or hash say
    forced = copy_single("rclone", "/h/a.jpg", "r:/p/a.jpg", Options(checksum=True, force=True))
    assert "--ignore-times" in forced and "--checksum" not in forced


@given(_jobs(), st.sampled_from(["", "/", "//", "/./", "x"]))
def test_roots_worked_out_per_folder_equal_roots_worked_out_per_file(
    job: tuple[str, list[str], list[str], str], mangle: str
) -> None:
    """The per-folder shortcut gives what splitting the whole paths gives, including for
    destinations written by hand with doubled slashes, dots or a different name."""
    from skylift.core.rclone_args import _split

    dest_root, prefix, folders, name = job
    local = PurePosixPath("/", *prefix, *folders, name)
    destination = destination_for(local, dest_root, folders)
    remote, rpath = split_remote(destination)
    head, _, leaf = rpath.rpartition("/")
    destination = f"{remote}:{head}{mangle}{leaf}" if mangle != "x" else destination + "x"
    rparts = list(PurePosixPath(split_remote(destination)[1]).parts)
    try:
        expected: Roots | str = _split(list(local.parts), remote, rparts, destination, local)
    except ValueError as e:
        expected = str(e)
    try:
        got: Roots | str = roots(local, destination)
    except ValueError as e:
        got = str(e)
    assert got == expected
