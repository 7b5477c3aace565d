"""``rclone version`` started early (while Qt loads) and collected by ``find``."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylift.core import rclone_binary


def fake_rclone(tmp_path: Path, version: str) -> tuple[Path, Path]:
    runs = tmp_path / "runs"
    exe = tmp_path / "rclone"
    exe.write_text(f"#!/bin/sh\necho x >> '{runs}'\necho 'rclone v{version}'\n")
    exe.chmod(0o755)
    return exe, runs


def test_a_check_started_early_is_collected_not_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rclone_binary, "_cache", {})
    exe, runs = fake_rclone(tmp_path, "1.66.0")
    rclone_binary.start_check(str(exe))
    rclone_binary.start_check(str(exe))  # one is enough
    assert rclone_binary.find(str(exe)).version == (1, 66, 0)
    assert rclone_binary.find(str(exe)).version == (1, 66, 0)
    assert runs.read_text().count("x") == 1
    rclone_binary.start_check(str(exe))  # known now: nothing starts
    assert runs.read_text().count("x") == 1


def test_a_check_started_early_still_refuses_an_old_rclone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rclone_binary, "_cache", {})
    exe, runs = fake_rclone(tmp_path, "1.50.0")
    rclone_binary.start_check(str(exe))
    with pytest.raises(rclone_binary.RcloneError, match="too old"):
        rclone_binary.find(str(exe))
    assert runs.read_text().count("x") == 1


def test_of_processes_started_together_one_starts_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rclone_binary, "_cache", {})
    exe, runs = fake_rclone(tmp_path, "1.66.0")
    rclone_binary.start_check(str(exe))
    first = rclone_binary._started[str(exe)]
    # another process, a moment later (its own memory, the same runtime folder)
    monkeypatch.setattr(rclone_binary, "_started", {})
    rclone_binary.start_check(str(exe))
    assert rclone_binary._started == {}
    assert rclone_binary.find(str(exe)).version == (1, 66, 0)  # checks for itself
    first.communicate()
    assert runs.read_text().count("x") == 2  # the first one's check, and this find's
