"""Planted misuse and look-alike decoys: the demo's answer key, one small function each.

Each scenario writes a few hundred lines through :class:`Planter` on top of the
generated background; ``planted.json`` records who was planted and who is a decoy,
so the rules' tests can check that findings name every planted user and no decoy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .data import hms

if TYPE_CHECKING:
    from .planter import Planter


Scenario = Callable[["Planter"], None]


def _bursts(e: Planter, starts: Sequence[str], targets: Sequence[str]) -> None:
    """Blocked bursts: at each start time, every target denied within a few seconds."""
    for start in starts:
        t = hms(start)
        for target in targets:
            t += e.jitter(0.05, 2.5)
            e.deny(t, target, method="GET" if "://" in target else "CONNECT")


def _rb_gambler(e: Planter) -> None:
    _bursts(
        e,
        ("09:12:04", "09:17:40", "09:24:13", "09:33:51"),
        ("www.bet365.com:443", "www.bet365.com:443", "http://www.bet365.com/", "http://www.bet365.com/favicon.ico"),
    )


def _rb_prober(e: Planter) -> None:
    _bursts(e, ("13:20:10",), ("www.williamhill.com:443", "www.williamhill.com:443"))
    _bursts(e, ("13:23:02",), ("www.paddypower.com:443", "http://www.paddypower.com/"))
    _bursts(e, ("13:26:45",), ("www.skybet.com:443", "www.skybet.com:443"))
    _bursts(e, ("13:29:30",), ("www.coral.co.uk:443",))
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
    _bursts(e, ("11:42:17",), ("www.888casino.com:443", "www.888casino.com:443", "http://www.888casino.com/"))
    e.get(hms("11:44:02"), "https://www.bbc.co.uk/bitesize/guides/zc9hv4j/revision/1", 74_211)


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


def _googlevideo(e: Planter, start: str, end: str, total: float, gap: tuple[float, float], page: str) -> None:
    """A YouTube session: one watch page, then video ranges until ``total`` bytes or ``end``."""
    t, stop = hms(start), hms(end)
    e.get(t, page, 512_301)
    sent, i = 0.0, 0
    while sent < total and t < stop:
        t += e.jitter(*gap)
        n = int(e.jitter(2.2e6, 5.8e6))
        e.get(t, f"https://rr3---sn-aigl6ned.googlevideo.com/videoplayback?expire=17637{i:04d}&itag=248"
              f"&mime=video%2Fwebm&range={i * 5_000_000}-{i * 5_000_000 + n}", n, mime="video/webm",
              code="TCP_MISS/206", elapsed=int(e.jitter(900, 4000)), ref="https://www.youtube.com/")  # fmt: skip
        sent += n
        i += 1


def _nb_youtube(e: Planter) -> None:
    _googlevideo(e, "13:06:10", "14:25:00", 265e6, (35, 85), "https://www.youtube.com/watch?v=dQ8cLx3vTqE")


def _nb_twitch(e: Planter) -> None:
    e.get(hms("09:01:30"), "https://www.twitch.tv/", 310_442)
    minute = hms("09:02:00")
    for _ in range(38):
        e.get(minute + e.jitter(0, 55), "https://gql.twitch.tv/gql", int(e.jitter(2e3, 9e3)), method="POST",
              mime="application/json", ref="https://www.twitch.tv/")  # fmt: skip
        e.get(minute + e.jitter(56, 59.9), f"https://video-weaver.lhr03.hls.ttvnw.net/v1/segment/CpQE{int(minute)}.ts",
              int(e.jitter(600e3, 2.4e6)), mime="video/mp2t", ref="https://www.twitch.tv/")  # fmt: skip
        minute += 60 * (1 + (e.jitter(0, 1) < 0.25))


def _nd_lunch(e: Planter) -> None:
    _googlevideo(e, "12:12:30", "12:58:00", 240e6, (15, 40), "https://www.youtube.com/watch?v=Hk4wY1zQ9pA")


def _nd_after(e: Planter) -> None:
    _googlevideo(e, "15:36:00", "16:50:00", 260e6, (20, 45), "https://www.youtube.com/watch?v=mV2pQe8RtLs")


def _nd_clip(e: Planter) -> None:
    _googlevideo(e, "11:20:05", "11:23:05", 14e6, (30, 50), "https://www.youtube.com/watch?v=Zr0bWq1yHc4")
    t = hms("11:31:00")
    for i in range(12):
        t += e.jitter(50, 110)
        e.get(t, f"https://stream.mux.com/oak{i:02d}Lesson/high.mp4?range={i}", int(e.jitter(6e6, 9e6)),
              mime="video/mp4", code="TCP_MISS/206", ref="https://www.thenational.academy/")  # fmt: skip


def _lf_livescore(e: Planter) -> None:
    e.get(hms("13:04:12"), "https://www.livescore.com/en/football/live/", 88_400)
    t = hms("13:04:30")
    while t < hms("14:06:00"):
        t += e.jitter(30, 60)
        e.get(t, "https://prod-cdn-public-api.livescore.com/v1/api/app/live/soccer/0?locale=en&MD=1",
              int(e.jitter(3_800, 5_600)), mime="application/json", ref="https://www.livescore.com/",
              elapsed=int(e.jitter(40, 160)))  # fmt: skip


def _lf_tunnel(e: Planter) -> None:
    e.get(hms("09:33:02"), "https://discord.com/channels/@me", 140_228)
    e.connect(hms("10:25:20"), "gateway.discord.gg:443", 3_140_552, elapsed=3_136_000)


def _ld_seneca(e: Planter) -> None:
    t = hms("09:00:20")
    while t < hms("09:50:00"):
        t += e.jitter(40, 50)
        e.get(t, "https://app.senecalearning.com/api/sessions/heartbeat", int(e.jitter(300, 420)), method="POST",
              mime="application/json", ref="https://app.senecalearning.com/")  # fmt: skip


def _ld_teams(e: Planter) -> None:
    t = hms("13:10:00")
    while t < hms("14:05:00"):
        t += e.jitter(58, 62)
        e.get(t, "https://presence.teams.microsoft.com/v1/me/endpoints/", 412, method="PUT", mime="application/json",
              ref="https://teams.microsoft.com/")  # fmt: skip


def _ld_lunch_tunnel(e: Planter) -> None:
    e.get(hms("12:12:40"), "https://www.twitch.tv/", 302_118)
    e.connect(hms("12:57:10"), "www.twitch.tv:443", 148_204_330, elapsed=2_660_000)


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
    _bursts(e, ("09:52:14",), ("www.xvideos.com:443", "http://www.xvideos.com/"))
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


def _lt_modpack(e: Planter) -> None:
    e.get(hms("13:40:05"), "https://www.bbc.co.uk/bitesize/guides/z3bf8mn/revision/1", 61_220)
    e.get(hms("13:47:02"), "https://mediafilez.forgecdn.net/files/5921/337/Minecraft_Ultimate_Modpack_2026.zip",
          734_003_200, mime="application/zip", elapsed=412_000)  # fmt: skip


def _lt_many(e: Planter) -> None:
    t = hms("09:05:00")
    for i in range(42):
        t += e.jitter(300, 520)
        e.get(t, f"https://uc{i % 7}a1f.dl.dropboxusercontent.com/cd/0/get/Ab{i:03d}/file/camera_roll_backup_part"
              f"{i + 1:02d}.zip", int(e.jitter(48e6, 62e6)), mime="application/zip",
              elapsed=int(e.jitter(20e3, 60e3)))  # fmt: skip


def _ld_update(e: Planter) -> None:
    e.get(hms("08:47:10"), "https://outlook.office.com/mail/", 58_200)
    t = hms("12:25:00")
    for i in range(12):
        t += e.jitter(60, 200)
        e.get(t, f"http://2.tlu.dl.delivery.mp.microsoft.com/filestreamingservice/files/5b1e22c4-7a3b-4f7e-9d61-"
              f"0c8d2a7f{i:04d}?P1=1763462400&P2=404&P3=2&P4=Yk3", int(e.jitter(280e6, 320e6)), code="TCP_MISS/206",
              mime="application/octet-stream", elapsed=int(e.jitter(40e3, 90e3)),
              ua="Microsoft-Delivery-Optimization/10.0", anon=True)  # fmt: skip
    e.get(hms("16:10:33"), "http://download.windowsupdate.com/c/msdownload/update/software/secu/2026/11/windows11.0-"
          "kb5046617-x64_e8d1c7a.msu", 851_230_114, mime="application/octet-stream", elapsed=380_000,
          ua="Windows-Update-Agent/1023.805.1022.0 Client-Protocol/2.71", anon=True)  # fmt: skip


def _ld_eduvideo(e: Planter) -> None:
    e.get(hms("09:09:40"), "https://www.clickview.co.uk/libraries/videos/40112/romeo-and-juliet", 84_200)
    e.get(hms("09:14:20"), "https://video.clickview.co.uk/media/40112/romeo-and-juliet-act-1-full-performance-1080p.mp4",
          419_430_400, mime="video/mp4", elapsed=268_000, ref="https://www.clickview.co.uk/")  # fmt: skip


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


@dataclass(frozen=True)
class Planted:
    """One planted behaviour (or look-alike decoy) for one rule, played by one user."""

    rule: str
    role: str
    """``planted`` (the rule must flag it) or ``decoy`` (it must not)."""
    staff: bool
    """Played by a staff member rather than a pupil."""
    what: str
    scenario: Scenario


_P, _D = "planted", "decoy"
# fmt: off
PLANTED: tuple[Planted, ...] = (
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
    Planted("nonbusiness-bandwidth", _P, False, "YouTube (googlevideo.com) ~265 MB in a lesson, 13:06-14:25",
            _nb_youtube),
    Planted("nonbusiness-bandwidth", _P, False, "Twitch in >=30 distinct active minutes of a lesson, 09:01-09:50",
            _nb_twitch),
    Planted("nonbusiness-bandwidth", _D, False, "YouTube ~240 MB only at lunch, 12:12-12:59", _nd_lunch),
    Planted("nonbusiness-bandwidth", _D, False, "YouTube ~260 MB only after hours, 15:36-16:51", _nd_after),
    Planted("nonbusiness-bandwidth", _D, False, "a 3-minute YouTube clip (~14 MB) in a lesson, 11:20-11:24, then "
            "Oak lesson videos", _nd_clip),
    Planted("live-feed", _P, False, "livescore.com API polled every 30-60 s, 13:04-14:06", _lf_livescore),
    Planted("live-feed", _P, False, "CONNECT gateway.discord.gg:443 open 52 min (09:33-10:25) in lessons",
            _lf_tunnel),
    Planted("live-feed", _D, False, "Seneca Learning heartbeat every ~45 s, 09:00-09:50", _ld_seneca),
    Planted("live-feed", _D, True, "Teams presence PUT every 60 s, 13:10-14:05", _ld_teams),
    Planted("live-feed", _D, False, "CONNECT www.twitch.tv:443 open 44 min only at lunch (12:13-12:57)",
            _ld_lunch_tunnel),
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
    Planted("large-transfer", _P, False, "one 734 MB Minecraft modpack zip from forgecdn.net, 13:47",
            _lt_modpack),
    Planted("large-transfer", _P, True, "42 Dropbox downloads of ~55 MB (~2.3 GB in the day), 09:05-15:00",
            _lt_many),
    Planted("large-transfer", _D, False, "Windows Update via Delivery Optimization: 12 x ~300 MB ranges and an "
            "851 MB .msu (user '-', OS-update agents)", _ld_update),
    Planted("large-transfer", _D, True, "400 MB education video from clickview.co.uk, 09:14", _ld_eduvideo),
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
