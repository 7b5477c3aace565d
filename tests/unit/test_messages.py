"""rclone error text -> one plain sentence, with credentials taken out."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from skylift.core.messages import _PLAIN, plain, redact

SECRET = "hunter2-S3cr3t"

# --- redact -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET https://user:{SECRET}@dav.example.com/x", "GET https://***@dav.example.com/x"),
        (f"sftp://photo:{SECRET}@nas:22/Photos", "sftp://***@nas:22/Photos"),
        (f"https://{SECRET}@host/x", "https://***@host/x"),
        (f"https://h/x?token={SECRET}", "https://h/x?token=***"),
        (f"https://h/x?a=1&Token={SECRET}&b=2", "https://h/x?a=1&Token=***&b=2"),
        (f"https://h/x?password={SECRET}", "https://h/x?password=***"),
        (f"--sftp-pass={SECRET}", "--sftp-pass=***"),
        (
            f"https://b.s3.amazonaws.com/a.jpg?X-Amz-Credential={SECRET}&X-Amz-Signature={SECRET}",
            "https://b.s3.amazonaws.com/a.jpg?X-Amz-Credential=***&X-Amz-Signature=***",
        ),
        (
            f'token = {{"access_token":"{SECRET}","token_type":"Bearer",'
            f'"refresh_token":"{SECRET}x","expiry":"2026-01-01T00:00:00Z"}}',
            'token = {"access_token":"***","token_type":"Bearer",'
            '"refresh_token":"***","expiry":"2026-01-01T00:00:00Z"}',
        ),
        (f'{{"password" : "{SECRET}"}}', '{"password" : "***"}'),
        (f'{{"client_secret":"{SECRET}"}}', '{"client_secret":"***"}'),
        (f"RCLONE_CONFIG_PASS={SECRET} skylift", "RCLONE_CONFIG_PASS=*** skylift"),
        (f"rclone_config_pass={SECRET}", "rclone_config_pass=***"),
        (
            f"RCLONE_CONFIG_MYS3_SECRET_ACCESS_KEY={SECRET}",
            "RCLONE_CONFIG_MYS3_SECRET_ACCESS_KEY=***",
        ),
        (f"RCLONE_CONFIG_DROPBOX_TOKEN={SECRET}", "RCLONE_CONFIG_DROPBOX_TOKEN=***"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert SECRET not in redact(text)


def test_redact_leaves_ordinary_text_alone() -> None:
    text = (
        'Failed to copy: Update Close failed: sftp: "open /srv/readonly/b with space.jpg: '
        'permission denied" (SSH_FX_FAILURE) dial tcp 127.0.0.1:54995 token_type=Bearer'
    )
    assert redact(text) == text
    assert redact("") == ""


def test_redact_removes_every_secret_in_one_message() -> None:
    text = (
        f"https://u:{SECRET}a@h/x?token={SECRET}b "
        f'{{"access_token":"{SECRET}c"}} RCLONE_CONFIG_PASS={SECRET}d'
    )
    assert SECRET not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        f"GET https://www.googleapis.com/drive/v3/files?access_token={SECRET}&x=1",
        f"grant_type=refresh_token&refresh_token={SECRET}",
    ],
)
def test_redact_removes_oauth_query_parameters(text: str) -> None:
    assert SECRET not in redact(text)


# --- plain ------------------------------------------------------------------------------

CASES = [
    # (rclone's words, what the person reads)
    (
        'Failed to create file system for "loop:down": NewFs: couldn\'t connect SSH: '
        "dial tcp 127.0.0.1:54995: connect: connection refused",
        "The remote refused the connection; check that it is online and reachable, "
        "Skylift will retry.",
    ),
    (
        'Failed to create file system for "nas:": NewFs: couldn\'t connect SSH: dial tcp: '
        "lookup nas.example.invalid on 127.0.0.53:53: no such host",
        "The remote's address could not be found; check the network connection.",
    ),
    (
        'Failed to copy: Post "https://content.dropboxapi.com/2/files/upload": '
        "dial tcp 162.125.1.1:443: i/o timeout",
        "The remote did not answer in time; Skylift will retry.",
    ),
    (
        "Failed to copy: context deadline exceeded",
        "The remote did not answer in time; Skylift will retry.",
    ),
    (
        "Failed to copy: Update Close failed: permission denied",
        "The remote refused to store the file (permission denied); "
        "check the account's rights on that folder.",
    ),
    (
        'Failed to copy: Update Close failed: sftp: "open /tmp/s/readonly/a.jpg: '
        'permission denied" (SSH_FX_FAILURE)',
        "The remote refused to store the file (permission denied); "
        "check the account's rights on that folder.",
    ),
    (
        "googleapi: Error 403: The user's Drive storage quota has been exceeded., "
        "storageQuotaExceeded",
        "The remote is out of space; free some space there, then retry.",
    ),
    (
        "Failed to copy: Update ReadFrom failed: write /srv/a.jpg: no space left on device",
        "The remote is out of space; free some space there, then retry.",
    ),
    (
        "Failed to copy: 507 Insufficient Storage",
        "The remote is out of space; free some space there, then retry.",
    ),
    (
        'Failed to create file system for "nope:": didn\'t find section in config file ("nope")',
        "The rclone remote 'nope' does not exist; pick one that 'rclone listremotes' shows, "
        "or create it with 'rclone config'.",
    ),
    (
        "Failed to copy: failed to open source object: open /home/u/Export/a.jpg: "
        "no such file or directory",
        "The file no longer exists.",
    ),
    (
        "Failed to copy: Update ReadFrom failed: connection lost",
        "The connection to the remote was lost; Skylift will retry.",
    ),
    (
        "Discarding closed SSH connection: read tcp 127.0.0.1:60952->127.0.0.1:36487: "
        "read: connection reset by peer",
        "The connection to the remote was lost; Skylift will retry.",
    ),
    (
        "NewFs: couldn't connect SSH: ssh: handshake failed: ssh: unable to authenticate, "
        "attempted methods [none password], no supported methods remain",
        "The remote rejected the login; check its credentials with 'rclone config'.",
    ),
    (
        "Failed to copy: can't copy - source file is being updated (mod time changed from "
        "2026-01-01 to 2026-01-02)",
        "The file changed while it was being uploaded; it will be sent again once it "
        "stops changing.",
    ),
    (
        "unable to decrypt configuration and not allowed to ask for password - "
        "set RCLONE_CONFIG_PASS to your configuration password",
        "The rclone config is encrypted; set RCLONE_CONFIG_PASS for Skylift.",
    ),
    (
        "dial tcp 10.0.0.9:22: connect: network is unreachable",
        "The network is unreachable; check the connection, Skylift will retry.",
    ),
]


@pytest.mark.parametrize(("message", "sentence"), CASES)
def test_plain_maps_rclone_errors_to_sentences(message: str, sentence: str) -> None:
    assert plain(message, remote="nope") == sentence


@pytest.mark.parametrize(("message", "_"), CASES)
def test_plain_never_repeats_a_secret(message: str, _: str) -> None:
    leaky = f"{message} (GET https://u:{SECRET}@h/x?token={SECRET})"
    assert SECRET not in plain(leaky)


def test_plain_falls_back_to_the_redacted_message() -> None:
    out = plain(f"Failed to copy: GET https://u:{SECRET}@h/x?token={SECRET} gave 500 Oops.")
    assert out == (
        "rclone could not upload the file: "
        "Failed to copy: GET https://***@h/x?token=*** gave 500 Oops."
    )


def test_plain_says_what_rclone_was_asked_to_do() -> None:
    assert plain("Failed to list: odd reply", action="list the remotes") == (
        "rclone could not list the remotes: Failed to list: odd reply."
    )


def test_plain_of_nothing() -> None:
    assert plain("") == "rclone failed."
    assert plain("   ") == "rclone failed."


def test_plain_shortens_long_messages() -> None:
    out = plain("x" * 5000)
    assert len(out) < 400
    assert out.endswith("...")


def test_missing_remote_sentence_without_a_name() -> None:
    out = plain("didn't find section in config file")
    assert "  " not in out


@pytest.mark.parametrize(
    ("message", "sentence"),
    [
        (
            "Failed to copy: failed to open source object: open /home/u/Export/IMG_5071.jpg: "
            "no such file or directory",
            "The file no longer exists.",
        ),
        (
            "Failed to copy: failed to open source object: open /home/u/Export/DSC_4031.jpg: "
            "no such file or directory",
            "The file no longer exists.",
        ),
        (
            "Failed to copy: can't copy - source file is being updated (size changed from "
            "15071234 to 15090000)",
            "The file changed while it was being uploaded; it will be sent again once it "
            "stops changing.",
        ),
    ],
)
def test_numbers_in_file_names_do_not_pick_the_sentence(message: str, sentence: str) -> None:
    assert plain(message) == sentence


def test_an_unreadable_local_file_is_not_blamed_on_the_remote() -> None:
    message = (
        "Failed to copy: failed to open source object: open /home/u/Export/IMG_0001.jpg: "
        "permission denied"
    )
    assert "remote" not in plain(message).lower()


def test_plain_is_one_line() -> None:
    assert "\n" not in plain("Failed to copy: something odd\nhappened here")


_MESSAGES = st.one_of(
    st.text(max_size=400),
    st.sampled_from([m for m, _ in CASES]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=50).map(
        lambda t: "Failed to copy: " + t
    ),
)


@given(_MESSAGES, st.sampled_from(["", "nope", "my nas"]))
def test_plain_always_ends_with_a_period(message: str, remote: str) -> None:
    out = plain(message, remote)
    assert out.endswith(".")
    assert out[0].isupper() or out.startswith("rclone")


_SECRETS = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Nd")), min_size=8, max_size=20
).filter(lambda s: s.isascii())
_AROUND = st.text(st.sampled_from(list("abc .:;()/-'\"\t")), max_size=20)


@given(
    _AROUND,
    _SECRETS,
    _AROUND,
    st.sampled_from(
        [
            "https://user:{}@dav.example.com/x",
            "https://h/x?token={}",
            "https://h/x?a=1&password={}",
            '{{"access_token":"{}"}}',
            '{{"refresh_token": "{}"}}',
            "RCLONE_CONFIG_PASS={}",
            "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY={}",
        ]
    ),
)
def test_plain_never_returns_the_secret(before: str, secret: str, after: str, form: str) -> None:
    message = f"Failed to copy: {before} {form.format(secret)} {after}"
    # a "secret" that is a word of Skylift's own sentences (say, "encrypted") proves nothing
    assume(secret.lower() not in " ".join(s for _, s in _PLAIN).lower())
    assert secret not in plain(message)
    assert secret not in redact(message)
