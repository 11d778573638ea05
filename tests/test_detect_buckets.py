"""Detect in buckets of people: a day split K ways gives exactly the findings of the whole day.

Bucketing only starts above ``buckets.BUCKET_ROWS`` events (millions), so
these tests force K on small days: the demo day (identity map, groups, every
rule planted) and a day built from the rule tests' cases, with episodes that
cross midnight into the neighbouring dates' margins and a person known only
by address.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from rulecase import Day
from test_rule_blocked import _gambler
from test_rule_circumvention import _glype, _ports, _tor, _vpn
from test_rule_content import _pornhub
from test_rule_hacking import _cracker, _scanner
from test_rule_livefeed import _livescore
from test_rule_nonbusiness import _minutes, _work
from test_rule_search import _suggest
from test_rule_transfer import _dropbox, _modpack, _update

from filterlog import findings as store
from filterlog.enrich.events import Enricher
from filterlog.ingest import ingest
from filterlog.parts import read_parts
from filterlog.rules import RULE_IDS, buckets, detect, engine
from filterlog.rules import day as dayread
from filterlog.workspace import Workspace


def _all(ws: Workspace) -> pa.Table:
    return store.read(ws)


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain values: tables joined from pieces hold the same values in other dictionaries."""
    return table.cast(
        pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in table.schema])
    )


def _cases(root: Path) -> Workspace:
    """Every rule's planted case, a person each, around a midnight, ingested and detected whole."""
    day = Day("2026-11-18")
    _gambler(day, user="alice")
    for t in ("23:41:04", "23:52:10"):  # a persistence episode that runs past midnight into the 19th
        day.deny(t, "www.bet365.com:443", user="alice", day_offset=-1)
    day.deny("00:03:30", "www.bet365.com:443", user="alice")
    _vpn(day, user="vic")
    _tor(day, user="bob")
    _glype(day, user="carol")
    _ports(day, user="dave")
    _pornhub(day, user="pbell")
    _cracker(day, user="hana")
    _scanner(day, user="ivan")
    _livescore(day, user="lena")
    _minutes(day, "09:00", 40, user="mo")
    _work(day, "09:00", 30, 2_000_000, user="mo")
    _suggest(day, "10:15:00", "how to hurt myself", user="sam")
    _modpack(day, user="sclark")
    _dropbox(day, user="asingh")
    _update(day)  # no user name: the address is the person
    for t in ("23:58:00", "23:58:30", "23:59:40"):  # the next date's margin: gambling again just before midnight
        day.deny(t, "www.bet365.com:443", user="zoe")
    day.deny("00:10:00", "www.bet365.com:443", user="zoe", day_offset=1)
    return day.workspace(root)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = _cases(tmp_path_factory.mktemp("bucket-cases"))
    ws.close()
    return ws.root


def _copy(src: Path, dst: Path) -> Workspace:
    import shutil

    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    return Workspace(dst)


def _redetect(ws: Workspace, k: int) -> pa.Table:
    with ws.lock():
        report = detect(ws, buckets=k)
    assert report.events == sum(dayread.source(ws, d, engine.MARGIN).rows for d in report.days)
    return _all(ws)


@pytest.mark.parametrize("k", [2, 5])
def test_demo_day_in_buckets_gives_the_same_findings(demo_day, tmp_path: Path, k: int) -> None:
    whole = _all(Workspace(demo_day.workspace))
    assert set(whole.column("rule").to_pylist()) == set(RULE_IDS)  # every rule takes part
    ws = _copy(demo_day.workspace, tmp_path / "ws")
    split = _redetect(ws, k)
    assert split.equals(whole)  # ids, every column, the stored order
    assert not list(ws.root.glob(".detect-*"))  # the spilled buckets are gone


def test_rule_cases_in_buckets_give_the_same_findings(cases: Path, tmp_path: Path) -> None:
    whole = _all(Workspace(cases))
    assert set(whole.column("rule").to_pylist()) == set(RULE_IDS)
    midnight = [f for f in whole.to_pylist() if f["user"] in ("alice", "zoe") and f["rule"] == "repeated-blocked"]
    assert {str(f["date"]) for f in midnight} == {"2026-11-17", "2026-11-18"}  # episodes across the margins
    for k in (3, 8):
        ws = _copy(cases, tmp_path / f"ws{k}")
        assert _redetect(ws, k).equals(whole), k


