"""``circumvention``: someone tried to get round the filter (VPN, web proxy, Tor, DoH, tunnels).

Indicators, strongest first (detection.md §1): a host on the vpn, proxy, tor or
tunnels lists; a Tor Browser download or a ``.onion`` host; DNS over HTTPS; a
CONNECT fan-out to many distinct public IP addresses in a few minutes (Psiphon,
Ultrasurf and Tor all connect by address); CONNECT to a port that only tunnels
use (SSH, OpenVPN, Tor, chained proxies); and web-proxy URL shapes. Blocked
requests count like allowed ones: a denied CONNECT to port 1194 is intent.
407 challenges are not: the browser retries them with credentials.

Each event gets one indicator kind (in the order above, so a Tor relay reached
on port 9001 inside a fan-out is part of the fan-out, not a second finding),
and one finding is one person's events of one kind no more than
``episode_gap_minutes`` apart (a tunnel's whole [opened, closed] span counts,
so a long VPN tunnel and the requests around it stay one episode).

Severity: the rule's, except DoH alone, which browsers switch on by themselves
(``doh_severity``); DoH on a day the same person has any other indicator is
raised to the rule's severity. A person trying ``critical_kinds`` different
means (``FAMILIES``; DoH aside) in one local day (VPN, then a proxy, then
Tor ...) is rated critical: that is sustained, deliberate evasion rather than
one curious click.
"""

from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..enrich.domains import literal_values
from ..errors import ConfigError
from . import _proxy_urls as urls
from . import text
from .context import Context
from .hits import Hits
from .model import Rule

FANOUT, PORT, PROXY_URL, TOR = "ip-literals", "unusual-port", "proxy-url", "tor"
"""Kinds that do not come from a category list (``tor`` also does)."""

LABELS = {
    "vpn": "VPN",
    "proxy": "Web proxy",
    "tor": "Tor",
    "tunnels": "Tunnel service",
    "doh": "DNS over HTTPS",
    FANOUT: "IP-address fan-out",
    PORT: "Unusual ports",
    PROXY_URL: "Web-proxy URLs",
}
"""How each kind is named in the detail line; other (site-added) categories are shown by name."""

PORT_NAMES = {
    22: "SSH", 1080: "SOCKS", 1194: "OpenVPN", 1723: "PPTP", 3128: "proxy", 8080: "proxy", 9001: "Tor relay",
    9030: "Tor directory", 9050: "Tor SOCKS", 9051: "Tor control", 9150: "Tor Browser", 9151: "Tor Browser",
}  # fmt: skip

FAMILIES = {PROXY_URL: "proxy", FANOUT: "network", PORT: "network"}
"""Kinds that are one means of evasion when counting towards ``critical_kinds``: a proxy site and proxy-shaped
URLs are both a web proxy; an IP fan-out and odd ports are both a client connecting by address."""

DOH_TYPES = ("application/dns-message", "application/dns-json")
"""Reply types of DNS-over-HTTPS queries, whatever the resolver's name."""

_SHIFT = 40
"""Bits for time (ms since the first event) in a packed (person, time) sort key."""


