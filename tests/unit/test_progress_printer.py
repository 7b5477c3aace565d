"""What `skylift upload --wait` prints for each finished file."""

from __future__ import annotations

import io
from collections.abc import Iterator

from skylift.entry.progress import ProgressPrinter


def _job(i: int, state: str, **extra: object) -> dict[str, object]:
    job = {"id": i, "path": f"/p/{i}.jpg", "destination": f"r:/d/{i}.jpg", "state": state}
    job.update({"size": 10, "bytes": 10, "error": None, "note": None, "verified": None})
    job.update(extra)
    return job


def test_each_finished_file_is_printed_once_with_what_was_checked() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = ProgressPrinter(out, err)
    jobs = [
        _job(1, "done"),
        _job(2, "done", verified="hash:md5"),
        _job(3, "done", verified="size"),
        _job(4, "done", note="Already uploaded"),
        _job(5, "failed", error="The file no longer exists."),
        _job(6, "uploading", bytes=5),
    ]
    printer.update(jobs, 0.0)
    printer.update(jobs, 0.0)  # a second look prints nothing new
    assert out.getvalue().splitlines() == [
        "uploaded  /p/1.jpg -> r:/d/1.jpg",
        "uploaded  /p/2.jpg -> r:/d/2.jpg (verified, MD5)",
        "uploaded  /p/3.jpg -> r:/d/3.jpg (verified, size)",
        "unchanged /p/4.jpg (sent to r:/d/4.jpg before; not sent again unless --again is given)",
        "FAILED    /p/5.jpg: The file no longer exists.",
    ]


class _Pipe(io.StringIO):
    """Standard output going to a script: what was flushed is what the script has read."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0
        self.delivered = ""

    def flush(self) -> None:
        self.flushes += 1
        self.delivered = self.getvalue()


def test_the_lines_of_one_update_reach_a_script_together_and_at_once() -> None:
    out = _Pipe()
    printer = ProgressPrinter(out, io.StringIO())
    printer.update([_job(i, "done") for i in range(1, 501)], 0.0)
    assert out.delivered.count("\n") == 500  # all of them, without waiting for the next
    assert out.flushes == 1  # one write for 500 files, not 500
    printer.update([_job(i, "done") for i in range(1, 501)], 0.0)
    assert out.flushes == 1  # nothing new, nothing written


class _Rows(list[dict[str, object]]):
    """The followed jobs, counting how often the printer walks through them."""

    walks = 0

    def __iter__(self) -> Iterator[dict[str, object]]:
        self.walks += 1
        return super().__iter__()


def test_an_update_looks_only_at_the_jobs_that_changed() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, io.StringIO())
    rows = _Rows([_job(i, "uploading") for i in range(1, 1001)])
    printer.update(rows, 0.0)
    rows[0] = _job(1, "done")
    rows[1] = _job(2, "failed", error="The remote refused it.")
    printer.update(rows, 0.0, [rows[0]])  # only the first is said to have changed
    assert out.getvalue().splitlines() == ["uploaded  /p/1.jpg -> r:/d/1.jpg"]
    printer.update(rows, 0.0, [rows[1]])
    assert out.getvalue().splitlines()[-1] == "FAILED    /p/2.jpg: The remote refused it."
    assert rows.walks == 1  # the 1,000 were walked once, at the start (not on a terminal)