def test_bucket_is_per_person_and_spreads_people(demo_day) -> None:
    ws = Workspace(demo_day.workspace)
    day = ws.event_dates()[0]
    src = dayread.source(ws, day, engine.MARGIN)
    events = dayread.load(src)
    enricher = Enricher.from_workspace(ws)
    bucket = buckets.person_buckets(events, enricher.ip_map, 4)
    who = engine.Context(enricher(events, search=False), ws.config).who
    pairs = {(w, b) for w, b in zip(who.to_pylist(), bucket.tolist(), strict=True)}
    people = {w for w, _ in pairs}
    assert len(pairs) == len(people)  # one bucket per person, whatever batch the rows came in
    assert set(np.unique(bucket)) == {0, 1, 2, 3}
    # the identity map decides for rows the proxy logged no user for: they hash with the lease holder's name
    logged, address = events.column("user").to_pylist(), events.column("client_ip").to_pylist()
    mapped = [w for w, u, a in zip(who.to_pylist(), logged, address, strict=True) if u is None and w != a]
    assert mapped


def test_names_hash_per_value_whatever_the_encoding_and_null_rows_have_no_bucket() -> None:
    names = ["ann", None, "bob", "ann", "", "cy", None, "bob"]
    k = 5
    per_name = {
        n: int(pd.util.hash_array(np.array([n], dtype=object), categorize=False)[0] % k) for n in set(names) - {None}
    }
    expected = np.array([k if n is None else per_name[n] for n in names])
    plain = pa.array(names, pa.string())
    coded = plain.dictionary_encode()
    # a null row's index slot may hold any value, in range or not: its bucket comes from the validity bitmap
    wild = pa.DictionaryArray.from_buffers(
        coded.type, len(coded), [coded.buffers()[0], pa.py_buffer(np.where(coded.is_valid(), coded.indices.fill_null(0),
        10_000).astype(np.int32))], dictionary=coded.dictionary)  # fmt: skip
    for column in (plain, coded, wild, pa.chunked_array([coded.slice(0, 3), wild.slice(3)]), plain.slice(2)):
        got = buckets._hashed(column, k)
        assert got.dtype == np.uint8
        assert got.tolist() == expected[len(names) - len(column) :].tolist()
    assert buckets._hashed(pa.nulls(3, pa.string()), k).tolist() == [k] * 3
    assert buckets._hashed(pa.chunked_array([], pa.string()), k).tolist() == []


def test_detect_keeps_referers_of_blocked_requests_only_and_finds_the_same(tmp_path: Path) -> None:
    """``repeated-blocked`` is the one reader of referers, on blocked rows: judged with every referer, the same."""
    day = _gambler(Day("2026-11-18"), user="alice")
    for i, path in enumerate(("/algebra/index.html", "/geometry/circle.html", "/numbers/fractions.html")):
        page = f"https://www.mathsisfun.com{path}"  # adverts blocked inside pages erin reads: not her attempts
        day.get(f"11:{i * 4:02d}:00", page, 30_000, user="erin", ref="https://www.google.com/search?q=maths")
        day.deny(f"11:{i * 4:02d}:01", "https://securepubads.g.doubleclick.net/tag/js/gpt.js", user="erin", ref=page)
        day.deny(f"11:{i * 4:02d}:02", "http://www.bet365.com/promo.js", user="erin", ref=page)
    ws = day.workspace(tmp_path)
    src = dayread.source(ws, ws.event_dates()[0], engine.MARGIN)
    events = dayread.load(src)
    stored = read_parts(list(dayread.files(src)), dayread.TARGET)
    blocked = np.asarray(events.column("action").to_pylist()) == "blocked"
    kept, every = events.column("referer").to_pylist(), stored.column("referer").to_pylist()
    assert [r for r, b in zip(kept, blocked, strict=True) if b] == [r for r, b in zip(every, blocked, strict=True) if b]
    assert all(r is None for r, b in zip(kept, blocked, strict=True) if not b)
    assert any(r for r, b in zip(every, blocked, strict=True) if not b)  # there were others to drop

    enricher = Enricher.from_workspace(ws)
    rules = engine.select_rules(ws.config)

    def judged(events: pa.Table) -> pa.Table:
        return engine.canonical(engine.judge(events, src.day, enricher, rules, {}))

    found = judged(events)
    assert found.equals(judged(stored))
    assert {r["user"] for r in found.to_pylist() if r["rule"] == "repeated-blocked"} == {"alice"}
    referer = stored.schema.get_field_index("referer")
    blank = [pa.nulls(len(chunk), chunk.type) for chunk in stored.column("referer").chunks]
    without = stored.set_column(referer, stored.schema.field(referer), pa.chunked_array(blank))
    assert not found.equals(judged(without))  # the referers of erin's blocked adverts decide her case


