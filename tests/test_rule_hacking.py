"""hacking-tools: hacking sites, tool downloads named as whole words, tool user agents; decoys that must stay quiet."""

from __future__ import annotations

import random
from importlib import resources

import numpy as np
import pyarrow as pa
import pytest
from rulecase import Day

from filterlog.errors import ConfigError
from filterlog.rules import _lists
from filterlog.rules.hacking import _file_names, ends_with_any

RULE = "hacking-tools"
SQLMAP = "sqlmap/1.7.2#stable (https://sqlmap.org)"
NIKTO = "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)"


def _cracker(day: Day, user: str = "alice") -> Day:
    day.get("10:58:02", "https://hashcat.net/hashcat/", 22_340, user=user)
    day.get("10:59:15", "https://hashcat.net/files/hashcat-6.2.6.7z", 22_033_210, mime="application/x-7z-compressed",
            user=user, ref="https://hashcat.net/hashcat/")  # fmt: skip
    day.get("11:04:10", "https://github.com/gentilkiwi/mimikatz/releases", 281_220, user=user)
    day.get("11:04:41", "https://github.com/gentilkiwi/mimikatz/releases/download/2.2.0/mimikatz_trunk.zip", 1_102,
            code="TCP_MISS/302", user=user)  # fmt: skip
    asset = (
        "https://objects.githubusercontent.com/asset-2e65be/18496166/mimikatz_trunk.zip?response-content-disposition=a"
    )
    day.get("11:04:42", asset, 1_206_110, mime="application/octet-stream", user=user)
    return day


def _scanner(day: Day, user: str = "bob", host: str = "testphp.vulnweb.com") -> Day:
    for i in range(8):
        day.get(f"13:40:{i * 3:02d}", f"http://{host}/listproducts.php?cat={i}", 5_000, user=user, ua=SQLMAP)
    for i, path in enumerate(("/", "/admin/", "/phpmyadmin/")):
        day.get(f"13:41:{i * 2:02d}", f"http://{host}{path}", 1_240, code="TCP_MISS/404", user=user, ua=NIKTO)
    return day


# positives ------------------------------------------------------------------------------------------------------


def test_tool_downloads_and_the_hacking_site_are_one_finding_with_names_and_sizes() -> None:
    found = _cracker(Day()).findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert f["detail"] == (
        "downloaded hashcat-6.2.6.7z (22 MB), mimikatz_trunk.zip (1 MB); "
        "visited hashcat.net (hacking list), 10:58-11:04"
    )
    assert (f["user"], f["severity"], f["domain"], f["category"]) == ("alice", "high", "hashcat.net", "hacking")
    # the github releases page is neither listed nor a download: it is not evidence
    assert f["count"] == 4 and f["evidence_total"] == 4
    assert f["bytes"] == 22_340 + 22_033_210 + 1_102 + 1_206_110


def test_hacking_tool_user_agents_fire_and_name_the_tools_and_target() -> None:
    found = _scanner(Day(), host="10.0.0.20").findings(RULE)  # an internal server: not on any list
    assert len(found) == 1
    f = found[0]
    assert f["detail"] == "hacking-tool user agents: sqlmap (8 requests), Nikto (3 requests) to 10.0.0.20, 13:40-13:41"
    assert (f["user"], f["count"], f["severity"]) == ("bob", 11, "high")


def test_user_agents_against_a_listed_site_also_name_the_visit() -> None:
    day = _scanner(Day()).get("13:38:10", "https://www.darknet.org.uk/category/hacking-tools/", 61_220, user="bob")
    (f,) = day.findings(RULE)
    assert f["detail"] == (
        "hacking-tool user agents: sqlmap (8 requests), Nikto (3 requests) to testphp.vulnweb.com; "
        "visited darknet.org.uk, vulnweb.com (hacking list), 13:38-13:41"
    )


def test_a_scanner_installer_and_a_hacking_distribution_iso() -> None:
    day = Day()
    day.get("14:10:50", "https://nmap.org/dist/nmap-7.94-setup.exe", 31_402_112, mime="application/x-msdownload")
    day.get("14:21:40", "https://cdimage.kali.org/kali-2026.3/kali-linux-2026.3-installer-amd64.iso", 312_480_000,
            code="TCP_MISS_ABORTED/200", mime="application/x-iso9660-image")  # fmt: skip
    (f,) = day.findings(RULE)
    assert f["detail"].startswith(
        "downloaded nmap-7.94-setup.exe (31 MB), kali-linux-2026.3-installer-amd64.iso (312 MB)"
    )
    assert f["detail"].endswith("; visited nmap.org, kali.org (hacking list), 14:10-14:21")


