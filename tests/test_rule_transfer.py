"""large-transfer: one huge request, or a day's worth of transfers; OS updates and allowed sites stay out."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
from rulecase import Day

from filterlog.rules.context import Context
from filterlog.rules.engine import run_rules, select_rules

RULE = "large-transfer"
MODPACK = "https://mediafilez.forgecdn.net/files/5921/337/Minecraft_Ultimate_Modpack_2026.zip"


def _modpack(day: Day, user: str = "sclark") -> Day:
    day.get("13:40:05", "https://www.example.org/revision/1", 61_220, user=user)
    return day.get("13:47:02", MODPACK, 734_003_200, mime="application/zip", elapsed=412_000, user=user)


def _dropbox(day: Day, user: str = "asingh", size: int = 55_000_000) -> Day:
    day.get("09:01:00", "https://www.example.org/news", 80_000, user=user)
    for i in range(42):
        url = f"https://uc{i % 7}a1f.dl.dropboxusercontent.com/cd/0/get/Ab{i:03d}/file/part{i + 1:02d}.zip"
        day.get(f"{9 + i // 7:02d}:{(i % 7) * 8:02d}:00", url, size, mime="application/zip", user=user)
    return day


def _update(day: Day, ip: str = "10.0.0.31", host: str = "2.tlu.dl.delivery.mp.microsoft.com") -> Day:
    """Delivery Optimization ranges and a Windows Update .msu, under no user name."""
    for i in range(12):
        day.get(f"12:{25 + i * 2}:00", f"http://{host}/filestreamingservice/files/5b1e22c4-{i:04d}?P1=1", 300_000_000,
                code="TCP_MISS/206", mime="application/octet-stream", ua="Microsoft-Delivery-Optimization/10.0",
                user="-", ip=ip)  # fmt: skip
    day.get("16:10:33", "http://download.windowsupdate.com/c/msdownload/update/windows11.0-kb5046617-x64.msu",
            851_230_114, mime="application/octet-stream", ua="Windows-Update-Agent/1023.805.1022.0",
            user="-", ip=ip)  # fmt: skip
    return day


def test_one_big_download_is_one_finding_named_by_its_file() -> None:
    found = _modpack(Day()).findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert f["detail"] == "734 MB in one request: Minecraft_Ultimate_Modpack_2026.zip from forgecdn.net (games), 13:47"
    assert (f["user"], f["count"], f["bytes"], f["domain"], f["category"]) == (
        "sclark", 1, 734_003_200, "forgecdn.net", "games"
    )  # fmt: skip
    assert f["severity"] == "high"  # games is non-business: medium raised one step
    assert f["evidence_total"] == 1


def test_a_business_download_keeps_the_rules_severity() -> None:
    day = Day().get("10:00:00", "https://files.example.org/datasets/census-2021.iso", 600_000_000)
    found = day.findings(RULE)
    assert [(f["severity"], f["detail"]) for f in found] == [
        ("medium", "600 MB in one request: census-2021.iso from example.org, 10:00")
    ]


def test_many_downloads_adding_up_in_a_day_fire_with_the_non_business_part_first() -> None:
    found = _dropbox(Day()).findings(RULE)
    assert len(found) == 1
    f = found[0]
    assert f["count"] == 43 and f["bytes"] == 42 * 55_000_000 + 80_000
    assert f["severity"] == "high"
    assert f["domain"] == "dropboxusercontent.com" and f["category"] == "filesharing"
    assert (
        f["detail"] == "2.3 GB in 43 requests today (42 of 1 MB or more): 2.3 GB filesharing (dropboxusercontent.com)"
    )
    assert f["evidence_total"] == 42


def test_a_big_request_inside_a_big_day_is_folded_into_the_day_finding() -> None:
    day = _modpack(_dropbox(Day(), user="sclark"))
    found = day.findings(RULE)
    assert len(found) == 1
    detail = found[0]["detail"]
    assert detail.startswith("3.0 GB in 45 requests today (43 of 1 MB or more): 2.3 GB filesharing")
    assert detail.endswith("; largest: 734 MB Minecraft_Ultimate_Modpack_2026.zip from forgecdn.net (games), 13:47")
    assert "734 MB games (forgecdn.net)" in detail


def test_several_big_requests_are_listed_non_business_first() -> None:
    day = Day().get("10:00:00", "https://files.example.org/a.iso", 900_000_000)
    day.get("11:00:00", MODPACK, 600_000_000)
    found = day.findings(RULE)
    assert [f["detail"] for f in found] == [
        "1.5 GB in 2 requests of 500 MB or more: 600 MB Minecraft_Ultimate_Modpack_2026.zip from forgecdn.net "
        "(games), 11:00; 900 MB a.iso from example.org, 10:00"
    ]
    assert found[0]["count"] == 2 and found[0]["severity"] == "high"


def test_a_tunnel_is_one_request() -> None:
    found = Day().connect("14:00:00", "cdn.steamcontent.com:443", 650_000_000, elapsed=900_000).findings(RULE)
    assert [f["detail"] for f in found] == ["650 MB in one request: a tunnel to cdn.steamcontent.com, 14:00"]


def test_windows_update_via_delivery_optimization_is_not_counted() -> None:
    assert _update(Day()).findings(RULE) == []


def test_update_agents_alone_keep_an_unlisted_host_out_and_are_a_parameter() -> None:
    day = _update(Day(), host="cache1.updates.example-isp.net")
    assert day.findings(RULE) == []
    found = day.findings(RULE, ignore_user_agents=["Windows-Update-Agent"])
    assert [f["bytes"] for f in found] == [12 * 300_000_000]
    assert found[0]["client_ip"] == "10.0.0.31"


def test_education_video_from_an_allowed_site_is_not_counted() -> None:
    day = Day().get("09:14:20", "https://video.clickview.co.uk/media/40112/romeo-and-juliet-1080p.mp4", 619_430_400,
                    mime="video/mp4")  # fmt: skip
    assert day.findings(RULE) == []
    assert len(day.findings(RULE, ignore_categories=[])) == 1


def test_blocked_and_challenged_requests_deliver_nothing() -> None:
    day = Day().deny("10:00:00", "https://mediafilez.forgecdn.net/big.zip", nbytes=700_000_000)
    day.line("10:01:00", "mediafilez.forgecdn.net:443", 700_000_000, code="TCP_DENIED/407", method="CONNECT")
    assert day.findings(RULE) == []


def test_thresholds_are_parameters() -> None:
    assert _modpack(Day()).findings(RULE, request_mb=800) == []
    assert len(_modpack(Day()).findings(RULE, request_mb=700)) == 1
    assert _dropbox(Day()).findings(RULE, day_gb=3) == []
    assert [f["severity"] for f in _dropbox(Day()).findings(RULE, nonbusiness_categories=[])] == ["medium"]


def test_just_under_the_thresholds_does_not_fire() -> None:
    day = Day().get("10:00:00", "https://files.example.org/a.iso", 499_000_000)
    _dropbox(day, user="asingh", size=45_000_000)  # 1.9 GB
    assert day.findings(RULE) == []


def test_a_summer_day_totals_by_the_local_date_not_utc() -> None:
    # 00:05-00:25 BST is 23:05-23:25 UTC the day before: by UTC date neither half reaches 2 GB
    day = Day("2026-07-15")
    for i in range(11):
        day.get(f"00:{5 + i * 2:02d}:00", f"https://www.dropbox.com/s/a/early{i}.zip", 100_000_000)
        day.get(f"23:{30 + i * 2:02d}:00", f"https://www.dropbox.com/s/a/late{i}.zip", 100_000_000)
    found = day.findings(RULE)
    assert len(found) == 1
    assert found[0]["date"] == date(2026, 7, 15)
    assert found[0]["bytes"] == 2_200_000_000
    assert found[0]["detail"] == "2.2 GB in 22 requests today (22 of 1 MB or more): 2.2 GB filesharing (dropbox.com)"


def test_an_upload_is_named_as_one() -> None:
    day = Day().line("15:00:00", "https://www.dropbox.com/upload", 2_000, method="POST")
    config = day.config()
    ctx = day.context(config)
    events = ctx.events.set_column(
        ctx.events.schema.get_field_index("bytes_out"), "bytes_out", pa.array([800_000_000], pa.int64())
    )
    found = run_rules(Context(events, config), select_rules(config, [RULE])).to_pylist()
    assert [f["detail"] for f in found] == ["800 MB in one request: upload to dropbox.com (filesharing), 15:00"]


def test_a_day_is_raised_only_when_non_business_bytes_are_a_large_enough_share() -> None:
    work = Day()
    for i in range(21):
        work.get(f"10:{i:02d}:00", f"https://files.example.org/scans/{i}.pdf", 100_000_000)
    assert [f["severity"] for f in work.findings(RULE)] == ["medium"]
    mixed = Day()
    for i in range(11):
        mixed.get(f"10:{i:02d}:00", f"https://files.example.org/scans/{i}.pdf", 100_000_000)
        mixed.get(f"11:{i:02d}:00", f"https://www.dropbox.com/s/x/{i}.mp4", 100_000_000)
    found = mixed.findings(RULE)
    assert [f["severity"] for f in found] == ["high"]
    assert found[0]["detail"] == (
        "2.2 GB in 22 requests today (22 of 1 MB or more): 1.1 GB filesharing (dropbox.com), "
        "1.1 GB uncategorised (example.org)"
    )
    assert [f["severity"] for f in mixed.findings(RULE, nonbusiness_percent=60)] == ["medium"]
