"""The synthetic school day: exact size, determinism, Squid native format, answer key, local time."""

from __future__ import annotations

import csv
import functools
import json
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from filterlog.demo import MIN_USERS, DemoDay, generate_day, tail
from filterlog.enrich.categories import Categories
from filterlog.rules.model import RULE_IDS

LONDON = ZoneInfo("Europe/London")
RULES = set(RULE_IDS)
GROUPS = {"staff", "year7", "year8", "year9", "year10", "year11", "year12", "year13", "sixth-form"}
LESSONS = ((time(8, 30), time(10, 30)), (time(10, 50), time(12, 10)), (time(13, 0), time(15, 30)))
NON_BUSINESS = re.compile(
    r"youtube|googlevideo|ytimg|tiktok|instagram|snapchat|reddit|roblox|rbxcdn|poki|coolmathgames|amazon\.co\.uk|"
    r"ebay|spotify|skysports|theguardian|pinterest|twitch|livescore|discord|netflix"
)
# hosts only planted users may touch: the background must never look like misuse
MISUSE = re.compile(
    r"bet365|williamhill|paddypower|skybet|coral\.co\.uk|betvictor|888casino|nordvpn|protonvpn|croxyproxy|glitch\.me|"
    r"torproject|cloudflare-dns|dns\.google|pornhub|phncdn|xvideos|bestgore|stormfront|sanctioned-suicide|hashcat|"
    r"mimikatz|nmap|kali|darknet|vulnweb|forgecdn|dropboxusercontent|duckduckgo|twitch|livescore|discord"
)

# %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt "%{Referer}>h" "%{User-Agent}>h"
LINE = re.compile(
    r"(?P<sec>\d{10})\.(?P<ms>\d{3}) (?P<elapsed> {0,5}\d{1,6}|\d{7,}) (?P<ip>10\.20\.\d{1,3}\.\d{1,3}) "
    r"(?P<code>(?:TCP|NONE)[A-Z_]*)/(?P<status>\d{3}) (?P<bytes>\d+) "
    r"(?:CONNECT (?P<hostport>[a-z0-9.-]+:\d+)|(?P<method>GET|POST|PUT) (?P<url>https?://[a-z0-9.-]+(?:[/?]\S*)?)) "
    r"(?P<user>-|[a-z][a-z0-9.]*) (?P<hier>HIER_DIRECT/\d{1,3}(?:\.\d{1,3}){3}|HIER_NONE/-) "
    r"(?P<mime>-|[a-z]+/[a-z0-9.+-]+) \"(?P<ref>-|https?://[^\"\s]+)\" \"(?P<ua>[^\"]+)\"\n"
)


def _lines(day: DemoDay) -> list[dict[str, str]]:
    return _parse(day.log)


@functools.cache
def _parse(log: Path) -> list[dict[str, str]]:
    with log.open(newline="") as f:
        rows = []
        for number, line in enumerate(f, 1):
            m = LINE.fullmatch(line)
            assert m, f"line {number} is not Squid native: {line!r}"
            rows.append(m.groupdict())
    return rows


def _local(row: dict[str, str]) -> datetime:
    return datetime.fromtimestamp(int(row["sec"]) + int(row["ms"]) / 1000, LONDON)


def _in_lesson(t: datetime) -> bool:
    return any(a <= t.time() < b for a, b in LESSONS)


def _key(day: DemoDay) -> dict:
    return json.loads(day.planted.read_text())


def _named(day: DemoDay) -> list[dict]:
    return [e for rule in _key(day)["rules"].values() for role in ("planted", "decoys") for e in rule[role]]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> DemoDay:
    return generate_day(tmp_path_factory.mktemp("small"), lines=3_000)


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> DemoDay:
    return generate_day(tmp_path_factory.mktemp("medium"), lines=120_000, seed=11)


@pytest.fixture(scope="module")
def summer(tmp_path_factory: pytest.TempPathFactory) -> DemoDay:
    return generate_day(tmp_path_factory.mktemp("bst"), lines=6_000, day=date(2026, 6, 17), seed=5)


