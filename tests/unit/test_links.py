"""Share links: argv, what to link, and rclone's recorded answers (no binary needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylift.core import links
from skylift.core.links import Kind, Target
from tests.conftest import FIXTURES

VERSIONS = ("1.60.1", "1.75.2")
FOLDER = Target("s3loop:bucket/Wedding", (1, 2), True)
FILE = Target("s3loop:bucket/Wedding/a.jpg", (1,), False)


def recorded(version: str, name: str) -> tuple[int, str, str]:
    base = FIXTURES / "rclone" / version / f"link_{name}"
    return (
        int(Path(f"{base}.exit").read_text()),
        Path(f"{base}.stdout").read_text(),
        Path(f"{base}.stderr").read_text(),
    )


# --- argv ----------------------------------------------------------------------------------


def test_argv_has_the_safe_flags_and_the_target_last() -> None:
    argv = links.link_args("/bin/rclone", "dropbox:/Clients/Smith", "7d")
    assert argv[:2] == ["/bin/rclone", "link"]
    assert "--ask-password=false" in argv
    assert "--expire=7d" in argv
    assert argv[-2:] == ["--", "dropbox:/Clients/Smith"]
    assert links.link_args("r", "dropbox:/a.jpg") == [
        "r",
        "link",
        "--ask-password=false",
        "--retries=1",
        "--low-level-retries=1",
        "--contimeout=15s",
        "--timeout=30s",
        "--",
        "dropbox:/a.jpg",
    ]


def test_no_target_can_be_read_as_a_flag() -> None:
    for bad in ("-x:/a.jpg", "--config=/etc/passwd:x", "--expire:x", " -n:a"):
        with pytest.raises(ValueError, match="not an rclone remote name"):
            links.link_args("r", bad)
    # a path that starts with "-" is fine: it follows "remote:"
    assert links.link_args("r", "s3:-n.jpg")[-1] == "s3:-n.jpg"


@pytest.mark.parametrize("bad", ["dropbox", ":/Photos", "", "a:b\nc"])
def test_bad_targets_are_refused_plainly(bad: str) -> None:
    with pytest.raises(ValueError) as e:
        links.link_args("r", bad)
    assert str(e.value).endswith(".")


@pytest.mark.parametrize("bad", ["soon", "7 days", "-1d", "1d;rm"])
def test_bad_expiry_is_refused_before_rclone(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        links.link_args("r", "s3:a.jpg", bad)


# --- what to link --------------------------------------------------------------------------


def test_folder_of_a_destination() -> None:
    assert links.folder_of("dropbox:/Photos/Smith/a.jpg") == "dropbox:/Photos/Smith"
    assert links.folder_of("dropbox:/a.jpg") == "dropbox:/"
    assert links.folder_of("s3:bucket/a.jpg") == "s3:bucket"
    assert links.folder_of("s3:a.jpg") == "s3:"


def test_common_folder_of_a_batch() -> None:
    assert (
        links.common_folder(["d:/P/Smith/a.jpg", "d:/P/Smith/sub/b.jpg", "d:/P/Smith/c.jpg"])
        == "d:/P/Smith"
    )
    assert links.common_folder(["d:/P/A/a.jpg", "d:/P/B/b.jpg"]) == "d:/P"
    assert links.common_folder(["d:/a.jpg", "d:/b.jpg"]) == "d:/"
    assert links.common_folder(["s3:bucket/W/a.jpg", "s3:bucket/W/b.jpg"]) == "s3:bucket/W"
    assert links.common_folder(["a:/x/1.jpg", "b:/x/2.jpg"]) is None
    assert links.common_folder([]) is None


def test_one_destination_per_folder_keeps_every_folder_and_remote() -> None:
    many = [f"d:/P/Smith/IMG_{i}.jpg" for i in range(1000)]
    assert links.one_per_folder(many) == ["d:/P/Smith/IMG_0.jpg"]
    mixed = ["a:x.jpg", "b:y.jpg", "a:z.jpg", "r:/A/x.jpg", "r:/A/sub/y.jpg", "r:/a.jpg"]
    assert links.one_per_folder(mixed) == [
        "a:x.jpg",
        "b:y.jpg",
        "r:/A/x.jpg",
        "r:/A/sub/y.jpg",
        "r:/a.jpg",
    ]
    assert links.common_folder(["a:x.jpg", "b:y.jpg"]) is None


def test_targets_try_the_folder_then_a_single_file() -> None:
    assert links.targets_for([(7, "s3:b/W/a.jpg")]) == [
        Target("s3:b/W", (7,), True),
        Target("s3:b/W/a.jpg", (7,), False),
    ]
    assert links.targets_for([(1, "d:/P/a.jpg"), (2, "d:/P/b.jpg")]) == [
        Target("d:/P", (1, 2), True)
    ]
    assert links.targets_for([(1, "a:/a.jpg"), (2, "b:/b.jpg")]) == []


def test_a_folder_link_belongs_to_every_uploaded_job_in_that_folder() -> None:
    done = [(1, "d:/P/a.jpg"), (2, "d:/P/b.jpg"), (3, "d:/P/sub/c.jpg"), (4, "d:/Q/d.jpg")]
    folder = links.LinkResult("https://x", None, Kind.OK, target="d:/P", ids=(1,), folder=True)
    assert links.sharing(folder, done) == [1, 2]
    file = links.LinkResult("https://x", None, Kind.OK, target="d:/P/a.jpg", ids=(1,))
    assert links.sharing(file, done) == [1]


# --- rclone's answers (recorded with rclone 1.60.1 and 1.75.2) ------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_link_is_the_last_line_and_notices_become_a_note(version: str) -> None:
    code, out, err = recorded(version, "s3_file")
    r = links.result(code, out, err, FILE)
    assert r.ok and r.error is None and r.kind is Kind.OK
    assert r.url == out.strip()
    assert r.url.startswith("http://127.0.0.1:") and "X-Amz-Expires=604800" in r.url
    assert r.note == "Links on this remote expire after at most a week."
    assert (r.target, r.ids, r.folder) == (FILE.path, (1,), False)


@pytest.mark.parametrize("version", VERSIONS)
def test_expiry_passes_and_a_too_long_one_is_noted(version: str) -> None:
    code, out, err = recorded(version, "s3_file_expire_1h")
    r = links.result(code, out, err, FILE)
    assert r.url is not None and "X-Amz-Expires=3600" in r.url and r.note == ""
    code, out, err = recorded(version, "s3_file_expire_30d")
    r = links.result(code, out, err, FILE)
    assert r.url is not None and "X-Amz-Expires=604800" in r.url
    assert "at most a week" in r.note


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ["sftp_unsupported", "sftp_file_unsupported"])
def test_a_backend_without_links(version: str, name: str) -> None:
    r = links.result(*recorded(version, name), "loop:Wedding")
    assert r.url is None and r.kind is Kind.UNSUPPORTED
    assert r.error == (
        "This remote (sftp) cannot make share links; upload to a cloud such as Dropbox, "
        "Google Drive, OneDrive or S3 to share."
    )


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ["s3_folder", "s3_bucket"])
def test_s3_cannot_link_a_folder(version: str, name: str) -> None:
    r = links.result(*recorded(version, name), FOLDER)
    assert r.kind is Kind.FOLDER
    assert r.error == (
        "s3loop:bucket/Wedding is a folder and this remote (s3loop) shares single files "
        "only; use Copy share link on one file."
    )
    assert links.next_after(r, [FILE]) and not links.next_after(r, [])


@pytest.mark.parametrize("version", VERSIONS)
def test_a_missing_file(version: str) -> None:
    r = links.result(*recorded(version, "s3_missing"), FILE)
    assert r.kind is Kind.NOT_FOUND
    assert r.error == (
        "s3loop:bucket/Wedding/a.jpg was not found on the remote; it may have been moved or "
        "deleted."
    )
    assert not links.next_after(r, [FILE])


@pytest.mark.parametrize("version", VERSIONS)
def test_an_unreachable_remote(version: str) -> None:
    r = links.result(*recorded(version, "s3_down"), FILE)
    assert r.kind is Kind.OTHER
    assert (
        r.error == "The remote 's3loop' could not be reached; check the connection and try again."
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_an_unknown_remote(version: str) -> None:
    r = links.result(*recorded(version, "no_such_remote"), "nosuchremote:Wedding")
    assert r.kind is Kind.REMOTE
    assert r.error is not None and "'nosuchremote' does not exist" in r.error


@pytest.mark.parametrize("version", VERSIONS)
def test_an_expiry_rclone_refuses(version: str) -> None:
    r = links.result(*recorded(version, "bad_expire"), FILE)
    assert r.kind is Kind.EXPIRE
    assert r.error is not None and r.error.startswith("rclone did not accept the expiry")


def test_dropbox_account_without_expiring_links() -> None:
    # rclone before 1.70 passed Dropbox's refusal on (rclone/rclone#8397)
    err = "2025/02/15 19:28:24 NOTICE: Failed to link: settings_error/not_authorized/..\n"
    r = links.result(1, "", err, "dropbox:/P")
    assert r.kind is Kind.EXPIRE and r.error is not None
    assert "cannot make links that expire" in r.error


def test_unknown_failures_stay_one_sentence_without_secrets() -> None:
    err = "2026/01/01 00:00:00 NOTICE: Failed to link: weird https://u:pw@h/x?sig=abc\n"
    r = links.result(1, "", err, FILE)
    assert r.kind is Kind.OTHER and r.error is not None
    assert r.error.startswith("rclone could not make a share link: weird https://")
    assert "pw" not in r.error and "abc" not in r.error
    assert links.result(1, "", "", FILE).error == (
        "rclone could not make a share link (exit code 1)."
    )


def test_output_that_is_not_a_link_is_not_taken_for_one() -> None:
    assert links.url_from("") is None
    assert links.url_from("Transferred: 1\n") is None
    assert links.url_from("note\nhttps://www.dropbox.com/s/abc/a.jpg?dl=0\n") == (
        "https://www.dropbox.com/s/abc/a.jpg?dl=0"
    )
    r = links.result(0, "something else\n", "", FILE)
    assert r.url is None and r.error is not None


# --- the finished-batch notification and the IPC message -----------------------------------


def _done(i: int, dest: str) -> object:
    from skylift.core.store import Job, JobState

    return Job(
        i,
        Path("/x") / dest.rsplit("/", 1)[-1],
        dest,
        1,
        0.0,
        JobState.DONE,
        1,
        1,
        None,
        "",
        None,
        0.0,
    )


def test_a_batch_that_went_well_offers_its_link() -> None:
    from skylift.ui.notifications import compose

    note = compose([_done(1, "s3:b/W/a.jpg"), _done(2, "s3:b/W/b.jpg")])  # type: ignore[list-item]
    assert note is not None
    assert note.body == "Click to copy a share link." and note.share == (1, 2)
    # across remotes there is no one folder to link
    note = compose([_done(1, "a:/P/a.jpg"), _done(2, "b:/P/b.jpg")])  # type: ignore[list-item]
    assert note is not None and note.body == "" and note.share == ()


def test_set_link_message_is_checked() -> None:
    from skylift.entry.ipc import IpcError, validate

    ok = {"cmd": "set_link", "ids": [1, 2], "link": "https://www.dropbox.com/s/x?dl=0"}
    assert validate(ok) == ok
    for bad in ("javascript:alert(1)", "https://a b", "", 7, "https://x\nY"):
        with pytest.raises(IpcError):
            validate({"cmd": "set_link", "ids": [1], "link": bad})
