"""What the engine tells listeners at the end of a batch, without waiting for its timer.

The flush timer is set far beyond the test's length here, so whatever listeners hear
was sent because a batch ended, not because the timer ticked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skylift.core import engine as engine_module
from skylift.core.engine import Engine
from skylift.core.settings import Settings
from skylift.core.store import JobState, Store
from tests.conftest import Server, make_files


@pytest.fixture
def engine(qtbot: Any, sftp_server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(engine_module, "FLUSH_MS", 3_600_000)
    settings = Settings({"remote": "loop", "remote_path": "/F", "retries": 0})
    store = Store()
    e = Engine(settings, store)
    yield e
    e.shutdown()
    store.close()


def test_each_batch_is_reported_as_it_ends(
    qtbot: Any, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    # two destinations: two batches, one after the other
    make_files(tmp_path / "A", ["a1.jpg", "a2.jpg"])
    make_files(tmp_path / "B", ["b1.jpg", "b2.jpg"])
    first = {j.id for j in engine.add_paths([tmp_path / "A"], destination="loop:/F1").jobs}
    engine.add_paths([tmp_path / "B"], destination="loop:/F2")
    heard: list[tuple[list[int], dict[int, JobState], int]] = []
    reader = Store()  # another process's view of the queue

    def changed(ids: list[int]) -> None:
        states = {j.id: j.state for j in reader.jobs(ids=ids)}
        left = engine.counts()["queued"] + engine.counts()["uploading"]
        heard.append((ids, states, left))

    engine.jobsChanged.connect(changed)
    with qtbot.waitSignal(engine.drained, timeout=120_000):
        engine.kick(0)
    reader.close()
    done_first = [
        (states, left)
        for _ids, states, left in heard
        if first <= set(states) and all(states[i] is JobState.DONE for i in first)
    ]
    assert done_first, heard
    _states, left = done_first[0]
    # the first batch was reported done, committed, while the second still waited
    assert left == 2
    assert engine.processes_started == 2
    assert engine.counts()["done"] == 4


def test_a_file_already_copied_is_not_cancelled(
    qtbot: Any, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    engine.settings["bwlimit"] = "300k"
    engine.settings["transfers"] = 1
    files = make_files(tmp_path / "Set", ["1.jpg", "2.jpg", "3.jpg"], size=150_000)
    ids = [j.id for j in engine.add_paths([tmp_path / "Set"]).jobs]
    # rclone has reported the first file copied; the flush that would mark it done
    # has not come yet (the timer is far away)
    qtbot.waitUntil(lambda: bool(engine._runs and engine._runs[0].copied), timeout=60_000)
    copied = next(iter(engine._runs[0].copied))
    assert engine.cancel([copied]) == []
    assert engine.job(copied).state is JobState.DONE  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: all(j.state.finished for j in engine.jobs(ids=ids)), timeout=120_000)
    assert {j.state for j in engine.jobs(ids=ids)} == {JobState.DONE}
    for f in files:
        assert sftp_server.file(f"F/Set/{f.name}").read_bytes() == f.read_bytes()
