"""What the engine remembers of a finished upload, and how little it reads to do so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skylift.core.engine import ALREADY_UPLOADED, Engine
from skylift.core.settings import Settings
from skylift.core.store import JobState, Store
from tests.conftest import Server, make_files


@pytest.fixture
def engine(qtbot: Any, sftp_server: Server) -> Iterator[Engine]:
    settings = Settings({"remote": "loop", "remote_path": "/U", "retries": 0})
    store = Store()
    e = Engine(settings, store)
    yield e
    e.shutdown()
    store.close()


def test_uploads_are_remembered_from_the_batch_itself(
    qtbot: Any, tmp_path: Path, engine: Engine, sftp_server: Server, monkeypatch: Any
) -> None:
    files = make_files(tmp_path / "Set", ["a.jpg", "b.jpg", "sub/c.jpg"], size=3000)
    files[1].write_bytes(b"x" * 1234)
    reads: list[list[int]] = []
    real_jobs = engine.store.jobs

    def counting_jobs(*args: Any, **kwargs: Any) -> Any:
        reads.append(list(kwargs.get("ids") or []))
        return real_jobs(*args, **kwargs)

    with qtbot.waitSignal(engine.drained, timeout=60_000):
        result = engine.add_paths([tmp_path / "Set"])
        # counted from here: rclone starts once the event loop runs, after this block
        monkeypatch.setattr(engine.store, "jobs", counting_jobs)
    jobs = engine.jobs(ids=[j.id for j in result.jobs])
    assert [j.state for j in jobs] == [JobState.DONE] * 3
    # the batch knew each file's path, destination and stamp: nothing was read back
    assert reads == [[j.id for j in jobs]]  # only the engine.jobs() call just above
    for f, j in zip(files, jobs, strict=True):
        st = f.stat()
        assert engine.store.uploaded(str(f), j.destination) == (
            st.st_size,
            st.st_mtime_ns / 1e9,
            None,
        )
        assert sftp_server.file(f"U/Set/{f.relative_to(tmp_path / 'Set')}").read_bytes() == (
            f.read_bytes()
        )

    # dropped again, unchanged: nothing is sent
    with qtbot.waitSignal(engine.drained, timeout=60_000):
        again = engine.add_paths([tmp_path / "Set"])
    assert engine.processes_started == 1
    assert [(j.state, j.note) for j in engine.jobs(ids=[j.id for j in again.jobs])] == [
        (JobState.DONE, ALREADY_UPLOADED)
    ] * 3


def test_upload_again_sends_an_already_uploaded_file_whose_remote_copy_is_gone(
    qtbot: Any, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    (photo,) = make_files(tmp_path / "Set", ["a.jpg"], size=4000)
    with qtbot.waitSignal(engine.drained, timeout=60_000):
        engine.add_paths([photo])
    remote = sftp_server.file("U/a.jpg")
    remote.unlink()  # someone tidied the remote folder
    with qtbot.waitSignal(engine.drained, timeout=60_000):
        (job,) = engine.add_paths([photo]).jobs
    assert engine.jobs(ids=[job.id])[0].note == ALREADY_UPLOADED
    assert not remote.exists()  # Skylift's record says it was sent: it is not sent again

    with qtbot.waitSignal(engine.drained, timeout=60_000):
        assert engine.send_again([job.id]) == [job.id]
    (again,) = engine.jobs(ids=[job.id])
    assert (again.state, again.note, again.attempts, again.force) == (JobState.DONE, None, 1, False)
    assert remote.read_bytes() == photo.read_bytes()
    assert engine.processes_started == 2
    # only a done job goes again; one already waiting or failed is left as it is
    assert engine.send_again([job.id + 1000]) == []
