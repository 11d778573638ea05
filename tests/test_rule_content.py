"""inappropriate-content: allowed pages in the adult, violence, extremism and self-harm categories, as page views."""

from __future__ import annotations

from datetime import date

from rulecase import Day

RULE = "inappropriate-content"


def _pornhub(day: Day, user: str = "pbell") -> Day:
    """The demo's planted case: two pages a few seconds apart, their images on the CDN, a third page later."""
    day.get("11:30:02", "https://www.pornhub.com/", 188_420, user=user)
    day.get("11:30:41", "https://www.pornhub.com/view_video.php?viewkey=ph63f1a2b3c4d5e", 244_380, user=user)
    for i in range(4):
        day.get(f"11:30:4{3 + i}", f"https://ei.phncdn.com/videos/202411/0{i}/4611{i}/original/1.jpg", 20_000,
                mime="image/jpeg", ref="https://www.pornhub.com/", user=user)  # fmt: skip
    day.get("11:33:10", "https://www.pornhub.com/categories", 140_110, user=user)
    return day


def test_allowed_adult_pages_fire_counted_as_page_views() -> None:
    found = _pornhub(Day()).findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert (f["user"], f["category"], f["domain"], f["severity"]) == ("pbell", "adult", "pornhub.com", "high")
    # 11:30:02 and 11:30:41 are one burst (39 s apart), 11:33:10 another; the CDN images are no view of their own
    assert f["count"] == 2
    assert f["detail"] == "viewed 2 pages on pornhub.com (adult), 7 requests (also phncdn.com), 11:30-11:33"
    assert f["evidence_total"] == 7
    assert f["bytes"] == 188_420 + 244_380 + 4 * 20_000 + 140_110
    assert f["date"] == date(2026, 11, 18)


def test_self_harm_and_extremism_are_critical_and_each_category_is_its_own_finding() -> None:
    day = Day()
    day.get("14:31:20", "https://sanctioned-suicide.net/", 61_800, user="rshaw")
    day.get("14:32:05", "https://sanctioned-suicide.net/forums/suicide-discussion.2/", 88_244, user="rshaw")
    day.get("14:34:40", "https://sanctioned-suicide.net/threads/163204/", 74_002, user="rshaw")
    day.get("10:07:30", "https://www.bestgore.com/", 92_110, user="rallen")
    day.get("10:08:10", "https://www.bestgore.com/video/40112/", 140_550, user="rallen")
    day.get("13:45:12", "https://www.stormfront.org/forum/", 70_880, user="rallen")
    day.get("13:46:01", "https://www.stormfront.org/forum/f27/", 65_330, user="rallen")
    found = {(f["user"], f["category"]): f for f in day.findings(RULE)}
    assert set(found) == {("rshaw", "selfharm"), ("rallen", "violence"), ("rallen", "extremism")}
    assert found["rshaw", "selfharm"]["severity"] == "critical"
    assert (
        found["rshaw", "selfharm"]["detail"]
        == "viewed 2 pages on sanctioned-suicide.net (selfharm), 3 requests, 14:31-14:34"
    )
    assert found["rallen", "extremism"]["severity"] == "critical"
    assert found["rallen", "violence"]["severity"] == "high"
    assert found["rallen", "violence"]["detail"] == "viewed 1 page on bestgore.com (violence), 2 requests, 10:07-10:08"


def test_blocked_only_is_left_to_repeated_blocked() -> None:
    day = Day()
    day.deny("09:52:14", "www.xvideos.com:443", user="sbaker")
    day.deny("09:52:16", "http://www.xvideos.com/", user="sbaker")
    day.get("09:53:30", "https://www.bbc.co.uk/bitesize/subjects/zgkw2hv", 66_204, user="sbaker")
    assert day.findings(RULE) == []


def test_health_pages_about_breast_cancer_are_clean() -> None:
    day = Day()
    day.get("14:02:11", "https://www.nhs.uk/conditions/breast-cancer/", 54_228, user="lcollins")
    day.get("14:03:40", "https://www.nhs.uk/conditions/breast-cancer/symptoms/", 49_902, user="lcollins")
    day.get("14:06:12", "https://www.cancerresearchuk.org/about-cancer/breast-cancer/research", 81_330, user="lcollins")
    assert day.findings(RULE) == []


