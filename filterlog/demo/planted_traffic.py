"""Planted volume and timing: non-business bandwidth, live feeds and large transfers.

Each family's scenarios sit next to their rows of the answer key, so a description in
``planted.json`` can be checked against the lines that play it. :mod:`filterlog.demo.planted`
puts the families together in the order the users are handed out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .data import hms
from .scenario import Planted

if TYPE_CHECKING:
    from .planter import Planter

_P, _D = "planted", "decoy"


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


# fmt: off
NONBUSINESS_BANDWIDTH: tuple[Planted, ...] = (
    Planted("nonbusiness-bandwidth", _P, False, "YouTube (googlevideo.com) ~265 MB in a lesson, 13:06-14:25",
            _nb_youtube),
    Planted("nonbusiness-bandwidth", _P, False, "Twitch in >=30 distinct active minutes of a lesson, 09:01-09:50",
            _nb_twitch),
    Planted("nonbusiness-bandwidth", _D, False, "YouTube ~240 MB only at lunch, 12:12-12:59", _nd_lunch),
    Planted("nonbusiness-bandwidth", _D, False, "YouTube ~260 MB only after hours, 15:36-16:51", _nd_after),
    Planted("nonbusiness-bandwidth", _D, False, "a 3-minute YouTube clip (~14 MB) in a lesson, 11:20-11:24, then "
            "Oak lesson videos", _nd_clip),
)
# fmt: on


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


# fmt: off
LIVE_FEED: tuple[Planted, ...] = (
    Planted("live-feed", _P, False, "livescore.com API polled every 30-60 s, 13:04-14:06", _lf_livescore),
    Planted("live-feed", _P, False, "CONNECT gateway.discord.gg:443 open 52 min (09:33-10:25) in lessons",
            _lf_tunnel),
    Planted("live-feed", _D, False, "Seneca Learning heartbeat every ~45 s, 09:00-09:50", _ld_seneca),
    Planted("live-feed", _D, True, "Teams presence PUT every 60 s, 13:10-14:05", _ld_teams),
    Planted("live-feed", _D, False, "CONNECT www.twitch.tv:443 open 44 min only at lunch (12:13-12:57)",
            _ld_lunch_tunnel),
)
# fmt: on


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


# fmt: off
LARGE_TRANSFER: tuple[Planted, ...] = (
    Planted("large-transfer", _P, False, "one 734 MB Minecraft modpack zip from forgecdn.net, 13:47",
            _lt_modpack),
    Planted("large-transfer", _P, True, "42 Dropbox downloads of ~55 MB (~2.3 GB in the day), 09:05-15:00",
            _lt_many),
    Planted("large-transfer", _D, False, "Windows Update via Delivery Optimization: 12 x ~300 MB ranges and an "
            "851 MB .msu (user '-', OS-update agents)", _ld_update),
    Planted("large-transfer", _D, True, "400 MB education video from clickview.co.uk, 09:14", _ld_eduvideo),
)
# fmt: on
