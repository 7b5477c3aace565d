"""Logging to the log folder, rotated, with secrets removed from every line."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

from skylift.core import paths
from skylift.core.messages import redact


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup(debug: bool = False, to_stderr: bool = False) -> None:
    root = logging.getLogger()
    if getattr(root, "_skylift_configured", False):
        return
    root._skylift_configured = True  # type: ignore[attr-defined]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    fmt = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        path = paths.log_file()
        paths.private_dir(path.parent)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        # rotated files are created by the handler; keep them private too
        handler.rotator = _private_rotate
        handler.setFormatter(fmt)
        root.addHandler(handler)
    except OSError as e:
        print(f"skylift: cannot write the log ({e.strerror}); logging to stderr", file=sys.stderr)
        to_stderr = True
    if to_stderr or debug:
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(fmt)
        console.setLevel(logging.DEBUG if debug else logging.WARNING)
        root.addHandler(console)
    if not debug:
        logging.getLogger("skylift.rclone").setLevel(logging.INFO)


def _private_rotate(source: str, dest: str) -> None:
    os.replace(source, dest)
    os.chmod(dest, 0o600)
    os.close(os.open(source, os.O_CREAT | os.O_WRONLY, 0o600))
