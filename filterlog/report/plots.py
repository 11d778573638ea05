"""The review report's charts, drawn from the hourly activity aggregate and the findings.

Each function returns a matplotlib ``Figure`` (made by ``charts.figure``, so no
pyplot state) and is public because the coordinator's notebook calls the same
functions by name. They work on the small activity table (``activity.ACTIVITY_SCHEMA``,
a few hundred thousand rows for a 10M-event day), never on events, so a chart
costs the drawing and not the data. A chart with nothing to show says so in
words rather than drawing empty axes, which a reader could take for a bug.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, DateFormatter, HourLocator, date2num
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ..config import WorkingHours
from ..enrich.calendar import working_windows
from ..schema import SEVERITIES
from . import charts
from .activity import Policy, attempts, in_categories

UNCATEGORISED = "uncategorised"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALLOWED, _BLOCKED, _OTHER = charts.PALETTE[0], charts.PALETTE[3], charts.PALETTE[5]


def _person(act: pa.Table, who: str) -> pa.Table:
    """One person's rows of an activity table."""
    if act.num_rows == 0:
        return act
    return act.filter(pc.fill_null(pc.equal(act.column("who"), pa.scalar(who, pa.string())), False))


def _blocked(act: pa.Table, policy: Policy) -> pa.Table:
    """Blocked rows that count as someone's attempts (not adverts or trackers refused inside a page)."""
    return act.filter(pa.array(attempts(act, policy), pa.bool_())) if act.num_rows else act


def _frame(act: pa.Table, who: str | None = None) -> pd.DataFrame:
    """The activity rows (of one person, if ``who``) as pandas, category nulls named."""
    if who is not None:
        act = _person(act, who)
    frame = act.select(["date", "hour", "category", "action", "in_working_hours", "requests", "bytes"]).to_pandas()
    frame["category"] = frame["category"].fillna(UNCATEGORISED)
    return frame


def _finish(fig: Figure, left: float = 0.09, bottom: float = 0.2, top: float = 0.88) -> Figure:
    """Fixed margins instead of the constrained layout: the layout pass costs more than drawing these small charts."""
    fig.set_layout_engine(None)  # no engine at all: even a placeholder one makes savefig draw twice
    if fig.get_figheight() < 1:  # an empty chart's strip: title and a line of text
        bottom, top = 0.05, 0.7
    for ax in fig.axes:
        ax.set_position((left, bottom, 0.96 - left, top - bottom))
    return fig


def _label_margin(labels: list[str], width: float = 6.0) -> float:
    """The left margin (a fraction of the figure) that fits horizontal-bar labels of this length at 8 pt."""
    longest = max((len(t) for t in labels), default=4)
    return min(0.5, (0.25 + 0.058 * longest) / width)


def _title(ax: Axes, text: str) -> None:
    """A title at a fixed height: matplotlib otherwise measures every tick label on each draw to place it."""
    ax.set_title(text, fontsize=10, y=1.0, pad=6)


def _empty(ax: Axes, text: str) -> None:
    """Say there is nothing to draw, in a strip rather than a full-height empty frame."""
    ax.figure.set_size_inches(ax.figure.get_figwidth(), 0.8)
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="#5f6b73")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[["left", "bottom"]].set_visible(False)


def _shade_working(ax: Axes, hours: WorkingHours) -> None:
    """Shade the working windows (breaks left white) on an axis whose x is the local hour of day."""
    for lo, hi in working_windows(hours):
        ax.axvspan(lo / 3_600_000, hi / 3_600_000, color=charts.WORKING_SHADE, zorder=0, lw=0)


def _hour_axis(ax: Axes) -> None:
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    ax.set_xticklabels([f"{h:02d}:00" for h in range(0, 25, 3)])
    ax.set_xlabel("local time (shaded: working hours)", fontsize=8)


def working_days(dates: pd.Series, hours: WorkingHours) -> np.ndarray:
    """Which of ``dates`` (local dates) are working days: a working weekday outside every holiday."""
    values = pd.to_datetime(dates)
    ok = np.isin(np.asarray(values.dt.day_of_week), [_DAYS.index(d) for d in hours.days])
    for first, last in hours.holidays:
        ok &= ~((values >= pd.Timestamp(first)) & (values <= pd.Timestamp(last))).to_numpy()
    return ok


