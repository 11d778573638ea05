"""``hacking-tools``: someone went after hacking software, or ran it.

Three signals, any one of which makes a row evidence:

* a request (allowed or blocked) to a host on a hacking list (``categories``);
* a download whose file name names a known tool (``keywords/hacking_tools.txt``
  plus ``extra_tools``, minus ``ignore_tools``) as a whole word. A download is a
  path ending in one of ``download_extensions`` or a reply of one of
  ``download_types``; the name is the path's last segment, or the
  ``filename=`` a download link asks for. Whole words keep a Google search for
  "nmap" and an article at ``/nmap-command-in-linux-with-examples/`` (text/html,
  no file) out;
* a request sent with a hacking tool's user agent (``keywords/hacking_agents.txt``):
  someone ran sqlmap or Nikto from the school network.

Findings are per person and *episode*: evidence rows no more than
``episode_gap_minutes`` apart belong together. Downloading hashcat at 10:58
and running sqlmap at 13:40 are two incidents with their own times and
evidence, which reads better in a report than one finding per day. An episode
made only of visits to listed sites (no tool download, no tool user agent) is
rated ``visit_severity``: reading about nmap on nmap.org is less than
downloading it.

407 challenges (``auth_required``) are the proxy asking for a password, not
the person's request, and are ignored throughout. All string work (file names,
user agents) is on distinct values; rows are selected with numpy masks first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..arrays import bools, spread
from ..errors import ConfigError
from ..schema import SEVERITIES
from . import _lists, text
from .context import Context
from .hits import Hits
from .model import Rule

_FILENAME = re.compile(r"(?i)filename\*?=(?:utf-8'')?\"?([^\";&]+)")
"""The file name a download link asks for (``response-content-disposition=attachment; filename=x.zip``)."""


_FEW = 8
"""Up to this many distinct tool user agents are found with equality tests rather than a hash lookup."""


def ends_with_any(column: pa.Array | pa.ChunkedArray, suffixes: Iterable[str]) -> np.ndarray:
    """Boolean mask: the string ends with one of ``suffixes`` (ASCII, any case, at most 8 bytes); null is False.

    A regex over ten million paths takes seconds; this reads each string's last
    4 (or 8) bytes straight from the Arrow buffers as one integer and compares
    it with the packed suffixes, a few numpy passes in all.
    """
    wanted = sorted({s.lower() for s in suffixes if s})
    if isinstance(column, pa.ChunkedArray):
        parts = [ends_with_any(chunk, wanted) for chunk in column.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)
    n = len(column)
    if not wanted or n == 0:
        return np.zeros(n, dtype=bool)
    if any(len(s) > 8 or not s.isascii() for s in wanted):
        raise ValueError(f"suffixes must be ASCII and at most 8 bytes: {wanted}")
    wide = pa.types.is_large_string(column.type)
    if pa.types.is_dictionary(column.type):
        return spread(ends_with_any(column.dictionary, wanted), column)
    _, offsets_buf, data_buf = column.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32, count=column.offset + n + 1)
    offsets = offsets[column.offset :]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    ends, lengths = offsets[1:], np.diff(offsets)
    width = 4 if max(map(len, wanted)) <= 4 else 8  # half the memory traffic for the usual 3-letter extensions
    unsigned = np.uint32 if width == 4 else np.uint64
    hit = np.zeros(n, dtype=bool)
    early = ends < width
    if len(data) >= width:
        # every `width`-byte window of the buffer as a little-endian integer: a row's last bytes are window end-width
        windows = np.ndarray(shape=(len(data) - width + 1,), dtype=f"<u{width}", buffer=data, strides=(1,))
        start = ends - width
        np.maximum(start, 0, out=start)
        last = windows[start]
        last |= unsigned(int.from_bytes(b"\x20" * width, "little"))  # ASCII letters to lower case
        for size in sorted({len(s) for s in wanted}):
            top = last >> unsigned(8 * (width - size)) if size < width else last
            match = np.zeros(n, dtype=bool)
            for s in (s for s in wanted if len(s) == size):
                match |= top == unsigned(int.from_bytes(bytes(b | 0x20 for b in s.encode()), "little"))
            hit |= match & (lengths >= size)
        hit &= ~early
    else:
        early[:] = True
    if early.any():  # the few strings too near the buffer's start for an 8-byte window
        rows = np.flatnonzero(early)
        values = column.take(pa.array(rows, pa.int64())).to_pylist()
        hit[rows] = [v is not None and v.lower().endswith(tuple(wanted)) for v in values]
    return hit & np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _tool_regex(rule: Rule) -> re.Pattern[str] | None:
    """The shipped tool names with the site's ``extra_tools`` added and ``ignore_tools`` taken out, as one regex."""
    for name in ("extra_tools", "ignore_tools"):
        if not all(isinstance(v, str) for v in rule[name]):
            raise ConfigError(f"filterlog.toml [rules.{rule.id}] {name}: expected a list of tool names")
    return _compiled_tools(tuple(rule["extra_tools"]), tuple(rule["ignore_tools"]))


