"""The W3C reader's fast paths: padding found before tokenising, marker bytes, per-value column work."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from helpers import SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filterlog.ingest import W3CReader
from filterlog.ingest._w3c_padding import marks, surplus
from filterlog.ingest._w3c_values import stamp_ms, times
from filterlog.ingest.base import line_bounds
from filterlog.ingest.w3c import _TOKEN
from filterlog.schema import validate

PROXYSG = (SAMPLES / "w3c-bluecoat.log").read_bytes().splitlines()
SCANSAFE = (SAMPLES / "w3c-scansafe-a.log").read_bytes().splitlines()


def _head(lines: list[bytes]) -> list[bytes]:
    return [x for x in lines if x.startswith(b"#")]


def _body(lines: list[bytes]) -> list[bytes]:
    return [x for x in lines if not x.startswith(b"#")]


def _tidy(line: bytes) -> bytes:
    """The line with its padding taken out by hand: tokens joined by single spaces."""
    return b" ".join(_TOKEN.findall(line))


def _parse(head: list[bytes], body: list[bytes]) -> tuple[list[dict], list[int], list[str]]:
    parsed = W3CReader().parse(b"\n".join(head + body) + b"\n", 1)
    validate(parsed.events)
    return parsed.events.to_pylist(), parsed.bad_lines, parsed.bad_reasons


def _one_by_one(head: list[bytes], body: list[bytes]) -> list[dict]:
    """Each line tidied by hand and parsed in a block of its own, numbered as in the whole block."""
    rows = []
    for k, line in enumerate(body):
        parsed = W3CReader().parse(b"\n".join(head) + b"\n" + _tidy(line) + b"\n", 1)
        for r in parsed.events.to_pylist():
            rows.append(r | {"source_line": r["source_line"] + k})
    return rows


def test_surplus_is_the_padding_outside_quotes() -> None:
    text = b'a  b "c  d"   e\n  f g\n'
    buf = np.frombuffer(text, np.uint8)
    starts, ends = line_bounds(buf, np.flatnonzero(buf == 10))
    spare = surplus(buf, starts, ends)
    assert spare.tolist() == [2, 12, 13, 16, 17]  # not the two spaces inside "c  d"
    assert marks(buf, spare, starts).tolist() == [1, 11, 12, 16, 17]  # before each run's last space; indent: all


def test_no_markers_in_front_of_a_quoted_first_field() -> None:
    text = b'  "2026-11-18 09:15:02" x\n'
    buf = np.frombuffer(text, np.uint8)
    starts, ends = line_bounds(buf, np.flatnonzero(buf == 10))
    assert marks(buf, surplus(buf, starts, ends), starts) is None


def test_a_block_mixing_padded_and_plain_lines_reads_as_its_lines_one_by_one() -> None:
    head, body = _head(PROXYSG), _body(PROXYSG)
    mixed = []
    for k, line in enumerate(body):
        tokens = _TOKEN.findall(line)
        if k % 3 == 0:  # runs of two and three spaces, before and after quoted fields
            line = b"  ".join(tokens[:5]) + b"   " + b" ".join(tokens[5:])
        elif k % 3 == 1:  # indented
            line = b"    " + line
        mixed.append(line)
    rows, bad, _ = _parse(head, mixed + body)
    assert not bad
    assert rows == _one_by_one(head, mixed + body)
    assert rows[len(mixed) :] == [r | {"source_line": r["source_line"] + len(mixed)} for r in rows[: len(body)]]


def test_an_indented_line_with_a_quoted_first_field() -> None:
    head, body = _head(SCANSAFE), _body(SCANSAFE)
    padded = [b"   " + body[0], body[1].replace(b" GET ", b"  GET "), body[2]]
    rows, bad, _ = _parse(head, padded)
    assert not bad
    assert rows == _one_by_one(head, padded)
    assert rows[0]["time"].isoformat() == "2026-11-18T09:15:02+00:00"
    assert [r["method"] for r in rows] == ["GET", "GET", "GET"]


def test_a_block_holding_the_marker_byte_is_still_read() -> None:
    head, body = _head(PROXYSG), _body(PROXYSG)
    odd = [body[0].replace(b"Mozilla/5.0", b"Mozilla/5.0\x01x").replace(b" GET ", b"  GET "), body[1]]
    rows, bad, _ = _parse(head, odd)
    assert not bad
    assert rows == _one_by_one(head, odd)
    assert rows[0]["user_agent"].startswith("Mozilla/5.0\x01x")


def test_padding_inside_quotes_is_kept() -> None:
    head, body = _head(PROXYSG), _body(PROXYSG)
    line = body[0].replace(b'"News/Media"', b'"News  Media"').replace(b" GET ", b"  GET ")
    rows, bad, _ = _parse(head, [line])
    assert not bad
    assert (rows[0]["vendor_category"], rows[0]["method"]) == ("News  Media", "GET")


PADS = st.sampled_from([b" ", b" ", b" ", b"  ", b"   "])


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_body(PROXYSG)) - 1), st.lists(PADS, min_size=30, max_size=30), PADS)))
def test_random_padding_gives_the_events_of_the_tidy_lines(picks: list) -> None:
    head, body = _head(PROXYSG), _body(PROXYSG)
    lines = []
    for k, pads, indent in picks:
        tokens = _TOKEN.findall(body[k])
        glued = tokens[0] + b"".join(p + t for p, t in zip(pads, tokens[1:], strict=False))
        lines.append((indent if indent != b" " else b"") + glued)
    rows, bad, _ = _parse(head, lines)
    assert not bad
    tidy, _, _ = _parse(head, [_tidy(x) for x in lines])
    assert rows == tidy


def test_date_and_time_apart_give_the_time_of_the_two_joined() -> None:
    dates = ["2026-11-18", "2024-02-29", "2026-02-30", "2026-13-01", "1990-01-01", "26-11-18", "2026-11-18T09", "-", ""]
    clocks = ["09:15:02", "09:15:02.5", "09:15:02.123456789", "23:59:60", "24:00:00", "9:15:02", "09:15", "-", "x"]
    date = [d for d in dates for _ in clocks]
    clock = [c for _ in dates for c in clocks]
    col = {
        "date": pa.array(date).dictionary_encode(),
        "time": pa.array(clock).dictionary_encode(),
        "epoch": pa.nulls(len(date), pa.dictionary(pa.int32(), pa.string())),
        "datetime": pa.nulls(len(date), pa.dictionary(pa.int32(), pa.string())),
    }
    want = stamp_ms(pa.array([f"{d} {c}" for d, c in zip(date, clock, strict=True)]))
    got = times(col)
    assert got.tolist() == want.tolist()
    assert got[date.index("2026-11-18") + clocks.index("09:15:02.5")] == 1794993302500
    assert got[date.index("2026-11-18") + clocks.index("09:15:02.123456789")] == 1794993302123
    assert got[date.index("2026-13-01") + clocks.index("09:15:02")] == -1
