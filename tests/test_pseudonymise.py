"""--pseudonymise: nobody named in any export format, one stable pseudonym per person, a key per workspace."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from rulecase import Day

from filterlog import findings as store
from filterlog import pseudonym
from filterlog.cli import cli
from filterlog.workspace import Workspace

PEOPLE = ("alice", "y9.bob", "10.0.0.5", "10.0.0.6", "mrs jones")
"""Everything that names someone in the workspace below (user names, addresses, the reviewer)."""


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Alice is blocked repeatedly; y9.bob searches for something naming alice; an incident mentions both."""
    day = Day()
    for at in ("09:12:04", "09:17:40", "09:24:13"):
        day.deny(at, "http://www.bet365.com/", user="alice", ip="10.0.0.5")
    day.get(
        "11:00:00", "https://www.google.com/search?q=alice+how+to+kill+myself", 20_000, user="y9.bob", ip="10.0.0.6"
    )
    ws = day.workspace(tmp_path_factory.mktemp("pseudo"))
    found = {f["user"]: f for f in store.read(ws).to_pylist()}
    assert set(found) == {"alice", "y9.bob"} and "alice" in found["y9.bob"]["detail"]
    note = "alice was with y9.bob at 10.0.0.6"
    args = ["--workspace", str(ws.root), "incidents", "record", found["y9.bob"]["finding_id"], "--by", "Mrs Jones",
            "--action", "advice", "--outcome", "Spoke to Y9.Bob", "--notes", note]  # fmt: skip
    assert CliRunner().invoke(cli, args).exit_code == 0
    ws.close()
    return ws.root


