"""rclone's JSON log -> events, checked against real recorded rclone output.

The fixtures in tests/fixtures/rclone are the complete stderr of ``rclone copy`` for
ten scenarios, recorded with rclone 1.60.1 and 1.75.2 (see the README there). They are
fed line by line as raw bytes, exactly as the runner receives them from rclone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skylift.core.rclone_events import (
    Attempt,
    Copied,
    Failure,
    FileError,
    FileProgress,
    Log,
    Stats,
    Text,
    parse_line,
    strip_partial,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "rclone"
VERSIONS = ("1.60.1", "1.75.2")
EVENT_TYPES = (Stats, Copied, FileError, Attempt, Failure, Log, Text)
LARGE = 12582912  # bytes of large.jpg in the two large-file scenarios


def events(version: str, scenario: str) -> list:
    data = (FIXTURES / version / f"{scenario}.jsonl").read_bytes()
    return [parse_line(raw) for raw in data.split(b"\n") if raw.strip()]


def exit_code(version: str, scenario: str) -> int:
    return int((FIXTURES / version / f"{scenario}.exit").read_text())


def of(kind: type, evs: list) -> list:
    return [e for e in evs if isinstance(e, kind)]


@dataclass(frozen=True)
class Expect:
    copied: frozenset[str] = frozenset()
    replaced: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()
    attempt_errors: int | None = None  # None: the run has no "Attempt" summary
    sizes: dict[str, int] = field(default_factory=dict)  # "size" on 1.75.2 Copied lines


SCENARIOS = {
    "copy_small": Expect(
        copied=frozenset({"a.jpg", "b with space.jpg", "ünïcode.jpg"}),
        sizes={"a.jpg": 1000, "b with space.jpg": 2000, "ünïcode.jpg": 3000},
    ),
    "copy_large_progress": Expect(copied=frozenset({"large.jpg"}), sizes={"large.jpg": LARGE}),
    "already_present": Expect(),
    "replaced": Expect(
        copied=frozenset({"replaced.jpg"}),
        replaced=frozenset({"replaced.jpg"}),
        sizes={"replaced.jpg": 2000},
    ),
    "missing_source": Expect(copied=frozenset({"exists.jpg"}), sizes={"exists.jpg": 1500}),
    "dash_name": Expect(
        copied=frozenset({"-n.jpg", "--dry-run.jpg"}), sizes={"-n.jpg": 700, "--dry-run.jpg": 800}
    ),
    "server_down": Expect(),
    "remote_permission_denied": Expect(
        failed=frozenset({"a.jpg", "b with space.jpg"}), attempt_errors=2
    ),
    "partial_suffix": Expect(failed=frozenset({"photo.jpg"}), attempt_errors=1),
    "killed_server_midway": Expect(failed=frozenset({"large.jpg"}), attempt_errors=1),
}

ALL = [(v, s) for v in VERSIONS for s in SCENARIOS]


def test_every_recorded_scenario_is_covered() -> None:
    for version in VERSIONS:
        recorded = {p.stem for p in (FIXTURES / version).glob("*.jsonl")}
        assert recorded == set(SCENARIOS), version


@pytest.mark.parametrize(("version", "scenario"), ALL)
def test_copied_events_name_exactly_the_uploaded_files(version: str, scenario: str) -> None:
    expect = SCENARIOS[scenario]
    copied = of(Copied, events(version, scenario))
    assert {c.name for c in copied} == expect.copied
    assert len(copied) == len(expect.copied), "one Copied event per file"
    assert {c.name for c in copied if c.replaced} == expect.replaced


@pytest.mark.parametrize(("version", "scenario"), ALL)
def test_copied_size_is_given_only_where_rclone_logs_it(version: str, scenario: str) -> None:
    sizes = {c.name: c.size for c in of(Copied, events(version, scenario))}
    if version == "1.75.2":
        assert sizes == SCENARIOS[scenario].sizes
    else:
        assert all(size is None for size in sizes.values())


@pytest.mark.parametrize(
    ("version", "scenario"),
    [(v, s) for v, s in ALL],
)
def test_file_errors_name_exactly_the_failed_files(version: str, scenario: str) -> None:
    errors = of(FileError, events(version, scenario))
    assert {e.name for e in errors} == SCENARIOS[scenario].failed
    for e in errors:
        assert e.message.startswith(("Failed to copy: ", "partial file rename failed: "))


@pytest.mark.parametrize("version", VERSIONS)
def test_the_failed_file_of_killed_server_midway_is_reported(version: str) -> None:
    errors = {e.name: e.message for e in of(FileError, events(version, "killed_server_midway"))}
    assert errors["large.jpg"] == "Failed to copy: Update ReadFrom failed: connection lost"


@pytest.mark.parametrize(("version", "scenario"), ALL)
def test_exit_code_agrees_with_the_failure_events(version: str, scenario: str) -> None:
    # what the engine relies on: exit code 0 <=> no file error and no run failure
    evs = events(version, scenario)
    failed = bool(of(FileError, evs) or of(Failure, evs) or of(Attempt, evs))
    plain_text = [t for t in of(Text, evs) if t.line]
    assert (exit_code(version, scenario) != 0) == (failed or bool(plain_text))


@pytest.mark.parametrize(("version", "scenario"), ALL)
def test_attempt_summary(version: str, scenario: str) -> None:
    expect = SCENARIOS[scenario]
    attempts = of(Attempt, events(version, scenario))
    if expect.attempt_errors is None:
        assert attempts == []
        return
    assert len(attempts) == 1
    (a,) = attempts
    assert (a.number, a.total, a.errors) == (1, 1, expect.attempt_errors)
    assert a.message and not a.message.startswith("Attempt")
    last_error = of(FileError, events(version, scenario))[-1].message
    # the attempt carries the last error, without the per-file prefix
    assert last_error.endswith(a.message)


def test_partial_name_on_1_75_maps_back_to_the_photo() -> None:
    evs = events("1.75.2", "partial_suffix")
    (err,) = of(FileError, evs)
    assert err.name == "photo.jpg"
    assert "incompatible remotes" in err.message
    # the "Removing failed copy" info line also names the photo, not the temporary name
    removing = [e for e in of(Log, evs) if e.message == "Removing failed copy"]
    assert [e.name for e in removing] == ["photo.jpg"]


def test_partial_suffix_on_1_60_fails_with_the_plain_name() -> None:
    (err,) = of(FileError, events("1.60.1", "partial_suffix"))
    assert err.name == "photo.jpg"
    assert "permission denied" in err.message


def test_failed_partial_cleanup_at_info_level_is_not_a_file_error() -> None:
    evs = events("1.75.2", "killed_server_midway")
    cleanup = [e for e in of(Log, evs) if e.message.startswith("Failed to remove failed partial")]
    assert [(e.level, e.name) for e in cleanup] == [("info", "large.jpg")]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_host_key_notice_is_only_a_log_line(scenario: str) -> None:
    evs = events("1.75.2", scenario)
    notices = [e for e in of(Log, evs) if e.message.startswith("No host key validation")]
    assert len(notices) == 1
    assert notices[0].level == "notice"
    assert notices[0].name is not None and notices[0].name.startswith("loop{")
    for e in of(Copied, evs) + of(FileError, evs):
        assert not e.name.startswith("loop{")


@pytest.mark.parametrize(
    ("scenario", "summary"),
    [
        ("killed_server_midway", "Failed to copy: Update ReadFrom failed: connection lost"),
        ("partial_suffix", "Failed to copy: Move Rename failed:"),
        ("remote_permission_denied", "Failed to copy with 2 errors: last error was:"),
    ],
)
def test_1_75_notice_summary_is_not_a_file_error(scenario: str, summary: str) -> None:
    evs = events("1.75.2", scenario)
    last = evs[-1]
    assert isinstance(last, Log)
    assert last.level == "notice" and last.name is None
    assert last.message.startswith(summary)
    # the summary repeats a per-file message word for word, yet adds no FileError
    assert len(of(FileError, evs)) == len(SCENARIOS[scenario].failed)


@pytest.mark.parametrize(
    "scenario", ["killed_server_midway", "partial_suffix", "remote_permission_denied"]
)
def test_1_60_plain_text_summary_is_text(scenario: str) -> None:
    last = events("1.60.1", scenario)[-1]
    assert isinstance(last, Text)
    assert "Failed to copy" in last.line


def test_server_down_on_1_60_is_one_plain_text_line() -> None:
    evs = events("1.60.1", "server_down")
    assert len(evs) == 1
    (text,) = evs
    assert isinstance(text, Text)
    assert text.line.endswith("connect: connection refused")
    assert 'Failed to create file system for "loop:down"' in text.line


def test_server_down_on_1_75_is_a_run_failure() -> None:
    evs = events("1.75.2", "server_down")
    (failure,) = of(Failure, evs)
    assert failure.message.startswith('Failed to create file system for "loop:down"')
    assert failure.message.endswith("connection refused")
    assert not of(Copied, evs) and not of(FileError, evs) and not of(Stats, evs)


@pytest.mark.parametrize("version", VERSIONS)
def test_already_present_copies_nothing_and_fails_nothing(version: str) -> None:
    evs = events(version, "already_present")
    assert not of(Copied, evs) and not of(FileError, evs) and not of(Failure, evs)
    assert any(isinstance(e, Log) and e.message == "There was nothing to transfer" for e in evs)
    final = of(Stats, evs)[-1]
    assert (final.transfers, final.errors) == (0, 0)


@pytest.mark.parametrize("version", VERSIONS)
def test_large_file_progress_grows_and_never_exceeds_the_size(version: str) -> None:
    evs = events(version, "copy_large_progress")
    progress = [fp for s in of(Stats, evs) for fp in s.transferring]
    assert len(progress) >= 6
    assert {fp.name for fp in progress} == {"large.jpg"}
    assert {fp.size for fp in progress} == {LARGE}
    sent = [fp.bytes for fp in progress]
    assert sent == sorted(sent) and len(set(sent)) == len(sent), "bytes strictly grow"
    assert sent[0] > 0 and sent[-1] <= LARGE
    for fp in progress:
        assert fp.speed >= 0 and math.isfinite(fp.speed)
        assert fp.eta is None or fp.eta >= 0


@pytest.mark.parametrize("version", VERSIONS)
def test_large_file_progress_comes_before_its_copied_event(version: str) -> None:
    evs = events(version, "copy_large_progress")
    kinds = [type(e) for e in evs]
    first_progress = next(i for i, e in enumerate(evs) if isinstance(e, Stats) and e.transferring)
    assert first_progress < kinds.index(Copied)


@pytest.mark.parametrize(("version", "scenario"), ALL)
def test_final_stats_line_has_nothing_in_flight(version: str, scenario: str) -> None:
    stats = of(Stats, events(version, scenario))
    if scenario == "server_down":
        assert stats == []  # rclone failed before copying anything
        return
    final = stats[-1]
    assert final.transferring == ()
    assert final.transfers == len(SCENARIOS[scenario].copied)
    assert final.errors == len(SCENARIOS[scenario].failed)
    assert 0 <= final.bytes <= final.total_bytes or final.total_bytes == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_copy_small_final_stats(version: str) -> None:
    final = of(Stats, events(version, "copy_small"))[-1]
    assert (final.bytes, final.total_bytes) == (6000, 6000)
    assert (final.transfers, final.total_transfers, final.errors) == (3, 3, 0)
    assert final.eta is None or final.eta >= 0


@pytest.mark.parametrize("version", VERSIONS)
def test_dash_names_are_file_names_not_flags(version: str) -> None:
    evs = events(version, "dash_name")
    assert {c.name for c in of(Copied, evs)} == {"-n.jpg", "--dry-run.jpg"}
    assert not any("dry run" in getattr(e, "message", "").lower() for e in evs)


def test_html_escapes_of_1_60_are_decoded() -> None:
    evs = events("1.60.1", "killed_server_midway")
    discard = [
        e for e in evs if getattr(e, "message", "").startswith("Discarding closed SSH connection")
    ]
    assert discard and "127.0.0.1:60952->127.0.0.1:36487" in discard[0].message


# --- strip_partial ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.jpg.1ec5b669.partial", "photo.jpg"),
        ("large.jpg.6882d32e.partial", "large.jpg"),
        ("Wedding/day 1/photo.jpg.1ec5b669.partial", "Wedding/day 1/photo.jpg"),
        ("photo.jpg", "photo.jpg"),
        ("partial.jpg", "partial.jpg"),
        ("a.partial.jpg", "a.partial.jpg"),
        ("-n.jpg", "-n.jpg"),
        ("", ""),
    ],
)
def test_strip_partial(name: str, expected: str) -> None:
    assert strip_partial(name) == expected


def test_strip_partial_never_eats_the_extension() -> None:
    assert strip_partial("photo.jpg.partial") in ("photo.jpg", "photo.jpg.partial")


# --- hostile input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "",
        "   ",
        "\n",
        "\r\n",
        "garbage",
        "2026/11/24 01:19:07 Failed to copy: boom",
        "{",
        '{"level":"info","msg":"Copied (new)","object":"a.jp',
        '{"level": }',
        "[1, 2, 3]",
        '[{"level":"error","msg":"x","object":"a.jpg"}]',
        "42",
        "-1e999",
        '"a string"',
        "null",
        "true",
        "{}",
        '{"level": null}',
        '{"a": NaN}',
        "{" * 100_000,
        '{"a":' * 50_000,
        '{"level":"info","msg":"Copied (new)","object":"a.jpg","size":' + "9" * 5000 + "}",
        "\x00\x01\x02",
        "\ufeff{}",
    ],
)
def test_bad_lines_never_raise(line: str) -> None:
    ev = parse_line(line)
    assert isinstance(ev, EVENT_TYPES)
    assert parse_line(line.encode("utf-8")) == ev


@pytest.mark.parametrize(
    "line",
    ["garbage", "{", "[1, 2]", "42", '"text"', "null", '{"truncated": ', "{" * 100_000],
)
def test_lines_that_are_not_json_objects_become_text(line: str) -> None:
    ev = parse_line(line)
    assert isinstance(ev, Text)
    assert ev.line == line.strip()


def test_empty_line_is_empty_text() -> None:
    assert parse_line(b"\n") == Text("")


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    raw = b'{"level":"info","msg":"Copied (new)","object":"caf\xe9.jpg","objectType":"x"}'
    ev = parse_line(raw)
    assert ev == Copied("caf\ufffd.jpg", replaced=False)
    assert isinstance(parse_line(b"\xff\xfe garbage \x80"), Text)


def _rec(**fields: object) -> str:
    base: dict[str, object] = {"level": "info", "msg": "Copied (new)", "object": "a.jpg"}
    base.update(fields)
    return json.dumps(base)


_WRONG = [None, True, False, 0, -1, 1.5, 10**40, [], [1], {}, {"a": 1}, "", "x", "NaN"]


@pytest.mark.parametrize("field_name", ["level", "msg", "object", "size", "objectType"])
@pytest.mark.parametrize("value", _WRONG, ids=repr)
def test_wrong_types_in_record_fields_never_raise(field_name: str, value: object) -> None:
    assert isinstance(parse_line(_rec(**{field_name: value})), EVENT_TYPES)


@pytest.mark.parametrize("value", [None, 1, [], {}, True])
def test_a_non_text_object_is_no_file_name(value: object) -> None:
    ev = parse_line(_rec(object=value))
    assert not isinstance(ev, (Copied, FileError))
    err = parse_line(_rec(level="error", msg="Failed to copy: x", object=value))
    assert isinstance(err, Failure)


@pytest.mark.parametrize(
    "field_name",
    ["bytes", "totalBytes", "speed", "eta", "errors", "transfers", "totalTransfers"],
)
@pytest.mark.parametrize("value", [*_WRONG, 1e308, -1e308], ids=repr)
def test_wrong_types_in_stats_fields_give_sane_numbers(field_name: str, value: object) -> None:
    ev = parse_line(json.dumps({"level": "info", "msg": "", "stats": {field_name: value}}))
    assert isinstance(ev, Stats)
    _assert_sane(ev)


@pytest.mark.parametrize("field_name", ["name", "bytes", "size", "speed", "speedAvg", "eta"])
@pytest.mark.parametrize("value", [*_WRONG, 1e308], ids=repr)
def test_wrong_types_in_transferring_entries_never_raise(field_name: str, value: object) -> None:
    entry = {"name": "big.jpg", "bytes": 10, "size": 100, "speed": 1.0, "eta": 3}
    entry[field_name] = value
    ev = parse_line(json.dumps({"stats": {"transferring": [entry, 7, None, "x"]}}))
    assert isinstance(ev, Stats)
    _assert_sane(ev)
    if field_name == "name" and not isinstance(value, str):
        assert ev.transferring == ()


@pytest.mark.parametrize("value", ["not a list", 3, None, {"name": "a.jpg"}])
def test_transferring_that_is_not_a_list_is_ignored(value: object) -> None:
    ev = parse_line(json.dumps({"stats": {"bytes": 5, "transferring": value}}))
    assert ev == Stats(5, 0, 0.0, None, 0, 0, 0)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_nan_and_infinity_become_harmless_numbers(literal: str) -> None:
    line = (
        f'{{"stats":{{"bytes":{literal},"speed":{literal},"eta":{literal},'
        f'"transferring":[{{"name":"a.jpg","bytes":{literal},"speed":{literal},'
        f'"eta":{literal}}}]}}}}'
    )
    ev = parse_line(line)
    assert isinstance(ev, Stats)
    _assert_sane(ev)
    assert (ev.bytes, ev.speed, ev.eta) == (0, 0.0, None)
    assert ev.transferring == (FileProgress("a.jpg", 0, 0, 0.0, None),)


def test_huge_integers_are_kept_or_dropped_without_error() -> None:
    big = 10**30
    ev = parse_line(json.dumps({"stats": {"bytes": big, "eta": big, "speed": 10**400}}))
    assert isinstance(ev, Stats)
    assert ev.bytes == big  # a number, not a crash
    assert ev.eta is None and ev.speed == 0.0


def test_deeply_nested_values_in_fields_never_raise() -> None:
    for depth in (10, 500, 900, 990, 2000):
        nested = "[" * depth + "]" * depth
        for key in ("level", "msg", "object", "stats", "size"):
            line = f'{{"{key}": {nested}, "msg": "Copied (new)", "object": "a.jpg"}}'
            assert isinstance(parse_line(line), EVENT_TYPES)


def _assert_sane(ev: Stats) -> None:
    for n in (ev.bytes, ev.total_bytes, ev.errors, ev.transfers, ev.total_transfers):
        assert type(n) is int
    assert math.isfinite(ev.speed)
    assert ev.eta is None or (math.isfinite(ev.eta) and ev.eta >= 0)
    for fp in ev.transferring:
        assert isinstance(fp.name, str)
        assert type(fp.bytes) is int and type(fp.size) is int
        assert math.isfinite(fp.speed)
        assert fp.eta is None or (math.isfinite(fp.eta) and fp.eta >= 0)


# --- fuzzing ----------------------------------------------------------------------------

_KEYS = st.sampled_from(
    [
        "level",
        "msg",
        "object",
        "objectType",
        "size",
        "stats",
        "transferring",
        "name",
        "bytes",
        "totalBytes",
        "speed",
        "speedAvg",
        "eta",
        "errors",
        "transfers",
        "totalTransfers",
    ]
)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["info", "error", "notice", "critical", "Copied (new)", "x.partial"])
    | st.sampled_from(["Copied (replaced existing)", "Attempt 1/3 failed with 2 errors and: x"])
    | st.text(max_size=20)
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=6),
    max_leaves=25,
)


@given(st.text())
def test_fuzz_text_never_raises(line: str) -> None:
    assert isinstance(parse_line(line), EVENT_TYPES)


@given(st.binary())
def test_fuzz_bytes_never_raise(line: bytes) -> None:
    assert isinstance(parse_line(line), EVENT_TYPES)


@given(st.dictionaries(_KEYS, _JSON, max_size=8))
def test_fuzz_log_records_never_raise(record: dict) -> None:
    ev = parse_line(json.dumps(record))
    assert isinstance(ev, EVENT_TYPES)
    assert not isinstance(ev, Text), "a JSON object is always a log record"
    if isinstance(ev, Stats):
        _assert_sane(ev)
    if isinstance(ev, (Copied, FileError)):
        assert isinstance(record.get("object"), str)


@given(st.dictionaries(_KEYS, _JSON, max_size=8), st.binary(max_size=8))
def test_fuzz_truncated_records_never_raise(record: dict, tail: bytes) -> None:
    raw = json.dumps(record).encode()
    assert isinstance(parse_line(raw[: len(raw) // 2] + tail), EVENT_TYPES)
