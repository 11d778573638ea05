"""Hypothesis strategies: valid lines of every log format, each with the fields a reader must give back.

The expected fields are worked out here from the format's rules (research/formats.md, DESIGN.md), not by
calling reader code, so a round-trip test can catch a reader that drifts from the spec. A ``Case`` is a
small file fragment: header/comment/blank lines the reader must skip, and data lines with their fields.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

ALNUM = string.ascii_letters + string.digits
UNI = "äöüéÄÖÜÉ"
MIN_MS, MAX_MS = 631_152_000_000, 4_102_444_799_999  # 1990 .. 2099, the range every reader accepts
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
METHODS = ["GET", "POST", "HEAD", "PUT", "OPTIONS", "DELETE"]
STATUSES = [200, 204, 206, 301, 302, 304, 400, 403, 404, 407, 500, 502, 503]
MIMES = ["text/html", "image/png", "application/json", "application/octet-stream"]
DEFAULT_PORT = {"http": 80, "https": 443, "ftp": 21}


@dataclass
class Case:
    """A file fragment: ``rows`` are (line, wanted fields) with None for lines to skip (headers, blanks)."""

    rows: list[tuple[bytes, dict | None]]
    timezone: str = "UTC"
    newline: bytes = b"\n"

    def block(self) -> bytes:
        """The fragment as a reader receives it: whole lines."""
        return b"".join(line + self.newline for line, _ in self.rows)


# --- atoms -------------------------------------------------------------------------------------

label = st.one_of(st.text(ALNUM, min_size=1, max_size=10), st.text(ALNUM + UNI, min_size=1, max_size=8))
hostname = st.builds(
    lambda parts, tld: ".".join([*parts, tld]),
    st.lists(label, min_size=1, max_size=3),
    st.sampled_from(["com", "co.uk", "ORG", "net", "example"]),
)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8).map(lambda t: ":".join(f"{x:x}" for x in t))
clients = st.one_of(ipv4, ipv4, ipv6)
host = st.one_of(hostname, hostname, ipv4)
_ESCAPES = ["", "", "%20", "%2F", "%C3%A9", "%25", "%3F"]
_PATH = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-._~+,;=:@!$'()*é中ü"
segment = st.text(_PATH, max_size=8)
path = st.builds(lambda s, e: "/" + "/".join(s) + e, st.lists(segment, max_size=3), st.sampled_from(_ESCAPES))
query = st.builds(  # never starting with "?": W3C logs may write the query with or without its "?"
    lambda q, e: q + e,
    st.text(_PATH + "=&/?", min_size=1, max_size=16).filter(lambda q: q[0] != "?"),
    st.sampled_from(_ESCAPES),
)
name = st.text(ALNUM + "._-", min_size=1, max_size=12).filter(lambda s: s not in ("-", "None", "none", "NA"))
word = st.text(string.ascii_letters, min_size=1, max_size=8)
agent = st.sampled_from(
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "curl/8.5.0",
        "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) café",
    ]
)
sizes = st.one_of(st.integers(0, 100_000), st.integers(0, 10**15))


LOCAL_MAX_MS = 2_145_916_799_999
"""End of 2037: Arrow's zone rules stop at 2038 (tests/test_properties_readers.py has the xfail for it)."""


@st.composite
def instants(draw: st.DrawFn, upto: int = MAX_MS) -> int:
    """Epoch milliseconds, one time in two close to a spring or autumn clock change."""
    if draw(st.booleans()):
        return draw(st.integers(MIN_MS, upto))
    month, day = draw(st.sampled_from([(3, 24), (3, 31), (4, 2), (10, 24), (10, 31), (11, 3)]))
    base = datetime(draw(st.integers(1991, utc(upto).year - 1)), month, day, tzinfo=UTC)
    return int(base.timestamp() * 1000) + draw(st.integers(0, 8 * 86_400_000))


