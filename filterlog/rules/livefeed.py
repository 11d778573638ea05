"""``live-feed``: a non-business feed left running through lessons.

Two shapes, both judged per person (``ctx.who``), registered domain and local
day, on allowed requests to the non-business ``categories`` in working time:

* polling: a live-score ticker or a chat client asking the same site on a
  timer. A page load is a burst of sub-requests, not polls, so requests less
  than ``burst_gap_seconds`` after the previous one are part of the same poll
  (5 s: longer than a page's sub-requests take, shorter than any ticker's
  period). It fires on at least ``min_requests`` polls in working time whose
  intervals score at least ``min_score`` for regularity (:mod:`._beacon`,
  RITA-style: Bowley skew and relative MAD). Only working-time requests take
  part, so a poller running through lunch shows one long interval there,
  which the robust statistics shrug off.
* a held-open connection: a CONNECT tunnel (WebSocket, HLS over HTTP/2) with
  at least ``tunnel_minutes`` of its [logged time - duration, logged time]
  inside working time. A tunnel left open over lunch only counts its lesson
  minutes.

Both shapes at one site on one day are one finding. Severity rises a step
when the feed ran for at least ``high_minutes`` of working time (first to last
poll, or the tunnel's working minutes). Heartbeats of school tools (Seneca,
Teams presence) are in the allow category, not non-business, so they never
take part.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..enrich.calendar import working_seconds
from . import text
from ._beacon import regularity
from .context import Context
from .hits import Hits
from .model import Rule

HELD_SECONDS = 60
"""A CONNECT open this long is a held connection, judged as a tunnel; its logged close is no poll."""

_UTC = pa.timestamp("ms", tz="UTC")
_PART = ["who", "domain", "local_date", "category", "count", "bytes", "start", "end", "work", "detail"]
"""Columns of one shape's findings before the two shapes are merged per (who, domain, day)."""


def _frequent(ctx: Context, rows: np.ndarray, least: int) -> np.ndarray:
    """The ``rows`` whose (who, domain, local day) has at least ``least`` rows: the prefilter before pandas."""
    if len(rows) < least or len(rows) == 0:
        return rows[:0]
    picked = ctx.frame(rows, ["who", "domain", "local_date"])
    who = pd.factorize(picked["who"])[0].astype(np.int64)
    domain = pd.factorize(picked["domain"])[0].astype(np.int64)  # null domain: -1
    day = picked["local_date"].to_numpy("datetime64[D]").astype(np.int64)
    day = day - day.min()
    key = (who * (domain.max() + 2) + domain + 1) * (day.max() + 1) + day
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return rows[(counts[inverse] >= least) & (domain >= 0)]