@lru_cache(maxsize=8)
def _compiled_tools(extra: tuple[str, ...], ignore: tuple[str, ...]) -> re.Pattern[str] | None:
    drop = {_lists.fold(t) for t in ignore}
    names = [t for t in (*_lists.entries("hacking_tools"), *extra) if _lists.fold(t) not in drop]
    return _lists.phrase_regex(names, version_suffix=True)


def _file_names(paths: pa.Array, queries: pa.Array) -> pa.Array:
    """The downloaded file's name per row: ``filename=`` in the query, else the path's last segment (decoded).

    In Arrow, with Python only once per distinct query that asks for a name and per distinct name.
    """
    # a superset of the queries whose decoded text names a file (non-ASCII text may case-fold onto "filename")
    asks = pc.or_(pc.match_substring(queries, "filename", ignore_case=True), pc.invert(pc.string_is_ascii(queries)))
    asked = _per_value(queries, asks, lambda q: m.group(1) if (m := _FILENAME.search(unquote(q))) else None)
    last = pc.replace_substring_regex(pc.fill_null(paths, ""), r"(?s)^.*/", "")  # not a Python rsplit per row
    raw = pc.if_else(pc.fill_null(pc.not_equal(asked, ""), False), asked, last)
    return _per_value(raw, None, lambda u: unquote(unquote(u)).strip())


