"""Testing that a remote answers: the arguments, the verdict, and a blocking runner."""

from __future__ import annotations

import subprocess

from skylift.core import rclone_binary
from skylift.core.messages import plain, redact
from skylift.core.rclone_args import split_remote
from skylift.core.rclone_events import Failure, FileError, Text, parse_line


def args(rclone: str, target: str) -> list[str]:
    """List the top of ``target``: cheap on every backend, and proves we can log in."""
    split_remote(target)
    return [
        rclone,
        "lsjson",
        target,
        "--max-depth=1",
        "--dirs-only",
        "--use-json-log",
        "--ask-password=false",
        "--retries=1",
        "--low-level-retries=1",
        "--contimeout=15s",
        "--timeout=30s",
    ]


def verdict(target: str, code: int, stderr: str) -> tuple[bool, str | None]:
    """(ok, plain reason) from rclone's exit code and JSON log."""
    if code == 0:
        return True, None
    messages = []
    for line in stderr.splitlines():
        ev = parse_line(line)
        if isinstance(ev, (Failure, FileError)):
            messages.append(ev.message)
        elif isinstance(ev, Text) and ev.line:
            messages.append(ev.line)
    text = " ".join(messages)
    if "directory not found" in text.lower():
        # the folder is made by the first upload; the remote itself answered
        return True, None
    remote = split_remote(target)[0]
    return False, plain(text or f"rclone exited with code {code}", remote, f"reach {target}")


def test(target: str, rclone_path: str = "", timeout: float = 60) -> tuple[bool, str | None]:
    """Blocking check for the CLI and the API. The GUI runs ``args`` in a QProcess."""
    try:
        rclone = rclone_binary.find(rclone_path)
        env = rclone_binary.child_environment()
    except rclone_binary.RcloneError as e:
        return False, str(e)
    try:
        out = subprocess.run(
            args(rclone.path, target),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return False, f"The remote did not answer within {timeout:.0f} seconds."
    except OSError as e:
        return False, redact(f"rclone could not be started: {e}")
    return verdict(target, out.returncode, out.stderr)
