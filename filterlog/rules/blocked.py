"""``repeated-blocked``: someone kept trying to reach sites the filter blocked.

A browser turns one click into a burst of requests (the page, its favicon, a
retry, the CONNECT before it), so raw denied requests overstate intent and the
research (detection.md §4) counts *attempts*: one person's blocked requests to
one domain no more than ``burst_gap_seconds`` apart are one attempt. Two
patterns fire:

* persistence: ``attempts`` attempts at one site within ``window_minutes``;
* probing: ``probe_domains`` different blocked sites of one category within
  ``probe_window_minutes`` (proxy after proxy, casino after casino), the
  strongest sign of intent.

Not the user's attempts: 407 challenges (``auth_required``, never ``blocked``),
sites in ``ignore_categories`` (adverts and trackers), and blocked static
resources (scripts, images, fonts) that another site's page pulled in. An
allowed request in the same category soon after ("found one that works")
raises the severity a step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import sorted_distinct
from ..enrich.domains import registered_domains
from . import text
from .context import STATIC_PATH, Context
from .hits import Hits
from .model import Rule

_SHIFT = 40
"""Bits for time (ms relative to the first event) in a packed (key, time) sort value."""


def _resources(ctx: Context, rows: np.ndarray) -> np.ndarray:
    """Which of the blocked ``rows`` are static resources embedded in another domain's page.

    The only read of referers in the rules, and on blocked rows only: detect keeps no others
    (``day.referers_if_blocked``). A rule that wants them elsewhere must change that too.
    """
    take = pa.array(rows, pa.int64())
    path = pc.utf8_lower(pc.fill_null(ctx.events.column("path").take(take), ""))
    static = ctx.mask(pc.match_substring_regex(path, STATIC_PATH))
    referer = pc.fill_null(pc.cast(ctx.events.column("referer").take(take), pa.string()), "")
    ref_host = pc.struct_field(pc.extract_regex(referer, r"^[A-Za-z][A-Za-z0-9+.-]*://(?P<h>[^/:?#]+)"), "h")
    ref_domain = pc.cast(registered_domains(pc.utf8_lower(ref_host)), pa.string())
    domain = pc.cast(ctx.events.column("domain").take(take), pa.string())
    elsewhere = ctx.mask(pc.not_equal(ref_domain, domain))
    return static & elsewhere


def _attempts(ctx: Context, rule: Rule) -> pd.DataFrame:
    """Blocked requests that were the person's own, one row each, with their attempt number per (who, site)."""
    blocked = ctx.is_in("action", ["blocked"]) & ~ctx.is_in("category", rule["ignore_categories"])
    rows = np.flatnonzero(blocked)
    if len(rows) == 0:
        return pd.DataFrame()
    rows = rows[~_resources(ctx, rows)]
    frame = ctx.frame(rows, ["who", "time", "host", "domain", "category", "vendor_category"])
    site = frame["domain"].astype(object).where(frame["domain"].notna(), frame["host"].astype(object))
    frame["site"] = site.fillna("?")
    kind = frame["category"].astype(object).where(frame["category"].notna(), frame["vendor_category"].astype(object))
    frame["kind"] = kind
    frame["ms"] = frame["time"].astype("int64")
    frame = frame.sort_values(["who", "site", "ms"], kind="stable")
    gap = frame.groupby(["who", "site"], sort=False)["ms"].diff()
    frame["new"] = gap.isna() | (gap > rule["burst_gap_seconds"] * 1000)
    frame["attempt"] = frame["new"].cumsum()
    return frame


def _window_counts(key: np.ndarray, ms: np.ndarray, window_ms: int) -> np.ndarray:
    """For items sorted by (key, ms): how many items of the same key fall in [ms_i, ms_i + window]."""
    base = ms.min() if len(ms) else 0
    packed = (key.astype(np.int64) << _SHIFT) + (ms - base)
    return np.searchsorted(packed, packed + window_ms, side="right") - np.arange(len(packed))


