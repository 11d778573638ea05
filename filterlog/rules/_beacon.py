"""How regular a series of requests is: RITA-style beacon scoring of inter-request intervals, for many series at once.

A feed left open (a live-score ticker, a chat presence call) polls on a timer,
so the gaps between its requests are nearly equal; a person browsing produces
gaps with a long tail. RITA's beacon analysis (detection.md §3.2, re-implemented
from the published formulas, no code copied) scores that with two robust
statistics of the intervals, each in [0, 1], 1 meaning a perfect timer:

* Bowley skew ``(Q1 + Q3 - 2·Q2) / (Q3 - Q1)``: a symmetric spread around the
  median gives 0. It is only trusted when the quartiles are at least
  ``MIN_IQR_SECONDS`` apart and the median differs from both, else 0 (a timer
  with tiny jitter has a meaningless skew). Score ``1 - |skew|``.
* MAD (median absolute deviation about the median) relative to the median:
  score ``(median - MAD) / median``, clipped at 0 (1 when the median is under
  a second, as RITA does for timestamps).

The regularity is the mean of the two, rounded to three decimals. Zero
intervals are dropped before scoring (RITA v5). Everything is numpy over the
concatenated intervals of all series: quantiles come from one sort by (series,
value) and index arithmetic, the same linear interpolation as pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_IQR_SECONDS = 10.0
"""Quartile spread below which the skew is not trusted (RITA v5's 10)."""


def group_quantiles(codes: np.ndarray, values: np.ndarray, groups: int, qs: tuple[float, ...]) -> np.ndarray:
    """Per group 0..groups-1: the ``qs`` quantiles of its values (linear interpolation); NaN for an empty group.

    Shape ``(groups, len(qs))``. One lexsort for all groups instead of a
    groupby per quantile.
    """
    codes = np.asarray(codes, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    order = np.lexsort((values, codes))
    sorted_values = values[order]
    sizes = np.bincount(codes, minlength=groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = np.full((groups, len(qs)), np.nan)
    has = sizes > 0
    for j, q in enumerate(qs):
        position = q * (sizes[has] - 1)
        lo = np.floor(position).astype(np.int64)
        hi = np.minimum(lo + 1, sizes[has] - 1)
        frac = position - lo
        a = sorted_values[starts[has] + lo]
        b = sorted_values[starts[has] + hi]
        out[has, j] = a + frac * (b - a)
    return out


def regularity(codes: np.ndarray, intervals: np.ndarray, groups: int) -> pd.DataFrame:
    """Per series 0..groups-1: interval count, quartiles, MAD, the two scores and ``score`` (NaN: under 3 intervals).

    ``codes`` names each interval's series; ``intervals`` are in seconds, in
    any order. Zero and negative intervals are dropped.
    """
    codes = np.asarray(codes, dtype=np.int64)
    intervals = np.asarray(intervals, dtype=np.float64)
    keep = intervals > 0
    codes, intervals = codes[keep], intervals[keep]
    n = np.bincount(codes, minlength=groups)
    q1, q2, q3 = group_quantiles(codes, intervals, groups, (0.25, 0.5, 0.75)).T
    mad = group_quantiles(codes, np.abs(intervals - q2[codes]), groups, (0.5,))[:, 0]
    iqr = q3 - q1
    trusted = (iqr >= MIN_IQR_SECONDS) & (q2 != q1) & (q2 != q3)
    with np.errstate(invalid="ignore", divide="ignore"):
        skew = np.where(trusted, (q1 + q3 - 2 * q2) / np.where(iqr > 0, iqr, 1), 0.0)
        mad_score = np.where(q2 >= 1, np.clip((q2 - mad) / np.where(q2 > 0, q2, 1), 0, None), 1.0)
    skew_score = 1 - np.abs(skew)
    score = np.round((skew_score + mad_score) / 2, 3)
    score = np.where(n >= 3, score, np.nan)
    return pd.DataFrame(
        {"intervals": n, "q1": q1, "median": q2, "q3": q3, "mad": mad, "skew_score": skew_score,
         "mad_score": mad_score, "score": score}
    )  # fmt: skip
