"""The persistent upload queue (SQLite in WAL mode)."""

from __future__ import annotations

import random
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from skylift.core import store as store_module
from skylift.core.store import SCHEMA_VERSION, Job, JobState, Store, StoreError

DEST = "dropbox:/Photos"


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def item(name: str, dest: str = DEST, size: int = 1000) -> tuple[Path, str, int, float]:
    return Path("/home/u/Export") / name, f"{dest}/{name}", size, 1_700_000_000.0


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "queue.sqlite3"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    s = Store(db)
    yield s
    s.close()


def add_one(store: Store, name: str = "a.jpg", **kw: object) -> Job:
    (job,), _ = store.add([item(name, **kw)])  # type: ignore[arg-type]
    return job


def state(store: Store, job_id: int) -> JobState:
    job = store.get(job_id)
    assert job is not None
    return job.state


# --- the database file ------------------------------------------------------------------


def test_new_queue_is_wal_with_the_current_schema(store: Store, db: Path) -> None:
    with sqlite3.connect(db) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.jobs() == []


def test_default_location_is_in_the_profile(profile: Path) -> None:
    s = Store()
    try:
        assert s.path == profile / "data" / "skylift" / "queue.sqlite3"
        assert s.path.exists()
    finally:
        s.close()


def test_files_are_private(store: Store, db: Path) -> None:
    add_one(store)  # a write creates the -wal and -shm files
    assert mode(db.parent) == 0o700
    assert mode(db) == 0o600
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{db}{suffix}")
        if extra.exists():
            assert mode(extra) == 0o600, suffix


def test_an_open_folder_and_file_are_tightened(db: Path) -> None:
    db.parent.mkdir(mode=0o755)
    db.parent.chmod(0o755)
    Store(db).close()
    db.chmod(0o644)
    Store(db).close()
    assert mode(db.parent) == 0o700
    assert mode(db) == 0o600


def test_jobs_survive_a_restart(db: Path) -> None:
    s = Store(db)
    jobs, _ = s.add([item("a.jpg"), item("b.jpg")])
    s.update([jobs[1].id], JobState.DONE)
    s.close()
    again = Store(db)
    try:
        assert [(j.name, j.state) for j in again.jobs()] == [
            ("a.jpg", JobState.QUEUED),
            ("b.jpg", JobState.DONE),
        ]
    finally:
        again.close()


def test_a_reader_sees_committed_changes_at_once(store: Store, db: Path) -> None:
    reader = Store(db, readonly=True)
    try:
        job = add_one(store)
        store.update([job.id], JobState.UPLOADING)
        assert reader.counts()["uploading"] == 1
        assert [j.id for j in reader.jobs()] == [job.id]
    finally:
        reader.close()


def test_a_corrupt_database_is_reported_and_left_in_place(db: Path) -> None:
    db.parent.mkdir(mode=0o700)
    garbage = random.Random(7).randbytes(8192)
    db.write_bytes(garbage)
    with pytest.raises(StoreError) as e:
        Store(db)
    message = str(e.value)
    assert str(db) in message
    assert "damaged" in message and "move it aside" in message
    assert "\n" not in message
    assert db.read_bytes() == garbage, "the file is neither deleted nor rewritten"


def test_a_queue_from_a_newer_skylift_is_refused(db: Path) -> None:
    db.parent.mkdir(mode=0o700)
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, future TEXT)")
        c.execute("INSERT INTO jobs (future) VALUES ('keep me')")
        c.execute("PRAGMA user_version = 99")
    c.close()
    with pytest.raises(StoreError) as e:
        Store(db)
    assert "newer Skylift (schema 99)" in str(e.value)
    assert "update Skylift" in str(e.value)
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 99
        assert c.execute("SELECT future FROM jobs").fetchall() == [("keep me",)]
    c.close()


