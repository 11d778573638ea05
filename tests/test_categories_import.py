"""Category lists: imports (UT1 trees, tarballs, hosts and plain lists), a killed import, the CLI."""

from __future__ import annotations

import gzip
import json
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from filterlog.cli_categories import categories
from filterlog.enrich import categories as cat
from filterlog.enrich.categories import Categories, CategoryError
from filterlog.enrich.lists import import_lists
from filterlog.errors import FilterlogError
from filterlog.workspace import Workspace

UT1 = Path(__file__).resolve().parents[2] / "shared" / "categories-ut1"


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
