"""Category lists: shipped files and manifest, suffix matching, normalisation, imports, the CLI."""

from __future__ import annotations

import gzip
import json
import re
import tarfile
import tomllib
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from filterlog.cli_categories import categories
from filterlog.enrich import categories as cat
from filterlog.enrich.categories import Categories, CategoryError
from filterlog.enrich.lists import import_lists
from filterlog.errors import FilterlogError
from filterlog.workspace import Workspace

SHIPPED = Path(__file__).resolve().parents[1] / "categories"
UT1 = Path(__file__).resolve().parents[2] / "shared" / "categories-ut1"
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


# imports ------------------------------------------------------------------------------------------------

UT1_TREE = {
    "vpn": "# comment\nNordVPN.com\nnordvpn.com\n\nexample-vpn.net.\n*.wild-vpn.org\nnot a domain\n",
    "agressif": "stormfront.org\nviolent.example\n",
    "redirector": "torproject.org\nproxy.example\n",
    "liste_bu": "library.example\n",
    "games": "games.example\nwww.kahoot.it\n",
    "sports": "scores.example\n",
}


def make_ut1(root: Path) -> Path:
    for name, text in UT1_TREE.items():
        (root / name).mkdir(parents=True)
        (root / name / "domains").write_text(text, encoding="utf-8")
        (root / name / "usage").write_text("black\n", encoding="utf-8")
    (root / "adult").mkdir()
    (root / "adult" / "urls").write_text("example.com/adult\n", encoding="utf-8")
    (root / "global_usage").write_text("NAME: vpn\n", encoding="utf-8")
    return root


UT1_EXPECTED = {"hacking": None, "vpn": 3, "violence": 2, "proxy": 2, "liste_bu": 1, "games": 2, "sports_news": 1}


def check_ut1_import(ws: Workspace, result: cat.ImportResult) -> None:
    assert (result.name, result.format) == ("ut1", "ut1")
    assert result.lists == {k: v for k, v in sorted(UT1_EXPECTED.items()) if v}
    assert result.dropped == 1
    stored = ws.root / "categories" / "ut1"
    assert (stored / "vpn.txt").read_text().split() == ["example-vpn.net", "nordvpn.com", "wild-vpn.org"]
    meta = json.loads((ws.root / "categories" / "manifest.json").read_text())["ut1"]
    assert "CC BY-SA 4.0" in meta["licence"] and "Toulouse" in meta["licence"]
    assert meta["lists"] == result.lists
    store = Categories.load(ws)
    assert store.lookup("www.nordvpn.com") == ("vpn", "shipped list vpn.txt")  # same entry: shipped wins
    assert store.lookup("a.example-vpn.net") == ("vpn", "imported list ut1/vpn.txt")
    assert store.lookup("violent.example") == ("violence", "imported list ut1/violence.txt")
    assert store.lookup("www.torproject.org") == ("tor", "shipped list tor.txt")
    assert store.lookup("www.kahoot.it") == ("games", "imported list ut1/games.txt")  # longer entry wins
    assert store.lookup("kahoot.it") == ("allow", "shipped list allow.txt")
    assert store.lookup("library.example") == ("liste_bu", "imported list ut1/liste_bu.txt")
    listed = {(i.category, i.source): i for i in store.lists()}
    assert listed[("proxy", "imported list ut1/proxy.txt")].entries == 2


def test_import_ut1_directory(tmp_path: Path, ws: Workspace) -> None:
    check_ut1_import(ws, import_lists(make_ut1(tmp_path / "blacklists"), ws))


def test_import_ut1_tarball(tmp_path: Path, ws: Workspace) -> None:
    tree = make_ut1(tmp_path / "src" / "blacklists")
    tarball = tmp_path / "blacklists.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(tree, arcname="blacklists")
    check_ut1_import(ws, import_lists(tarball, ws))


