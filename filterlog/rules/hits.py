"""From what a rule found to finding rows: who, when, stable ids and evidence, the same way for every rule.

A rule returns :class:`Hits`: one row per finding with its numbers and detail,
and a member list saying which event rows each finding rests on. Everything
that must not differ between rules is done here, on whole columns: the person
and address come from the finding's first event, ``finding_id`` is a hash of
what identifies the finding (so detecting twice gives the same ids), and the
evidence is the source lines, in time order, capped for very large findings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..enrich.calendar import local_dates
from ..schema import FINDING_SCHEMA, SEVERITIES, conform
from .context import Context
from .model import Rule

EVIDENCE_CAP = 50
"""Source lines kept per finding; ``evidence_total`` still counts them all."""

_OPTIONAL = ("start", "end", "domain", "category")


@dataclass
class Hits:
    """What one rule found.

    ``findings``: one row per finding with ``count``, ``bytes``, ``severity``
    and ``detail``, and optionally ``start``, ``end`` (else the first and last
    member event), ``domain`` and ``category``. ``members``: columns
    ``finding`` (position in ``findings``) and ``row`` (position in the
    context's events), one row per event the finding rests on.
    """

    findings: pd.DataFrame
    members: pd.DataFrame

    @classmethod
    def none(cls) -> Hits:
        """Nothing found."""
        return cls(pd.DataFrame(), pd.DataFrame({"finding": pd.Series(dtype="int64"), "row": pd.Series(dtype="int64")}))

    @classmethod
    def grouped(cls, findings: pd.DataFrame, rows: pd.Index | np.ndarray, codes: np.ndarray) -> Hits:
        """Findings plus members given as event row positions and, per row, the finding's position (-1: none)."""
        codes = np.asarray(codes, dtype=np.int64)
        keep = codes >= 0
        members = pd.DataFrame({"finding": codes[keep], "row": np.asarray(rows, dtype=np.int64)[keep]})
        return cls(findings.reset_index(drop=True), members)

    def __len__(self) -> int:
        return len(self.findings)


def _ids(rule: Rule, who: pa.Array, start: pa.Array, domain: pa.Array, category: pa.Array) -> pa.Array:
    """Stable 16-hex-digit ids: a keyed-free hash of rule, person, start time, domain and category."""
    key = pd.DataFrame(
        {
            "rule": rule.id,
            "who": who.to_pandas(),
            "start": pc.cast(start, pa.int64()).to_pandas(),
            "domain": pc.fill_null(pc.cast(domain, pa.string()), "").to_pandas(),
            "category": pc.fill_null(pc.cast(category, pa.string()), "").to_pandas(),
        }
    )
    hashed = pd.util.hash_pandas_object(key, index=False).to_numpy()
    return pa.array(np.char.mod("%016x", hashed.astype(np.uint64)).astype(object), pa.string())


def _evidence(members: pd.DataFrame, picked: pa.Table, n: int) -> tuple[pa.Array, pa.Array]:
    """Per finding: a list of its first ``EVIDENCE_CAP`` source lines in time order, and how many there are.

    ``picked`` holds the members' time, source_line and source_id, row for row.
    """
    order = pd.DataFrame(
        {
            "finding": members["finding"].to_numpy(),
            "time": pc.cast(picked.column("time"), pa.int64()).to_numpy(),
            "line": picked.column("source_line").to_numpy(),
            "row": members["row"].to_numpy(),
            "at": np.arange(picked.num_rows),
        }
    )
    order = order.drop_duplicates(["finding", "row"]).sort_values(["finding", "time", "line", "row"], kind="stable")
    totals = np.bincount(order["finding"].to_numpy(), minlength=n).astype(np.int64)
    kept = order[order.groupby("finding", sort=False).cumcount().to_numpy() < EVIDENCE_CAP]
    take = pa.array(kept["at"].to_numpy(), pa.int64())
    structs = pa.StructArray.from_arrays(
        [
            pc.cast(picked.column("source_id").take(take), pa.string()).combine_chunks(),
            picked.column("source_line").take(take).combine_chunks(),
        ],
        fields=list(FINDING_SCHEMA.field("evidence").type.value_type),
    )
    offsets = np.concatenate([[0], np.cumsum(np.minimum(totals, EVIDENCE_CAP))]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), structs)
    return lists.cast(FINDING_SCHEMA.field("evidence").type), pa.array(totals, pa.int64())