def test_hostnames_containing_sex_are_clean() -> None:
    day = Day()
    day.get("13:12:40", "https://www.sussex.ac.uk/study/undergraduate/courses", 66_210, user="tmatthews")
    day.get("13:14:02", "https://www.essexwildlife.org.uk/nature-reserves", 58_100, user="tmatthews")
    day.get("13:15:02", "https://www.middlesex.gov.uk/", 58_100, user="tmatthews")
    categories = day.context().events.column("category").to_pylist()
    assert "adult" not in categories  # suffix entries match whole labels: 'sex' is not sussex.ac.uk
    assert day.findings(RULE) == []


def test_images_from_an_adult_cdn_without_a_page_are_not_a_view() -> None:
    day = Day()
    for i in range(5):
        day.get(f"10:0{i}:00", f"https://ei.phncdn.com/thumbs/{i}.jpg", 9_000, mime="image/jpeg")
    assert day.findings(RULE) == []


def test_connect_tunnels_count_one_view_per_burst() -> None:
    day = Day()
    for second in (0, 2, 3, 30):  # one burst of tunnels (a browser opens several at once)
        day.connect(f"12:40:{second:02d}", "www.pornhub.com:443", 40_000)
    day.connect("12:45:00", "www.pornhub.com:443", 40_000)  # five minutes later: another view
    found = day.findings(RULE)
    assert [(f["count"], f["evidence_total"]) for f in found] == [(2, 5)]
    assert found[0]["detail"] == "viewed 2 pages on pornhub.com (adult), 5 requests, 12:40-12:45"


def test_burst_gap_is_a_parameter() -> None:
    assert [f["count"] for f in _pornhub(Day()).findings(RULE, burst_gap_seconds=10)] == [3]
    assert [f["count"] for f in _pornhub(Day()).findings(RULE, burst_gap_seconds=300)] == [1]


def test_page_views_threshold_and_categories_are_parameters() -> None:
    assert _pornhub(Day()).findings(RULE, page_views=3) == []
    assert len(_pornhub(Day()).findings(RULE, page_views=2)) == 1
    assert _pornhub(Day()).findings(RULE, categories=["violence"]) == []
    day = Day().get("14:31:20", "https://sanctioned-suicide.net/", 61_800)
    assert [f["severity"] for f in day.findings(RULE, critical_categories=[])] == ["high"]


def test_out_of_hours_viewing_counts_and_days_are_separate() -> None:
    day = Day()
    day.get("20:15:00", "https://www.pornhub.com/", 100_000)
    day.get("07:50:00", "https://www.pornhub.com/", 100_000, day_offset=1)
    found = day.findings(RULE)
    assert [(f["date"], f["count"]) for f in found] == [(date(2026, 11, 18), 1), (date(2026, 11, 19), 1)]


def test_people_are_told_apart_by_address_when_the_log_has_no_user() -> None:
    day = Day()
    day.get("11:00:00", "https://www.pornhub.com/", 100_000, user="-", ip="10.0.0.7")
    day.get("11:00:10", "https://www.pornhub.com/", 100_000, user="-", ip="10.0.0.8")
    found = day.findings(RULE)
    assert sorted(f["client_ip"] for f in found) == ["10.0.0.7", "10.0.0.8"]
    assert all(f["count"] == 1 for f in found)


def test_a_summer_day_groups_by_the_local_date_not_utc() -> None:
    # 00:30 BST is 23:30 UTC the day before: grouped by UTC date these would be two findings
    day = Day("2026-07-15")
    day.get("00:30:00", "https://www.pornhub.com/", 100_000)
    day.get("23:30:00", "https://www.pornhub.com/categories", 100_000)
    found = day.findings(RULE)
    assert len(found) == 1
    assert found[0]["date"] == date(2026, 7, 15)
    assert found[0]["count"] == 2
    assert found[0]["detail"] == "viewed 2 pages on pornhub.com (adult), 2 requests, 00:30-23:30"