def test_readonly_open_of_a_database_without_a_queue(db: Path) -> None:
    db.parent.mkdir(mode=0o700)
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE other (x)")
    c.close()
    with pytest.raises(StoreError, match="has no queue in it yet; start Skylift once"):
        Store(db, readonly=True)


def test_readonly_open_while_the_first_command_creates_the_queue(db: Path) -> None:
    """`skylift status` run just as the first upload starts finds the queue file made
    but its tables not yet: it waits for them instead of saying there is no queue."""
    db.parent.mkdir(mode=0o700)
    db.touch(mode=0o600)  # as the first Store makes it, before SQLite writes anything
    made: list[bool] = []

    def create() -> None:
        Store(db).close()  # a Store belongs to the thread that made it
        made.append(True)

    creator = threading.Timer(0.3, create)
    creator.start()
    try:
        reader = Store(db, readonly=True)
        assert reader.counts()["queued"] == 0
        reader.close()
    finally:
        creator.join()
    assert made, "the creating Store never ran"


def test_readonly_open_does_not_change_the_file(store: Store, db: Path) -> None:
    add_one(store)
    store.close()
    before = db.read_bytes()
    reader = Store(db, readonly=True)
    try:
        assert reader.counts()["queued"] == 1
    finally:
        reader.close()
    assert db.read_bytes() == before


# --- add --------------------------------------------------------------------------------


def test_add_returns_queued_jobs(store: Store) -> None:
    jobs, added = store.add([item("a.jpg", size=10), item("b.jpg", size=20)])
    assert added == 2
    a, b = jobs
    assert (a.name, a.size, a.state, a.bytes, a.attempts) == ("a.jpg", 10, JobState.QUEUED, 0, 0)
    assert a.destination == "dropbox:/Photos/a.jpg" == a.output_path == a.remote_path
    assert a.path == Path("/home/u/Export/a.jpg")
    assert a.error is None and a.finished is None and a.next_try == 0
    assert a.created.endswith("Z")
    assert b.id > a.id


def test_the_jobs_add_returns_are_the_jobs_it_wrote(store: Store) -> None:
    old = add_one(store, "old.jpg")
    items = [item("new.jpg", size=7), (str(Path("/home/u/Export/str.jpg")), "d:/s.jpg", 3, 5)]
    jobs, added = store.add([*items, item("old.jpg")], origin="/home/u/Export")  # type: ignore[list-item]
    assert added == 2
    assert sorted(jobs, key=lambda j: j.id) == store.jobs(ids=[j.id for j in jobs])  # as written
    assert jobs[2] == old  # the file already waiting: its own job, origin unchanged
    assert isinstance(jobs[1].path, Path) and isinstance(jobs[1].mtime, float)


def test_adding_reads_back_only_the_files_already_waiting(store: Store) -> None:
    old = add_one(store, "old.jpg")
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    jobs, _ = store.add([item(f"IMG_{i:03}.jpg") for i in range(100)] + [item("old.jpg")])
    store._db.set_trace_callback(None)
    reads = [s for s in statements if s.lstrip().startswith("SELECT id, path")]
    assert len(reads) == 1 and f"id IN ({old.id})" in reads[0]
    assert len(jobs) == 101 and jobs[-1] == old


def test_ten_thousand_files_are_queued_in_one_transaction(store: Store) -> None:
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    jobs, added = store.add([item(f"IMG_{i:05}.jpg") for i in range(10_000)])
    store._db.set_trace_callback(None)
    assert added == 10_000 and len(jobs) == 10_000
    begins = [s for s in statements if s.lstrip().upper().startswith("BEGIN")]
    commits = [s for s in statements if s.lstrip().upper().startswith("COMMIT")]
    assert (len(begins), len(commits)) == (1, 1)
    assert store.counts()["queued"] == 10_000


