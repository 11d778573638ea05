"""nonbusiness-bandwidth: bytes, share and active minutes of non-business use, in working time on the local clock."""

from __future__ import annotations

import random

from rulecase import Day

RULE = "nonbusiness-bandwidth"
PAGE = "https://www.youtube.com/watch?v=dQ8cLx3vTqE"


def _video(
    day: Day, start: str, end: str, total: float, user: str = "alice", step: float = 40.0, day_offset: int = 0
) -> Day:
    """A YouTube session: the watch page, then 5 MB video ranges every ``step`` s until ``total`` bytes or ``end``."""
    t, stop = day.epoch(start, day_offset), day.epoch(end, day_offset)
    day.get(t, PAGE, 500_000, user=user)
    sent, i = 0, 0
    while sent < total and t + step < stop:
        t += step
        day.get(t, f"https://rr3---sn-aigl6ned.googlevideo.com/videoplayback?itag=248&range={i}", 5_000_000,
                user=user, mime="video/webm", code="TCP_MISS/206")  # fmt: skip
        sent += 5_000_000
        i += 1
    return day


def _minutes(day: Day, start: str, count: int, user: str = "bob", code: str = "TCP_MISS/200") -> Day:
    """Twitch chat and HLS segments in ``count`` consecutive minutes, a few hundred KB a minute."""
    t = day.epoch(start)
    for i in range(count):
        day.get(t + 60 * i + 5, "https://gql.twitch.tv/gql", 4_000, user=user, method="POST", code=code)
        day.get(t + 60 * i + 50, f"https://video-weaver.lhr03.hls.ttvnw.net/v1/segment/{i}.ts", 300_000, user=user,
                code=code)  # fmt: skip
    return day


def _work(day: Day, start: str, count: int, nbytes: int, user: str = "alice") -> Day:
    """Ordinary school traffic: ``count`` requests of ``nbytes`` to Oak National Academy a minute apart."""
    t = day.epoch(start)
    for i in range(count):
        day.get(t + 60 * i, f"https://www.thenational.academy/pupils/lessons/{i}", nbytes, user=user)
    return day


# positives ------------------------------------------------------------------------------------------
def test_a_lesson_of_youtube_fires_on_bytes_with_the_numbers_in_the_detail() -> None:
    day = _video(Day(), "13:06:10", "14:25:00", 250e6)
    _work(day, "09:00:00", 10, 1_000_000)  # 10 MB of school work the same day
    found = day.findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert (f["user"], f["severity"], f["domain"], f["category"]) == ("alice", "medium", "googlevideo.com", "streaming")
    assert f["bytes"] == 250_500_000
    assert f["count"] == 51
    assert f["detail"] == (
        "250 MB non-business in working hours (96% of 260 MB), 34 active minutes, 13:06-13:39: "
        "streaming 250 MB (googlevideo.com, youtube.com)"
    )


def test_thirty_active_minutes_fire_even_with_few_bytes() -> None:
    found = _minutes(Day(), "09:02:00", 35).findings(RULE)
    assert len(found) == 1
    assert found[0]["user"] == "bob"
    assert "35 active minutes" in found[0]["detail"]
    assert found[0]["detail"].endswith("streaming 11 MB (ttvnw.net, twitch.tv)")
    assert found[0]["bytes"] == 35 * 304_000


def test_a_large_share_fires_once_the_bytes_reach_share_min_mb() -> None:
    day = Day()
    for i in range(12):  # 60 MB of Instagram in 12 requests, 40 MB of school work
        day.get(f"09:{10 + i}:00", f"https://www.instagram.com/reel/{i}/", 5_000_000, mime="video/mp4")
    _work(day, "11:00:00", 40, 1_000_000)
    found = day.findings(RULE)
    assert len(found) == 1
    assert found[0]["detail"].startswith("60 MB non-business in working hours (60% of 100 MB), 12 active minutes")
    assert found[0]["severity"] == "medium"
    assert day.findings(RULE, share_min_mb=61) == []
    assert day.findings(RULE, share_percent=61) == []


def test_twice_a_threshold_is_high() -> None:
    assert _video(Day(), "09:00:00", "10:29:00", 450e6, step=11).findings(RULE)[0]["severity"] == "high"
    assert _minutes(Day(), "13:00:00", 60).findings(RULE)[0]["severity"] == "high"
    assert _minutes(Day(), "13:00:00", 60).findings(RULE, high_factor=3)[0]["severity"] == "medium"


