"""Real third-party Squid logs from ../shared/acceptance/real (not in the repository; skipped without it).

Counts below were read off the files themselves (grep/awk), and agree with the README there.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from helpers import assert_accounted, event_rows

from filterlog.ingest import ingest
from filterlog.workspace import Workspace

REAL = {
    # file prefix: (reader, events, CONNECT lines, TCP_DENIED/407 lines)
    "squid_native__": ("squid", 100, 9, 15),
    "squid_combined_variant__": ("squid-combined", 43, 35, 0),
}


@pytest.fixture
def real_dir(shared_dir: Path) -> Path:
    path = shared_dir / "acceptance" / "real"
    if not path.is_dir():
        pytest.skip(f"{path} is not present")
    return path


@pytest.mark.parametrize("prefix", list(REAL))
def test_real_squid_file(real_dir: Path, tmp_path: Path, prefix: str) -> None:
    matches = sorted(real_dir.glob(prefix + "*.log"))
    if not matches:
        pytest.skip(f"no {prefix}*.log in {real_dir}")
    (log,) = matches
    reader, events, connects, challenges = REAL[prefix]
    ws = Workspace(tmp_path / "ws")
    (result,) = ingest(ws, [log]).files
    assert result.status == "ingested", result.message
    assert result.format == reader
    assert (result.events, result.quarantined) == (events, 0)
    assert result.lines == events + result.skipped
    rows = event_rows(ws)
    assert len(rows) == events
    assert sorted(r["source_line"] for r in rows) == list(range(1, events + 1))
    methods = Counter(r["method"] for r in rows)
    assert methods["CONNECT"] == connects
    actions = Counter(r["action"] for r in rows)
    assert actions["auth_required"] == challenges
    assert actions["blocked"] == 0  # these files hold no policy blocks, only 407 challenges
    assert all(r["host"] for r in rows)
    assert_accounted(ws)
    ws.close()


def test_real_native_users(real_dir: Path, tmp_path: Path) -> None:
    (log,) = sorted(real_dir.glob("squid_native__*.log")) or pytest.skip("no squid_native file")
    ws = Workspace(tmp_path / "ws")
    ingest(ws, [log])
    users = Counter(r["user"] for r in event_rows(ws))
    assert users == {"adeolaegbedokun": 47, "badeyek": 32, "nazsoau": 6, None: 15}
    ws.close()
