"""The header-driven W3C/ELFF reader: field order, header changes, state across blocks, bad lines, actions."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from helpers import COMPARED, SAMPLES, event_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filterlog.ingest import READERS, W3CReader, ingest, sniff
from filterlog.ingest.w3c import DEFAULTS, w3c_action
from filterlog.schema import validate
from filterlog.workspace import Workspace

HEADER = b"#Software: SGOS 5.4.3.7\n#Version: 1.0\n"
FIELDS_A = b"#Fields: date time c-ip cs-username cs-method cs-uri sc-status sc-bytes sc-filter-result\n"
FIELDS_B = b"#Fields: c-ip date time cs-method cs-host cs-uri-path sc-status s-action x-ss-category\n"
LINE_A = b"2026-11-18 09:15:02 10.0.0.1 bob GET http://a.example/x 200 512 PROXIED\n"
LINE_B = b"10.0.0.2 2026-11-18 09:16:00 GET b.example /y 403 TCP_DENIED Gambling\n"


def _rows(tmp_path: Path, log: Path) -> list[dict]:
    ws = Workspace(tmp_path / "ws")
    try:
        (result,) = ingest(ws, [log]).files
        assert result.status == "ingested", result.message
        return event_rows(ws)
    finally:
        ws.close()


def test_scansafe_field_order_does_not_matter(tmp_path: Path) -> None:
    a = _rows(tmp_path / "a", SAMPLES / "w3c-scansafe-a.log")
    b = _rows(tmp_path / "b", SAMPLES / "w3c-scansafe-b.log")
    assert len(a) == 5
    assert [{k: r[k] for k in COMPARED} for r in a] == [{k: r[k] for k in COMPARED} for r in b]


def test_fields_change_within_one_block() -> None:
    parsed = W3CReader().parse(HEADER + FIELDS_A + LINE_A + FIELDS_B + LINE_B, 1)
    validate(parsed.events)
    assert parsed.skipped == 4 and not parsed.bad_lines
    rows = parsed.events.to_pylist()
    assert [r["source_line"] for r in rows] == [4, 6]
    assert [r["url"] for r in rows] == ["http://a.example/x", "b.example/y"]
    assert [r["action"] for r in rows] == ["allowed", "blocked"]
    assert rows[1]["vendor_category"] == "Gambling"


def test_header_is_remembered_across_blocks() -> None:
    reader = W3CReader()
    first = reader.parse(HEADER + FIELDS_B, 1)
    assert first.skipped == 3 and first.events.num_rows == 0
    second = reader.parse(LINE_B + LINE_B, 4)
    assert second.events.column("source_line").to_pylist() == [4, 5]
    assert second.events.column("client_ip").to_pylist() == ["10.0.0.2", "10.0.0.2"]


def test_blocks_parsed_out_of_order_on_threads_see_their_header() -> None:
    """The pipeline parses blocks concurrently; a later block waits for the header scan of the one before."""
    reader = W3CReader()
    reader.parse(HEADER + FIELDS_A + LINE_A, 1)  # lines 1-4
    results: dict[str, object] = {}
    second = threading.Thread(target=lambda: results.setdefault("late", reader.parse(LINE_B, 7)))
    second.start()  # asks for line 7 before lines 5-6 (which change the header) were seen
    second.join(0.2)
    assert second.is_alive(), "the later block must wait for the earlier one"
    results["early"] = reader.parse(LINE_A + FIELDS_B, 5)
    second.join(5)
    late = results["late"]
    assert late.events.column("client_ip").to_pylist() == ["10.0.0.2"]  # read with FIELDS_B
    assert late.events.column("url").to_pylist() == ["b.example/y"]


def test_the_first_block_is_known_before_any_block_is_parsed() -> None:
    """A file's last block scheduled first (the lone unterminated line) must not take the place of the first."""
    reader = W3CReader()
    reader.begin(1)
    results: dict[str, object] = {}
    last = threading.Thread(target=lambda: results.setdefault("last", reader.parse(LINE_B, 4)))
    last.start()  # line 4 asks before lines 1-3 (the header) were seen
    last.join(0.2)
    assert last.is_alive(), "the last block must wait for the first"
    reader.parse(HEADER + FIELDS_B, 1)
    last.join(5)
    parsed = results["last"]
    assert not parsed.bad_lines
    assert parsed.events.column("client_ip").to_pylist() == ["10.0.0.2"]