def test_referers_of_blocked_requests_keep_their_nulls_and_offsets() -> None:
    action = pa.array(["allowed", "blocked", "blocked", "blocked", "allowed"]).dictionary_encode()
    referer = pa.array(["http://a/", "http://b/", None, "http://b/", "http://c/"]).dictionary_encode()
    kept = dayread.referers_if_blocked(action, referer)
    assert kept.to_pylist() == [None, "http://b/", None, "http://b/", None]
    assert kept.dictionary.to_pylist() == ["http://b/"]
    sliced = dayread.referers_if_blocked(action.slice(2), referer.slice(2))
    assert sliced.to_pylist() == [None, "http://b/", None]


@pytest.fixture(scope="module")
def many_files(demo_day, tmp_path_factory) -> Workspace:
    """The demo day ingested in 1 MB blocks: a dozen events files, so a spill can be cut into parts."""
    ws = Workspace(tmp_path_factory.mktemp("many-files") / "ws")
    ws.create()
    config = (demo_day.workspace / "filterlog.toml").read_text(encoding="utf-8")
    assert "block_mb = 16" in config
    config = config.replace("block_mb = 16", "block_mb = 1", 1).replace("file_rows = 200000", "file_rows = 1", 1)
    ws.config_path.write_text(config, encoding="utf-8")
    ingest(ws, [demo_day.day.log])
    return ws


@pytest.mark.parametrize(
    ("parts", "piece_rows", "threads"), [(1, None, 2), (2, None, 2), (3, None, 2), (1, 1, 2), (2, 1, 2), (2, None, 1)]
)
def test_spilled_buckets_hold_each_row_once_in_order(
    many_files: Workspace, tmp_path: Path, monkeypatch, parts: int, piece_rows: int | None, threads: int
) -> None:
    """Spilled whole, or in consecutive parts side by side (as Dask workers do), a bucket reads back the same.

    Also with one thread per part, as the workers of a local cluster spill.

    By default a bucket's rows of each part are gathered into one piece: one file and one chunk per part.
    ``piece_rows`` 1: every events file's rows are written as they are cut, a file per events file and bucket
    (a dozen, read in order).
    """
    if piece_rows is not None:
        monkeypatch.setattr(buckets, "PIECE_ROWS", piece_rows)
    ws = many_files
    src = dayread.source(ws, ws.event_dates()[0], engine.MARGIN)
    ip_map = Enricher.from_workspace(ws).ip_map
    folder = tmp_path / "spill"
    folder.mkdir()
    assert len(src.own) > 3 and ip_map is not None
    assert buckets.spill_parts(src, parts) == parts
    per_part = [buckets.spill(src, 3, str(folder), ip_map, part, parts, threads) for part in reversed(range(parts))]
    rows = [sum(counts) for counts in zip(*per_part, strict=True)]
    whole = dayread.load(src)
    assert sum(rows) == whole.num_rows
    expected = buckets.person_buckets(whole, ip_map, 3)
    for b in range(3):
        got = buckets.read_bucket(str(folder), b)
        assert got.num_rows == rows[b]
        assert got.column("source_line").to_pylist() == whole.column("source_line").filter(expected == b).to_pylist()
        assert _decoded(got).equals(_decoded(whole.filter(pa.array(expected == b))))  # pieces joined, values kept
    spilled = list(folder.iterdir())
    for path in spilled:
        assert path.stat().st_mode & 0o077 == 0
    if piece_rows == 1:
        assert len(spilled) > 3 * len(src.own) // 2  # a file per events file and bucket that got rows
    else:
        assert len(spilled) == 3 * parts
        assert {buckets.read_bucket(str(folder), b).column("time").num_chunks for b in range(3)} == {parts}


