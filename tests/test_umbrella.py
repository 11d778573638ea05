"""Cisco Umbrella SWG proxy CSV: column-count versions, stray spaces, identities, quarantine."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SAMPLES, assert_accounted, event_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vendor_checks import mutate, parse

from filterlog.ingest import ingest
from filterlog.ingest.umbrella import Umbrella
from filterlog.workspace import Workspace

FAST = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
SAMPLE = (SAMPLES / "umbrella.log").read_bytes()
LINES = SAMPLE.splitlines()


def row(width: int, **cells: str) -> bytes:
    """An Umbrella row of ``width`` quoted columns; cells by 1-based position as c1, c2 ..."""
    vals = [""] * width
    base = {1: "2026-11-18 09:15:02", 3: "10.0.0.1", 4: "203.0.113.1", 7: "ALLOWED", 8: "http://x.example/", 26: "GET"}
    for k, v in base.items():
        vals[k - 1] = v
    for k, v in cells.items():
        vals[int(k[1:]) - 1] = v
    return ",".join(f'"{v}"' for v in vals).encode() + b"\n"


@pytest.mark.parametrize("width", [26, 32, 35, 40, 49])
def test_every_log_version_width_is_read(width: int) -> None:
    parsed = parse("umbrella", row(width))
    assert parsed.events.num_rows == 1
    assert parsed.events.column("url").to_pylist() == ["http://x.example/"]


def test_mixed_widths_in_one_block_keep_line_order() -> None:
    data = row(35, c8="http://a/") + row(32, c8="http://b/") + b"\n" + row(49, c8="http://c/") + row(32, c8="http://d/")
    parsed = parse("umbrella", data, first_line=10)
    assert parsed.events.column("source_line").to_pylist() == [10, 11, 13, 14]
    assert parsed.events.column("host").to_pylist() == ["a", "b", "c", "d"]
    assert parsed.skipped == 1


def test_stray_space_after_a_comma_and_commas_inside_fields() -> None:
    data = row(32, c16="Games,Software/Technology").replace(b'"10.0.0.1","203', b'"10.0.0.1", "203')
    (r,) = parse("umbrella", data).events.to_pylist()
    assert r["client_ip"] == "10.0.0.1"
    assert r["vendor_category"] == "Games,Software/Technology"


@pytest.mark.parametrize(
    ("label", "kind", "user", "device"),
    [
        ("Smith, Jane (jsmith@school.example)", "AD Users", "jsmith", None),
        ("SCHOOL\\mwilson", "AD Users", "mwilson", None),
        ("STUDENT-LAPTOP-07", "Roaming Computers", None, "STUDENT-LAPTOP-07"),
        ("Main Site", "Sites", None, None),
        ("", "", None, None),
    ],
)
def test_policy_identity_becomes_user_or_device(label: str, kind: str, user: str | None, device: str | None) -> None:
    (r,) = parse("umbrella", row(32, c2=label, c22=kind)).events.to_pylist()
    assert (r["user"], r["device"]) == (user, device)
    assert r["user_raw"] == (label if user else None)


def test_blocked_and_allowed() -> None:
    data = row(32, c7="BLOCKED", c11="403") + row(32, c7="ALLOWED")
    assert parse("umbrella", data).events.column("action").to_pylist() == ["blocked", "allowed"]


def test_no_internal_ip_falls_back_to_the_external_one() -> None:
    (r,) = parse("umbrella", row(32, c3="")).events.to_pylist()
    assert r["client_ip"] == "203.0.113.1"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'"2026-11-18 09:17:59","x","10.0.0.1","203.0.113.1","","","ALLOWED","https://cut.example/"\n', "columns"),
        (row(32, c1="yesterday"), "timestamp"),
        (row(32, c3="", c4=""), "client IP"),
        (row(32, c8=""), "URL"),
        (row(32).replace(b'"ALLOWED",', b'"ALLOWED",\r'), "CSV"),
    ],
)
def test_bad_rows_are_quarantined_with_a_reason(line: bytes, reason: str) -> None:
    data = row(32) + line + row(35)
    parsed = parse("umbrella", data)
    assert parsed.bad_lines == [2]
    assert reason in parsed.bad_reasons[0]
    assert parsed.events.column("source_line").to_pylist() == [1, 3]


@FAST
@given(st.sampled_from(LINES), st.binary(max_size=12), st.integers(0, 400))
def test_damaged_lines_never_raise_and_are_accounted_for(line: bytes, junk: bytes, at: int) -> None:
    parse("umbrella", LINES[0] + b"\n" + mutate(line, junk, at) + b"\n" + LINES[-1] + b"\n")


def test_sniff_wants_the_quoted_timestamp_layout() -> None:
    assert Umbrella.sniff(LINES) == 1.0
    assert Umbrella.sniff([b"1794993302.123    120 10.0.0.1 TCP_MISS/200 1 GET http://x/ - HIER_NONE/- -"]) == 0.0


def test_real_umbrella_file(shared_dir: Path, tmp_path: Path) -> None:
    real = sorted((shared_dir / "acceptance" / "real").glob("umbrella_*.log"))
    if not real:
        pytest.skip("no real Umbrella sample")
    ws = Workspace(tmp_path / "ws")
    (result,) = ingest(ws, real).files
    assert (result.format, result.events, result.quarantined) == ("umbrella", 9, 0)
    rows = event_rows(ws)
    assert [r["action"] for r in rows].count("blocked") == 2
    assert rows[0]["device"] == "TheComputerName"  # a roaming computer identity
    assert all(r["host"] for r in rows)
    assert_accounted(ws)
    ws.close()


def test_an_unbalanced_quote_costs_only_its_own_line() -> None:
    data = row(32) + row(32).replace(b'"ALLOWED"', b'"ALL"OWED"') + row(35) + row(49)
    parsed = parse("umbrella", data)
    assert parsed.bad_lines == [2]
    assert parsed.events.column("source_line").to_pylist() == [1, 3, 4]
