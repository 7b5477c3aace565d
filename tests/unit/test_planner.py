"""From the paths a person drops or types to the files that get queued."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skylift.core.planner import Planned, Rejected, plan

DEST = "dropbox:/Photos"


def write(path: Path, size: int = 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


def destinations(planned: list[Planned]) -> list[str]:
    return [p.destination for p in planned]


def test_a_file_lands_directly_in_the_destination(tmp_path: Path) -> None:
    f = write(tmp_path / "a.jpg", 1234)
    planned, rejected = plan([f], DEST)
    assert rejected == []
    (p,) = planned
    st = f.stat()
    assert p == Planned(f, "dropbox:/Photos/a.jpg", 1234, st.st_mtime)


def test_files_keep_the_order_given(tmp_path: Path) -> None:
    files = [write(tmp_path / n) for n in ("c.jpg", "a.jpg", "b.jpg")]
    planned, _ = plan(files, DEST)
    assert [p.path for p in planned] == files


@pytest.mark.parametrize(
    ("dest", "expected"),
    [("d:", "d:a.jpg"), ("d:/", "d:/a.jpg"), ("d:Photos/", "d:Photos/a.jpg")],
)
def test_destination_roots(tmp_path: Path, dest: str, expected: str) -> None:
    planned, _ = plan([write(tmp_path / "a.jpg")], dest)
    assert destinations(planned) == [expected]


def test_a_folder_keeps_its_name_and_structure(tmp_path: Path) -> None:
    root = tmp_path / "Wedding"
    write(root / "a.jpg")
    write(root / "ceremony" / "b.jpg")
    write(root / "ceremony" / "rings" / "c with space.jpg")
    write(root / "ünïcode" / "d.jpg")
    planned, rejected = plan([root], DEST)
    assert rejected == []
    assert sorted(destinations(planned)) == [
        "dropbox:/Photos/Wedding/a.jpg",
        "dropbox:/Photos/Wedding/ceremony/b.jpg",
        "dropbox:/Photos/Wedding/ceremony/rings/c with space.jpg",
        "dropbox:/Photos/Wedding/ünïcode/d.jpg",
    ]
    for p in planned:
        assert p.path.is_absolute() and p.path.is_relative_to(root)
        assert p.size == p.path.stat().st_size
        assert p.mtime == p.path.stat().st_mtime


@pytest.mark.parametrize("suffix", ["/", "/.", "/../Wedding"])
def test_folder_spellings_give_the_same_plan(tmp_path: Path, suffix: str) -> None:
    write(tmp_path / "Wedding" / "a.jpg")
    planned, _ = plan([str(tmp_path / "Wedding") + suffix], DEST)
    assert destinations(planned) == ["dropbox:/Photos/Wedding/a.jpg"]


def test_hidden_and_junk_files_inside_folders_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "Export"
    write(root / "a.jpg")
    for junk in (".hidden.jpg", ".DS_Store", "Thumbs.db", "THUMBS.DB", "desktop.ini"):
        write(root / junk)
    write(root / ".git" / "objects" / "x.jpg")
    write(root / ".thumbnails" / "b.jpg")
    write(root / "sub" / "._a.jpg")
    planned, rejected = plan([root], DEST)
    assert destinations(planned) == ["dropbox:/Photos/Export/a.jpg"]
    assert rejected == [], "skipped files are not errors"


def test_an_explicitly_given_hidden_file_is_queued(tmp_path: Path) -> None:
    f = write(tmp_path / ".secret-edit.jpg")
    planned, rejected = plan([f], DEST)
    assert destinations(planned) == ["dropbox:/Photos/.secret-edit.jpg"]
    assert rejected == []


def test_an_explicitly_given_hidden_folder_is_walked(tmp_path: Path) -> None:
    write(tmp_path / ".export" / "a.jpg")
    planned, _ = plan([tmp_path / ".export"], DEST)
    assert destinations(planned) == ["dropbox:/Photos/.export/a.jpg"]


def test_a_missing_path_is_rejected_as_missing(tmp_path: Path) -> None:
    planned, rejected = plan([str(tmp_path / "nope.jpg")], DEST)
    assert planned == []
    assert rejected == [Rejected(str(tmp_path / "nope.jpg"), "does not exist", missing=True)]


def test_rejections_do_not_stop_the_rest(tmp_path: Path) -> None:
    good = write(tmp_path / "a.jpg")
    planned, rejected = plan(["nope.jpg", good, "also-nope"], DEST, cwd=str(tmp_path))
    assert [p.path for p in planned] == [good]
    assert [r.path for r in rejected] == ["nope.jpg", "also-nope"]


def test_an_empty_folder_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "Empty" / "sub").mkdir(parents=True)
    planned, rejected = plan([tmp_path / "Empty"], DEST)
    assert planned == []
    assert rejected == [Rejected(str(tmp_path / "Empty"), "is a folder with no files in it")]


def test_a_folder_with_only_junk_is_rejected_as_empty(tmp_path: Path) -> None:
    write(tmp_path / "Junk" / ".DS_Store")
    write(tmp_path / "Junk" / "Thumbs.db")
    planned, rejected = plan([tmp_path / "Junk"], DEST)
    assert planned == []
    assert [r.reason for r in rejected] == ["is a folder with no files in it"]


def test_a_symlink_to_a_file_uploads_the_file_under_the_link_name(tmp_path: Path) -> None:
    target = write(tmp_path / "elsewhere" / "IMG_0001.jpg", 777)
    link = tmp_path / "cover.jpg"
    link.symlink_to(target)
    planned, rejected = plan([link], DEST)
    assert rejected == []
    (p,) = planned
    assert (p.path, p.destination, p.size) == (link, "dropbox:/Photos/cover.jpg", 777)


def test_a_symlink_to_a_file_inside_a_folder_is_followed(tmp_path: Path) -> None:
    target = write(tmp_path / "elsewhere" / "IMG_0001.jpg", 555)
    (tmp_path / "Album").mkdir()
    (tmp_path / "Album" / "best.jpg").symlink_to(target)
    planned, _ = plan([tmp_path / "Album"], DEST)
    assert [(p.destination, p.size) for p in planned] == [("dropbox:/Photos/Album/best.jpg", 555)]


def test_a_broken_symlink_is_rejected(tmp_path: Path) -> None:
    link = tmp_path / "gone.jpg"
    link.symlink_to(tmp_path / "deleted.jpg")
    planned, rejected = plan([link], DEST)
    assert planned == []
    assert rejected == [Rejected(str(link), "is a broken symbolic link", missing=False)]


def test_a_broken_symlink_inside_a_folder_is_rejected_by_its_path(tmp_path: Path) -> None:
    write(tmp_path / "Album" / "a.jpg")
    (tmp_path / "Album" / "gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    planned, rejected = plan([tmp_path / "Album"], DEST)
    assert destinations(planned) == ["dropbox:/Photos/Album/a.jpg"]
    assert rejected == [Rejected(str(tmp_path / "Album" / "gone.jpg"), "is a broken symbolic link")]


@pytest.mark.timeout(10)
def test_symlink_loops_inside_a_folder_do_not_hang(tmp_path: Path) -> None:
    album = tmp_path / "Album"
    write(album / "a.jpg")
    (album / "again").symlink_to(album)  # a folder containing itself
    (album / "sub").mkdir()
    (album / "sub" / "up").symlink_to(tmp_path)
    (album / "x.jpg").symlink_to(album / "y.jpg")  # two links pointing at each other
    (album / "y.jpg").symlink_to(album / "x.jpg")
    planned, rejected = plan([album], DEST)
    assert destinations(planned) == ["dropbox:/Photos/Album/a.jpg"]
    assert sorted(Path(r.path).name for r in rejected) == ["x.jpg", "y.jpg"]
    assert all(r.reason.startswith("cannot be read") for r in rejected)


@pytest.mark.timeout(10)
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    planned, rejected = plan([fifo], DEST)
    assert planned == []
    (r,) = rejected
    assert r.path == str(fifo) and not r.missing
    assert r.reason.startswith("is not a regular file")


@pytest.mark.timeout(10)
def test_a_fifo_inside_a_folder_is_refused_and_the_rest_planned(tmp_path: Path) -> None:
    write(tmp_path / "Album" / "a.jpg")
    os.mkfifo(tmp_path / "Album" / "pipe")
    planned, rejected = plan([tmp_path / "Album"], DEST)
    assert destinations(planned) == ["dropbox:/Photos/Album/a.jpg"]
    assert [Path(r.path).name for r in rejected] == ["pipe"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    f = write(tmp_path / "locked.jpg")
    f.chmod(0)
    planned, rejected = plan([f], DEST)
    assert planned == []
    assert rejected == [Rejected(str(f), "cannot be read (permission denied)")]


def test_relative_paths_are_resolved_against_the_given_cwd(tmp_path: Path) -> None:
    f = write(tmp_path / "shoot" / "a.jpg")
    g = write(tmp_path / "other" / "b.jpg")
    planned, _ = plan(["shoot/a.jpg", "./other"], DEST, cwd=str(tmp_path))
    assert [p.path for p in planned] == [f, g]
    assert destinations(planned) == ["dropbox:/Photos/a.jpg", "dropbox:/Photos/other/b.jpg"]


def test_relative_paths_default_to_the_process_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = write(tmp_path / "a.jpg")
    monkeypatch.chdir(tmp_path)
    planned, rejected = plan(["a.jpg", "missing.jpg"], DEST)
    assert [p.path for p in planned] == [f]
    assert rejected == [Rejected("missing.jpg", "does not exist", missing=True)]


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    f = write(tmp_path / "a.jpg")
    planned, _ = plan(["~/a.jpg"], DEST, cwd="/")
    assert [p.path for p in planned] == [f]


def test_the_same_file_given_twice_is_planned_once(tmp_path: Path) -> None:
    f = write(tmp_path / "a.jpg")
    planned, rejected = plan([f, str(f), "a.jpg", "./a.jpg", "x/../a.jpg"], DEST, cwd=str(tmp_path))
    assert [p.path for p in planned] == [f]
    assert rejected == []


@pytest.mark.parametrize("folder_first", [True, False])
def test_a_file_and_its_folder_both_arrive(tmp_path: Path, folder_first: bool) -> None:
    f = write(tmp_path / "shoot" / "a.jpg")
    given = [tmp_path / "shoot", f] if folder_first else [f, tmp_path / "shoot"]
    planned, _ = plan(given, DEST)
    assert sorted(destinations(planned)) == [
        "dropbox:/Photos/a.jpg",
        "dropbox:/Photos/shoot/a.jpg",
    ]


def test_a_folder_given_twice_is_planned_once(tmp_path: Path) -> None:
    write(tmp_path / "W" / "a.jpg")
    write(tmp_path / "W" / "s" / "b.jpg")
    planned, _ = plan([tmp_path / "W", str(tmp_path / "W") + "/", "W"], DEST, cwd=str(tmp_path))
    assert sorted(destinations(planned)) == ["dropbox:/Photos/W/a.jpg", "dropbox:/Photos/W/s/b.jpg"]


@pytest.mark.parametrize("name", ["a\nb.jpg", "line\rbreak.jpg", "-n.jpg", "--dry-run.jpg"])
def test_awkward_names_are_planned_as_they_are(tmp_path: Path, name: str) -> None:
    write(tmp_path / "Album" / name)
    f = write(tmp_path / name)
    planned, rejected = plan([f, tmp_path / "Album"], DEST)
    assert rejected == []
    assert destinations(planned) == [f"dropbox:/Photos/{name}", f"dropbox:/Photos/Album/{name}"]


def test_non_utf8_names_are_planned(tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.jpg")
    with open(raw, "wb") as f:
        f.write(b"x")
    planned, rejected = plan([tmp_path], DEST)
    assert rejected == []
    (p,) = planned
    assert os.fsencode(p.path) == raw
    assert p.destination == f"dropbox:/Photos/{tmp_path.name}/caf\udce9.jpg"
