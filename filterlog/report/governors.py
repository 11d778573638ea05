"""The governors' termly report: how many incidents, of what kind, when and in which groups, with nobody named.

Governors oversee filtering and monitoring (the DfE standards ask them to);
they need to see that it works and is acted on, not who did what. So the
report holds only counts: no user names, addresses, domains, finding ids or
detail text ever reach it, and categories stand in for sites.

Small counts are disclosive in a school: "1 self-harm search in year 7" may
point at a child. The rule, stated in the report's footer too:

* **Primary suppression**: every count from 1 to 4 is shown as ``<5`` (0 is shown).
* **Secondary suppression**: a table that adds up to a published total could
  give a small count back by subtraction, so the counts are checked as a
  system: every row and column of every table, with its total (the same
  total is shared across tables), is an equation, and the bounds a reader can
  work out from the shown numbers (``<5`` means 1-4, ``[c]`` means 5 or more) are
  propagated through all of them. Wherever a ``<5`` could then be narrowed
  below "any of 1 to 4", the smallest further count that restores that is
  hidden as ``[c]``, and the check runs again. Distinct-people counts are
  hidden wherever their rule's incident count is hidden.

This is interval reasoning, line by line and across shared totals, not a
full linear-programming audit; with the few hundred cells of a termly report
it is the usual, defensible standard (``disclosure.py``). Charts draw only shown counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import findings as store
from ..errors import WorkspaceError
from ..rules.model import load_rules
from ..schema import SEVERITIES
from ..workspace import Workspace
from . import charts
from .disclosure import HIDDEN_OTHER, HIDDEN_SMALL, SMALL, Disclosure, Key, Shown
from .files import write_private
from .templates import printable, render

TERM_DAYS = 91
"""A term: 13 weeks, the default range, ending on the last date with data."""


@dataclass
class GovernorsReport:
    """The report's content, already anonymised and suppressed: safe to render, export or share."""

    school: str
    title: str
    date_from: date
    date_to: date
    total: Shown
    recorded: Shown
    people: Shown
    summary: str
    by_rule: pd.DataFrame
    by_severity: pd.DataFrame
    by_group: pd.DataFrame
    by_category: pd.DataFrame
    by_week: pd.DataFrame
    review: pd.DataFrame
    outcomes: pd.DataFrame
    rules: list[dict[str, str]]
    charts: dict[str, str] = field(default_factory=dict)
    unprotected: int = 0

    def count_line(self) -> str:
        """One line for the CLI: the headline counts as published."""
        line = f"{self.total} incidents, {self.people} people, {self.date_from} to {self.date_to}"
        line += " (counts under 5 hidden)"
        if self.unprotected:
            line += f"; {self.unprotected} small count(s) could not be fully protected: keep the report confidential"
        return line


def term(ws: Workspace, date_from: date | None = None, date_to: date | None = None) -> tuple[date, date]:
    """The report's range: as given, else 13 weeks ending on the last date with findings or events."""
    if date_from is None or date_to is None:
        if date_to is None and date_from is not None:
            date_to = date_from + timedelta(days=TERM_DAYS - 1)
        if date_to is None:
            days = store.finding_dates(ws) + ws.event_dates()
            if not days:
                raise WorkspaceError(
                    f"{ws.root}: nothing to report yet: no events or findings "
                    "(run 'filterlog ingest' and 'filterlog detect' first)"
                )
            date_to = max(days)
        date_from = date_from or date_to - timedelta(days=TERM_DAYS - 1)
    if date_to < date_from:
        raise ValueError(f"date_to {date_to} is before date_from {date_from}")
    return date_from, date_to


