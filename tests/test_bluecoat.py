"""Blue Coat squid-compatible lines: DN user names with spaces, unquoted user agent, sniffing against Squid."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from helpers import SAMPLES, event_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filterlog.ingest import BlueCoatSquid, SquidNative, ingest, sniff
from filterlog.schema import validate
from filterlog.workspace import Workspace

LINE = (
    b"1038956401.460 182 10.0.203.16 TCP_NC_MISS/200 50537 GET http://www.fnac.com:80/ "
    b"CN=Agent Smith,OU=fr,O=company DIRECT/www.fnac.com text/html Online_Sales Mozilla/4.76 [en] (X11; U; Linux)"
)


def test_dn_user_category_and_user_agent() -> None:
    (row,) = BlueCoatSquid().parse(LINE + b"\n", 3).events.to_pylist()
    assert (row["user"], row["user_raw"]) == ("agent smith", "CN=Agent Smith,OU=fr,O=company")
    assert (row["host"], row["port"], row["vendor_category"]) == ("www.fnac.com", 80, "Online_Sales")
    assert row["user_agent"] == "Mozilla/4.76 [en] (X11; U; Linux)"
    assert (row["duration_ms"], row["bytes_in"], row["source_line"]) == (182, 50537, 3)


def test_url_with_a_space_and_missing_user_agent() -> None:
    block = (
        b"1039424947.214 19 192.186.203.16 TCP_ERR_MISS/503 3100 GET http:// bug0bus0.free.fr/x.jpg "
        b"CN=Tom BOMBADIL,OU=fr,O=tolkien DIRECT/- - Portal_Sites\n"
    )
    (row,) = BlueCoatSquid().parse(block, 1).events.to_pylist()
    assert row["url"] == "http:// bug0bus0.free.fr/x.jpg"
    assert row["host"] == "bug0bus0.free.fr"
    assert (row["user"], row["action"], row["user_agent"]) == ("tom bombadil", "error", None)


def test_lines_that_do_not_fit_are_quarantined() -> None:
    no_user = b"1038956401.460 182 10.0.203.16 TCP_NC_MISS/200 50537 GET DIRECT/x text/html cat ua\n"
    no_category = b"1038956401.460 182 10.0.203.16 TCP_NC_MISS/200 50537 GET http://x/ - DIRECT/x text/html\n"
    parsed = BlueCoatSquid().parse(LINE + b"\n" + no_user + b"\n" + no_category + LINE + b"\n", 1)
    validate(parsed.events)
    assert parsed.events.column("source_line").to_pylist() == [1, 5]
    assert parsed.bad_lines == [2, 4] and parsed.skipped == 1


def test_bluecoat_sample_sniffs_as_bluecoat_and_squid_samples_as_squid() -> None:
    assert sniff((SAMPLES / "bluecoat-squid.log").read_bytes()).name == "bluecoat-squid"
    for name in ("squid-native.log", "squid-native-useragent.log"):
        lines = (SAMPLES / name).read_bytes().splitlines()
        assert BlueCoatSquid.sniff(lines) == 0.0, name
        assert sniff((SAMPLES / name).read_bytes()).name == "squid"


@pytest.mark.parametrize("prefix", ["bluecoat_proxysg_squidcompat__", "bluecoat_proxysg_squidcompat_utf8url__"])
def test_real_bluecoat_files(shared_dir: Path, tmp_path: Path, prefix: str) -> None:
    logs = sorted((shared_dir / "acceptance" / "real").glob(prefix + "*.log"))
    if not logs:
        pytest.skip(f"no {prefix} sample")
    head = logs[0].read_bytes()
    assert BlueCoatSquid.sniff(head.splitlines()) > SquidNative.sniff(head.splitlines())
    ws = Workspace(tmp_path / "ws")
    (result,) = ingest(ws, logs).files
    rows = event_rows(ws)
    ws.close()
    assert result.format == "bluecoat-squid" and result.quarantined == 0
    assert result.events == len(head.splitlines()) == len(rows)
    if prefix.endswith("utf8url__"):
        assert rows[0]["host"] == "wwwsantéobésité.com"
        return
    actions = Counter(r["action"] for r in rows)
    assert actions == {"allowed": 12, "auth_required": 2, "error": 1}
    assert Counter(r["method"] for r in rows)["CONNECT"] == 1
    assert sum(r["user"] is None for r in rows) == 3  # two 407s and one unauthenticated https GET
    assert Counter(r["vendor_category"] for r in rows)["uncategorized"] == 7


# --- properties ------------------------------------------------------------------------------

word = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
dn = st.builds(
    lambda cn, ous: "CN=" + cn + "".join(f",OU={o}" for o in ous) + ",O=school",
    st.lists(word, min_size=1, max_size=3).map(" ".join),
    st.lists(word, max_size=3),
)
user = st.one_of(dn, word, st.just("-"))
agent = st.one_of(
    st.just(""),
    st.lists(st.one_of(word, st.sampled_from(["(X11;", "[en]", "5.0)", "rv:1.2"])), min_size=1, max_size=6).map(
        " ".join
    ),
)


@settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(user, word, st.sampled_from(["TCP_NC_MISS/200", "TCP_DENIED/403", "TCP_DENIED/407", "TCP_HIT/304"]), agent)
def test_generated_lines_round_trip(who: str, category: str, code: str, ua: str) -> None:
    line = (
        f"1794993302.123 12 10.0.0.1 {code} 512 GET http://a.example/p?q=1 {who} DIRECT/a.example text/html "
        f"{category}" + (f" {ua}" if ua else "")
    )
    (row,) = BlueCoatSquid().parse(line.encode() + b"\n", 1).events.to_pylist()
    assert row["user_raw"] == (None if who == "-" else who)
    assert (row["vendor_category"], row["user_agent"]) == (category, ua or None)
    assert (row["url"], row["status"], row["vendor_action"]) == (
        "http://a.example/p?q=1",
        int(code[-3:]),
        code.split("/")[0],
    )


def test_fast_path_agrees_with_the_regex_path(shared_dir: Path) -> None:
    """Byte-offset cutting (_fast) and the capturing regex (_regex) give the same events."""
    import pyarrow as pa

    from filterlog.ingest.bluecoat import _regex_only

    data = (SAMPLES / "bluecoat-squid.log").read_bytes()
    for real in sorted((shared_dir / "acceptance" / "real").glob("bluecoat_proxysg_squidcompat*.log")):
        data += real.read_bytes()
    fast = BlueCoatSquid().parse(data, 1)
    slow = _regex_only(data, 1)
    assert fast.events.num_rows == slow.events.num_rows == data.count(b"\n")
    assert fast.events.equals(slow.events), pa.Table.to_pylist(fast.events)[:1]


def test_bluecoat_lines_with_plain_user_names_sniff_as_bluecoat() -> None:
    """With no LDAP DN to give it away, the category and user agent still mark the dialect."""
    lines = [
        b"1038956401.460 182 10.0.203.16 TCP_NC_MISS/200 50537 GET http://www.fnac.com:80/ jsmith "
        b"DIRECT/www.fnac.com text/html Online_Sales Mozilla/4.76 [en] (X11; U; Linux 2.4.2-22mdk i686)",
        b"1038956402.460 12 10.0.203.16 TCP_HIT/200 537 GET http://www.fnac.com:80/a.gif jsmith "
        b"DIRECT/www.fnac.com image/gif Online_Sales Mozilla/4.76 [en] (X11; U; Linux 2.4.2-22mdk i686)",
    ]
    assert sniff(b"\n".join(lines) + b"\n").name == "bluecoat-squid"
    plain = (SAMPLES / "squid-native.log").read_bytes()
    assert sniff(plain).name == "squid"
