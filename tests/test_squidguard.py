"""squidGuard request log: decisions, squidGuard's own messages, quarantine."""

from __future__ import annotations

import pytest
from helpers import SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vendor_checks import mutate, parse

from filterlog.ingest.squidguard import SquidGuard

FAST = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
LINES = (SAMPLES / "squidguard.log").read_bytes().splitlines()
REQ = "2026-11-18 09:15:02 [23411] Request(students/gambling/-) http://www.bet365.com/ 10.20.1.15/- jsmith GET"


@pytest.mark.parametrize(
    ("decision", "action", "vendor"),
    [
        (" REDIRECT", "blocked", "REDIRECT"),
        (" DENY", "blocked", "DENY"),
        (" PASS", "allowed", "PASS"),
        (" REWRITE", "allowed", "REWRITE"),
        ("", "blocked", None),  # squidGuard 1.2 logged only redirects, with no decision
    ],
)
def test_decisions(decision: str, action: str, vendor: str | None) -> None:
    (r,) = parse("squidguard", (REQ + decision + "\n").encode()).events.to_pylist()
    assert (r["action"], r["vendor_action"], r["vendor_category"]) == (action, vendor, "gambling")
    assert (r["user"], r["client_ip"], r["host"]) == ("jsmith", "10.20.1.15", "www.bet365.com")


def test_own_messages_are_counted_not_quarantined() -> None:
    data = b"2026-11-18 08:00:01 [23411] squidGuard 1.4 started (1794988801.123)\n" + (REQ + " REDIRECT\n").encode()
    parsed = parse("squidguard", data)
    assert (parsed.skipped, parsed.events.num_rows, parsed.bad_lines) == (1, 1, [])


@pytest.mark.parametrize(
    "line",
    [
        b"Request(students/social/-) http://www.tiktok.com/ 10.20.1.16/- lchen GET DENY\n",
        b"2026-11-18 09:15:02 [23411] Request(students/gambling/-) http://x/ 10.20.1.15/-\n",
        b"2026-13-30 09:15:02 [1] Request(a/b/-) http://x/ 10.0.0.1/- - GET REDIRECT\n",
    ],
)
def test_bad_lines_are_quarantined(line: bytes) -> None:
    parsed = parse("squidguard", (REQ + "\n").encode() + line)
    assert parsed.bad_lines == [2]


def test_sniff_needs_request_lines() -> None:
    assert SquidGuard.sniff(LINES) == 1.0
    assert SquidGuard.sniff(LINES[:2]) == 0.0  # only squidGuard's own messages: not yet a request log


@FAST
@given(st.sampled_from(LINES), st.binary(max_size=12), st.integers(0, 200))
def test_damaged_lines_never_raise_and_are_accounted_for(line: bytes, junk: bytes, at: int) -> None:
    parse("squidguard", LINES[2] + b"\n" + mutate(line, junk, at) + b"\n" + LINES[-1] + b"\n")


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        ("2026-06-17 10:15:02", "2026-06-17 09:15:02"),  # BST: an hour ahead of UTC
        ("2026-11-18 10:15:02", "2026-11-18 10:15:02"),  # GMT
        ("2026-10-25 01:30:00", "2026-10-25 00:30:00"),  # the repeated hour: the earlier one
    ],
)
def test_local_times_are_read_in_the_site_time_zone(stamp: str, utc: str) -> None:
    line = f"{stamp} [23411] Request(students/gambling/-) http://www.bet365.com/ 10.20.1.15/- jsmith GET REDIRECT\n"
    got = SquidGuard(timezone="Europe/London").parse(line.encode(), 1).events.column("time")[0].as_py()
    assert got.strftime("%Y-%m-%d %H:%M:%S") == utc
