"""Category lists: shipped files and manifest, lookups, suffix matching, normalisation."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pyarrow as pa
import pytest

from filterlog.enrich import categories as cat
from filterlog.enrich.categories import Categories

SHIPPED = Path(__file__).resolve().parents[1] / "categories"
VALID = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")


def entries(path: Path) -> list[str]:
    return [s for line in path.read_text(encoding="utf-8").splitlines() if (s := line.split("#", 1)[0].strip())]


# shipped lists --------------------------------------------------------------------------------------

MANIFEST = tomllib.loads((SHIPPED / "MANIFEST.toml").read_text(encoding="utf-8"))["lists"]
REQUIRED = (
    "vpn proxy tor doh tunnels adult gambling games social streaming sports_news shopping filesharing "
    "hacking webmail dating violence selfharm extremism ads allow"
).split()


def test_manifest_lists_every_file_and_only_those() -> None:
    assert sorted(item["file"] for item in MANIFEST.values()) == sorted(p.name for p in SHIPPED.glob("*.txt"))
    assert set(REQUIRED) <= set(MANIFEST)
    assert cat.shipped_dir() == SHIPPED


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_shipped_list_matches_its_manifest_entry(name: str) -> None:
    item = MANIFEST[name]
    path = SHIPPED / item["file"]
    assert path.stem == name
    assert all(item.get(k) for k in ("source", "licence", "date")), item
    found = entries(path)
    assert item["entries"] == len(found), f"{path.name}: manifest says {item['entries']}, file has {len(found)}"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# ") and "How chosen" in text.split("\n\n")[0][:1200], "header must say how"
    assert len(found) == len(set(found)), "duplicate entries"
    bad = [e for e in found if not VALID.match(e) or e != cat.normalise(e)]
    assert not bad, bad


def test_no_entry_is_in_two_shipped_lists() -> None:
    seen: dict[str, str] = {}
    for name, item in MANIFEST.items():
        for e in entries(SHIPPED / item["file"]):
            assert e not in seen, f"{e} in {seen.get(e)} and {name}"
            seen[e] = name


SHIPPED_CASES = [
    # the acceptance and the demo's planted hosts
    ("www.nordvpn.com", "vpn"),
    ("api.protonvpn.ch", "vpn"),
    ("www.croxyproxy.com", "proxy"),
    ("dist.torproject.org", "tor"),
    ("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion", "tor"),
    ("mozilla.cloudflare-dns.com", "doh"),
    ("dns.google", "doh"),
    ("1.1.1.1", "doh"),
    ("abc123.ngrok-free.app", "tunnels"),
    ("www.livescore.com", "sports_news"),
    ("prod-cdn-public-api.livescore.com", "sports_news"),
    ("www.pornhub.com", "adult"),
    ("ei.phncdn.com", "adult"),
    ("xvideos.com", "adult"),
    ("hashcat.net", "hacking"),
    ("nmap.org", "hacking"),
    ("cdimage.kali.org", "hacking"),
    ("www.bet365.com", "gambling"),
    ("www.coral.co.uk", "gambling"),
    ("rr3---sn-aigl6ned.googlevideo.com", "streaming"),
    ("video-weaver.lhr03.hls.ttvnw.net", "streaming"),
    ("gateway.discord.gg", "social"),
    ("sanctioned-suicide.net", "selfharm"),
    ("www.bestgore.com", "violence"),
    ("www.stormfront.org", "extremism"),
    ("securepubads.g.doubleclick.net", "ads"),
    ("bat.bing.com", "ads"),
    ("mediafilez.forgecdn.net", "games"),
    # school business is allowed, never non-business
    ("teams.microsoft.com", "allow"),
    ("presence.teams.microsoft.com", "allow"),
    ("statics.teams.cdn.office.net", "allow"),
    ("outlook.office365.com", "allow"),
    ("login.live.com", "allow"),
    ("classroom.google.com", "allow"),
    ("www.sparxmaths.uk", "allow"),
    ("app.senecalearning.com", "allow"),
    ("www.thenational.academy", "allow"),
    ("www.bbc.co.uk", "allow"),
    ("www.samaritans.org", "allow"),
    ("www.sussex.ac.uk", "allow"),
    # decoys: longer entries win, labels match whole
    ("outlook.live.com", "webmail"),
    ("www.bing.com", None),
    ("www.google.com", None),
    ("www.essexwildlife.org.uk", None),
    ("lessonhub.glitch.me", None),
    ("notpornhub.com", None),
    ("pornhub.com.example.org", None),
    ("", None),
]


@pytest.mark.parametrize(("host", "expected"), SHIPPED_CASES)
def test_shipped_lookup(host: str, expected: str | None) -> None:
    got = Categories.load().lookup(host)
    assert (got and got[0]) == expected
    if got:
        assert got[1] == f"shipped list {got[0]}.txt"


# matching rules on a small store of our own ------------------------------------------------------------


def make_shipped(root: Path, lists: dict[str, list[str]]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    toml = []
    for name, items in lists.items():
        (root / f"{name}.txt").write_text("# test list\n" + "\n".join(items) + "\n", encoding="utf-8")
        toml += [f"[lists.{name}]", f'file = "{name}.txt"', 'source = "test"', 'licence = "test"', 'date = "x"', ""]
    (root / "MANIFEST.toml").write_text("\n".join(toml), encoding="utf-8")
    return root


@pytest.fixture
def store(tmp_path: Path) -> Categories:
    lists = {
        "blogs": ["x.blogspot.com"],
        "games": ["google.com", "kahoot.it"],
        "allow": ["classroom.google.com", "kahoot.it", "ac.uk"],
        "shopping": ["Bücher.Example.", "IDN.XN--BCHER-KVA.EXAMPLE"],
        "tor": ["onion"],
        "doh": ["8.8.8.8", "2001:db8::1"],
    }
    return Categories.load(shipped=make_shipped(tmp_path / "shipped", lists))


MATCH_CASES = [
    ("x.blogspot.com", "blogs"),
    ("a.x.blogspot.com", "blogs"),
    ("y.blogspot.com", None),
    ("blogspot.com", None),
    ("xx.blogspot.com", None),
    ("www.google.com", "games"),
    ("classroom.google.com", "allow"),  # longest match wins
    ("edu.classroom.google.com", "allow"),
    ("kahoot.it", "allow"),  # same entry in two lists: allow wins
    ("www.sussex.ac.uk", "allow"),
    ("WWW.GOOGLE.COM.", "games"),  # case, trailing dot
    ("  google.com ", "games"),
    ("bücher.example", "shopping"),  # IDN entry stored as punycode
    ("www.BÜCHER.example.", "shopping"),
    ("shop.xn--bcher-kva.example", "shopping"),
    ("idn.bücher.example", "shopping"),
    ("abc.onion", "tor"),
    ("8.8.8.8", "doh"),
    ("[8.8.8.8]", "doh"),
    ("1.8.8.8.8", None),
    ("[2001:db8::1]", "doh"),
    ("2001:DB8::1", "doh"),
    ("onion.example", None),
]


@pytest.mark.parametrize(("host", "expected"), MATCH_CASES)
def test_matching_rules(store: Categories, host: str, expected: str | None) -> None:
    got = store.lookup(host)
    assert (got and got[0]) == expected


def test_categorise_a_column_matches_lookup_row_by_row(store: Categories) -> None:
    hosts = [h for h, _ in MATCH_CASES] + [None, "www.google.com", None]
    column = pa.chunked_array([pa.array(hosts[:7]), pa.array(hosts[7:], pa.string())])
    category, source = store.categorise(column)
    assert isinstance(category, pa.DictionaryArray) and isinstance(source, pa.DictionaryArray)
    assert len(category) == len(source) == len(hosts)
    expected = [None if h is None else (got[0] if (got := store.lookup(h)) else None) for h in hosts]
    assert category.to_pylist() == expected
    assert source.to_pylist()[5] == "shipped list games.txt"
    assert category.is_null().to_pylist() == source.is_null().to_pylist()
    encoded, _ = store.categorise(pa.array(hosts).dictionary_encode())
    assert encoded.to_pylist() == expected


def test_categorise_remembers_hosts_and_answers_the_same(store: Categories, monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = pa.array([h for h, _ in MATCH_CASES] + [None])
    first = store.categorise(hosts)[0].to_pylist()
    assert len(store._known) == len(set(hosts.to_pylist()) - {None})
    assert store.categorise(hosts)[0].to_pylist() == first  # every host from memory
    monkeypatch.setattr(cat, "KNOWN_HOSTS", 5)  # full: it starts again, answers unchanged
    assert store.categorise(pa.array(["www.google.com", "kahoot.it"]))[0].to_pylist() == ["games", "allow"]
    assert store.categorise(hosts)[0].to_pylist() == first


@pytest.mark.parametrize(
    "column",
    [pa.array([], pa.string()), pa.array([None, None], pa.string()), pa.chunked_array([], pa.string())],
    ids=["empty", "all-null", "no-chunks"],
)
def test_categorise_degenerate_columns(store: Categories, column: pa.Array) -> None:
    category, source = store.categorise(column)
    assert category.to_pylist() == source.to_pylist() == [None] * len(column)


def test_module_categorise_uses_the_shipped_lists() -> None:
    category, source = cat.categorise(pa.array(["www.nordvpn.com", "example.org"]))
    assert category.to_pylist() == ["vpn", None]
    assert source.to_pylist() == ["shipped list vpn.txt", None]
