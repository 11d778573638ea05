"""Planted viewing and searching: inappropriate content and concerning searches.

Each family's scenarios sit next to their rows of the answer key, so a description in
``planted.json`` can be checked against the lines that play it. :mod:`filterlog.demo.planted`
puts the families together in the order the users are handed out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .data import hms
from .scenario import Planted, bursts

if TYPE_CHECKING:
    from .planter import Planter

_P, _D = "planted", "decoy"


def _ic_adult(e: Planter) -> None:
    e.get(hms("11:30:02"), "https://www.pornhub.com/", 188_420)
    e.get(hms("11:30:41"), "https://www.pornhub.com/view_video.php?viewkey=ph63f1a2b3c4d5e", 244_380,
          ref="https://www.pornhub.com/")  # fmt: skip
    for i in range(4):
        e.get(hms("11:30:43") + i * 0.4, f"https://ei.phncdn.com/videos/202411/0{i}/4611{i}/original/1.jpg",
              int(e.jitter(8e3, 30e3)), mime="image/jpeg", ref="https://www.pornhub.com/")  # fmt: skip
    e.get(hms("11:33:10"), "https://www.pornhub.com/categories", 140_110)


def _ic_selfharm(e: Planter) -> None:
    e.get(hms("14:31:20"), "https://sanctioned-suicide.net/", 61_800)
    e.get(hms("14:32:05"), "https://sanctioned-suicide.net/forums/suicide-discussion.2/", 88_244,
          ref="https://sanctioned-suicide.net/")  # fmt: skip
    e.get(hms("14:34:40"), "https://sanctioned-suicide.net/threads/163204/", 74_002,
          ref="https://sanctioned-suicide.net/forums/suicide-discussion.2/")  # fmt: skip


def _ic_violence(e: Planter) -> None:
    e.get(hms("10:07:30"), "https://www.bestgore.com/", 92_110)
    e.get(hms("10:08:10"), "https://www.bestgore.com/video/40112/", 140_550, ref="https://www.bestgore.com/")
    e.get(hms("13:45:12"), "https://www.stormfront.org/forum/", 70_880)
    e.get(hms("13:46:01"), "https://www.stormfront.org/forum/f27/", 65_330, ref="https://www.stormfront.org/forum/")


def _id_blocked(e: Planter) -> None:
    bursts(e, ("09:52:14",), ("www.xvideos.com:443", "http://www.xvideos.com/"))
    e.get(hms("09:53:30"), "https://www.bbc.co.uk/bitesize/subjects/zgkw2hv", 66_204)


def _id_health(e: Planter) -> None:
    e.get(hms("14:02:11"), "https://www.nhs.uk/conditions/breast-cancer/", 54_228)
    e.get(hms("14:03:40"), "https://www.nhs.uk/conditions/breast-cancer/symptoms/", 49_902,
          ref="https://www.nhs.uk/conditions/breast-cancer/")  # fmt: skip
    e.get(hms("14:06:12"), "https://www.cancerresearchuk.org/about-cancer/breast-cancer/research-clinical-trials",
          81_330)  # fmt: skip


def _id_sussex(e: Planter) -> None:
    e.get(hms("13:12:40"), "https://www.sussex.ac.uk/study/undergraduate/courses", 66_210)
    e.get(hms("13:14:02"), "https://www.essexwildlife.org.uk/nature-reserves", 58_100)


# fmt: off
INAPPROPRIATE_CONTENT: tuple[Planted, ...] = (
    Planted("inappropriate-content", _P, False, "adult: pornhub.com pages and phncdn.com images allowed, "
            "11:30-11:33", _ic_adult),
    Planted("inappropriate-content", _P, False, "self-harm: sanctioned-suicide.net forum pages allowed, "
            "14:31-14:35", _ic_selfharm),
    Planted("inappropriate-content", _P, False, "violence and extremism: bestgore.com (10:07) and stormfront.org "
            "(13:45) allowed", _ic_violence),
    Planted("inappropriate-content", _D, False, "xvideos.com blocked (one burst), nothing allowed, 09:52",
            _id_blocked),
    Planted("inappropriate-content", _D, False, "NHS and Cancer Research UK breast-cancer pages, 14:02-14:06",
            _id_health),
    Planted("inappropriate-content", _D, False, "sussex.ac.uk and essexwildlife.org.uk (hostnames containing "
            "'sex'), 13:12", _id_sussex),
)
# fmt: on


def _suggest(e: Planter, start: str, phrase: str) -> None:
    """Google search-suggest requests, one per keystroke of ``phrase``, then the results page."""
    t = hms(start)
    for n in range(1, len(phrase) + 1):
        if phrase[n - 1] == " ":
            continue
        t += e.jitter(0.15, 0.6)
        q = phrase[:n].replace(" ", "+")
        e.get(t, f"https://www.google.com/complete/search?q={q}&cp={n}&client=gws-wiz&xssi=t&hl=en-GB&authuser=0",
              int(e.jitter(900, 2400)), mime="application/json", ref="https://www.google.com/")  # fmt: skip
    q = phrase.replace(" ", "+")
    e.get(t + 1.2, f"https://www.google.com/search?q={q}&source=hp&oq={q}&sourceid=chrome&ie=UTF-8",
          int(e.jitter(120e3, 190e3)), ref="https://www.google.com/")  # fmt: skip


def _cs_selfharm(e: Planter) -> None:
    _suggest(e, "10:02:05", "how to self harm without anyone knowing")
    e.get(hms("10:04:40"), "https://www.google.com/search?q=does+cutting+make+you+feel+better&sourceid=chrome&ie=UTF-8",
          151_202)  # fmt: skip


def _cs_suicide(e: Planter) -> None:
    e.get(hms("14:44:02"), "https://www.bing.com/search?q=how+to+kill+myself+painlessly&form=QBLH", 121_330)
    e.get(hms("14:45:30"), "https://www.youtube.com/results?search_query=i+want+to+die+suicide+note", 402_118)
    e.get(hms("14:47:12"), "https://duckduckgo.com/?q=suicide%20methods%20overdose&ia=web", 38_220)


def _cs_extremism(e: Planter) -> None:
    e.get(hms("11:12:20"), "https://duckduckgo.com/?q=how%20to%20make%20a%20pipe%20bomb&ia=web", 37_440)
    e.get(hms("11:13:05"), "https://www.google.com/search?q=how+to+join+isis+uk&sourceid=chrome&ie=UTF-8", 149_002)
    e.get(hms("11:15:40"), "https://www.bing.com/search?q=buy+zombie+knife+uk+no+id&form=QBLH", 118_040)


def _sd_substrings(e: Planter) -> None:
    _suggest(e, "09:31:10", "harmony and melody gcse music")
    e.get(hms("09:36:00"), "https://www.google.com/search?q=skill+set+examples+for+a+cv&sourceid=chrome&ie=UTF-8",
          148_220)  # fmt: skip


def _sd_words(e: Planter) -> None:
    e.get(hms("13:52:10"), "https://www.bing.com/search?q=pharmacist+apprenticeships+essex&form=QBLH", 119_870)
    e.get(hms("13:53:44"), "https://www.youtube.com/results?search_query=grape+juice+density+experiment", 398_002)
    e.get(hms("13:55:02"), "https://duckduckgo.com/?q=therapist%20career%20salary%20uk&ia=web", 36_110)


# fmt: off
CONCERNING_SEARCH: tuple[Planted, ...] = (
    Planted("concerning-search", _P, False, "Google suggest keystrokes and search 'how to self harm without anyone "
            "knowing', 10:02-10:05", _cs_selfharm),
    Planted("concerning-search", _P, False, "Bing, YouTube and DuckDuckGo searches about suicide, 14:44-14:47",
            _cs_suicide),
    Planted("concerning-search", _P, False, "DuckDuckGo, Google and Bing searches: pipe bomb, join isis, zombie "
            "knife, 11:12-11:16", _cs_extremism),
    Planted("concerning-search", _D, False, "'harmony' keystrokes and a 'skill set' search (keywords only as "
            "substrings), 09:31-09:36", _sd_substrings),
    Planted("concerning-search", _D, False, "'pharmacist', 'grape juice', 'therapist' searches (keywords only as "
            "substrings), 13:52-13:55", _sd_words),
)
# fmt: on
