"""concerning-search: safeguarding words and phrases in what people searched for; look-alike words stay quiet."""

from __future__ import annotations

import pytest
from rulecase import Day

from filterlog.errors import ConfigError
from filterlog.rules import _lists

RULE = "concerning-search"


def _suggest(day: Day, start: str, phrase: str, user: str = "alice") -> Day:
    """Google type-ahead: one suggest request per keystroke, then the results page (as the demo plants it)."""
    base = day.epoch(start)
    t = base
    for n in range(1, len(phrase) + 1):
        if phrase[n - 1] != " ":
            t += 0.4
            q = phrase[:n].replace(" ", "+")
            day.get(t, f"https://www.google.com/complete/search?q={q}&cp={n}&client=gws-wiz", 1_500, user=user,
                    mime="application/json", ref="https://www.google.com/")  # fmt: skip
    q = phrase.replace(" ", "+")
    return day.get(t + 1.2, f"https://www.google.com/search?q={q}&source=hp&oq={q}", 150_000, user=user)


def _google(day: Day, at: str, phrase: str, user: str = "alice") -> Day:
    return day.get(at, "https://www.google.com/search?q=" + phrase.replace(" ", "+") + "&sourceid=chrome", 150_000,
                   user=user)  # fmt: skip


# positives ------------------------------------------------------------------------------------------------------


def test_self_harm_searches_are_one_critical_finding_quoting_what_was_typed() -> None:
    day = _suggest(Day(), "10:02:05", "how to self harm without anyone knowing")
    _google(day, "10:04:40", "does cutting make you feel better")
    (f,) = day.findings(RULE)
    assert f["detail"] == (
        "searched for 'how to self harm without anyone knowing', 'does cutting make you feel better' (self-harm) "
        "on Google, 10:02-10:04"
    )
    assert (f["user"], f["severity"], f["count"], f["category"], f["domain"]) == (
        "alice", "critical", 2, "selfharm", "google.com"
    )  # fmt: skip
    assert f["evidence_total"] >= 2  # the results pages (and the last keystroke), not every keystroke


def test_suicide_searches_on_three_engines() -> None:
    day = Day()
    day.get("14:44:02", "https://www.bing.com/search?q=how+to+kill+myself+painlessly&form=QBLH", 121_330)
    day.get("14:45:30", "https://www.youtube.com/results?search_query=i+want+to+die+suicide+note", 402_118)
    day.get("14:47:12", "https://duckduckgo.com/?q=suicide%20methods%20overdose&ia=web", 38_220)
    (f,) = day.findings(RULE)
    assert f["detail"] == (
        "searched for 'how to kill myself painlessly', 'i want to die suicide note', 'suicide methods overdose' "
        "(suicide) on Bing, YouTube, DuckDuckGo, 14:44-14:47"
    )
    assert (f["count"], f["severity"]) == (3, "critical")


def test_each_theme_is_its_own_finding_and_non_critical_themes_are_high() -> None:
    day = Day()
    day.get("11:12:20", "https://duckduckgo.com/?q=how%20to%20make%20a%20pipe%20bomb&ia=web", 37_440)
    _google(day, "11:13:05", "how to join isis uk")
    day.get("11:15:40", "https://www.bing.com/search?q=buy+zombie+knife+uk+no+id&form=QBLH", 118_040)
    found = {f["category"]: f for f in day.findings(RULE)}
    assert set(found) == {"weapons", "extremism"}
    assert found["extremism"]["detail"] == "searched for 'how to join isis uk' (extremism) on Google, 11:13"
    assert found["weapons"]["detail"] == (
        "searched for 'how to make a pipe bomb', 'buy zombie knife uk no id' (weapons) on DuckDuckGo, Bing, 11:12-11:15"
    )
    assert {f["severity"] for f in found.values()} == {"high"}


def test_case_accents_and_punctuation_are_ignored() -> None:
    day = _google(Day(), "10:00:00", "SÉLF-HARM+scars+how+to+hide")
    assert day.findings(RULE)[0]["category"] == "selfharm"


