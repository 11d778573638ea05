"""Property tests for every reader: generated valid lines round-trip; damaged lines never raise or get lost."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FORMATS, Case

from filterlog.ingest import READERS
from filterlog.schema import validate

FAST = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def first_line(reader_name: str) -> int:
    """Blocks start mid-file; but a fresh Zscaler CSV reader given a later line waits 1 s for the block before."""
    return 1 if reader_name == "zscaler-csv" else 101


def test_every_registered_reader_has_a_strategy() -> None:
    assert sorted(FORMATS) == sorted(READERS)


@pytest.mark.parametrize("reader_name", sorted(FORMATS))
@FAST
@given(data=st.data())
def test_valid_lines_round_trip(reader_name: str, data: st.DataObject) -> None:
    case: Case = data.draw(FORMATS[reader_name](), label="case")
    first = first_line(reader_name)
    parsed = READERS[reader_name](timezone=case.timezone).parse(case.block(), first)
    assert not parsed.bad_lines, list(zip(parsed.bad_lines, parsed.bad_reasons, strict=True))
    validate(parsed.events)
    wanted = [(first + i, line, want) for i, (line, want) in enumerate(case.rows) if want is not None]
    assert parsed.skipped == len(case.rows) - len(wanted)
    rows = parsed.events.to_pylist()
    assert [r["source_line"] for r in rows] == [n for n, _, _ in wanted]
    for row, (_, line, want) in zip(rows, wanted, strict=True):
        assert {k: row[k] for k in want} == want, line


_NUMBER = re.compile(rb"\d+")
_DELIMS = [b" ", b"\t", b",", b'"', b";", b""]


@st.composite
def damage(draw: st.DrawFn, line: bytes) -> bytes:
    """One line hurt the ways real files are: cut short, NULs, delimiters swapped, absurd numbers, junk."""
    kind = draw(st.sampled_from(["truncate", "nul", "swap", "huge", "negative", "junk"]))
    at = draw(st.integers(0, len(line)))
    numbers = list(_NUMBER.finditer(line))
    if kind == "truncate":
        return line[:at]
    if kind == "nul":
        return line[:at] + b"\0" * draw(st.integers(1, 9)) + line[at:]
    if kind == "swap":
        return line.replace(draw(st.sampled_from(_DELIMS[:4])), draw(st.sampled_from(_DELIMS)))
    if kind in ("huge", "negative") and numbers:
        m = draw(st.sampled_from(numbers))
        new = b"9" * draw(st.integers(19, 60)) if kind == "huge" else b"-" + m.group()
        return line[: m.start()] + new + line[m.end() :]
    return line[:at] + draw(st.binary(min_size=1, max_size=12)).replace(b"\n", b"?") + line[at:]


@pytest.mark.parametrize("reader_name", sorted(FORMATS))
@FAST
@given(data=st.data())
def test_a_damaged_line_never_raises_nor_takes_its_neighbours_down(reader_name: str, data: st.DataObject) -> None:
    case: Case = data.draw(FORMATS[reader_name](), label="case")
    rows = [i for i, (_, want) in enumerate(case.rows) if want]
    victim = data.draw(st.sampled_from(rows), label="victim")
    hurt = data.draw(damage(case.rows[victim][0]), label="damaged")
    case.rows[victim] = (hurt, None)
    block, first = case.block(), first_line(reader_name)
    parsed = READERS[reader_name](timezone=case.timezone).parse(block, first)
    validate(parsed.events)
    n = block.count(b"\n")
    seen = parsed.events.column("source_line").to_pylist() + list(parsed.bad_lines)
    assert parsed.events.num_rows + len(parsed.bad_lines) + parsed.skipped == n
    assert len(set(seen)) == len(seen), "a line was counted twice"
    assert all(first <= x < first + n for x in seen)
    assert len(parsed.bad_reasons) == len(parsed.bad_lines)
    rows = {r["source_line"]: r for r in parsed.events.to_pylist()}
    for i, (line, want) in enumerate(case.rows):
        if want is not None:
            assert first + i in rows, (line, dict(zip(parsed.bad_lines, parsed.bad_reasons, strict=True)))
            assert {k: rows[first + i][k] for k in want} == want, line


@pytest.mark.parametrize("reader_name", ["squidguard", "e2guardian"])
def test_local_summer_time_after_2037(reader_name: str) -> None:
    lines = {
        "squidguard": b"2038-06-01 12:00:00 [1] Request(a/b/-) http://x.com/ 10.0.0.1/- - GET REDIRECT\n",
        "e2guardian": b"2038.06.01 12:00:00\t-\t10.0.0.1\thttp://x.com/\t\tGET\t0\t0\t\t1\t200\ttext/html\n",
    }
    parsed = READERS[reader_name](timezone="Europe/London").parse(lines[reader_name], 1)
    assert parsed.events.column("time")[0].as_py() == datetime(2038, 6, 1, 11, 0, tzinfo=UTC)  # BST


def test_zscaler_csv_one_damaged_first_row_spares_the_rest() -> None:
    good = b"Wed Nov 18 09:15:02 2026\tjsmith\t10.0.0.1\tGET\tx.com/\tAllowed"
    block = b"time\tlogin\tcip\treqmethod\teurl\taction\nS\n" + good + b"\n"
    parsed = READERS["zscaler-csv"]().parse(block, 1)
    assert parsed.bad_lines == [2]
    assert parsed.events.column("source_line").to_pylist() == [3]
