"""The URL splitter's fast path (common shapes) against its general path (any string)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from filterlog.ingest import _url

_PIECES = st.sampled_from(
    ["http://", "https://", "HTTPS://", "ftp://", "ws://", "host", "é", "a.b", ":", ":8080", ":99999", "/", "?", "#",
     "@", "[", "]", "[::1]", "user:pw@", "x" * 40, "", "-", "%20", "error:"]
)  # fmt: skip
_URL = st.lists(_PIECES, max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_URL, st.booleans()), min_size=1, max_size=30))
def test_fast_and_general_paths_agree(rows: list[tuple[str, bool]]) -> None:
    urls = pa.array([u for u, _ in rows], pa.string())
    bare = np.array([b for _, b in rows])
    fast, general = _url.split(urls, bare), _url.split_general(urls, bare)
    for name in general:
        assert fast[name].equals(general[name]), (name, fast[name], general[name])


def test_common_shapes() -> None:
    urls = pa.array(
        ["http://Example.COM/a?b#c", "https://h:8443/", "teams.microsoft.com:443", "http://u:p@h/", "http://[::1]:80/x",
         "error:invalid-request", "http://" + "a" * 70 + ".com/x", None],
        pa.string(),
    )  # fmt: skip
    parts = _url.split(urls, np.array([False, False, True, False, False, False, False, False]))
    assert parts["host"].to_pylist() == [
        "example.com",
        "h",
        "teams.microsoft.com",
        "h",
        "::1",
        None,
        "a" * 70 + ".com",
        None,
    ]
    assert parts["port"].to_pylist() == [80, 8443, 443, 80, 80, None, 80, None]
    assert parts["path"].to_pylist() == ["/a", "/", None, "/", "/x", "error:invalid-request", "/x", None]
    assert parts["query"].to_pylist() == ["b", None, None, None, None, None, None, None]
    assert parts["scheme"].to_pylist() == ["http", "https", None, "http", "http", None, "http", None]


def test_port_bounds() -> None:
    urls = pa.array(["http://h:65535/", "http://h:65536/", "h:0", "h:123456", "https://h:/", "h:44a"], pa.string())
    parts = _url.split(urls, np.array([False, False, True, True, False, True]))
    assert parts["port"].to_pylist() == [65535, None, 0, None, None, None]
    assert parts["port"].equals(_url.split_general(urls, np.array([False, False, True, True, False, True]))["port"])


def test_a_port_of_six_digits_is_no_port_even_below_65536() -> None:
    urls = pa.array(["http://h:008080/", "h:065535"], pa.string())
    bare = np.array([False, True])
    assert _url.split(urls, bare)["port"].to_pylist() == [None, None]
    assert _url.split(urls, bare)["port"].equals(_url.split_general(urls, bare)["port"])
