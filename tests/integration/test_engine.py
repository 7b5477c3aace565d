"""The engine on the Qt event loop, with a real rclone and a real loopback server."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylift.core import engine as engine_module
from skylift.core.engine import KEPT_CHANGING, Engine
from skylift.core.settings import Settings
from skylift.core.store import JobState, Store
from tests.conftest import Server, make_files

FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@pytest.fixture
def engine(qtbot, sftp_server: Server):  # type: ignore[no-untyped-def]
    settings = Settings({"remote": "loop", "remote_path": "/E", "retries": 0})
    store = Store()
    e = Engine(settings, store)
    yield e
    e.shutdown()
    store.close()


def all_finished(engine: Engine, ids: list[int]) -> bool:
    return all(j.state in FINISHED for j in engine.jobs(ids=ids))


def test_a_batch_is_one_rclone_process(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    files = make_files(tmp_path / "Set", [f"{i:03d}.jpg" for i in range(120)], size=500)
    with qtbot.waitSignal(engine.drained, timeout=120_000) as drained:
        result = engine.add_paths([tmp_path / "Set"])
    assert result.added == 120
    assert sorted(drained.args[0]) == sorted(j.id for j in result.jobs)
    assert engine.processes_started == 1
    assert engine.counts()["done"] == 120
    for f in files:
        assert sftp_server.file(f"E/Set/{f.name}").read_bytes() == f.read_bytes()


def test_changes_reach_listeners_in_few_signals(qtbot, tmp_path: Path, engine: Engine) -> None:
    make_files(tmp_path / "Set", [f"{i:03d}.jpg" for i in range(150)], size=200)
    emitted: list[list[int]] = []
    engine.jobsChanged.connect(emitted.append)
    with qtbot.waitSignal(engine.drained, timeout=120_000):
        engine.add_paths([tmp_path / "Set"])
    changed = {i for batch in emitted for i in batch}
    assert len(changed) == 150
    # 150 uploads, each queued -> uploading -> done, arrive batched, not one signal each
    assert len(emitted) < 150


def test_cancel_inside_a_running_batch(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    engine.settings["bwlimit"] = "400k"
    engine.settings["transfers"] = 1
    files = make_files(tmp_path / "Set", [f"{i}.jpg" for i in range(5)], size=150_000)
    result = engine.add_paths([tmp_path / "Set"])
    ids = [j.id for j in result.jobs]
    qtbot.waitUntil(lambda: engine.counts()["uploading"] == 5, timeout=30_000)
    last = ids[-1]
    assert engine.cancel([last]) == [last]
    qtbot.waitUntil(lambda: all_finished(engine, ids), timeout=120_000)
    states = {j.id: j.state for j in engine.jobs(ids=ids)}
    assert states[last] is JobState.CANCELLED
    assert [states[i] for i in ids[:-1]] == [JobState.DONE] * 4
    assert engine.processes_started == 2  # the batch was restarted without it
    assert not sftp_server.file("E/Set/4.jpg").exists()
    for f in files[:-1]:
        assert sftp_server.file(f"E/Set/{f.name}").read_bytes() == f.read_bytes()
    assert all(j.attempts == 1 for j in engine.jobs(ids=ids[:-1]))


def test_pause_and_resume(qtbot, tmp_path: Path, engine: Engine, sftp_server: Server) -> None:
    engine.settings["bwlimit"] = "300k"
    engine.settings["transfers"] = 1
    files = make_files(tmp_path, ["a.jpg", "b.jpg"], size=200_000)
    ids = [j.id for j in engine.add_paths(files).jobs]
    qtbot.waitUntil(lambda: engine.counts()["uploading"] == 2, timeout=30_000)
    with qtbot.waitSignal(engine.pausedChanged) as paused:
        engine.pause()
    assert paused.args == [True]
    qtbot.waitUntil(lambda: engine.counts()["queued"] == 2, timeout=30_000)
    assert [j.attempts for j in engine.jobs(ids=ids)] == [0, 0]
    assert engine.paused and engine.counts()["uploading"] == 0
    engine.resume()
    qtbot.waitUntil(lambda: all_finished(engine, ids), timeout=120_000)
    assert [j.state for j in engine.jobs(ids=ids)] == [JobState.DONE, JobState.DONE]
    for f in files:
        assert sftp_server.file(f"E/{f.name}").read_bytes() == f.read_bytes()


def test_progress_is_reported_per_file(qtbot, tmp_path: Path, engine: Engine) -> None:
    engine.settings["bwlimit"] = "1M"
    (f,) = make_files(tmp_path, ["big.jpg"], size=3_000_000)
    seen: list[tuple[int, float]] = []
    job_id = engine.add_paths([f]).jobs[0].id

    def record(update: dict) -> None:
        if job_id in update:
            seen.append(update[job_id][:2])

    engine.progress.connect(record)
    qtbot.waitUntil(lambda: all_finished(engine, [job_id]), timeout=120_000)
    assert engine.job(job_id).state is JobState.DONE  # type: ignore[union-attr]
    partial = [b for b, _ in seen if 0 < b < 3_000_000]
    assert partial, "no progress arrived while the file was in flight"
    assert [b for b, _ in seen] == sorted(b for b, _ in seen)
    assert any(speed > 0 for _, speed in seen)


def test_automatic_retries_back_off_then_fail(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    engine.settings["retries"] = 2
    engine.settings["retry_delay"] = 0.2
    sftp_server.stop()
    (f,) = make_files(tmp_path, ["a.jpg"])
    job_id = engine.add_paths([f]).jobs[0].id
    waiting = []

    def watch(ids: list[int]) -> None:
        j = engine.job(job_id)
        if j and j.state is JobState.QUEUED and j.error:
            waiting.append((j.attempts, j.next_try))

    engine.jobsChanged.connect(watch)
    qtbot.waitUntil(lambda: all_finished(engine, [job_id]), timeout=120_000)
    job = engine.job(job_id)
    assert job is not None and job.state is JobState.FAILED
    assert job.attempts == 3  # the first try and two retries
    assert "refused the connection" in (job.error or "")
    assert [a for a, _ in waiting] == [1, 2]
    assert waiting[1][1] > waiting[0][1]


def test_restart_requeues_interrupted_jobs(tmp_path: Path, qtbot) -> None:
    store = Store()
    (f,) = make_files(tmp_path, ["a.jpg"])
    jobs, _ = store.add([(f, "loop:/a.jpg", 1000, 0.0)])
    store.update([jobs[0].id], JobState.UPLOADING, attempt_delta=1)
    store.close()
    store = Store()
    settings = Settings({"enabled": False})
    e = Engine(settings, store)
    assert e.job(jobs[0].id).state is JobState.QUEUED  # type: ignore[union-attr]
    e.shutdown()
    store.close()


def test_outage_goes_offline_and_resumes_by_itself(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    engine.settings["retries"] = 5
    engine.settings["retry_delay"] = 300  # far longer than the test: only the probe can resume
    sftp_server.stop()
    files = make_files(tmp_path, ["a.jpg", "b.jpg"])
    with qtbot.waitSignal(engine.onlineChanged, timeout=60_000) as offline:
        ids = [j.id for j in engine.add_paths(files).jobs]
    assert offline.args == [False] and not engine.online
    qtbot.waitUntil(lambda: engine.counts()["queued"] == 2, timeout=30_000)
    waiting = engine.jobs(ids=ids)
    assert all(j.error and "refused the connection" in j.error for j in waiting)
    sftp_server.start()
    with qtbot.waitSignal(engine.onlineChanged, timeout=60_000) as online:
        pass
    assert online.args == [True]
    qtbot.waitUntil(lambda: all_finished(engine, ids), timeout=60_000)
    assert [j.state for j in engine.jobs(ids=ids)] == [JobState.DONE] * 2
    for f in files:
        assert sftp_server.file(f"E/{f.name}").read_bytes() == f.read_bytes()


def test_failed_during_outage_are_retried_when_back(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    sftp_server.stop()
    (f,) = make_files(tmp_path, ["a.jpg"])
    job_id = engine.add_paths([f]).jobs[0].id
    qtbot.waitUntil(lambda: engine.counts()["failed"] == 1, timeout=60_000)
    sftp_server.start()
    qtbot.waitUntil(
        lambda: all_finished(engine, [job_id]) and engine.counts()["done"] == 1, timeout=60_000
    )
    assert sftp_server.file("E/a.jpg").read_bytes() == f.read_bytes()


def test_file_changed_during_upload_is_sent_again(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    engine.settings["bwlimit"] = "500k"
    (f,) = make_files(tmp_path, ["edit.tif"], size=1_000_000)
    job_id = engine.add_paths([f]).jobs[0].id
    qtbot.waitUntil(lambda: (engine.job_progress(job_id) or (0,))[0] > 0, timeout=30_000)
    with open(f, "ab") as out:  # the editor saves again while the upload runs
        out.write(b"more pixels")
    qtbot.waitUntil(lambda: all_finished(engine, [job_id]), timeout=120_000)
    job = engine.job(job_id)
    assert job is not None and job.state is JobState.DONE
    assert sftp_server.file("E/edit.tif").read_bytes() == f.read_bytes()


def test_a_file_that_keeps_changing_is_given_up_on_until_retried(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "CHANGE_TRIES", 2)
    monkeypatch.setattr(engine_module, "SETTLE_SECONDS", 0.2)
    engine.settings["bwlimit"] = "500k"
    (f,) = make_files(tmp_path, ["growing.tif"], size=300_000)
    job_id = engine.add_paths([f]).jobs[0].id
    writes = 0

    def still_writing() -> bool:  # something keeps appending to it, upload after upload
        nonlocal writes
        with open(f, "ab") as out:
            out.write(b"x")
        writes += 1
        return all_finished(engine, [job_id])

    qtbot.waitUntil(still_writing, timeout=120_000)
    job = engine.job(job_id)
    assert job is not None and (job.state, job.error) == (JobState.FAILED, KEPT_CHANGING)
    assert engine.processes_started == 2 and writes > 2
    engine.retry([job_id])  # written for good now
    qtbot.waitUntil(lambda: all_finished(engine, [job_id]), timeout=120_000)
    job = engine.job(job_id)
    assert job is not None and (job.state, job.error) == (JobState.DONE, None)
    assert sftp_server.file("E/growing.tif").read_bytes() == f.read_bytes()


def test_files_handed_over_start_at_once_from_what_was_written(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    files = make_files(tmp_path / "Set", [f"{i:02d}.jpg" for i in range(30)], size=300)
    statements: list[str] = []
    engine.store._db.set_trace_callback(statements.append)
    result = engine.add_paths([tmp_path / "Set"], start_now=True)
    engine.store._db.set_trace_callback(None)
    ids = [j.id for j in result.jobs]
    assert {j.state for j in engine.jobs(ids=ids)} == {JobState.UPLOADING}
    # nothing older waited, so the queue was not read back for the batch it had just written
    assert not [s for s in statements if s.lstrip().startswith("SELECT id, path")]
    qtbot.waitUntil(lambda: all_finished(engine, ids), timeout=120_000)
    assert engine.counts()["done"] == 30 and engine.processes_started == 1
    for f in files:
        assert sftp_server.file(f"E/Set/{f.name}").read_bytes() == f.read_bytes()


def test_on_sftp_a_batch_larger_than_the_transfers_lists_its_folder(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    """The engine finds the remote's kind (here from RCLONE_CONFIG_LOOP_TYPE): on SFTP,
    files are looked up one by one (--no-traverse) only when there are no more of them
    than transfers, since each lookup beside a transfer waits for a new connection."""
    for count, looked_up in ((12, False), (3, True)):
        files = make_files(tmp_path / f"Set{count}", [f"{i:02d}.jpg" for i in range(count)])
        result = engine.add_paths([tmp_path / f"Set{count}"], start_now=True)
        (run,) = engine._runs
        assert ("--no-traverse" in run.proc.argv) is looked_up
        ids = [j.id for j in result.jobs]
        qtbot.waitUntil(lambda ids=ids: all_finished(engine, ids), timeout=120_000)
        for f in files:
            assert sftp_server.file(f"E/Set{count}/{f.name}").read_bytes() == f.read_bytes()


def test_files_handed_over_wait_behind_older_files_already_queued(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    (old,) = make_files(tmp_path / "Earlier", ["old.jpg"])
    (waiting,), _ = engine.store.add([(old, "loop:/Other/old.jpg", old.stat().st_size, 0.0)])
    make_files(tmp_path / "Set", ["a.jpg", "b.jpg"])
    result = engine.add_paths([tmp_path / "Set"], start_now=True)
    first = engine.job(waiting.id)
    assert first is not None and first.state is JobState.UPLOADING  # the oldest goes first
    assert {j.state for j in engine.jobs(ids=[j.id for j in result.jobs])} == {JobState.QUEUED}
    ids = [waiting.id, *(j.id for j in result.jobs)]
    qtbot.waitUntil(lambda: all_finished(engine, ids), timeout=120_000)
    assert {j.state for j in engine.jobs(ids=ids)} == {JobState.DONE}
    assert sftp_server.file("Other/old.jpg").read_bytes() == old.read_bytes()


def test_rclones_output_is_read_from_a_private_file_that_is_gone_afterwards(
    qtbot, tmp_path: Path, engine: Engine, sftp_server: Server
) -> None:
    from skylift.core import paths

    engine.settings["bwlimit"] = "300k"
    engine.settings["transfers"] = 1
    make_files(tmp_path / "Set", ["a.jpg", "b.jpg"], size=200_000)
    ids = [j.id for j in engine.add_paths([tmp_path / "Set"]).jobs]
    batches = paths.data_dir() / "batches"
    qtbot.waitUntil(lambda: any(batches.glob("rclone-*.log")), timeout=30_000)
    (log,) = batches.glob("rclone-*.log")
    assert log.stat().st_mode & 0o777 == 0o600
    qtbot.waitUntil(lambda: (engine.job_progress(ids[0]) or (0,))[0] > 0, timeout=30_000)
    qtbot.waitUntil(lambda: all_finished(engine, ids), timeout=120_000)
    assert {j.state for j in engine.jobs(ids=ids)} == {JobState.DONE}
    assert not list(batches.glob("rclone-*.log"))


def test_an_engine_let_go_after_a_batch_is_deleted_quietly(
    qtbot, tmp_path: Path, sftp_server: Server
) -> None:
    import gc
    import weakref

    store = Store()
    engines = [Engine(Settings({"remote": "loop", "remote_path": "/E"}), store)]
    (f,) = make_files(tmp_path, ["a.jpg"])
    job_id = engines[0].add_paths([f]).jobs[0].id
    qtbot.waitUntil(lambda: all_finished(engines[0], [job_id]), timeout=60_000)
    engines[0].shutdown()
    gone = weakref.ref(engines[0])
    engines.clear()
    gc.collect()
    qtbot.wait(100)  # the finished rclone runner's deferred deletion happens here
    gc.collect()
    assert gone() is None  # nothing of the engine is left behind, and nothing crashed
    store.close()
