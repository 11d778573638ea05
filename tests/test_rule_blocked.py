"""repeated-blocked: attempts, not raw denials; persistence and probing; decoys that must stay quiet."""

from __future__ import annotations

from rulecase import Day

RULE = "repeated-blocked"


def _gambler(day: Day, user: str = "alice", starts: tuple[str, ...] = ("09:12:04", "09:17:40", "09:24:13")) -> Day:
    for t in starts:
        day.deny(t, "www.bet365.com:443", user=user)
        day.deny(t[:-1] + "7", "http://www.bet365.com/", user=user)
        day.deny(t[:-1] + "8", "http://www.bet365.com/favicon.ico", user=user)
    return day


def test_three_attempts_in_half_an_hour_fire_with_numbers_in_the_detail() -> None:
    found = _gambler(Day()).findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert (f["user"], f["count"], f["domain"], f["category"], f["severity"]) == (
        "alice", 3, "bet365.com", "gambling", "medium"
    )  # fmt: skip
    assert f["detail"] == "3 attempts to reach bet365.com (gambling), all blocked, 09:12-09:24 (9 blocked requests)"
    assert f["evidence_total"] == 9
    assert [e["source_line"] for e in f["evidence"]] == list(range(1, 10))


def test_a_burst_of_sub_requests_is_one_attempt() -> None:
    day = Day()
    for second in range(0, 50, 2):  # 25 denied requests within 50 s: one click
        day.deny(f"09:12:{second:02d}", "http://www.bet365.com/", user="alice")
    assert day.findings(RULE) == []


def test_a_single_blocked_attempt_does_not_fire() -> None:
    day = Day().deny("11:42:17", "www.888casino.com:443").deny("11:42:18", "http://www.888casino.com/")
    day.get("11:44:02", "https://www.bbc.co.uk/bitesize/guides/zc9hv4j/revision/1", 74_211)
    assert day.findings(RULE) == []


def test_attempts_spread_wider_than_the_window_do_not_fire() -> None:
    assert _gambler(Day(), starts=("09:00:04", "09:40:04", "10:20:04")).findings(RULE) == []
    assert len(_gambler(Day(), starts=("09:00:04", "09:40:04", "10:20:04")).findings(RULE, window_minutes=90)) == 1


def test_a_storm_of_407_challenges_is_not_blocking() -> None:
    day = Day()
    for i in range(55):
        day.challenge(f"10:{2 + i // 20:02d}:{(i * 3) % 60:02d}", "outlook.office365.com:443")
    day.connect("10:06:00", "outlook.office365.com:443", 48_211)
    assert day.findings(RULE) == []


def test_blocked_adverts_inside_ordinary_pages_are_not_the_users_attempts() -> None:
    day = Day()
    for i, path in enumerate(("/algebra/index.html", "/geometry/circle.html", "/numbers/fractions.html", "/data.html")):
        page = f"https://www.mathsisfun.com{path}"
        day.get(f"11:{i * 4:02d}:00", page, 30_000)
        day.deny(f"11:{i * 4:02d}:01", "https://securepubads.g.doubleclick.net/tag/js/gpt.js", ref=page)
        day.deny(f"11:{i * 4:02d}:02", "https://cdn.adnetwork-unlisted.example/loader.js", ref=page)
    assert day.findings(RULE) == []


def test_probing_different_sites_of_one_category_then_finding_one_that_works() -> None:
    day = Day()
    for t, target in (("13:20:10", "www.williamhill.com:443"), ("13:23:02", "www.paddypower.com:443"),
                      ("13:26:45", "www.skybet.com:443"), ("13:29:30", "www.coral.co.uk:443")):  # fmt: skip
        day.deny(t, target, user="bob")
    day.connect("13:33:58", "www.betvictor.com:443", 184_220, user="bob")
    found = day.findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert f["user"] == "bob" and f["category"] == "gambling" and f["count"] == 4
    assert f["severity"] == "critical"  # probing is high; finding one that works raises it
    assert "probing: 4 different gambling sites blocked within 15 min" in f["detail"]
    assert f["detail"].endswith("then reached www.betvictor.com (allowed) at 13:33")
    assert f["evidence_total"] == 5  # the four denials and the allowed tunnel


def test_probing_threshold_is_configurable() -> None:
    day = Day()
    day.deny("13:20:10", "www.williamhill.com:443").deny("13:23:02", "www.paddypower.com:443")
    assert day.findings(RULE) == []
    assert len(day.findings(RULE, probe_domains=2)) == 1


def test_persistence_followed_by_an_allowed_visit_rises_a_step() -> None:
    day = _gambler(Day())
    day.get("09:40:00", "https://www.bet365.com/en/", 88_000)  # the filter let it through later
    (f,) = day.findings(RULE)
    assert f["severity"] == "high"
    assert "then reached www.bet365.com (allowed) at 09:40" in f["detail"]


def test_people_are_judged_apart() -> None:
    day = Day()
    for i, user in enumerate(("alice", "bob", "carol")):  # one attempt each at the same site
        day.deny(f"09:1{i}:00", "www.bet365.com:443", user=user)
    assert day.findings(RULE) == []


def test_summer_time_windows_use_the_local_clock() -> None:
    found = _gambler(Day("2026-07-15")).findings(RULE)
    assert len(found) == 1
    assert "09:12-09:24" in found[0]["detail"]  # BST wall clock, not UTC (08:12)
    assert found[0]["start"].hour == 8  # stored in UTC


def test_an_episode_crossing_midnight_is_one_finding() -> None:
    day = Day()
    day.deny("23:50:00", "www.bet365.com:443").deny("23:58:00", "www.bet365.com:443")
    day.deny("00:06:00", "www.bet365.com:443", day_offset=1)
    (f,) = day.findings(RULE)
    assert f["count"] == 3 and str(f["date"]) == "2026-11-18"


def test_same_events_give_the_same_ids() -> None:
    first = [f["finding_id"] for f in _gambler(Day()).findings(RULE)]
    again = [f["finding_id"] for f in _gambler(Day()).findings(RULE)]
    assert first == again and len(first[0]) == 16