def utc(ms: int) -> datetime:
    """Epoch ms as the aware datetime a reader's ``time`` column gives back."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def local(ms: int, zone: str) -> datetime:
    """The wall-clock time a server in ``zone`` writes for this instant (naive)."""
    return utc(ms).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def read_back(naive: datetime, zone: str) -> datetime:
    """What a zone-less local time means: in the repeated autumn hour, the earlier instant."""
    return naive.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)


@dataclass
class Url:
    """A URL as logged and how it must split."""

    text: str
    host: str
    port: int
    scheme: str | None = None
    path: str | None = None
    query: str | None = None

    def want(self) -> dict:
        """Expected URL columns."""
        return {"url": self.text, "scheme": self.scheme, "host": self.host.lower(), "port": self.port} | (
            {"path": self.path, "query": self.query}
        )


@st.composite
def absolute_url(draw: st.DrawFn, userinfo: bool = True, explicit_port: bool | None = None) -> Url:
    """``scheme://[user@]host[:port]/path[?query]``."""
    scheme = draw(st.sampled_from(["http", "https", "ftp", "HTTP", "Https"]))
    h = draw(host)
    who = draw(st.sampled_from(["", "", "", "anonymous@", "user:secret@"])) if userinfo else ""
    port = draw(st.integers(1, 65535)) if explicit_port or (explicit_port is None and draw(st.booleans())) else None
    p, q = draw(path), draw(st.one_of(st.none(), query))
    text = f"{scheme}://{who}{h}{'' if port is None else f':{port}'}{p}{'' if q is None else '?' + q}"
    lower = scheme.lower()
    return Url(text, h, DEFAULT_PORT[lower] if port is None else port, lower, p, q)


@st.composite
def connect_url(draw: st.DrawFn) -> Url:
    """A CONNECT tunnel's ``host:port``."""
    h, port = draw(host), draw(st.sampled_from([443, 80, 8443, 5228, 9001]))
    return Url(f"{h}:{port}", h, port)


@st.composite
def request(draw: st.DrawFn, **kw: object) -> tuple[str, Url]:
    """A method and its URL; CONNECT goes with ``host:port``."""
    if draw(st.integers(0, 4)) == 0:
        return "CONNECT", draw(connect_url())
    return draw(st.sampled_from(METHODS)), draw(absolute_url(**kw))


@dataclass
class User:
    """A user name as logged, as kept (``user_raw``) and as normalised (``user``)."""

    logged: str
    raw: str | None
    user: str | None

    def want(self) -> dict:
        """Expected user columns."""
        return {"user": self.user, "user_raw": self.raw}


@st.composite
def users(draw: st.DrawFn, spaces: bool = False, dash: str = "-") -> User:
    """Nobody, ``name``, ``DOMAIN\\name``, ``name@realm`` or an LDAP DN (with spaces where the format allows)."""
    kind = draw(st.integers(0, 5))
    n = draw(name)
    if kind == 0:
        return User(dash, None, None)
    if kind == 1:
        return User(n, n, n.lower())
    if kind == 2:
        t = f"{draw(st.sampled_from(['SCHOOL', 'ad', 'CORP01']))}\\{n}"
        return User(t, t, n.lower())
    if kind == 3:
        t = f"{n}@{draw(st.sampled_from(['SCHOOL.LOCAL', 'example.org']))}"
        return User(t, t, n.lower())
    if kind == 4 and spaces:
        first, last, ou = draw(name), draw(word), draw(st.sampled_from(["Year 9", "Staff", "Pupils"]))
        t = f"CN={first} {last},OU={ou},O=school"
        return User(t, t, f"{first} {last}".lower())
    t = f"{draw(st.sampled_from(['CN', 'cn', 'uid']))}={n},OU=Staff,O=school"
    return User(t, t, n.lower())


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