def test_import_again_replaces_and_a_lost_index_is_rebuilt(tmp_path: Path, ws: Workspace) -> None:
    import_lists(make_ut1(tmp_path / "one"), ws)
    (tmp_path / "two" / "vpn").mkdir(parents=True)
    (tmp_path / "two" / "vpn" / "domains").write_text("other-vpn.example\n")
    import_lists(tmp_path / "two", ws)
    store = Categories.load(ws)
    assert store.lookup("example-vpn.net") is None
    assert store.lookup("other-vpn.example") == ("vpn", "imported list ut1/vpn.txt")
    (ws.root / "categories" / "ut1" / "index.npz").unlink()
    assert Categories.load(ws).lookup("x.other-vpn.example") == ("vpn", "imported list ut1/vpn.txt")


def test_import_hosts_file(tmp_path: Path, ws: Workspace) -> None:
    hosts = tmp_path / "stevenblack-gambling"
    hosts.write_text(
        "# hosts\n127.0.0.1 localhost\n0.0.0.0 0.0.0.0\n0.0.0.0 casino.example # ads\n"
        "0.0.0.0\tpoker.example\n:: ipv6.example\n\n0.0.0.0 bad_host!\n",
        encoding="utf-8",
    )
    result = import_lists(hosts, ws, category="gambling")
    assert (result.name, result.format, result.lists) == ("stevenblack-gambling", "hosts", {"gambling": 3})
    assert result.dropped == 3
    got = Categories.load(ws).lookup("www.poker.example")
    assert got == ("gambling", "imported list stevenblack-gambling/gambling.txt")


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_import_plain_list_named_by_file(tmp_path: Path, ws: Workspace, gz: bool) -> None:
    text = "# my list\nchess.example\nWWW.Puzzles.Example.\n"
    path = tmp_path / ("brainteasers.txt.gz" if gz else "brainteasers.txt")
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    result = import_lists(path, ws)
    assert (result.name, result.format, result.lists, result.dropped) == (
        "brainteasers", "plain", {"brainteasers": 2}, 0
    )  # fmt: skip
    store = Categories.load(ws)
    assert store.lookup("a.www.puzzles.example") == ("brainteasers", "imported list brainteasers/brainteasers.txt")


def test_imported_allow_list_overrides_a_shipped_category(tmp_path: Path, ws: Workspace) -> None:
    path = tmp_path / "ours.txt"
    path.write_text("youtube.com\n")
    import_lists(path, ws, category="allow")
    assert Categories.load(ws).lookup("www.youtube.com") == ("allow", "imported list ours/allow.txt")
    assert Categories.load().lookup("www.youtube.com") == ("streaming", "shipped list streaming.txt")


BAD_INPUTS = [
    ("missing", None, "cannot read"),
    ("binary", b"\x00\x01\x02PK\x03", "not a domain list"),
    ("empty.txt", b"# nothing\n\n", "no domain names"),
    ("emptydir", "dir", "not a UT1 list tree"),
    ("broken.tar.gz", b"\x1f\x8b\x08\x00garbage", "cannot read"),
]


