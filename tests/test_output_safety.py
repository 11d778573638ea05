"""Output safety: one workspace full of hostile log data, every output filterlog makes, nothing leaks or runs.

The workspace's user names, URLs, search terms, user agents, referers and
group names carry HTML and script injections, spreadsheet formulas, a
terminal escape, a bidi override and path pieces. Every report, export and
terminal table is produced from it once; the tests then check that HTML
shows those strings only escaped, that no CSV cell can start a formula, that
terminal output carries no control characters, that every file and folder is
owner-only, and that audit packs for path-like user names stay inside --out.
"""

from __future__ import annotations

import csv
import io
import re
import stat
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from rulecase import Day

from filterlog import findings as store
from filterlog.cli import cli
from filterlog.output import FORMULA_START

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img/src=x/onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil")'
PATHS = ["../../etc/passwd", "..", "/abs/path"]
FLAGGED = [SCRIPT, FORMULA, "+1+2", "-2+3", "\x1b[31mred", "\u202eevil"]
"""Hostile user names that get findings (Squid fields hold no spaces and cannot start with a tab: groups do that)."""
USERS = [*FLAGGED, *PATHS]
"""Everyone in the log; the path-like names only browse (their audit packs are what matters)."""
GROUPS = ["g" + IMG, "\tyear9", "=cmd|' /C calc'!A0", "@g", "\x1b[2Jgrp", "\u202eyear7", "../../g", "-g", "+g"]
"""One group per user (a groups CSV field cannot start with a quote, so the IMG one has a letter first)."""
SEARCHES = ["<script>how+to+kill+myself", "=HYPERLINK(%22x%22)+how+to+kill+myself", "%0D-2+3+how+to+kill+myself"]
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What a terminal line must not hold: escapes and other C0/C1 controls, bidi marks and overrides (newline passes)."""


def _hostile_day() -> Day:
    day = Day(groups=dict(zip(USERS, GROUPS, strict=True)))
    ua = f"Mozilla/5.0 {SCRIPT} {IMG} \x1b[31m"
    for n, user in enumerate(USERS, start=1):
        ip = f"10.0.1.{n}"
        day.get("08:50:00", f"https://www.bbc.co.uk/{SCRIPT}", 20_000, user=user, ip=ip, ua=ua, ref=FORMULA)
        if user in PATHS:
            continue
        for at in ("09:12:04", "09:17:40", "09:24:13"):  # repeated-blocked: three attempts
            day.deny(at, f"http://www.bet365.com/{SCRIPT}", user=user, ip=ip, ua=ua, ref=FORMULA)
        # inappropriate-content: a page view on an adult site
        day.get("10:00:00", f"https://www.pornhub.com/{SCRIPT}", 188_420, user=user, ip=ip, ua=ua)
        day.get("10:00:41", "https://www.pornhub.com/view?k=<img/src=x/onerror=alert(1)>", 244_380, user=user, ip=ip)
        for k, q in enumerate(SEARCHES):  # concerning-search, the term itself hostile
            day.get(f"11:0{k}:00", f"https://www.google.com/search?q={q}", 20_000, user=user, ip=ip, ref=IMG)
    return day


def _invoke(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--workspace", str(ws), *args])
    assert result.exit_code == 0, (args, result.output)
    return result.output


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every output of the hostile workspace: terminal texts, CSV texts, HTML files, written files and folders."""
    root = tmp_path_factory.mktemp("hostile")
    ws = _hostile_day().workspace(root)
    found = store.read(ws).to_pylist()
    assert {r["rule"] for r in found} >= {"repeated-blocked", "inappropriate-content", "concerning-search"}
    assert {r["user"] for r in found} == {u.lower() for u in FLAGGED}
    target = next(r for r in found if r["user"] == SCRIPT and r["rule"] == "concerning-search")
    w, out = ws.root, root / "out"
    terminal: dict[str, str] = {}
    csvs: dict[str, str] = {}
    jsons: dict[str, str] = {}
    terminal["incidents record"] = _invoke(
        w, "incidents", "record", target["finding_id"], "--by", "=cmd|' /C calc'!A0", "--action", "advice",
        "--outcome", f"@SUM(1) {IMG}", "--notes", f"{SCRIPT}\n{FORMULA}\n-2+3",
    )  # fmt: skip
    for fmt in ("table", "csv", "json"):
        store_in = {"table": terminal, "csv": csvs, "json": jsons}[fmt]
        store_in[f"findings {fmt}"] = _invoke(w, "findings", "--format", fmt)
        store_in[f"summary {fmt}"] = _invoke(w, "summary", "--format", fmt)
        store_in[f"incidents {fmt}"] = _invoke(w, "incidents", "list", "--format", fmt)
        store_in[f"unreviewed {fmt}"] = _invoke(w, "incidents", "list", "--status", "unreviewed", "--format", fmt)
    terminal["incidents show"] = _invoke(w, "incidents", "show", target["finding_id"])
    terminal["summary parquet"] = _invoke(w, "summary", "--format", "parquet", "--out", str(out / "summary.parquet"))
    terminal["review"] = _invoke(w, "review", "--out", str(out / "review.html"))
    terminal["governors"] = _invoke(w, "governors", "--out", str(out / "governors.html"))
    packs = out / "packs"
    for user in USERS:
        terminal[f"audit {user!r}"] = _invoke(w, "audit", "--out", str(packs), "--", user)
    terminal["audit --log"] = _invoke(w, "audit", "--log")
    csvs["audit --log csv"] = _invoke(w, "audit", "--log", "--format", "csv")
    for path in sorted(packs.rglob("*.csv")):
        csvs[str(path.relative_to(out))] = path.read_text(encoding="utf-8")
    html = {p.name if p.parent == out else str(p.relative_to(out)): p.read_text(encoding="utf-8")
            for p in sorted(out.rglob("*.html"))}  # fmt: skip
    ws.close()
    return {"ws": w, "root": root, "out": out, "terminal": terminal, "csv": csvs, "json": jsons, "html": html}