def proxy_action(verdict: str, code: str, block_type: str, status: int | None) -> str:
    """Blue Coat / W3C outcome: 407 first, then the filter verdict, then the cache code."""
    if status == 407:
        return "auth_required"
    if verdict.lower() in {"denied", "deny", "block", "blocked", "warn", "warned"}:
        return "blocked"
    if not verdict and block_type not in ("", "-"):
        return "blocked"
    if "DENIED" in code.upper():
        return "blocked"
    if "_ERR" in code.upper() or (code.startswith("NONE") and (status is None or status >= 400)):
        return "error"
    return "allowed"


squid_result = st.one_of(
    st.tuples(
        st.sampled_from(["TCP_MISS", "TCP_HIT", "TCP_MEM_HIT", "TCP_TUNNEL", "TCP_DENIED", "TCP_DENIED_REPLY"]),
        st.sampled_from([0, *STATUSES]),
    ),
    st.tuples(st.just("NONE_NONE"), st.sampled_from([0, 400, 503])),
)


def cases(line: Callable[[], st.SearchStrategy], head: list[bytes] | None = None) -> st.SearchStrategy[Case]:
    """A fragment of 1-5 ``line()`` rows, with blank lines here and there and LF or CRLF endings."""

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        zone = draw(st.sampled_from(ZONES))
        rows: list[tuple[bytes, dict | None]] = [(h, None) for h in head or []]
        for _ in range(draw(st.integers(1, 5))):
            if draw(st.integers(0, 7)) == 0:
                rows.append((b"", None))
            text, want = draw(line(zone))
            rows.append((text.encode(), want))
        return Case(rows, zone, draw(st.sampled_from([b"\n", b"\n", b"\r\n"])))

    return build()


# --- the Squid family --------------------------------------------------------------------------

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
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


# --- W3C / ELFF --------------------------------------------------------------------------------

W3C_FIELDS = {
    "bluecoat": "date time time-taken c-ip cs-username cs-auth-group x-exception-id sc-filter-result cs-categories "
    "cs(Referer) sc-status s-action cs-method rs(Content-Type) cs-uri-scheme cs-host cs-uri-port cs-uri-path "
    "cs-uri-query cs-uri-extension cs(User-Agent) s-ip sc-bytes cs-bytes x-virus-id",
    "scansafe": "datatime c-ip cs(X-Forwarded-For) cs-username cs-method cs-uri-scheme cs-host cs-uri-port "
    "cs-uri-path cs-uri-query cs(User-Agent) cs(Content-Type) cs-bytes sc-bytes sc-status sc(Content-Type) s-ip "
    "x-ss-category x-ss-last-rule-name x-ss-last-rule-action x-ss-block-type x-ss-block-value",
    "wsa": "timestamp x-elapsed-time c-ip x-resultcode-httpstatus sc-bytes cs-method cs-url cs-username "
    "x-hierarchy-origin cs-mime-type x-acltag x-result-code x-suspect-user-agent",
}