def person_hours(act: pa.Table, who: str, hours: WorkingHours) -> Figure:
    """A person's requests by local hour (summed over the dates), allowed and blocked stacked, working hours shaded."""
    fig, ax = charts.figure(6.0, 2.4)
    frame = _frame(act, who)
    _title(ax, "Requests by hour of day")
    if frame.empty:
        _empty(ax, "no requests in this range")
        return _finish(fig)
    action = frame["action"].to_numpy()
    kind = np.where(action == "allowed", 0, np.where(action == "blocked", 1, 2))
    slot = kind * 24 + frame["hour"].to_numpy(dtype=np.int64)
    table = np.bincount(slot, weights=frame["requests"].to_numpy(dtype=float), minlength=72).reshape(3, 24)
    _shade_working(ax, hours)
    bottom = np.zeros(24)
    for values, name, colour in zip(table, ("allowed", "blocked", "other"), (_ALLOWED, _BLOCKED, _OTHER), strict=True):
        if values.any():
            ax.stairs(bottom + values, np.arange(25), baseline=bottom, fill=True, color=colour, label=name, zorder=2)
            bottom += values
    _hour_axis(ax)
    ax.set_ylim(0, max(1.0, bottom.max() * 1.1))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.set_ylabel("requests", fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    return _finish(fig)


def person_categories(act: pa.Table, who: str, top: int = 8) -> Figure:
    """A person's requests by category (the ``top`` busiest, the rest as "other"), allowed and blocked."""
    fig, ax = charts.figure(6.0, 2.4)
    frame = _frame(act, who)
    _title(ax, "Requests by category")
    if frame.empty:
        _empty(ax, "no requests in this range")
        return _finish(fig)
    blocked = (frame["action"] == "blocked").to_numpy()
    frame["blocked"] = np.where(blocked, frame["requests"], 0)
    frame["allowed"] = frame["requests"] - frame["blocked"]
    table = frame.groupby("category", sort=False)[["allowed", "blocked"]].sum()
    table = table.assign(total=table.sum(axis=1)).sort_values("total", ascending=False, kind="stable")
    if len(table) > top:
        rest = table.iloc[top - 1 :].sum()
        table = pd.concat([table.iloc[: top - 1], rest.to_frame("other").T])
    table = table.iloc[::-1]
    y = np.arange(len(table))
    ax.barh(y, table["allowed"], color=_ALLOWED, label="allowed", height=0.7)
    ax.barh(y, table["blocked"], left=table["allowed"], color=_BLOCKED, label="blocked", height=0.7)
    labels = [str(c)[:28] for c in table.index]
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.set_xlabel("requests", fontsize=8)
    if table["blocked"].any():
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    return _finish(fig, left=_label_margin(labels))


def _local_hours(frame: pd.DataFrame) -> pd.Series:
    """Naive local datetimes of each row's (date, hour), for a time axis."""
    return pd.to_datetime(frame["date"]) + pd.to_timedelta(frame["hour"].astype("int64"), unit="h")


def person_blocked(act: pa.Table, who: str, policy: Policy) -> Figure:
    """A person's blocked requests per hour across the range (adverts and trackers left out: not their attempts)."""
    fig, ax = charts.figure(6.0, 2.4)
    _title(ax, "Blocked requests over time (adverts and trackers excluded)")
    frame = _frame(_blocked(_person(act, who), policy))
    if frame.empty:
        _empty(ax, "no blocked requests in this range")
        return _finish(fig)
    per_hour = frame.groupby(_local_hours(frame))["requests"].sum()
    first, last = per_hour.index.min(), per_hour.index.max()
    if first.date() == last.date():  # one day: show the whole day, so the hour reads at a glance
        first, last = pd.Timestamp(first.date()), pd.Timestamp(first.date()) + pd.Timedelta(hours=23)
        ax.xaxis.set_major_locator(HourLocator(byhour=range(0, 24, 3)))
        ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))
        ax.set_xlabel(f"local time, {first:%a %d %b %Y}", fontsize=8)
    else:
        first, last = first.normalize(), last.normalize() + pd.Timedelta(hours=23)
        ax.xaxis.set_major_locator(AutoDateLocator(minticks=3, maxticks=8))
        ax.xaxis.set_major_formatter(DateFormatter("%d %b %H:%M"))
        ax.set_xlabel("local time", fontsize=8)
    starts = pd.date_range(first, last, freq="h")
    values = per_hour.reindex(starts, fill_value=0).to_numpy(dtype=float)
    edges = date2num(np.append(starts.to_pydatetime(), (last + pd.Timedelta(hours=1)).to_pydatetime()))
    ax.stairs(values, edges, fill=True, color=_BLOCKED)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, max(1.0, values.max() * 1.1))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.set_ylabel("blocked / hour", fontsize=8)
    return _finish(fig)