def test_a_failing_add_leaves_the_queue_unchanged(store: Store) -> None:
    add_one(store, "keep.jpg")
    bad = [item("a.jpg"), (Path("/x/b.jpg"), "d:/b.jpg", object(), 0.0)]
    with pytest.raises(sqlite3.Error):
        store.add(bad)  # type: ignore[arg-type]
    assert [j.name for j in store.jobs()] == ["keep.jpg"]


@pytest.mark.parametrize("busy", [JobState.QUEUED, JobState.UPLOADING])
def test_the_same_file_is_not_queued_twice_while_waiting(store: Store, busy: JobState) -> None:
    first = add_one(store)
    store.update([first.id], busy)
    (again,), added = store.add([item("a.jpg")])
    assert added == 0
    assert again.id == first.id
    assert len(store.jobs()) == 1


@pytest.mark.parametrize("end", [JobState.DONE, JobState.FAILED, JobState.CANCELLED])
def test_a_finished_file_can_be_queued_again(store: Store, end: JobState) -> None:
    first = add_one(store)
    store.update([first.id], end)
    (again,), added = store.add([item("a.jpg")])
    assert added == 1
    assert again.id != first.id and again.state is JobState.QUEUED
    assert state(store, first.id) is end


def test_the_same_file_to_another_destination_is_another_job(store: Store) -> None:
    jobs, added = store.add([item("a.jpg"), item("a.jpg", dest="nas:/Backup")])
    assert added == 2
    assert len({j.id for j in jobs}) == 2


def test_duplicates_within_one_call_are_queued_once(store: Store) -> None:
    jobs, added = store.add([item("a.jpg"), item("b.jpg"), item("a.jpg")])
    assert added == 2
    assert [j.name for j in jobs] == ["a.jpg", "b.jpg"]
    assert len(store.jobs()) == 2


def test_add_of_nothing(store: Store) -> None:
    assert store.add([]) == ([], 0)


def test_unicode_and_odd_names_are_stored_exactly(store: Store) -> None:
    names = ["ünïcode.jpg", "b with space.jpg", "-n.jpg", "a\nb.jpg", 'it\'s "q".jpg']
    jobs, _ = store.add([item(n) for n in names])
    assert [j.name for j in store.jobs(ids=[j.id for j in jobs])] == names


# --- update -----------------------------------------------------------------------------


def test_update_to_done(store: Store) -> None:
    job = add_one(store, size=5000)
    store.update([job.id], JobState.UPLOADING, attempt_delta=1)
    assert store.update([job.id], JobState.DONE) == [job.id]
    done = store.get(job.id)
    assert done is not None
    assert done.state is JobState.DONE and done.status == "done"
    assert done.bytes == 5000, "a done job counts as fully sent"
    assert done.attempts == 1
    assert done.finished is not None and done.error is None


def test_update_to_failed_keeps_the_error_and_backoff(store: Store) -> None:
    job = add_one(store)
    store.update(
        [job.id], JobState.QUEUED, error="The remote refused the connection.", next_try=1e10
    )
    queued = store.get(job.id)
    assert queued is not None
    assert queued.error == "The remote refused the connection."
    assert queued.next_try == 1e10 and queued.finished is None
    store.update([job.id], JobState.FAILED, error="gone", attempt_delta=3)
    failed = store.get(job.id)
    assert failed is not None
    assert (failed.state, failed.error, failed.attempts) == (JobState.FAILED, "gone", 3)
    assert failed.finished is not None


def test_update_requeue_resets_progress(store: Store) -> None:
    job = add_one(store)
    store.update([job.id], JobState.UPLOADING, bytes_done=600)
    assert store.get(job.id).bytes == 600  # type: ignore[union-attr]
    store.update([job.id], JobState.QUEUED)
    assert store.get(job.id).bytes == 0  # type: ignore[union-attr]


def test_attempts_never_go_below_zero(store: Store) -> None:
    job = add_one(store)
    store.update([job.id], JobState.QUEUED, attempt_delta=-5)
    assert store.get(job.id).attempts == 0  # type: ignore[union-attr]