def test_bad_lines_are_quarantined_alone() -> None:
    short = b"2026-11-18 09:15:03 10.0.0.1 bob GET\n"
    bad_time = b"2026-13-45 09:15:02 10.0.0.1 bob GET http://a.example/x 200 512 PROXIED\n"
    block = HEADER + FIELDS_A + LINE_A + short + LINE_A + bad_time + LINE_A
    parsed = W3CReader().parse(block, 1)
    assert parsed.events.column("source_line").to_pylist() == [4, 6, 8]
    assert parsed.bad_lines == [5, 7]
    assert "fields where the #Fields: header names 9" in parsed.bad_reasons[0]
    assert "date/time" in parsed.bad_reasons[1]


def test_runs_of_spaces_and_quotes_are_tokenised() -> None:
    spaced = b'2026-11-18 09:15:02 10.0.0.1  "SCHOOL\\bob" GET http://a.example/x 200 512 PROXIED\n'
    parsed = W3CReader().parse(FIELDS_A + spaced, 1)
    (row,) = parsed.events.to_pylist()
    assert (row["user"], row["user_raw"], row["bytes_in"]) == ("bob", "SCHOOL\\bob", 512)


def test_data_before_any_header_is_quarantined() -> None:
    parsed = W3CReader().parse(LINE_B + FIELDS_B + LINE_B, 1)
    assert parsed.bad_lines == [1]
    assert parsed.bad_reasons == ["no #Fields: header before this line"]
    assert parsed.events.column("source_line").to_pylist() == [3]


def test_headerless_proxysg_lines_use_the_sgos_default_layout() -> None:
    lines = [x for x in (SAMPLES / "w3c-bluecoat.log").read_bytes().splitlines() if not x.startswith(b"#")]
    assert W3CReader.sniff(lines) == 1.0
    parsed = W3CReader().parse(b"\n".join(lines) + b"\n", 1)
    assert parsed.events.num_rows == 7 and not parsed.bad_lines
    assert len(DEFAULTS) == 2


@pytest.mark.parametrize("name", ["w3c-bluecoat.log", "w3c-scansafe-a.log", "w3c-scansafe-b.log", "w3c-wsa.log"])
def test_samples_sniff_as_w3c(name: str) -> None:
    head = (SAMPLES / name).read_bytes()
    assert sniff(head, name).name == "w3c"


@pytest.mark.parametrize("name", ["squid-native.log", "squid-common.log", "bluecoat-squid.log"])
def test_other_formats_do_not_sniff_as_w3c(name: str) -> None:
    lines = (SAMPLES / name).read_bytes().splitlines()
    assert W3CReader.sniff(lines) == 0.0


@pytest.mark.parametrize(
    ("verdict", "code", "block", "status", "want"),
    [
        ("PROXIED", "TCP_HIT", "", 200, "allowed"),
        ("OBSERVED", "TCP_TUNNELED", "", 200, "allowed"),
        ("DENIED", "TCP_DENIED", "", 403, "blocked"),
        ("DENIED", "TCP_DENIED", "", 407, "auth_required"),
        ("", "TCP_DENIED", "", 407, "auth_required"),
        ("block", "", "WEBCAT", 403, "blocked"),
        ("warn", "", "WEBCAT", 200, "blocked"),
        ("allow", "", "-", 200, "allowed"),
        ("", "", "WEBCAT", 403, "blocked"),
        ("PROXIED", "TCP_ERR_MISS", "", 503, "error"),
        ("", "NONE", "", 503, "error"),
        ("", "TCP_MISS", "", None, "allowed"),
    ],
)
def test_action_vocabulary(verdict: str, code: str, block: str, status: int | None, want: str) -> None:
    assert w3c_action(verdict, code, block, status) == want


