"""Cutting byte spans into a string column (``_spans.strings``, compiled by ``_compiled.gather``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import example, given, settings
from hypothesis import strategies as st

from filterlog.ingest import _spans


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60).map(str.encode), st.data(), st.booleans(), st.booleans())
def test_strings_equal_python_slices(text: bytes, data: st.DataObject, with_validity: bool, pad: bool) -> None:
    n = data.draw(st.integers(0, 12))
    bound = st.integers(0, len(text))
    starts = np.array([data.draw(bound) for _ in range(n)], dtype=np.int64)
    ends = np.array([data.draw(bound) for _ in range(n)], dtype=np.int64)  # some before their start: empty
    valid = np.array([data.draw(st.booleans()) for _ in range(n)], dtype=bool) if with_validity else None
    expected = [
        None if valid is not None and not valid[i] else text[starts[i] : max(ends[i], starts[i])] for i in range(n)
    ]
    buf = _spans.padded(text) if pad else np.frombuffer(text, np.uint8)  # unpadded: no room to copy 8 at a time
    out = _spans.strings(buf, starts, ends, valid)
    assert out.type == pa.string()
    assert out.view(pa.binary()).to_pylist() == expected  # a cut may split a character: compare bytes
    assert out.null_count == (0 if valid is None else int((~valid).sum()))


def test_strings_near_the_end_of_an_unpadded_buffer(page_end: Callable[[bytes], np.ndarray]) -> None:
    """Every span of a 72-byte buffer ending a page: a copy reading past the end (8 or 32 bytes at a time) crashes."""
    text = b"0123456789abcdefghijKLMNOPQRSTUVwxyz" * 2
    buf = page_end(text)
    pairs = [(s, e) for s in range(len(text) + 1) for e in range(s, len(text) + 1)]
    starts = np.array([s for s, _ in pairs], np.int64)
    ends = np.array([e for _, e in pairs], np.int64)
    out = _spans.strings(buf, starts, ends, lower=True)
    assert out.to_pylist() == [text[s:e].decode().lower() for s, e in zip(starts, ends, strict=True)]


def test_strings_take_any_integer_offsets() -> None:
    buf = _spans.padded(b"GET http://a/ x")
    out = _spans.strings(buf, np.array([0, 4], np.int32), np.array([3, 13], np.int32))
    assert out.to_pylist() == ["GET", "http://a/"]


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40), st.integers(0, 80))
@example("@AZ[`az{", 3)  # the neighbours of A-Z stay as they are
@example("HÉLLO.Example", 7)
def test_lower_strings_equal_arrow_utf8_lower(text: str, cut: int) -> None:
    raw = text.encode()
    cut = min(cut, len(raw))
    buf = _spans.padded(raw)
    starts, ends = np.array([0, cut]), np.array([cut, len(raw)])
    plain = _spans.strings(buf, starts, ends)
    assert plain.view(pa.binary()).to_pylist() == [raw[:cut], raw[cut:]]  # not lower-cased unless asked
    try:
        expected = pc.utf8_lower(plain)
    except pa.ArrowInvalid:  # a cut inside a character: Arrow refuses, and so does strings(lower=True)
        return
    assert _spans.strings(buf, starts, ends, lower=True).equals(expected)