@pytest.mark.parametrize("fixture", ["small", "medium", "summer"])
def test_exact_line_count(fixture: str, request: pytest.FixtureRequest) -> None:
    day: DemoDay = request.getfixturevalue(fixture)
    data = day.log.read_bytes()
    assert data.count(b"\n") == day.lines and data.endswith(b"\n")
    assert b"\r" not in data
    assert day.lines == {"small": 3_000, "medium": 120_000, "summer": 6_000}[fixture]


def test_same_seed_same_bytes(small: DemoDay, tmp_path: Path) -> None:
    again = generate_day(tmp_path / "again", lines=3_000)
    for a, b in [(small.log, again.log), (small.ip_map, again.ip_map), (small.groups, again.groups),
                 (small.planted, again.planted)]:  # fmt: skip
        assert a.read_bytes() == b.read_bytes(), a.name
    other = generate_day(tmp_path / "other", lines=3_000, seed=8)
    assert other.log.read_bytes() != small.log.read_bytes()


def test_every_line_is_squid_native(small: DemoDay, summer: DemoDay) -> None:
    for day in (small, summer):
        rows = _lines(day)
        assert all(len(r["elapsed"]) >= 6 for r in rows)  # %6tr: right-aligned, width 6
        denied = [r for r in rows if r["code"] == "TCP_DENIED"]
        assert {r["status"] for r in denied} == {"403", "407"}
        assert all(r["hier"] == "HIER_NONE/-" for r in denied)
        assert all(r["user"] == "-" for r in denied if r["status"] == "407")


def test_sorted_and_within_the_local_day(medium: DemoDay, summer: DemoDay) -> None:
    for day in (medium, summer):
        stamps = [int(r["sec"]) * 1000 + int(r["ms"]) for r in _lines(day)]
        assert stamps == sorted(stamps)
        first = datetime.combine(day.day, time(), LONDON)
        assert first.timestamp() * 1000 <= stamps[0] and stamps[-1] < (first + timedelta(days=1)).timestamp() * 1000


def test_traffic_mix(medium: DemoDay) -> None:
    rows = _lines(medium)
    share = {k: sum(p(r) for r in rows) / len(rows) for k, p in {
        "connect": lambda r: r["hostport"] is not None,
        "auth": lambda r: r["status"] == "407",
        "blocked": lambda r: r["status"] == "403",
        "hit": lambda r: r["code"] in ("TCP_HIT", "TCP_MEM_HIT", "TCP_IMS_HIT"),
        "refresh": lambda r: r["code"].startswith("TCP_REFRESH"),
    }.items()}  # fmt: skip
    assert 0.15 <= share["connect"] <= 0.25
    assert 0.01 <= share["auth"] <= 0.05
    assert 0 < share["blocked"] < 0.02 and share["hit"] > 0.05 and share["refresh"] > 0.01
    hours = [_local(r).hour for r in rows]
    in_school = sum(8 <= h < 16 for h in hours) / len(hours)
    assert 0.8 < in_school < 0.98
    assert len({r["user"] for r in rows}) > 400
    assert any("Delivery-Optimization" in r["ua"] for r in rows)


def test_answer_key_covers_every_rule(small: DemoDay) -> None:
    key = _key(small)
    assert key["day"] == "2026-11-18" and key["timezone"] == "Europe/London"
    assert set(key["rules"]) == RULES
    for rule, entries in key["rules"].items():
        assert len(entries["planted"]) >= 1 and len(entries["decoys"]) >= 2, rule
    named = _named(small)
    assert len({e["user"] for e in named}) == len(named)  # one scenario per person
    rows = _lines(small)
    seen = {(r["user"], r["ip"]) for r in rows}
    for e in named:
        assert (e["user"], e["ip"]) in seen, e
        assert {"what", "start", "end", "group"} <= set(e)


