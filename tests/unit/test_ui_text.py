"""What people read: sizes, speeds, durations, the tray's states and words, notifications."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from skylift.core.engine import ALREADY_UPLOADED, AddResult
from skylift.core.store import Job, JobState
from skylift.ui import format as fmt
from skylift.ui import status
from skylift.ui.icons import TrayState
from skylift.ui.notifications import Ended, common_destination, compose
from skylift.ui.queue_window import _added_text
from skylift.ui.status import Summary


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 KB"), (8_300_000, "8.3 MB"), (123_456_789, "123 MB")],
)
def test_size(n: int, text: str) -> None:
    assert fmt.size(n) == text


def test_speed_and_nothing_for_no_speed() -> None:
    assert fmt.speed(8_300_000) == "8.3 MB/s"
    assert fmt.speed(0) == ""


@pytest.mark.parametrize(
    ("s", "text"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (89, "1 min"),
        (125, "2 min"),
        (3599, "1 h"),
        (3900, "1 h 5 min"),
        (90000, "1 day"),
        (200000, "2 days"),
        (-1, ""),
    ],
)
def test_duration(s: float, text: str) -> None:
    assert fmt.duration(s) == text


def test_progress_line_is_the_tooltip_the_issue_asks_for() -> None:
    assert fmt.progress_line(12, 40, 8_300_000, 120) == "12 of 40 · 8.3 MB/s · 2 min left"
    assert fmt.progress_line(0, 3, 0, -1) == "0 of 3"


def test_count() -> None:
    assert fmt.count(1, "photo") == "1 photo"
    assert fmt.count(1200, "photo") == "1,200 photos"


C0 = {"queued": 0, "uploading": 0, "done": 0, "failed": 0, "cancelled": 0}


@pytest.mark.parametrize(
    ("counts", "paused", "problem", "offline", "state"),
    [
        ({}, False, "", False, TrayState.IDLE),
        ({"done": 5}, False, "", False, TrayState.IDLE),
        ({"queued": 2}, False, "", False, TrayState.UPLOADING),
        ({"queued": 2}, True, "", False, TrayState.PAUSED),
        ({"queued": 2}, False, "", True, TrayState.OFFLINE),
        ({"failed": 1}, False, "", False, TrayState.ERROR),
        ({"queued": 1}, False, "rclone was not found.", False, TrayState.ERROR),
        ({"queued": 1, "failed": 1}, True, "", True, TrayState.PAUSED),
    ],
)
def test_tray_state(
    counts: dict[str, int], paused: bool, problem: str, offline: bool, state: TrayState
) -> None:
    assert status.tray_state({**C0, **counts}, paused, problem, offline) is state


@pytest.mark.parametrize(
    "reason",
    [
        "The remote refused the connection; check that it is online and reachable, Skylift "
        "will retry.",
        "The remote's address could not be found; check the network connection.",
        "The network is unreachable; check the connection, Skylift will retry.",
        "The remote did not answer in time; Skylift will retry.",
        "The connection to the remote was lost; Skylift will retry.",
    ],
)
def test_connection_errors_mean_offline(reason: str) -> None:
    assert status.is_connection_error(reason)


def test_other_errors_are_not_offline() -> None:
    assert not status.is_connection_error("The file no longer exists.")
    assert not status.is_connection_error(None)


def test_tooltip_while_uploading() -> None:
    s = Summary(
        total=40,
        finished=12,
        uploaded=12,
        active=28,
        bytes_total=10**9,
        bytes_done=10**9 - 996_000_000,
        speed=8_300_000,
    )
    tip = status.tooltip(TrayState.UPLOADING, s, {**C0, "queued": 28, "done": 12})
    assert tip == "12 of 40 · 8.3 MB/s · 2 min left"


def test_tooltip_mentions_failures_and_problems() -> None:
    tip = status.tooltip(TrayState.ERROR, Summary(), {**C0, "failed": 3})
    assert tip == "3 uploads failed"
    tip = status.tooltip(TrayState.ERROR, Summary(), C0, problem="rclone was not found; x.")
    assert tip.splitlines() == ["Uploads are stopped", "rclone was not found; x."]
    tip = status.tooltip(
        TrayState.OFFLINE,
        Summary(total=2, active=2),
        {**C0, "queued": 2},
        offline_reason="The remote refused the connection.",
    )
    assert tip.splitlines() == [
        "Offline · waiting for the remote",
        "The remote refused the connection.",
    ]


def test_summary_text() -> None:
    s = Summary(
        total=4,
        finished=1,
        uploaded=1,
        active=3,
        bytes_total=4_000_000,
        bytes_done=1_500_000,
        speed=1_000_000,
    )
    text = status.summary_text(TrayState.UPLOADING, s, {**C0, "queued": 3, "done": 1, "failed": 2})
    assert text == "1 of 4 uploaded · 1.5 MB of 4.0 MB · 1.0 MB/s · 2 s left · 2 failed"
    assert status.summary_text(TrayState.IDLE, Summary(), C0) == "Nothing to upload yet"
    # files sent before and unchanged are not counted as uploaded, nor their bytes as sent
    mixed = Summary(
        total=4, finished=4, uploaded=2, skipped=2, bytes_total=2_000_000, bytes_done=2_000_000
    )
    assert status.summary_text(TrayState.IDLE, mixed, {**C0, "done": 4}) == (
        "2 of 2 uploaded · 2 already uploaded, not sent again · 2.0 MB of 2.0 MB"
    )
    skipped = Summary(total=4, finished=4, skipped=4)
    assert status.summary_text(TrayState.IDLE, skipped, {**C0, "done": 4}) == (
        "4 already uploaded, not sent again"
    )
    going = Summary(total=5, finished=2, uploaded=1, skipped=1, active=3)
    assert status.headline(TrayState.UPLOADING, going, {**C0, "queued": 3}) == "1 of 4"
    assert status.summary_text(TrayState.PAUSED, Summary(total=1, active=1), C0).startswith(
        "Paused · "
    )


def _job(i: int, name: str, dest: str, state: JobState, error: str | None = None) -> Job:
    return Job(i, Path("/x") / name, dest, 10, 0.0, state, 0, 1, error, "", None, 0.0)


def test_one_notification_for_a_batch_of_photos() -> None:
    jobs = [
        _job(i, f"IMG_{i}.jpg", f"dropbox:/Photos/Processed/IMG_{i}.jpg", JobState.DONE)
        for i in range(40)
    ]
    note = compose(jobs)
    assert note is not None
    assert note.title == "40 photos uploaded to dropbox:/Photos/Processed"
    assert note.failed == 0


def test_a_batch_sent_before_says_so_and_how_to_send_it_anyway() -> None:
    jobs = [_job(i, f"{i}.jpg", f"d:/P/{i}.jpg", JobState.DONE) for i in range(3)]
    skipped = [dataclasses.replace(j, note=ALREADY_UPLOADED) for j in jobs]
    note = compose(skipped)
    assert note is not None and note.title == "3 photos already uploaded to d:/P"
    assert note.body == (
        "They were uploaded before and have not changed, so nothing was sent. "
        "To send them anyway, choose Upload again on their rows in the queue. "
        "Click to open the queue."
    )
    assert note.share == ()  # a click opens the queue; it offers no link to copy
    note = compose([jobs[0], *skipped[1:]])
    assert note is not None and note.title == "3 photos uploaded to d:/P"
    assert note.body.startswith("2 of them were already there and unchanged.")


def test_folder_batches_name_the_common_folder_and_files_are_not_photos() -> None:
    jobs = [
        _job(1, "a.jpg", "nas:/Clients/Smith/a.jpg", JobState.DONE),
        _job(2, "b.txt", "nas:/Clients/Smith/sub/b.txt", JobState.DONE),
    ]
    note = compose(jobs)
    assert note is not None and note.title == "2 files uploaded to nas:/Clients/Smith"
    assert common_destination(["a:/x/1.jpg", "b:/y/2.jpg"]) == "2 remotes"


def test_failures_are_grouped_in_the_same_notification() -> None:
    reason = "The remote refused the connection; check that it is online."
    jobs = [_job(1, "a.jpg", "d:/P/a.jpg", JobState.DONE)] + [
        _job(i, f"{i}.jpg", f"d:/P/{i}.jpg", JobState.FAILED, reason) for i in range(2, 5)
    ]
    note = compose(jobs)
    assert note is not None
    assert note.title == "1 photo uploaded to d:/P, 3 failed"
    assert note.body.startswith(reason)
    assert note.failed == 3


def test_each_kind_can_be_switched_off() -> None:
    done = [_job(1, "a.jpg", "d:/P/a.jpg", JobState.DONE)]
    failed = [_job(2, "b.jpg", "d:/P/b.jpg", JobState.FAILED, "The file no longer exists.")]
    assert compose(done, notify_done=False) is None
    assert compose(failed, notify_failed=False) is None
    note = compose(done + failed, notify_done=False)
    assert note is not None and note.title == "b.jpg could not be uploaded"
    note = compose(done + failed, notify_failed=False)
    assert note is not None and note.title == "1 photo uploaded to d:/P"
    assert compose([_job(3, "c.jpg", "d:/P/c.jpg", JobState.CANCELLED)]) is None


def test_a_notification_from_rows_read_as_dicts_is_the_same_as_from_jobs() -> None:
    """The app composes from light views of the ended jobs (a batch of 10,000 photos
    would otherwise build 10,000 Jobs and Paths); what it says must not change."""
    reason = "The file no longer exists."
    batches = [
        [_job(i, f"IMG_{i}.jpg", f"dropbox:/P/Smith/IMG_{i}.jpg", JobState.DONE) for i in range(5)],
        [
            _job(1, "a.jpg", "nas:/Clients/Smith/a.jpg", JobState.DONE),
            _job(2, "b.txt", "nas:/Clients/Smith/sub/b.txt", JobState.DONE),
            _job(3, "c.jpg", "nas:/Clients/Smith/c.jpg", JobState.FAILED, reason),
        ],
        [_job(4, "d.jpg", "s3:bucket/W/d.jpg", JobState.FAILED, reason)],
        [
            _job(5, "e.jpg", "a:/x/e.jpg", JobState.DONE),
            _job(6, "f.jpg", "b:/y/f.jpg", JobState.DONE),
        ],
    ]
    for jobs in batches:
        views = [Ended.of(j.as_dict()) for j in jobs]
        assert compose(views) == compose(jobs)
        assert compose(views) is not None
    (failed,) = [Ended.of(j.as_dict()) for j in batches[2]]
    assert failed.name == "d.jpg"


def test_the_tray_icon_variant_follows_the_panel(qapp: object) -> None:
    from PySide6.QtGui import QColor, QPalette

    from skylift.ui.icons import panel_is_dark, tray_file

    light, dark = QPalette(QColor("#eff0f1")), QPalette(QColor("#202326"))
    light.setColor(QPalette.ColorRole.Window, QColor("#eff0f1"))
    dark.setColor(QPalette.ColorRole.Window, QColor("#202326"))
    assert not panel_is_dark(light, {}, "linux")
    assert panel_is_dark(dark, {}, "linux")
    assert panel_is_dark(light, {"XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}, "linux")
    assert not panel_is_dark(light, {"XDG_CURRENT_DESKTOP": "KDE"}, "linux")
    assert not panel_is_dark(dark, {"SKYLIFT_PANEL": "light"}, "linux")
    assert panel_is_dark(light, {"SKYLIFT_PANEL": "dark"}, "linux")
    assert tray_file(TrayState.PAUSED, True) == "icons/tray-paused-dark.svg"


def test_every_tray_state_has_both_icons() -> None:
    from importlib import resources

    from skylift.ui.icons import tray_file

    for state in TrayState:
        for dark in (False, True):
            data = (resources.files("skylift.resources") / tray_file(state, dark)).read_bytes()
            assert data.startswith(b"<svg") and b"<title>" in data


def test_uploads_turned_off_look_paused() -> None:
    counts = {**C0, "queued": 3}
    state = status.tray_state(counts, False, "", False, enabled=False)
    assert state is TrayState.PAUSED
    assert status.headline(state, Summary(), counts, enabled=False) == (
        "Uploads are off · 3 files queued"
    )
    assert status.tray_state({**C0, "done": 1}, False, "", False, enabled=False) is TrayState.IDLE


def test_a_drop_says_what_was_sent_and_what_was_not() -> None:
    jobs = [_job(i, f"{i}.jpg", f"d:/P/{i}.jpg", JobState.QUEUED) for i in range(3)]
    skipped = [dataclasses.replace(j, state=JobState.DONE, note=ALREADY_UPLOADED) for j in jobs]
    assert _added_text(AddResult(jobs, [], 3), "d:/P") == "Queued 3 files for d:/P."
    assert _added_text(AddResult([jobs[0], *skipped[1:]], [], 3), "d:/P") == (
        "Queued 1 file for d:/P; 2 files uploaded to d:/P before and unchanged since, "
        "not sent again."
    )
    assert _added_text(AddResult(skipped, [], 3), "d:/P").startswith(
        "Nothing was sent: 3 files uploaded to d:/P before and unchanged since."
    )
