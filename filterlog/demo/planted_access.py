"""Planted attempts to get past the filter: repeated blocks, circumvention and hacking tools.

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


def _rb_gambler(e: Planter) -> None:
    bursts(
        e,
        ("09:12:04", "09:17:40", "09:24:13", "09:33:51"),
        ("www.bet365.com:443", "www.bet365.com:443", "http://www.bet365.com/", "http://www.bet365.com/favicon.ico"),
    )


def _rb_prober(e: Planter) -> None:
    bursts(e, ("13:20:10",), ("www.williamhill.com:443", "www.williamhill.com:443"))
    bursts(e, ("13:23:02",), ("www.paddypower.com:443", "http://www.paddypower.com/"))
    bursts(e, ("13:26:45",), ("www.skybet.com:443", "www.skybet.com:443"))
    bursts(e, ("13:29:30",), ("www.coral.co.uk:443",))
    e.connect(hms("13:33:58"), "www.betvictor.com:443", 184_220, elapsed=41_230)
    e.get(hms("13:34:20"), "https://www.betvictor.com/en-gb/sports/football", 96_512)


def _rb_storm(e: Planter) -> None:
    t = hms("10:02:00")
    for _ in range(55):
        t += e.jitter(1.0, 4.0)
        e.connect(t, "outlook.office365.com:443", 3_986, elapsed=0, code="TCP_DENIED/407", anon=True)
    e.connect(t + 2.0, "outlook.office365.com:443", 48_211, elapsed=31_840)
    e.get(t + 5.0, "https://outlook.office365.com/mail/", 61_840)


def _rb_adverts(e: Planter) -> None:
    t = hms("11:01:00")
    for path in ("/algebra/index.html", "/geometry/circle-area.html", "/numbers/fractions.html",
                 "/data/histograms.html", "/algebra/equations-solving.html", "/percentage.html"):  # fmt: skip
        page = f"https://www.mathsisfun.com{path}"
        e.get(t, page, int(e.jitter(18_000, 40_000)))
        e.deny(t + e.jitter(0.3, 0.9), "https://securepubads.g.doubleclick.net/tag/js/gpt.js", ref=page)
        e.deny(t + e.jitter(1.0, 1.6), "https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js", ref=page)
        t += e.jitter(150, 280)


def _rb_single(e: Planter) -> None:
    bursts(e, ("11:42:17",), ("www.888casino.com:443", "www.888casino.com:443", "http://www.888casino.com/"))
    e.get(hms("11:44:02"), "https://www.bbc.co.uk/bitesize/guides/zc9hv4j/revision/1", 74_211)


# fmt: off
REPEATED_BLOCKED: tuple[Planted, ...] = (
    Planted("repeated-blocked", _P, False, "4 blocked attempts (bursts >=60 s apart) at gambling site bet365.com, "
            "09:12-09:34 local", _rb_gambler),
    Planted("repeated-blocked", _P, False, "probing: williamhill, paddypower, skybet, coral blocked within 10 min, "
            "then betvictor.com allowed, 13:20-13:35", _rb_prober),
    Planted("repeated-blocked", _D, False, "storm of 55 TCP_DENIED/407 challenges (user '-') to "
            "outlook.office365.com, 10:02-10:05", _rb_storm),
    Planted("repeated-blocked", _D, False, "blocked adverts (doubleclick, googlesyndication) inside 6 ordinary "
            "mathsisfun.com pages, 11:01-11:25", _rb_adverts),
    Planted("repeated-blocked", _D, False, "a single blocked attempt (one burst) at 888casino.com, 11:42",
            _rb_single),
)
# fmt: on


def _cv_vpn(e: Planter) -> None:
    e.deny(hms("09:40:11"), "nordvpn.com:443", method="CONNECT")
    e.deny(hms("09:40:12"), "nordvpn.com:443", method="CONNECT")
    e.get(hms("09:42:30"), "https://protonvpn.com/download", 88_120)
    e.get(hms("09:43:05"), "https://protonvpn.com/download/ProtonVPN_v4.1.10_x64.exe", 94_605_312,
          mime="application/x-msdownload", elapsed=38_400, ref="https://protonvpn.com/download")  # fmt: skip
    for i, t in enumerate(("09:47:20", "09:51:02", "09:58:40")):
        e.connect(hms(t), "api.protonvpn.ch:443", 12_400 + 3_100 * i, elapsed=95_000)


def _cv_webproxy(e: Planter) -> None:
    e.get(hms("11:05:12"), "https://www.croxyproxy.com/", 41_302)
    e.get(hms("11:05:40"), "https://www.croxyproxy.com/requests?fso=", 812, method="POST", code="TCP_MISS/302",
          ref="https://www.croxyproxy.com/")  # fmt: skip
    t = hms("11:06:05")
    for target in ("http%3A%2F%2Fwww.tiktok.com%2F", "http%3A%2F%2Fwww.tiktok.com%2Fforyou",
                   "https%3A%2F%2Fwww.instagram.com%2Fexplore%2F", "https%3A%2F%2Fwww.roblox.com%2Fhome"):  # fmt: skip
        e.get(t, f"http://lessonhub.glitch.me/browse.php?u={target}&b=4", int(e.jitter(30e3, 90e3)))
        t += e.jitter(40, 140)


def _cv_tor(e: Planter) -> None:
    e.get(hms("13:15:02"), "https://www.torproject.org/download/", 35_870)
    e.get(hms("13:16:30"), "https://dist.torproject.org/torbrowser/14.0.2/tor-browser-windows-x86_64-portable-14.0.2.exe",
          98_302_118, mime="application/x-msdownload", elapsed=41_000,
          ref="https://www.torproject.org/download/")  # fmt: skip
    t = hms("13:20:00")
    for ip, port in (("45.66.33.45", 443), ("185.220.101.4", 9001), ("193.11.114.43", 9001), ("51.15.40.90", 443),
                     ("171.25.193.9", 443), ("204.13.164.118", 9001), ("94.23.172.32", 443)):  # fmt: skip
        t += e.jitter(25, 70)
        if port == 443:
            e.connect(t, f"{ip}:{port}", int(e.jitter(4e3, 60e3)), elapsed=int(e.jitter(2e3, 9e4)))
        else:
            e.deny(t, f"{ip}:{port}", method="CONNECT")


def _cv_tunnel_ports(e: Planter) -> None:
    t = hms("14:05:09")
    for target in ("185.159.157.13:1194",) * 3 + ("51.158.108.203:22",) * 2:
        e.deny(t, target, method="CONNECT")
        t += e.jitter(15, 40)
    e.get(t + 60, "https://classroom.google.com/u/0/h", 45_002)


def _cv_doh(e: Planter) -> None:
    e.connect(hms("11:20:44"), "mozilla.cloudflare-dns.com:443", 182_330, elapsed=1_460_000)
    t = hms("11:21:10")
    for q in ("q80BAAABAAAAAAAAA3d3dwZ0aWt0b2sDY29tAAABAAE", "AAABAAABAAAAAAAAB3JvYmxveANjb20AAAEAAQ",
              "AAABAAABAAAAAAAACWluc3RhZ3JhbQNjb20AAAEAAQ"):  # fmt: skip
        e.get(t, f"https://dns.google/dns-query?dns={q}", 512, mime="application/dns-message")
        t += e.jitter(20, 60)


def _cd_sso(e: Planter) -> None:
    e.get(hms("08:41:03"), "https://login.microsoftonline.com/common/oauth2/v2.0/authorize?client_id=4765445b-32c6-"
          "49b0-83e6-1d93765276ca&redirect_uri=https%3A%2F%2Fwww.office.com%2Flandingv2&response_type=code%20id_token"
          "&scope=openid%20profile&response_mode=form_post&nonce=638671234", 24_811)  # fmt: skip
    e.get(hms("08:41:20"), "https://accounts.google.com/o/oauth2/v2/auth?client_id=1071006060591.apps."
          "googleusercontent.com&redirect_uri=https://classroom.google.com/auth&response_type=code"
          "&scope=openid%20email", 18_230)  # fmt: skip
    e.get(hms("08:42:02"), "https://classroom.google.com/u/0/h", 52_004)


def _cd_single_ip(e: Planter) -> None:
    e.connect(hms("10:12:31"), "52.113.194.132:443", 1_884_210, elapsed=612_000)
    e.get(hms("10:13:00"), "https://teams.microsoft.com/v2/", 38_002)


def _cd_safelinks(e: Planter) -> None:
    e.get(hms("14:50:08"), "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.gov.uk%2Fschool-"
          "term-holiday-dates&data=05%7C02%7C&sdata=aB3%2Fk&reserved=0", 3_411, code="TCP_MISS/302")  # fmt: skip
    e.get(hms("14:50:09"), "https://www.gov.uk/school-term-holiday-dates", 28_003)


# fmt: off
CIRCUMVENTION: tuple[Planted, ...] = (
    Planted("circumvention", _P, False, "VPN: nordvpn.com blocked, protonvpn.com download and api.protonvpn.ch "
            "tunnels, 09:40-09:59", _cv_vpn),
    Planted("circumvention", _P, False, "web proxy: croxyproxy.com, then glype-style browse.php?u=http%3A%2F%2F... "
            "on lessonhub.glitch.me, 11:05-11:15", _cv_webproxy),
    Planted("circumvention", _P, False, "Tor Browser download from torproject.org, then CONNECT to 7 IP literals "
            "(443 and 9001) within 8 min, 13:15-13:30", _cv_tor),
    Planted("circumvention", _P, False, "CONNECT to port 1194 (OpenVPN) x3 and port 22 x2, denied, 14:05-14:08",
            _cv_tunnel_ports),
    Planted("circumvention", _P, False, "DoH: mozilla.cloudflare-dns.com tunnel and dns.google/dns-query, "
            "10:56-11:23", _cv_doh),
    Planted("circumvention", _D, False, "SSO URLs carrying redirect_uri=https... (login.microsoftonline.com, "
            "accounts.google.com), 08:41", _cd_sso),
    Planted("circumvention", _D, True, "a single CONNECT to an IP literal on 443 (Teams media relay), 10:12",
            _cd_single_ip),
    Planted("circumvention", _D, True, "Outlook Safe Links URL embedding url=https%3A%2F%2Fwww.gov.uk..., 14:50",
            _cd_safelinks),
)
# fmt: on


def _ht_cracking(e: Planter) -> None:
    e.get(hms("10:58:02"), "https://hashcat.net/hashcat/", 22_340)
    e.get(hms("10:59:15"), "https://hashcat.net/files/hashcat-6.2.6.7z", 22_033_210,
          mime="application/x-7z-compressed", elapsed=9_400, ref="https://hashcat.net/hashcat/")  # fmt: skip
    e.get(hms("11:04:10"), "https://github.com/gentilkiwi/mimikatz/releases", 281_220)
    e.get(hms("11:04:41"), "https://github.com/gentilkiwi/mimikatz/releases/download/2.2.0-20220919/mimikatz_trunk.zip",
          1_102, code="TCP_MISS/302")  # fmt: skip
    e.get(hms("11:04:42"), "https://objects.githubusercontent.com/github-production-release-asset-2e65be/18496166/"
          "mimikatz_trunk.zip?response-content-disposition=attachment", 1_206_110,
          mime="application/octet-stream")  # fmt: skip


def _ht_scanners(e: Planter) -> None:
    e.get(hms("14:10:05"), "https://nmap.org/download.html", 48_110)
    e.get(hms("14:10:50"), "https://nmap.org/dist/nmap-7.94-setup.exe", 31_402_112, mime="application/x-msdownload",
          elapsed=12_300, ref="https://nmap.org/download.html")  # fmt: skip
    e.get(hms("14:21:40"), "https://cdimage.kali.org/kali-2026.3/kali-linux-2026.3-installer-amd64.iso", 312_480_000,
          code="TCP_MISS_ABORTED/200", mime="application/x-iso9660-image", elapsed=241_000)  # fmt: skip


def _ht_useragents(e: Planter) -> None:
    e.get(hms("13:38:10"), "https://www.darknet.org.uk/category/hacking-tools/", 61_220)
    t = hms("13:40:02")
    for p in ("1", "1%27", "1%20AND%201%3D1", "1%20AND%201%3D2", "1%20UNION%20ALL%20SELECT%20NULL--",
              "1%27%20OR%20%271%27%3D%271", "1%20ORDER%20BY%201--", "1%20AND%20SLEEP%285%29"):  # fmt: skip
        t += e.jitter(0.3, 6)
        e.get(t, f"http://testphp.vulnweb.com/listproducts.php?cat={p}", int(e.jitter(4e3, 8e3)),
              ua="sqlmap/1.7.2#stable (https://sqlmap.org)")  # fmt: skip
    for path in ("/", "/admin/", "/phpmyadmin/"):
        t += e.jitter(1, 3)
        e.get(t, f"http://testphp.vulnweb.com{path}", 1_240, code="TCP_MISS/404",
              ua="Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)")  # fmt: skip


def _hd_search(e: Planter) -> None:
    e.get(hms("10:05:12"), "https://www.google.com/search?q=what+is+nmap+used+for+gcse+computer+science"
          "&sourceid=chrome&ie=UTF-8", 158_330)  # fmt: skip
    e.get(hms("10:06:02"), "https://www.geeksforgeeks.org/nmap-command-in-linux-with-examples/", 142_008,
          ref="https://www.google.com/")  # fmt: skip


def _hd_installer(e: Planter) -> None:
    e.get(hms("09:20:41"), "https://scratch.mit.edu/download", 41_230)
    e.get(hms("09:21:30"), "https://downloads.scratch.mit.edu/desktop/Scratch%20Setup.exe", 96_800_211,
          mime="application/x-msdownload", elapsed=30_100, ref="https://scratch.mit.edu/download")  # fmt: skip
    e.get(hms("09:25:03"), "https://www.python.org/ftp/python/3.12.7/python-3.12.7-amd64.exe", 26_870_154,
          mime="application/octet-stream", elapsed=8_800)  # fmt: skip


# fmt: off
HACKING_TOOLS: tuple[Planted, ...] = (
    Planted("hacking-tools", _P, False, "downloads hashcat-6.2.6.7z and mimikatz_trunk.zip, 10:58-11:05",
            _ht_cracking),
    Planted("hacking-tools", _P, False, "downloads nmap-7.94-setup.exe and a Kali Linux installer ISO (aborted), "
            "14:10-14:22", _ht_scanners),
    Planted("hacking-tools", _P, False, "darknet.org.uk (UT1 hacking), then sqlmap and Nikto user agents against "
            "testphp.vulnweb.com, 13:38-13:41", _ht_useragents),
    Planted("hacking-tools", _D, True, "Google search for nmap and an nmap article (text/html), 10:05",
            _hd_search),
    Planted("hacking-tools", _D, True, "Scratch Setup.exe and Python installer downloads, 09:20-09:25",
            _hd_installer),
)
# fmt: on