def test_the_file_name_a_download_link_asks_for_is_the_name() -> None:
    url = ("https://objects.githubusercontent.com/release-asset/3f2a9c/0b1e?X-Amz-Date=20261118"
           "&response-content-disposition=attachment%3B%20filename%3Dmimikatz_trunk.zip")  # fmt: skip
    (f,) = Day().get("11:04:42", url, 1_206_110, mime="application/octet-stream").findings(RULE)
    assert f["detail"] == "downloaded mimikatz_trunk.zip (1 MB), 11:04"


def test_a_blocked_download_is_named_as_blocked() -> None:
    (f,) = Day().deny("09:30:00", "http://files.example.net/tools/LOIC-1.0.8-binary.zip").findings(RULE)
    assert f["detail"] == "downloaded LOIC-1.0.8-binary.zip (blocked), 09:30"


def test_a_version_number_may_follow_the_tool_name_but_letters_may_not() -> None:
    day = Day().get("09:00:00", "https://example.net/pwdump7.zip", 90_000, user="alice")
    day.get("09:00:00", "https://example.net/hashcatalogue.zip", 90_000, user="bob")
    assert day.who(RULE) == {"alice"}


# decoys ---------------------------------------------------------------------------------------------------------


def test_a_google_search_for_nmap_and_an_nmap_article_are_not_hacking() -> None:
    day = Day()
    day.get("10:05:12", "https://www.google.com/search?q=what+is+nmap+used+for+gcse+computer+science", 158_330)
    day.get("10:06:02", "https://www.geeksforgeeks.org/nmap-command-in-linux-with-examples/", 142_008,
            ref="https://www.google.com/")  # fmt: skip
    assert day.findings(RULE) == []


def test_ordinary_installers_are_not_hacking_tools() -> None:
    day = Day()
    day.get("09:20:41", "https://scratch.mit.edu/download", 41_230)
    day.get("09:21:30", "https://downloads.scratch.mit.edu/desktop/Scratch%20Setup.exe", 96_800_211,
            mime="application/x-msdownload")  # fmt: skip
    day.get("09:25:03", "https://www.python.org/ftp/python/3.12.7/python-3.12.7-amd64.exe", 26_870_154,
            mime="application/octet-stream")  # fmt: skip
    assert day.findings(RULE) == []


def test_a_tool_name_in_a_page_that_is_not_a_download_does_not_fire() -> None:
    day = Day().get("10:00:00", "https://blog.example.org/mimikatz-explained.html", 40_000)
    day.get("10:01:00", "https://blog.example.org/hashcat/", 40_000, mime="text/html")
    assert day.findings(RULE) == []


def test_proxy_authentication_challenges_are_not_visits() -> None:
    day = Day()
    for second in range(0, 40, 4):
        day.challenge(f"10:00:{second:02d}", "hashcat.net:443")
    assert day.findings(RULE) == []


# grouping and parameters ----------------------------------------------------------------------------------------


def test_visits_only_are_rated_visit_severity() -> None:
    day = Day().get("14:10:05", "https://nmap.org/download.html", 48_110)
    (f,) = day.findings(RULE)
    assert (f["severity"], f["detail"]) == ("medium", "visited nmap.org (hacking list), 14:10")
    assert day.findings(RULE, visit_severity="low")[0]["severity"] == "low"
    with pytest.raises(ConfigError, match="visit_severity"):
        day.findings(RULE, visit_severity="urgent")


def test_episodes_split_on_long_gaps() -> None:
    day = _scanner(_cracker(Day(), user="alice"), user="alice")
    assert [f["detail"][-11:] for f in day.findings(RULE)] == ["10:58-11:04", "13:40-13:41"]
    assert len(day.findings(RULE, episode_gap_minutes=180)) == 1


def test_findings_are_per_person() -> None:
    assert Day().who(RULE) == set()
    assert _scanner(_cracker(Day(), user="alice"), user="bob").who(RULE) == {"alice", "bob"}


def test_the_school_can_add_and_remove_tool_names() -> None:
    day = Day().get("09:00:00", "https://2.na.dl.wireshark.org/win64/Wireshark-4.4.1-x64.exe", 86_000_000,
                    mime="application/x-msdownload")  # fmt: skip
    day.get("09:05:00", "https://github.com/nmap/nmap/releases/download/v7.94/nmap-7.94-setup.exe", 31_000_000,
            mime="application/octet-stream")  # fmt: skip
    assert [f["detail"] for f in day.findings(RULE)] == ["downloaded nmap-7.94-setup.exe (31 MB), 09:05"]
    assert day.findings(RULE, extra_tools=["Wireshark"])[0]["detail"].startswith(
        "downloaded Wireshark-4.4.1-x64.exe (86 MB), nmap-7.94-setup.exe"
    )
    assert day.findings(RULE, ignore_tools=["nmap"]) == []