def _persistence(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """Episodes of ``attempts`` attempts at one site within the window: one row per episode member row."""
    firsts = frame[frame["new"]]
    key = firsts.groupby(["who", "site"], sort=False).ngroup().to_numpy()
    ms = firsts["ms"].to_numpy()
    window = rule["window_minutes"] * 60_000
    enough = _window_counts(key, ms, window) >= rule["attempts"]
    # chain attempts of one site no more than a window apart; keep chains holding a qualifying window
    gap = np.diff(ms, prepend=ms[0] if len(ms) else 0)
    chain = np.cumsum((np.diff(key, prepend=-1) != 0) | (gap > window))
    good = sorted_distinct(chain[enough])
    chain_of = pd.Series(chain, index=firsts["attempt"].to_numpy())
    member = frame["attempt"].map(chain_of)
    return frame.assign(episode=member)[member.isin(good).to_numpy()]


def _probing(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """Windows with ``probe_domains`` different blocked sites of one category: their member rows."""
    firsts = frame[frame["new"] & frame["kind"].notna()].sort_values(["who", "kind", "ms"], kind="stable")
    if firsts.empty:
        return frame.iloc[:0].assign(episode=0)
    key = firsts.groupby(["who", "kind"], sort=False).ngroup().to_numpy()
    ms = firsts["ms"].to_numpy()
    reach = np.minimum(_window_counts(key, ms, rule["probe_window_minutes"] * 60_000), 200)
    candidates = np.flatnonzero(reach >= rule["probe_domains"])
    if len(candidates) == 0:
        return frame.iloc[:0].assign(episode=0)
    # every (anchor, attempt-in-its-window) pair; distinct sites per anchor
    lengths = reach[candidates]
    anchor = np.repeat(candidates, lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    pairs = pd.DataFrame({"anchor": anchor, "item": anchor + offset})
    pairs["site"] = firsts["site"].to_numpy()[pairs["item"].to_numpy()]
    distinct = pairs.drop_duplicates(["anchor", "site"]).groupby("anchor").size()
    flagged = distinct.index[distinct.to_numpy() >= rule["probe_domains"]].to_numpy()
    if len(flagged) == 0:
        return frame.iloc[:0].assign(episode=0)
    # merge overlapping windows of one key into episodes
    ends = flagged + reach[flagged]
    new = np.ones(len(flagged), dtype=bool)
    if len(flagged) > 1:
        new[1:] = (key[flagged[1:]] != key[flagged[:-1]]) | (flagged[1:] >= np.maximum.accumulate(ends)[:-1])
    episode_of_anchor = np.cumsum(new) - 1
    covered = pd.DataFrame({"anchor": flagged, "episode": episode_of_anchor, "end": ends})
    item_episode = np.full(len(firsts), -1)
    for_items = pairs[pairs["anchor"].isin(flagged)].merge(covered, on="anchor")
    item_episode[for_items["item"].to_numpy()] = for_items["episode"].to_numpy()
    chosen = pd.Series(item_episode, index=firsts["attempt"].to_numpy())
    chosen = chosen[chosen >= 0]
    member = frame["attempt"].map(chosen)
    return frame.assign(episode=member)[member.notna().to_numpy()].astype({"episode": "int64"})


def _followed(ctx: Context, episodes: pd.DataFrame, minutes: int, by: str) -> pd.DataFrame:
    """For each episode, the first allowed request by the same person to the same ``by`` soon after its end."""
    values = episodes[by].dropna().unique().tolist()
    column = "domain" if by == "site" else "category"
    allowed = ctx.is_in("action", ["allowed"]) & ctx.is_in(column, values) & ctx.is_in("who", episodes["who"].unique())
    later = ctx.frame(allowed, ["who", "time", column, "host"]).reset_index()
    later = later.rename(columns={column: by}).astype({by: object})
    left = episodes.reset_index()[["episode", "who", by, "end"]].astype({by: object}).sort_values("end")
    later = later.sort_values("time")
    if later.empty:
        return left.assign(row=np.nan, time=pd.NaT, host=None).set_index("episode")
    joined = pd.merge_asof(
        left, later, left_on="end", right_on="time", by=["who", by], direction="forward",
        tolerance=pd.Timedelta(minutes=minutes),
    )  # fmt: skip
    return joined.set_index("episode")


def _summarise(members: pd.DataFrame, ctx: Context, rule: Rule, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One finding per episode: numbers, severity and detail; members with the follow-up request added."""
    g = members.groupby("episode", sort=True)
    found = pd.DataFrame(
        {
            "who": g["who"].first(),
            "site": g["site"].first(),
            "kind": g["kind"].first(),
            "start": g["time"].min(),
            "end": g["time"].max(),
            "count": g["attempt"].nunique(),
            "requests": g.size(),
            "sites": g["site"].nunique(),
        }
    )
    names = text.joined(members.sort_values("time")["site"], members.sort_values("time")["episode"])
    found["names"] = names.reindex(found.index)
    by = "site" if kind == "persistence" else "kind"
    follow = _followed(ctx, found, rule["followed_minutes"], by).reindex(found.index)
    after = follow["row"].notna().to_numpy()
    base = rule.severity if kind == "persistence" else rule["probe_severity"]
    found["severity"] = np.where(after, rule.raised(1, base), base)
    cat = " (" + found["kind"].fillna("uncategorised").astype(str) + ")"
    when = text.span(found["start"], found["end"], ctx.timezone)
    requests = " (" + text.count(found["requests"], "blocked request") + ")"
    if kind == "persistence":
        detail = text.count(found["count"], "attempt") + " to reach " + found["site"].astype(str) + cat
        detail = detail + ", all blocked, " + when + requests
    else:
        window = str(rule["probe_window_minutes"])
        detail = "probing: " + found["sites"].astype(str) + " different " + found["kind"].astype(str) + " sites"
        detail = detail + " blocked within " + window + " min (" + found["names"] + "), " + when + requests
    at = text.clock(follow["time"], ctx.timezone)
    then = "; then reached " + follow["host"].fillna("").astype(str) + " (allowed) at " + at
    found["detail"] = detail + np.where(after, then, "")
    found["domain"] = found["site"] if kind == "persistence" else found["names"].str.split(",").str[0]
    found["category"] = found["kind"]
    extra = pd.DataFrame({"episode": follow.index[after], "row": follow["row"].to_numpy()[after].astype(np.int64)})
    rows = pd.concat([pd.DataFrame({"episode": members["episode"].to_numpy(), "row": members.index.to_numpy()}), extra])
    return found, rows


def detect(ctx: Context, rule: Rule) -> Hits:
    """Persistence and probing findings, one per episode."""
    frame = _attempts(ctx, rule)
    if frame.empty:
        return Hits.none()
    parts, member_parts, offset = [], [], 0
    for kind, members in (("persistence", _persistence(frame, rule)), ("probing", _probing(frame, rule))):
        if members.empty:
            continue
        members = members.assign(episode=pd.factorize(members["episode"], sort=True)[0])
        found, rows = _summarise(members, ctx, rule, kind)
        parts.append(found.reset_index(drop=True))
        codes = rows["episode"].to_numpy() + offset
        member_parts.append(pd.DataFrame({"finding": codes, "row": rows["row"].to_numpy()}))
        offset += len(found)
    if not parts:
        return Hits.none()
    columns = ["start", "end", "count", "severity", "detail", "domain", "category"]
    findings = pd.concat(parts, ignore_index=True)[columns].assign(bytes=0)
    return Hits(findings, pd.concat(member_parts, ignore_index=True))
