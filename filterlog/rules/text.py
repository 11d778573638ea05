"""Pieces of the plain-English ``detail`` line, built for whole columns of findings at once (as ``str`` Series).

A coordinator reads "4 attempts to reach bet365.com (gambling) in 21 min,
09:12-09:33", not epoch milliseconds: times are shown on the site's local clock
and sizes in the units people use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def clock(times: pd.Series, timezone: str) -> pd.Series:
    """Local wall-clock ``HH:MM`` of each UTC timestamp."""
    local = pd.to_datetime(times, utc=True).dt.tz_convert(timezone)
    return local.dt.strftime("%H:%M").fillna("").astype(str)


def span(start: pd.Series, end: pd.Series, timezone: str) -> pd.Series:
    """``HH:MM-HH:MM`` local, or just ``HH:MM`` when both ends fall in the same minute."""
    a, b = clock(start, timezone), clock(end, timezone)
    return pd.Series(np.where(a == b, a, a + "-" + b), index=start.index, dtype=str)


def size(nbytes: pd.Series) -> pd.Series:
    """Human sizes in decimal units, as network tools print them: 812 B, 41 KB, 265 MB, 2.3 GB."""
    b = pd.Series(nbytes, copy=False).fillna(0).astype("float64").to_numpy()
    out = np.select(
        [b >= 1e9, b >= 1e6, b >= 1e3],
        [np.char.mod("%.1f GB", b / 1e9), np.char.mod("%.0f MB", b / 1e6), np.char.mod("%.0f KB", b / 1e3)],
        np.char.mod("%.0f B", b),
    )
    return pd.Series(out, index=getattr(nbytes, "index", None), dtype=str)


def count(n: pd.Series, singular: str, plural: str | None = None) -> pd.Series:
    """``1 attempt``, ``4 attempts``."""
    values = pd.Series(n, copy=False).astype("int64")
    word = np.where(values.to_numpy() == 1, singular, plural or singular + "s")
    return values.astype(str) + " " + pd.Series(word, index=values.index, dtype=str)


def minutes(seconds: pd.Series) -> pd.Series:
    """Whole minutes, at least 1 for any positive span: ``21 min``."""
    s = pd.Series(seconds, copy=False).astype("float64")
    m = np.where(s > 0, np.maximum(1, np.round(s / 60)), 0).astype(np.int64)
    return pd.Series(m, index=s.index).astype(str) + " min"


def joined(values: pd.Series, by: pd.Series | np.ndarray, limit: int = 4) -> pd.Series:
    """Per group in ``by``: distinct values in first-seen order, comma-separated, ``+N more`` past ``limit``."""
    frame = pd.DataFrame({"by": np.asarray(by), "v": pd.Series(values, copy=False).astype(object).to_numpy()})
    frame = frame.dropna().drop_duplicates()
    frame["rank"] = frame.groupby("by").cumcount()
    shown = frame[frame["rank"] < limit].groupby("by")["v"].agg(", ".join)
    extra = frame.groupby("by").size() - limit
    more = pd.Series(np.where(extra > 0, " +" + extra.astype(str) + " more", ""), index=extra.index)
    return (shown.astype(str) + more.reindex(shown.index, fill_value="").astype(str)).astype(str)
