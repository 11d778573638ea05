"""Strategies for the vendor formats: Umbrella, Zscaler NSS (JSON and CSV), E2Guardian and squidGuard.

Each has its own quirks (quoting, field presets, local times without a zone), worked out here
from the format notes (research/formats.md), not from reader code.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st
from strategies_common import (
    DAYS,
    DEFAULT_PORT,
    LOCAL_MAX_MS,
    MAX_MS,
    MIMES,
    MONTHS,
    STATUSES,
    Case,
    agent,
    clients,
    instants,
    ipv4,
    local,
    name,
    read_back,
    request,
    sizes,
    users,
    utc,
    word,
)


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