def _per_value(values: pa.Array, rows: pa.Array | None, work: Callable[[str], Any]) -> pa.Array:
    """``work`` of each (string) value, worked out once per distinct value.

    Null where the value is null, or where ``rows`` (None: every row) is not set.
    """
    if rows is not None:
        values = pc.if_else(pc.fill_null(rows, False), values, pa.scalar(None, values.type))
    encoded = pc.dictionary_encode(values)
    done = pa.array([work(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return done.take(encoded.indices)


_VERDICTS: dict[re.Pattern[str], dict[str, bool]] = {}
"""Per tool regex, each value already judged: the same file names and paths come back in every bucket
of a large day (a 10M-event day in 4 buckets searched 50k values, 19k of them distinct)."""

_VERDICTS_KEPT = 200_000
"""Values remembered per regex before they are forgotten (a long-lived Dask worker sees many days): some 30 MB."""


def _found(values: pa.Array, regex: re.Pattern[str]) -> np.ndarray:
    """Whether each value names a tool as a whole word (null: no), worked out once per distinct value (and process)."""
    known = _VERDICTS.setdefault(regex, {})
    if len(known) > _VERDICTS_KEPT:
        known.clear()
    encoded = pc.dictionary_encode(values)
    verdict = []
    for v in encoded.dictionary.to_pylist():
        hit = known.get(v)
        if hit is None:
            hit = known[v] = regex.search(_lists.fold(v)) is not None
        verdict.append(hit)
    return spread(np.array(verdict, dtype=bool), encoded)


def _downloads(ctx: Context, rule: Rule, mine: np.ndarray) -> pd.Series:
    """File name of each tool download (indexed by row), naming the tool as a whole word; other rows absent."""
    extensions = ["." + e.lstrip(".") for e in rule["download_extensions"]]
    typed = ctx.is_in("content_type", rule["download_types"])
    files = typed | ends_with_any(ctx.events.column("path"), extensions)
    rows = np.flatnonzero(files & mine & ~ctx.is_in("method", ["CONNECT"]))
    regex = _tool_regex(rule)
    if len(rows) == 0 or regex is None:
        return pd.Series(dtype=object)
    picked = ctx.take(rows, ["path", "query"])
    paths, queries = (pc.cast(picked.column(c), pa.string()).combine_chunks() for c in ("path", "query"))
    names = _file_names(paths, queries)
    hit = _found(names, regex)
    # with a download content type the whole path counts too: /releases/hashcat/latest
    typed_rows = typed[rows]
    if typed_rows.any():
        hit[typed_rows] |= _found(paths.filter(bools(typed_rows)), regex)
    hit &= np.asarray(pc.fill_null(pc.not_equal(names, ""), False))
    return pd.Series(names.filter(bools(hit)).to_pylist(), index=rows[hit], dtype=object)


def _agent_patterns() -> list[tuple[str, str]]:
    """(lower-case needle, tool name shown) for each shipped user-agent entry."""
    return [(e.lower(), e.strip("()/ ")) for e in _lists.entries("hacking_agents")]


def _agents(ctx: Context, mine: np.ndarray) -> pd.Series:
    """Tool name of each request sent with a hacking tool's user agent (indexed by row); other rows absent."""
    column = ctx.events.column("user_agent")
    if pa.types.is_dictionary(column.type):  # the chunks' dictionaries are the distinct values (and a few unused)
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        uniq = sorted(set().union(*(c.dictionary.to_pylist() for c in chunks)) - {None})
    else:
        uniq = pc.unique(column).to_pylist()
    patterns = _agent_patterns()
    tool = {}
    for ua in uniq:
        if ua:
            low = ua.lower()
            found = next((name for needle, name in patterns if needle in low), None)
            if found:
                tool[ua] = found
    if not tool:
        return pd.Series(dtype=object)
    if len(tool) <= _FEW and not pa.types.is_dictionary(column.type):  # comparing bytes beats hashing every row
        sent = np.zeros(len(ctx), dtype=bool)
        for ua in tool:
            sent |= ctx.mask(pc.equal(column, pa.scalar(ua, pa.string())))
    else:
        sent = ctx.is_in("user_agent", list(tool))
    rows = np.flatnonzero(sent & mine)
    agents = ctx.frame(rows, ["user_agent"])["user_agent"].astype(object)
    return agents.map(tool)


def _episodes(who: np.ndarray, ms: np.ndarray, gap_minutes: float) -> np.ndarray:
    """Episode number per row (rows sorted by who, time): a new one per person and after each long gap."""
    new = np.ones(len(who), dtype=bool)
    new[1:] = (who[1:] != who[:-1]) | (np.diff(ms) > gap_minutes * 60_000)
    return np.cumsum(new) - 1


def _labels(part: pd.DataFrame, key: str, label: pd.Series) -> pd.Series:
    """Per episode: the distinct labels of ``part`` in time order, comma-joined."""
    return text.joined(label, part["episode"].to_numpy(), limit=4).rename(key)


def _detail_parts(frame: pd.DataFrame) -> list[pd.Series]:
    """Per episode that has them: the downloads, user-agent and visits sentences, in that order."""
    parts = []
    got = frame[frame["file"].notna()]
    if len(got):
        per = got.groupby(["episode", "file"], sort=False).agg(
            bytes=("bytes_in", "sum"), blocked=("blocked", "all"), first=("time", "min")
        )
        per = per.reset_index().sort_values(["episode", "first"], kind="stable")
        label = per["file"] + np.where(per["blocked"], " (blocked)", " (" + text.size(per["bytes"]) + ")")
        parts.append("downloaded " + _labels(per, "download", label))
    ran = frame[frame["tool"].notna()]
    if len(ran):
        per = ran.groupby(["episode", "tool"], sort=False).agg(n=("time", "size"), first=("time", "min"))
        per = per.reset_index().sort_values(["episode", "first"], kind="stable")
        label = per["tool"] + " (" + text.count(per["n"], "request") + ")"
        targets = text.joined(ran["host"].astype(object).fillna(ran["site"]), ran["episode"].to_numpy(), limit=3)
        sentence = "hacking-tool user agents: " + _labels(per, "agent", label) + " to " + targets
        parts.append(sentence.rename("agent"))
    seen = frame[frame["visit"]]
    if len(seen):
        per = seen.groupby(["episode", "site"], sort=False).agg(
            blocked=("blocked", "all"), first=("time", "min"), category=("category", "first")
        )
        per = per.reset_index().sort_values(["episode", "first"], kind="stable")
        label = per["site"] + np.where(per["blocked"], " (blocked)", "")
        lists = text.joined(per["category"].astype(object), per["episode"].to_numpy())
        parts.append(("visited " + _labels(per, "visit", label) + " (" + lists + " list)").rename("visit"))
    return parts


def detect(ctx: Context, rule: Rule) -> Hits:
    """Findings: one per person and episode of hacking-site visits, tool downloads or tool user agents."""
    if rule["visit_severity"] not in SEVERITIES:
        raise ConfigError(f"filterlog.toml [rules.{rule.id}] visit_severity: expected one of {', '.join(SEVERITIES)}")
    if len(ctx) == 0:
        return Hits.none()
    mine = ~ctx.is_in("action", ["auth_required"])
    visit = ctx.is_in("category", rule["categories"]) & mine
    files = _downloads(ctx, rule, mine)
    tools = _agents(ctx, mine)
    evidence = visit.copy()
    evidence[files.index.to_numpy(dtype=np.int64)] = True
    evidence[tools.index.to_numpy(dtype=np.int64)] = True
    rows = np.flatnonzero(evidence)
    if len(rows) == 0:
        return Hits.none()

    frame = ctx.frame(rows, ["who", "time", "host", "domain", "category", "bytes_in", "action"])
    frame["visit"] = visit[rows]
    frame["file"] = files.reindex(frame.index)
    frame["tool"] = tools.reindex(frame.index)
    frame["blocked"] = frame["action"].astype(object).eq("blocked").to_numpy()
    frame["site"] = frame["domain"].astype(object).where(frame["domain"].notna(), frame["host"].astype(object))
    frame["site"] = frame["site"].fillna("?")
    frame["bytes_in"] = frame["bytes_in"].fillna(0).astype("int64")
    frame["ms"] = pc.cast(ctx.events.column("time").take(pa.array(rows, pa.int64())), pa.int64()).to_numpy()
    frame = frame.sort_values(["who", "ms"], kind="stable")
    who = frame["who"].astype(object).to_numpy()
    frame["episode"] = _episodes(who, frame["ms"].to_numpy(), rule["episode_gap_minutes"])

    by = frame.groupby("episode", sort=True)
    found = by.agg(
        count=("time", "size"),
        bytes=("bytes_in", "sum"),
        start=("time", "min"),
        end=("time", "max"),
        serious=("file", "count"),
        ran=("tool", "count"),
    )
    # the main indicator: the first download, else the first tool target, else the first site
    first_of = frame.assign(rank=np.select([frame["file"].notna(), frame["tool"].notna()], [0, 1], 2))
    lead = first_of.sort_values(["episode", "rank", "time"], kind="stable").groupby("episode", sort=True).first()
    found["domain"] = lead["site"]
    found["category"] = frame[frame["visit"]].groupby("episode", sort=True)["category"].first().astype(object)
    parts = _detail_parts(frame)
    long = pd.concat([p.rename("text") for p in parts], keys=range(len(parts)), names=["part", "episode"])
    long = long.reset_index().sort_values(["episode", "part"], kind="stable")
    sentences = long.groupby("episode", sort=True)["text"].agg("; ".join)
    found["detail"] = sentences + ", " + text.span(found["start"], found["end"], ctx.timezone)
    visits_only = (found["serious"] == 0) & (found["ran"] == 0)
    found["severity"] = np.where(visits_only, rule["visit_severity"], rule.severity)
    findings = found.reset_index(drop=True)[
        ["count", "bytes", "severity", "detail", "start", "end", "domain", "category"]
    ]
    return Hits.grouped(findings, frame.index.to_numpy(), frame["episode"].to_numpy())
