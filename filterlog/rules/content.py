"""``inappropriate-content``: someone was let through to adult, violent, extremist or self-harm sites.

The filter blocks most of these sites; the ones it let through are the rule's
business (the blocked ones are repeated-blocked's). Raw requests overstate what
was seen - one page pulls in dozens of images and scripts - so the rule counts
*page views*: a page view is a burst of one person's requests to one domain,
no more than ``burst_gap_seconds`` apart, holding at least one page-like
request. Page-like means a GET or POST answered with HTML (or with no content
type) or whose path has no static-resource extension, or a CONNECT tunnel
(HTTPS without inspection shows nothing finer). Images on a content network
(phncdn.com beside pornhub.com) count no views of their own but are evidence.

One finding per person, category and local day, at any time of day: a pupil
looking at pornography at 20:00 on a school laptop matters as much as at
11:00. Self-harm and extremism are safeguarding concerns, hence
``critical_categories``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import text
from .context import STATIC_PATH, Context
from .hits import Hits
from .model import Rule

_PAGE_METHODS = ("GET", "POST")
_HTML = ("text/html", "application/xhtml")


def _page_like(frame: pd.DataFrame) -> np.ndarray:
    """Which requests could be the person opening something: pages and tunnels, not their resources."""
    method = frame["method"].astype(object)
    tunnel = method.eq("CONNECT").to_numpy()
    fetch = method.isin(_PAGE_METHODS).to_numpy()
    ctype = frame["content_type"].astype(object).str.lower()
    html = (ctype.isna() | ctype.str.startswith(_HTML).fillna(False)).to_numpy(dtype=bool)
    path = frame["path"].astype(object).fillna("").str.lower()
    static = path.str.contains(STATIC_PATH, regex=True).to_numpy(dtype=bool)
    return tunnel | (fetch & (html | ~static))


def _views(ctx: Context, rule: Rule) -> pd.DataFrame:
    """The allowed requests in the rule's categories, each with its burst and whether the burst is a view."""
    chosen = ctx.is_in("action", ["allowed"]) & ctx.is_in("category", rule["categories"])
    if not chosen.any():
        return pd.DataFrame()
    columns = ["who", "local_date", "time", "host", "domain", "category", "method", "content_type", "path"]
    frame = ctx.frame(chosen, [*columns, "transferred"]).rename(columns={"transferred": "bytes"})
    frame["page"] = _page_like(frame)
    frame["site"] = frame["domain"].astype(object).fillna(frame["host"].astype(object)).fillna("?")
    frame["category"] = frame["category"].astype(object)
    frame["ms"] = frame["time"].astype("int64")
    frame = frame.sort_values(["who", "site", "ms"], kind="stable")
    gap = frame.groupby(["who", "site"], sort=False)["ms"].diff()
    frame["burst"] = (gap.isna() | (gap > rule["burst_gap_seconds"] * 1000)).cumsum()
    frame["view"] = frame.groupby("burst")["page"].transform("any") & ~frame["burst"].duplicated()
    return frame


def _summarise(frame: pd.DataFrame, ctx: Context, rule: Rule) -> pd.DataFrame:
    """One finding per (person, category, local day) that reached ``page_views``: numbers, severity, detail."""
    g = frame.groupby("finding", sort=True)
    found = pd.DataFrame(
        {
            "count": g["view"].sum().astype(np.int64),
            "requests": g.size(),
            "bytes": g["bytes"].sum().astype(np.int64),
            "category": g["category"].first(),
            "start": g["time"].min(),
            "end": g["time"].max(),
        }
    )
    # domains with the most views first; resource-only domains (content networks) after them
    per_site = frame.groupby(["finding", "site"], sort=False).agg(views=("view", "sum"), first=("ms", "min"))
    per_site = per_site.reset_index().sort_values(["finding", "views", "first"], ascending=[True, False, True])
    viewed, resources = per_site[per_site["views"] > 0], per_site[per_site["views"] == 0]
    found["domain"] = viewed.groupby("finding")["site"].first().reindex(found.index)
    on = text.joined(viewed["site"], viewed["finding"].to_numpy()).reindex(found.index)
    also = text.joined(resources["site"], resources["finding"].to_numpy()).reindex(found.index)
    critical = found["category"].isin(rule["critical_categories"]).to_numpy()
    found["severity"] = np.where(critical, "critical", rule.severity)
    requests = text.count(found["requests"], "request")
    also_text = pd.Series(np.where(also.notna(), " (also " + also.fillna("") + ")", ""), index=found.index)
    found["detail"] = (
        "viewed "
        + text.count(found["count"], "page")
        + " on "
        + on
        + " ("
        + found["category"].astype(str)
        + "), "
        + requests
        + also_text
        + ", "
        + text.span(found["start"], found["end"], ctx.timezone)
    )
    return found


def detect(ctx: Context, rule: Rule) -> Hits:
    """One finding per person, category and local day with at least ``page_views`` page views."""
    frame = _views(ctx, rule)
    if frame.empty:
        return Hits.none()
    key = frame.groupby(["who", "category", "local_date"], sort=False).ngroup()
    views = frame.groupby(key)["view"].sum()
    good = views.index[views.to_numpy() >= max(1, rule["page_views"])]
    frame = frame[key.isin(good).to_numpy()].copy()
    if frame.empty:
        return Hits.none()
    frame["finding"] = pd.factorize(key[key.isin(good)].to_numpy(), sort=True)[0]
    found = _summarise(frame, ctx, rule)
    columns = ["count", "bytes", "severity", "detail", "domain", "category", "start", "end"]
    return Hits.grouped(found[columns], frame.index.to_numpy(), frame["finding"].to_numpy())