def _frame(ws: Workspace, date_from: date, date_to: date) -> pd.DataFrame:
    """One row per incident with only the columns a count needs (and a person key that never leaves here)."""
    table = store.read(ws, date_from, date_to)
    cols = {}
    for name in ("finding_id", "rule", "severity", "group", "category", "user", "client_ip"):
        col = table.column(name)
        cols[name] = pc.cast(col, pa.string()) if pa.types.is_dictionary(col.type) else col
    cols["date"] = table.column("date")
    df = pa.table(cols).to_pandas()
    df["person"] = df["user"].fillna(df["client_ip"])
    df["group"] = df["group"].fillna("unknown")
    df["category"] = df["category"].fillna("uncategorised")
    day = pd.to_datetime(df["date"])
    df["week"] = (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.date
    return df.drop(columns=["user", "client_ip"])


def _outcomes(ws: Workspace, df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Add each incident's review status and latest action from the incident register; the actions to count.

    Only the register's closed vocabulary of actions is counted by name (older
    or hand-edited records fall under "other"); outcome and notes are free
    text written about a person and never read here.
    """
    from .. import incidents

    latest = incidents.latest(ws, list(df["finding_id"]))
    df["status"] = df["finding_id"].map({fid: i.status for fid, i in latest.items()}).astype(object).fillna("none")
    action = df["finding_id"].map({fid: i.action for fid, i in latest.items()}).astype(object)
    df["action"] = action.where(action.isin(incidents.ACTIONS) | action.isna(), "other")
    seen = set(df["action"].dropna())
    return df, [a for a in (*incidents.ACTIONS, "other") if a in seen]


STATUS_LABELS = {"closed": "Reviewed and closed", "open": "Open (being dealt with)", "none": "Not yet reviewed"}


def governors_report(
    ws: Workspace, date_from: date | None = None, date_to: date | None = None, *, title: str | None = None
) -> GovernorsReport:
    """Count the term's incidents every way governors need, then hide what could identify someone."""
    date_from, date_to = term(ws, date_from, date_to)
    df, actions = _outcomes(ws, _frame(ws, date_from, date_to))
    rules = load_rules(ws.config)
    rule_ids = [r.id for r in rules] + sorted(set(df["rule"]) - {r.id for r in rules})
    titles = {r.id: r.title for r in rules}
    first_week = date_from - timedelta(days=date_from.weekday())
    weeks = [first_week + timedelta(days=7 * i) for i in range((date_to - first_week).days // 7 + 1)]
    groups = sorted(df["group"].unique())
    categories = sorted(df["category"].unique())

    d = Disclosure()
    d.add(("total",), len(df))
    d.add(("recorded",), int((df["status"] != "none").sum()))

    def one_way(name: str, column: str, labels: list[Any], total: Key = ("total",), rows: Any = None) -> None:
        counts = (df if rows is None else df[rows]).groupby(column).size().reindex(labels, fill_value=0)
        for label, n in counts.items():
            d.add((name, str(label)), n)
        d.line([(name, str(label)) for label in labels], total)

    def two_way(name: str, column: str, labels: list[Any]) -> None:
        grid = df.groupby([column, "severity"]).size().unstack(fill_value=0)
        grid = grid.reindex(index=labels, columns=list(SEVERITIES), fill_value=0)
        for label in labels:
            for sev in SEVERITIES:
                d.add((name + "-sev", str(label), sev), grid.at[label, sev])
            d.line([(name + "-sev", str(label), s) for s in SEVERITIES], (name, str(label)))
        for sev in SEVERITIES:
            d.line([(name + "-sev", str(label), sev) for label in labels], ("severity", sev))

    one_way("severity", "severity", list(SEVERITIES))
    one_way("rule", "rule", rule_ids)
    two_way("rule", "rule", rule_ids)
    one_way("week", "week", weeks)
    two_way("week", "week", weeks)
    one_way("group", "group", groups)
    one_way("category", "category", categories)
    one_way("status", "status", list(STATUS_LABELS))
    d.line([("status", "closed"), ("status", "open")], ("recorded",))
    one_way("action", "action", actions, ("recorded",), rows=df["status"] != "none")
    d.protect()

    people = df.groupby("rule")["person"].nunique().reindex(rule_ids, fill_value=0)

    def person_shown(rule_id: str) -> Shown:
        n = int(people[rule_id])
        if ("rule", rule_id) in d.hidden and n >= SMALL:
            return HIDDEN_OTHER
        return HIDDEN_SMALL if 0 < n < SMALL else n

    sev_cols = {s: s.capitalize() for s in SEVERITIES}
    by_rule = pd.DataFrame(
        [{"Rule": titles.get(r, r), **{sev_cols[s]: d.shown(("rule-sev", r, s)) for s in SEVERITIES},
          "Incidents": d.shown(("rule", r)), "People": person_shown(r)} for r in rule_ids]
    )  # fmt: skip
    by_week = pd.DataFrame(
        [{"Week": f"w/c {w.isoformat()}", **{sev_cols[s]: d.shown(("week-sev", str(w), s)) for s in SEVERITIES},
          "Incidents": d.shown(("week", str(w)))} for w in weeks]
    )  # fmt: skip

    def simple(name: str, labels: list[Any], heading: str, names: dict[str, str] | None = None) -> pd.DataFrame:
        rows = [{heading: (names or {}).get(str(x), str(x)), "Incidents": d.shown((name, str(x)))} for x in labels]
        return pd.DataFrame(rows, columns=[heading, "Incidents"])

    n_people = int(df["person"].nunique())
    report = GovernorsReport(
        school=ws.config.site.name,
        title=title or "Web filtering and monitoring: report to governors",
        date_from=date_from,
        date_to=date_to,
        total=d.shown(("total",)),
        recorded=d.shown(("recorded",)),
        people=HIDDEN_SMALL if 0 < n_people < SMALL else n_people,
        summary="",
        by_rule=by_rule,
        by_severity=simple("severity", list(SEVERITIES), "Severity", sev_cols),
        by_group=simple("group", groups, "Group"),
        by_category=simple("category", categories, "Category"),
        by_week=by_week,
        review=simple("status", list(STATUS_LABELS), "Review", STATUS_LABELS),
        outcomes=simple("action", actions, "Action", {a: a.replace("-", " ") for a in actions}),
        rules=[{"id": r.id, "title": r.title, "severity": r.severity, "policy": r.policy} for r in rules],
        unprotected=len(d.unprotected),
    )
    report.summary = _summary(report, d, rule_ids, titles)
    report.charts = _charts(d, rule_ids, titles, weeks, groups)
    return report


def _summary(report: GovernorsReport, d: Disclosure, rule_ids: list[str], titles: dict[str, str]) -> str:
    """The plain-English paragraph at the top, made only of published numbers."""
    span = f"{report.date_from:%-d %B %Y} to {report.date_to:%-d %B %Y}"
    if d.values[("total",)] == 0:
        return f"From {span}, no incidents were flagged by any of the {len(rule_ids)} rules."
    flagged = sum(1 for r in rule_ids if d.values[("rule", r)] > 0)
    total = "a small number of" if isinstance(report.total, str) else f"{report.total:,}"
    text = (f"From {span}, {total} incidents were flagged across {flagged} of the {len(rule_ids)} rules, "
            f"involving {report.people} different people.")  # fmt: skip
    shown = [r for r in rule_ids if ("rule", r) not in d.hidden and d.values[("rule", r)] > 0]
    if shown and not any(d.hidden.get(("rule", r)) == "other" for r in rule_ids):  # else "most" would bound a [c]
        top = max(shown, key=lambda r: d.values[("rule", r)])
        name, count = titles.get(top, top), d.values[("rule", top)]
        text += f" The rule that fired most often was \u201c{name}\u201d ({count:,} incidents)."
    review = {s: d.shown(("status", s)) for s in STATUS_LABELS}
    text += (f" Of all incidents, {review['closed']} have been reviewed and closed, {review['open']} are open "
             f"and {review['none']} have not yet been reviewed.")  # fmt: skip
    return text


def _label(text: str) -> str:
    """Chart text: control characters shown as ``?`` (no font has them) and mathtext off (``$`` would be parsed)."""
    return printable(text).replace("$", r"\$")


def _charts(
    d: Disclosure, rule_ids: list[str], titles: dict[str, str], weeks: list[date], groups: list[str]
) -> dict[str, str]:
    """Incidents by week (stacked by severity), by rule and by group, drawing shown counts only."""
    out = {}
    fig, ax = charts.figure(7.0, 2.8)
    x = range(len(weeks))
    bottom = [0] * len(weeks)
    for sev in SEVERITIES:
        heights = [d.exact(("week-sev", str(w), sev)) for w in weeks]
        ax.bar(x, heights, bottom=bottom, color=charts.SEVERITY_COLOURS[sev], label=sev, width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    rest = [max(d.exact(("week", str(w))) - b, 0) if ("week", str(w)) not in d.hidden else 0
            for w, b in zip(weeks, bottom, strict=True)]  # fmt: skip
    ax.bar(x, rest, bottom=bottom, color="#c8c8c8", label="severity hidden", width=0.8)
    step = max(1, -(-len(weeks) // 26))  # at most 26 labels: a year's range stays readable, a decade stays quick
    ticks = list(x)[::step]
    ax.set_xticks(ticks, [f"{weeks[i]:%d %b %Y}" if step > 1 else f"{weeks[i]:%d %b}" for i in ticks], rotation=45,
                  ha="right")  # fmt: skip
    ax.set_ylabel("incidents (w/c)", fontsize=8)
    ax.legend(fontsize=7, frameon=False, ncols=5, loc="upper left")
    out["weeks"] = charts.png_data_uri(fig)
    for name, labels, names in (("rule", rule_ids, titles), ("group", groups, {})):
        fig, ax = charts.figure(7.0, 0.5 + 0.28 * max(len(labels), 1))
        values = [d.exact((name, str(k))) for k in labels]
        ys = list(range(len(labels)))[::-1]
        ax.barh(ys, values, color=charts.PALETTE[0])
        ax.set_yticks(ys, [_label(names.get(str(k), str(k))) for k in labels])
        for y, k, v in zip(ys, labels, values, strict=True):
            text = d.shown((name, str(k)))
            ax.annotate(f"{text:,}" if isinstance(text, int) else text, (v, y), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=7)  # fmt: skip
        ax.set_xlabel("incidents", fontsize=8)
        out[name] = charts.png_data_uri(fig)
    return out


def render_governors(report: GovernorsReport) -> str:
    """The report as one self-contained, printable HTML page."""
    return render("governors.html.j2", r=report, hidden_small=HIDDEN_SMALL, hidden_other=HIDDEN_OTHER)


def make_governors(
    ws: Workspace, out: Path | None = None, date_from: date | None = None, date_to: date | None = None
) -> tuple[Path, GovernorsReport]:
    """Build, render and write the report (owner-only); the path and the report, for a count line."""
    report = governors_report(ws, date_from, date_to)
    out = out or ws.reports_dir / f"governors-{report.date_from}-{report.date_to}.html"
    return write_private(out, render_governors(report)), report


def write_governors(
    ws: Workspace, out: Path | None = None, date_from: date | None = None, date_to: date | None = None
) -> Path:
    """Write the report (default ``reports/governors-FROM-TO.html`` in the workspace); its path."""
    return make_governors(ws, out, date_from, date_to)[0]