@st.composite
def w3c_values(draw: st.DrawFn, vendor: str) -> tuple[dict[str, str], dict]:
    """One line's values by field name (unquoted, "" for none) and the fields it must give."""
    ms, client, (method, url) = draw(instants()), draw(clients), draw(request(userinfo=False))
    who, status, size = draw(users(spaces=True, dash="")), draw(st.sampled_from([0, *STATUSES])), draw(sizes)
    v = {"c-ip": client, "sc-bytes": str(size), "cs-username": who.logged, "cs(User-Agent)": draw(agent)}
    want = {"client_ip": client, "method": method, **who.want(), "status": status or None, "bytes_in": size}
    if vendor == "wsa":
        code = draw(st.sampled_from(["TCP_MISS", "TCP_HIT", "TCP_DENIED", "NONE"]))
        v |= {"timestamp": f"{ms // 1000}.{ms % 1000:03d}", "x-elapsed-time": "12", "cs-url": url.text}
        v |= {"x-resultcode-httpstatus": f"{code}/{status}", "x-result-code": code, "x-hierarchy-origin": "DIRECT/x"}
        v |= {
            "cs-method": "TCP_CONNECT" if method == "CONNECT" else method,
            "cs-mime-type": draw(st.sampled_from(MIMES)),
        }
        return v, want | {"time": utc(ms), **url.want(), "action": proxy_action("", code, "", status or None)}
    scheme = "tcp" if method == "CONNECT" else url.scheme
    port = str(url.port) if method == "CONNECT" or draw(st.booleans()) else ""
    q = url.query
    v |= {"cs-method": method, "cs-uri-scheme": scheme, "cs-host": url.host, "cs-uri-port": port}
    v |= {"cs-uri-path": url.path or "/", "cs-uri-query": "" if q is None else draw(st.sampled_from(["", "?"])) + q}
    if method == "CONNECT":
        want |= {"url": f"{url.host}:{url.port}", "scheme": None, "path": None, "query": None}
    else:
        shown = "" if (scheme, url.port) in (("http", 80), ("https", 443)) or not port else f":{url.port}"
        text = f"{scheme}://{url.host}{shown}{url.path}{'' if q is None else '?' + q}"
        want |= {"url": text, "scheme": scheme, "path": url.path, "query": q}
    want |= {"host": url.host.lower(), "port": url.port if port else DEFAULT_PORT[scheme]}
    if vendor == "bluecoat":
        ms = ms // 1000 * 1000 if draw(st.booleans()) else ms
        t = utc(ms)
        clock = f"{t:%H:%M:%S}" + ("" if ms % 1000 == 0 and draw(st.booleans()) else f".{ms % 1000:03d}")
        verdict, code = (
            draw(st.sampled_from(["OBSERVED", "PROXIED", "DENIED"])),
            draw(st.sampled_from(["TCP_NC_MISS", "TCP_HIT", "TCP_DENIED", "TCP_TUNNELED", "TCP_ERR_MISS"])),
        )
        v |= {"date": f"{t:%Y-%m-%d}", "time": clock, "sc-filter-result": verdict, "s-action": code}
        v["sc-status"] = str(status)
        v |= {"cs-categories": draw(st.sampled_from(["News/Media", "Search Engines/Portals", "Gambling"]))}
        return v, want | {"time": t, "action": proxy_action(verdict, code, "", status or None)}
    ms = ms // 1000 * 1000
    t = utc(ms)
    stamp = f"{t:%Y-%m-%d %H:%M:%S}" if draw(st.booleans()) else f"{t:%Y-%m-%dT%H:%M:%SZ}"
    verdict, block = draw(st.sampled_from(["allow", "block", "warn", ""])), draw(st.sampled_from(["", "WEBCAT"]))
    v |= {"datatime": stamp, "x-ss-last-rule-action": verdict, "x-ss-block-type": block, "sc-status": str(status)}
    v |= {"x-ss-category": draw(st.sampled_from(["News and Media", "Gambling", "Chat"])), "x-ss-last-rule-name": "r 1"}
    return v, want | {"time": t, "action": proxy_action(verdict, "", block, status or None)}


@st.composite
def w3c_case(draw: st.DrawFn) -> Case:
    """A header-driven file: directives, a ``#Fields:`` line in any order, then lines in that layout."""
    vendor = draw(st.sampled_from(sorted(W3C_FIELDS)))
    fields = draw(st.permutations(W3C_FIELDS[vendor].split()))
    rows: list[tuple[bytes, dict | None]] = [(b"#Software: X", None), (b"#Version: 1.0", None)]
    rows.append((("#Fields: " + " ".join(fields)).encode(), None))
    for _ in range(draw(st.integers(1, 5))):
        values, want = draw(w3c_values(vendor))
        cells = []
        for f in fields:
            value = values.get(f, "")
            cells.append(f'"{value}"' if " " in value or (value and draw(st.booleans())) else value or "-")
        rows.append((" ".join(cells).encode(), want))
    return Case(rows, newline=draw(st.sampled_from([b"\n", b"\r\n"])))


