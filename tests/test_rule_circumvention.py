"""circumvention: VPN, web proxy, Tor, DoH, tunnels, IP fan-out and odd ports; SSO, Safe Links and Teams stay quiet."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from rulecase import Day

from filterlog.errors import ConfigError
from filterlog.rules.circumvention import detect, fan_out
from filterlog.rules.context import Context
from filterlog.rules.hits import assemble
from filterlog.rules.model import get_rule

RULE = "circumvention"
TOR_IPS = (("45.66.33.45", 443), ("185.220.101.4", 9001), ("193.11.114.43", 9001), ("51.15.40.90", 443),
           ("171.25.193.9", 443), ("204.13.164.118", 9001), ("94.23.172.32", 443))  # fmt: skip


def _vpn(day: Day, user: str = "alice", hour: str = "09") -> Day:
    day.deny(f"{hour}:40:11", "nordvpn.com:443", user=user)
    day.deny(f"{hour}:40:12", "nordvpn.com:443", user=user)
    day.get(f"{hour}:42:30", "https://protonvpn.com/download", 88_120, user=user)
    day.get(f"{hour}:43:05", "https://protonvpn.com/download/ProtonVPN_v4.1.10_x64.exe", 94_605_312, user=user,
            mime="application/x-msdownload", elapsed=38_400)  # fmt: skip
    for i, t in enumerate(("47:20", "51:02", "58:40")):
        day.connect(f"{hour}:{t}", "api.protonvpn.ch:443", 12_400 + 3_100 * i, elapsed=95_000, user=user)
    return day


def _tor(day: Day, user: str = "bob", ips: tuple[tuple[str, int], ...] = TOR_IPS, step: int = 50) -> Day:
    day.get("13:15:02", "https://www.torproject.org/download/", 35_870, user=user)
    day.get("13:16:30", "https://dist.torproject.org/torbrowser/14.0.2/tor-browser-windows-x86_64-portable-14.0.2.exe",
            98_302_118, user=user, mime="application/x-msdownload", elapsed=41_000)  # fmt: skip
    t = day.epoch("13:20:00")
    for ip, port in ips:
        t += step
        if port == 443:
            day.connect(t, f"{ip}:{port}", 10_000, elapsed=5_000, user=user)
        else:
            day.deny(t, f"{ip}:{port}", user=user)
    return day


def _glype(day: Day, user: str = "carol") -> Day:
    day.get("11:05:12", "https://www.croxyproxy.com/", 41_302, user=user)
    for i, target in enumerate(("http%3A%2F%2Fwww.tiktok.com%2F", "https%3A%2F%2Fwww.instagram.com%2Fexplore%2F")):
        day.get(f"11:0{6 + i}:05", f"http://lessonhub.glitch.me/browse.php?u={target}&b=4", 50_000, user=user)
    return day


def _ports(day: Day, user: str = "dave") -> Day:
    for i, target in enumerate(("185.159.157.13:1194",) * 3 + ("51.158.108.203:22",) * 2):
        day.deny(f"14:05:{9 + 10 * i:02d}", target, user=user)
    return day


def _by_kind(found: list[dict]) -> dict[str, dict]:
    return {f["category"]: f for f in found}


# positives -----------------------------------------------------------------------------------------
def test_vpn_sites_blocked_and_allowed_are_one_finding_with_the_numbers() -> None:
    found = _vpn(Day()).findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert (f["user"], f["category"], f["count"], f["severity"], f["domain"]) == (
        "alice",
        "vpn",
        7,
        "high",
        "protonvpn.ch",
    )
    assert f["bytes"] == 88_120 + 94_605_312 + 12_400 + 15_500 + 18_600
    assert f["detail"] == (
        "VPN: 7 requests to nordvpn.com, protonvpn.com, protonvpn.ch (2 blocked, 95 MB downloaded), 09:40-09:58"
    )
    assert f["evidence_total"] == 7


def test_web_proxy_site_and_glype_urls_on_a_free_host() -> None:
    kinds = _by_kind(_glype(Day()).findings(RULE))
    assert set(kinds) == {"proxy", "proxy-url"}
    assert kinds["proxy"]["detail"] == "Web proxy: 1 request to croxyproxy.com (41 KB downloaded), 11:05"
    shaped = kinds["proxy-url"]
    assert (shaped["count"], shaped["domain"], shaped["severity"]) == (2, "lessonhub.glitch.me", "high")
    assert shaped["detail"] == (
        "Web-proxy URLs: 2 requests to lessonhub.glitch.me shaped like a web proxy (glype browse.php?u=) "
        "fetching www.tiktok.com, www.instagram.com (100 KB downloaded), 11:06-11:07"
    )


@pytest.mark.parametrize(
    ("url", "shape"),
    [
        ("http://u.example.net/index.php?q=aHR0cHM6Ly93d3cudGlrdG9rLmNvbS8%3D&hl=3e5", "PHProxy index.php?q="),
        ("http://u.example.net/cgi-bin/nph-proxy.cgi/010110A/https/www.roblox.com/", "CGIProxy nph-proxy"),
        ("https://u.example.net/proxy?url=https%3A%2F%2Fwww.roblox.com%2F", "proxy?url="),
        ("https://u.example.net/go/https://www.roblox.com/games", "URL in path"),
        ("https://u.example.net/x/https%3A%2F%2Fwww.roblox.com", "URL in path"),
        ("https://maths-help.vercel.app/service/hvtrs8%2F-wuw.tkktoi.aoo%2F", "Ultraviolet /service/"),
        ("https://u.example.net/go?u=https%3A%2F%2Fwww.roblox.com%2F", "?u=http"),
    ],
)
def test_other_proxy_url_shapes(url: str, shape: str) -> None:
    found = Day().get("10:00", url, 5_000).get("10:01", url, 5_000).findings(RULE)
    assert [f["category"] for f in found] == ["proxy-url"]
    assert f"({shape})" in found[0]["detail"]


def test_tor_download_and_ip_fan_out() -> None:
    kinds = _by_kind(_tor(Day()).findings(RULE))
    assert set(kinds) == {"tor", "ip-literals"}
    assert kinds["tor"]["detail"] == (
        "Tor: 2 requests to torproject.org (Tor Browser download tor-browser-windows-x86_64-portable-14.0.2.exe; "
        "98 MB downloaded), 13:15-13:16"
    )
    fan = kinds["ip-literals"]
    assert (fan["count"], fan["severity"], fan["bytes"]) == (7, "high", 40_000)
    assert fan["detail"].startswith("IP-address fan-out: CONNECT to 7 different IP addresses within 5 min: ")
    assert fan["detail"].endswith("+3 more (ports 443, 9001; 3 blocked, 40 KB downloaded), 13:20-13:25")


def test_a_tor_browser_download_from_any_host_and_an_onion_host() -> None:
    day = Day().get("10:00", "https://github.com/TheTorProject/x/releases/download/v1/torbrowser-install-win64-13.0.exe",
                    80_000_000)  # fmt: skip
    day.get("10:30", "http://duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion/", 900,
            code="TCP_MISS/503")  # fmt: skip
    found = day.findings(RULE)
    assert [(f["category"], f["count"]) for f in found] == [("tor", 2)]
    assert "torbrowser-install-win64-13.0.exe" in found[0]["detail"]


def test_denied_connects_to_tunnel_ports() -> None:
    found = _ports(Day()).findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert (f["category"], f["count"], f["bytes"], f["domain"]) == ("unusual-port", 5, 0, "185.159.157.13")
    assert (
        f["detail"]
        == "Unusual ports: 5 CONNECTs to 185.159.157.13:1194, 51.158.108.203:22 (OpenVPN, SSH; 5 blocked), 14:05"
    )


def test_doh_alone_is_low_and_starts_when_the_tunnel_opened() -> None:
    day = Day().connect("11:20:44", "mozilla.cloudflare-dns.com:443", 182_330, elapsed=1_460_000, user="erin")
    day.get("11:21:10", "https://dns.google/dns-query?dns=q80BAAABAAAAAAAAA3d3dwZ0aWt0b2sDY29t", 512, user="erin",
            mime="application/dns-message")  # fmt: skip
    day.get("11:22:10", "https://doh.example.org/dns-query?dns=AAABAAAB", 512, user="erin",
            mime="application/dns-message")  # fmt: skip
    found = day.findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert (f["category"], f["count"], f["severity"]) == ("doh", 3, "low")
    assert f["detail"] == (
        "DNS over HTTPS: 3 requests to cloudflare-dns.com, dns.google, example.org (183 KB downloaded), 10:56-11:22"
    )


def test_doh_with_another_indicator_the_same_day_takes_the_rule_severity() -> None:
    day = _ports(Day(), user="erin").get("11:21:10", "https://dns.google/dns-query?dns=AAAB", 512, user="erin")
    assert {f["category"]: f["severity"] for f in day.findings(RULE)} == {"doh": "high", "unusual-port": "high"}


def test_three_kinds_in_a_day_are_critical() -> None:
    day = _vpn(Day(), user="bob")
    _tor(day, user="bob")
    found = day.findings(RULE)
    assert {f["category"]: f["severity"] for f in found} == {"vpn": "critical", "tor": "critical",
                                                              "ip-literals": "critical"}  # fmt: skip
    assert {f["severity"] for f in day.findings(RULE, critical_kinds=0)} == {"high"}
    assert {f["severity"] for f in _tor(Day()).findings(RULE, critical_kinds=2)} == {"critical"}


def test_a_proxy_site_and_proxy_urls_are_one_means_towards_critical() -> None:
    day = _ports(_glype(Day(), user="carol"), user="carol")  # proxy + proxy-url + unusual-port: two means
    assert {(f["category"], f["severity"]) for f in day.findings(RULE)} == {
        ("proxy", "high"), ("proxy-url", "high"), ("unusual-port", "high")
    }  # fmt: skip


def test_an_open_tunnel_and_the_requests_around_it_are_one_episode() -> None:
    day = Day().connect("11:00", "api.protonvpn.ch:443", 5_000_000, elapsed=3_600_000)  # 10:00-11:00
    day.get("11:25", "https://protonvpn.com/", 10_000)
    found = day.findings(RULE)
    assert [(f["count"], f["detail"][-11:]) for f in found] == [(2, "10:00-11:25")]


def test_episodes_split_after_a_quiet_gap() -> None:
    day = Day().get("09:00", "https://protonvpn.com/", 10_000).get("09:40", "https://protonvpn.com/", 10_000)
    assert len(day.findings(RULE)) == 2
    assert len(day.findings(RULE, episode_gap_minutes=60)) == 1


# decoys --------------------------------------------------------------------------------------------
def test_sso_redirect_uri_urls_do_not_fire() -> None:
    day = Day()
    day.get("08:41:03", "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=4765445b"
            "&redirect_uri=https%3A%2F%2Fwww.office.com%2Flandingv2&response_type=code%20id_token", 24_811)  # fmt: skip
    day.get("08:41:20", "https://accounts.google.com/o/oauth2/v2/auth?client_id=1071006060591.apps.googleuser"
            "content.com&redirect_uri=https://classroom.google.com/auth&response_type=code", 18_230)  # fmt: skip
    day.get("08:41:30", "https://sso.myschool-vle.org.uk/login?returnUrl=https%3A%2F%2Fvle.example.org%2F&next=http://x/",
            9_000)  # fmt: skip
    day.get("08:42:02", "https://classroom.google.com/u/0/h", 52_004)
    assert day.findings(RULE) == []


def test_safe_links_search_and_image_proxies_do_not_fire() -> None:
    day = Day()
    day.get("14:50:08", "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.gov.uk%2Fschool-"
            "term-holiday-dates&data=05%7C02%7C&sdata=aB3%2Fk&reserved=0", 3_411, code="TCP_MISS/302")  # fmt: skip
    day.get("14:51:00", "https://www.bing.com/search?q=https%3A%2F%2Fwww.bbc.co.uk%2Fnews", 30_000)
    day.get("14:52:00", "https://external-content.duckduckgo.com/iu/?u=https%3A%2F%2Ftse1.mm.bing.net%2Fth", 9_000)
    day.get("14:53:00", "https://web.archive.org/web/2020/https://www.bbc.co.uk/news", 90_000)
    day.get("14:54:00", "https://www.example.org/blog/index.php?page=2&q=photosynthesis", 20_000)
    day.get("14:55:00", "https://forum.example.org/image-proxy?url=https%3A%2F%2Fi.imgur.com%2Fa.png", 20_000)
    assert day.findings(RULE) == []


def test_a_single_connect_to_an_ip_literal_does_not_fire() -> None:
    day = Day().connect("10:12:31", "52.113.194.132:443", 1_884_210, elapsed=612_000, user="staff1")
    day.get("10:13:00", "https://teams.microsoft.com/v2/", 38_002, user="staff1")
    assert day.findings(RULE) == []


def test_ip_literals_below_the_threshold_or_spread_out_do_not_fire() -> None:
    four = tuple((ip, 443) for ip, _ in TOR_IPS[:4])
    assert {f["category"] for f in _tor(Day(), ips=four).findings(RULE)} == {"tor"}  # the Tor site only
    # five addresses three minutes apart: never five within ten minutes
    five = tuple((ip, 443) for ip, _ in TOR_IPS[:5])
    assert {f["category"] for f in _tor(Day(), ips=five, step=180).findings(RULE)} == {"tor"}
    wider = _tor(Day(), ips=five, step=180).findings(RULE, ip_literal_minutes=12)
    assert {f["category"] for f in wider} == {"tor", "ip-literals"}


def test_tor_ports_outside_a_fan_out_are_unusual_ports() -> None:
    kinds = _by_kind(_tor(Day(), ips=TOR_IPS[:4]).findings(RULE))
    assert set(kinds) == {"tor", "unusual-port"}
    assert kinds["unusual-port"]["detail"].startswith(
        "Unusual ports: 2 CONNECTs to 185.220.101.4:9001, 193.11.114.43:9001 (Tor relay; 2 blocked), "
    )


def test_teams_media_relays_fanning_out_do_not_fire_unless_their_range_is_removed() -> None:
    day = Day()
    for i in range(6):
        day.connect(f"10:1{i}:31", f"52.113.194.{130 + i}:443", 1_884_210, elapsed=60_000, user="staff1")
    assert day.findings(RULE) == []
    assert [f["count"] for f in day.findings(RULE, ip_literal_allow=[])] == [6]


def test_a_mistyped_allowed_range_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ip_literal_allow"):
        Day().connect("10:00", "45.66.33.45:443").findings(RULE, ip_literal_allow=["52.112.0.0/33"])


def test_private_addresses_and_407_challenges_do_not_count() -> None:
    day = Day()
    for i in range(8):
        day.connect(f"09:0{i}:00", f"10.1.0.{i + 1}:443", 5_000, user="tech")
        day.connect(f"09:0{i}:30", f"192.168.1.{i + 1}:8080", 5_000, user="tech")
    for i in range(30):
        day.challenge(f"10:{i:02d}:00", f"185.159.157.{i}:1194")
    assert day.findings(RULE) == []


def test_ordinary_ports_and_hosts_do_not_fire() -> None:
    day = Day().connect("09:00", "www.bbc.co.uk:443", 50_000).get("09:01", "http://intranet.school.local:8080/x", 2_000)
    assert day.findings(RULE) == []


# parameters ----------------------------------------------------------------------------------------
def test_thresholds_come_from_the_site_configuration() -> None:
    kinds = _by_kind(_tor(Day()).findings(RULE, ip_literals=8))
    assert (set(kinds), kinds["unusual-port"]["count"]) == ({"tor", "unusual-port"}, 3)
    only_ssh = _ports(Day()).findings(RULE, ports=[22])
    assert [(f["count"], f["domain"]) for f in only_ssh] == [(2, "51.158.108.203")]
    assert {f["category"] for f in _glype(Day()).findings(RULE, embedded_url_allow=["glitch.me"])} == {"proxy"}
    assert _vpn(Day()).findings(RULE, categories=["proxy"]) == []
    doh = Day().get("11:21:10", "https://dns.google/dns-query?dns=AAAB", 512)
    assert [f["severity"] for f in doh.findings(RULE, doh_severity="medium")] == ["medium"]


# time zones, chunks and the fan-out window ---------------------------------------------------------
def test_a_summer_day_reports_local_times() -> None:
    found = _vpn(Day("2026-07-15")).findings(RULE)
    assert len(found) == 1
    assert found[0]["detail"].endswith(", 09:40-09:58")
    assert found[0]["start"].isoformat() == "2026-07-15T08:40:10.999000+00:00"
    assert str(found[0]["date"]) == "2026-07-15"
    kinds = _by_kind(_tor(Day("2026-07-15")).findings(RULE))
    assert kinds["ip-literals"]["detail"].endswith(", 13:20-13:25")


def test_chunked_events_give_the_same_findings() -> None:
    day = _glype(_ports(_tor(_vpn(Day()))))
    ctx = day.context()
    rule = get_rule(RULE, day.config())
    whole = assemble(rule, detect(ctx, rule), ctx)
    events = ctx.events
    pieces = pa.concat_tables([events.slice(0, 7), events.slice(7, 11), events.slice(18)])
    chunked = Context(pieces, ctx.config)
    split = assemble(rule, detect(chunked, rule), chunked)
    assert split.num_rows == whole.num_rows == 6
    assert split.select(["finding_id", "detail", "count"]).equals(whole.select(["finding_id", "detail", "count"]))


def test_fan_out_window_is_exact_and_per_person() -> None:
    minute = 60_000
    who = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
    ms = np.array([0, 2, 4, 6, 10, 1, 3, 5, 7]) * minute
    ip = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9])
    # person 0: five addresses in exactly ten minutes (inclusive); person 1 only four
    assert fan_out(who, ms, ip, 5, 10 * minute).tolist() == [True] * 5 + [False] * 4
    assert not fan_out(who, ms, ip, 5, 10 * minute - 1).any()
    # repeats of one address are one address, wherever they fall
    same = np.array([1, 1, 1, 2, 2, 3, 3, 4, 4])
    assert not fan_out(np.zeros(9, int), np.arange(9) * minute, same, 5, 10 * minute).any()
    assert fan_out(np.zeros(9, int), np.arange(9) * minute, same, 4, 10 * minute).all()