def test_download_extensions_and_types_are_settings() -> None:
    day = Day().get("09:00:00", "https://example.net/get?id=7", 5_000_000, mime="application/x-hashcat-bundle")
    day.get("09:00:05", "https://example.net/hashcat-6.2.6.cab", 5_000_000, mime="text/plain")
    assert day.findings(RULE) == []
    assert day.findings(RULE, download_extensions=["cab"])[0]["detail"] == "downloaded hashcat-6.2.6.cab (5 MB), 09:00"


def test_categories_are_a_setting() -> None:
    day = Day().get("10:00:00", "https://www.bet365.com/", 20_000)
    assert day.findings(RULE) == []
    assert (
        day.findings(RULE, categories=["hacking", "gambling"])[0]["detail"]
        == "visited bet365.com (gambling list), 10:00"
    )


def test_a_summer_day_is_reported_on_the_local_clock() -> None:
    (f,) = _cracker(Day("2026-07-15")).findings(RULE)
    assert f["detail"].endswith(", 10:58-11:04")  # BST: 09:58-10:04 UTC
    assert f["start"].hour == 9 and str(f["date"]) == "2026-07-15"


# building blocks ------------------------------------------------------------------------------------------------


def test_ends_with_any_agrees_with_python_on_awkward_strings() -> None:
    rng = random.Random(5)
    alphabet = "abcXYZ.7z/éx"
    values = [None, "", ".7z", "a.EXE", "x.exe", "é.zip", "/r.Zip"]
    values += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(3000)]
    suffixes = [".exe", ".7z", ".zip", ".z"]
    expected = np.array([v is not None and v.lower().endswith(tuple(suffixes)) for v in values])
    array = pa.array(values, pa.string())
    assert (ends_with_any(array, suffixes) == expected).all()
    assert (ends_with_any(array.slice(3), suffixes) == expected[3:]).all()
    assert (ends_with_any(pa.chunked_array([array.slice(0, 10), array.slice(10)]), suffixes) == expected).all()
    assert (ends_with_any(array.cast(pa.large_string()), suffixes) == expected).all()
    assert (ends_with_any(array.dictionary_encode(), suffixes) == expected).all()
    longer = [".tar.gz", ".7z"]  # past 4 bytes: the 8-byte path
    values = [*values, "a.TAR.GZ", "tar.gz", "x.tar.gz"]
    expected = np.array([v is not None and v.lower().endswith(tuple(longer)) for v in values])
    assert (ends_with_any(pa.array(values, pa.string()), longer) == expected).all()


def test_a_download_is_named_by_the_last_segment_of_its_path_or_the_name_its_link_asks_for() -> None:
    paths = ["/a/b/nmap-7.94.exe", "nmap.zip", "/dir/", None, "/x/line\nbreak/y.7z", "/p/%2520sp%20ace.zip", "/q/r.bin"]
    paths += ["/s/t.zip", "/u/v.zip", "/w/x.zip"]
    queries = [None, "", None, None, None, None, "response-content-disposition=attachment%3B%20filename%3Dmimi.zip"]
    # any case, as Python folds it (a dotless i too, which an ASCII prefilter would miss); an empty name: the path's
    queries += ["FileName=Hashcat.7z&x=1", "f\u0131lename=dotless.zip", "filename="]
    names = _file_names(pa.array(paths, pa.string()), pa.array(queries, pa.string()))
    expected = ["nmap-7.94.exe", "nmap.zip", "", "", "y.7z", "sp ace.zip", "mimi.zip", "Hashcat.7z", "dotless.zip"]
    expected += ["x.zip"]
    assert names.to_pylist() == expected


def test_every_shipped_list_has_a_sourced_header_and_is_in_the_readme_with_its_count() -> None:
    folder = resources.files("filterlog.rules").joinpath("keywords")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    for name in _lists.available():
        text = folder.joinpath(f"{name}.txt").read_text(encoding="utf-8")
        assert "How entries were chosen" in text and "Licence:" in text, name
        words = [e for e in _lists.entries(name) if not e.startswith("!")]
        exceptions = len(_lists.entries(name)) - len(words)
        count = f"| {len(words)} ({exceptions}) |" if exceptions else f"| {len(words)} |"
        assert f"`{name}.txt`" in readme and count in readme.split(f"`{name}.txt`")[1].split("\n")[0], name
