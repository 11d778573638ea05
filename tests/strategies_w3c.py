"""Strategies for W3C extended (ELFF) logs as Blue Coat, ScanSafe and Cisco WSA write them.

The files are header-driven, so a case is a whole fragment: directives, a ``#Fields:`` line in
any order, then data lines laid out by it.
"""

from __future__ import annotations

from hypothesis import strategies as st
from strategies_common import (
    DEFAULT_PORT,
    MIMES,
    STATUSES,
    Case,
    agent,
    clients,
    instants,
    proxy_action,
    request,
    sizes,
    users,
    utc,
)

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