def school_blocked_categories(act: pa.Table, policy: Policy, top: int = 10) -> Figure:
    """The categories the filter blocked most often across the school (adverts and trackers left out)."""
    fig, ax = charts.figure(6.0, 2.8)
    _title(ax, "Most-blocked categories (adverts and trackers excluded)")
    blocked = _blocked(act, policy)
    frame = _frame(blocked)
    if frame.empty:
        _empty(ax, "nothing was blocked in this range")
        return _finish(fig)
    people = blocked.select(["who", "category"]).to_pandas()
    people["category"] = people["category"].fillna(UNCATEGORISED)
    counts = frame.groupby("category")["requests"].sum().sort_values(ascending=False).head(top).iloc[::-1]
    persons = people.groupby("category")["who"].nunique().reindex(counts.index)
    y = np.arange(len(counts))
    ax.barh(y, counts.to_numpy(), color=_BLOCKED, height=0.7)
    labels = [f"{str(c)[:24]} ({n} {'person' if n == 1 else 'people'})" for c, n in persons.items()]
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.set_xlabel("blocked requests", fontsize=8)
    return _finish(fig, left=_label_margin(labels), bottom=0.17)


def school_nonbusiness_by_hour(act: pa.Table, policy: Policy, hours: WorkingHours) -> Figure:
    """The share of traffic (bytes and requests) that went to non-business categories, per local hour, working days."""
    fig, ax = charts.figure(6.0, 2.8)
    _title(ax, "Non-business share of traffic by hour, working days")
    frame = _frame(act)
    frame["nonbusiness"] = in_categories(act, policy.nonbusiness)
    if not frame.empty:
        dates = pd.Series(frame["date"].unique())
        ok = dict(zip(dates, working_days(dates, hours), strict=True))
        frame = frame[frame["date"].map(ok).astype(bool)]
    if frame.empty:
        _empty(ax, "no traffic on working days in this range")
        return _finish(fig)
    nb = frame[frame["nonbusiness"]]
    totals = frame.groupby("hour")[["requests", "bytes"]].sum().reindex(range(24), fill_value=0)
    nonbiz = nb.groupby("hour")[["requests", "bytes"]].sum().reindex(range(24), fill_value=0)
    share = nonbiz / totals.where(totals > 0)  # no traffic at all that hour: a gap, not 0 %
    _shade_working(ax, hours)
    x = np.arange(24) + 0.5
    ax.plot(x, share["bytes"].to_numpy(), marker="o", ms=3, color=charts.PALETTE[1], label="of bytes", zorder=3)
    ax.plot(x, share["requests"].to_numpy(), marker="s", ms=3, color=charts.PALETTE[0], label="of requests", zorder=3)
    _hour_axis(ax)
    ax.set_ylim(0, max(0.05, float(np.nanmax(share.to_numpy())) * 1.15))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    return _finish(fig, bottom=0.17)


def findings_by_rule(findings: pa.Table) -> Figure:
    """How many findings each rule made, split by severity."""
    fig, ax = charts.figure(6.0, 2.8)
    _title(ax, "Findings by rule and severity")
    if findings.num_rows == 0:
        _empty(ax, "no findings in this range")
        return _finish(fig)
    frame = findings.select(["rule", "severity"]).to_pandas().astype(str)
    table = pd.crosstab(frame["rule"], frame["severity"]).reindex(columns=list(SEVERITIES), fill_value=0)
    table = table.assign(total=table.sum(axis=1)).sort_values("total").drop(columns="total")
    y = np.arange(len(table))
    left = np.zeros(len(table))
    for severity in SEVERITIES:
        values = table[severity].to_numpy(dtype=float)
        if values.any():
            ax.barh(y, values, left=left, color=charts.SEVERITY_COLOURS[severity], label=severity, height=0.7)
            left += values
    labels = [str(r) for r in table.index]
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.set_xlabel("findings", fontsize=8)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return _finish(fig, left=_label_margin(labels), bottom=0.17)