# --- vendor formats ----------------------------------------------------------------------------


@st.composite
def umbrella_line(draw: st.DrawFn, zone: str) -> tuple[str, dict]:
    """Every field quoted, 32-49 columns, stray spaces after some commas; the identity's type says who it is."""
    ms = draw(instants()) // 1000 * 1000
    inside, outside, (method, url) = draw(st.one_of(st.just(""), clients)), draw(ipv4), draw(request())
    kind = draw(st.sampled_from(["AD Users", "Roaming Computers", "Networks", "Sites"]))
    n, realm = draw(name), draw(st.sampled_from(["school.example", "SCHOOL.LOCAL"]))
    ident = {"AD Users": f"{draw(word)}, {draw(word)} ({n}@{realm})", "Roaming Computers": "LAPTOP-" + n}
    ident = ident.get(kind, "Main Site " + n)
    status, size = draw(st.one_of(st.just(""), st.sampled_from(STATUSES).map(str))), draw(sizes)
    verdict = draw(st.sampled_from(["ALLOWED", "BLOCKED", "Blocked"]))
    cols = [f"{utc(ms):%Y-%m-%d %H:%M:%S}", ident, inside, outside, draw(ipv4), "", verdict, url.text]
    cols += ["", " " + draw(agent), status, "512", str(size), "", "", "Chat,Social Networking", *[""] * 5, kind]
    cols += ["", ident, kind, method.lower() if draw(st.booleans()) else method]
    cols += [""] * (draw(st.integers(32, 49)) - len(cols))
    line = '"' + cols[0] + '"'
    for c in cols[1:]:
        line += draw(st.sampled_from([",", ",", ", ", ",  ", ",\t"])) + '"' + c.replace('"', '""') + '"'
    want = {"time": utc(ms), "client_ip": inside or outside, "method": method, **url.want()}
    want |= {"user": n.lower() if kind == "AD Users" else None, "user_raw": ident if kind == "AD Users" else None}
    want |= {"device": ident if kind == "Roaming Computers" else None, "status": int(status) if status else None}
    return line, want | {"action": "blocked" if "BLOCK" in verdict.upper() else "allowed", "bytes_in": size}


def _ctime(ms: int, padded: bool) -> str:
    """NSS time, ``Wed Nov 18 09:15:02 2026``; a day below 10 zero- or space-padded."""
    t = utc(ms)
    day = f"{t.day:02d}" if padded else f"{t.day:2d}"
    return f"{DAYS[t.weekday()]} {MONTHS[t.month - 1]} {day} {t:%H:%M:%S} {t.year}"


@st.composite
def zscaler_values(draw: st.DrawFn) -> tuple[dict[str, str | int], dict]:
    """One NSS web record by Elastic-preset field name, and the fields it must give."""
    ms = draw(instants()) // 1000 * 1000
    method, url = draw(request(userinfo=False))
    proto = draw(st.sampled_from(["HTTP", "HTTPS", "SSL"]))
    scheme = "http" if proto == "HTTP" else "https"
    eurl = url.text if method == "CONNECT" else url.text.split("://", 1)[1]
    port = url.port if method == "CONNECT" or eurl.split("/", 1)[0].count(":") else DEFAULT_PORT[scheme]
    who, owner, client = draw(users(spaces=True, dash="None")), draw(name), draw(clients)
    status, size = draw(st.sampled_from(STATUSES)), draw(st.integers(0, 10**15))
    verdict, cat = (
        draw(st.sampled_from(["Allowed", "Blocked", "Caution"])),
        draw(st.sampled_from(["News", "Web%20Search"])),
    )
    v = {"time": _ctime(ms, draw(st.booleans())), "login": who.logged, "deviceowner": owner, "proto": proto}
    v |= {"eurl": eurl, "action": verdict, "urlcat": cat, "cip": client, "reqmethod": method, "respcode": status}
    v |= {"respsize": size, "reqsize": draw(st.integers(0, 10**6)), "ua": draw(agent), "devicehostname": "PC-" + owner}
    want = {"time": utc(ms), "client_ip": client, "method": method, "url": eurl, "host": url.host.lower()}
    want |= {"port": port, "status": status, "bytes_in": size, "vendor_category": cat.replace("%20", " ")}
    want |= {"user": who.user or owner.lower(), "user_raw": who.raw or owner, "device": "PC-" + owner}
    if method != "CONNECT":
        want |= {"scheme": scheme, "path": url.path, "query": url.query}
    return v, want | {"action": "blocked" if verdict == "Blocked" else "allowed"}


