"""Strategies for the Squid family: native, common/combined, extended, and Blue Coat's Squid-compatible lines.

The expected fields follow Squid's rules (research/formats.md, DESIGN.md), worked out here and
not by reader code, so a round-trip test catches a reader that drifts from the spec.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from strategies_common import (
    MIMES,
    MONTHS,
    STATUSES,
    ZONES,
    absolute_url,
    agent,
    clients,
    instants,
    ipv4,
    proxy_action,
    request,
    sizes,
    users,
    utc,
)


def squid_escaped(text: str) -> str:
    """Squid's ``%un`` writes a backslash as two."""
    return text.replace("\\", "\\\\")


def squid_action(code: str, status: int) -> str:
    """DESIGN.md: a 407 challenge is auth_required, never a block; NONE with no or an error reply is an error."""
    if "DENIED" in code:
        return "auth_required" if status == 407 else "blocked"
    if code.startswith("NONE") and (status == 0 or status >= 400):
        return "error"
    return "allowed"


squid_result = st.one_of(
    st.tuples(
        st.sampled_from(["TCP_MISS", "TCP_HIT", "TCP_MEM_HIT", "TCP_TUNNEL", "TCP_DENIED", "TCP_DENIED_REPLY"]),
        st.sampled_from([0, *STATUSES]),
    ),
    st.tuples(st.just("NONE_NONE"), st.sampled_from([0, 400, 503])),
)

tail = st.tuples(st.one_of(st.just("-"), absolute_url().map(lambda u: u.text)), st.one_of(st.just("-"), agent))


def _dash(v: str) -> str | None:
    return None if v == "-" else v


@st.composite
def squid_line(draw: st.DrawFn, zone: str) -> tuple[str, dict]:
    """``logformat squid``, sometimes with Squid's trailing "referer" "user-agent"."""
    ms, elapsed, client = draw(instants()), draw(st.integers(0, 10**7)), draw(clients)
    method, url = draw(request())
    (code, status), size, who = draw(squid_result), draw(sizes), draw(users())
    mime = draw(st.sampled_from(["-", *MIMES]))
    hier = "HIER_NONE/-" if code.startswith(("TCP_DENIED", "NONE")) else f"HIER_DIRECT/{draw(ipv4)}"
    line = f"{ms // 1000}.{ms % 1000:03d} {elapsed:6d} {client} {code}/{status:03d} {size} {method} {url.text} "
    line += f"{squid_escaped(who.logged)} {hier} {mime}"
    want = {"time": utc(ms), "duration_ms": elapsed, "client_ip": client, "method": method, **url.want()}
    want |= who.want() | {"status": status or None, "action": squid_action(code, status), "bytes_in": size}
    want |= {"vendor_action": code, "content_type": _dash(mime)}
    if draw(st.booleans()):
        ref, ua = draw(tail)
        line += f' "{ref}" "{ua}"'
        want |= {"referer": _dash(ref), "user_agent": _dash(ua)}
    return line, want


@st.composite
def squid_common_line(draw: st.DrawFn, zone: str, combined: bool = False) -> tuple[str, dict]:
    """Apache-style ``common``/``combined`` with the local time and its UTC offset, then ``CODE:HIER``."""
    ms = draw(instants()) // 1000 * 1000
    where = draw(st.sampled_from(ZONES))
    t = utc(ms).astimezone(ZoneInfo(where))
    off = int(t.utcoffset().total_seconds() // 60)
    stamp = f"{t.day:02d}/{MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S} {'-' if off < 0 else '+'}"
    stamp += f"{abs(off) // 60:02d}{abs(off) % 60:02d}"
    client, (method, url), who = draw(clients), draw(request()), draw(users())
    (code, status), size = draw(squid_result), draw(st.one_of(sizes, st.just("-")))
    line = f'{client} - {squid_escaped(who.logged)} [{stamp}] "{method} {url.text} HTTP/1.1" {status:03d} {size}'
    want = {"time": utc(ms), "client_ip": client, "method": method, **url.want(), **who.want()}
    want |= {"status": status or None, "action": squid_action(code, status), "bytes_in": 0 if size == "-" else size}
    if combined:
        ref, ua = draw(tail)
        line += f' "{ref}" "{ua}"'
        want |= {"referer": _dash(ref), "user_agent": _dash(ua)}
    hier = "HIER_NONE" if code.startswith(("TCP_DENIED", "NONE")) else "HIER_DIRECT"
    return line + f" {code}:{hier}", want | {"vendor_action": code}


@st.composite
def squid_extended_line(draw: st.DrawFn, zone: str) -> tuple[str, dict]:
    """The native prefix plus client port, both sizes, HTTP version, server port and four quoted headers."""
    ms, elapsed, client = draw(instants()), draw(st.integers(0, 10**7)), draw(clients)
    method, url = draw(request())
    (code, status), size, up, who = draw(squid_result), draw(sizes), draw(sizes), draw(users())
    ref, ua = draw(tail)
    line = f"{ms // 1000}.{ms % 1000:03d} {elapsed:6d} {client} {draw(st.integers(1, 65535))} {code}/{status:03d} "
    line += f"{size} {up} 364 123 - {method} {url.text} 1.1 {squid_escaped(who.logged)} "
    line += f'HIER_DIRECT/{draw(ipv4)} 80 text/html - - "{ref}" "{ua}" "{url.host}" "-" 53 -'
    want = {"time": utc(ms), "duration_ms": elapsed, "client_ip": client, "method": method, **url.want()}
    want |= who.want() | {"status": status or None, "action": squid_action(code, status), "bytes_in": size}
    return line, want | {"bytes_out": up, "referer": _dash(ref), "user_agent": _dash(ua)}


@st.composite
def bluecoat_line(draw: st.DrawFn, zone: str) -> tuple[str, dict]:
    """Squid-compatible Blue Coat: DN users with spaces, a category, an unquoted user agent."""
    ms, elapsed, client = draw(instants()), draw(st.integers(0, 10**7)), draw(clients)
    stamp = f"{ms // 1000}.{ms % 1000:03d}" if draw(st.booleans()) else str(ms // 1000)
    ms = ms if "." in stamp else ms // 1000 * 1000
    method, url = draw(request(explicit_port=True))
    code = draw(st.sampled_from(["TCP_NC_MISS", "TCP_HIT", "TCP_DENIED", "TCP_TUNNELED", "TCP_ERR_MISS", "NONE"]))
    status, size, who = draw(st.sampled_from([0, *STATUSES])), draw(sizes), draw(users(spaces=True))
    cat, ua = draw(st.sampled_from(["News/Media", "Gambling", "uncategorized", "-"])), draw(st.one_of(st.none(), agent))
    hier = draw(st.sampled_from(["DIRECT/" + url.host, "DIRECT/-", "NONE/-"]))
    pad = " " * draw(st.sampled_from([1, 1, 3]))
    line = f"{stamp}{pad}{elapsed} {client} {code}/{status:03d} {size} {method} {url.text} {who.logged} {hier} "
    line += f"{draw(st.sampled_from(['-', *MIMES]))} {cat}" + ("" if ua is None else f" {ua}")
    want = {"time": utc(ms), "duration_ms": elapsed, "client_ip": client, "method": method, **url.want()}
    want |= who.want() | {"status": status or None, "action": proxy_action("", code, "", status or None)}
    return line, want | {"bytes_in": size, "vendor_category": _dash(cat), "user_agent": ua}
