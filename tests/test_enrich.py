"""Enrichment end to end on a demo school day: every column present, and right where it matters."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from filterlog.demo import run_demo
from filterlog.enrich import events as events_module
from filterlog.enrich.events import Enricher
from filterlog.schema import ENRICHED_SCHEMA, validate
from filterlog.workspace import Workspace


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("demo")
    result = run_demo(out, lines=20_000, reports=False)
    events, enricher = _stored(result)
    return result, enricher(events)


def test_schema_and_row_count(demo) -> None:
    result, enriched = demo
    validate(enriched, ENRICHED_SCHEMA)
    assert enriched.num_rows == 20_000


def test_every_event_has_a_person_and_a_group_from_the_identity_files(demo) -> None:
    _, enriched = demo
    rows = enriched.select(["user", "group", "ip_user"]).to_pylist()
    with_user = [r for r in rows if r["user"]]
    assert len(with_user) / len(rows) > 0.9  # 407 challenges have no user in the log but the map names them
    assert {r["group"] for r in with_user} >= {"staff", "year7"}


def test_working_hours_follow_the_site_day(demo) -> None:
    _, enriched = demo
    share = sum(enriched.column("in_working_hours").to_pylist()) / enriched.num_rows
    assert 0.3 < share < 0.95


def test_planted_searches_are_found(demo) -> None:
    result, enriched = demo
    key = json.loads(Path(result.day.planted).read_text())
    searchers = {p["user"] for p in key["rules"]["concerning-search"]["planted"]}
    found = {r["user"] for r in enriched.select(["user", "search_terms"]).to_pylist() if r["search_terms"]}
    assert searchers <= found


def test_domains(demo) -> None:
    _, enriched = demo
    pairs = set(zip(enriched.column("host").to_pylist(), enriched.column("domain").to_pylist(), strict=True))
    assert ("www.nordvpn.com", "nordvpn.com") in pairs or any(d == "nordvpn.com" for _, d in pairs)


def test_planted_sites_get_their_categories(demo) -> None:
    _, enriched = demo
    cats = dict(zip(enriched.column("domain").to_pylist(), enriched.column("category").to_pylist(), strict=True))
    assert cats.get("nordvpn.com") == "vpn"
    assert cats.get("torproject.org") == "tor"
    assert cats.get("bbc.co.uk") == "allow"


def _stored(result) -> tuple[pa.Table, Enricher]:
    """The demo's stored events (as one table) and its workspace's enricher."""
    ws = Workspace(result.workspace)
    events = ds.dataset(ws.events_dir, format="parquet", partitioning="hive").to_table().drop_columns(["date"])
    enricher = Enricher.from_workspace(ws)
    ws.close()
    return events, enricher


def test_parallel_enrichment_gives_the_same_table(demo) -> None:
    result, enriched = demo
    events, enricher = _stored(result)
    split = enricher.parallel(events, threads=3, min_rows=0)
    assert split.num_rows == enriched.num_rows
    for name in enriched.column_names:
        assert split.column(name).to_pylist() == enriched.column(name).to_pylist(), name


def test_parallel_enrichment_asks_once_per_host_column(demo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Domains and categories go through every distinct host in Python: once for all the pieces, not per piece."""
    result, enriched = demo
    events, enricher = _stored(result)
    asked: list[int] = []
    resolve, categorise = events_module.registered_domains, enricher.categories.categorise
    monkeypatch.setattr(events_module, "registered_domains", lambda hosts: asked.append(len(hosts)) or resolve(hosts))
    monkeypatch.setattr(enricher.categories, "categorise", lambda hosts: asked.append(len(hosts)) or categorise(hosts))
    split = enricher.parallel(events, threads=3, min_rows=0)
    assert asked == [events.num_rows, events.num_rows]
    assert split.column("category").to_pylist() == enriched.column("category").to_pylist()