_SEKOIA = {"login": "user", "eurl": "url", "urlcat": "urlcategory", "cip": "ClientIP", "respcode": "status"}


@st.composite
def zscaler_json_line(draw: st.DrawFn, zone: str) -> tuple[str, dict]:
    """JSON, wrapped in ``event`` or flat, numbers quoted or bare, keys of either preset."""
    v, want = draw(zscaler_values())
    if draw(st.booleans()):
        v = {_SEKOIA.get(k, k): x for k, x in v.items()}
    v = {k: x if isinstance(x, str) or draw(st.booleans()) else str(x) for k, x in v.items()}
    obj = {"sourcetype": "zscalernss-web", "event": v} if draw(st.booleans()) else v
    return json.dumps(obj, ensure_ascii=draw(st.booleans())), want


@st.composite
def zscaler_csv_case(draw: st.DrawFn) -> Case:
    """A header line naming the fields in any order, then tab- or comma-separated rows."""
    keys = draw(st.permutations(list(draw(zscaler_values())[0])))
    delim = draw(st.sampled_from(["\t", ","]))
    quote = draw(st.booleans())
    rows: list[tuple[bytes, dict | None]] = [(delim.join(f'"{k}"' if quote else k for k in keys).encode(), None)]
    for _ in range(draw(st.integers(1, 5))):
        v, want = draw(zscaler_values())
        cells = [str(v[k]) for k in keys]
        cells = [f'"{c}"' if "," in c or draw(st.booleans()) else c for c in cells]
        rows.append((delim.join(cells).encode(), want))
    return Case(rows, newline=draw(st.sampled_from([b"\n", b"\r\n"])))


_MARKERS = ["", "*DENIED* Banned site: x.com", "*DENIED-POST* Blocked", "*INFECTED* Eicar", "*TRUSTED* ok"]
_MARKERS += ["*NETERROR* Cannot connect", "*SCANNED*", "*TRUSTED* *URLMOD* x"]


