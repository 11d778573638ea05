"""E2Guardian / DansGuardian access.log in every layout logfileformat selects."""

from __future__ import annotations

import pytest
from helpers import SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vendor_checks import mutate, parse

from filterlog.ingest.e2guardian import E2Guardian

FAST = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
LINES = (SAMPLES / "e2guardian.log").read_bytes().splitlines()
UA = "Mozilla/5.0 (X11; Linux x86_64)"


def tabs(*fields: str) -> bytes:
    return "\t".join(fields).encode() + b"\n"


# (layout, line): the same blocked request in each layout
SAME = {
    "protex-8": tabs(
        "1794993310.000",
        "proxy1",
        "lchen",
        "10.20.1.16",
        "http://www.twitch.tv/",
        "GET",
        "403",
        "0",
        "text/html",
        UA,
        "",
        "7",
        "",
        "500",
        "*DENIED* Banned site: twitch.tv",
        "0",
        "Streaming",
        "Students",
        "1",
        "",
        "",
    ),  # fmt: skip
    "accesslogger": tabs(
        "1794993310.000",
        "proxy1",
        "lchen",
        "10.20.1.16",
        "",
        "http://www.twitch.tv/",
        "GET",
        "403",
        "0",
        "text/html",
        UA,
        "",
        "7",
        "",
        "500",
        "*DENIED* Banned site: twitch.tv",
        "0",
        "Streaming",
        "Students",
        "1",
    ),  # fmt: skip
    "dg-tab": tabs(
        "2026.11.18 09:15:10",
        "lchen",
        "10.20.1.16",
        "http://www.twitch.tv/",
        "*DENIED* Banned site: twitch.tv",
        "GET",
        "0",
        "0",
        "Streaming",
        "1",
        "403",
        "text/html",
        "",
        "Students",
        UA,
    ),  # fmt: skip
    "dg-csv": b'"2026.11.18 09:15:10","lchen","10.20.1.16","http://www.twitch.tv/","*DENIED* Banned site: twitch.tv",'
    b'"GET","0","0","Streaming","1","403","text/html","","Students","' + UA.encode() + b'"\n',
    "dg-space": b"2026.11.18 09:15:10 lchen 10.20.1.16 http://www.twitch.tv/ *DENIED* Banned site: twitch.tv GET 0 0 "
    b"Streaming 1 403 text/html  Students " + UA.encode() + b"\n",
}


@pytest.mark.parametrize("layout", list(SAME))
def test_each_layout_gives_the_same_event(layout: str) -> None:
    (r,) = parse("e2guardian", SAME[layout]).events.to_pylist()
    assert r["time"].isoformat() == "2026-11-18T09:15:10+00:00"
    assert (r["user"], r["client_ip"], r["method"], r["host"]) == ("lchen", "10.20.1.16", "GET", "www.twitch.tv")
    assert (r["status"], r["action"], r["vendor_action"], r["vendor_category"]) == (
        403,
        "blocked",
        "*DENIED*",
        "Streaming",
    )
    assert r["content_type"] == "text/html"
    assert E2Guardian.sniff([SAME[layout].rstrip(b"\n")]) == 1.0


def test_layouts_mixed_in_one_block_keep_line_order() -> None:
    data = b"".join(SAME.values())
    parsed = parse("e2guardian", data, first_line=3)
    assert parsed.events.column("source_line").to_pylist() == [3, 4, 5, 6, 7]


@pytest.mark.parametrize(
    ("what", "action"),
    [
        ("", "allowed"),
        ("*TRUSTED* Exception site match.", "allowed"),
        ("*EXCEPTION* Exception site match.", "allowed"),
        ("*SCANNED* ", "allowed"),
        ("*DENIED-POST* Banned phrase found: x", "blocked"),
        ("*INFECTED* Virus or bad content detected.", "blocked"),
        ("*NETERROR* Unable to connect", "error"),
    ],
)
def test_markers_decide_the_action(what: str, action: str) -> None:
    line = tabs("1794993310.000", "p", "u", "10.0.0.1", "http://x/", "GET", "200", "1", "text/html", "-", "", "1", "",
                "0", what, "0", "", "g", "1")  # fmt: skip
    (r,) = parse("e2guardian", line).events.to_pylist()
    assert r["action"] == action
    assert r["vendor_action"] == (what.split(" ")[0] or None)


@pytest.mark.parametrize(
    "line",
    [
        b"this is not an e2guardian line\n",
        tabs(
            "1794993310.000", "p", "u", "10.0.0.1", "http://x/", "GET", "2xx", "1", "text/html", "-", "", "1", "", "0"
        ),
        tabs("1794993310.000", "p", "u", "10.0.0.1", "", "GET", "200", "1", "text/html", "-", "", "1", "", "0"),
        b"2026.13.45 09:15:10 - 10.0.0.1 http://x/  GET 0 0  1 200 text/html\n",
    ],
)
def test_bad_lines_are_quarantined(line: bytes) -> None:
    parsed = parse("e2guardian", SAME["dg-tab"] + line + SAME["protex-8"])
    assert parsed.bad_lines == [2]
    assert parsed.events.column("source_line").to_pylist() == [1, 3]


@FAST
@given(st.sampled_from(LINES), st.binary(max_size=12), st.integers(0, 300))
def test_damaged_lines_never_raise_and_are_accounted_for(line: bytes, junk: bytes, at: int) -> None:
    parse("e2guardian", LINES[0] + b"\n" + mutate(line, junk, at) + b"\n" + LINES[-1] + b"\n")
