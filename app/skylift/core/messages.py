"""rclone's error text turned into one plain sentence, with secrets taken out."""

from __future__ import annotations

import re

_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+(?::[^/\s@]*)?@")
_SECRET_PARAMS = re.compile(
    r"(?i)(?<![A-Za-z0-9])(pass(?:word)?|access_token|refresh_token|id_token|api_?key|token|secret(?:_access_key)?|access_key_id|key|sig(?:nature)?|"
    r"x-amz-signature|x-amz-credential|client_secret|auth)=([^&\s\"']+)"
)
_JSON_SECRETS = re.compile(
    r'(?i)("(?:access_token|refresh_token|token|password|pass|secret|client_secret)"\s*:\s*")'
    r'[^"]*(")'
)
_ENV_SECRETS = re.compile(
    r"(?i)\b(RCLONE_CONFIG_PASS|RCLONE_CONFIG_\w*(?:PASS|TOKEN|KEY|SECRET)\w*)=(\S+)"
)


def redact(text: str) -> str:
    """Remove credentials from URLs, query strings, JSON tokens and env assignments."""
    text = _URL_CREDENTIALS.sub(r"\1***@", text)
    text = _SECRET_PARAMS.sub(r"\1=***", text)
    text = _JSON_SECRETS.sub(r"\1***\2", text)
    return _ENV_SECRETS.sub(r"\1=***", text)


_PLAIN: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), s)
    for p, s in (
        (
            r"didn't find section in config file|config file not found.*remote|"
            r"not found in config",
            "The rclone remote {remote} does not exist; pick one "
            "that 'rclone listremotes' shows, or create it with 'rclone config'.",
        ),
        (
            r"unable to authenticate|authentication failed|invalid credentials|"
            r"login failed|bad credentials",
            "The remote rejected the login; check its credentials with 'rclone config'.",
        ),
        (
            r"connection refused",
            "The remote refused the connection; check that it is "
            "online and reachable, Skylift will retry.",
        ),
        (
            r"no such host|name resolution|server misbehaving|lookup .* on ",
            "The remote's address could not be found; check the network connection.",
        ),
        (
            r"network is unreachable|no route to host",
            "The network is unreachable; check the connection, Skylift will retry.",
        ),
        (
            r"i/o timeout|deadline exceeded|timed out|timeout",
            "The remote did not answer in time; Skylift will retry.",
        ),
        (
            r"connection reset|broken pipe|unexpected eof|eof$|closed network connection|"
            r"connection lost",
            "The connection to the remote was lost; Skylift will retry.",
        ),
        (
            r"quota|insufficient.storage|no space left|storage.*full|(?<![\w.])507(?![\w.])",
            "The remote is out of space; free some space there, then retry.",
        ),
        (
            r"(?:failed to|couldn't|can't) open source (?:file|object).*permission denied",
            "Skylift cannot read the file (permission denied); check its permissions.",
        ),
        (
            r"permission denied|access denied|forbidden|(?<![\w.])40[13](?![\w.])|"
            r"not authori[sz]ed|unauthori[sz]ed",
            "The remote refused to store the file (permission denied); "
            "check the account's rights on that folder.",
        ),
        (
            r"(?:couldn't|can't|failed to) (?:open|read) (?:source )?(?:file|object)|"
            r"no such file or directory|file not found|object not found",
            "The file no longer exists.",
        ),
        (
            r"source file is being updated|changed during|size changed|modtime changed",
            "The file changed while it was being uploaded; it will be sent again once it "
            "stops changing.",
        ),
        (
            r"auth webserver.*address already in use",
            "rclone could not open its sign-in page: another program uses its port "
            "(53682), often another rclone sign-in; close it, then try again.",
        ),
        (
            r"wrong password|using RCLONE_CONFIG_PASS env password",
            "The rclone config is encrypted and the password Skylift was given in "
            "RCLONE_CONFIG_PASS does not open it; check that password.",
        ),
        (
            # a crypt remote (or another that needs one) without its password: not the
            # config's own encryption
            r"password not set in config",
            "The rclone remote {remote} has no password in the rclone config; "
            "set it with 'rclone config'.",
        ),
        (
            r"decrypt configuration|RCLONE_CONFIG_PASS|configuration password|"
            r"config(?:uration)? (?:file )?is encrypted",
            "The rclone config is encrypted; set RCLONE_CONFIG_PASS for Skylift.",
        ),
    )
)


_NETWORK = re.compile(
    r"connection refused|no such host|network is unreachable|no route to host|i/o timeout|"
    r"connection reset|connection lost|broken pipe|couldn't connect|dial tcp",
    re.I,
)


def is_network(message: str) -> bool:
    """Whether an rclone error means the remote cannot be reached at all right now."""
    return bool(_NETWORK.search(message))


def plain(message: str, remote: str = "", action: str = "upload the file") -> str:
    """One plain sentence for an rclone error message (the detail goes to the log).

    ``action``: what rclone was asked to do, for a message no rule knows: "rclone could
    not {action}: {message}."
    """
    for pattern, sentence in _PLAIN:
        if pattern.search(message):
            return " ".join(sentence.replace("{remote}", f"'{remote}'" if remote else "").split())
    text = " ".join(redact(message).split()).rstrip(".")
    if len(text) > 300:
        text = text[:297] + "..."
    return f"rclone could not {action}: {text}." if text else "rclone failed."
