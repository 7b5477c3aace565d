"""Finding the running app's socket without platformdirs, and only where it is safe."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from skylift.entry.ipc_client import _xdg_socket


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    base = tmp_path / "run"
    (base / "skylift").mkdir(parents=True, mode=0o700)
    (base / "skylift").chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    return base / "skylift"


def listen(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    return s


def test_the_socket_in_a_private_runtime_folder_is_found(runtime: Path) -> None:
    with listen(runtime / "skylift.sock"):
        assert _xdg_socket() == str(runtime / "skylift.sock")


def test_a_folder_others_can_enter_is_not_trusted(runtime: Path) -> None:
    runtime.chmod(0o755)
    with listen(runtime / "skylift.sock"):
        assert _xdg_socket() is None


def test_a_file_that_is_not_a_socket_is_not_used(runtime: Path) -> None:
    (runtime / "skylift.sock").write_text("")
    assert _xdg_socket() is None


def test_a_symlinked_folder_is_not_followed(runtime: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    runtime.rmdir()
    runtime.symlink_to(elsewhere)
    with listen(elsewhere / "skylift.sock"):
        assert _xdg_socket() is None


@pytest.mark.parametrize("value", ["", "relative/run"])
def test_no_usable_xdg_runtime_dir_means_the_long_way(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", value)
    assert _xdg_socket() is None