def _polling(ctx: Context, rule: Rule, candidates: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regular pollers: one finding row per (who, domain, day), and members (finding, row)."""
    rows = _frequent(ctx, np.flatnonzero(candidates), rule["min_requests"])
    if len(rows) == 0:
        return pd.DataFrame(columns=_PART), pd.DataFrame(columns=["finding", "row"])
    frame = ctx.frame(rows, ["local_date", "time", "who", "domain", "category", "transferred"])
    frame[["who", "domain", "category"]] = frame[["who", "domain", "category"]].astype("category")
    frame["ms"] = frame["time"].astype("int64")
    frame["bytes"] = frame.pop("transferred")
    frame["key"] = pd.MultiIndex.from_arrays([frame["who"], frame["domain"], frame["local_date"]]).factorize()[0]
    frame = frame.iloc[np.lexsort((frame["ms"].to_numpy(), frame["key"].to_numpy()))]
    key, ms = frame["key"].to_numpy(), frame["ms"].to_numpy()
    first = np.ones(len(frame), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    gap = np.diff(ms, prepend=ms[0])
    poll = first | (gap >= rule["burst_gap_seconds"] * 1000)
    poll_key, poll_ms = key[poll], ms[poll]
    follows = np.flatnonzero(poll_key[1:] == poll_key[:-1])
    groups = int(key.max()) + 1
    scores = regularity(poll_key[follows + 1], (poll_ms[follows + 1] - poll_ms[follows]) / 1000.0, groups)
    polls = np.bincount(poll_key, minlength=groups)
    fired = (polls >= rule["min_requests"]) & (scores["score"].to_numpy() >= rule["min_score"])
    if not fired.any():
        return pd.DataFrame(columns=_PART), pd.DataFrame(columns=["finding", "row"])
    code = np.full(groups, -1, dtype=np.int64)
    code[fired] = np.arange(fired.sum())
    member = code[key]
    mine = frame[member >= 0].assign(finding=member[member >= 0])
    g = mine.groupby("finding", sort=True)
    found = pd.DataFrame(
        {
            "who": g["who"].first(),
            "domain": g["domain"].first().astype(object),
            "local_date": g["local_date"].first(),
            "category": g["category"].first().astype(object),
            "bytes": g["bytes"].sum(),
            "start": g["time"].min(),
            "end": g["time"].max(),
        }
    )
    found["count"] = polls[fired]
    found["work"] = working_seconds(pa.array(found["start"]).cast(_UTC), pa.array(found["end"]).cast(_UTC),
                                    ctx.hours, ctx.timezone).to_numpy(zero_copy_only=False)  # fmt: skip
    period = scores["median"].to_numpy()[fired]
    every = np.where(period < 120, np.char.mod("~%.0f s", period), np.char.mod("~%.0f min", period / 60))
    found["detail"] = (
        found["domain"].astype(str) + " polled " + found["count"].astype(str) + " times, every "
        + pd.Series(every, index=found.index, dtype=object) + " (regularity "
        + pd.Series(np.char.mod("%.2f", scores["score"].to_numpy()[fired]), index=found.index, dtype=object)
        + "), " + text.span(found["start"], found["end"], ctx.timezone)
    )  # fmt: skip
    members = pd.DataFrame({"finding": mine["finding"].to_numpy(), "row": mine.index.to_numpy()})
    return found.reset_index(drop=True)[_PART], members


def _tunnels(
    ctx: Context, rule: Rule, candidates: np.ndarray, open_ms: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Connections held open for ``tunnel_minutes`` of working time (``open_ms``: CONNECT duration, else 0)."""
    least = rule["tunnel_minutes"] * 60
    rows = np.flatnonzero(candidates & (open_ms >= least * 1000))
    if len(rows):
        opened, seconds, work = ctx.spans(rows)
        keep = work >= least
        rows, opened, seconds, work = rows[keep], opened[keep], seconds[keep], work[keep]
    if len(rows) == 0:
        return pd.DataFrame(columns=_PART), pd.DataFrame(columns=["finding", "row"])
    found = ctx.frame(rows, ["local_date", "time", "host", "port", "who", "domain", "category", "transferred"])
    found["who"] = found["who"].astype("category")
    found["domain"] = found["domain"].astype(object)
    found["category"] = found["category"].astype(object)
    found["bytes"] = found.pop("transferred")
    found["count"] = 1
    found["start"] = pd.to_datetime(opened, unit="ms", utc=True)
    found["end"] = found["time"]
    found["work"] = work
    port = found["port"].astype("Int64").astype(str).replace("<NA>", "?")
    found["detail"] = (
        found["host"].astype(str) + ":" + port + " held open " + text.minutes(pd.Series(seconds, index=found.index))
        + " (" + text.minutes(pd.Series(work, index=found.index)) + " in lessons), " + text.size(found["bytes"])
        + ", " + text.span(found["start"], found["end"], ctx.timezone)
    )  # fmt: skip
    members = pd.DataFrame({"finding": np.arange(len(rows)), "row": rows})
    return found.reset_index(drop=True)[_PART], members


def detect(ctx: Context, rule: Rule) -> Hits:
    """One finding per person, domain and local day with a regular poller or a long tunnel in working time."""
    if len(ctx) == 0:
        return Hits.none()
    candidates = ctx.is_in("action", ["allowed"]) & ctx.is_in("category", rule["categories"])
    working = ctx.mask(ctx.events.column("in_working_hours"))
    duration = np.asarray(pc.fill_null(ctx.events.column("duration_ms"), 0).to_numpy(), dtype=np.int64)
    open_ms = np.where(ctx.is_in("method", ["CONNECT"]), duration, 0)
    polls, poll_members = _polling(ctx, rule, candidates & working & (open_ms < HELD_SECONDS * 1000))
    tunnels, tunnel_members = _tunnels(ctx, rule, candidates, open_ms)
    parts = pd.concat([p for p in (polls, tunnels) if len(p)], ignore_index=True) if len(polls) + len(tunnels) else None
    if parts is None:
        return Hits.none()
    tunnel_members = tunnel_members.assign(finding=tunnel_members["finding"] + len(polls))
    members = pd.concat([poll_members, tunnel_members], ignore_index=True)
    merged, _ = pd.MultiIndex.from_arrays([parts["who"], parts["domain"], parts["local_date"]]).factorize()
    parts = parts.assign(merged=merged).sort_values(["merged", "start"], kind="stable")
    g = parts.groupby("merged", sort=True)
    found = pd.DataFrame(
        {
            "count": g["count"].sum(),
            "bytes": g["bytes"].sum(),
            "start": g["start"].min(),
            "end": g["end"].max(),
            "work": g["work"].max(),
            "domain": g["domain"].first(),
            "category": g["category"].first(),
            "detail": g["detail"].agg("; ".join),
        }
    )
    found["severity"] = np.where(found["work"].to_numpy() >= rule["high_minutes"] * 60, rule.raised(1), rule.severity)
    return Hits.grouped(found, members["row"].to_numpy(), merged[members["finding"].to_numpy().astype(np.int64)])