def _run(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.output


EXPORTS = [
    ["findings", "--format", "table"], ["findings", "--format", "csv"], ["findings", "--format", "json"],
    ["summary", "--format", "table"], ["summary", "--format", "csv"], ["summary", "--format", "json"],
    ["incidents", "list", "--format", "table"], ["incidents", "list", "--format", "csv"],
    ["incidents", "list", "--format", "json"], ["incidents", "list", "--status", "unreviewed", "--format", "csv"],
    ["incidents", "list", "--status", "unreviewed", "--format", "json"],
]  # fmt: skip


@pytest.mark.parametrize("args", EXPORTS, ids=lambda a: " ".join(a[:-2] + a[-1:]))
def test_no_name_or_address_survives_any_export(school: Path, args: list[str]) -> None:
    plain = _run(school, *args)
    assert any(p in plain.lower() for p in PEOPLE)  # the export does name people without the flag
    text = _run(school, *args, "--pseudonymise").lower()
    for p in PEOPLE:
        assert p not in text, (args, p)
    assert "p-" in text


def test_the_summary_parquet_is_pseudonymised(school: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    _run(school, "summary", "--format", "parquet", "--out", str(out), "--pseudonymise")
    table = pq.read_table(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    values = [str(v).lower() for c in table.columns if pa.types.is_string(c.type) for v in c.to_pylist()]
    assert values and not any(p in v for p in PEOPLE for v in values)


def test_one_person_one_pseudonym_across_exports_so_they_join(school: Path) -> None:
    found = json.loads(_run(school, "findings", "--format", "json", "--pseudonymise"))
    summary = json.loads(_run(school, "summary", "--format", "json", "--pseudonymise"))
    register = json.loads(_run(school, "incidents", "list", "--format", "json", "--pseudonymise"))
    key = pseudonym.secret(Workspace(school))
    alice, bob = pseudonym.pseudonym(key, "alice"), pseudonym.pseudonym(key, "y9.bob")
    assert {f["user"] for f in found} == {s["user"] for s in summary} == {alice, bob}
    assert {f["client_ip"] for f in found} == {
        pseudonym.pseudonym(key, "10.0.0.5"),
        pseudonym.pseudonym(key, "10.0.0.6"),
    }
    (case,) = register
    bobs = next(f for f in found if f["user"] == bob)
    assert case["user"] == bob and case["finding_id"] == bobs["finding_id"]  # register and findings still join
    assert case["finding_id"].startswith("f-")
    assert case["reviewed_by"] == pseudonym.pseudonym(key, "Mrs Jones")
    assert case["outcome"] == f"Spoke to {bob}"  # names in free text are replaced, whatever their case
    assert case["notes"] == f"{alice} was with {bob} at {pseudonym.pseudonym(key, '10.0.0.6')}"
    assert alice in bobs["detail"] and "how to kill myself" in bobs["detail"]  # the words stay


def test_finding_ids_are_keyed_not_plain(school: Path) -> None:
    plain = {f["finding_id"] for f in json.loads(_run(school, "findings", "--format", "json"))}
    masked = json.loads(_run(school, "findings", "--format", "json", "--pseudonymise"))
    assert not plain & {f["finding_id"] for f in masked}
    assert not any(i in json.dumps(masked) for i in plain)


def test_the_key_is_private_random_and_per_workspace(school: Path, tmp_path: Path) -> None:
    path = school / pseudonym.SECRET_FILE
    exported = _run(school, "findings", "--format", "json", "--pseudonymise")  # makes the key if no test did yet
    key = path.read_bytes()
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key.hex() not in exported
    other = tmp_path / "copy"
    shutil.copytree(school, other, ignore=shutil.ignore_patterns(".lock", pseudonym.SECRET_FILE))
    here = json.loads(_run(school, "summary", "--format", "json", "--pseudonymise"))
    there = json.loads(_run(other, "summary", "--format", "json", "--pseudonymise"))
    assert {r["user"] for r in here}.isdisjoint({r["user"] for r in there})
    assert (other / pseudonym.SECRET_FILE).read_bytes() != key
    again = json.loads(_run(school, "summary", "--format", "json", "--pseudonymise"))
    assert again == here  # stable


def test_a_damaged_key_is_a_one_line_error(school: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ws"
    shutil.copytree(school, copy, ignore=shutil.ignore_patterns(".lock"))
    (copy / pseudonym.SECRET_FILE).write_bytes(b"short")
    result = CliRunner().invoke(cli, ["--workspace", str(copy), "findings", "--pseudonymise"])
    assert result.exit_code == 1 and "pseudonym key is damaged" in result.output and "Traceback" not in result.output


def test_text_replacement_matches_whole_names_only(ws: Workspace) -> None:
    table = pa.table({
        "user": ["ann", None, "?"],
        "client_ip": ["10.0.0.1", "10.0.0.12", "10.0.0.3"],
        "detail": ["ANN met annabel at 10.0.0.12 and 10.0.0.1.", "joanne, ann", None],
        "domain": ["ann.example", None, None],
    })  # fmt: skip
    key = pseudonym.secret(ws)
    p = {v: pseudonym.pseudonym(key, v) for v in ("ann", "10.0.0.1", "10.0.0.12", "10.0.0.3")}
    got = pseudonym.pseudonymise(ws, table).to_pydict()
    assert got["user"] == [p["ann"], None, "?"]  # a placeholder is nobody
    assert got["client_ip"] == [p["10.0.0.1"], p["10.0.0.12"], p["10.0.0.3"]]
    assert got["detail"] == [f"{p['ann']} met annabel at {p['10.0.0.12']} and {p['10.0.0.1']}.", f"joanne, {p['ann']}",
                             None]  # fmt: skip
    assert got["domain"] == ["ann.example", None, None]  # domains are not personal


def test_columns_choose_what_counts_as_a_name(ws: Workspace) -> None:
    table = pa.table({"user": ["ann"], "client_ip": ["10.0.0.1"]})
    got = pseudonym.pseudonymise(ws, table, columns=("user",)).to_pydict()
    assert got["client_ip"] == ["10.0.0.1"] and got["user"][0].startswith("p-")
    assert pseudonym.pseudonymise(ws, []) == []