def test_background_is_misuse_free(medium: DemoDay) -> None:
    named = {e["user"] for e in _named(medium)}
    named_ips = {e["ip"] for e in _named(medium)}
    for r in _lines(medium):
        if r["user"] in named or r["ip"] in named_ips:
            continue
        target = r["hostport"] or r["url"]
        assert not MISUSE.search(target), target
        assert not re.fullmatch(r"\d+(\.\d+){3}:\d+", target or ""), target  # no CONNECT to IP literals
        if _in_lesson(_local(r)):
            assert not NON_BUSINESS.search(target), (_local(r), target)
        assert int(r["bytes"]) < 200_000_000 or r["ua"].startswith(("Microsoft", "Windows-Update")), target


def _hosts(day: DemoDay) -> set[str]:
    return {r["hostport"].rsplit(":", 1)[0] if r["hostport"] else r["url"].split("/")[2] for r in _lines(day)}


def test_a_tail_of_small_sites_adds_hosts_and_nothing_else(small: DemoDay, tmp_path: Path) -> None:
    tailed = generate_day(tmp_path / "tail", lines=20_000, tail_sites=2_000)
    names = {tail.name(rank) for rank in range(2_000)}
    assert len(names) == 2_000
    visited = _hosts(tailed) & names
    assert len(visited) > 200 and not _hosts(small) & names
    category, _ = Categories.load().categorise(pa.array(sorted(visited)))
    assert category.null_count == len(visited)  # in no list: the tail changes no rule's verdict
    for made in ("planted", "ip_map", "groups"):  # the same people, the same misuse
        assert getattr(tailed, made).read_bytes() == getattr(small, made).read_bytes(), made


def test_working_hours_in_local_time_during_bst(summer: DemoDay) -> None:
    key = _key(summer)
    assert key["day"] == "2026-06-17"
    by_user: dict[str, list[datetime]] = {}
    for r in _lines(summer):
        if r["url"] and "googlevideo.com" in r["url"]:
            by_user.setdefault(r["user"], []).append(_local(r))
    bandwidth = key["rules"]["nonbusiness-bandwidth"]
    lunch, after = (next(e for e in bandwidth["decoys"] if word in e["what"]) for word in ("lunch", "after hours"))
    assert all(time(12, 10) <= t.time() < time(13, 0) for t in by_user[lunch["user"]])
    assert all(t.time() >= time(15, 30) for t in by_user[after["user"]])
    streamer = next(e for e in bandwidth["planted"] if "YouTube" in e["what"])
    assert all(_in_lesson(t) for t in by_user[streamer["user"]])
    start = datetime.fromisoformat(lunch["start"]).astimezone(LONDON)
    assert start.utcoffset() == timedelta(hours=1) and time(12, 10) <= start.time() < time(13, 0)


def test_identity_files(small: DemoDay) -> None:
    with small.ip_map.open(newline="") as f:
        leases = list(csv.DictReader(f))
    with small.groups.open(newline="") as f:
        groups = list(csv.DictReader(f))
    assert list(leases[0]) == ["ip", "user", "device", "valid_from", "valid_to"]
    assert list(groups[0]) == ["user", "group"]
    member = {g["user"]: g["group"] for g in groups}
    assert len(member) == len(groups) == 600 and set(member.values()) <= GROUPS
    assert {"staff", "year7", "year13"} <= set(member.values())
    for lease in leases:
        assert lease["user"] in member
        start, end = (datetime.fromisoformat(lease[k].replace("Z", "+00:00")) for k in ("valid_from", "valid_to"))
        assert start < end and lease["valid_from"].endswith("Z")
    by_ip: dict[str, list[dict[str, str]]] = {}
    for lease in leases:
        by_ip.setdefault(lease["ip"], []).append(lease)
    shared = [rows for rows in by_ip.values() if len(rows) > 1]
    assert 2 <= len(shared) <= 10  # a few library PCs change hands during the day
    for first, second in shared:
        assert first["valid_to"] == second["valid_from"] and first["user"] != second["user"]
    for r in _lines(small):
        assert r["ip"] in by_ip
        assert r["user"] == "-" or r["user"] in member


def test_rejects_impossible_requests(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lines"):
        generate_day(tmp_path, lines=500)
    with pytest.raises(ValueError, match="users"):
        generate_day(tmp_path, users=MIN_USERS - 1)
