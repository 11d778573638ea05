"""The compiled byte scans (``has_byte``, ``count``, ``positions``, ``_find``) against Python's own answers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from filterlog.ingest import _compiled

_BYTES = st.binary(max_size=80) | st.lists(st.sampled_from(b"ab \r\n\x00\x7f\x80\xff"), max_size=40).map(bytes)


@settings(max_examples=300, deadline=None)
@given(_BYTES, st.integers(0, 32))
@example(b"x" * 8 + b"\x00", 0)  # only in the tail after the last whole word
@example(b"\x7f" * 16, 128)  # 0x7f in every byte is still ASCII
@example(b"\x0c\x0e" * 8, 13)  # neighbours of CR are not CR
def test_has_byte_answers_as_python_does(data: bytes, offset: int) -> None:
    buf = np.frombuffer(data, np.uint8)[min(offset, len(data)) :]  # any alignment
    rest = bytes(buf)
    assert _compiled.has_byte(buf, 128) == (not rest.isascii())
    for value in (0, 10, 13):
        assert _compiled.has_byte(buf, value) == (bytes([value]) in rest)


@settings(max_examples=300, deadline=None)
@given(_BYTES, st.integers(0, 32))
@example(b"\n" * 17, 0)  # a match in every byte of whole words and of the tail
@example(b"\n" * 130, 0)  # ... and of two whole 64-byte steps
@example(b"a" * 63 + b"\n\n" + b"a" * 62 + b"\n", 0)  # on both sides of a step's edge, and the last of a step
@example(b"\x0b\x09\x8a" * 8, 0)  # neighbours of LF, and LF with the high bit set, are not LF
def test_count_and_positions_answer_as_python_does(data: bytes, offset: int) -> None:
    buf = np.frombuffer(data, np.uint8)[min(offset, len(data)) :]
    for value in (0, 10, 13):
        assert _compiled.count(buf, value) == bytes(buf).count(bytes([value]))
        assert _compiled.positions(buf, value).tolist() == np.flatnonzero(buf == value).tolist()


def test_loops_compile_without_a_writable_cache_directory() -> None:
    """Numba refuses cache=True when it finds nowhere to write; the loops must still load and run."""
    code = (
        "from numba.core import dispatcher\n"
        "def refuse(self): raise RuntimeError('cannot cache function: no locator available')\n"
        "dispatcher.Dispatcher.enable_caching = refuse\n"  # what numba does when no directory is writable
        "import numpy as np\n"
        "from filterlog.ingest import _compiled\n"
        "assert _compiled.has_byte(np.frombuffer(b'ab\\rc', np.uint8), 13)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


_TEXT = (
    b"1795392000.784   1 10.2.3.4 TCP_MISS/200 512 GET http://a.example/a-path-of-more-than-32-bytes?q=x#f"
    b' - HIER/- text/html "-" "Agent/1.0 (X)"'
)


def _first(text: bytes, start: int, end: int) -> int:
    return next((i for i in range(start, end) if text[i] in b' "'), end)


def test_find_stops_at_the_first_space_or_quote_of_every_span() -> None:
    buf = np.frombuffer(_TEXT, np.uint8)
    for start in range(len(_TEXT) + 1):
        for end in range(start, len(_TEXT) + 1):
            assert _compiled._find(buf, start, end, 32, 34) == _first(_TEXT, start, end), (start, end)


def test_scans_read_nothing_past_the_end_of_a_buffer(page_end: Callable[[bytes], np.ndarray]) -> None:
    """The vector steps (32 and 64 bytes) stop short of the end: a read past it crashes here."""
    text = _TEXT + b"\n" + _TEXT[:70] + b"\n"
    buf = page_end(text)
    assert _compiled.positions(buf, 10).tolist() == [i for i, c in enumerate(text) if c == 10]
    for start in range(len(text) - 80, len(text) + 1):
        assert _compiled._find(buf, start, len(text), 32, 34) == _first(text, start, len(text))


@settings(max_examples=300, deadline=None)
@given(_BYTES, st.integers(0, 32))
@example(b"a" * 16 + b"\r", 0)  # a CR only in the tail
@example(b"a" * 16 + b"\x80", 0)  # a high byte only in the tail
def test_ascii_and_cr_answers_as_python_does(data: bytes, offset: int) -> None:
    buf = np.frombuffer(data, np.uint8)[min(offset, len(data)) :]
    rest = bytes(buf)
    assert _compiled.ascii_and_cr(buf) == (not rest.isascii(), b"\r" in rest)