def test_thresholds_come_from_the_site_configuration() -> None:
    day = _video(Day(), "13:06:10", "14:25:00", 250e6)
    quiet = {"bytes_mb": 300, "active_minutes": 35, "share_min_mb": 300}
    assert day.findings(RULE, **quiet) == []
    assert len(day.findings(RULE, **(quiet | {"bytes_mb": 240}))) == 1
    assert len(day.findings(RULE, **(quiet | {"active_minutes": 34}))) == 1
    assert len(day.findings(RULE, **(quiet | {"share_min_mb": 250}))) == 1
    assert _minutes(Day(), "09:02:00", 35).findings(RULE, active_minutes=36) == []
    assert day.findings(RULE, categories=["social"]) == []


def test_a_tunnel_counts_only_its_working_time_share() -> None:
    # open 12:00-13:40: 10 min before lunch and 40 min after it are working time, half of the 100 min
    day = Day().connect("13:40:00", "www.youtube.com:443", 500_000_000, elapsed=100 * 60_000)
    found = day.findings(RULE)
    assert len(found) == 1
    assert found[0]["bytes"] == 250_000_000
    assert found[0]["detail"].startswith("250 MB non-business in working hours (100% of 250 MB), 2 active minutes, ")
    assert found[0]["detail"].endswith("12:00-13:40: streaming 250 MB (youtube.com)")


def test_one_finding_per_person_and_local_day() -> None:
    day = _video(Day(), "13:06:10", "14:25:00", 250e6, user="alice")
    _video(day, "09:00:00", "10:25:00", 250e6, user="carol")
    _video(day, "09:00:00", "10:25:00", 250e6, user="alice", day_offset=1)
    found = day.findings(RULE)
    assert sorted((f["user"], str(f["date"])) for f in found) == [
        ("alice", "2026-11-18"), ("alice", "2026-11-19"), ("carol", "2026-11-18")
    ]  # fmt: skip


def test_an_unnamed_client_is_judged_by_its_address() -> None:
    found = _minutes(Day(), "09:02:00", 35, user="-").findings(RULE)
    assert [(f["user"], f["client_ip"]) for f in found] == [(None, "10.0.0.5")]


# decoys ---------------------------------------------------------------------------------------------
def test_streaming_only_at_lunch_does_not_fire() -> None:
    assert _video(Day(), "12:12:30", "12:58:00", 240e6, step=10).findings(RULE) == []


def test_streaming_only_after_hours_does_not_fire() -> None:
    assert _video(Day(), "15:36:00", "16:50:00", 260e6).findings(RULE) == []


def test_a_three_minute_clip_in_a_lesson_does_not_fire() -> None:
    day = _video(Day(), "11:20:05", "11:23:05", 14e6)
    _work(day, "11:31:00", 12, 7_000_000)
    assert day.findings(RULE) == []


def test_a_small_day_does_not_fire_on_share() -> None:
    day = Day().get("10:00:00", "https://www.tiktok.com/", 1_000_000)
    _work(day, "11:00:00", 1, 1_000_000)
    assert day.findings(RULE) == []


def test_blocked_requests_are_not_usage() -> None:
    assert _minutes(Day(), "09:02:00", 40, code="TCP_DENIED/403").findings(RULE) == []


def test_a_tunnel_held_over_lunch_only_does_not_fire() -> None:
    day = Day().get("12:12:40", "https://www.twitch.tv/", 302_118)
    day.connect("12:57:10", "www.twitch.tv:443", 248_204_330, elapsed=2_660_000)
    assert day.findings(RULE) == []


def test_busy_school_work_does_not_fire() -> None:
    rand = random.Random(3)
    day = Day()
    for i in range(300):
        day.get(day.epoch("08:40:00") + rand.uniform(0, 6 * 3600), f"https://classroom.google.com/c/{i}", 2_000_000)
    assert day.findings(RULE) == []


# summer time --------------------------------------------------------------------------------------------
def test_on_a_bst_day_lunch_is_judged_on_the_local_clock() -> None:
    # 12:15-12:55 BST is 11:15-11:55 UTC: a lesson on a UTC clock, lunch on the school's
    assert _video(Day("2026-07-15"), "12:15:00", "12:58:00", 240e6, step=10).findings(RULE) == []
    # 13:05-13:50 BST is 12:05-12:50 UTC: lunch on a UTC clock, a lesson on the school's
    found = _video(Day("2026-07-15"), "13:05:00", "13:50:00", 240e6, step=50).findings(RULE)
    assert len(found) == 1
    assert "13:05-13:45" in found[0]["detail"]
    assert str(found[0]["date"]) == "2026-07-15"
