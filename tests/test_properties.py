"""Property tests: generated Squid native lines round-trip; arbitrary bytes never break a reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from filterlog.ingest import READERS, SquidNative
from filterlog.ingest.source import Block
from filterlog.ingest.stream import quarantine_rows
from filterlog.schema import validate

FAST = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)

# --- generated valid native lines ------------------------------------------------------------

CODES = ["TCP_MISS", "TCP_HIT", "TCP_MEM_HIT", "TCP_REFRESH_UNMODIFIED", "TCP_TUNNEL", "TCP_DENIED", "NONE_NONE"]
STATUSES = [0, 200, 204, 206, 301, 302, 304, 400, 403, 404, 407, 500, 502, 503]
METHODS = ["GET", "POST", "HEAD", "PUT", "OPTIONS", "DELETE"]
MIMES = ["-", "text/html", "image/png", "application/json", "application/octet-stream"]
DEFAULT_PORT = {"http": 80, "https": 443, "ftp": 21}

label = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=12)
host = st.builds(
    lambda parts, tld: ".".join([*parts, tld]),
    st.lists(label, min_size=1, max_size=3),
    st.sampled_from(["com", "co.uk", "ORG", "net"]),
)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8).map(lambda t: ":".join(f"{x:x}" for x in t))
segment = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%+,;=:@!$'()*", max_size=10)
query_text = st.text("abcdefghijklmnopqrstuvwxyz0123456789-._~%+=&/:@!$,;?", min_size=1, max_size=30)


@dataclass
class Url:
    """A URL and how it must split."""

    text: str
    method: str | None  # CONNECT forces it
    scheme: str | None
    host: str | None
    port: int | None
    path: str | None
    query: str | None


@st.composite
def absolute_url(draw: st.DrawFn) -> Url:
    scheme = draw(st.sampled_from(["http", "https", "ftp", "HTTP"]))
    h = draw(st.one_of(host, ipv4))
    userinfo = draw(st.sampled_from(["", "", "", "anonymous@", "user:secret@"]))
    port = draw(st.one_of(st.none(), st.integers(1, 65535)))
    path = "/" + "/".join(draw(st.lists(segment, max_size=4)))
    query = draw(st.one_of(st.none(), query_text))
    text = f"{scheme}://{userinfo}{h}{'' if port is None else f':{port}'}{path}{'' if query is None else '?' + query}"
    lower = scheme.lower()
    return Url(text, None, lower, h.lower(), DEFAULT_PORT[lower] if port is None else port, path, query)


@st.composite
def connect_url(draw: st.DrawFn) -> Url:
    h = draw(st.one_of(host, ipv4))
    port = draw(st.sampled_from([443, 80, 8443, 5228, 9001]))
    return Url(f"{h}:{port}", "CONNECT", None, h.lower(), port, None, None)


error_url = st.sampled_from(["error:transaction-end-before-headers", "error:invalid-request"]).map(
    lambda t: Url(t, "-", None, None, None, t, None)
)
urls = st.one_of(absolute_url(), absolute_url(), connect_url(), error_url)

name = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", min_size=1, max_size=12).filter(
    lambda s: s != "-"
)
# (as Squid writes it, the person it names); Squid writes a backslash as \\ (Format::QuoteMimeBlob)
users = st.one_of(
    st.just(("-", None)),
    name.map(lambda n: (n, n.lower())),
    st.tuples(st.sampled_from(["SCHOOL", "ad", "CORP01"]), name).map(lambda t: (f"{t[0]}\\\\{t[1]}", t[1].lower())),
    st.tuples(name, st.sampled_from(["SCHOOL.LOCAL", "example.org"])).map(lambda t: (f"{t[0]}@{t[1]}", t[0].lower())),
)


def action_for(code: str, status: int) -> str:
    """DESIGN.md / formats.md §3.4: 407 is an auth challenge, other denials are blocks.

    NONE/000 (no transaction) and NONE/4xx (Squid's own error reply to an invalid request) are errors.
    """
    if code == "TCP_DENIED":
        return "auth_required" if status == 407 else "blocked"
    if code.startswith("NONE") and (status == 0 or status >= 400):
        return "error"
    return "allowed"


@st.composite
def native_line(draw: st.DrawFn) -> tuple[bytes, dict]:
    ms = draw(st.integers(631_152_000_000, 4_102_444_799_999))  # 1990 .. 2099
    elapsed = draw(st.integers(0, 10**7))
    client = draw(st.one_of(ipv4, ipv4, ipv6))
    url = draw(urls)
    code = draw(st.sampled_from(CODES))
    status = draw(st.sampled_from(STATUSES))
    if code == "NONE_NONE":
        status = draw(st.sampled_from([0, 400]))
    size = draw(st.integers(0, 10**12))
    method = url.method or draw(st.sampled_from(METHODS))
    user_logged, user = draw(users)
    mime = draw(st.sampled_from(MIMES))
    hier = "HIER_NONE/-" if code in ("TCP_DENIED", "NONE_NONE") else f"HIER_DIRECT/{draw(ipv4)}"
    line = f"{ms // 1000}.{ms % 1000:03d} {elapsed:6d} {client} {code}/{status:03d} {size} {method} {url.text} "
    line += f"{user_logged} {hier} {mime}"
    want = {
        "time": datetime.fromtimestamp(ms / 1000, UTC).replace(microsecond=(ms % 1000) * 1000),
        "duration_ms": elapsed,
        "client_ip": client,
        "method": method,
        "url": url.text,
        "scheme": url.scheme,
        "host": url.host,
        "port": url.port,
        "path": url.path,
        "query": url.query,
        "vendor_action": code,
        "action": action_for(code, status),
        "bytes_in": size,
        "user": user,
        "content_type": None if mime == "-" else mime,
    }
    if status:
        want["status"] = status  # 000: see test_samples.DEVIATIONS
    return line.encode(), want


@FAST
@given(st.lists(native_line(), min_size=1, max_size=12), st.booleans())
def test_native_lines_round_trip(lines: list[tuple[bytes, dict]], blank_first: bool) -> None:
    block = (b"\n" if blank_first else b"") + b"".join(line + b"\n" for line, _ in lines)
    first = 101
    parsed = SquidNative().parse(block, first)
    assert not parsed.bad_lines, list(zip(parsed.bad_lines, parsed.bad_reasons, strict=True))
    validate(parsed.events)
    assert parsed.skipped == int(blank_first)
    rows = parsed.events.to_pylist()
    assert len(rows) == len(lines)
    for i, (row, (line, want)) in enumerate(zip(rows, lines, strict=True)):
        assert row["source_line"] == first + i + int(blank_first)
        got = {k: row[k] for k in want}
        assert got == want, line
    own = bytearray(block)  # as the pipeline hands blocks over: the reader's own, worked on in place
    again = SquidNative().parse(own, first)
    assert bytes(own) == block
    assert again.events.equals(parsed.events)


def test_a_block_worked_on_in_place_is_quoted_as_read() -> None:
    """The fast path zeroes elapsed padding in the block itself; a quarantined line still reads as logged."""
    good = b"1795392022.806    951 10.20.30.100 TCP_MISS/200 384 GET http://a.example/ - HIER_DIRECT/1.2.3.4 text/html"
    bad = b"1795392023.806     12 10.20.30.101 TCP_MISS/2x0 384 GET http://b.example/ - HIER_DIRECT/1.2.3.4 text/html"
    text = b"\n".join([good, bad, good]) + b"\n"
    block = Block(bytearray(text), 7, 3, len(text), True)
    parsed = SquidNative().parse(block.data, block.first_line)
    assert parsed.events.num_rows == 2 and parsed.bad_lines == [8]
    assert bytes(block.data) == text
    rows = quarantine_rows(block, parsed, "sha", "access.log")
    assert rows.column("raw").to_pylist() == [bad]


# --- arbitrary bytes ---------------------------------------------------------------------------

PIECES = [
    b"\r",
    b"\0",
    b'"',
    b"\x01",
    b" ",
    b"   ",
    b"\n",
    b"\t",
    b"\\",
    b"[",
    b"]",
    b"-",
    b"a",
    b"7",
    b"1794993302.123",
    b"     0",
    b"10.0.0.1",
    b"TCP_MISS/200",
    b"GET",
    b"CONNECT",
    b"http://x/",
    b"HIER_DIRECT/1.2.3.4",
    b"[18/Nov/2026:09:15:06",
    b"+0000]",
    b'"GET / HTTP/1.1"',
    b"\xc3\xa9",
]
NATIVE_LINE = (
    b"1794993302.123    120 10.20.1.15 TCP_MISS/200 15320 GET http://www.bbc.co.uk/ - HIER_DIRECT/1.2.3.4 text/html"
)
COMMON_LINE = b'10.20.1.22 - - [18/Nov/2026:09:15:06 +0000] "GET http://x/ HTTP/1.1" 200 48 TCP_MISS:HIER_DIRECT'
blocks = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join),
    st.tuples(st.sampled_from([NATIVE_LINE, COMMON_LINE]), st.binary(max_size=20), st.integers(0, 100)).map(
        lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]
    ),
)


def as_pipeline_feeds(block: bytes) -> bytes:
    """The ingest pipeline repairs invalid UTF-8 (U+FFFD) before a reader sees the block."""
    return block.decode("utf-8", errors="replace").encode("utf-8")


def _check_accounting(name: str, data: bytes) -> None:
    n = data.count(b"\n")
    parsed = READERS[name]().parse(data, 1)
    validate(parsed.events)
    lines = parsed.events.column("source_line").to_pylist() + list(parsed.bad_lines)
    assert parsed.events.num_rows + len(parsed.bad_lines) + parsed.skipped == n
    assert len(set(lines)) == len(lines), "a line was counted twice"
    assert all(1 <= x <= n for x in lines)
    assert len(parsed.bad_reasons) == len(parsed.bad_lines)
    assert isinstance(parsed.events, pa.Table)


@pytest.mark.parametrize("reader_name", sorted(READERS))
@FAST
@given(blocks)
@example(b"")
@example(b'\r\r\n\0"\x01')
@example(NATIVE_LINE + b"\r" + NATIVE_LINE)
@example(b'"' + COMMON_LINE)
def test_any_block_is_accounted_for(reader_name: str, block: bytes) -> None:
    _check_accounting(reader_name, as_pipeline_feeds(block) + b"\n")


@settings(max_examples=1, deadline=None, database=None)
@given(st.just(b"1794993302.123a/\xff   0   0// \xff1794993302.123   0"))
def test_raw_invalid_utf8_is_accounted_for_by_every_reader(block: bytes) -> None:
    for name in sorted(READERS):
        _check_accounting(name, block + b"\n")
