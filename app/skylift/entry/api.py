"""The Python API for export tools and scripts: ``from skylift import CloudSyncManager``.

It needs no display and no running app. When the Skylift app (or another engine) is
running, requests go to it over the local socket; otherwise the engine runs here,
in-process, for as long as the manager lives.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from skylift.core import connection, logs
from skylift.core.planner import plan
from skylift.core.settings import SettingError, Settings
from skylift.core.store import Job, JobState
from skylift.entry.headless import core_app, wait_until
from skylift.entry.ipc import Client, IpcError
from skylift.entry.service import EngineBusy, EngineService

log = logging.getLogger(__name__)

__all__ = ["CloudSyncManager", "Job", "JobState"]

_FINISHED = {JobState.DONE, JobState.FAILED, JobState.CANCELLED}


def _job_from(d: Mapping[str, Any]) -> Job:
    return Job(
        id=int(d["id"]),
        path=Path(d["path"]),
        destination=str(d["destination"]),
        size=int(d["size"]),
        mtime=0.0,
        state=JobState(d["state"]),
        bytes=int(d["bytes"]),
        attempts=int(d["attempts"]),
        error=d.get("error"),
        created=str(d["created"]),
        finished=d.get("finished"),
        next_try=0.0,
        link=d.get("link"),
    )


class CloudSyncManager:
    """Queue and upload files.

    ``config`` overrides the saved settings for this manager only (nothing is
    written to settings.json); ``provider`` is accepted as a synonym of ``remote``.
    """

    def __init__(self, config: Mapping[str, Any] | None = None):
        logs.setup()
        self.settings = Settings.load()
        for key, value in (config or {}).items():
            try:
                self.settings[key] = value
            except SettingError as e:
                raise ValueError(str(e)) from None
        self.last_error: str | None = None
        self._service: EngineService | None = None
        self._client: Client | None = None
        core_app()

    # --- plumbing ------------------------------------------------------------------------

    def _attach(self) -> None:
        """Use the running engine if there is one, or run one here."""
        if self._service is not None or self._client is not None:
            return
        client = Client()
        if client.connect():
            self._client = client
            return
        try:
            self._service = EngineService(self.settings)
        except EngineBusy:
            # another engine is starting up; give it a moment to open its socket
            for _ in range(50):
                time.sleep(0.1)
                if client.connect():
                    self._client = client
                    return
            raise RuntimeError("another Skylift holds the queue but does not answer") from None

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> CloudSyncManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def _jobs(self, ids: list[int]) -> list[Job]:
        self._attach()
        if self._service is not None:
            return self._service.engine.jobs(ids=ids)
        assert self._client is not None
        return [_job_from(d) for d in self._client.request("jobs", ids=ids)["jobs"]]

    def _wait(self, ids: list[int]) -> list[Job]:
        """Block until every job in ``ids`` has ended; return them."""
        self._attach()
        if self._service is not None:
            engine = self._service.engine

            def finished() -> bool:
                return bool(engine.problem) or all(
                    j.state in _FINISHED for j in engine.jobs(ids=ids)
                )

            wait_until(finished)
            if engine.problem:
                self.last_error = engine.problem
            return engine.jobs(ids=ids)
        while True:
            jobs = self._jobs(ids)
            if all(j.state in _FINISHED for j in jobs):
                return jobs
            time.sleep(0.3)

    # --- the API ----------------------------------------------------------------------

    @property
    def destination(self) -> str:
        return self.settings.destination_root

    def test_connection(self) -> tuple[bool, str | None]:
        if not self.destination:
            return False, "No remote is set; pass {'remote': NAME} or set one in Skylift."
        return connection.test(self.destination, self.settings["rclone_path"])

    def upload_batch(self, paths: Iterable[str | os.PathLike[str]]) -> list[Job]:
        """Queue files and folders; one Job per file that can be queued."""
        if not self.destination:
            raise ValueError("No remote is set; pass {'remote': NAME} or set one in Skylift.")
        given = [os.path.abspath(os.fspath(p)) for p in paths]
        planned, rejected = plan(given, self.destination)
        for r in rejected:
            log.warning("not queued: %s %s", r.path, r.reason)
        self.last_error = f"{rejected[0].path} {rejected[0].reason}" if rejected else None
        if not planned:
            return []
        self._attach()
        if self._service is not None:
            return self._service.engine.add_planned(planned).jobs
        assert self._client is not None
        reply = self._client.request(
            "upload", paths=[str(p.path) for p in planned], to=self.destination, cwd=os.getcwd()
        )
        if not reply.get("ok"):
            self.last_error = reply.get("error")
            return []
        return self._jobs(reply["ids"])

    def upload_file(self, path: str | os.PathLike[str]) -> Job | None:
        """Queue one file; None (and ``last_error`` says why) if it cannot be queued."""
        if os.path.isdir(path):
            self.last_error = f"{path} is a folder; use upload_batch for folders"
            return None
        jobs = self.upload_batch([path])
        return jobs[0] if jobs else None

    def process_upload_job(self, job_id: int) -> tuple[bool, str | None]:
        """Block until the job has ended (retries included); (succeeded, reason)."""
        jobs = self._wait([job_id])
        if not jobs:
            return False, f"There is no upload number {job_id}."
        job = jobs[0]
        if job.state is JobState.DONE:
            return True, None
        return False, job.error or self.last_error or f"The upload was {job.state.value}."

    def process_upload_queue(self, max_concurrent: int | None = None) -> dict[str, int]:
        """Upload everything queued; counts of the jobs this call saw end."""
        self._attach()
        if self._service is not None:
            engine = self._service.engine
            engine.transfers_override = max_concurrent
            active = [
                j.id for j in engine.jobs() if j.state in (JobState.QUEUED, JobState.UPLOADING)
            ]
            engine.kick(0)
            try:
                jobs = self._wait(active)
            finally:
                engine.transfers_override = None
        else:
            assert self._client is not None
            status = self._client.request("status")["status"]
            active = [j["id"] for j in status["jobs"] if j["state"] in ("queued", "uploading")]
            jobs = self._wait(active)
        counts = {
            "succeeded": sum(j.state is JobState.DONE for j in jobs),
            "failed": sum(j.state is JobState.FAILED for j in jobs),
            "cancelled": sum(j.state is JobState.CANCELLED for j in jobs),
        }
        counts["total"] = len(jobs)
        return counts

    def retry_all_failed_uploads(self) -> int:
        self._attach()
        if self._service is not None:
            return len(self._service.engine.retry_all_failed())
        assert self._client is not None
        return len(self._client.request("retry", all_failed=True)["ids"])

    def retry_upload(self, job_id: int) -> bool:
        self._attach()
        if self._service is not None:
            return bool(self._service.engine.retry([job_id]))
        assert self._client is not None
        return bool(self._client.request("retry", ids=[job_id])["ids"])

    def cancel_upload(self, job_id: int) -> bool:
        self._attach()
        if self._service is not None:
            return bool(self._service.engine.cancel([job_id]))
        assert self._client is not None
        return bool(self._client.request("cancel", ids=[job_id])["ids"])

    def share_link(
        self, target_or_job: str | int | Job, expire: str | None = None
    ) -> tuple[str | None, str | None]:
        """A share link: (url, None), or (None, one plain sentence).

        ``target_or_job``: ``"remote:path"``, or an uploaded Job (or its id), whose
        folder is linked (its file, where the remote shares files only, like S3); the
        link is then kept with the job (``Job.link``). ``expire``: e.g. "7d"; None
        uses the ``link_expire`` setting, "" makes a link that does not expire.
        """
        from skylift.core import links, rclone_binary

        job: Job | None = None
        targets: str | list[links.Target]
        if isinstance(target_or_job, (Job, int)) and not isinstance(target_or_job, bool):
            job_id = target_or_job.id if isinstance(target_or_job, Job) else target_or_job
            found = self._jobs([job_id])
            if not found:
                return None, f"There is no upload number {job_id}."
            job = found[0]
            if job.state is not JobState.DONE:
                return (
                    None,
                    f"Upload {job_id} is {job.state.value}; only uploaded files can be shared.",
                )
            targets = links.targets_for([(job.id, job.destination)])
        else:
            targets = str(target_or_job)
        try:
            r = links.make_link(
                targets,
                self.settings["link_expire"] if expire is None else expire,
                self.settings["rclone_path"],
            )
        except (ValueError, rclone_binary.RcloneError) as e:
            return None, str(e)
        if r.url is not None and job is not None:
            self._keep_link(r, r.url)
        return r.url, r.error

    def _keep_link(self, r: Any, url: str) -> None:
        from skylift.core import links

        if self._service is not None:
            engine = self._service.engine
            done = [(j.id, j.destination) for j in engine.jobs() if j.state is JobState.DONE]
            engine.set_link(links.sharing(r, done), url)
            return
        assert self._client is not None
        status = self._client.request("status")["status"]
        done = [(j["id"], j["destination"]) for j in status["jobs"] if j["state"] == "done"]
        self._client.request("set_link", ids=links.sharing(r, done), link=url)

    def get_job(self, job_id: int) -> Job | None:
        jobs = self._jobs([job_id])
        return jobs[0] if jobs else None

    def get_queue_status(self) -> dict[str, Any]:
        self._attach()
        if self._service is not None:
            return self._service.engine.status()
        assert self._client is not None
        try:
            return dict(self._client.request("status")["status"])
        except IpcError as e:
            raise RuntimeError(str(e)) from None