def test_update_can_record_a_new_size(store: Store) -> None:
    job = add_one(store, size=10)
    store.update([job.id], JobState.DONE, size=4321)
    done = store.get(job.id)
    assert done is not None and (done.size, done.bytes) == (4321, 4321)


def test_only_from_protects_a_job_cancelled_meanwhile(store: Store) -> None:
    a, b = store.add([item("a.jpg"), item("b.jpg")])[0]
    store.update([a.id, b.id], JobState.UPLOADING)
    store.update([b.id], JobState.CANCELLED)
    changed = store.update([a.id, b.id], JobState.DONE, only_from=(JobState.UPLOADING,))
    assert changed == [a.id]
    assert state(store, a.id) is JobState.DONE
    assert state(store, b.id) is JobState.CANCELLED


def test_update_of_unknown_or_no_ids(store: Store) -> None:
    assert store.update([], JobState.DONE) == []
    assert store.update([12345], JobState.DONE) == []


def test_update_of_many_jobs_changes_them_all(store: Store) -> None:
    jobs, _ = store.add([item(f"{i}.jpg") for i in range(1234)])
    ids = [j.id for j in jobs]
    assert sorted(store.update(ids, JobState.UPLOADING)) == ids
    assert store.counts()["uploading"] == 1234


def test_reset_attempts(store: Store) -> None:
    job = add_one(store)
    store.update([job.id], JobState.FAILED, attempt_delta=4)
    store.reset_attempts([job.id])
    assert store.get(job.id).attempts == 0  # type: ignore[union-attr]


def test_requeue_interrupted(store: Store) -> None:
    jobs, _ = store.add([item("a.jpg"), item("b.jpg"), item("c.jpg")])
    a, b, c = (j.id for j in jobs)
    store.update([a, b], JobState.UPLOADING, bytes_done=500, next_try=1e10)
    store.update([c], JobState.DONE)
    assert store.requeue_interrupted() == 2
    for job_id in (a, b):
        job = store.get(job_id)
        assert job is not None
        assert (job.state, job.bytes, job.next_try) == (JobState.QUEUED, 0, 0)
    assert state(store, c) is JobState.DONE
    assert store.requeue_interrupted() == 0


# --- reading ----------------------------------------------------------------------------


def test_counts_name_every_state(store: Store) -> None:
    assert store.counts() == {s.value: 0 for s in JobState}
    jobs, _ = store.add([item(f"{i}.jpg") for i in range(5)])
    ids = [j.id for j in jobs]
    store.update(ids[:1], JobState.UPLOADING)
    store.update(ids[1:3], JobState.DONE)
    store.update(ids[3:4], JobState.FAILED)
    assert store.counts() == {
        "queued": 1,
        "uploading": 1,
        "done": 2,
        "failed": 1,
        "cancelled": 0,
    }


def test_due_returns_ready_queued_jobs_oldest_first(store: Store) -> None:
    jobs, _ = store.add([item(f"{i}.jpg") for i in range(6)])
    ids = [j.id for j in jobs]
    store.update([ids[0]], JobState.QUEUED, next_try=500.0)  # backing off until 500
    store.update([ids[1]], JobState.UPLOADING)
    store.update([ids[2]], JobState.FAILED)
    store.update([ids[4]], JobState.QUEUED, next_try=100.0)
    assert [j.id for j in store.due(now=200.0, limit=10)] == [ids[3], ids[4], ids[5]]
    assert [j.id for j in store.due(now=200.0, limit=2)] == [ids[3], ids[4]]
    assert [j.id for j in store.due(now=500.0, limit=10)] == [ids[0], ids[3], ids[4], ids[5]]
    assert store.due(now=1000.0, limit=0) == []


