"""Shared pieces of the reader strategies: the ``Case`` fragment, atoms, times, URLs and users.

Every format family in ``strategies_*.py`` draws from these, so a host, a URL or a user name
is generated (and its expected fields worked out) the same way whichever reader it is for.
"""

from __future__ import annotations

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


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


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
