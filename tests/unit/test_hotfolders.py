"""The pure parts of hot folders: which names are never uploaded, and moving files
aside without replacing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylift.core.hotfolders import _walk, ignored, move_no_replace, uploaded_path


@pytest.mark.parametrize(
    "name",
    [
        ".hidden.jpg",
        ".DS_Store",
        "._IMG_1.jpg",
        ".~lock.notes.odt#",
        "x.tmp",
        "X.TMP",
        "x.temp",
        "x.part",
        "x.jpg.partial",
        "x.jpg~",
        "x.crdownload",
        "x.download",
        "~$report.docx",
        "Thumbs.db",
        "desktop.ini",
        "ehthumbs.db",
        "IMG_1.cos",
        "IMG_1.cot",
        "IMG_1.cop",
        "IMG_1.cof",
        "IMG_1.comask",
    ],
)
def test_temporary_and_system_files_are_ignored(name: str) -> None:
    assert ignored(name)


@pytest.mark.parametrize(
    "name",
    [
        "IMG_0001.jpg",
        "IMG_0001.CR3",
        "wedding-001.tif",
        "a.dng",
        "x.partially.jpg",
        "temp.jpg",
        "tmp",
        "thumbs.db.jpg",
        "a~b.jpg",
        "Uploaded",
    ],
)
def test_photos_are_not_ignored(name: str) -> None:
    assert not ignored(name)


def test_folders_that_are_ignored() -> None:
    assert ignored("CaptureOne", is_dir=True)
    assert ignored(".thumbnails", is_dir=True)
    assert ignored("big.download", is_dir=True)
    assert not ignored("Wedding", is_dir=True)
    assert not ignored("x.tmp", is_dir=True)  # a folder may have any name


def test_walk_skips_ignored_names_and_the_uploaded_folder(tmp_path: Path) -> None:
    for rel in (
        "a.jpg",
        "x.tmp",
        ".h.jpg",
        "Day 1/b.jpg",
        "Day 1/Uploaded/c.jpg",  # only the top-level Uploaded folder is Skylift's
        "Uploaded/old.jpg",
        "CaptureOne/Cache/Thumbnails/a.jpg.cot",
        "CaptureOne/x.jpg",
        ".git/objects/x",
    ):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    found = {
        (Path(path).relative_to(tmp_path).as_posix(), rel)
        for path, rel, st in _walk(str(tmp_path))
        if st is not None
    }
    assert found == {
        ("a.jpg", ()),
        ("Day 1/b.jpg", ("Day 1",)),
        ("Day 1/Uploaded/c.jpg", ("Day 1", "Uploaded")),
    }


def test_uploaded_path_never_names_an_existing_file(tmp_path: Path) -> None:
    first = uploaded_path(str(tmp_path), ["Day 1"], "a.jpg")
    assert first == str(tmp_path / "Uploaded" / "Day 1" / "a.jpg")
    Path(first).parent.mkdir(parents=True)
    Path(first).write_bytes(b"1")
    second = uploaded_path(str(tmp_path), ["Day 1"], "a.jpg")
    assert second == str(tmp_path / "Uploaded" / "Day 1" / "a (2).jpg")
    Path(second).write_bytes(b"2")
    assert uploaded_path(str(tmp_path), ["Day 1"], "a.jpg").endswith("a (3).jpg")


def test_move_no_replace_keeps_an_existing_file(tmp_path: Path) -> None:
    src = tmp_path / "a.jpg"
    src.write_bytes(b"new")
    dst = tmp_path / "Uploaded" / "a.jpg"
    dst.parent.mkdir()
    dst.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        move_no_replace(str(src), str(dst))
    assert dst.read_bytes() == b"old"
    assert src.read_bytes() == b"new"
    other = tmp_path / "Uploaded" / "deeper" / "a.jpg"
    move_no_replace(str(src), str(other))
    assert other.read_bytes() == b"new"
    assert not src.exists()


def test_last_job_is_the_newest_even_when_cleared(tmp_path: Path) -> None:
    from skylift.core.store import JobState, Store

    store = Store(tmp_path / "q.sqlite3")
    try:
        f = tmp_path / "a.jpg"
        assert store.last_job(str(f), "r:/a.jpg") is None
        [first], _ = store.add([(f, "r:/a.jpg", 1, 1.0)], origin="/x")
        store.update([first.id], JobState.DONE)
        [second], _ = store.add([(f, "r:/a.jpg", 2, 2.0)], origin="/x")
        store.update([second.id], JobState.DONE)
        store.add([(f, "r:/other/a.jpg", 3, 3.0)])
        store.clear_finished()
        last = store.last_job(str(f), "r:/a.jpg")
        assert last is not None and last.id == second.id and last.size == 2
        assert last.origin == "/x" and last.cleared
    finally:
        store.close()