def test_next_wakeup(store: Store) -> None:
    assert store.next_wakeup() is None
    jobs, _ = store.add([item("a.jpg"), item("b.jpg")])
    store.update([jobs[0].id], JobState.QUEUED, next_try=300.0)
    store.update([jobs[1].id], JobState.QUEUED, next_try=200.0)
    assert store.next_wakeup() == 200.0
    store.update([jobs[1].id], JobState.DONE)
    assert store.next_wakeup() == 300.0


def test_jobs_filters(store: Store) -> None:
    jobs, _ = store.add([item("a.jpg"), item("b.jpg"), item("c.jpg")])
    store.update([jobs[1].id], JobState.FAILED)
    assert [j.name for j in store.jobs(states=[JobState.QUEUED])] == ["a.jpg", "c.jpg"]
    assert [j.name for j in store.jobs(ids=[jobs[2].id, jobs[0].id])] == ["a.jpg", "c.jpg"]
    assert store.jobs(ids=[]) == []
    assert [j.name for j in store.jobs(states=[JobState.FAILED], ids=[jobs[0].id])] == []
    assert store.get(999) is None


def test_job_as_dict(store: Store) -> None:
    job = add_one(store)
    d = job.as_dict()
    assert d["path"] == "/home/u/Export/a.jpg" and d["state"] == "queued"
    assert set(d) == {
        "id",
        "path",
        "destination",
        "state",
        "size",
        "bytes",
        "attempts",
        "error",
        "created",
        "finished",
        "verified",
        "link",
        "note",
    }


# --- clear / clear_finished -------------------------------------------------------------


def test_clear_never_removes_an_upload_in_progress(store: Store) -> None:
    jobs, _ = store.add([item("a.jpg"), item("b.jpg"), item("c.jpg")])
    a, b, c = (j.id for j in jobs)
    store.update([b], JobState.UPLOADING)
    store.update([c], JobState.CANCELLED)
    assert store.clear([a, b, c]) == 2
    assert [j.id for j in store.jobs()] == [b]
    assert store.clear([]) == 0
    # the rows stay for the history, as they were
    kept = store.job_dicts([a, c])
    assert [(d["id"], d["state"]) for d in kept] == [(a, "queued"), (c, "cancelled")]
    assert store.last_job(str(item("c.jpg")[0]), item("c.jpg")[1]) is not None


def test_a_selection_larger_than_sqlite_takes_variables(store: Store) -> None:
    # a season's archive selected in the window: more ids than SQLite binds at once
    jobs, _ = store.add([item(f"{n}.jpg") for n in range(40_000)])
    ids = [j.id for j in jobs]
    store.update(ids[::2], JobState.FAILED)
    failed = store.jobs(states=[JobState.FAILED], ids=reversed(ids))
    assert [j.id for j in failed] == ids[::2]
    assert store.jobs(ids=[*ids, *ids]) == store.jobs()
    assert store.clear(ids) == 40_000
    assert store.jobs() == []


def test_clear_finished_removes_done_and_cancelled_only(store: Store) -> None:
    jobs, _ = store.add([item(f"{i}.jpg") for i in range(5)])
    ids = [j.id for j in jobs]
    store.update([ids[0]], JobState.DONE)
    store.update([ids[1]], JobState.CANCELLED)
    store.update([ids[2]], JobState.FAILED)
    store.update([ids[3]], JobState.UPLOADING)
    assert store.clear_finished() == [ids[0], ids[1]]
    remaining = {j.id: j.state for j in store.jobs()}
    assert remaining == {
        ids[2]: JobState.FAILED,
        ids[3]: JobState.UPLOADING,
        ids[4]: JobState.QUEUED,
    }
    assert store.clear_finished() == []
    # out of the queue, not out of the history
    assert store.counts()["done"] == 0
    assert {j.id for j in store.history()} == {ids[0], ids[1], ids[2]}
    assert store.get(ids[0]) is not None and store.get(ids[0]).cleared  # type: ignore[union-attr]


