"""``concerning-search``: what a pupil typed into a search engine suggests a risk of harm.

Enrichment has already pulled the search text out of search-engine URLs
(``search_terms``: decoded, type-ahead keystrokes collapsed to what was
searched), so this rule only has to read it against the shipped safeguarding
lists, one per theme (``keywords/<theme>.txt``). Matching is on whole words
and phrases with case, accents and punctuation ignored (``_lists.fold``):
"harmony" is not "harm", "skill set" not "kill", "grape juice" not "rape",
"therapist" not "rapist". Every hour counts: a search at 22:00 on a school
laptop matters as much as one in a lesson.

There are few distinct search terms even in a large log, so each distinct
term is folded and matched once in Python and the result mapped back to the
rows. One finding per person, theme and local day, quoting the search text
itself (it is the evidence; reports escape it); critical for
``critical_themes``, else the rule's severity. The finding's ``category`` is
the theme, so one search matching two themes gives two findings with
distinct ids.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ConfigError
from . import _lists, text
from .context import Context
from .hits import Hits
from .model import Rule

TITLES = {"selfharm": "self-harm"}
"""How a theme is named in the detail, where it differs from its list's file name."""

ENGINES = {"google": "Google", "bing": "Bing", "youtube": "YouTube", "duckduckgo": "DuckDuckGo",
           "yahoo": "Yahoo", "ecosia": "Ecosia"}  # fmt: skip
"""Display names of the engines ``enrich.search`` recognises, by the first label of their domain."""

QUOTED = 5
"""Distinct search terms quoted in one detail line; the rest are counted."""


def _themes(rule: Rule) -> list[str]:
    themes = list(dict.fromkeys(rule["themes"]))
    shipped = set(_lists.available())
    unknown = [t for t in themes if t not in shipped]
    if unknown:
        lists = ", ".join(sorted(shipped))
        raise ConfigError(f"filterlog.toml [rules.{rule.id}] themes: no keyword list for {unknown} (lists: {lists})")
    return themes


def _matches(terms: list[str | None], themes: list[str]) -> np.ndarray:
    """Per distinct term (rows) and theme (columns): whether the term holds one of the theme's words or phrases."""
    folded = [_lists.fold(t) if t else "" for t in terms]
    hits = np.zeros((len(terms), len(themes)), dtype=bool)
    for j, theme in enumerate(themes):
        matcher = _lists.matcher(theme)
        hits[:, j] = [bool(f) and bool(matcher.find(f)) for f in folded]
    return hits


def detect(ctx: Context, rule: Rule) -> Hits:
    """Findings: one per person, theme and local day with at least one matching search."""
    themes = _themes(rule)
    if len(ctx) == 0 or not themes:
        return Hits.none()
    column = ctx.events.column("search_terms")
    rows = np.flatnonzero(ctx.mask(pc.is_valid(column)))
    if len(rows) == 0:
        return Hits.none()
    searched = pc.dictionary_encode(column.take(pa.array(rows, pa.int64())))
    if isinstance(searched, pa.ChunkedArray):
        searched = searched.combine_chunks()
    terms = searched.dictionary.to_pylist()
    hits = _matches(terms, themes)
    if not hits.any():
        return Hits.none()
    code = np.asarray(searched.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    row_hits = hits[code]  # (row x theme)
    which_row, which_theme = np.nonzero(row_hits)
    rows, theme_of = rows[which_row], np.asarray(themes, dtype=object)[which_theme]

    frame = ctx.frame(rows, ["who", "local_date", "time", "domain", "search_terms"])
    frame = frame.reset_index()
    frame["theme"] = theme_of
    frame["ms"] = pc.cast(ctx.events.column("time").take(pa.array(rows, pa.int64())), pa.int64()).to_numpy()
    frame = frame.sort_values(["who", "theme", "ms"], kind="stable")
    key = frame.groupby(["who", "theme", "local_date"], sort=False).ngroup().to_numpy()
    frame["finding"] = key
    frame["folded"] = frame["search_terms"].astype(object).str.casefold()

    distinct = frame.drop_duplicates(["finding", "folded"])
    found = frame.groupby("finding", sort=True).agg(
        start=("time", "min"), end=("time", "max"), theme=("theme", "first"), domain=("domain", "first")
    )
    found["count"] = distinct.groupby("finding", sort=True).size()
    quoted = text.joined("'" + distinct["search_terms"].astype(object) + "'", distinct["finding"].to_numpy(), QUOTED)
    label = frame["domain"].astype(object).fillna("").str.split(".", n=1).str[0]
    engines = text.joined(label.map(ENGINES).fillna(frame["domain"].astype(object)), frame["finding"].to_numpy())
    title = found["theme"].replace(TITLES)
    found["detail"] = (
        "searched for "
        + quoted
        + " ("
        + title
        + ") on "
        + engines
        + ", "
        + text.span(found["start"], found["end"], ctx.timezone)
    )
    critical = found["theme"].isin(rule["critical_themes"]).to_numpy()
    found["severity"] = np.where(critical, "critical", rule.severity)
    found["bytes"] = 0
    found["category"] = found["theme"]
    findings = found.reset_index(drop=True)[
        ["count", "bytes", "severity", "detail", "start", "end", "domain", "category"]
    ]
    return Hits.grouped(findings, frame["row"].to_numpy(), frame["finding"].to_numpy())
