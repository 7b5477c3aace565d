from pathlib import Path

from tests.conftest import make_files


def test_upload_wait_puts_a_folder_on_the_remote(tmp_path: Path, sftp_server, cli) -> None:
    src = tmp_path / "Wedding"
    files = make_files(src, ["a.jpg", "sub/b.jpg"])
    cli("config", "set", "remote", "loop", check=True)
    cli("config", "set", "remote_path", "/Photos", check=True)
    out = cli("upload", "--wait", str(src))
    assert out.returncode == 0, out.stderr
    for f in files:
        rel = f.relative_to(tmp_path)
        assert sftp_server.file(f"Photos/{rel}").read_bytes() == f.read_bytes()