def test_history_search_matches_path_destination_error_and_link(store: Store) -> None:
    jobs, _ = store.add([item("smith_01.jpg"), item("jones_01.jpg"), item("100%_a.jpg")])
    a, b, c = (j.id for j in jobs)
    store.update([a], JobState.DONE)
    store.update([b], JobState.FAILED, error="Permission denied by the server")
    store.update([c], JobState.DONE)
    store.set_fields([a], link="https://share.example/abc")
    assert [j.id for j in store.history("SMITH")] == [a]
    assert [j.id for j in store.history("permission")] == [b]
    assert [j.id for j in store.history("share.example")] == [a]
    assert [j.id for j in store.history("100%")] == [c]  # % is literal, not a wildcard
    assert [j.id for j in store.history("_a")] == [c]
    assert len(store.history(limit=2)) == 2
    assert sorted(store.clear_history()) == sorted([a, b, c])
    assert store.history() == []


def test_a_try_is_timed_from_upload_to_done(store: Store) -> None:
    job = add_one(store)
    store.update([job.id], JobState.UPLOADING)
    started = store.get(job.id)
    assert started is not None and started.started is not None and started.duration is None
    store.update([job.id], JobState.DONE)
    done = store.get(job.id)
    assert done is not None and done.duration is not None and done.duration >= 0
    store.update([job.id], JobState.QUEUED)
    store.update([job.id], JobState.UPLOADING)
    again = store.get(job.id)
    assert again is not None and again.duration is None and again.verified is None


def test_set_fields_writes_only_bookkeeping_columns(store: Store) -> None:
    job = add_one(store)
    store.set_fields([job.id], verified="hash:md5", note="Already uploaded", force=True)
    got = store.get(job.id)
    assert got is not None
    assert (got.verified, got.note, got.force) == ("hash:md5", "Already uploaded", True)
    with pytest.raises(ValueError, match="state"):
        store.set_fields([job.id], state="done")


def test_what_was_uploaded_is_remembered_and_can_be_forgotten(store: Store) -> None:
    store.record_uploaded([("/p/a.jpg", "r:/a.jpg", 10, 1.5, "md5:abc")])
    assert store.uploaded("/p/a.jpg", "r:/a.jpg") == (10, 1.5, "md5:abc")
    assert store.uploaded("/p/a.jpg", "r:/other/a.jpg") is None
    store.record_uploaded([("/p/a.jpg", "r:/a.jpg", 11, 2.5, None)])
    assert store.uploaded("/p/a.jpg", "r:/a.jpg") == (11, 2.5, None)
    store.forget_uploaded([("/p/a.jpg", "r:/a.jpg")])
    assert store.uploaded("/p/a.jpg", "r:/a.jpg") is None


def _v1_queue_with_a_job(tmp_path: Path) -> Path:
    """A queue as Skylift's first schema wrote it."""
    db = tmp_path / "q" / "queue.sqlite3"
    db.parent.mkdir(mode=0o700)
    con = sqlite3.connect(db, isolation_level=None)
    con.executescript(store_module._MIGRATIONS[1])
    con.execute(
        "INSERT INTO jobs (path, destination, size, state, attempts, created, updated, finished)"
        " VALUES ('/photos/a.jpg', 'r:/a.jpg', 10, 'done', 1, 'x', 'x', 'x')"
    )
    con.execute("PRAGMA user_version = 1")
    con.close()
    db.chmod(0o600)
    return db


def test_upgrade_backs_up_first_and_keeps_the_jobs(tmp_path: Path) -> None:
    db = _v1_queue_with_a_job(tmp_path)
    s = Store(db)
    [job] = s.jobs()
    assert (job.destination, job.state, job.attempts) == ("r:/a.jpg", JobState.DONE, 1)
    assert (job.verified, job.link, job.cleared, job.force) == (None, None, False, False)
    assert s._db.execute("PRAGMA user_version").fetchone()[0] == store_module.SCHEMA_VERSION
    assert s.uploaded("/photos/a.jpg", "r:/a.jpg") is None
    s.close()
    backup = db.with_name("queue.sqlite3.v1.bak")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    old = sqlite3.connect(backup)
    assert old.execute("PRAGMA user_version").fetchone()[0] == 1
    assert old.execute("SELECT destination FROM jobs").fetchall() == [("r:/a.jpg",)]
    old.close()