class _Tags(HTMLParser):
    """Every tag and attribute as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def test_every_html_report_was_made(hostile: dict[str, Any]) -> None:
    names = set(hostile["html"])
    assert {"review.html", "governors.html"} <= names
    assert sum(n.endswith("audit.html") for n in names) == len(USERS)


def test_html_shows_log_borne_strings_only_escaped(hostile: dict[str, Any]) -> None:
    for name, text in hostile["html"].items():
        parser = _Tags()
        parser.feed(text)
        tags = {t for t, _ in parser.tags}
        assert "script" not in tags and "iframe" not in tags and "object" not in tags, name
        for tag, attrs in parser.tags:
            for attr, value in attrs:
                assert not attr.startswith("on"), (name, tag, attr, value)
                assert "javascript:" not in (value or "").lower(), (name, tag, attr)
            if tag == "img":
                assert dict(attrs).get("src", "").startswith("data:image/png;base64,"), (name, attrs)
        lowered = text.lower()
        assert "<script" not in lowered and "<img/src=x" not in lowered and IMG not in text, name
    # the hostile strings did reach the reports that show people and evidence, escaped
    review, pack = hostile["html"]["review.html"], next(t for n, t in hostile["html"].items() if "audit.html" in n)
    for text in (review, pack):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&lt;img/src=x/onerror=alert(1)&gt;" in text


def test_governors_html_holds_no_user_name_or_address(hostile: dict[str, Any]) -> None:
    text = hostile["html"]["governors.html"]
    for user in (*FLAGGED, "&lt;script&gt;alert(1)&lt;/script&gt;", "hyperlink", "evil"):
        assert user not in text.lower()
    assert "10.0.1." not in text


def test_no_csv_cell_can_start_a_formula(hostile: dict[str, Any]) -> None:
    starts: set[str] = set()
    for name, text in hostile["csv"].items():
        for row in csv.reader(io.StringIO(text, newline="")):
            for cell in row:
                assert not cell.startswith(FORMULA_START), (name, row)
                if cell.startswith("'"):
                    starts.add(cell[1:2])
    assert starts >= {"=", "+", "-", "@", "\t"}  # each kind was there, and was neutralised


def test_terminal_output_holds_no_escapes_or_bidi_controls(hostile: dict[str, Any]) -> None:
    for name, text in hostile["terminal"].items():
        assert not CONTROL.search(text), (name, [c for c in text if CONTROL.match(c)])
    assert "?[31mred" in hostile["terminal"]["findings table"]  # the escaped user is still shown


def test_json_keeps_values_as_logged_but_escapes_controls(hostile: dict[str, Any]) -> None:
    import json

    data = json.loads(hostile["json"]["findings json"])
    assert {r["user"] for r in data} >= {SCRIPT, FORMULA.lower(), "\x1b[31mred"}
    assert "\x1b" not in hostile["json"]["findings json"]  # JSON writes it as \\u001b
    for name, text in hostile["json"].items():  # bidi overrides and C1 controls as escapes too
        assert not CONTROL.search(text), (name, [c for c in text if CONTROL.match(c)])
    assert any("\u202e" in json.dumps(row, ensure_ascii=False) for row in data)  # decoded, the value is kept


def test_summary_parquet_holds_the_data_as_logged(hostile: dict[str, Any]) -> None:
    users = set(pq.read_table(hostile["out"] / "summary.parquet").column("user").to_pylist())
    assert SCRIPT in users and FORMULA.lower() in users


def _modes(root: Path) -> list[tuple[Path, int]]:
    return [(p, stat.S_IMODE(p.lstat().st_mode)) for p in [root, *root.rglob("*")] if not p.is_symlink()]


def test_every_file_is_0600_and_every_directory_0700(hostile: dict[str, Any]) -> None:
    for top in (hostile["ws"], hostile["out"]):
        checked = _modes(top)
        assert len(checked) > 10
        for path, mode in checked:
            want = 0o700 if path.is_dir() else 0o600
            assert mode == want, f"{path}: {oct(mode)}"


def test_audit_of_path_like_users_writes_inside_out_only(hostile: dict[str, Any], tmp_path: Path) -> None:
    ws, packs = hostile["ws"], hostile["out"] / "packs"
    assert {p.parent for p in packs.rglob("SHA256SUMS")} == set(packs.iterdir())  # one folder per pack, all in D
    for folder in packs.iterdir():
        assert folder.name[:1] not in "./" and ".." not in folder.name
    # and again, watching the whole neighbourhood
    out = tmp_path / "D"
    watch = [tmp_path.parent, tmp_path, hostile["root"], hostile["root"].parent]
    before = {p for w in watch for p in w.iterdir()}
    deep_before = set(tmp_path.rglob("*")) | set(hostile["root"].rglob("*"))
    for user in PATHS:
        output = _invoke(ws, "audit", "--out", str(out), "--", user)
        assert "events" in output
    after = {p for w in watch for p in w.iterdir()}
    deep_after = set(tmp_path.rglob("*")) | set(hostile["root"].rglob("*"))
    new = (after - before) | (deep_after - deep_before)
    new = {p for p in new if ws not in p.parents}  # the database's journal files
    assert new and all(p == out or out in p.parents for p in new), sorted(new)
    assert len(list(out.iterdir())) == len(PATHS)
    assert not Path("/abs/path").exists()
