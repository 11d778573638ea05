"""Zscaler NSS web feed: JSON lines (wrapped or flat, text or numbers) and delimited with a header."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from helpers import SAMPLES, assert_accounted, event_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vendor_checks import mutate, parse

from filterlog.ingest import ingest
from filterlog.ingest.zscaler import ZscalerCsv, ZscalerJson
from filterlog.workspace import Workspace

FAST = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
JSON_LINES = [x for x in (SAMPLES / "zscaler-web-json.log").read_bytes().splitlines() if x.strip()]
CSV_LINES = (SAMPLES / "zscaler-web-csv.log").read_bytes().splitlines()
EVENT = {
    "time": "Wed Nov 18 09:15:02 2026",
    "login": "jsmith@school.example",
    "proto": "HTTPS",
    "eurl": "www.example.org/a?b=1",
    "action": "Allowed",
    "cip": "10.0.0.1",
    "reqmethod": "GET",
    "respcode": "200",
}


def js(**changes: object) -> bytes:
    event = {**EVENT, **changes}
    return json.dumps({"sourcetype": "zscalernss-web", "event": event}).encode() + b"\n"


def test_numbers_and_text_mixed_in_one_block() -> None:
    data = js(reqsize="10", respsize="20") + js(reqsize=11, respsize=21, respcode=403, action="Blocked")
    rows = parse("zscaler-json", data).events.to_pylist()
    assert [(r["bytes_out"], r["bytes_in"], r["status"], r["action"]) for r in rows] == [
        (10, 20, 200, "allowed"),
        (11, 21, 403, "blocked"),
    ]


def test_scheme_comes_from_proto_and_url_is_kept_as_logged() -> None:
    rows = parse("zscaler-json", js() + js(proto="HTTP") + js(eurl="https://x.example/")).events.to_pylist()
    assert [r["scheme"] for r in rows] == ["https", "http", "https"]
    assert rows[0]["url"] == "www.example.org/a?b=1"
    assert (rows[0]["host"], rows[0]["path"], rows[0]["query"]) == ("www.example.org", "/a", "b=1")


def test_none_is_null_and_owner_stands_in_for_a_missing_login() -> None:
    (r,) = parse(
        "zscaler-json", js(login="None", deviceowner="lchen", ereferer="None", devicehostname="None")
    ).events.to_pylist()
    assert (r["user"], r["referer"], r["device"]) == ("lchen", None, None)


def test_space_padded_day() -> None:
    (r,) = parse("zscaler-json", js(time="Mon Nov  2 08:05:09 2026")).events.to_pylist()
    assert r["time"].isoformat() == "2026-11-02T08:05:09+00:00"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"not json\n", "JSON"),
        (b"[1, 2]\n", "JSON"),
        (b'{"a": 1}{"b": 2}\n', "JSON"),
        (js(time="yesterday"), "time"),
        (js(eurl=None), "URL"),
        (js(cip=None), "client IP"),
    ],
)
def test_bad_json_lines_are_quarantined_with_a_reason(line: bytes, reason: str) -> None:
    parsed = parse("zscaler-json", js() + line + js())
    assert parsed.bad_lines == [2]
    assert reason in parsed.bad_reasons[0]


def test_header_names_the_fields_in_any_order_and_case() -> None:
    data = b"action\ttime\tClientIP\teurl\n" + b"Blocked\tWed Nov 18 09:15:02 2026\t10.0.0.9\tx.example/\n"
    parsed = parse("zscaler-csv", data)
    (r,) = parsed.events.to_pylist()
    assert (r["client_ip"], r["action"], r["host"], parsed.skipped) == ("10.0.0.9", "blocked", "x.example", 1)


def test_header_in_an_earlier_block_applies_to_later_blocks() -> None:
    reader = ZscalerCsv()
    first = b"time,cip,eurl,action\n"
    later = b'"Wed Nov 18 09:15:02 2026",10.0.0.9,x.example/,Allowed\n'
    reader.parse(first, 1)
    parsed = reader.parse(later, 2)
    assert parsed.events.column("client_ip").to_pylist() == ["10.0.0.9"]


def test_a_later_block_parsed_first_waits_for_the_header() -> None:
    """Threads may start the second block first; it must still read with the first block's header."""
    reader = ZscalerCsv()
    reader.begin(1)
    results: dict[str, object] = {}
    later = b'"Wed Nov 18 09:15:02 2026",10.0.0.9,x.example/,Allowed\n'
    second = threading.Thread(target=lambda: results.setdefault("later", reader.parse(later, 2)))
    second.start()
    second.join(0.2)
    assert second.is_alive(), "the second block must wait for the first"
    reader.parse(b"time,cip,eurl,action\n", 1)
    second.join(5)
    assert results["later"].events.column("client_ip").to_pylist() == ["10.0.0.9"]


