#!/usr/bin/env python3
"""Where Skylift's own time goes while it uploads 1,000 files of 100 KB.

    .venv/bin/python benchmarks/profile_upload.py [--runs 3] [--files 1000] [--size 100000]

1. A timeline of ``skylift upload --wait`` (headless), from the parent's start of the
   process to the kernel's exit notice, with stamps at each step (benchmarks/_timeline.py
   wraps a few functions of the running code), next to ``rclone`` run alone with the
   exact command Skylift builds. So the gap between Skylift and rclone splits into
   "before rclone starts", "rclone itself" and "after rclone ends".
2. A py-spy profile (``pip install py-spy``) of the same upload, sampling Skylift's
   process only (rclone is a separate program): CPU time per function, inclusive and
   self, for the functions of the skylift package and what they call. Without py-spy,
   cProfile is used (it slows Python code down, so read the shares, not the seconds).
3. The same for the running engine (benchmarks/_engine_host.py) while
   ``skylift upload --wait`` hands the files over to it: the host and the client.

Writes the raw profiles into benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h

HERE = Path(__file__).resolve().parent
DEST = f"{h.REMOTE}:/up"


def pyspy() -> str | None:
    exe = Path(sys.executable).with_name("py-spy")
    return str(exe) if exe.exists() else shutil.which("py-spy")


def spy_record(spy: str, rate: int, raw: Path, *target: str) -> list[str]:
    """py-spy sampling ``target`` (``--pid PID`` or ``-- COMMAND...``) at ``rate`` Hz
    into ``raw`` (collapsed stacks), without pausing it."""
    return [spy, "record", "--nonblocking", "-r", str(rate), "-f", "raw", "-o", str(raw), *target]


def timeline_run(
    tmp: Path, served: Path, rclone: str, template: h.Profile, src: Path, i: int
) -> dict:
    wd = tmp / f"tl{i}"
    server = h.SftpServer(rclone, served / wd.name / "served", tmp / "keys")
    server.start()
    profile = h.Profile(wd / "profile", template)
    env = profile.env(server)
    argv = [
        h.skylift_python(),
        str(HERE / "_timeline.py"),
        "upload",
        "--wait",
        "--to",
        DEST,
        str(src),
    ]
    t0 = time.perf_counter()
    env["BENCH_T0"] = repr(t0)
    m = h.Measured(argv, env, wd / "skylift.log")
    r = m.wait(600)
    server.stop()
    marks: list[tuple[str, float]] = []
    for line in Path(wd / "skylift.log").read_text().splitlines():
        if line.startswith('{"timeline"'):
            marks = [tuple(x) for x in json.loads(line)["timeline"]]
    marks.append(("process gone", r.wall))
    # rclone alone, with the command Skylift ran (from its log folder's batch list)
    from skylift.core import rclone_args

    files = sorted(src.iterdir())
    roots = [rclone_args.roots(f, f"{DEST}/{src.name}/{f.name}") for f in files]
    listing = wd / "files.list"
    listing.write_bytes(rclone_args.files_list(x.rel for x in roots))
    alone = rclone_args.copy_batch(
        rclone,
        roots[0].source,
        roots[0].dest,
        str(listing),
        rclone_args.Options(remote_type=h.SftpServer.TYPE),
        files=len(files),
    )
    server2 = h.SftpServer(rclone, served / wd.name / "served2", tmp / "keys")
    server2.start()
    g = h.run_group([alone], template.env(server2), wd / "alone")
    server2.stop()
    plain = [rclone, "copy", str(src), f"{DEST}/{src.name}", "--transfers=4"]
    server3 = h.SftpServer(rclone, served / wd.name / "served3", tmp / "keys")
    server3.start()
    g2 = h.run_group([plain], template.env(server3), wd / "plain")
    server3.stop()
    for d in ("served", "served2", "served3"):
        shutil.rmtree(wd / d, ignore_errors=True)
    return {
        "marks": marks,
        "skylift": r,
        "rclone_same_args": g.procs[0],
        "rclone_plain": g2.procs[0],
    }


def print_timeline(runs: list[dict]) -> list[str]:
    out = ["## Timeline of `skylift upload --wait` (headless), median of runs", ""]
    labels = [lab for lab, _ in runs[0]["marks"]]
    times = {lab: h.median(dict(r["marks"]).get(lab, float("nan")) for r in runs) for lab in labels}
    rows = []
    prev = 0.0
    for lab in sorted(labels, key=lambda lab: times[lab]):  # in the order they happened
        t = times[lab]
        rows.append([lab, f"{1000 * t:.0f}", f"+{1000 * (t - prev):.0f}"])
        prev = t
    out.append(h.markdown_table(["step", "ms since start", "ms since previous"], rows))
    sky = h.median(r["skylift"].wall for r in runs)
    same = h.median(r["rclone_same_args"].wall for r in runs)
    plain = h.median(r["rclone_plain"].wall for r in runs)
    d = [dict(r["marks"]) for r in runs]
    in_rclone = h.median(
        x["rclone exited"] - x["rclone started"] for x in d if "rclone exited" in x
    )
    before = h.median(x["rclone started"] for x in d if "rclone started" in x)
    after = h.median(x["process gone"] - x["rclone exited"] for x in d if "rclone exited" in x)
    out += [
        "",
        f"- skylift upload --wait: {sky:.2f} s = {before:.2f} s before rclone starts + "
        f"{in_rclone:.2f} s rclone running + {after:.2f} s after rclone ends",
        f"- rclone alone, Skylift's exact command: {same:.2f} s; plain `rclone copy DIR`: "
        f"{plain:.2f} s",
        f"- Skylift's own CPU {h.median(r['skylift'].own_cpu for r in runs):.2f} s, "
        f"its rclone's CPU {h.median(r['skylift'].child_cpu for r in runs):.2f} s; "
        f"rclone alone (same command) {h.median(r['rclone_same_args'].own_cpu for r in runs):.2f}"
        f" s; plain {h.median(r['rclone_plain'].own_cpu for r in runs):.2f} s",
    ]
    return out


# --- sampling profiles ------------------------------------------------------------------


def _frame_key(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py)"; keeps functions, drops line numbers
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    path = "skylift/" + path.split("skylift/", 1)[1] if "skylift/" in path else Path(path).name
    return f"{name} ({path})"


def summarize_raw(raw: Path, rate: int, top: int = 25) -> list[str]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [_frame_key(f) for f in stack.split(";") if f]
        frames = [f for f in frames if not f.startswith("<module>") or "skylift" in f]
        for f in set(frames):
            inclusive[f] += n
        if frames:
            own[frames[-1]] += n
    out = [f"{total} samples at {rate} Hz = {total / rate:.2f} s of CPU", ""]
    rows = [
        [f"`{f}`", f"{n / rate:.3f}", f"{100 * n / total:.0f}%"]
        for f, n in inclusive.most_common(top)
    ]
    out.append(h.markdown_table(["function (inclusive)", "CPU s", "share"], rows))
    out.append("")
    rows = [
        [f"`{f}`", f"{n / rate:.3f}", f"{100 * n / total:.0f}%"] for f, n in own.most_common(12)
    ]
    out.append(h.markdown_table(["function (self)", "CPU s", "share"], rows))
    return out


def profile_headless(
    tmp: Path, served: Path, rclone: str, template: h.Profile, src: Path, spy: str | None
) -> list[str]:
    wd = tmp / "prof"
    server = h.SftpServer(rclone, served / wd.name / "served", tmp / "keys")
    server.start()
    profile = h.Profile(wd / "profile", template)
    env = profile.env(server)
    cmd = h.skylift_cmd("upload", "--wait", "--to", DEST, str(src))
    rate = 500
    h.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    if spy:
        raw = h.RESULTS / f"profile-headless-{stamp}.txt"
        subprocess.run(
            spy_record(spy, rate, raw, "--", *cmd), env=env, capture_output=True, check=False
        )
        server.stop()
        return [
            "## py-spy: `skylift upload --wait` (headless), Skylift's process",
            "",
            *summarize_raw(raw, rate),
            "",
            f"raw profile: {raw}",
        ]
    out_file = h.RESULTS / f"profile-headless-{stamp}.pstats"
    argv = [h.skylift_python(), "-m", "cProfile", "-o", str(out_file), "-m", "skylift", *cmd[1:]]
    subprocess.run(argv, env=env, capture_output=True, check=False)
    server.stop()
    import io
    import pstats

    buf = io.StringIO()
    pstats.Stats(str(out_file), stream=buf).sort_stats("cumulative").print_stats("skylift", 25)
    return ["## cProfile (py-spy not installed)", "", "```", buf.getvalue(), "```"]


def profile_hosted(
    tmp: Path,
    served: Path,
    rclone: str,
    template: h.Profile,
    src: Path,
    spy: str,
    kind: str = "engine",
) -> list[str]:
    """py-spy on the running engine (``kind`` "engine": benchmarks/_engine_host.py) or
    the desktop app ("gui": on a private Xvfb with trayer when they are installed, so
    it sits in the tray with its window closed, as in upload_bench.py; else offscreen,
    where there is no tray and its window is open), and on its ``skylift upload``."""
    wd = tmp / f"prof-{kind}"
    server = h.SftpServer(rclone, served / wd.name / "served", tmp / "keys")
    server.start()
    profile = h.Profile(wd / "profile", template)
    xs = h.XSession() if kind == "gui" and h.XSession.available() else None
    extra: dict[str, str] = {}
    if xs is not None:
        xs.start()
        extra = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": xs.display, "DBUS_SESSION_BUS_ADDRESS": ""}
    env = profile.env(server, **extra)
    host = subprocess.Popen(
        [h.skylift_python(), str(HERE / "_engine_host.py")]
        if kind == "engine"
        else h.skylift_cmd(),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sock = profile.socket_path()
    end = time.monotonic() + 20
    while not sock.exists() and time.monotonic() < end:
        time.sleep(0.02)
    time.sleep(0.2)
    rate = 500
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw_host = h.RESULTS / f"profile-{kind}-host-{stamp}.txt"
    raw_client = h.RESULTS / f"profile-{kind}-client-{stamp}.txt"
    spy_host = subprocess.Popen(
        spy_record(spy, rate, raw_host, "--pid", str(host.pid)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    cmd = h.skylift_cmd("upload", "--wait", "--to", DEST, str(src))
    subprocess.run(
        spy_record(spy, rate, raw_client, "--", *cmd),
        env=env,
        capture_output=True,
        check=False,
    )
    spy_host.send_signal(signal.SIGINT)
    spy_host.wait(30)
    host.terminate()
    host.wait(10)
    if xs is not None:
        xs.stop()
    server.stop()
    what = {
        "engine": "the running engine (no GUI)",
        "gui": "the desktop app, "
        + ("in the tray of a private Xvfb" if xs is not None else "offscreen, its window open"),
    }[kind]
    out = [f"## py-spy: {what} while `skylift upload --wait` hands the files over", ""]
    out += summarize_raw(raw_host, rate) if raw_host.exists() else ["(no host profile)"]
    out += ["", f"## py-spy: the `skylift upload --wait` client of the {kind}", ""]
    out += summarize_raw(raw_client, rate) if raw_client.exists() else ["(no client profile)"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--size", type=int, default=100_000, help="bytes per file")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--gui", action="store_true", help="also profile the desktop app (offscreen)")
    ap.add_argument(
        "--editable", action="store_true", help="this environment's Skylift, not an installed copy"
    )
    ap.add_argument(
        "--python", metavar="PATH", help="install the copy on this Python (see upload_bench.py)"
    )
    args = ap.parse_args()
    h.require_skylift()
    tmp = Path(tempfile.mkdtemp(prefix="skylift-profile-"))
    served, where = h.served_folder("memory", tmp)  # as upload_bench.py's default
    print(f"the loopback servers write to {where}", file=sys.stderr)
    try:
        if not args.editable:
            h.install_copy(tmp, args.python)  # as upload_bench.py measures it
        rclone = h.rclone_path()
        template = h.Profile(tmp / "template")
        for key, value in (("remote", h.REMOTE), ("remote_path", "/up")):
            subprocess.run(
                h.skylift_cmd("config", "set", key, value),
                env=template.env(),
                check=True,
                capture_output=True,
            )
        src = tmp / "data" / "Wedding"
        h.make_files(src, args.files, args.size)
        runs = [timeline_run(tmp, served, rclone, template, src, i) for i in range(args.runs)]
        lines = print_timeline(runs)
        spy = pyspy()
        lines += ["", *profile_headless(tmp, served, rclone, template, src, spy)]
        if spy:
            lines += ["", *profile_hosted(tmp, served, rclone, template, src, spy)]
            if args.gui:
                lines += ["", *profile_hosted(tmp, served, rclone, template, src, spy, "gui")]
    finally:
        shutil.rmtree(served, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    h.save_json("profile_upload", {"markdown": text, "machine": h.machine()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