@pytest.mark.parametrize(("name", "content", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_import_errors_are_one_line(tmp_path: Path, ws: Workspace, name: str, content: object, message: str) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(CategoryError) as err:
        import_lists(path, ws)
    assert isinstance(err.value, FilterlogError)
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_import_rejects_bad_category_names(tmp_path: Path, ws: Workspace) -> None:
    path = tmp_path / "list.txt"
    path.write_text("a.example\n")
    with pytest.raises(CategoryError, match="bad category name"):
        import_lists(path, ws, category="../etc")
    with pytest.raises(CategoryError, match="drop --category"):
        import_lists(make_ut1(tmp_path / "ut1"), ws, category="vpn")


def test_hash_probe_is_stable() -> None:
    assert cat.hash_entries(["probe.filterlog.invalid"]).dtype == np.uint64
    assert cat.PROBE_HASH == int(cat.hash_entries(np.array(["probe.filterlog.invalid"], dtype=object))[0])


# the real UT1 snapshot (outside the repository) -------------------------------------------------------


def test_import_real_ut1_snapshot(ws: Workspace) -> None:
    if not (UT1 / "vpn" / "domains").is_file():
        pytest.skip(f"{UT1} is not present (the UT1 snapshot lives outside the repository)")
    result = import_lists(UT1, ws)
    assert result.lists["proxy"] > 100_000 and result.lists["vpn"] > 1_000 and result.lists["doh"] > 50
    assert {"violence", "streaming", "social", "ads", "drugs", "filesharing", "warez"} <= set(result.lists)
    store = Categories.load(ws)
    for host, expected in [
        ("stormfront.org", "extremism"),  # shipped beats UT1 agressif for the same entry
        ("www.netflix.com", "streaming"),
        ("croxyproxy.com", "proxy"),
        ("zzz.01usevpn.website", "vpn"),
        ("teams.microsoft.com", "allow"),  # UT1 calls it chat
    ]:
        got = store.lookup(host)
        assert got and got[0] == expected, (host, got)
    assert store.lookup("01usevpn.website") == ("vpn", "imported list ut1/vpn.txt")


# the command line ------------------------------------------------------------------------------------


Run = Callable[..., tuple[int, str]]


@pytest.fixture
def run(ws_path: Path) -> Run:
    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = Workspace(ws_path)

    root.add_command(categories)

    def invoke(*args: str | Path) -> tuple[int, str]:
        result = CliRunner().invoke(root, ["categories", *map(str, args)])
        assert "Traceback" not in result.output
        return result.exit_code, result.output

    return invoke


def test_cli_lookup_acceptance(run: Run) -> None:
    assert run("lookup", "www.nordvpn.com") == (0, "www.nordvpn.com: vpn (shipped list vpn.txt)\n")
    assert run("lookup", "example.org") == (0, "example.org: no category\n")


def test_cli_import_then_list_and_lookup(run: Run, tmp_path: Path) -> None:
    code, out = run("import", make_ut1(tmp_path / "blacklists"))
    assert code == 0
    assert out.strip().endswith("ut1, 11 entries in 6 categories stored as 'ut1' (1 lines were not domain names)")
    code, out = run("list")
    assert code == 0
    rows = out.splitlines()
    assert any(re.match(r"^vpn\s+\d+\s+shipped list vpn\.txt\s+Apache-2\.0", r) for r in rows), out
    assert any(re.match(r"^violence\s+2\s+imported list ut1/violence\.txt\s+CC BY-SA 4\.0", r) for r in rows), out
    assert run("lookup", "x.violent.example") == (0, "x.violent.example: violence (imported list ut1/violence.txt)\n")


def test_cli_import_error_is_one_line_exit_1(run: Run, tmp_path: Path) -> None:
    code, out = run("import", tmp_path / "nope.txt")
    assert code == 1
    assert out.count("\n") == 1 and out.startswith("Error: ") and "nope.txt" in out


def test_wired_into_filterlog_cli() -> None:
    from filterlog.cli import cli

    if "categories" not in cli.commands:
        pytest.skip("filterlog.cli does not mount the categories group yet")
    result = CliRunner().invoke(cli, ["categories", "lookup", "www.nordvpn.com"])
    assert result.output == "www.nordvpn.com: vpn (shipped list vpn.txt)\n"


@pytest.mark.parametrize("killed_after", ["old moved aside", "new moved in"])
def test_recovery_finishes_an_import_killed_between_its_renames(
    tmp_path: Path, ws: Workspace, killed_after: str
) -> None:
    import_lists(make_ut1(tmp_path / "one"), ws)
    root = ws.root / "categories"
    (root / "ut1").rename(root / ".old-ut1-0123abcd")
    staged = root / ".tmp-ut1-89abcdef"
    staged.mkdir()
    (staged / "vpn.txt").write_text("half.example\n")
    if killed_after == "new moved in":
        staged.rename(root / "ut1")
    with ws.lock():
        pass
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []
    if killed_after == "old moved aside":  # the old set is back in place, and works
        assert Categories.load(ws).lookup("example-vpn.net") == ("vpn", "imported list ut1/vpn.txt")
    else:  # the new set was whole when it moved in: it stays, the old one goes
        assert (root / "ut1" / "vpn.txt").read_text() == "half.example\n"
