"""Hostile log files: the small ones committed under tests/data/hostile/, the big ones made at test time.

Every committed file is built here from the samples, so the data can be
rebuilt (``python tests/hostile.py``) and a test checks the committed bytes
still match. Files over 64 KB (a 1 MB line, a 10,000-field line) are only
ever made in a test's temporary directory, to keep the repository small.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
HOSTILE = ROOT / "tests" / "data" / "hostile"
MB = 1 << 20


def lines_of(sample: str) -> list[bytes]:
    """A sample log's lines, each with its newline."""
    return (SAMPLES / sample).read_bytes().splitlines(keepends=True)


def native() -> list[bytes]:
    """The 20 lines of the Squid native sample."""
    return lines_of("squid-native.log")


def crlf(data: bytes) -> bytes:
    """The same lines ended by CR LF (as a Windows proxy or a copy through Windows writes them)."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _squid(stamp: str, url: str, code: str = "TCP_MISS/200", size: str = "2048", user: str = "-") -> bytes:
    return f"{stamp} 12 10.20.1.60 {code} {size} GET {url} {user} HIER_DIRECT/93.184.216.34 text/html\n".encode()


# --- committed files -------------------------------------------------------------------------------


def truncated_gz() -> bytes:
    """A rotated log cut off half way through its gzip stream (an interrupted copy)."""
    whole = gzip.compress(b"".join(native()) * 200, mtime=0)
    return whole[: len(whole) // 2]


def binary() -> bytes:
    """A JPEG header and every byte value: a wrong file passed as a log."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" + bytes(range(256)) * 16


def nul_run() -> bytes:
    """Crash residue: a line that is only NULs, and NULs in front of a real line (Squid restarted)."""
    n = native()
    return b"".join(n[:8]) + b"\0" * 512 + b"\n" + b"\0" * 64 + n[8] + b"".join(n[9:])


def nul_midline() -> bytes:
    """Single NUL bytes inside two lines (a URL, a user name): damage, not a binary file."""
    n = native()
    n[4] = n[4].replace(b"discord.com", b"disc\0ord.com")
    n[8] = n[8].replace(b"mwilson", b"mwil\0son")
    return b"".join(n)


def latin1_url() -> bytes:
    """URLs and a user name written in Latin-1 (é, ü, ß as single bytes), which is invalid UTF-8."""
    n = native()
    n[0] = n[0].replace(b"/news/education", b"/actualit\xe9s/caf\xe9")
    n[5] = n[5].replace(b"timetable", b"stundenpl\xe4ne/gr\xfc\xdfe")
    n[8] = n[8].replace(b"mwilson", b"j\xfcrgen")
    return b"".join(n)


def invalid_utf8() -> bytes:
    """W3C lines with overlong, surrogate, lone-continuation, 5-byte and cut-short UTF-8 sequences."""
    w = lines_of("w3c-bluecoat.log")
    w[6] = w[6].replace(b"/news/education", b"/x\xc0\xaf/\xed\xa0\x80/\x80\xbf")
    w[7] = w[7].replace(b"Windows NT 10.0", b"Windows \xf8\x88\x80\x80\x80 NT")
    w[8] = w[8].replace(b"alice.brown@", b"alice\xe2\x82@")
    return b"".join(w)


def crlf_squid() -> bytes:
    """The Squid native sample with CR LF line ends."""
    return crlf(b"".join(native()))


def crlf_w3c() -> bytes:
    """The Cisco WSA W3C sample (two #Fields: sections) with CR LF line ends."""
    return crlf((SAMPLES / "w3c-wsa.log").read_bytes())


def two_formats() -> bytes:
    """Six Squid native lines, then a whole Blue Coat W3C log appended to the same file."""
    return b"".join(native()[:6]) + (SAMPLES / "w3c-bluecoat.log").read_bytes()


def mixed_squid() -> bytes:
    """Squid native lines with four squid-common lines interleaved (two logformats into one file)."""
    n, c = native(), lines_of("squid-common.log")
    return b"".join(n[:5] + c[:2] + n[5:12] + c[2:4] + n[12:])


