"""Squid native: the compiled field splitter (``_compiled.squid_native``) against the general path.

The compiled loop takes the plain lines of a block; the others, and blocks of
mostly others, go to the general path (Arrow's CSV reader, one pass per layout).
On any block, parsing with the loop must give what the general path gives on
its own: the same events, the same quarantined lines. And the general path
must read each line by itself, since the odd lines of a block are gathered
and read without their neighbours.
"""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_properties import native_line

from filterlog.ingest import _compiled, squid
from filterlog.ingest.base import clean
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
    return _plain(parsed.events), list(parsed.bad_lines), list(parsed.bad_reasons)


def _plain(events: pa.Table) -> list[dict]:
    """Rows with dictionary columns decoded (the paths build different dictionaries)."""
    return pa.table([c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in events.columns],
                    names=events.column_names).to_pylist()  # fmt: skip


def _refuse(buf: np.ndarray, newlines: np.ndarray, quoted: bool, most: int):  # noqa: ANN202
    """The compiled loop as if it found too many lines not plain: the block takes the general path."""
    return np.arange(most + 1), *_ORIGINAL(buf[:0], newlines[:0], quoted, most)[1:]


_ORIGINAL = _compiled.squid_native


def _arrow_only(block: bytes) -> tuple[list[dict], list[int], list[str]]:
    with patch.object(_compiled, "squid_native", _refuse):
        return _parse(block)


def _sorted(parsed: tuple[list[dict], list[int], list[str]]) -> tuple[list[dict], list[tuple[int, str]]]:
    """Events, and quarantined lines in line order (the paths list them in different orders)."""
    events, bad, reasons = parsed
    return events, sorted(zip(bad, reasons, strict=True))


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
@example(PLAIN.replace(b"HIER_DIRECT/", b"HIER_DIRECT-") + b"\n")  # a hierarchy without its slash: quarantined
def test_compiled_and_general_paths_agree(block: bytes) -> None:
    assert _sorted(_parse(block)) == _sorted(_arrow_only(block))


@settings(max_examples=150, deadline=None)
@given(blocks())
@example(PLAIN + b' "" "";"\n')  # a stray quote: read raw, alone or among quoted lines
@example(PLAIN + b' "a" ";" \n' + PLAIN + b' "" ""\n')  # a blank after the pair: dropped first
def test_the_general_path_reads_each_line_by_itself(block: bytes) -> None:
    whole = _arrow_only(block)
    alone: tuple[list[dict], list[int], list[str]] = ([], [], [])
    cleaned, _, _ = clean(bytearray(block))  # as parse does first (blanks at line ends dropped)
    for number, line in enumerate(bytes(cleaned).split(b"\n")[:-1], 1):  # not splitlines: a lone CR ends no line
        parsed = SquidNative()._general(line + b"\n", np.array([number]))
        alone[0].extend(_plain(parsed.events))
        alone[1].extend(parsed.bad_lines)
        alone[2].extend(parsed.bad_reasons)
    assert _sorted(whole) == _sorted(alone)


@settings(max_examples=150, deadline=None)
@given(blocks(), blocks(), blocks(), st.integers(1, 3))
def test_odd_lines_parsed_apart_from_the_plain_ones_agree(a: bytes, b: bytes, c: bytes, odd: int) -> None:
    block = a + b + c  # up to three damaged lines, wherever they fall; more than ``odd`` go the Arrow way
    with patch.object(squid, "ODD_LINES", odd):
        events, bad, reasons = _parse(block)
    whole, whole_bad, whole_reasons = _arrow_only(block)
    assert _sorted((events, bad, reasons)) == _sorted((whole, whole_bad, whole_reasons))


def test_a_large_block_with_a_few_cut_lines_keeps_the_plain_ones_on_the_compiled_path() -> None:
    lines = [PLAIN.replace(b"15320", str(i).encode()) for i in range(2_000)]
    for at in (0, 300, 301, 1_000, 1_999):
        lines[at] = lines[at][:57]  # cut short inside the URL
    lines[700] += b' "http://a/" "quoted, unlike the rest"'
    block = b"".join(line + b"\n" for line in lines)
    odd = []

    def counted(buf: np.ndarray, newlines: np.ndarray, quoted: bool, most: int):  # noqa: ANN202
        found = _ORIGINAL(buf, newlines, quoted, most)
        odd.append(found[0].tolist())
        return found

    with patch.object(_compiled, "squid_native", counted):
        events, bad, reasons = _parse(block)
    assert _sorted((events, bad, reasons)) == _sorted(_arrow_only(block))
    assert sorted(bad) == [1, 301, 302, 1_001, 2_000] and len(events) == 1_995
    assert [e["bytes_in"] for e in events[:3]] == [1, 2, 3]
    numbers = [e["source_line"] for e in events]
    assert numbers == sorted(numbers)  # the odd one back in its place
    assert [e["source_line"] for e in events if e["user_agent"]] == [701]
    assert odd == [[0, 300, 301, 700, 1_000, 1_999]]  # one pass over the block


def test_a_block_with_too_many_odd_lines_takes_the_general_path() -> None:
    lines = [PLAIN.replace(b"15320", str(i).encode()) for i in range(100)]
    for at in range(10, 20):
        lines[at] = lines[at][:57]
    block = b"".join(line + b"\n" for line in lines)
    general = []
    original = SquidNative._general

    def counted(self: SquidNative, block: bytes, lines: np.ndarray):  # noqa: ANN202
        general.append(block.count(b"\n"))
        return original(self, block, lines)

    with patch.object(squid, "ODD_LINES", 9), patch.object(SquidNative, "_general", counted):
        events, bad, _ = _parse(block)
    assert general == [100]  # the whole block, once: the compiled loop stopped at the tenth odd line
    assert bad == list(range(11, 21)) and len(events) == 90
    assert (events, bad) == _arrow_only(block)[:2]


def test_plain_lines_take_the_compiled_path() -> None:
    block = bytearray(PLAIN + b"\n" + PLAIN.replace(b"GET", b"POST") + b' "-" "x"\n')
    newlines = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
    assert _compiled.squid_native(np.frombuffer(block, np.uint8), newlines, False, 0)[0].tolist() == [1]  # quoted
    odd, ms, elapsed, size, spans = _compiled.squid_native(np.frombuffer(block, np.uint8), newlines[:1], False, 0)
    assert not len(odd) and ms[0] == 1794993302123 and elapsed[0] == 120 and size[0] == 15320
    assert bytes(block[spans[0, 3, 0] : spans[1, 3, 0]]) == b"http://www.bbc.co.uk/"
