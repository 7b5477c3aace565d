"""Loopback ports for the servers the tests, benchmarks and screenshot script start.

Plain sockets only (no pytest, no Qt), so scripts outside the test run can use it.
"""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_port(port: int, timeout: float = 15, interval: float = 0.05) -> None:
    """Return once something accepts connections on the port; RuntimeError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _accepts(port):
            return
        time.sleep(interval)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def wait_port_closed(port: int, timeout: float = 15) -> None:
    """Return once nothing accepts connections on the port (or after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _accepts(port):
            return
        time.sleep(0.05)