def test_real_proxysg_elff_file(shared_dir: Path, tmp_path: Path) -> None:
    real = shared_dir / "acceptance" / "real"
    logs = sorted(real.glob("bluecoat_proxysg_elff_w3c__*.log"))
    if not logs:
        pytest.skip("no real ELFF sample")
    ws = Workspace(tmp_path / "ws")
    (result,) = ingest(ws, logs).files
    assert (result.format, result.events, result.quarantined, result.skipped) == ("w3c", 29, 0, 4)
    rows = event_rows(ws)
    ws.close()
    assert Counter(r["user"] for r in rows) == {
        "george": 21,
        "bill": 2,
        "jane": 1,
        "brad": 1,
        "carol": 1,
        "sally": 2,
        None: 1,
    }  # awk $14
    assert all(r["action"] == "allowed" and r["host"] and r["time"].startswith("2005-05-04") for r in rows)


# --- properties --------------------------------------------------------------------------------

SCANSAFE = (SAMPLES / "w3c-scansafe-a.log").read_bytes().splitlines()
_NAMES = SCANSAFE[3].split()[1:]


@settings(max_examples=30, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(len(_NAMES))))
def test_any_field_order_gives_the_same_events(order: list[int]) -> None:
    from filterlog.ingest.w3c import _TOKEN

    want = W3CReader().parse(b"\n".join(SCANSAFE) + b"\n", 1).events
    lines = [b"#Fields: " + b" ".join(_NAMES[i] for i in order)]
    for line in SCANSAFE[4:]:
        tokens = _TOKEN.findall(line)
        lines.append(b" ".join(tokens[i] for i in order))
    got = W3CReader().parse(b"\n".join(lines) + b"\n", 4).events
    assert got.equals(want)


PIECES = [
    b"#Fields: ",
    b"#Fields: date time c-ip cs-uri\n",
    b"#Version: 1.0\n",
    b"date",
    b"time",
    b"c-ip",
    b"cs-uri",
    b"2026-11-18",
    b"09:15:02",
    b" ",
    b"  ",
    b'"',
    b"-",
    b"\n",
    b"\r\n",
    b"\r",
    b"\x01",
    b"#",
    b"http://x/",
    b"10.0.0.1",
    b"\xc3\xa9",
]


@pytest.mark.parametrize("reader_name", ["w3c", "bluecoat-squid"])
@settings(max_examples=80, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join), st.binary(max_size=120)))
def test_w3c_like_bytes_are_accounted_for(reader_name: str, block: bytes) -> None:
    data = block.decode("utf-8", errors="replace").encode("utf-8") + b"\n"
    n = data.count(b"\n")
    parsed = READERS[reader_name]().parse(data, 1)
    validate(parsed.events)
    lines = parsed.events.column("source_line").to_pylist() + list(parsed.bad_lines)
    assert parsed.events.num_rows + len(parsed.bad_lines) + parsed.skipped == n
    assert len(set(lines)) == len(lines)
    assert all(1 <= x <= n for x in lines)
    assert len(parsed.bad_reasons) == len(parsed.bad_lines)


def test_prime_gives_a_resumed_reader_its_header() -> None:
    """A grown file is read from where the last ingest stopped; prime() hands over the header."""
    fresh = W3CReader().parse(LINE_B, 9)
    assert fresh.bad_reasons == ["no #Fields: header before this line"]
    reader = W3CReader()
    reader.prime(HEADER + FIELDS_A + LINE_A + FIELDS_B)
    assert reader.parse(LINE_B, 9).events.column("client_ip").to_pylist() == ["10.0.0.2"]


def test_grown_w3c_file_keeps_its_header(tmp_path: Path) -> None:
    """Appended lines come after the #Fields: header: the reader must still know the layout."""
    lines = (SAMPLES / "w3c-scansafe-a.log").read_bytes().splitlines(keepends=True)
    log = tmp_path / "scansafe.log"
    log.write_bytes(b"".join(lines[:-2]))
    ws = Workspace(tmp_path / "ws")
    try:
        first = ingest(ws, [log]).files[0]
        log.write_bytes(b"".join(lines))
        grown = ingest(ws, [log]).files[0]
        assert grown.status == "appended" and grown.quarantined == 0, grown
        assert grown.events == 2
        assert first.events + grown.events == len(event_rows(ws))
    finally:
        ws.close()
