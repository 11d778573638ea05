"""``nonbusiness-bandwidth``: a person's lesson time went on streaming, social media, games or shopping.

Judged per person (``ctx.who``) and local day, on working time only (the
site's local clock, breaks and lunch excluded), on allowed requests only:
blocked pages, 407 challenges and errors are not usage. Three measures, any
of which fires:

* non-business bytes of at least ``bytes_mb``;
* at least ``share_percent`` of everything the person moved in working time,
  but only once the non-business bytes reach ``share_min_mb`` (a pupil with
  2 MB of traffic does not fire on 1 MB of social media);
* at least ``active_minutes`` distinct local minutes with a non-business
  request (the M86 "time usage" measure, detection.md §5.1).

Bytes are download plus upload (a missing upload counts 0). An ordinary
request counts at its logged time. A CONNECT tunnel is logged when it closes
and may have been open through lunch, so its bytes are spread evenly over
[logged time - duration, logged time] and only the working-time share counts
(detection.md §5.2). A tunnel is *active* in the minute it opened and the one
it closed, when those are working time: in between the log cannot tell an
idle keep-alive from a stream (a feed held open is the live-feed rule's
business), while its bytes already count through the spread.

Severity is the rule's; it rises a step when bytes or active minutes reach
``high_factor`` times their threshold. The share alone never raises it: it is
relative, and a small day makes big percentages easily.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..arrays import sorted_distinct
from ..enrich.calendar import in_working_hours, minute_of_day
from . import text
from .context import Context
from .hits import Hits
from .model import Rule

MB = 1_000_000
"""Decimal megabytes, as ``text.size`` prints them and as network tools count."""


def _usage(ctx: Context, rows: np.ndarray, working: np.ndarray, tunnel: np.ndarray, detail: bool) -> pd.DataFrame:
    """The chosen allowed ``rows`` that touch working time, with their working bytes and minutes.

    Columns: who, local_date, ms and opened (epoch ms), bytes (working share),
    active (logged minute is working time), open_minute (the opening minute of a
    tunnel that opened in working time, else -1), and with ``detail`` domain and category.
    """
    names = ["who", "domain", "category"] if detail else ["who"]
    frame = ctx.frame(rows, ["local_date", "time", "transferred", *names])
    frame[names] = frame[names].astype("category")
    nbytes = frame.pop("transferred").to_numpy(dtype=np.float64)
    active = working[rows]
    frame["ms"] = frame.pop("time").astype("int64")
    frame["opened"] = frame["ms"]
    frame["open_minute"] = -1
    share = active.astype(np.float64)
    spread = np.flatnonzero(tunnel[rows])
    if len(spread):
        opened, seconds, work = ctx.spans(rows[spread])
        long = seconds > 0
        share[spread[long]] = np.clip(work[long] / seconds[long], 0.0, 1.0)
        frame.iloc[spread, frame.columns.get_loc("opened")] = opened
        utc = pa.array(opened, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
        open_working = np.asarray(in_working_hours(utc, ctx.hours, ctx.timezone).to_numpy(zero_copy_only=False))
        open_minute = np.asarray(minute_of_day(utc, ctx.timezone).to_numpy(zero_copy_only=False), dtype=np.int64)
        frame.iloc[spread, frame.columns.get_loc("open_minute")] = np.where(open_working & long, open_minute, -1)
    frame["bytes"] = nbytes * share
    frame["active"] = active
    keep = (frame["bytes"].to_numpy() > 0) | active | (frame["open_minute"].to_numpy() >= 0)
    return frame[keep]


def _active_minutes(frame: pd.DataFrame, key: np.ndarray, groups: int, timezone: str) -> np.ndarray:
    """Distinct working minutes per key: logged minutes of working rows and opening minutes of tunnels."""
    logged = frame["active"].to_numpy()
    minute = np.asarray(minute_of_day(pa.array(frame["ms"].to_numpy()[logged], pa.int64()).cast(
        pa.timestamp("ms", tz="UTC")), timezone).to_numpy(zero_copy_only=False), dtype=np.int64)  # fmt: skip
    opening = frame["open_minute"].to_numpy() >= 0
    keys = np.concatenate([key[logged], key[opening]])
    minutes = np.concatenate([minute, frame["open_minute"].to_numpy()[opening]])
    pairs = sorted_distinct(keys * 1440 + minutes)
    return np.bincount(pairs // 1440, minlength=groups)


def _person_days(frame: pd.DataFrame) -> tuple[np.ndarray, pd.MultiIndex]:
    """Each row's (person, local date) group, numbered in order of first appearance, and the groups.

    From integer codes: a MultiIndex of the columns themselves is factorised
    through a tuple per row (0.19 s for 167,000 rows, on a day of 3,800 people).
    """
    who = frame["who"].cat
    day, days = pd.factorize(frame["local_date"].to_numpy())
    width = max(len(days), 1)
    key, pairs = pd.factorize(who.codes.to_numpy().astype(np.int64) * width + day)
    return key, pd.MultiIndex.from_arrays([who.categories.take(pairs // width), days.take(pairs % width)])


def _breakdown(frame: pd.DataFrame, key: np.ndarray) -> pd.DataFrame:
    """Per key: top category and domain, and "streaming 265 MB (googlevideo.com, youtube.com), social 12 MB (...)"."""
    parts = pd.DataFrame({"key": key, "category": frame["category"].astype(object).fillna("?").to_numpy(),
                          "domain": frame["domain"].astype(object).fillna("?").to_numpy(),
                          "bytes": frame["bytes"].to_numpy()})  # fmt: skip
    by_domain = parts.groupby(["key", "category", "domain"], sort=False)["bytes"].sum().reset_index()
    by_domain = by_domain.sort_values(["key", "category", "bytes", "domain"], ascending=[True, True, False, True])
    names = text.joined(by_domain["domain"], by_domain["key"].astype(str) + "\0" + by_domain["category"], limit=3)
    by_cat = by_domain.groupby(["key", "category"], sort=False)["bytes"].sum().reset_index()
    by_cat["names"] = (by_cat["key"].astype(str) + "\0" + by_cat["category"]).map(names).to_numpy()
    by_cat = by_cat.sort_values(["key", "bytes", "category"], ascending=[True, False, True])
    by_cat["piece"] = by_cat["category"] + " " + text.size(by_cat["bytes"]) + " (" + by_cat["names"] + ")"
    g = by_cat.groupby("key", sort=True)
    top = by_domain.sort_values(["key", "bytes"], ascending=[True, False]).groupby("key", sort=True)["domain"].first()
    return pd.DataFrame({"pieces": g["piece"].agg(", ".join), "category": g["category"].first(), "domain": top})


def detect(ctx: Context, rule: Rule) -> Hits:
    """One finding per person and local day whose non-business use in working time crosses a threshold.

    ``count`` is the non-business requests it rests on, ``bytes`` their working-time bytes.
    """
    if len(ctx) == 0:
        return Hits.none()
    working = ctx.mask(ctx.events.column("in_working_hours"))
    tunnel = ctx.is_in("method", ["CONNECT"])
    usable = ctx.is_in("action", ["allowed"]) & (working | tunnel)
    frame = _usage(ctx, np.flatnonzero(usable & ctx.is_in("category", rule["categories"])), working, tunnel, True)
    if frame.empty:
        return Hits.none()
    key, keys = _person_days(frame)
    groups = len(keys)
    nb_bytes = np.bincount(key, weights=frame["bytes"].to_numpy(), minlength=groups)
    active = _active_minutes(frame, key, groups, ctx.timezone)
    by_bytes = nb_bytes >= rule["bytes_mb"] * MB
    by_minutes = active >= rule["active_minutes"]
    share_candidate = nb_bytes >= rule["share_min_mb"] * MB
    look = by_bytes | by_minutes | share_candidate
    if not look.any():
        return Hits.none()

    # The denominator: everything these people moved in working time, all categories.
    people = pd.unique(keys.get_level_values(0)[look])
    everyone = _usage(ctx, np.flatnonzero(usable & ctx.is_in("who", people)), working, tunnel, False)
    total = pd.Series(everyone["bytes"].to_numpy()).groupby(
        [everyone["who"].to_numpy(), everyone["local_date"].to_numpy()]).sum()  # fmt: skip
    total = total.reindex(keys).fillna(0).to_numpy()
    total = np.maximum(total, nb_bytes)
    with np.errstate(invalid="ignore", divide="ignore"):
        percent = np.where(total > 0, 100 * nb_bytes / total, 0.0)
    by_share = share_candidate & (percent >= rule["share_percent"])
    fired = by_bytes | by_minutes | by_share
    if not fired.any():
        return Hits.none()

    code = np.full(groups, -1, dtype=np.int64)
    code[fired] = np.arange(fired.sum())
    member = code[key]
    mine = frame[member >= 0]
    mine_code = member[member >= 0]
    parts = _breakdown(mine, mine_code)
    factor = rule["high_factor"]
    high = (nb_bytes >= factor * rule["bytes_mb"] * MB) | (active >= factor * rule["active_minutes"])
    starts = pd.Series(mine["opened"].to_numpy()).groupby(mine_code).min()
    ends = pd.Series(mine["ms"].to_numpy()).groupby(mine_code).max()
    found = pd.DataFrame(
        {
            "count": np.bincount(mine_code, minlength=int(fired.sum())),
            "bytes": np.round(nb_bytes[fired]).astype(np.int64),
            "severity": np.where(high[fired], rule.raised(1), rule.severity),
            "start": pd.to_datetime(starts.to_numpy(), unit="ms", utc=True),
            "end": pd.to_datetime(ends.to_numpy(), unit="ms", utc=True),
            "domain": parts["domain"].to_numpy(),
            "category": parts["category"].to_numpy(),
        }
    )
    share = percent[fired]
    pct = pd.Series(np.where((share < 1) & (share > 0), "<1", np.floor(share).astype(np.int64).astype(str)))
    found["detail"] = (
        text.size(found["bytes"]) + " non-business in working hours (" + pct + "% of "
        + text.size(pd.Series(total[fired])) + "), " + text.count(pd.Series(active[fired]), "active minute")
        + ", " + text.span(found["start"], found["end"], ctx.timezone) + ": " + parts["pieces"].to_numpy()
    )  # fmt: skip
    return Hits.grouped(found, mine.index.to_numpy(), mine_code)