def test_a_row_that_does_not_fit_the_header_is_quarantined() -> None:
    data = b"time,cip,eurl,action\n" + b'"Wed Nov 18 09:15:02 2026",10.0.0.9\n'
    parsed = parse("zscaler-csv", data)
    assert parsed.bad_lines == [2]


@FAST
@given(st.sampled_from(JSON_LINES), st.binary(max_size=12), st.integers(0, 400))
def test_damaged_json_lines_are_accounted_for(line: bytes, junk: bytes, at: int) -> None:
    parse("zscaler-json", JSON_LINES[0] + b"\n" + mutate(line, junk, at) + b"\n")


@FAST
@given(st.sampled_from(CSV_LINES), st.binary(max_size=12), st.integers(0, 400))
def test_damaged_delimited_lines_are_accounted_for(line: bytes, junk: bytes, at: int) -> None:
    parse("zscaler-csv", b"\n".join(CSV_LINES[:3]) + b"\n" + mutate(line, junk, at) + b"\n")


def test_sniff_tells_the_two_forms_apart() -> None:
    assert ZscalerJson.sniff(JSON_LINES) == 1.0
    assert ZscalerCsv.sniff(JSON_LINES) == 0.0
    assert ZscalerCsv.sniff(CSV_LINES) == 1.0
    assert ZscalerJson.sniff(CSV_LINES) == 0.0


def test_real_zscaler_file(shared_dir: Path, tmp_path: Path) -> None:
    real = sorted((shared_dir / "acceptance" / "real").glob("zscaler_*.log"))
    if not real:
        pytest.skip("no real Zscaler sample")
    ws = Workspace(tmp_path / "ws")
    (result,) = ingest(ws, real).files
    assert (result.format, result.events, result.quarantined) == ("zscaler-json", 6, 0)
    rows = event_rows(ws)
    assert [r["action"] for r in rows].count("blocked") == 5
    assert {r["user"] for r in rows} == {"test"}
    assert {r["device"] for r in rows} == {"TestMachine35"}
    assert all(r["host"] for r in rows)
    assert_accounted(ws)
    ws.close()


def test_grown_csv_feed_keeps_its_header(tmp_path: Path) -> None:
    """Lines appended after the header was read in an earlier run still use the header's field order."""
    lines = (SAMPLES / "zscaler-web-csv.log").read_bytes().splitlines(keepends=True)
    header = next(i for i, x in enumerate(lines) if x.startswith(b"time,"))
    log = tmp_path / "nss.csv"
    log.write_bytes(b"".join(lines[: header + 1]))
    ws = Workspace(tmp_path / "ws")
    try:
        first = ingest(ws, [log], fmt="zscaler-csv").files[0]
        log.write_bytes(b"".join(lines))
        grown = ingest(ws, [log], fmt="zscaler-csv").files[0]
        assert grown.quarantined == 0, grown
        assert first.events + grown.events == len(event_rows(ws)) == len(lines) - 1 - header + first.events
    finally:
        ws.close()
