"""``large-transfer``: one very large download or upload, or a day's worth of them.

Two things fire, both judged per person and local day: a single request of at
least ``request_mb`` (a CONNECT tunnel is one request: its bytes are all the
proxy can see), and the person's transfers in the day adding up to at least
``day_gb``. They are folded into one finding per person and day, so a pupil
with one 734 MB download gets one finding, not a request finding and a day
finding about the same bytes.

Only bytes that were delivered count: blocked requests and 407 challenges carry
a block page, not the file. Sites on the allow list (operating-system updates,
education video) and OS-update agents (``ignore_user_agents``, matched as
case-insensitive substrings of the distinct user agents) are school business
even when huge: Delivery Optimization fetches gigabytes under no user name,
and the identity map then pins them on whoever held the address. Non-business
bytes come first in the detail and raise the severity one step when a big
request is non-business or when they are at least ``nonbusiness_percent`` of
a day total that fired.

Everything is totalled with numpy over whole columns; only the person-days that
could fire are turned into a pandas frame.
"""

from __future__ import annotations

from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import bools
from . import text
from .context import Context
from .hits import Hits
from .model import Rule

_MB, _GB = 1_000_000, 1_000_000_000
"""Decimal units, as the detail prints them (``text.size``)."""

_SHOWN = 3
"""Big requests and day parts named in one detail line."""


def _delivered(ctx: Context, rule: Rule) -> tuple[np.ndarray, np.ndarray]:
    """Bytes of every row (download + upload) and which rows count (delivered, not on the allow list)."""
    nbytes = np.asarray(ctx.transferred.to_numpy(zero_copy_only=False), dtype=np.int64)
    counted = ~ctx.is_in("action", ["blocked", "auth_required"]) & ~ctx.is_in("category", rule["ignore_categories"])
    return nbytes, counted & (nbytes > 0)