def test_a_piece_is_appended_to_the_file_made_for_it_never_truncated(tmp_path: Path, monkeypatch) -> None:
    # opened again with truncation, ext4 would write the scratch file to disk when it is closed
    sinks = []
    new_stream = buckets.ipc.new_stream

    def recording(sink, schema):
        sinks.append(sink)
        return new_stream(sink, schema)

    monkeypatch.setattr(buckets.ipc, "new_stream", recording)
    rows = pa.table({"time": pa.array([1, 2], pa.timestamp("ms", tz="UTC"))}).to_batches()
    path = tmp_path / "bucket-0000-000-00000.arrows"
    buckets._write_piece(str(path), rows)
    assert len(sinks) == 1 and sinks[0].mode == "ab" and sinks[0].closed
    assert path.stat().st_mode & 0o777 == 0o600
    assert buckets.read_bucket(str(tmp_path), 0).column("time").to_pylist() == rows[0].column("time").to_pylist()
    with pytest.raises(FileExistsError):  # never over another file
        buckets._write_piece(str(path), rows)


def test_a_judged_bucket_is_removed_and_the_others_still_read(many_files: Workspace, tmp_path: Path) -> None:
    ws = many_files
    src = dayread.source(ws, ws.event_dates()[0], engine.MARGIN)
    rows = buckets.spill(src, 3, str(tmp_path), Enricher.from_workspace(ws).ip_map)
    mapped = buckets.read_bucket(str(tmp_path), 1)
    buckets.remove_bucket(str(tmp_path), 1)
    assert not list(tmp_path.glob("bucket-0001-*")) and list(tmp_path.glob("bucket-0000-*"))
    assert mapped.num_rows == rows[1] and mapped.column("source_line").to_pylist()  # still mapped after the unlink
    assert buckets.read_bucket(str(tmp_path), 0).num_rows == rows[0]
    assert buckets.read_bucket(str(tmp_path), 1).num_rows == 0


def test_columns_null_in_every_row_are_not_spilled_and_read_back_as_nulls(
    many_files: Workspace, tmp_path: Path
) -> None:
    """A piece leaves out what no batch of it has values in, fills what only some have, and reads back whole."""
    src = dayread.source(many_files, many_files.event_dates()[0], engine.MARGIN)
    day = dayread.load(src).combine_chunks()
    assert day.column("device").null_count == day.num_rows  # Squid logs name no device
    named = pa.array([f"pc-{i % 7}" for i in range(20)])
    with_device = day.slice(0, 20).set_column(day.schema.get_field_index("device"), "device", named)
    batches = [b for t in (with_device, day.slice(20, 30)) for b in t.to_batches()]
    cut = [rows for batch in batches for _, rows in buckets._split(batch, None, 1)]
    assert "device" in cut[0].schema.names and "device" not in cut[1].schema.names
    assert "bytes_out" not in cut[0].schema.names  # null here too
    buckets._write_piece(f"{tmp_path}/bucket-0000-000-00000.arrows", cut)  # device in one batch: filled
    buckets._write_piece(f"{tmp_path}/bucket-0000-000-00001.arrows", [cut[1]])  # in none: left out
    full = day.slice(50, 5)  # a value in every column: written and read back as it is, beside the others
    for at, field in enumerate(full.schema):
        if full.column(at).null_count == full.num_rows:
            value = 10 if pa.types.is_integer(field.type) else "pc-9"
            full = full.set_column(at, field, pa.array([value] * full.num_rows).cast(field.type))
    (whole,) = [rows for batch in full.to_batches() for _, rows in buckets._split(batch, None, 1)]
    assert whole.num_columns == len(dayread.TARGET)
    buckets._write_piece(f"{tmp_path}/bucket-0000-000-00002.arrows", [whole])
    got = buckets.read_bucket(str(tmp_path), 0)
    assert got.schema == dayread.TARGET
    assert got.column("device").to_pylist() == named.to_pylist() + [None] * 60 + ["pc-9"] * 5
    assert got.column("bytes_out").null_count == 80
    expected = pa.concat_tables([with_device, day.slice(20, 30), day.slice(20, 30), full])
    assert _decoded(got).equals(_decoded(expected))