@st.composite
def e2guardian_line(draw: st.DrawFn, zone: str) -> tuple[str, dict]:
    """Formats 8 (old and new client fields), 4 (tab), 2 (quoted CSV) and 1 (space, DansGuardian)."""
    layout = draw(st.sampled_from(["protex-old", "protex-new", "tab", "csv", "space"]))
    ms = draw(instants(MAX_MS if layout.startswith("protex") else LOCAL_MAX_MS))
    client, (method, url), who = draw(clients), draw(request()), draw(users(spaces=layout != "space"))
    status, size, what = draw(st.sampled_from(STATUSES)), draw(sizes), draw(st.sampled_from(_MARKERS))
    cat, mime, ua = (
        draw(st.sampled_from(["", "Gambling", "Cleaning Domains"])),
        draw(st.sampled_from(MIMES)),
        draw(agent),
    )
    markers = " ".join(w for w in what.split() if w.startswith("*"))
    action = "blocked" if "DENIED" in markers or "INFECTED" in markers else "error" if "NETERROR" in markers else None
    want = {"client_ip": client, "method": method, **url.want(), **who.want(), "status": status, "bytes_in": size}
    want |= {"action": action or ("auth_required" if status == 407 else "allowed"), "vendor_action": markers or None}
    if layout.startswith("protex"):
        hostname = draw(st.sampled_from(["", client, "PC-1"]))
        head = [f"{ms // 1000}.{ms % 1000:03d}", "proxy1", who.logged, client]
        head += [hostname] if layout == "protex-new" else []
        rest = [url.text, method, str(status), str(size), mime, ua, "", "17", "", "0", what, "0", cat, "Students", "1"]
        shown = layout == "protex-new" and hostname not in ("", client)
        want |= {"device": hostname if shown else None, "duration_ms": 17}
        return "\t".join(head + rest), want | {"time": utc(ms), "vendor_category": cat or None}
    t = local(ms, zone)
    when = f"{t.year}.{t.month}.{t.day} {t.hour}:{t:%M:%S}" if draw(st.booleans()) else f"{t:%Y.%m.%d %H:%M:%S}"
    want["time"] = read_back(t.replace(microsecond=0), zone)
    dg = [when, who.logged, client, url.text, what, method, str(size), "0", cat, "1", str(status), mime, "pc", "x"]
    if layout == "tab":
        return "\t".join([*dg, ua]), want | {"vendor_category": cat or None, "user_agent": ua}
    if layout == "csv":
        return ",".join(f'"{c}"' for c in [*dg, ua]), want | {"vendor_category": cat or None}
    return " ".join(dg[:11] + [mime, "-", "", "-"]), want | {"vendor_category": cat or None}


@st.composite
def squidguard_line(draw: st.DrawFn, zone: str) -> tuple[str, dict]:
    """``Request(src/dst/rewrite) url ip/fqdn ident method [decision]``, in local time."""
    t = local(draw(instants(LOCAL_MAX_MS)), zone).replace(microsecond=0)
    client, (method, url), who = draw(clients), draw(request()), draw(users())
    dst, fqdn = draw(st.sampled_from(["gambling", "proxy", "none", "-"])), draw(st.sampled_from(["-", "pc7.school"]))
    decision = draw(st.sampled_from(["REDIRECT", "DENY", "BLOCK", "PASS", "REWRITE", ""]))
    line = f"{t:%Y-%m-%d %H:%M:%S} [{draw(st.integers(1, 99999))}] Request(students/{dst}/-) {url.text} "
    line += f"{client}/{fqdn} {who.logged} {method}" + (f" {decision}" if decision else "")
    want = {"time": read_back(t, zone), "client_ip": client, "method": method, **url.want(), **who.want()}
    want |= {"device": None if fqdn == "-" else fqdn, "vendor_category": None if dst in ("none", "-") else dst}
    return line, want | {"action": "allowed" if decision in ("PASS", "REWRITE") else "blocked", "status": None}


_SG_HEAD = [b"2026-11-18 08:00:01 [23411] squidGuard 1.4 started (1794988801.123)"]
FORMATS: dict[str, Callable[[], st.SearchStrategy[Case]]] = {
    "squid": lambda: cases(squid_line),
    "squid-common": lambda: cases(squid_common_line),
    "squid-combined": lambda: cases(lambda z: squid_common_line(z, combined=True)),
    "squid-extended": lambda: cases(squid_extended_line),
    "bluecoat-squid": lambda: cases(bluecoat_line),
    "w3c": w3c_case,
    "umbrella": lambda: cases(umbrella_line),
    "zscaler-json": lambda: cases(zscaler_json_line),
    "zscaler-csv": zscaler_csv_case,
    "e2guardian": lambda: cases(e2guardian_line),
    "squidguard": lambda: cases(squidguard_line, _SG_HEAD),
}
"""Reader name → strategy of valid fragments for it (tests check this covers every registered reader)."""