def test_counts_read_an_index_alone_in_new_and_upgraded_queues(
    store: Store, tmp_path: Path
) -> None:
    """counts() runs after every flush of a busy batch: it must not visit every job of
    a long history, in a new queue or in one an older Skylift wrote."""
    upgraded = Store(_v1_queue_with_a_job(tmp_path))
    try:
        for s in (store, upgraded):
            plan = " ".join(
                r[-1] for r in s._db.execute(f"EXPLAIN QUERY PLAN {store_module.COUNTS_QUERY}")
            )
            assert "COVERING INDEX jobs_live" in plan
        assert upgraded.counts()["done"] == 1
    finally:
        upgraded.close()


def test_a_failed_upgrade_leaves_the_queue_as_it_was(tmp_path: Path, monkeypatch) -> None:
    db = _v1_queue_with_a_job(tmp_path)
    good = store_module._MIGRATIONS[2]
    monkeypatch.setitem(
        store_module._MIGRATIONS, 2, "ALTER TABLE jobs ADD COLUMN x TEXT; ALTER TABLE nosuch ADD y"
    )
    with pytest.raises(StoreError, match="could not be upgraded to schema 2"):
        Store(db)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "x" not in [r[1] for r in con.execute("PRAGMA table_info(jobs)")]
    con.close()
    monkeypatch.setitem(store_module._MIGRATIONS, 2, good)
    s = Store(db)
    assert [j.destination for j in s.jobs()] == ["r:/a.jpg"]
    s.close()


# --- reading jobs as dicts, finishing uploads in one go -----------------------------------


def _jobs_in_every_state(store: Store) -> list[int]:
    """One job per state, each with every optional field set, plus a cleared one."""
    jobs, _ = store.add([item(f"{s.value}.jpg", size=100 + n) for n, s in enumerate(JobState)])
    ids = {s: j.id for s, j in zip(JobState, jobs, strict=True)}
    store.update([ids[JobState.UPLOADING]], JobState.UPLOADING, attempt_delta=1, bytes_done=42)
    store.update([ids[JobState.DONE]], JobState.UPLOADING, attempt_delta=1)
    store.update([ids[JobState.DONE]], JobState.DONE)
    store.update([ids[JobState.FAILED]], JobState.FAILED, error="The remote is full.")
    store.update([ids[JobState.CANCELLED]], JobState.CANCELLED, error="Cancelled.")
    store.update([ids[JobState.QUEUED]], JobState.QUEUED, error="Waiting.", next_try=5.0)
    every = list(ids.values())
    store.set_fields(
        every, verified="hash:md5", link="https://x/s/1", note="Already uploaded", force=True
    )
    store.set_fields(every, origin="/home/u/Export")
    store.clear_finished()  # done and cancelled leave the queue; their rows stay
    return every


def test_job_dicts_are_what_as_dict_gives(store: Store) -> None:
    ids = _jobs_in_every_state(store)
    plain, _ = store.add([item("plain.jpg")])  # and one with every optional field empty
    ids.append(plain[0].id)
    expected = [j.as_dict() for j in store.jobs(ids=ids)]
    assert {d["state"] for d in expected} == {s.value for s in JobState}
    assert any(d["finished"] and d["error"] for d in expected)
    got = store.job_dicts(reversed(ids))
    assert got == expected
    for g, e in zip(got, expected, strict=True):
        assert list(g) == list(e)  # same keys, same order: the same JSON
        assert [type(v) for v in g.values()] == [type(v) for v in e.values()]
    # unknown ids are left out, repeated ones answered once
    assert store.job_dicts([ids[0], ids[0], 10_000]) == expected[:1]
    assert store.job_dicts([]) == []
    # without ids: the queue as jobs() has it (cleared jobs live on in the history only)
    store.clear_finished()
    assert store.job_dicts() == [j.as_dict() for j in store.jobs()]
    assert len(store.job_dicts()) < len(expected)


