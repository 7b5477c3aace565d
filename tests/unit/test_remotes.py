"""The settings dialog's rclone questions: argument builders and output parsers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skylift.core import connection, rclone_binary, remotes
from skylift.core.remotes import Folder, Remote

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rclone"
RCLONE = "/opt/rclone/rclone"


# --- builders ---------------------------------------------------------------------------


def test_listremotes_asks_for_types_and_never_for_a_password() -> None:
    assert remotes.listremotes_args(RCLONE) == [
        RCLONE,
        "listremotes",
        "--long",
        "--ask-password=false",
    ]


def test_lsdirs_lists_one_level_of_folders_with_short_timeouts() -> None:
    args = remotes.lsdirs_args(RCLONE, "dropbox", "/Photos")
    assert args[:3] == [RCLONE, "lsjson", "dropbox:/Photos"]
    assert {"--dirs-only", "--max-depth=1", "--ask-password=false", "--use-json-log"} <= set(args)
    assert "--contimeout=15s" in args


def test_lsdirs_of_an_empty_path_is_the_root() -> None:
    assert remotes.lsdirs_args(RCLONE, "nas", "")[2] == "nas:/"


@pytest.mark.parametrize("bad", ["-x", "", "two:colons", "with\nnewline", "--config=/etc/x"])
def test_a_remote_name_that_could_be_a_flag_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        remotes.lsdirs_args(RCLONE, bad, "/")
    with pytest.raises(ValueError):
        remotes.config_create_args(RCLONE, bad, "sftp", {}, obscured=True)


def test_test_connection_reuses_the_core_connection_arguments() -> None:
    assert remotes.test_args(RCLONE, "loop", "/Photos") == connection.args(RCLONE, "loop:/Photos")


def test_obscure_reads_the_secret_from_stdin() -> None:
    args = remotes.obscure_args(RCLONE)
    assert args == [RCLONE, "obscure", "-"]


def test_config_create_passes_key_value_pairs_so_no_value_is_a_flag() -> None:
    args = remotes.config_create_args(
        RCLONE,
        "studio",
        "sftp",
        {"host": "nas.local", "user": "anna", "pass": "-starts-with-dash"},
        obscured=True,
    )
    assert args[:3] == [RCLONE, "config", "create"]
    assert "--no-obscure" in args and "--ask-password=false" in args
    i = args.index("studio")
    assert args[i : i + 2] == ["studio", "sftp"]
    assert args[i + 2 :] == ["host=nas.local", "user=anna", "pass=-starts-with-dash"]
    assert not any(a.startswith("-") for a in args[i:])


def test_config_create_without_obscured_secrets_lets_rclone_obscure_them() -> None:
    args = remotes.config_create_args(RCLONE, "box", "webdav", {"pass": "x"}, obscured=False)
    assert "--obscure" in args and "--no-obscure" not in args


@pytest.mark.parametrize(
    "params",
    [{"Host": "x"}, {"host; rm": "x"}, {"host": "a\nb"}, {"pass": "a\0b"}],
)
def test_config_create_refuses_odd_keys_and_multi_line_values(params: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        remotes.config_create_args(RCLONE, "x", "sftp", params, obscured=True)


def test_config_create_only_for_the_offered_backends() -> None:
    with pytest.raises(ValueError):
        remotes.config_create_args(RCLONE, "x", "local", {}, obscured=True)
    offered = {b.type for b in remotes.BACKENDS}
    assert offered == {"dropbox", "drive", "onedrive", "s3", "sftp", "webdav"}
    assert {b.type for b in remotes.BACKENDS if b.oauth} == {"dropbox", "drive", "onedrive"}


def test_password_fields_are_marked_secret() -> None:
    secret = {(b.type, f.key) for b in remotes.BACKENDS for f in b.fields if f.secret}
    assert secret == {("sftp", "pass"), ("webdav", "pass")}


# --- parsers ----------------------------------------------------------------------------


def test_parse_listremotes_long_output_of_1_75() -> None:
    out = "loop:  local  \nmyftp: sftp   \nmy dav: webdav My NAS at home\n\n"
    assert remotes.parse_listremotes(out) == [
        Remote("loop", "local"),
        Remote("myftp", "sftp"),
        Remote("my dav", "webdav"),
    ]


def test_parse_listremotes_long_output_of_1_60() -> None:
    # 1.60 pads "name:" to the longest name and prints the type, nothing more
    out = "dropbox:     dropbox\ngdrive:      drive\nsecret-nas:  crypt\n"
    assert [r.type for r in remotes.parse_listremotes(out)] == ["dropbox", "drive", "crypt"]


def test_parse_listremotes_without_long_still_gives_names() -> None:
    assert remotes.parse_listremotes("a:\nb:\n") == [Remote("a", ""), Remote("b", "")]


def test_remote_labels_name_the_service() -> None:
    assert Remote("loop", "sftp").label == "loop (SFTP)"
    assert Remote("pics", "drive").label == "pics (Google Drive)"
    assert Remote("x", "weird").label == "x (weird)"


def test_parse_lsjson_dirs_sorted_case_insensitively_with_paths() -> None:
    out = json.dumps(
        [
            {"Path": "b", "Name": "b", "IsDir": True},
            {"Path": "A c", "Name": "A c", "IsDir": True},
            {"Path": "f.jpg", "Name": "f.jpg", "IsDir": False},
        ]
    )
    assert remotes.parse_lsjson_dirs(out, "/Photos") == [
        Folder("A c", "/Photos/A c"),
        Folder("b", "/Photos/b"),
    ]
    assert remotes.parse_lsjson_dirs("[]", "/") == []
    assert remotes.parse_lsjson_dirs(out, "Photos")[0].path == "/Photos/A c"


def test_parse_lsjson_refuses_what_is_not_a_list() -> None:
    with pytest.raises(ValueError):
        remotes.parse_lsjson_dirs('{"a": 1}', "/")


@pytest.mark.parametrize("version", ["1.60.1", "1.75.2"])
def test_parse_version_from_recorded_output(version: str) -> None:
    text = (FIXTURES / version / "rclone-version.txt").read_text()
    answer = remotes.parse_version(text, "/usr/bin/rclone")
    assert answer.ok
    assert answer.value.version_text == version


def test_parse_version_too_old_says_how_to_upgrade() -> None:
    answer = remotes.parse_version("rclone v1.53.3\n- os/arch: linux/amd64\n", "/usr/bin/rclone")
    assert not answer.ok
    assert "too old" in answer.message and "1.60" in answer.message
    assert rclone_binary.UPGRADE_HINT in answer.message


def test_parse_version_of_something_else() -> None:
    answer = remotes.parse_version("Python 3.11\n", "/usr/bin/python3")
    assert not answer.ok and "is not rclone" in answer.message


def test_oauth_url_is_found_in_rclone_output() -> None:
    line = (
        "2026/11/24 01:28:54 ERROR : Failed to open browser automatically (exec: "
        '"xdg-open": executable file not found in $PATH) - please go to the following '
        "link: http://127.0.0.1:53682/auth?state=hCfTtB_uXN74dO6OETS3NQ"
    )
    assert remotes.oauth_url(line) == "http://127.0.0.1:53682/auth?state=hCfTtB_uXN74dO6OETS3NQ"
    assert remotes.oauth_url("NOTICE: Waiting for code...") is None


def test_error_text_from_json_log_is_one_plain_sentence() -> None:
    stderr = (FIXTURES / "1.75.2" / "server_down.jsonl").read_text()
    text = remotes.error_text(stderr, "loop")
    assert text.startswith("The remote refused the connection")
    assert "\n" not in text


def test_error_text_from_plain_1_60_output() -> None:
    stderr = (
        "2026/11/24 01:19:07 NOTICE: Config file not found - using defaults\n"
        '2026/11/24 01:19:07 Failed to create file system for "nope:": '
        "didn't find section in config file\n"
    )
    assert "does not exist" in remotes.error_text(stderr, "nope")


def test_a_busy_sign_in_port_is_said_so_not_read_from_rclones_usage_text() -> None:
    """rclone prints its usage after a failed `config create`; its flag list says
    "passwords", which must not turn the error into one about an encrypted config."""
    stderr = (FIXTURES / "1.75.2" / "config_create_oauth_port_busy.txt").read_text()
    text = remotes.answer_create("box")(1, "", stderr).message
    assert text == (
        "rclone could not open its sign-in page: another program uses its port (53682), "
        "often another rclone sign-in; close it, then try again."
    )


def test_rclones_usage_text_is_not_taken_for_its_error() -> None:
    """The error is said once ("Error: X" and "Fatal error: X" are the same error), as
    what went wrong in creating the remote, not in an upload."""
    stderr = (FIXTURES / "1.75.2" / "config_create_unknown_type.txt").read_text()
    text = remotes.answer_create("x")(2, "", stderr).message
    assert (
        text == 'rclone could not create the remote: couldn\'t find backend for type "nosuchtype".'
    )


@pytest.mark.parametrize(
    ("recorded", "target", "sentence"),
    [
        (
            "lsjson_config_encrypted_no_password.txt",
            "a:/Photos",
            "The rclone config is encrypted; set RCLONE_CONFIG_PASS for Skylift.",
        ),
        (
            "lsjson_config_wrong_password.txt",
            "a:/Photos",
            "The rclone config is encrypted and the password Skylift was given in "
            "RCLONE_CONFIG_PASS does not open it; check that password.",
        ),
        (
            "lsjson_crypt_remote_no_password.txt",
            "sec:/Photos",
            "The rclone remote 'sec' has no password in the rclone config; "
            "set it with 'rclone config'.",
        ),
    ],
)
def test_connection_test_tells_the_configs_password_from_a_remotes(
    recorded: str, target: str, sentence: str
) -> None:
    """A crypt remote without its password is not an encrypted config, and a wrong
    RCLONE_CONFIG_PASS is not a missing one (rclone 1.75.2, recorded)."""
    stderr = (FIXTURES / "1.75.2" / recorded).read_text()
    assert connection.verdict(target, 1, stderr) == (False, sentence)


def test_a_connection_test_error_no_rule_knows_says_what_failed() -> None:
    stderr = '{"level":"critical","msg":"Failed to lsjson: the server said no"}\n'
    assert connection.verdict("nas:/Photos", 1, stderr) == (
        False,
        "rclone could not reach nas:/Photos: Failed to lsjson: the server said no.",
    )


def test_answers_for_each_query() -> None:
    assert remotes.answer_remotes(0, "a: sftp\n", "").value == [Remote("a", "sftp")]
    assert not remotes.answer_remotes(1, "", "").ok
    missing = remotes.answer_dirs("loop", "/New")(
        3, "", '{"level":"error","msg":"error listing: directory not found"}\n'
    )
    assert not missing.ok and missing.value == [] and "first upload creates it" in missing.message
    ok = remotes.answer_test("loop", "/Photos")(0, "[]", "")
    assert ok.ok and ok.message == "loop:/Photos answers; uploads can go there."
    created = remotes.answer_create("studio")(0, "", "")
    assert created.ok and created.value == "studio"
