"""Search terms: which URLs are searches, what was searched, and keystrokes collapsed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from filterlog.enrich.search import engines, search_terms
from filterlog.ingest import _url

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def _events(urls: list[str], users: list[str] | None = None, seconds: list[float] | None = None) -> pa.Table:
    n = len(urls)
    parts = _url.split(pa.array(urls), np.zeros(n, dtype=bool))
    times = [T0 + timedelta(seconds=s) for s in (seconds or range(n))]
    return pa.table(
        {
            "time": pa.array(times, pa.timestamp("ms", tz="UTC")),
            "user": pa.array(users or ["pupil"] * n),
            "client_ip": pa.array(["10.20.1.15"] * n),
            "host": parts["host"],
            "path": parts["path"],
            "query": parts["query"],
        }
    )


@pytest.mark.parametrize(
    ("url", "term"),
    [
        ("https://www.google.co.uk/search?q=how+to+revise+for+gcse&oq=how", "how to revise for gcse"),
        ("https://www.google.com/search?client=firefox&q=caf%C3%A9+near+me", "café near me"),
        ("https://www.bing.com/search?q=photosynthesis%20diagram&form=QBLH", "photosynthesis diagram"),
        ("https://www.youtube.com/results?search_query=minecraft+speedrun", "minecraft speedrun"),
        ("https://duckduckgo.com/?q=vpn+free&ia=web", "vpn free"),
        ("https://html.duckduckgo.com/html/?q=proxy+site", "proxy site"),
        ("https://uk.search.yahoo.com/search?p=weather+leeds&fr=yfp", "weather leeds"),
        ("https://www.ecosia.org/search?method=index&q=tree+planting", "tree planting"),
        # decoys: a q= that is not a search
        ("https://www.google.com/maps?q=london", None),
        ("https://www.example.com/search?q=kill+bill", None),
        ("https://www.bbc.co.uk/search?q=weather", None),
        ("https://www.google.com/search", None),
        ("https://www.google.com/search?q=", None),
    ],
)
def test_search_term_of_a_url(url: str, term: str | None) -> None:
    assert search_terms(_events([url])).to_pylist() == [term]


def test_type_ahead_keystrokes_collapse_to_the_final_term() -> None:
    base = "https://www.google.com/complete/search?client=gws-wiz&q="
    urls = [base + q for q in ("h", "ho", "how", "how+t", "how+to")] + ["https://www.google.com/search?q=how+to"]
    got = search_terms(_events(urls)).to_pylist()
    assert got == [None, None, None, None, "how to", "how to"]


def test_keystrokes_of_two_people_or_far_apart_stay_separate() -> None:
    base = "https://www.google.com/complete/search?q="
    urls = [base + "sel", base + "self", base + "sel", base + "self"]
    users = ["amy", "amy", "ben", "ben"]
    assert search_terms(_events(urls, users)).to_pylist() == [None, "self", None, "self"]
    apart = search_terms(_events([base + "sel", base + "self"], seconds=[0, 600])).to_pylist()
    assert apart == ["sel", "self"]


def test_empty_and_no_search_columns() -> None:
    assert search_terms(_events([])).to_pylist() == []
    assert search_terms(_events(["https://www.bbc.co.uk/bitesize"])).to_pylist() == [None]


def test_engines_name_the_search_engine_of_each_registered_domain() -> None:
    domains = pa.array(["google.co.uk", "bing.com", None, "", "google", "x.google.com", "duckduckgo.com",
                        "youtube.com", "ecosia.org", "yahoo.co.jp", "example.org", "googlex.com"])  # fmt: skip
    got = engines(pa.DictionaryArray.from_arrays(pa.array(range(len(domains)), pa.int32()), domains))
    assert got.to_pylist() == ["google", "bing", None, None, "google", None, "duckduckgo", "youtube", "ecosia",
                               "yahoo", None, None]  # fmt: skip
