"""Settings: validation of every key, and settings.json on disk."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from skylift.core import paths
from skylift.core.settings import (
    KEYS,
    SettingError,
    Settings,
    parse_value,
    validate_bwlimit,
    validate_remote,
)

DEFAULTS = {
    "enabled": True,
    "remote": "",
    "remote_path": "/",
    "transfers": 4,
    "bwlimit": "",
    "retries": 3,
    "retry_delay": 10.0,
    "rclone_path": "",
    "notify": True,
    "notify_failures": True,
    "start_at_login": False,
    "stall_timeout": 120,
    "watch_folders": [],
    "settle_seconds": 5.0,
    "presets": [],
    "skip_uploaded": True,
    "checksum": False,
    "verify": False,
    "link_expire": "",
}


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_defaults() -> None:
    assert Settings().as_dict() == DEFAULTS
    assert set(KEYS) == set(DEFAULTS)


# --- booleans ---------------------------------------------------------------------------

BOOLS = ["enabled", "notify", "start_at_login"]


@pytest.mark.parametrize("key", BOOLS)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("off", False),
        ("0", False),
    ],
)
def test_bool_spellings(key: str, value: Any, expected: bool) -> None:
    assert parse_value(key, value) is expected


@pytest.mark.parametrize("key", BOOLS)
@pytest.mark.parametrize("value", ["maybe", "", "y", "2", "truee", 1, 0, None, [], 1.0])
def test_bools_refuse_other_values_naming_the_key(key: str, value: Any) -> None:
    with pytest.raises(SettingError) as e:
        parse_value(key, value)
    assert str(e.value).startswith(f"{key} must be true or false")
    assert str(e.value).endswith(".")


# --- whole numbers ----------------------------------------------------------------------

INTS = [("transfers", 1, 64), ("retries", 0, 20), ("stall_timeout", 0, 3600)]


@pytest.mark.parametrize(("key", "lo", "hi"), INTS)
def test_int_bounds_are_inclusive(key: str, lo: int, hi: int) -> None:
    assert parse_value(key, lo) == lo
    assert parse_value(key, hi) == hi
    assert parse_value(key, str(hi)) == hi
    assert parse_value(key, f" {lo} ") == lo
    assert parse_value(key, float(hi)) == hi
    assert type(parse_value(key, float(hi))) is int


@pytest.mark.parametrize(("key", "lo", "hi"), INTS)
@pytest.mark.parametrize(
    "bad",
    [
        "below",
        "above",
        1.5,
        "1.5",
        "4.0",
        "",
        "four",
        True,
        False,
        None,
        [],
        {},
        float("nan"),
        float("inf"),
        1e300,
        10**400,
        "9" * 5000,
    ],
    ids=str,
)
def test_ints_refuse_bad_values_and_say_the_range(key: str, lo: int, hi: int, bad: Any) -> None:
    value = {"below": lo - 1, "above": hi + 1}.get(bad, bad) if isinstance(bad, str) else bad
    with pytest.raises(SettingError) as e:
        parse_value(key, value)
    assert f"{key} must be a whole number from {lo} to {hi}" in str(e.value)


# --- retry_delay ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 0.0), (600, 600.0), (2.5, 2.5), ("2.5", 2.5), (" 30 ", 30.0)]
)
def test_retry_delay_accepts_seconds(value: Any, expected: float) -> None:
    assert parse_value("retry_delay", value) == expected


@pytest.mark.parametrize(
    "bad", [-1, -0.001, 600.5, "soon", "", None, True, [], float("nan"), float("inf"), "1e400"]
)
def test_retry_delay_refuses_bad_values(bad: Any) -> None:
    with pytest.raises(SettingError, match="retry_delay must be a number of seconds from 0 to 600"):
        parse_value("retry_delay", bad)


def test_retry_delay_refuses_a_huge_integer() -> None:
    with pytest.raises(SettingError, match="retry_delay"):
        parse_value("retry_delay", 10**400)


def test_load_ignores_a_huge_retry_delay(tmp_path: Path) -> None:
    f = tmp_path / "settings.json"
    f.write_text('{"retry_delay": 1' + "0" * 400 + ', "transfers": 8}')
    s = Settings.load(f)
    assert s["retry_delay"] == 10.0 and s["transfers"] == 8
    assert any("retry_delay" in w for w in s.warnings)


# --- text keys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", "/"), ("   ", "/"), ("/Photos", "/Photos"), ("  Photos/2024 ", "Photos/2024")],
)
def test_remote_path(value: str, expected: str) -> None:
    assert parse_value("remote_path", value) == expected


@pytest.mark.parametrize("key", ["remote_path", "rclone_path"])
@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\0b"])
def test_text_keys_are_one_line(key: str, bad: str) -> None:
    with pytest.raises(SettingError, match=f"{key} must be a single line of text"):
        parse_value(key, bad)


@pytest.mark.parametrize("key", ["remote_path", "rclone_path"])
@pytest.mark.parametrize("bad", [None, 3, True, ["/x"], {"a": 1}])
def test_text_keys_refuse_non_text(key: str, bad: Any) -> None:
    with pytest.raises(SettingError, match=f"{key} must be text"):
        parse_value(key, bad)


def test_rclone_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    assert parse_value("rclone_path", "") == ""
    assert parse_value("rclone_path", " /usr/bin/rclone ") == "/usr/bin/rclone"
    assert parse_value("rclone_path", "~/bin/rclone") == "/home/someone/bin/rclone"


@pytest.mark.parametrize("bad", ["rclone", "bin/rclone", "./rclone"])
def test_rclone_path_must_be_absolute(bad: str) -> None:
    with pytest.raises(SettingError, match="rclone_path must be an absolute path"):
        parse_value("rclone_path", bad)


# --- remote -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dropbox", "dropbox"),
        ("dropbox:", "dropbox"),
        (" dropbox: ", "dropbox"),
        ("", ""),
        ("my nas", "my nas"),
        ("gdrive-2.backup_x", "gdrive-2.backup_x"),
        ("photos+raw@home", "photos+raw@home"),
        ("1", "1"),
        (":", ""),
    ],
)
def test_remote_names(value: str, expected: str) -> None:
    assert validate_remote(value) == expected


@pytest.mark.parametrize(
    "bad", ["-evil", "--dry-run", "a:b", "a/b", "dropbox::", "a\\b", " -x", "a\nb", "a;b"]
)
def test_remote_names_that_rclone_would_misread_are_refused(bad: str) -> None:
    with pytest.raises(SettingError) as e:
        validate_remote(bad)
    message = str(e.value)
    assert f"remote '{bad}' is not an rclone remote name" in message
    assert "rclone listremotes" in message


@pytest.mark.parametrize("bad", [None, 3, ["dropbox"]])
def test_remote_must_be_text(bad: Any) -> None:
    with pytest.raises(SettingError, match="remote must be the name of an rclone remote"):
        validate_remote(bad)


def test_provider_is_a_synonym_for_remote() -> None:
    s = Settings({"provider": "dropbox:"})
    assert s["remote"] == "dropbox"
    assert "provider" not in s.as_dict()
    s["provider"] = "nas"
    assert s["remote"] == "nas"
    with pytest.raises(SettingError, match="remote '-evil'"):
        s["provider"] = "-evil"
    assert s["remote"] == "nas", "a refused value leaves the old one"


def test_destination_root() -> None:
    s = Settings()
    assert s.destination_root == ""
    s["remote"] = "dropbox:"
    assert s.destination_root == "dropbox:/"
    s["remote_path"] = "Photos/2024"
    assert s.destination_root == "dropbox:Photos/2024"


def test_unknown_key_is_refused_with_the_list_of_settings() -> None:
    with pytest.raises(SettingError) as e:
        parse_value("transfer", 4)
    assert "'transfer' is not a Skylift setting" in str(e.value)
    for key in KEYS:
        assert key in str(e.value)


def test_constructor_refuses_invalid_values() -> None:
    with pytest.raises(SettingError, match="transfers"):
        Settings({"transfers": 0})


# --- bwlimit ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "10M",
        "off",
        "OFF",
        "512k",
        "512",
        "1.5M:512k",
        "10M:off",
        "1G",
        "10MiB",
        "100b",
        "08:00,512k 12:00,10M 13:00,512k 18:00,30M 23:00,off",
        "Mon-00:00,512 Fri-23:59,10M Sat-10:00,1M Sun-20:00,off",
        "mon-08:00,1M",
        "00:00,10M:off 23:59,off",
    ],
)
def test_bwlimit_accepts_what_rclone_accepts(value: str) -> None:
    # every value here, and every refused one below, was checked with
    # `rclone --bwlimit VALUE` of rclone 1.60.1 and 1.75.2
    assert validate_bwlimit(value) == value


def test_bwlimit_refuses_a_rate_split_by_a_space() -> None:
    with pytest.raises(SettingError, match="bwlimit"):
        validate_bwlimit("10 M")


def test_bwlimit_empty_means_no_limit_and_spaces_are_tidied() -> None:
    assert validate_bwlimit("") == ""
    assert validate_bwlimit("   ") == ""
    assert validate_bwlimit(" 10M ") == "10M"
    assert validate_bwlimit("08:00,512k    18:00,off") == "08:00,512k 18:00,off"


@pytest.mark.parametrize("value", ["fast", "10X", "-1M", "M", "10M:", ":10M"])
def test_bwlimit_refuses_bad_rates(value: str) -> None:
    with pytest.raises(SettingError) as e:
        validate_bwlimit(value)
    message = str(e.value)
    assert message.startswith(f"bwlimit '{value}' is not a rate rclone understands")
    for example in ("512k", "10M", "10M:off", "08:00,512k 18:00,off"):
        assert example in message


@pytest.mark.parametrize(
    ("value", "entry"),
    [
        ("25:00,1M", "25:00,1M"),
        ("08:00,512k,1", "08:00,512k,1"),
        ("08:60,1M", "08:60,1M"),
        ("08:00,fast 18:00,off", "08:00,fast"),
        ("08:00,1M 18:00", "18:00"),
        ("Someday-08:00,1M", "Someday-08:00,1M"),
        ("08:00,", "08:00,"),
    ],
)
def test_bwlimit_refuses_bad_timetables_naming_the_entry(value: str, entry: str) -> None:
    with pytest.raises(SettingError) as e:
        validate_bwlimit(value)
    assert f"bwlimit timetable entry '{entry}' is not valid" in str(e.value)
    assert "[Day-]HH:MM,RATE" in str(e.value)


def test_bwlimit_refuses_a_time_without_a_rate() -> None:
    with pytest.raises(SettingError):
        validate_bwlimit("08:00")


@pytest.mark.parametrize("value", ["10MB", "10mb", "512kB"])
def test_bwlimit_refuses_units_rclone_refuses(value: str) -> None:
    with pytest.raises(SettingError):
        validate_bwlimit(value)


def test_bwlimit_refuses_a_one_digit_hour() -> None:
    with pytest.raises(SettingError):
        validate_bwlimit("8:00,1M")


def test_bwlimit_accepts_binary_units_without_b() -> None:
    assert validate_bwlimit("10Mi") == "10Mi"


def test_bwlimit_through_settings() -> None:
    s = Settings()
    s["bwlimit"] = "10M"
    assert s["bwlimit"] == "10M"
    with pytest.raises(SettingError):
        s["bwlimit"] = "fast"
    assert s["bwlimit"] == "10M"


# --- settings.json ----------------------------------------------------------------------


def test_load_of_a_missing_file_gives_defaults_and_creates_nothing(tmp_path: Path) -> None:
    f = tmp_path / "none" / "settings.json"
    s = Settings.load(f)
    assert s.as_dict() == DEFAULTS
    assert s.warnings == []
    assert not f.parent.exists()


def test_default_location_is_in_the_profile(profile: Path) -> None:
    s = Settings.load()
    assert s.path == profile / "config" / "skylift" / "settings.json"
    s["remote"] = "dropbox"
    s.save()
    assert Settings.load()["remote"] == "dropbox"


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    f = tmp_path / "settings.json"
    s = Settings.load(f)
    values = {
        "enabled": False,
        "remote": "my nas",
        "remote_path": "/Photos/2024",
        "transfers": 16,
        "bwlimit": "08:00,512k 18:00,off",
        "retries": 0,
        "retry_delay": 2.5,
        "rclone_path": "/opt/rclone/rclone",
        "notify": False,
        "notify_failures": False,
        "start_at_login": True,
        "stall_timeout": 0,
        "watch_folders": [
            {"path": "/x", "destination": "", "subfolders": False, "after_upload": "move"}
        ],
        "settle_seconds": 2.0,
        "presets": [{"name": "Smith", "destination": "dropbox:/Clients/Smith"}],
        "skip_uploaded": False,
        "checksum": True,
        "verify": True,
        "link_expire": "7d",
    }
    for k, v in values.items():
        s[k] = v
    s.save()
    again = Settings.load(f)
    assert again.as_dict() == values
    assert again.warnings == []


def test_save_without_a_path_writes_nothing(tmp_path: Path) -> None:
    Settings({"remote": "x"}).save()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b"[1, 2]", b'"text"', b"null", b"\xff\xfe\x00garbage", b'{"a": 1'],
)
def test_a_corrupt_file_is_moved_aside_and_defaults_are_used(
    tmp_path: Path, content: bytes
) -> None:
    f = tmp_path / "settings.json"
    f.write_bytes(content)
    s = Settings.load(f)
    backup = tmp_path / "settings.json.bak"
    assert s.as_dict() == DEFAULTS
    assert backup.read_bytes() == content, "the person's file is kept"
    assert not f.exists()
    (warning,) = s.warnings
    assert str(f) in warning and str(backup) in warning
    assert "defaults are used" in warning


def test_a_corrupt_file_can_be_replaced_by_saving(tmp_path: Path) -> None:
    f = tmp_path / "settings.json"
    f.write_text("{oops")
    s = Settings.load(f)
    s["remote"] = "dropbox"
    s.save()
    assert Settings.load(f)["remote"] == "dropbox"
    assert (tmp_path / "settings.json.bak").read_text() == "{oops"


def test_unknown_keys_are_kept_on_save(tmp_path: Path) -> None:
    f = tmp_path / "settings.json"
    future = {"theme": "dark", "profiles": [{"name": "a", "remote": "x"}], "version": 7}
    f.write_text(json.dumps({**future, "transfers": 8}))
    s = Settings.load(f)
    assert s["transfers"] == 8 and s.warnings == []
    s["remote"] = "dropbox"
    s.save()
    saved = json.loads(f.read_text())
    assert {k: saved[k] for k in future} == future
    assert saved["remote"] == "dropbox" and saved["transfers"] == 8


def test_invalid_values_are_ignored_with_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "settings.json"
    f.write_text(
        json.dumps({"transfers": 999, "remote": "-evil", "bwlimit": "fast", "notify": False})
    )
    s = Settings.load(f)
    assert s["transfers"] == 4 and s["remote"] == "" and s["bwlimit"] == ""
    assert s["notify"] is False, "the valid values are used"
    assert len(s.warnings) == 3
    for w, key in zip(s.warnings, ("transfers", "remote", "bwlimit"), strict=True):
        assert w.startswith(f"Ignored an invalid value in {f}: ")
        assert key in w


def test_values_in_the_file_are_normalised(tmp_path: Path) -> None:
    f = tmp_path / "settings.json"
    f.write_text(json.dumps({"remote": "dropbox:", "transfers": "8", "enabled": "no"}))
    s = Settings.load(f)
    assert (s["remote"], s["transfers"], s["enabled"]) == ("dropbox", 8, False)


def test_an_unreadable_settings_path_gives_defaults_with_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "settings.json"
    f.mkdir()  # reading a folder fails with IsADirectoryError, for root too
    s = Settings.load(f)
    assert s.as_dict() == DEFAULTS
    (warning,) = s.warnings
    assert f"Could not read settings file {f}" in warning
    assert f.is_dir(), "nothing is moved or deleted"


def test_save_writes_a_private_file_in_a_private_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cfg" / "skylift"
    s = Settings.load(folder / "settings.json")
    s["remote"] = "dropbox"
    old = os.umask(0o022)
    try:
        s.save()
    finally:
        os.umask(old)
    assert mode(folder) == 0o700
    assert mode(folder / "settings.json") == 0o600


def test_save_tightens_an_existing_open_folder(tmp_path: Path) -> None:
    folder = tmp_path / "skylift"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    Settings(path=folder / "settings.json").save()
    assert mode(folder) == 0o700
    assert mode(folder / "settings.json") == 0o600


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "settings.json"
    s = Settings.load(f)
    s["remote"] = "dropbox"
    s.save()
    before = f.read_bytes()

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    s["remote"] = "nas"
    with pytest.raises(OSError, match="No space left"):
        s.save()
    assert f.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"], "no temporary file left"


def test_save_fails_cleanly_when_the_write_itself_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "settings.json"
    Settings({"remote": "dropbox"}, path=f).save()
    before = f.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        Settings({"remote": "nas"}, path=f).save()
    assert f.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_saved_file_is_readable_json(tmp_path: Path) -> None:
    f = tmp_path / "settings.json"
    Settings({"remote": "ünïcode"}, path=f).save()
    text = f.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert json.loads(text)["remote"] == "ünïcode"


def test_paths_write_private_replaces_content(tmp_path: Path) -> None:
    f = tmp_path / "sub" / "x"
    paths.write_private(f, b"one")
    paths.write_private(f, b"two")
    assert f.read_bytes() == b"two"
    assert mode(f) == 0o600 and mode(f.parent) == 0o700


# --- lists: hot folders and presets ------------------------------------------------------


def test_default_lists_are_not_shared_between_profiles() -> None:
    a, b = Settings(), Settings()
    a["presets"] = [{"name": "Smith", "destination": "dropbox:/Clients/Smith"}]
    assert b["presets"] == []
    assert Settings()["watch_folders"] == []


def test_watch_folders_are_normalised(tmp_path: Path) -> None:
    s = Settings()
    s["watch_folders"] = [
        str(tmp_path / "export" / ".."),
        {"path": str(tmp_path / "b"), "destination": "dropbox:", "after_upload": "move"},
    ]
    assert s["watch_folders"] == [
        {"path": str(tmp_path), "destination": "", "subfolders": True, "after_upload": "leave"},
        {
            "path": str(tmp_path / "b"),
            "destination": "dropbox:/",
            "subfolders": True,
            "after_upload": "move",
        },
    ]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (["relative/folder"], "absolute"),
        ([{"path": "/a", "after_upload": "delete"}], "'leave' or 'move'"),
        (["/a", "/a/"], "listed twice"),
        ([{"path": "/a", "destination": "nocolon"}], "REMOTE:PATH"),
        ("not json", "JSON list"),
        (42, "list"),
    ],
)
def test_bad_watch_folders_are_refused(value: object, fragment: str) -> None:
    with pytest.raises(SettingError, match=fragment):
        Settings()["watch_folders"] = value


def test_presets_from_json_text_and_mapping() -> None:
    s = Settings()
    s["presets"] = '[{"name": " Smith wedding ", "destination": "dropbox:/Clients/Smith"}]'
    assert s["presets"] == [{"name": "Smith wedding", "destination": "dropbox:/Clients/Smith"}]
    s["presets"] = {"Jones": "s3:bucket/jones"}
    assert s["presets"] == [{"name": "Jones", "destination": "s3:bucket/jones"}]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([{"name": "A", "destination": "x:/"}, {"name": "a", "destination": "y:/"}], "twice"),
        ([{"name": "", "destination": "x:/"}], "empty"),
        ([{"name": "A", "destination": "/local/only"}], "REMOTE:PATH"),
        ([{"name": "A", "destination": "bad/name:/x"}], "remote"),
    ],
)
def test_bad_presets_are_refused(value: object, fragment: str) -> None:
    with pytest.raises(SettingError, match=fragment):
        Settings()["presets"] = value


@pytest.mark.parametrize("value", ["", "12h", "7d", "2w", "1h30m", "1.5h", "1M"])
def test_link_expiry_takes_rclone_durations(value: str) -> None:
    s = Settings()
    s["link_expire"] = value
    assert s["link_expire"] == value


@pytest.mark.parametrize("value", ["7", "seven days", "7 d", "-1h", "1x"])
def test_link_expiry_refuses_what_rclone_would(value: str) -> None:
    with pytest.raises(SettingError, match="duration"):
        Settings()["link_expire"] = value
