"""Share links through the real rclone: `skylift link`, the API, against loopback servers."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import Cli, S3Server, Server, make_files


def _fetch(url: str) -> bytes:
    assert url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")), url
    with urllib.request.urlopen(url, timeout=30) as r:
        return bytes(r.read())


def _expires(url: str) -> int:
    return int(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Expires"][0])


def _upload(cli: Cli, files: list[Path], to: str) -> None:
    out = cli("upload", "--wait", "--to", to, *map(str, files))
    assert out.returncode == 0, out.stderr


def test_link_to_an_uploaded_file_downloads_its_bytes(
    cli: Cli, tmp_path: Path, s3_server: S3Server
) -> None:
    (f,) = make_files(tmp_path, ["bride.jpg"], size=5000)
    _upload(cli, [f], "s3loop:bucket/Wedding")
    assert s3_server.file("bucket/Wedding/bride.jpg").read_bytes() == f.read_bytes()

    out = cli("link", "s3loop:bucket/Wedding/bride.jpg")
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert "\n" not in url
    assert _fetch(url) == f.read_bytes()
    # S3 presigned links cannot outlive a week; Skylift passes rclone's notice on
    assert _expires(url) == 7 * 24 * 3600
    assert "expire after at most a week" in out.stderr


def test_expire_reaches_the_link(cli: Cli, tmp_path: Path, configure, s3_server: S3Server) -> None:
    (f,) = make_files(tmp_path, ["a.jpg"])
    _upload(cli, [f], "s3loop:bucket/x")
    out = cli("link", "--expire", "2h", "s3loop:bucket/x/a.jpg")
    assert out.returncode == 0, out.stderr
    assert _expires(out.stdout.strip()) == 7200
    # the link_expire setting is the default
    configure(link_expire="30m")
    out = cli("link", "s3loop:bucket/x/a.jpg")
    assert out.returncode == 0, out.stderr
    assert _expires(out.stdout.strip()) == 1800


def test_folder_on_s3_links_its_one_file_and_keeps_it_on_the_job(
    cli: Cli, tmp_path: Path, s3_server: S3Server
) -> None:
    """S3 shares objects, not folders: a job's folder link falls back to the file."""
    files = make_files(tmp_path, ["a.jpg", "b.jpg"])
    _upload(cli, files, "s3loop:bucket/Shoot")
    out = cli("link", "s3loop:bucket/Shoot")
    assert out.returncode == 1
    assert "shares single files only" not in out.stderr  # a bare path is not known to be a folder
    assert "was not found" in out.stderr

    status = json.loads(cli("status", "--json").stdout)
    job = next(j for j in status["jobs"] if j["destination"].endswith("/b.jpg"))
    out = cli("link", "--job", str(job["id"]))
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert _fetch(url) == files[1].read_bytes()

    from skylift.core.store import Store

    store = Store(readonly=True)
    try:
        links = {j.path.name: j.link for j in store.history()}
    finally:
        store.close()
    assert links == {"b.jpg": url, "a.jpg": None}


def test_backend_without_links_says_so(cli: Cli, tmp_path: Path, sftp_server: Server) -> None:
    (f,) = make_files(tmp_path, ["a.jpg"])
    _upload(cli, [f], "loop:/Clients")
    out = cli("link", "loop:/Clients/a.jpg")
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.strip() == (
        "skylift: This remote (sftp) cannot make share links; upload to a cloud such as "
        "Dropbox, Google Drive, OneDrive or S3 to share."
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["dropbox/Photos"], "REMOTE:PATH"),
        (["--expire", "soon", "s3loop:bucket/a.jpg"], "is not a duration"),
        (["--", "-x:/a.jpg"], "not an rclone remote name"),
        ([], "say what to share"),
        (["--job", "999"], "no upload number 999"),
    ],
)
def test_bad_input_is_exit_2(cli: Cli, args: list[str], says: str) -> None:
    out = cli("link", *args)
    assert out.returncode == 2, out.stderr
    assert says in out.stderr


def test_missing_rclone_is_exit_3(cli: Cli, tmp_path: Path, configure) -> None:
    configure(rclone_path=str(tmp_path / "no-rclone"))
    out = cli("link", "s3loop:bucket/a.jpg")
    assert out.returncode == 3
    assert "not an executable program" in out.stderr


def test_unknown_remote_is_exit_3(cli: Cli) -> None:
    out = cli("link", "nosuchremote:a.jpg")
    assert out.returncode == 3
    assert "'nosuchremote' does not exist" in out.stderr


def test_api_share_link(tmp_path: Path, s3_server: S3Server, sftp_server: Server) -> None:
    from skylift import CloudSyncManager

    (f,) = make_files(tmp_path, ["api.jpg"])
    with CloudSyncManager({"remote": "s3loop", "remote_path": "bucket/Api"}) as m:
        job = m.upload_file(f)
        assert job is not None
        ok, err = m.process_upload_job(job.id)
        assert ok, err
        url, err = m.share_link(job, expire="1h")
        assert err is None and url is not None
        assert _fetch(url) == f.read_bytes()
        assert _expires(url) == 3600
        stored = m.get_job(job.id)
        assert stored is not None and stored.link == url

        url, err = m.share_link("loop:/anything")
        assert url is None
        assert err is not None and "(sftp) cannot make share links" in err
        url, err = m.share_link("no colon")
        assert url is None and err is not None and "REMOTE:PATH" in err