def far_time_squid() -> bytes:
    """Epoch 0, 1989, year 2100, 2286 and a 20-digit epoch among normal Squid lines."""
    bad = [
        _squid("0.000", "http://epoch-zero.example/"),
        _squid("631151999.999", "http://year-1989.example/"),
        _squid("4102444800.000", "http://year-2100.example/"),
        _squid("9999999999.000", "http://year-2286.example/"),
        _squid("99999999999999999999.000", "http://twenty-digits.example/"),
    ]
    n = native()
    return b"".join(n[:3] + bad + n[3:8])


def far_time_common() -> bytes:
    """Squid common lines dated 9999, 2100, 1970 and year 1 (a clock reset or a forged line)."""
    c = lines_of("squid-common.log")
    c[1] = c[1].replace(b"18/Nov/2026", b"18/Nov/9999")
    c[2] = c[2].replace(b"18/Nov/2026", b"01/Jan/2100")
    c[3] = c[3].replace(b"18/Nov/2026", b"01/Jan/1970")
    c[4] = c[4].replace(b"18/Nov/2026", b"01/Jan/0001")
    return b"".join(c)


def far_time_w3c() -> bytes:
    """Blue Coat W3C lines dated 1970, 2100 and 9999."""
    w = lines_of("w3c-bluecoat.log")
    w[6] = w[6].replace(b"2026-11-18", b"1970-01-01", 1)
    w[7] = w[7].replace(b"2026-11-18", b"2100-01-01", 1)
    w[8] = w[8].replace(b"2026-11-18", b"9999-12-31", 1)
    return b"".join(w)


def far_time_umbrella() -> bytes:
    """Umbrella CSV lines dated 9999 and 1970 (a reader with no range check of its own)."""
    u = lines_of("umbrella.log")
    u[0] = u[0].replace(b"2026-11-18 09:15:02", b"9999-12-31 23:59:59", 1)
    u[2] = u[2].replace(b"2026-11-18 09:17:05", b"1970-01-01 00:00:00", 1)
    return b"".join(u)


def time_edges() -> bytes:
    """The first and last moments kept (1990-01-01 00:00:00, 2099-12-31 23:59:59.999 UTC), with a finding each."""
    edge = [
        _squid("631152000.000", "http://www.pornhub.com/first", user="edgecase"),
        _squid("631152001.000", "http://www.bbc.co.uk/first", user="edgecase"),
        _squid("4102444799.000", "http://www.pornhub.com/last", user="edgecase"),
        _squid("4102444799.999", "http://www.bbc.co.uk/last", user="edgecase"),
    ]
    return b"".join(edge)


def negative_squid() -> bytes:
    """Squid lines whose reply size is negative (a signed-overflow bug in a proxy)."""
    n = native()
    n[1] = n[1].replace(b" 3980 ", b" -3980 ")
    n[10] = n[10].replace(b" 2048 ", b" -1 ")
    return b"".join(n)


def negative_common() -> bytes:
    """Squid common lines with a negative byte count."""
    c = lines_of("squid-common.log")
    c[1] = c[1].replace(b" 3868 ", b" -3868 ")
    return b"".join(c)


def negative_w3c() -> bytes:
    """W3C (Cisco WSA) lines with negative sc-bytes and cs-bytes."""
    w = lines_of("w3c-wsa.log")
    w[5] = w[5].replace(b" 15320 ", b" -15320 ")
    w[11] = w[11].replace(b" 3868 640 ", b" 3868 -640 ")
    return b"".join(w)


def header_only() -> bytes:
    """A W3C log with its directives and #Fields: line but no data yet (a proxy just started)."""
    head = [x for x in lines_of("w3c-bluecoat.log") if x.startswith(b"#")]
    return b"#Software: SGOS 5.4.3.7 (header only)\n" + b"".join(head[1:])


def fields_change() -> bytes:
    """W3C ``#Fields:`` changing mid-file: Blue Coat, then WSA, then unknown fields, then Blue Coat again.

    The first section also holds a line with one field missing.
    """
    bc = lines_of("w3c-bluecoat.log")
    wsa = lines_of("w3c-wsa.log")
    bc_head = [x for x in bc if x.startswith(b"#")]
    bc_data = [x for x in bc if not x.startswith(b"#")]
    short = bc_data[1].replace(b" TCP_DENIED ", b" ", 1)
    return b"".join(
        [
            b"#Software: SGOS 6.7.5.3 (restarted three times)\n",
            *bc_head[1:],
            *bc_data[:2],
            short,
            *wsa[4:8],  # WSA's #Fields: and three lines
            b"#Fields: x-foo x-bar x-baz\n",
            b"1 2 3\n",
            b"4 5 6\n",
            bc_head[4],  # Blue Coat's #Fields: again
            bc_data[2],
        ]
    )