def _person_days(ctx: Context) -> np.ndarray:
    """A dense integer key per (person, local day) for every row: numpy from here on, no strings."""
    who = pc.dictionary_encode(ctx.who)
    who_code = np.asarray(who.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    day = np.asarray(pc.cast(ctx.local_date, pa.int32()).to_numpy(zero_copy_only=False), dtype=np.int64)
    day -= day.min()
    return who_code * (int(day.max()) + 1) + day


def _firing(rows: np.ndarray, key: np.ndarray, nbytes: np.ndarray, rule: Rule) -> np.ndarray:
    """The ``rows`` whose person-day has a big request or a big total."""
    k, sizes = key[rows], nbytes[rows]
    fires = np.bincount(k, weights=sizes.astype(np.float64)) >= rule["day_gb"] * _GB
    fires[k[sizes >= rule["request_mb"] * _MB]] = True
    return rows[fires[k]]


def _update_agents(ctx: Context, rows: np.ndarray, agents: list[str]) -> np.ndarray:
    """Which of ``rows`` (ascending) were sent by an OS-update agent: a substring match on distinct agents."""
    if not agents or len(rows) == 0:
        return np.zeros(len(rows), dtype=bool)
    chosen = np.zeros(len(ctx), dtype=bool)
    chosen[rows] = True
    sent = pc.cast(ctx.events.column("user_agent").filter(bools(chosen)), pa.string())
    ua = pc.dictionary_encode(sent.combine_chunks() if isinstance(sent, pa.ChunkedArray) else sent)
    hit = np.zeros(len(ua.dictionary), dtype=bool)
    for agent in agents:
        found = pc.match_substring(ua.dictionary, agent, ignore_case=True)
        hit |= np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)
    codes = ua.indices
    valid = np.asarray(codes.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    index = np.asarray(pc.fill_null(codes, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return valid & (hit[index] if len(hit) else False)


def _candidates(ctx: Context, rule: Rule) -> pd.DataFrame:
    """The counted rows of every person-day that fires, as a frame (index: event row)."""
    nbytes, counted = _delivered(ctx, rule)
    rows = np.flatnonzero(counted)
    if len(rows) == 0:
        return pd.DataFrame()
    key = _person_days(ctx)
    # the user-agent exclusion can only lower totals: match agents on the rows that could fire, then recheck
    rows = _firing(rows, key, nbytes, rule)
    rows = rows[~_update_agents(ctx, rows, rule["ignore_user_agents"])]
    rows = _firing(rows, key, nbytes, rule)
    if len(rows) == 0:
        return pd.DataFrame()
    chosen = np.zeros(len(ctx), dtype=bool)
    chosen[rows] = True
    columns = ["who", "local_date", "time", "method", "host", "path", "domain", "category", "bytes_out"]
    frame = ctx.frame(chosen, columns)
    frame["bytes"] = nbytes[rows]
    frame["upload"] = frame["bytes_out"].fillna(0).to_numpy(dtype=np.int64) * 2 > frame["bytes"].to_numpy()
    frame["category"] = frame["category"].astype(object)
    frame["domain"] = frame["domain"].astype(object)
    return frame


def _names(frame: pd.DataFrame) -> pd.Series:
    """What each request moved, for the detail: the file name, else the host (a tunnel shows no path)."""
    path = frame["path"].astype(object).fillna("")
    last = path.str.rsplit("/", n=1).str[-1]
    unique = pd.unique(last)
    readable = pd.Series([unquote(v) for v in unique], index=unique)
    name = last.map(readable)
    tunnel = frame["method"].astype(str).eq("CONNECT").to_numpy()
    site = frame["domain"].fillna(frame["host"].astype(object)).fillna("?")
    named = (name != "") & ~tunnel
    what = np.where(named, name + " from " + site, np.where(tunnel, "a tunnel to " + frame["host"].astype(str), site))
    # an upload's URL names the service's endpoint, not the file: say where it went
    what = np.where(frame["upload"].to_numpy() & ~tunnel, "upload to " + site, what)
    return pd.Series(what, index=frame.index, dtype=object)


def _big_parts(big: pd.DataFrame, ctx: Context) -> pd.Series:
    """Per finding: its big requests, non-business first then largest: ``734 MB X.zip from a.net (games), 13:47``."""
    if big.empty:
        return pd.Series(dtype=object)
    cat = np.where(big["category"].notna(), " (" + big["category"].fillna("") + ")", "")
    item = text.size(big["bytes"]) + " " + _names(big) + cat + ", " + text.clock(big["time"], ctx.timezone)
    ordered = big.assign(item=item).sort_values(["finding", "nonbusiness", "bytes"], ascending=[True, False, False])
    rank = ordered.groupby("finding").cumcount().to_numpy()
    shown = ordered[rank < _SHOWN].groupby("finding")["item"].agg("; ".join)
    extra = ordered.groupby("finding").size() - _SHOWN
    more = pd.Series(np.where(extra > 0, "; +" + extra.astype(str) + " more", ""), index=extra.index)
    return shown + more.reindex(shown.index, fill_value="")


def _day_parts(frame: pd.DataFrame, rule: Rule) -> pd.Series:
    """Per finding: its bytes by category, non-business first, ``2.3 GB filesharing (dropboxusercontent.com)``.

    Parts under ``evidence_mb`` are left out: a few KB of adverts would only push the real story down the line.
    """
    kind = frame["category"].fillna("uncategorised")
    by_site = frame.assign(kind=kind).groupby(["finding", "kind", "site"], sort=False)["bytes"].sum().reset_index()
    by_site = by_site.sort_values(["finding", "kind", "bytes"], ascending=[True, True, False])
    parts = by_site.groupby(["finding", "kind"], sort=False).agg(bytes=("bytes", "sum"), site=("site", "first"))
    parts = parts.reset_index()
    parts = parts[parts["bytes"].to_numpy() >= rule["evidence_mb"] * _MB]
    parts["nonbusiness"] = parts["kind"].isin(rule["nonbusiness_categories"]).to_numpy()
    parts = parts.sort_values(["finding", "nonbusiness", "bytes"], ascending=[True, False, False])
    item = text.size(parts["bytes"]) + " " + parts["kind"].astype(str) + " (" + parts["site"].astype(str) + ")"
    return text.joined(item, parts["finding"].to_numpy(), limit=_SHOWN)


def _detail(found: pd.DataFrame, bigs: pd.Series, days: pd.Series, rule: Rule) -> np.ndarray:
    """The plain-English line: the day's total and its parts, or the big request(s)."""
    bigs = bigs.astype(object).fillna("")
    days = days.astype(object).fillna("")
    size = text.size(found["bytes"])
    first = pd.Series(bigs.str.split(" ", n=2).str[2], index=found.index, dtype=object).fillna("")
    one_big = size + " in one request: " + first
    many_big = size + " in " + text.count(found["big_n"], "request") + f" of {rule['request_mb']} MB or more: " + bigs
    larger = found["evidence_n"].astype(str).astype(object) + f" of {rule['evidence_mb']} MB or more"
    day = size + " in " + text.count(found["requests"], "request") + " today (" + larger + ")"
    day = day + np.where(days != "", ": " + days, "")
    day = day + np.where(found["big_n"] > 0, "; largest: " + bigs, "")
    return np.where(found["whole_day"], day, np.where(found["big_n"] == 1, one_big, many_big))


def _summarise(frame: pd.DataFrame, ctx: Context, rule: Rule) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One finding per person-day: numbers, severity, detail; and its evidence rows.

    A whole-day finding counts every request of the day and rests on those of ``evidence_mb`` or more (at
    least its largest one); a finding on big requests alone counts and rests on the big requests.
    """
    frame["nonbusiness"] = frame["category"].isin(rule["nonbusiness_categories"]).to_numpy()
    frame["site"] = frame["domain"].fillna(frame["host"].astype(object)).fillna("?")
    frame["big"] = frame["bytes"].to_numpy() >= rule["request_mb"] * _MB
    g = frame.groupby("finding", sort=True)
    found = pd.DataFrame({"total": g["bytes"].sum(), "requests": g.size()})
    found["whole_day"] = found["total"].to_numpy() >= rule["day_gb"] * _GB
    big = frame[frame["big"].to_numpy()]
    bg = big.groupby("finding")
    found["big_n"] = bg.size().reindex(found.index, fill_value=0)
    found["big_bytes"] = bg["bytes"].sum().reindex(found.index, fill_value=0)
    found["big_nonbusiness"] = bg["nonbusiness"].any().reindex(found.index, fill_value=False).astype(bool)
    found["nonbusiness_bytes"] = frame["bytes"].where(frame["nonbusiness"], 0).groupby(frame["finding"]).sum()

    floor = np.minimum(rule["evidence_mb"] * _MB, g["bytes"].transform("max").to_numpy())
    whole = found["whole_day"].to_numpy()[frame["finding"].to_numpy()]
    frame["evidence"] = np.where(whole, frame["bytes"].to_numpy() >= floor, frame["big"].to_numpy())
    found["evidence_n"] = frame.groupby("finding")["evidence"].sum().astype(np.int64)
    whole_day = found["whole_day"].to_numpy()
    found["count"] = np.where(whole_day, found["requests"], found["big_n"]).astype(np.int64)
    found["bytes"] = np.where(whole_day, found["total"], found["big_bytes"]).astype(np.int64)
    share = found["nonbusiness_bytes"].to_numpy() * 100 >= rule["nonbusiness_percent"] * found["bytes"].to_numpy()
    share &= whole_day  # a finding on big requests alone is about those requests, not the rest of the day
    found["severity"] = np.where(found["big_nonbusiness"].to_numpy() | share, rule.raised(1), rule.severity)
    bigs = _big_parts(big, ctx).reindex(found.index)
    found["detail"] = _detail(found, bigs, _day_parts(frame, rule).reindex(found.index), rule)

    # the finding is named after the site with the most of the bytes that fired it
    fired = frame[whole | frame["big"].to_numpy()]
    per_site = fired.groupby(["finding", "site"], sort=False).agg(
        bytes=("bytes", "sum"), category=("category", "first")
    )
    top = per_site.reset_index().sort_values(["finding", "bytes"], ascending=[True, False]).groupby("finding").first()
    found["domain"] = top["site"].reindex(found.index)
    found["category"] = top["category"].reindex(found.index)
    return found, frame[frame["evidence"].to_numpy()]


def detect(ctx: Context, rule: Rule) -> Hits:
    """One finding per person and local day with a big request or a big day total."""
    if len(ctx) == 0:
        return Hits.none()
    frame = _candidates(ctx, rule)
    if frame.empty:
        return Hits.none()
    key = frame.groupby(["who", "local_date"], sort=True).ngroup().to_numpy()
    frame["finding"] = key
    found, evidence = _summarise(frame, ctx, rule)
    columns = ["count", "bytes", "severity", "detail", "domain", "category"]
    return Hits.grouped(found[columns], evidence.index.to_numpy(), evidence["finding"].to_numpy())
