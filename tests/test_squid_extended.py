"""The inferred Squid custom logformat (elastic/integrations test-access-extensive.log)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SAMPLES, event_rows

from filterlog.ingest import READERS, SquidExtended, ingest, sniff
from filterlog.workspace import Workspace


def test_sample_sniffs_only_as_squid_extended() -> None:
    head = (SAMPLES / "squid-extended.log").read_bytes()
    assert sniff(head).name == "squid-extended"
    others = {n: cls.sniff(head.splitlines()) for n, cls in READERS.items() if n != "squid-extended"}
    assert max(others.values()) < 0.5, others


def test_extra_quoted_field_and_cut_lines() -> None:
    lines = (SAMPLES / "squid-extended.log").read_bytes().splitlines()
    parsed = SquidExtended().parse(lines[3] + b"\n" + lines[0][:80] + b"\n" + lines[2] + b"\n", 1)
    assert parsed.events.column("source_line").to_pylist() == [1, 3]
    assert parsed.bad_lines == [2]
    assert parsed.events.column("bytes_out").to_pylist() == [640, 2051]


def test_real_extended_file(shared_dir: Path, tmp_path: Path) -> None:
    logs = sorted((shared_dir / "acceptance" / "real").glob("squid_custom_extended__*.log"))
    if not logs:
        pytest.skip("no real extended sample")
    ws = Workspace(tmp_path / "ws")
    (result,) = ingest(ws, logs).files
    rows = event_rows(ws)
    ws.close()
    assert (result.format, result.events, result.quarantined) == ("squid-extended", 11, 0)
    assert sum(r["method"] == "CONNECT" for r in rows) == 3
    assert sum(r["user"] == "badeyek" for r in rows) == 3