def assemble(rule: Rule, hits: Hits, ctx: Context) -> pa.Table:
    """The finding rows (``FINDING_SCHEMA``) for what ``rule`` found in ``ctx``."""
    n = len(hits.findings)
    if n == 0 or len(hits.members) == 0:
        return FINDING_SCHEMA.empty_table()
    found = hits.findings
    members = hits.members
    missing = sorted(set(members["finding"].unique()) ^ set(range(n)))
    if missing:
        raise ValueError(f"rule {rule.id}: findings and members disagree at positions {missing[:5]}")
    bad = set(found["severity"].unique()) - set(SEVERITIES)
    if bad:
        raise ValueError(f"rule {rule.id}: severities {sorted(bad)} are not in {SEVERITIES}")

    picked = ctx.take(members["row"].to_numpy(), ["time", "source_line", "source_id"])
    member_time = pc.cast(picked.column("time"), pa.int64()).to_numpy()
    by = pd.DataFrame({"finding": members["finding"].to_numpy(), "time": member_time, "row": members["row"].to_numpy()})
    by = by.sort_values(["finding", "time", "row"], kind="stable")
    first_row = by.groupby("finding", sort=True)["row"].first().to_numpy()
    span = by.groupby("finding", sort=True)["time"].agg(["min", "max"])
    people = ctx.take(first_row, ["who", "user", "client_ip", "group"])

    def ms(name: str, fallback: np.ndarray) -> np.ndarray:
        if name not in found:
            return fallback
        values = pd.to_datetime(found[name], utc=True).astype("datetime64[ms, UTC]")
        return np.where(values.isna(), fallback, values.astype("int64").to_numpy())

    utc = pa.timestamp("ms", tz="UTC")
    start_ms = ms("start", span["min"].to_numpy())
    start = pa.array(start_ms, pa.int64()).cast(utc)
    end = pa.array(np.maximum(start_ms, ms("end", span["max"].to_numpy())), pa.int64()).cast(utc)
    who = pc.cast(people.column("who"), pa.string()).combine_chunks()
    domain = pa.array(found["domain"], pa.string(), from_pandas=True) if "domain" in found else pa.nulls(n, pa.string())
    category = (
        pa.array(found["category"].astype(object), pa.string(), from_pandas=True)
        if "category" in found
        else pa.nulls(n, pa.string())
    )
    evidence, totals = _evidence(members, picked, n)
    table = pa.table(
        {
            "finding_id": _ids(rule, who, start, domain, category),
            "rule": pa.array([rule.id] * n, pa.string()),
            "title": pa.array([rule.title] * n, pa.string()),
            "severity": pa.array(found["severity"].astype(str).to_numpy(), pa.string()),
            "date": local_dates(start, ctx.timezone),
            "user": pc.cast(people.column("user"), pa.string()),
            "client_ip": pc.cast(people.column("client_ip"), pa.string()),
            "group": pc.cast(people.column("group"), pa.string()),
            "start": start,
            "end": end,
            "count": pa.array(found["count"].to_numpy(dtype=np.int64), pa.int64()),
            "bytes": pa.array(found["bytes"].fillna(0).to_numpy(dtype=np.int64), pa.int64()),
            "domain": domain,
            "category": category,
            "detail": pa.array(found["detail"].astype(str).to_numpy(), pa.string()),
            "policy": pa.array([rule.policy] * n, pa.string()),
            "evidence": evidence,
            "evidence_total": totals,
        }
    )
    return conform(table, FINDING_SCHEMA)