def _values(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The distinct values of a dictionary column (from its dictionaries: no pass over the rows), nulls left out.

    Worked out for every bucket of a large day, whose dictionaries each hold
    nearly all of the day's domains: so in Arrow, not as a Python set.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    values = [pc.cast(c.dictionary if pa.types.is_dictionary(c.type) else c, pa.string()) for c in chunks]
    return pc.drop_null(pc.unique(pa.chunked_array(values, pa.string())))


def _networks(rule: Rule) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The ``ip_literal_allow`` ranges, checked: a typo is a config error, not a silently ignored range."""
    networks = []
    for text_value in rule["ip_literal_allow"]:
        try:
            networks.append(ipaddress.ip_network(text_value, strict=False))
        except ValueError as error:
            raise ConfigError(f"filterlog.toml [rules.{rule.id}] ip_literal_allow: {error}") from None
    return networks


def _addresses(domains: pa.Array, allow: list) -> tuple[set[str], set[str]]:
    """Of the distinct registered domains, the IP literals split into suspect and trusted addresses.

    Trusted: private, loopback, link-local and other non-global addresses (the
    school's own servers), and the ``ip_literal_allow`` ranges (video-call relays).
    """
    suspect, trusted = set(), set()
    for value in domains.filter(literal_values(domains)).to_pylist():
        address = ipaddress.ip_address(value.strip("[]").split("%", 1)[0])
        allowed = not address.is_global or any(address in net for net in allow if net.version == address.version)
        (trusted if allowed else suspect).add(value)
    return suspect, trusted


def _frame(ctx: Context, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """``ctx.frame`` with categorical (dictionary) columns as plain strings, which compare and group simply."""
    frame = ctx.frame(rows, columns)
    coded = [name for name in columns if isinstance(frame[name].dtype, pd.CategoricalDtype)]
    return frame.astype(dict.fromkeys(coded, object)) if coded else frame


def fan_out(who: np.ndarray, ms: np.ndarray, ip: np.ndarray, least: int, window_ms: int) -> np.ndarray:
    """Which events lie in some window [t - window, t] holding ``least`` distinct ``ip`` values of one ``who``.

    Exact and vectorised: each occurrence of an address stands for it from its
    time until its next occurrence or the window's end, whichever is first; a
    running sum of those intervals per person is the distinct count at every
    event, and an event is a member when a window that reached ``least`` ends
    no more than ``window_ms`` after it.
    """
    n = len(ms)
    member = np.zeros(n, dtype=bool)
    if n < least or least <= 0:
        return np.ones(n, dtype=bool) if least <= 0 else member
    ms = ms - ms.min()
    order = np.lexsort((ms, ip, who))
    w, a, t = who[order], ip[order], ms[order]
    later = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    same = (w[1:] == w[:-1]) & (a[1:] == a[:-1])
    later[:-1] = np.where(same, t[1:], later[:-1])
    until = np.minimum(later, t + window_ms + 1)
    live = until > t
    points_who = np.concatenate([w[live], w[live]])
    points_ms = np.concatenate([t[live], until[live]])
    step = np.concatenate([np.ones(live.sum(), np.int64), -np.ones(live.sum(), np.int64)])
    sweep = np.lexsort((step, points_ms, points_who))  # at one instant, intervals close before others open
    level = np.cumsum(step[sweep])
    fires = (step[sweep] > 0) & (level >= least)
    if not fires.any():
        return member
    fire_key = (points_who[sweep][fires].astype(np.int64) << _SHIFT) + points_ms[sweep][fires]
    key = (who.astype(np.int64) << _SHIFT) + ms
    nearest = np.minimum(np.searchsorted(fire_key, key, side="left"), len(fire_key) - 1)
    ahead = fire_key[nearest] - key
    return (ahead >= 0) & (ahead <= window_ms)


def _indicators(ctx: Context, rule: Rule) -> pd.DataFrame:
    """The events that are indicators, one row each, with their ``kind`` (index: event row).

    Whole-column masks pick the candidate rows (a category on the lists, a DoH
    reply type, an IP-literal or .onion host, a listed port, a URL hint); the
    exact decisions are then made on that small frame.
    """
    n = len(ctx)
    connect = ctx.is_in("method", ["CONNECT"])
    domains = _values(ctx.events.column("domain"))
    public, private = _addresses(domains, _networks(rule))
    onion = set(domains.filter(pc.ends_with(domains, ".onion")).to_pylist())
    odd_port = ctx.mask(pc.is_in(ctx.events.column("port"), value_set=pa.array(rule["ports"], pa.int32())))
    doh_categories = list(rule["doh_categories"])
    candidates = (
        ctx.is_in("category", [*rule["categories"], *doh_categories])
        | ctx.is_in("content_type", DOH_TYPES)
        | ctx.is_in("domain", public | onion)
        | (odd_port & connect)
        | urls.candidates(ctx.events.column("path"), ctx.events.column("query"), n)
    )
    rows = np.flatnonzero(candidates)
    columns = ["who", "opened", "time", "method", "action", "host", "port", "domain", "category", "content_type",
               "path", "query", "bytes_in"]  # fmt: skip
    frame = _frame(ctx, rows, columns)
    frame = frame[(frame["action"] != "auth_required").to_numpy()]  # the browser retries with credentials
    found = urls.shapes(frame)
    category, domain = frame["category"], frame["domain"]
    is_connect = (frame["method"] == "CONNECT").to_numpy()
    listed = category.isin(rule["categories"]).to_numpy()
    doh = (category.isin(doh_categories) | frame["content_type"].isin(DOH_TYPES)).to_numpy()
    tor = found["tor_download"].to_numpy() | domain.isin(onion).to_numpy()
    addresses = is_connect & domain.isin(public).to_numpy() & ~listed & ~doh
    ports = is_connect & frame["port"].isin(rule["ports"]).to_numpy() & ~domain.isin(private).to_numpy()
    shaped = found["shape"].notna().to_numpy() & ~is_connect & ~_allowed(domain, rule["embedded_url_allow"]).to_numpy()
    frame["shape"] = found["shape"].where(shaped)
    frame["target"] = found["target"]
    frame["tor_download"] = found["tor_download"]
    frame["ms"] = frame["opened"].astype("int64")

    fan = np.zeros(len(frame), dtype=bool)
    if addresses.any():
        sub = frame[addresses]
        who_code = pd.factorize(sub["who"])[0]
        ip_code = pd.factorize(sub["domain"])[0]
        window = rule["ip_literal_minutes"] * 60_000
        fan[addresses] = fan_out(who_code, sub["ms"].to_numpy(), ip_code, rule["ip_literals"], window)

    doh_kind = np.where(category.isin(doh_categories), category, doh_categories[0] if doh_categories else "doh")
    frame["kind"] = np.select(
        [listed, tor, doh, fan, ports, shaped],
        [category.to_numpy(), TOR, doh_kind, FANOUT, PORT, PROXY_URL],
        None,
    )
    return frame[frame["kind"].notna()]


def _allowed(domains: pd.Series, allow: list[str]) -> pd.Series:
    """Whether each registered domain is, or is under, an entry of the allow list (``gov.uk`` covers ``www.gov.uk``)."""
    values = pd.Series(domains.dropna().unique(), dtype=object)
    suffixes = tuple("." + a.lower().lstrip(".") for a in allow)
    exact = {a.lower().lstrip(".") for a in allow}
    ok = {v for v in values if v.lower() in exact or v.lower().endswith(suffixes)}
    return domains.isin(ok)


def _episodes(frame: pd.DataFrame, gap_ms: int) -> pd.DataFrame:
    """Sort by (who, kind, opened) and number the episodes: a new one after a quiet gap longer than ``gap_ms``."""
    frame = frame.assign(end_ms=frame["time"].astype("int64")).sort_values(["who", "kind", "ms"], kind="stable")
    reach = frame.groupby(["who", "kind"], sort=False)["end_ms"].cummax().to_numpy()
    who, kind, ms = frame["who"].to_numpy(), frame["kind"].to_numpy(), frame["ms"].to_numpy()
    new = np.ones(len(frame), dtype=bool)
    new[1:] = (who[1:] != who[:-1]) | (kind[1:] != kind[:-1]) | (ms[1:] - reach[:-1] > gap_ms)
    return frame.assign(episode=np.cumsum(new) - 1)


def _mode(values: pd.Series, by: pd.Series) -> pd.Series:
    """Per group, the most frequent value (ties: the first seen)."""
    frame = pd.DataFrame({"by": by.to_numpy(), "v": values.to_numpy()}).dropna()
    counts = frame.groupby(["by", "v"], sort=False).size().reset_index(name="n")
    return counts.sort_values("n", ascending=False, kind="stable").drop_duplicates("by").set_index("by")["v"]


def _lists(frame: pd.DataFrame, n: int) -> dict[str, np.ndarray]:
    """Per finding: the distinct values of each thing the detail lists (one ``text.joined`` call for all)."""
    kind = frame["kind"].to_numpy()
    port = frame["port"].astype("Int64")
    values = {
        "shown": _shown(frame),
        "tor": urls.file_name(frame["path"]).where(frame["tor_download"].to_numpy()),
        "service": port.map(PORT_NAMES).where(kind == PORT),
        "port": port.astype(str).where(kind == FANOUT),
        "target": frame["target"].where(kind == PROXY_URL),
        "shape": frame["shape"].where(kind == PROXY_URL),
    }
    episode = frame["episode"].to_numpy()
    width = len(values)
    long = pd.concat([v.astype(object) for v in values.values()], ignore_index=True)
    by = np.concatenate([episode * width + i for i in range(width)])
    joined = text.joined(long, by)
    slots = np.arange(n) * width
    return {name: joined.reindex(slots + i).to_numpy(dtype=object) for i, name in enumerate(values)}


def _details(found: pd.DataFrame, frame: pd.DataFrame, ctx: Context) -> pd.Series:
    """One plain-English line per finding, with the numbers that made it."""
    lists = _lists(frame, len(found))
    have = {name: ~pd.isna(v) for name, v in lists.items()}
    text_of = {name: np.where(have[name], v, "").astype(object) for name, v in lists.items()}
    kind = found["kind"].to_numpy(dtype=object)
    blocked, nbytes = found["blocked"].to_numpy(), found["bytes"].to_numpy()
    several_ports = pd.Series(text_of["port"], dtype=object).str.contains(", ", regex=False).to_numpy(dtype=bool)
    about = np.select(
        [have["tor"], have["service"], have["port"]],
        ["Tor Browser download " + text_of["tor"], text_of["service"],
         np.where(several_ports, "ports ", "port ") + text_of["port"]],
        "",
    )  # fmt: skip
    count_blocked = np.where(blocked > 0, found["blocked"].astype(str).to_numpy(dtype=object) + " blocked", "")
    downloaded = np.where(nbytes > 0, text.size(found["bytes"]).to_numpy(dtype=object) + " downloaded", "")
    amounts = np.where((count_blocked != "") & (downloaded != ""), count_blocked + ", " + downloaded,
                       count_blocked + downloaded)  # fmt: skip
    notes = np.where((about != "") & (amounts != ""), about + "; " + amounts, about + amounts)
    notes = np.where(notes != "", " (" + notes + ")", "")
    label = found["kind"].map(LABELS).fillna(found["kind"].astype(str).str.capitalize()).to_numpy(dtype=object)
    shown = text_of["shown"]
    requests = text.count(found["count"], "request").to_numpy(dtype=object)
    within = text.minutes(found["spread"] / 1000).to_numpy(dtype=object)
    addresses = found["addresses"].astype(str).to_numpy(dtype=object)
    fetching = np.where(have["target"], " fetching " + text_of["target"], "")
    line = np.select(
        [kind == FANOUT, kind == PORT, kind == PROXY_URL],
        [
            label + ": CONNECT to " + addresses + " different IP addresses within " + within + ": " + shown,
            label + ": " + text.count(found["count"], "CONNECT").to_numpy(dtype=object) + " to " + shown,
            label + ": " + requests + " to " + shown + " shaped like a web proxy (" + text_of["shape"] + ")" + fetching,
        ],
        label + ": " + requests + " to " + shown,
    )
    when = text.span(found["start"], found["end"], ctx.timezone).to_numpy(dtype=object)
    return pd.Series(line + notes + ", " + when, index=found.index, dtype=object)


def _shown(frame: pd.DataFrame) -> pd.Series:
    """What the detail lists per event: the registered domain, the host of a proxy URL, host:port of a port."""
    host = frame["host"].astype(object)
    with_port = host + ":" + frame["port"].astype("Int64").astype(str)
    return frame["domain"].where(
        ~frame["kind"].isin([PROXY_URL, PORT]), np.where(frame["kind"] == PORT, with_port, host)
    )


def _severity(found: pd.DataFrame, rule: Rule, timezone: str) -> pd.Series:
    """The rule's severity; DoH alone lower; ``critical_kinds`` means of evasion in one day critical."""
    day = found["start"].dt.tz_convert(timezone).dt.date
    doh = found["kind"].isin(rule["doh_categories"] or ["doh"]).to_numpy()
    family = found["kind"].map(FAMILIES).fillna(found["kind"])
    others = pd.DataFrame({"who": found["who"], "day": day, "kind": family.where(~doh)})
    kinds = others.groupby(["who", "day"])["kind"].transform("nunique").to_numpy()
    severity = np.where(doh & (kinds == 0), rule["doh_severity"], rule.severity)
    if rule["critical_kinds"] > 0:
        severity = np.where(kinds >= rule["critical_kinds"], "critical", severity)
    return pd.Series(severity, index=found.index)


def detect(ctx: Context, rule: Rule) -> Hits:
    """Findings of circumvention: one per person, indicator kind and episode."""
    if len(ctx) == 0:
        return Hits.none()
    frame = _indicators(ctx, rule)
    if frame.empty:
        return Hits.none()
    frame = _episodes(frame, rule["episode_gap_minutes"] * 60_000)
    blocked = frame["action"] == "blocked"
    frame["downloaded"] = frame["bytes_in"].fillna(0).where(~blocked, 0).astype("int64")
    frame["blocked"] = blocked.astype("int64")
    frame["main"] = np.where(frame["kind"] == PROXY_URL, frame["host"].astype(object), frame["domain"])
    groups = frame.groupby("episode", sort=True)
    found = pd.DataFrame(
        {
            "who": groups["who"].first(),
            "kind": groups["kind"].first(),
            "count": groups.size(),
            "blocked": groups["blocked"].sum(),
            "bytes": groups["downloaded"].sum(),
            "start": groups["opened"].min(),
            "end": groups["time"].max(),
            "addresses": groups["domain"].nunique(),
            "spread": groups["ms"].max() - groups["ms"].min(),
        }
    )
    found["domain"] = _mode(frame["main"], frame["episode"]).reindex(found.index)
    found["category"] = found["kind"]
    found["detail"] = _details(found, frame, ctx)
    found["severity"] = _severity(found, rule, ctx.timezone)
    columns = ["count", "bytes", "severity", "detail", "start", "end", "domain", "category"]
    return Hits.grouped(found[columns], frame.index.to_numpy(), frame["episode"].to_numpy())
