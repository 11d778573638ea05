"""Squid native: the compiled field splitter (``_compiled.squid_native``) against Arrow's CSV reader.

The compiled loop takes the blocks whose every line is plain; the rest go to the
Arrow path it replaced. On any block, parsing with the loop must give what
parsing without it gives: the same events, the same quarantined lines.
"""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_properties import native_line

from filterlog.ingest import _compiled, squid
from filterlog.ingest.squid import SquidNative

PLAIN = b"1794993302.123    120 10.20.1.15 TCP_MISS/200 15320 GET http://www.bbc.co.uk/ - HIER_DIRECT/1.2.3.4 text/html"
TRAILER = st.tuples(st.text("ab -/:.é", max_size=8), st.text('ab -;/()"', max_size=12)).map(
    lambda t: f' "{t[0]}" "{t[1]}"'.encode()
)
EDITS = st.sampled_from([b" ", b"  ", b'"', b"-", b"x", b"\r", b"\t", b"9" * 19, b""])


@st.composite
def blocks(draw: st.DrawFn) -> bytes:
    lines = [line for line, _ in draw(st.lists(native_line(), min_size=1, max_size=8))]
    if draw(st.booleans()):  # the referer / user agent layout, on every line or on some
        every = draw(st.booleans())
        lines = [line + draw(TRAILER) if every or draw(st.booleans()) else line for line in lines]
    if draw(st.booleans()):  # one line damaged somewhere
        i = draw(st.integers(0, len(lines) - 1))
        at = draw(st.integers(0, len(lines[i])))
        cut = draw(st.integers(0, 3))
        lines[i] = lines[i][:at] + draw(EDITS) + lines[i][at + cut :]
    ending = b"\r\n" if draw(st.booleans()) else b"\n"
    return b"".join(line + ending for line in lines)


def _parse(block: bytes) -> tuple[list[dict], list[int], list[str]]:
    parsed = SquidNative().parse(bytearray(block), 1)
    events = parsed.events
    plain = pa.table([c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in events.columns],
                     names=events.column_names)  # fmt: skip
    return plain.to_pylist(), list(parsed.bad_lines), list(parsed.bad_reasons)


def _refuse(buf: np.ndarray, newlines: np.ndarray, quoted: bool):  # noqa: ANN202
    """The compiled loop as if it found the first line not plain: the block goes to Arrow."""
    return 0, *_ORIGINAL(buf[:0], newlines[:0], quoted)[1:]


_ORIGINAL = _compiled.squid_native


def _arrow_only(block: bytes) -> tuple[list[dict], list[int], list[str]]:
    with patch.object(_compiled, "squid_native", _refuse):
        return _parse(block)


@settings(max_examples=300, deadline=None)
@given(blocks())
@example(PLAIN + b"\n")
@example(PLAIN.replace(b"    120", b"     12") + b' "-" "Mozilla/5.0 (X11)"\n')
@example(PLAIN.replace(b"15320", b"9" * 19) + b"\n")  # too large for 18 digits: Arrow's reading
@example(PLAIN.replace(b"    120", b"1234567") + b"\n")  # no padding at all
@example(PLAIN.replace(b"http://www.bbc.co.uk/", b'"http://a b/"') + b"\n")  # Arrow reads a quoted field whole
@example(PLAIN.replace(b"bbc", b'b"c') + b"\n")  # a quote inside a field
@example(PLAIN.replace(b" - ", b' "bob" ') + b"\n")  # Arrow takes the quotes off a quoted field
@example(PLAIN.replace(b"www.bbc", b'www.b"c') + b"\n")  # a quote in a field's second eight bytes
@example(PLAIN + b' "http://a/" "Mozilla/5.0 "X11" Gecko"\n')  # a quote inside the agent, past its first word
def test_compiled_and_arrow_paths_agree(block: bytes) -> None:
    assert _parse(block) == _arrow_only(block)


@settings(max_examples=150, deadline=None)
@given(blocks(), blocks(), blocks(), st.integers(1, 2))
def test_odd_lines_parsed_alone_between_plain_runs_agree(a: bytes, b: bytes, c: bytes, odd: int) -> None:
    block = a + b + c  # up to three damaged lines, wherever they fall
    with patch.object(squid, "PLAIN_RUN", 1), patch.object(squid, "ODD_LINES", odd):  # split at any odd line
        events, bad, reasons = _parse(block)
    whole, whole_bad, whole_reasons = _arrow_only(block)
    assert events == whole
    assert sorted(zip(bad, reasons, strict=True)) == sorted(zip(whole_bad, whole_reasons, strict=True))


def test_a_large_block_with_a_few_cut_lines_keeps_the_plain_ones_on_the_compiled_path() -> None:
    lines = [PLAIN.replace(b"15320", str(i).encode()) for i in range(2_000)]
    for at in (300, 301, 1_000, 1_999):
        lines[at] = lines[at][:57]  # cut short inside the URL
    block = b"".join(line + b"\n" for line in lines)
    calls = []

    def counted(buf: np.ndarray, newlines: np.ndarray, quoted: bool):  # noqa: ANN202
        calls.append(len(newlines))
        return _ORIGINAL(buf, newlines, quoted)

    with patch.object(_compiled, "squid_native", counted):
        events, bad, reasons = _parse(block)
    assert (events, bad, reasons) == _arrow_only(block)
    assert bad == [301, 302, 1_001, 2_000] and len(events) == 1_996
    assert [e["bytes_in"] for e in events[:3]] == [0, 1, 2]
    assert calls[:2] == [2_000, 1_699]  # line 301 split off; 302 is too close to it: the rest went the old way


def test_plain_lines_take_the_compiled_path() -> None:
    block = bytearray(PLAIN + b"\n" + PLAIN.replace(b"GET", b"POST") + b' "-" "x"\n')
    newlines = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
    assert _compiled.squid_native(np.frombuffer(block, np.uint8), newlines, False)[0] == 1  # the second is quoted
    bad, ms, elapsed, size, spans = _compiled.squid_native(np.frombuffer(block, np.uint8), newlines[:1], False)
    assert bad == -1 and ms[0] == 1794993302123 and elapsed[0] == 120 and size[0] == 15320
    assert bytes(block[spans[0, 3, 0] : spans[1, 3, 0]]) == b"http://www.bbc.co.uk/"