def test_job_dicts_reads_many_jobs(store: Store) -> None:
    jobs, _ = store.add([item(f"{n}.jpg") for n in range(1200)])
    ids = [j.id for j in jobs]
    assert store.job_dicts(ids) == [j.as_dict() for j in jobs]


def test_held_jobs_are_read_once_and_afresh_after_a_write(store: Store) -> None:
    jobs, _ = store.add([item(f"{n}.jpg") for n in range(5)])
    ids = [j.id for j in jobs]
    selects: list[str] = []
    store._db.set_trace_callback(
        lambda sql: selects.append(sql) if sql.startswith("SELECT") else None
    )
    store.hold_dicts([*ids[:4], 10_000])  # an unknown id too
    first = store.job_dicts(ids[:2])  # reads the four held jobs at once
    assert [d["id"] for d in first] == ids[:2] and len(selects) == 1
    first[0]["state"] = "scribbled on"  # each caller gets copies
    second = store.job_dicts([ids[3], ids[0], 10_000])
    assert len(selects) == 1
    assert [(d["id"], d["state"]) for d in second] == [(ids[0], "queued"), (ids[3], "queued")]
    store.update([ids[0]], JobState.UPLOADING)  # a write: the next request reads again
    selects.clear()
    assert store.job_dicts([ids[0]])[0]["state"] == "uploading"
    assert len(selects) == 1
    selects.clear()
    assert store.job_dicts([ids[4]])[0]["id"] == ids[4]  # not held: read on its own
    assert store.job_dicts([ids[1]])[0]["id"] == ids[1]
    assert len(selects) == 1
    store.hold_dicts(None)
    selects.clear()
    store.job_dicts(ids[:2])
    store.job_dicts(ids[:2])
    assert len(selects) == 2
    store._db.set_trace_callback(None)


def test_finished_uploads_are_marked_done_and_remembered_at_once(store: Store) -> None:
    jobs, _ = store.add([item(n) for n in ("a.jpg", "b.jpg", "c.jpg", "d.jpg")])
    a, b, c, d = (j.id for j in jobs)
    store.update([a, b, c], JobState.UPLOADING, attempt_delta=1)
    store.update([b], JobState.CANCELLED)  # cancelled after rclone said it was copied
    records = {
        i: (f"/p/{i}.jpg", f"r:/{i}.jpg", 10 * i, 1.5 * i, None if i != a else "md5:x")
        for i in (a, b, c, d)
    }
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    assert sorted(store.finish_uploads(records)) == [a, c]
    store._db.set_trace_callback(None)
    assert sum(s.startswith("BEGIN") for s in statements) == 1
    assert [state(store, i) for i in (a, b, c, d)] == [
        JobState.DONE,
        JobState.CANCELLED,
        JobState.DONE,
        JobState.QUEUED,
    ]
    assert store.uploaded(f"/p/{a}.jpg", f"r:/{a}.jpg") == (10 * a, 1.5 * a, "md5:x")
    assert store.uploaded(f"/p/{c}.jpg", f"r:/{c}.jpg") == (10 * c, 1.5 * c, None)
    # neither the cancelled job nor the one that never started is remembered
    assert store.uploaded(f"/p/{b}.jpg", f"r:/{b}.jpg") is None
    assert store.uploaded(f"/p/{d}.jpg", f"r:/{d}.jpg") is None
    done = store.get(a)
    assert done is not None and done.finished is not None and done.bytes == done.size
    assert store.finish_uploads({}) == []
