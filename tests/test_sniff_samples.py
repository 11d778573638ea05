"""Sniffing picks the right reader for every sample, from its first lines alone (as ingest does)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SAMPLE_LOGS, load_expected

from filterlog.ingest import sniff


def _expected_reader(log: Path) -> str | None:
    path = log.with_name(log.stem + ".expected.jsonl")
    return load_expected(log)[0]["source_format"] if path.is_file() else None


@pytest.mark.parametrize("log", SAMPLE_LOGS, ids=lambda p: p.name)
def test_sample_sniffs_to_its_reader(log: Path) -> None:
    want = _expected_reader(log)
    if want is None:
        pytest.skip(f"{log.name} has no expected events yet")
    head = log.read_bytes()[: 64 << 10]
    assert sniff(head, log).name == want


SELF_DESCRIBING = {"umbrella", "zscaler-json", "zscaler-csv", "e2guardian", "squidguard"}
"""Readers whose every line says what it is (no header needed): a one-line file must sniff right."""


@pytest.mark.parametrize("log", SAMPLE_LOGS, ids=lambda p: p.name)
def test_each_line_of_a_sample_sniffs_to_its_reader(log: Path) -> None:
    """One line is all a short file may have; it must not be taken for another format."""
    want = _expected_reader(log)
    if want not in SELF_DESCRIBING:
        pytest.skip(f"{log.name}: lines of {want} are not checked one by one")
    rows = load_expected(log)
    lines = log.read_bytes().splitlines()
    for row in rows:
        line = lines[row["source_line"] - 1] + b"\n"
        assert sniff(line, log).name == want, (row["source_line"], line)
