"""Upload statistics and history after a known mix of outcomes, against a real server."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from skylift.core.settings import Settings
from skylift.core.store import JobState
from skylift.entry.service import EngineService
from tests.conftest import Cli, Server, make_files, rclone_path, status_json

FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)
SIZE = 3000
SAME_WITHOUT_APP = (
    "success_rate",
    "average_upload_seconds",
    "failed",
    "retried",
    "retry_success_rate",
    "queue_size",
    "uploaded_bytes",
)


@pytest.fixture
def service(qtbot: Any, configure: Callable[..., Settings], sftp_server: Server) -> Iterator[Any]:
    # a failed try waits a minute: the test decides when the second try goes
    settings = configure(remote="loop", remote_path="/Photos", retries=1, retry_delay=60)
    svc = EngineService(settings)
    yield svc
    svc.close()


def _ipc_status(qtbot: Any, cli: Cli) -> dict[str, Any]:
    """`skylift status --json` answered by this process's engine over the socket."""
    proc = cli.popen("status", "--json")
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    return dict(json.loads(out))


def test_statistics_after_successes_failures_and_retries(
    qtbot: Any, tmp_path: Path, cli: Cli, service: EngineService, sftp_server: Server
) -> None:
    engine = service.engine
    engine.pause()
    # files where the folders should be: the server refuses uploads into them
    sftp_server.file("Fixable").write_bytes(b"not a folder")
    sftp_server.file("Refused").write_bytes(b"not a folder")
    good = make_files(tmp_path / "Good", ["a.jpg", "b.jpg", "c.jpg"], size=SIZE)
    (gone,) = make_files(tmp_path, ["gone.jpg"], size=SIZE)
    (fixable,) = make_files(tmp_path / "F", ["fixable.jpg"], size=SIZE)
    (refused,) = make_files(tmp_path / "R", ["refused.jpg"], size=SIZE)
    good_ids = [j.id for j in engine.add_paths([str(f) for f in good]).jobs]
    (gone_id,) = [j.id for j in engine.add_paths([str(gone)]).jobs]
    (fix_id,) = [j.id for j in engine.add_paths([str(fixable)], "loop:/Fixable").jobs]
    (refused_id,) = [j.id for j in engine.add_paths([str(refused)], "loop:/Refused").jobs]
    ids = [*good_ids, gone_id, fix_id, refused_id]
    gone.unlink()
    engine.resume()

    def first_round_over() -> bool:
        jobs = {j.id: j for j in engine.jobs(ids=ids)}
        waiting = [jobs[fix_id], jobs[refused_id]]
        return (
            all(jobs[i].state is JobState.DONE for i in good_ids)
            and jobs[gone_id].state is JobState.FAILED
            and all(j.state is JobState.QUEUED and j.error and j.attempts == 1 for j in waiting)
        )

    qtbot.waitUntil(first_round_over, timeout=120_000)
    assert engine.metrics()["queue_size"] == 2
    # the cause of one failure goes away (deleted through the server, which caches its
    # listings); both go again now instead of in a minute
    subprocess.run([rclone_path(), "deletefile", "loop:/Fixable"], check=True, timeout=60)
    engine.store.release_backoff()
    engine.kick(0)
    qtbot.waitUntil(lambda: all(j.state in FINISHED for j in engine.jobs(ids=ids)), timeout=120_000)
    jobs = {j.id: j for j in engine.jobs(ids=ids)}
    assert (jobs[fix_id].state, jobs[fix_id].attempts) == (JobState.DONE, 2)
    assert (jobs[refused_id].state, jobs[refused_id].attempts) == (JobState.FAILED, 2)
    assert sftp_server.file("Fixable/fixable.jpg").read_bytes() == fixable.read_bytes()

    m = engine.metrics()
    assert m["success_rate"] == pytest.approx(4 / 6)
    assert m["failed"] == 2
    assert m["retried"] == 2
    assert m["retry_success_rate"] == pytest.approx(0.5)
    assert m["queue_size"] == 0
    assert m["uploaded_bytes"] == 4 * SIZE
    avg = m["average_upload_seconds"]
    assert isinstance(avg, float) and avg > 0
    assert m["bandwidth_bps"] == 0.0  # nothing runs now

    # the same figures from the running engine over IPC...
    by_ipc = _ipc_status(qtbot, cli)
    assert by_ipc["metrics"] == json.loads(json.dumps(engine.metrics()))
    assert by_ipc["failed"] == 2 and by_ipc["done"] == 4  # the old keys are unchanged

    # ...and, once the queue is cleared, still the same: the history keeps the jobs
    engine.clear_finished()
    assert engine.counts()["done"] == 0
    assert {k: engine.metrics()[k] for k in SAME_WITHOUT_APP} == {  # type: ignore[literal-required]
        k: m[k]  # type: ignore[literal-required]
        for k in SAME_WITHOUT_APP
    }
    service.close()

    # ...and read from the queue on disk when no app runs (bandwidth is then unknown)
    without_app = status_json(cli)["metrics"]
    assert {k: without_app[k] for k in SAME_WITHOUT_APP} == {
        k: m[k]  # type: ignore[literal-required]
        for k in SAME_WITHOUT_APP
    }
    assert without_app["bandwidth_bps"] == 0 and without_app["bandwidth_history"] == []

    # the history command lists all six, cleared ones included
    out = cli("history", "--csv", "-", check=True)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert sorted(r["id"] for r in rows) == sorted(str(i) for i in ids)
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[fix_id]["state"] == "done" and by_id[fix_id]["attempts"] == "2"
    assert by_id[gone_id]["error"] == "The file no longer exists."
    out = cli("history", "--search", "refused", check=True)
    assert str(refused) in out.stdout and str(fixable) not in out.stdout
    assert out.stdout.count(" failed ") == 1
    csv_file = tmp_path / "export.csv"
    assert cli("history", "--csv", str(csv_file), "--limit", "2").returncode == 0
    assert len(csv_file.read_text().splitlines()) == 3  # header and the newest two