def test_searches_at_night_count_and_days_are_separate_findings() -> None:
    day = _google(Day(), "21:30:00", "how to kill myself")
    day.get(day.epoch("07:10:00", day_offset=1), "https://www.google.com/search?q=want+to+die", 150_000)
    found = day.findings(RULE)
    assert [(str(f["date"]), f["detail"][-5:]) for f in found] == [("2026-11-18", "21:30"), ("2026-11-19", "07:10")]


def test_findings_are_per_person_and_name_the_address_when_no_user() -> None:
    day = _google(Day(), "10:00:00", "how to kill myself", user="alice")
    _google(day, "10:01:00", "how to kill myself", user="-")
    assert day.who(RULE) == {"alice", "10.0.0.5"}


def test_a_summer_day_is_grouped_and_reported_on_the_local_clock() -> None:
    day = _google(Day("2026-07-15"), "00:30:00", "how to kill myself")  # 23:30 UTC on the 14th
    _google(day, "10:15:00", "suicide note")
    (f,) = day.findings(RULE)
    assert str(f["date"]) == "2026-07-15"
    assert f["detail"].endswith("(suicide) on Google, 00:30-10:15")
    assert f["start"].day == 14 and f["start"].hour == 23


# decoys ---------------------------------------------------------------------------------------------------------


def test_keywords_inside_longer_words_do_not_match() -> None:
    day = _suggest(Day(), "09:31:10", "harmony and melody gcse music")
    _google(day, "09:36:00", "skill set examples for a cv")
    day.get("13:52:10", "https://www.bing.com/search?q=pharmacist+apprenticeships+essex&form=QBLH", 119_870)
    day.get("13:53:44", "https://www.youtube.com/results?search_query=grape+juice+density+experiment", 398_002)
    day.get("13:55:02", "https://duckduckgo.com/?q=therapist%20career%20salary%20uk&ia=web", 36_110)
    assert day.findings(RULE) == []


def test_exception_phrases_are_blanked_out_but_the_rest_still_counts() -> None:
    day = _google(Day(), "10:00:00", "suicide squad cast", user="alice")
    _google(day, "10:01:00", "the rape of the lock summary", user="alice")
    _google(day, "10:02:00", "oilseed rape fields", user="alice")
    _google(day, "10:03:00", "suicide squad made me want to die", user="bob")
    assert day.who(RULE) == {"bob"}


def test_a_q_parameter_on_an_ordinary_site_is_not_a_search() -> None:
    day = Day().get("10:00:00", "https://www.example.com/forum?q=kill+myself", 20_000)
    assert day.findings(RULE) == []


def test_ordinary_school_searches_do_not_match() -> None:
    day = Day()
    for i, q in enumerate(("cold war timeline", "weather tomorrow", "macbeth act 1 scene 7 summary",
                           "how to cite a website harvard", "kinetic energy formula")):  # fmt: skip
        _google(day, f"10:0{i}:00", q)
    assert day.findings(RULE) == []


# parameters -----------------------------------------------------------------------------------------------------


def test_themes_and_critical_themes_are_settings() -> None:
    day = _google(Day(), "10:00:00", "how to self harm")
    assert day.findings(RULE)[0]["severity"] == "critical"
    assert day.findings(RULE, critical_themes=["suicide"])[0]["severity"] == "high"
    assert day.findings(RULE, themes=["suicide", "drugs"]) == []
    with pytest.raises(ConfigError, match="no keyword list"):
        day.findings(RULE, themes=["horoscopes"])


def test_matching_rules_of_the_lists() -> None:
    words = _lists.phrase_regex(["suicid*", "kill myself", "painless* way* to die", "isis"])
    assert words is not None
    found = [words.findall(_lists.fold(t)) for t in ("Suicidal thoughts", "KILL-MYSELF", "painless ways to die",
                                                       "isis", "crisis", "skill myself", "suicide")]  # fmt: skip
    assert found == [["suicidal"], ["kill myself"], ["painless ways to die"], ["isis"], [], [], ["suicide"]]