COMMITTED: dict[str, Callable[[], bytes]] = {
    "truncated.log.gz": truncated_gz,
    "zero-bytes.log": lambda: b"",
    "binary.jpg": binary,
    "nul-run.log": nul_run,
    "nul-midline.log": nul_midline,
    "latin1-url.log": latin1_url,
    "invalid-utf8.w3c.log": invalid_utf8,
    "crlf-squid.log": crlf_squid,
    "crlf-w3c.log": crlf_w3c,
    "two-formats.log": two_formats,
    "mixed-squid.log": mixed_squid,
    "far-time-squid.log": far_time_squid,
    "far-time-common.log": far_time_common,
    "far-time-w3c.log": far_time_w3c,
    "far-time-umbrella.log": far_time_umbrella,
    "time-edges.log": time_edges,
    "negative-squid.log": negative_squid,
    "negative-common.log": negative_common,
    "negative-w3c.log": negative_w3c,
    "header-only.w3c.log": header_only,
    "fields-change.w3c.log": fields_change,
}
"""File name under tests/data/hostile/ → the function that builds its bytes."""


# --- made at test time (too big to commit) ----------------------------------------------------------


def insert_after_middle(data: bytes, extra: bytes) -> tuple[bytes, int]:
    """``extra`` as a line of its own after the middle line of ``data``; returns the new bytes and its line number."""
    lines = data.splitlines(keepends=True)
    at = len(lines) // 2 + 1
    return b"".join(lines[:at]) + extra + b"\n" + b"".join(lines[at:]), at + 1


GARBAGE: dict[str, Callable[[], bytes]] = {
    "1mb-letters": lambda: b"a" * MB,
    "1mb-words": lambda: b"word " * (MB // 5),
    "10k-fields-space": lambda: b" ".join(b"f%d" % i for i in range(10_000)),
    "10k-fields-tab": lambda: b"\t".join(b"f%d" % i for i in range(10_000)),
    "10k-fields-comma": lambda: b",".join(b'"f%d"' % i for i in range(10_000)),
}
"""Lines that fit no format, inserted into every sample: each must be quarantined alone."""


def squid_1mb_url() -> bytes:
    """A valid Squid line whose URL is a 1 MB search (a pasted essay, or an attack)."""
    return b"".join(native()[:2]) + _squid("1794993400.000", "http://www.google.com/search?q=" + "a" * MB)


def squid_10k_fields() -> bytes:
    """A valid Squid line followed by 10,000 extra fields (``log_mime_hdrs`` gone wild)."""
    tail = " ".join(f"h{i}" for i in range(10_000))
    return (
        b"".join(native()[:2])
        + _squid("1794993400.000", "http://example.com/").rstrip(b"\n")
        + b" "
        + tail.encode()
        + b"\n"
    )


def w3c_1mb_query() -> bytes:
    """A valid Cisco WSA line whose URL is 1 MB long."""
    w = lines_of("w3c-wsa.log")
    w[5] = w[5].replace(b"/news/education", b"/news/education?q=" + b"b" * MB)
    return b"".join(w)


def w3c_10k_header() -> bytes:
    """A ``#Fields:`` header naming 10,000 fields (the known ones first), and two lines that fit it."""
    names = ["date", "time", "c-ip", "cs-method", "cs-uri", "sc-status", "sc-bytes"]
    names += [f"x-custom-{i}" for i in range(10_000 - len(names))]
    values = ["2026-11-18", "09:30:00", "10.20.1.70", "GET", "http://example.com/wide", "200", "512"]
    fill = " ".join("-" for _ in range(10_000 - len(values)))
    row = (" ".join(values) + " " + fill + "\n").encode()
    return b"#Version: 1.0\n#Fields: " + " ".join(names).encode() + b"\n" + row + row.replace(b"09:30:00", b"09:31:00")


def main(argv: list[str]) -> int:
    """Rebuild the committed files (run after changing a builder here)."""
    out = Path(argv[0]) if argv else HOSTILE
    out.mkdir(parents=True, exist_ok=True)
    for name, build in COMMITTED.items():
        data = build()
        assert len(data) <= 64 << 10, name
        (out / name).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
