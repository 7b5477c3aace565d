"""The ``skylift`` command. Exit codes: 0 ok, 1 uploads failed, 2 bad input, 3 rclone."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence

from skylift import __version__

TYPE_CHECKING = False  # typing itself is not loaded: see below
if TYPE_CHECKING:
    from typing import Any

    from skylift.core.settings import Settings

# The modules below the CLI are imported where a command needs them, so that the common
# `skylift upload --wait` that hands its files to the running app starts in a fraction
# of the time: it needs neither the settings, nor the planner, nor the queue store, nor
# typing, platformdirs or pathlib, and argparse builds only the command it runs.

OK, FAILED, USAGE, RCLONE = 0, 1, 2, 3


class CliError(Exception):
    def __init__(self, message: str, code: int = USAGE):
        super().__init__(message)
        self.code = code


# --- the command line: one function per command adds its arguments ------------------------


def _upload_args(sub: Any) -> None:
    up = sub.add_parser("upload", help="queue files and folders")
    where = up.add_mutually_exclusive_group()
    where.add_argument("--to", metavar="REMOTE:PATH", help="destination (default: the settings)")
    where.add_argument("--preset", metavar="NAME", help="a named destination (skylift preset)")
    up.add_argument("--wait", action="store_true", help="block until these uploads end")
    up.add_argument(
        "--again",
        action="store_true",
        help="send even files uploaded before and unchanged since, or whose remote copy "
        "looks the same",
    )
    up.add_argument("paths", nargs="+", metavar="PATH")


def _drain_args(sub: Any) -> None:
    sub.add_parser("drain", help="upload everything pending without a GUI, then exit")


def _status_args(sub: Any) -> None:
    st = sub.add_parser("status", help="counts and jobs")
    st.add_argument("--json", action="store_true", help="print one JSON object")


def _history_args(sub: Any) -> None:
    hi = sub.add_parser("history", help="finished uploads, newest first")
    hi.add_argument("--search", default="", metavar="TEXT", help="match path, destination, error")
    hi.add_argument("--csv", metavar="FILE", help="write CSV to FILE ('-': standard output)")
    hi.add_argument("--limit", type=int, metavar="N", help="at most N (default: 100 in the table)")


def _retry_args(sub: Any) -> None:
    rt = sub.add_parser("retry", help="queue failed uploads again")
    rt.add_argument("--all-failed", action="store_true")
    rt.add_argument("ids", nargs="*", type=int, metavar="JOB_ID")


def _cancel_args(sub: Any) -> None:
    ca = sub.add_parser("cancel", help="cancel queued or running uploads")
    ca.add_argument("ids", nargs="+", type=int, metavar="JOB_ID")


def _test_connection_args(sub: Any) -> None:
    tc = sub.add_parser("test-connection", help="check that the remote answers")
    tc.add_argument("target", nargs="?", metavar="REMOTE:PATH")


def _config_args(sub: Any) -> None:
    cf = sub.add_parser("config", help="show, get or set settings")
    cfs = cf.add_subparsers(dest="action", metavar="ACTION", required=True)
    cfs.add_parser("show")
    g = cfs.add_parser("get")
    g.add_argument("key")
    s = cfs.add_parser("set")
    s.add_argument("key")
    s.add_argument("value")


def _preset_args(sub: Any) -> None:
    pr = sub.add_parser("preset", help="named destinations, such as a client's folder")
    prs = pr.add_subparsers(dest="action", metavar="ACTION", required=True)
    prs.add_parser("list")
    pa = prs.add_parser("add")
    pa.add_argument("name")
    pa.add_argument("destination", metavar="REMOTE:PATH")
    prm = prs.add_parser("remove")
    prm.add_argument("name")


def _verify_args(sub: Any) -> None:
    ve = sub.add_parser("verify", help="check that remote copies match the local files")
    ve.add_argument("--all", action="store_true", help="every uploaded file still in the queue")
    ve.add_argument("ids", nargs="*", type=int, metavar="JOB_ID")


def _link_args(sub: Any) -> None:
    lk = sub.add_parser("link", help="print a share link for a file or folder on the remote")
    lk.add_argument("target", nargs="?", metavar="REMOTE:PATH")
    lk.add_argument("--expire", metavar="DURATION", help="e.g. 12h, 7d, 2w (default: link_expire)")
    lk.add_argument("--job", type=int, metavar="JOB_ID", help="link the folder of this upload")


def _watch_args(sub: Any) -> None:
    w = sub.add_parser("watch", help="hot folders: upload what lands in a folder")
    ws = w.add_subparsers(dest="action", metavar="ACTION", required=True)
    ws.add_parser("list", help="the watched folders")
    a = ws.add_parser("add", help="watch a folder")
    a.add_argument("folder", metavar="FOLDER")
    a.add_argument("--to", metavar="REMOTE:PATH", help="destination (default: the settings)")
    a.add_argument("--flat", action="store_true", help="put files from subfolders directly in it")
    a.add_argument(
        "--move-after-upload",
        action="store_true",
        help="move each uploaded file to an Uploaded folder inside the watched folder",
    )
    r = ws.add_parser("remove", help="stop watching a folder")
    r.add_argument("folder", metavar="FOLDER")


def _gui_args(sub: Any) -> None:
    sub.add_parser("gui")  # no help: not listed (help=SUPPRESS would print "==SUPPRESS==")


# In the order `skylift --help` lists them.
_ARGS = {
    "upload": _upload_args,
    "drain": _drain_args,
    "status": _status_args,
    "history": _history_args,
    "retry": _retry_args,
    "cancel": _cancel_args,
    "test-connection": _test_connection_args,
    "config": _config_args,
    "preset": _preset_args,
    "verify": _verify_args,
    "link": _link_args,
    "watch": _watch_args,
    "gui": _gui_args,
}
SUBCOMMANDS = set(_ARGS)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; with a known ``command``, only that command's part is built."""
    p = argparse.ArgumentParser(
        prog="skylift",
        description="Upload exported photos to any cloud rclone reaches.",
        epilog="With no command, start the tray app; with files, queue them in it.",
    )
    p.add_argument("--version", action="version", version=f"skylift {__version__}")
    p.add_argument("--debug", action="store_true", help="log rclone's full output")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in _ARGS.items():
        if command not in _ARGS or name == command:
            add(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    files: list[str] = []
    first = next((a for a in args_list if a != "--debug"), None)
    if first is not None and first not in SUBCOMMANDS and not first.startswith("-"):
        files = [a for a in args_list if a != "--debug"]
        args_list = ["--debug"] if debug else []
    command = next((a for a in args_list if not a.startswith("-")), None)
    ns = _parser(command).parse_args(args_list)
    if ns.command != "upload":  # upload sets it up once it knows it runs the engine here
        _logging(ns.debug)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        if ns.command is None or ns.command == "gui":
            return _gui(files)
        return int(COMMANDS[ns.command](ns))
    except CliError as e:
        print(f"skylift: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("\nskylift: stopped; unfinished uploads stay queued.", file=sys.stderr)
        return 130
    except Exception as e:
        code = _known_failure(e)
        if code is None:
            raise
        return code


def _logging(debug: bool) -> None:
    from skylift.core import logs

    logs.setup(debug=debug)


def _known_failure(e: Exception) -> int | None:
    """The exit code for an error the CLI explains in a sentence; None for a bug.

    Only modules already loaded are asked: an error of a module never imported cannot
    have been raised.
    """
    rclone_binary = sys.modules.get("skylift.core.rclone_binary")
    store = sys.modules.get("skylift.core.store")
    sqlite3 = sys.modules.get("sqlite3")
    if rclone_binary is not None and isinstance(e, rclone_binary.RcloneError):
        print(f"skylift: {e}", file=sys.stderr)
        return RCLONE
    if store is not None and isinstance(e, store.StoreError):
        print(f"skylift: {e}", file=sys.stderr)
        return USAGE
    if store is not None and sqlite3 is not None and isinstance(e, sqlite3.Error):
        from skylift.core import paths

        print(f"skylift: {store.explain(paths.queue_file(), e)}", file=sys.stderr)
        return USAGE
    return None


def run() -> None:
    """The ``skylift`` program: ``main()``, then exit at once.

    Everything that matters is saved by the time ``main()`` returns (the queue is
    committed and closed, the engine stopped). Letting Python then tear down Qt's
    objects one by one would only keep a terminal or a script waiting (about 20 ms
    after an upload), so a process that loaded Qt flushes its output and its log and
    leaves directly.
    """
    code = main()
    if "PySide6.QtCore" not in sys.modules:
        sys.exit(code)
    import contextlib
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)


# --- helpers -----------------------------------------------------------------------------


def _settings() -> Settings:
    from skylift.core.settings import Settings

    s = Settings.load()
    for w in s.warnings:
        print(f"skylift: warning: {w}", file=sys.stderr)
    return s


def _client() -> Any:
    """A client of the running engine, or None when no engine runs."""
    from skylift.entry.ipc_client import Client

    c = Client()
    return c if c.connect() else None


def _gui(files: list[str]) -> int:
    client = _client()
    if client is not None:
        if files:
            reply = client.request("upload", paths=files, cwd=os.getcwd(), files=True)
            _report_rejected(reply.get("rejected", []))
        client.request("show")
        return OK
    if _no_display():
        raise CliError(
            "there is no desktop here to show Skylift on (DISPLAY and WAYLAND_DISPLAY are "
            "not set); upload from the terminal with 'skylift upload --wait PATH...' or "
            "'skylift drain'."
        )
    try:
        from skylift.ui.app import run
    except ImportError as e:
        raise CliError(f"the desktop app cannot start here ({e}).", USAGE) from None
    return run(files)


def _no_display() -> bool:
    """On Linux and the BSDs, Qt aborts the process when it finds no display: say so first."""
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _report_rejected(rejected: list[Any]) -> bool:
    missing = False
    for path, reason, is_missing in rejected:
        print(f"skylift: {path} {reason}; skipped.", file=sys.stderr)
        missing = missing or is_missing
    return missing


def _destination(ns_to: str | None, settings: Settings) -> str:
    if ns_to:
        return _checked_to(ns_to)
    root = settings.destination_root
    if not root:
        raise CliError(
            "no destination: set one with 'skylift config set remote NAME' "
            "(see 'rclone listremotes'), or give --to REMOTE:PATH."
        )
    return root


# --- commands ----------------------------------------------------------------------------


def _shaped_to(ns_to: str) -> str:
    """``--to REMOTE:PATH`` as given, once it has that shape.

    That is all a process handing its files over checks: the running app checks the
    remote's name itself (with the same message), and the settings module that knows the
    rule costs more to load than the rest of the hand-over."""
    name, sep, _ = ns_to.partition(":")
    if not sep or not name:
        raise CliError(f"--to wants REMOTE:PATH, such as dropbox:/Photos, not '{ns_to}'.")
    return ns_to


def _checked_to(ns_to: str) -> str:
    """``--to REMOTE:PATH`` as given, once its shape and remote name are valid."""
    from skylift.core.settings import SettingError, parse_value

    try:
        parse_value("remote", _shaped_to(ns_to).partition(":")[0])
    except SettingError as e:
        raise CliError(str(e)) from None
    return ns_to


def _preset(name: str, settings: Settings) -> str:
    from skylift.core.settings import find_preset

    dest = find_preset(settings, name)
    if dest is None:
        names = ", ".join(p["name"] for p in settings["presets"])
        known = f"the presets are: {names}" if names else "there are none yet"
        raise CliError(
            f"there is no preset called '{name}'; {known}. "
            "Add one with 'skylift preset add NAME REMOTE:PATH'."
        )
    return dest


def cmd_upload(ns: argparse.Namespace) -> int:
    settings = _settings() if ns.preset else None
    dest = _preset(ns.preset, settings) if settings is not None else None
    if ns.to:
        dest = _shaped_to(ns.to)
    _refuse_missing([p for p in ns.paths if not os.path.lexists(_absolute(p))])
    # A running app plans the files itself (and uses its own default destination):
    # handing them over first spares this process the work of planning them twice.
    handed = _hand_over(ns.paths, dest, ns.wait, ns.again)
    if handed is None and ns.wait and _engine_starting():
        # another process is starting the engine: it plans the files, not this one
        handed = _hand_over(ns.paths, dest, ns.wait, ns.again)
    if handed is not None:
        return handed
    _logging(ns.debug)
    from skylift.core import rclone_binary
    from skylift.core.planner import plan

    settings = settings or _settings()
    if not ns.preset or dest is None:  # no app took them: --to's remote name is checked here
        dest = _destination(ns.to, settings)
    planned, rejected = plan(ns.paths, dest)
    _refuse_missing([r.path for r in rejected if r.missing])  # gone since the first look
    for r in rejected:
        print(f"skylift: {r.path} {r.reason}; skipped.", file=sys.stderr)
    if not planned:
        raise CliError("there is no file to upload in what was given.")
    rclone_checked = False
    for attempt in range(_ATTEMPTS):
        handed = _hand_over(ns.paths, dest, ns.wait, ns.again) if attempt else None
        if handed is not None:
            return handed
        if ns.wait and settings["enabled"] and _engine_starting():
            continue  # another process runs or starts the engine: hand the files to it
        headless = ns.wait and settings["enabled"]  # checks rclone itself, before queueing
        if not rclone_checked and not headless:
            rclone_binary.find(settings["rclone_path"])  # exit 3 now, not after queueing
            rclone_checked = True
        if not ns.wait or not settings["enabled"]:
            return _queue_only(planned, dest, settings, ns.again)
        rclone_binary.start_check(settings["rclone_path"])  # runs while Qt loads
        from skylift.entry.service import EngineBusy  # Qt: only when the engine runs here

        try:
            return _run_headless(
                settings,
                lambda service: (
                    service.engine.add_planned(planned, start_now=True, force=ns.again).jobs
                ),
            )
        except EngineBusy:
            # another `skylift upload --wait` took the engine a moment ago: join it
            _wait_for_engine()
    raise CliError("the running Skylift kept going away; try again.")


_ATTEMPTS = 20


def _engine_starting(seconds: float = 10.0) -> bool:
    """Whether another process runs or is starting the engine; if so, wait for its socket.

    Waits without loading Qt. True once that engine answers; False when this process is
    the one to start it (it holds the start claim and no live process holds the engine's
    lock), or when the time is up.
    """
    import time

    from skylift.entry.ipc_client import claim_engine_start, engine_lock_held

    deadline = time.monotonic() + seconds
    while True:
        if claim_engine_start() and not engine_lock_held():
            return False
        client = _client()
        if client is not None:
            client.close()
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _queue_only(planned: list[Any], dest: str, settings: Settings, again: bool) -> int:
    from skylift.core.store import Store

    store = Store()
    jobs, _added = store.add(
        [(p.path, p.destination, p.size, p.mtime) for p in planned], force=again
    )
    store.close()
    if not settings["enabled"]:
        raise CliError(
            f"uploads are turned off (enabled is false); {len(jobs)} file(s) stay queued. "
            "Turn uploads on with 'skylift config set enabled true'."
        )
    print(
        f"Queued {len(jobs)} file(s) for {dest}. Skylift is not running: start it, or run "
        "'skylift drain' to upload them now.",
        file=sys.stderr,
    )
    return OK


def _run_headless(settings: Settings, queue: Any) -> int:
    """Run the engine here, without a display, until the given jobs (or all) have ended.

    ``queue(service)`` queues this command's files and returns their jobs; None drains
    the whole queue. Raises EngineBusy when another process runs the engine.
    """
    from skylift.core import rclone_binary
    from skylift.entry.headless import core_app, follow_engine
    from skylift.entry.service import EngineService

    core_app()
    if not settings["enabled"]:
        raise CliError(
            "uploads are turned off (enabled is false); the files stay queued. Turn uploads "
            "on with 'skylift config set enabled true'."
        )
    service = EngineService(settings)
    try:
        # exit 3 before queueing; a process that hands its files over never needs rclone
        rclone_binary.find(settings["rclone_path"])
        own = queue(service) if queue else None
        rows = follow_engine(service, [j.id for j in own] if own is not None else None)
        if service.engine.problem and not service.engine.problem_is_rclone:
            raise CliError(service.engine.problem, FAILED)  # a full disk: the files stay queued
        if service.engine.problem:
            raise rclone_binary.RcloneError(service.engine.problem)
        return OK if all(r["state"] == "done" for r in rows) else FAILED
    finally:
        service.close()


def _absolute(given: str) -> str:
    return os.path.normpath(os.path.abspath(os.path.expanduser(given)))


def _refuse_missing(missing: list[str]) -> None:
    if missing:
        raise CliError(f"{', '.join(missing)} does not exist; nothing was queued.")


def _hand_over(
    paths_given: list[str], dest: str | None, wait: bool, again: bool = False
) -> int | None:
    """Give the files to a running engine; None when there is none to give them to.

    With ``dest`` None the app sends them to its default destination. ``again`` (only
    sent when asked for, so an older running app still takes plain hand-overs): send
    even files sent before.
    """
    from skylift.entry.ipc_client import IpcError

    client = _client()
    if client is None:
        return None
    try:
        fields = {"again": True} if again else {}
        reply = client.request("upload", paths=paths_given, to=dest, cwd=os.getcwd(), **fields)
    except IpcError:
        return None  # it went away before taking them: the caller tries again
    if not reply.get("ok"):
        raise CliError(reply.get("error", "the running Skylift refused the files"))
    ids = reply["ids"]
    _report_rejected(reply.get("rejected", []))
    if not ids:
        raise CliError("there is no file to upload in what was given.")
    where = dest or reply.get("destination") or "the default destination"
    print(f"Queued {len(ids)} file(s) for {where} in the running Skylift.", file=sys.stderr)
    # the jobs are known to be queued: the first "wait" asks only for what comes next
    return _follow(client, ids, reply.get("seq")) if wait else OK


def _wait_for_engine(seconds: float = 10.0) -> Any:
    """Another process holds the engine: wait for its socket to answer.

    Returns a client, or None once the engine is free again (its holder has just
    exited) or the time is up: the caller then tries to run it itself.
    """
    import time

    from skylift.entry.ipc import EngineLock

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        client = _client()
        if client is not None:
            return client
        lock = EngineLock()
        if lock.acquire():
            lock.release()
            return None
        time.sleep(0.05)
    return None


def _follow(client: Any, ids: list[int], since: int | None = None) -> int:
    """Follow jobs to their end, through whichever process runs the engine.

    ``since``: the engine's change count when it took the jobs, if it said.
    If the engine goes away (the app quit or crashed), its jobs are still queued: the
    next engine takes them, and that may be this process.
    """
    for _ in range(_ATTEMPTS):
        if client is not None:
            code = _follow_remote(client, ids, since)
            if code is not None:
                return code
        client, since = _client(), None  # another engine counts afresh
        if client is None:
            from skylift.entry.service import EngineBusy  # Qt: only when the engine runs here

            try:
                return _run_headless(_settings(), lambda service: service.engine.jobs(ids=ids))
            except EngineBusy:
                client = _wait_for_engine()
    raise CliError("the running Skylift kept going away; the files stay queued.")


def _follow_remote(client: Any, ids: list[int], since: int | None = None) -> int | None:
    """Follow ``ids`` in the running engine until they end; None if it went away.

    With ``since``, the first answer holds only the jobs that changed after it (or,
    if none does within the wait, all of them): not 1,000 rows the client knows are
    queued, while their upload starts."""
    from skylift.entry.ipc_client import IpcError
    from skylift.entry.progress import FINISHED, ProgressPrinter, poll_until

    printer = ProgressPrinter()
    rows: dict[int, dict[str, Any]] = {}
    state: dict[str, Any] = {"since": since, "poll": False}
    pending = list(ids)

    def finished() -> bool:
        nonlocal pending
        try:
            reply = _news(client, pending, state)
        except IpcError:
            state["lost"] = True
            return True
        for j in reply["jobs"]:
            rows[j["id"]] = j
        pending = [i for i in pending if rows.get(i, {}).get("state") not in FINISHED]
        printer.update(rows.values(), reply.get("speed", 0.0), reply["jobs"])
        if reply.get("problem"):
            state["problem"] = reply["problem"]
            return True
        return not pending

    while not finished():
        if state["poll"]:
            poll_until(finished, 0.2)
            break
    printer.finish()
    if state.get("lost"):
        return None
    if state.get("problem"):
        from skylift.core.rclone_binary import RcloneError

        raise RcloneError(state["problem"])
    return OK if all(r["state"] == "done" for r in rows.values()) else FAILED


def _news(client: Any, pending: list[int], state: dict[str, Any]) -> dict[str, Any]:
    """The jobs among ``pending`` that changed, answered by the engine when they do.

    An app from before the "wait" request is asked for all of them instead (polling).
    """
    if not state["poll"]:
        fields: dict[str, Any] = {"ids": pending}
        if state["since"] is not None:
            fields["since"] = state["since"]
        reply = client.request("wait", **fields)
        if reply.get("ok"):
            state["since"] = reply["seq"]
            return dict(reply)
        state["poll"] = True
    return dict(client.request("jobs", ids=pending))


def cmd_drain(ns: argparse.Namespace) -> int:
    from skylift.core import rclone_binary

    client = _client()
    if client is not None:
        from skylift.entry.progress import poll_until

        def idle() -> bool:
            return not client.request("jobs", ids=[])["busy"]

        poll_until(idle, 0.5)
        status = client.request("status")["status"]
        return FAILED if status["failed"] else OK
    settings = _settings()
    rclone_binary.find(settings["rclone_path"])
    from skylift.entry.service import EngineBusy

    try:
        return _run_headless(settings, None)
    except EngineBusy:
        client = _wait_for_engine()
        if client is None:
            raise CliError(
                "another Skylift holds the queue but does not answer; try again."
            ) from None
        from skylift.entry.progress import poll_until

        poll_until(lambda: not client.request("jobs", ids=[])["busy"], 0.5)
        return FAILED if client.request("status")["status"]["failed"] else OK


def _status() -> dict[str, Any]:
    from skylift.core import paths
    from skylift.core.store import Store

    client = _client()
    if client is not None:
        return dict(client.request("status")["status"])
    from skylift.core.engine import status_object

    if not paths.queue_file().exists():
        return status_object({}, False, [])
    from skylift.core.metrics import compute

    store = Store(readonly=True)
    try:
        jobs = store.job_dicts()
        return status_object(store.counts(), False, jobs, compute(store.metrics_totals()))
    finally:
        store.close()


def cmd_status(ns: argparse.Namespace) -> int:
    status = _status()
    if ns.json:
        print(json.dumps(status, ensure_ascii=False))
        return OK
    parts = [f"{status[k]} {k}" for k in ("queued", "uploading", "done", "failed", "cancelled")]
    print(("paused · " if status["paused"] else "") + " · ".join(parts))
    for j in status["jobs"]:
        line = f"{j['id']:>6}  {j['state']:<9}  {j['path']} -> {j['destination']}"
        if j["error"] and j["state"] in ("failed", "queued"):
            line += f"\n        {j['error']}"
        print(line)
    return OK


def _direct_or_remote(cmd: str, **fields: Any) -> list[int]:
    from skylift.core.store import JobState, Store

    client = _client()
    if client is not None:
        reply = client.request(cmd, **fields)
        if not reply.get("ok"):
            raise CliError(reply.get("error", "the running Skylift refused"))
        return list(reply["ids"])
    from skylift.entry.ipc import EngineLock

    lock = EngineLock()
    if not lock.acquire():
        raise CliError("Skylift is starting or stopping; try again in a moment.")
    try:
        store = Store()
        if cmd == "retry":
            ids = (
                [j.id for j in store.jobs(states=(JobState.FAILED,))]
                if fields.get("all_failed")
                else fields["ids"]
            )
            changed = store.retry(ids)
        else:
            changed = store.update(
                fields["ids"], JobState.CANCELLED, only_from=(JobState.QUEUED, JobState.UPLOADING)
            )
        store.close()
        return changed
    finally:
        lock.release()


def cmd_retry(ns: argparse.Namespace) -> int:
    if not ns.all_failed and not ns.ids:
        raise CliError("say which uploads to retry: JOB_ID... or --all-failed.")
    if ns.all_failed:
        ids = _direct_or_remote("retry", all_failed=True)
    else:
        ids = _direct_or_remote("retry", ids=ns.ids)
        missing = sorted(set(ns.ids) - set(ids))
        if missing:
            print(
                f"skylift: job(s) {', '.join(map(str, missing))} are not failed or cancelled; "
                "left as they are.",
                file=sys.stderr,
            )
            if not ids:
                return USAGE
    print(f"Queued {len(ids)} upload(s) again.")
    return OK


def cmd_cancel(ns: argparse.Namespace) -> int:
    ids = _direct_or_remote("cancel", ids=ns.ids)
    missing = sorted(set(ns.ids) - set(ids))
    if missing:
        print(
            f"skylift: job(s) {', '.join(map(str, missing))} are not queued or uploading; "
            "left as they are.",
            file=sys.stderr,
        )
    print(f"Cancelled {len(ids)} upload(s).")
    return OK if ids else USAGE


def cmd_test_connection(ns: argparse.Namespace) -> int:
    from skylift.core import rclone_binary

    settings = _settings()
    target = _destination(ns.target, settings)
    rclone_binary.find(settings["rclone_path"])
    from skylift.core import connection

    ok, err = connection.test(target, settings["rclone_path"])
    if ok:
        print(f"{target} answers; uploads can go there.")
        return OK
    print(f"skylift: {target}: {err}", file=sys.stderr)
    return RCLONE if err and "does not exist" in err else FAILED


def cmd_config(ns: argparse.Namespace) -> int:
    from skylift.core.settings import KEYS, SettingError

    settings = _settings()
    if ns.action == "show":
        for key, value in settings.as_dict().items():
            print(f"{key} = {json.dumps(value)}")
        return OK
    if ns.action == "get":
        if ns.key not in KEYS and ns.key not in settings.as_dict():
            raise CliError(
                f"'{ns.key}' is not a Skylift setting; the settings are: {', '.join(KEYS)}."
            )
        value = settings.get(ns.key)
        print(value if isinstance(value, str) else json.dumps(value))
        return OK
    try:
        settings[ns.key] = ns.value
    except SettingError as e:
        raise CliError(str(e)) from None
    _save_settings(settings)
    return OK


def _save_settings(settings: Settings) -> None:
    try:
        settings.save()
    except OSError as e:
        raise CliError(
            f"the settings could not be saved ({e.strerror}); nothing changed."
        ) from None
    client = _client()
    if client is not None:
        client.request("reload")


def cmd_preset(ns: argparse.Namespace) -> int:
    from skylift.core.settings import SettingError, find_preset

    settings = _settings()
    presets = list(settings["presets"])
    if ns.action == "list":
        width = max((len(p["name"]) for p in presets), default=0)
        for p in presets:
            print(f"{p['name']:<{width}}  {p['destination']}")
        if not presets:
            print("No presets yet; add one with 'skylift preset add NAME REMOTE:PATH'.")
        return OK
    if ns.action == "add":
        if find_preset(settings, ns.name) is not None:
            raise CliError(
                f"a preset called '{ns.name.strip()}' exists already; remove it first to "
                "change where it points."
            )
        presets.append({"name": ns.name, "destination": ns.destination})
    else:
        kept = [p for p in presets if p["name"].casefold() != ns.name.strip().casefold()]
        if len(kept) == len(presets):
            raise CliError(f"there is no preset called '{ns.name}'.")
        presets = kept
    try:
        settings["presets"] = presets
    except SettingError as e:
        raise CliError(str(e)) from None
    _save_settings(settings)
    if ns.action == "add":
        added = find_preset(settings, ns.name)
        print(f"Preset '{ns.name.strip()}' uploads to {added}.")
    else:
        print(f"Preset '{ns.name.strip()}' removed.")
    return OK


def cmd_verify(ns: argparse.Namespace) -> int:
    """Compare remote copies with the local files; exit 1 if any does not match."""
    from skylift.core import rclone_binary
    from skylift.core.verify import describe

    if not ns.all and not ns.ids:
        raise CliError("say which uploads to verify: JOB_ID... or --all.")
    settings = _settings()
    client = _client()
    if client is not None:
        ids = _verify_ids(ns, lambda: client.request("status")["status"]["jobs"])
        reply = client.request("verify", ids=ids)
        started = list(reply.get("ids", []))
        rows: dict[int, dict[str, Any]] = {}
        if started:
            from skylift.entry.progress import poll_until

            def finished() -> bool:
                for j in client.request("jobs", ids=started)["jobs"]:
                    rows[j["id"]] = j
                return all(r.get("verified") != "checking" for r in rows.values())

            poll_until(finished, 0.3)
        results = list(rows.values())
    else:
        rclone_binary.find(settings["rclone_path"])
        from skylift.entry.headless import core_app, wait_until
        from skylift.entry.service import EngineBusy, EngineService

        core_app()
        try:
            service = EngineService(settings)
        except EngineBusy:
            raise CliError("Skylift is starting or stopping; try again in a moment.") from None
        try:
            service.engine.pause()  # checking only: nothing queued is sent by this command
            ids = _verify_ids(ns, lambda: [j.as_dict() for j in service.engine.jobs()])
            started = service.engine.verify(ids)
            wait_until(lambda: not service.engine.checking(), 100)
            results = [j.as_dict() for j in service.engine.jobs(ids=started)]
        finally:
            service.close()
    skipped = sorted(set(ids) - {r["id"] for r in results})
    if skipped:
        print(
            f"skylift: job(s) {', '.join(map(str, skipped))} are not uploaded files that "
            "are still on this computer; not checked.",
            file=sys.stderr,
        )
    bad = 0
    for r in sorted(results, key=lambda r: r["id"]):
        if r["state"] == "done" and r["verified"] not in ("mismatch", "unverified"):
            print(f"{r['id']:>6}  {describe(r['verified'])}  {r['destination']}")
        else:
            bad += 1
            reason = r["error"] or r["note"] or describe(r["verified"])
            print(f"{r['id']:>6}  {reason}  {r['destination']}")
    if not results:
        return USAGE
    return FAILED if bad else OK


def _verify_ids(ns: argparse.Namespace, jobs: Any) -> list[int]:
    if ns.all:
        return [int(j["id"]) for j in jobs() if j["state"] == "done"]
    return list(ns.ids)


def cmd_link(ns: argparse.Namespace) -> int:
    from skylift.core import links

    settings = _settings()
    try:
        expire = links.checked_expire(
            ns.expire if ns.expire is not None else settings["link_expire"]
        )
    except ValueError as e:
        raise CliError(str(e)) from None
    done: list[tuple[int, str]] = []
    if ns.job is not None:
        if ns.target:
            raise CliError("give REMOTE:PATH or --job JOB_ID, not both.")
        job = _job_dict(ns.job)
        if job is None:
            raise CliError(f"there is no upload number {ns.job}.")
        if job["state"] != "done":
            raise CliError(
                f"upload {ns.job} is {job['state']}, not uploaded; a share link needs the "
                "file on the remote."
            )
        targets: Any = links.targets_for([(ns.job, job["destination"])])
        done = [(int(j["id"]), j["destination"]) for j in _status()["jobs"] if j["state"] == "done"]
    elif not ns.target:
        raise CliError("say what to share: skylift link REMOTE:PATH, or --job JOB_ID.")
    else:
        try:
            targets = links.checked_target(ns.target)
        except ValueError as e:
            raise CliError(str(e)) from None
    result = links.make_link(targets, expire, settings["rclone_path"])
    if result.note:
        print(f"skylift: {result.note}", file=sys.stderr)
    if result.url is None:
        print(f"skylift: {result.error}", file=sys.stderr)
        return RCLONE if result.kind is links.Kind.REMOTE else FAILED
    print(result.url)
    if ns.job is not None:
        _store_link(links.sharing(result, done), result.url)
    return OK


def _job_dict(job_id: int) -> dict[str, Any] | None:
    from skylift.core import paths
    from skylift.core.store import Store

    client = _client()
    if client is not None:
        jobs = client.request("jobs", ids=[job_id])["jobs"]
        return dict(jobs[0]) if jobs else None
    if not paths.queue_file().exists():
        return None
    store = Store(readonly=True)
    try:
        job = store.get(job_id)
        return job.as_dict() if job is not None else None
    finally:
        store.close()


def _store_link(ids: list[int], url: str) -> None:
    """Keep the link on the jobs, in the engine that holds the queue (or here)."""
    from skylift.core.store import Store

    client = _client()
    if client is not None:
        client.request("set_link", ids=ids, link=url)
        return
    from skylift.entry.ipc import EngineLock

    lock = EngineLock()
    if not lock.acquire():
        print("skylift: the link was not kept with the upload; Skylift is busy.", file=sys.stderr)
        return
    try:
        store = Store()
        store.set_fields(ids, link=url)
        store.close()
    finally:
        lock.release()


# --- hot folders -------------------------------------------------------------------------


def _save_watch(settings: Settings, folders: list[dict[str, Any]]) -> None:
    from skylift.core.settings import SettingError

    try:
        settings["watch_folders"] = folders
    except SettingError as e:
        raise CliError(str(e)) from None
    _save_settings(settings)


def cmd_watch(ns: argparse.Namespace) -> int:
    from skylift.core.settings import SettingError, validate_destination

    settings = _settings()
    folders: list[dict[str, Any]] = list(settings["watch_folders"])
    if ns.action == "list":
        if not folders:
            print("No folder is watched; add one with 'skylift watch add FOLDER'.")
            return OK
        default = settings.destination_root or "(no destination set)"
        for f in folders:
            dest = f["destination"] or f"{default} (the default)"
            how = "keeps subfolders" if f["subfolders"] else "flat"
            if f["after_upload"] == "move":
                how += ", moves uploaded files to Uploaded/"
            missing = "" if os.path.isdir(f["path"]) else "  [not available]"
            print(f"{f['path']} -> {dest}  ({how}){missing}")
        return OK
    folder = _absolute(ns.folder)
    watched = [f["path"] for f in folders]
    if ns.action == "remove":
        if folder not in watched:
            raise CliError(f"{folder} is not watched; see 'skylift watch list'.")
        _save_watch(settings, [f for f in folders if f["path"] != folder])
        print(f"No longer watching {folder}.")
        return OK
    if not os.path.exists(folder):
        raise CliError(f"{folder} does not exist; nothing was changed.")
    if not os.path.isdir(folder):
        raise CliError(f"{folder} is not a folder; give the folder your photos are exported to.")
    if folder in watched:
        raise CliError(f"{folder} is already watched; see 'skylift watch list'.")
    for other in watched:
        if os.path.commonpath([folder, other]) in (folder, other):
            raise CliError(
                f"{folder} is inside or around the watched folder {other}, so its files "
                "would be uploaded twice; watch one of them only."
            )
    dest = ""
    if ns.to:
        try:
            dest = validate_destination(ns.to, "--to")
        except SettingError as e:
            raise CliError(str(e)) from None
    entry = {
        "path": folder,
        "destination": dest,
        "subfolders": not ns.flat,
        "after_upload": "move" if ns.move_after_upload else "leave",
    }
    _save_watch(settings, [*folders, entry])
    target = dest or settings.destination_root
    if target:
        print(f"Watching {folder}: new files are uploaded to {target}.")
    else:
        print(
            f"Watching {folder}; no destination is set yet, so nothing is uploaded until "
            "you set one with 'skylift config set remote NAME'."
        )
    return OK


COMMANDS = {
    "link": cmd_link,
    "upload": cmd_upload,
    "preset": cmd_preset,
    "verify": cmd_verify,
    "drain": cmd_drain,
    "status": cmd_status,
    "retry": cmd_retry,
    "cancel": cmd_cancel,
    "test-connection": cmd_test_connection,
    "config": cmd_config,
    "watch": cmd_watch,
}


def cmd_history(ns: argparse.Namespace) -> int:
    from skylift.entry.history_cmd import run

    try:
        return run(ns.search, ns.csv, ns.limit)
    except ValueError as e:
        raise CliError(str(e)) from None


COMMANDS["history"] = cmd_history