def test_pieces_shrink_where_many_buckets_would_hold_too_many_rows() -> None:
    assert buckets.piece_rows(4) == buckets.PIECE_ROWS
    assert buckets.piece_rows(64) * 64 <= buckets.HELD_ROWS
    assert buckets.piece_rows(10**9) == 1


def test_scratch_folder_is_private_and_removed_on_error(demo_day, tmp_path: Path, monkeypatch) -> None:
    ws = _copy(demo_day.workspace, tmp_path / "ws")
    seen = []

    def boom(folder, bucket, *args):
        seen.append(Path(folder).parent.stat().st_mode & 0o777)
        raise RuntimeError("rule failed")

    monkeypatch.setattr(engine, "judge_bucket", boom)
    with pytest.raises(RuntimeError, match="rule failed"), ws.lock():
        detect(ws, buckets=2)
    assert seen == [0o700]
    assert not list(ws.root.glob(".detect-*"))


def test_buckets_left_by_a_killed_detect_are_removed_by_the_next_run(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create()
    left = ws.root / ".detect-k1ll3d" / "2026-11-18"
    left.mkdir(parents=True)
    (left / "bucket-0000-000.arrows").write_bytes(b"personal data")
    with ws.lock():
        assert not list(ws.root.glob(".detect-*"))
    ws.close()


@pytest.mark.parametrize(("memory_gb", "spilled"), [(0.002, True), (64, False)])
def test_the_memory_budget_decides_whether_a_day_is_judged_whole(
    demo_day, tmp_path: Path, memory_gb: float, spilled: bool
) -> None:
    """``[detect] memory_gb``: 0.002 GB judges the demo day (40,000 events) in 16 buckets, 64 GB whole.

    The findings are the same either way.
    """
    whole = _all(Workspace(demo_day.workspace))
    ws = _copy(demo_day.workspace, tmp_path / "ws")
    config = ws.config_path.read_text(encoding="utf-8")
    assert "memory_gb = 2 " in config
    ws.config_path.write_text(config.replace("memory_gb = 2 ", f"memory_gb = {memory_gb} ", 1), encoding="utf-8")
    assert ws.config.detect.memory_gb == memory_gb
    with ws.lock():
        report = detect(ws)
    assert ("spill" in report.seconds) is spilled
    assert _all(ws).equals(whole)


@pytest.mark.parametrize("value", ["2", 0, -1, True])
def test_the_memory_budget_must_be_a_positive_number(value: object) -> None:
    from filterlog.config import Config
    from filterlog.errors import ConfigError

    with pytest.raises(ConfigError, match="memory_gb"):
        Config.from_dict({"detect": {"memory_gb": value}})
    assert Config.from_dict({"detect": {"memory_gb": 8}}).detect.memory_gb == 8


def test_bucket_count_follows_the_days_size(monkeypatch) -> None:
    assert buckets.buckets_for(0) == 1
    assert buckets.buckets_for(buckets.BUCKET_ROWS) == 1
    assert buckets.buckets_for(buckets.BUCKET_ROWS + 1) == 2
    assert buckets.buckets_for(50_000_000, 4_000_000) == 13
    assert buckets.buckets_for(50_000_000) == 20
    assert buckets.bucket_rows(2) == buckets.BUCKET_ROWS
    assert buckets.buckets_for(10_000_000, buckets.bucket_rows(8)) == 1  # a 10M-event day judged whole
    monkeypatch.setattr(buckets, "BUCKET_ROWS", 10)
    assert buckets.buckets_for(25) == 3
