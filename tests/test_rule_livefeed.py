"""live-feed: regular polling of a non-business site, or a connection to it held open through lessons."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
from rulecase import Day

from filterlog.rules._beacon import group_quantiles, regularity

RULE = "live-feed"
LIVESCORE = "https://prod-cdn-public-api.livescore.com/v1/api/app/live/soccer/0?locale=en&MD=1"


def _poll(
    day: Day, url: str, start: str, end: str, gap: tuple[float, float], user: str = "alice", seed: int = 1,
    extras: int = 0, **kw
) -> Day:  # fmt: skip
    """Requests to ``url`` every ``gap`` s (uniform) from ``start`` to ``end``, each with ``extras`` sub-requests."""
    rand = random.Random(seed)
    t, stop = day.epoch(start), day.epoch(end)
    while True:
        t += rand.uniform(*gap)
        if t >= stop:
            return day
        day.get(t, url, int(rand.uniform(3_800, 5_600)), user=user, mime="application/json", **kw)
        for k in range(extras):
            day.get(t + 0.3 * (k + 1), url + f"&part={k}", 900, user=user, mime="application/json", **kw)


def _livescore(day: Day, **kw) -> Day:
    day.get("13:04:12", "https://www.livescore.com/en/football/live/", 88_400, user=kw.get("user", "alice"))
    return _poll(day, LIVESCORE, "13:04:30", "14:06:00", (30, 60), **kw)


# positives ------------------------------------------------------------------------------------------
def test_a_live_score_ticker_polled_through_a_lesson_fires() -> None:
    found = _livescore(Day()).findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert (f["user"], f["domain"], f["category"], f["severity"]) == ("alice", "livescore.com", "sports_news", "high")
    polls = f["count"]  # the page and the API calls
    assert 70 <= polls <= 90
    assert f["evidence_total"] == polls
    assert f["detail"].startswith(f"livescore.com polled {polls} times, every ~4")
    assert f["detail"].endswith("), 13:04-14:05")
    score = float(f["detail"].split("regularity ")[1].split(")")[0])
    assert 0.8 <= score <= 1.0


def test_sub_requests_of_one_poll_are_one_poll() -> None:
    plain = _livescore(Day()).findings(RULE)[0]
    bursts = _livescore(Day(), extras=3).findings(RULE)[0]
    assert bursts["count"] == plain["count"]
    assert bursts["evidence_total"] == 4 * plain["count"] - 3  # the page has no sub-requests, every API call three
    assert bursts["detail"] == plain["detail"]


def test_a_connection_held_open_through_a_lesson_fires() -> None:
    day = Day().get("09:33:02", "https://discord.com/channels/@me", 140_228)
    day.connect("10:25:20", "gateway.discord.gg:443", 3_140_552, elapsed=3_136_000)
    found = day.findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert (f["domain"], f["category"], f["severity"], f["count"], f["bytes"]) == (
        "discord.gg", "social", "medium", 1, 3_140_552
    )  # fmt: skip
    assert f["detail"] == "gateway.discord.gg:443 held open 52 min (52 min in lessons), 3 MB, 09:33-10:25"


def test_only_the_lesson_minutes_of_a_tunnel_count() -> None:
    # 10:00-11:00 with break 10:30-10:50: 40 min in lessons
    day = Day().connect("11:00:00", "www.twitch.tv:443", 90_000_000, elapsed=3_600_000)
    assert "held open 60 min (40 min in lessons)" in day.findings(RULE)[0]["detail"]
    assert day.findings(RULE, tunnel_minutes=41) == []


def test_poll_and_tunnel_at_one_site_on_one_day_are_one_finding() -> None:
    day = _livescore(Day())
    day.connect("10:10:00", "push.livescore.com:443", 2_000_000, elapsed=40 * 60_000)
    found = day.findings(RULE)
    assert len(found) == 1
    parts = found[0]["detail"].split("; ")
    assert parts[0] == "push.livescore.com:443 held open 40 min (40 min in lessons), 2 MB, 09:30-10:10"
    assert parts[1].startswith("livescore.com polled")
    assert parts[1].endswith(", 13:04-14:05")  # the tunnel is not a poll
    assert found[0]["count"] == 1 + int(parts[1].split()[2])


def test_thresholds_come_from_the_site_configuration() -> None:
    day = _livescore(Day())
    assert day.findings(RULE, min_requests=200) == []
    assert day.findings(RULE, min_score=0.99) == []
    assert day.findings(RULE, categories=["streaming"]) == []
    assert day.findings(RULE, high_minutes=90)[0]["severity"] == "medium"
    tunnel = Day().connect("10:25:20", "gateway.discord.gg:443", 3_140_552, elapsed=3_136_000)
    assert tunnel.findings(RULE, tunnel_minutes=60) == []


def test_one_finding_per_person_domain_and_day() -> None:
    day = _livescore(Day(), user="alice")
    _livescore(day, user="bob", seed=2)
    _poll(day, "https://www.skysports.com/football/live-blog/1", "09:00:00", "09:40:00", (20, 30), user="alice")
    found = day.findings(RULE)
    assert sorted((f["user"], f["domain"]) for f in found) == [
        ("alice", "livescore.com"), ("alice", "skysports.com"), ("bob", "livescore.com")
    ]  # fmt: skip


# decoys ---------------------------------------------------------------------------------------------
def test_a_school_heartbeat_is_not_non_business() -> None:
    day = _poll(Day(), "https://app.senecalearning.com/api/sessions/heartbeat", "09:00:20", "09:50:00", (40, 50),
                method="POST")  # fmt: skip
    _poll(day, "https://presence.teams.microsoft.com/v1/me/endpoints/", "13:10:00", "14:05:00", (58, 62),
          method="PUT", user="j.mills")  # fmt: skip
    assert day.findings(RULE) == []
    assert len(day.findings(RULE, categories=["allow"])) == 2  # the same timing at a non-business site would fire


def test_a_tunnel_open_only_at_lunch_does_not_fire() -> None:
    day = Day().get("12:12:40", "https://www.twitch.tv/", 302_118)
    day.connect("12:57:10", "www.twitch.tv:443", 148_204_330, elapsed=2_660_000)
    assert day.findings(RULE) == []


def test_polling_only_at_lunch_and_after_school_does_not_fire() -> None:
    day = _poll(Day(), LIVESCORE, "12:11:00", "12:59:00", (20, 40))
    _poll(day, LIVESCORE, "15:31:00", "17:00:00", (20, 40), seed=3)
    assert day.findings(RULE) == []


def test_ordinary_browsing_of_a_social_site_is_not_polling() -> None:
    rand = np.random.default_rng(5)
    day = Day()
    t = day.epoch("09:00:00")
    for i in range(120):  # a person scrolling: bursts of reading, long pauses
        t += float(rand.exponential(40))
        day.get(t, f"https://www.instagram.com/p/{i}/", 60_000)
    assert day.findings(RULE) == []


# summer time --------------------------------------------------------------------------------------------
def test_on_a_bst_day_working_time_is_the_local_clock() -> None:
    # 12:15-13:00 BST is lunch (11:15-12:00 UTC would be a lesson on a UTC clock)
    assert _poll(Day("2026-07-15"), LIVESCORE, "12:11:00", "12:59:00", (20, 40)).findings(RULE) == []
    tunnel = Day("2026-07-15").connect("12:59:00", "www.twitch.tv:443", 148_204_330, elapsed=2_700_000)
    assert tunnel.findings(RULE) == []
    # 13:05-13:50 BST is 12:05-12:50 UTC: lunch on a UTC clock, a lesson on the school's
    found = _poll(Day("2026-07-15"), LIVESCORE, "13:05:00", "13:50:00", (20, 40)).findings(RULE)
    assert len(found) == 1
    assert found[0]["detail"].endswith(", 13:05-13:49")
    assert str(found[0]["date"]) == "2026-07-15"


# the regularity score ---------------------------------------------------------------------------------------
def test_group_quantiles_match_pandas() -> None:
    rand = np.random.default_rng(0)
    codes = rand.integers(0, 7, 500)
    values = rand.exponential(30, 500)
    ours = group_quantiles(codes, values, 8, (0.25, 0.5, 0.75))
    theirs = pd.Series(values).groupby(codes).quantile([0.25, 0.5, 0.75]).unstack().to_numpy()
    assert np.allclose(ours[:7], theirs)
    assert np.isnan(ours[7]).all()


def test_a_timer_scores_high_and_random_gaps_score_low() -> None:
    rand = np.random.default_rng(1)
    timer = np.full(50, 60.0)
    jitter = rand.uniform(30, 60, 50)
    human = rand.exponential(60, 50)
    codes = np.repeat([0, 1, 2], 50)
    scores = regularity(codes, np.concatenate([timer, jitter, human]), 3)["score"].to_numpy()
    assert scores[0] == 1.0
    assert scores[1] >= 0.85
    assert scores[2] < 0.7


def test_zero_intervals_are_dropped_and_short_series_have_no_score() -> None:
    table = regularity(np.array([0, 0, 0, 0, 0, 1, 1]), np.array([0.0, 60, 0, 60, 60, 5, 5]), 2)
    assert table["intervals"].tolist() == [3, 2]
    assert table["score"].iloc[0] == 1.0
    assert np.isnan(table["score"].iloc[1])
