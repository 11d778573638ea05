"""Host → category (vpn, adult, streaming …) from the shipped lists and the lists a school imported.

An entry covers itself and every subdomain (squidGuard semantics: ``x.blogspot.com``
matches ``a.x.blogspot.com`` but not ``y.blogspot.com``) and the longest matching entry
wins, so an ``allow`` entry ``classroom.google.com`` beats a broader ``google.com``.
Where lists hold the very same entry, ``allow`` wins, then the shipped lists (hand-checked,
and finer: UT1 files Tor under its proxy list and extremism under ``agressif``), then the
newest import; inside one list set, :data:`PRECEDENCE` picks. What ``allow`` means is the
rules' business: here it is just a category.

Imported lists reach millions of entries (UT1 adult alone is 4.5M), so each list set is
held as a sorted ``uint64`` array of entry hashes plus a ``uint16`` label code (10 bytes
an entry, no Python strings) and searched with ``np.searchsorted``. Each distinct host
of a column is expanded into its parent suffixes, those are hashed and searched, and
the answers are mapped back through the column's dictionary. Imports are kept in the
workspace as sorted text (the truth, for audits and ``grep``) plus that compiled index,
which is rebuilt from the text if it is missing or was made by a different hash.
"""

from __future__ import annotations

import json
import logging
import threading
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..arrays import indices, masked
from ..errors import FilterlogError
from .domains import remember

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

PRECEDENCE = (
    "allow", "adult", "selfharm", "extremism", "violence", "tor", "vpn", "proxy", "tunnels", "doh",
    "hacking", "gambling", "drugs", "dating", "filesharing", "games", "streaming", "social",
    "sports_news", "shopping", "webmail", "ads",
)  # fmt: skip
"""Which category an entry keeps when one list set holds it twice (UT1 often does); others follow by name."""
SHIPPED_MANIFEST = "MANIFEST.toml"


class CategoryError(FilterlogError):
    """A category list that cannot be read or recognised, or a damaged list store."""


def shipped_dir() -> Path:
    """The shipped lists: package data ``filterlog/_categories`` in a wheel, else the checkout's ``categories/``."""
    pkg = Path(__file__).resolve().parents[1]
    for candidate in (pkg / "_categories", pkg.parent / "categories"):
        if (candidate / SHIPPED_MANIFEST).is_file():
            return candidate
    raise CategoryError(f"{pkg.parent / 'categories'}: shipped category lists not found (incomplete install?)")


def normalise(host: str) -> str:
    """The form lists and hosts are compared in: lower case, no trailing dot, IDNA (punycode) labels."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
    return host


def hash_entries(entries: pa.Array | np.ndarray | list[str]) -> np.ndarray:
    """64-bit hashes of domain strings (pandas SipHash, fixed key): the key of every index.

    Arrow input is hashed a million strings at a time, so a 5M-entry list never
    exists as Python strings all at once.
    """
    if isinstance(entries, pa.Array):
        chunks = (entries.slice(i, 1 << 20).to_numpy(zero_copy_only=False) for i in range(0, len(entries), 1 << 20))
        return np.concatenate([np.empty(0, np.uint64), *map(hash_entries, chunks)])
    arr = np.asarray(entries, dtype=object)
    return pd.util.hash_array(arr, categorize=False) if len(arr) else np.empty(0, np.uint64)


PROBE_HASH = int(hash_entries(["probe.filterlog.invalid"])[0])
"""Stored with each compiled index: a machine that hashes differently rebuilds it from the text."""


def _rank(category: str) -> tuple[int, str]:
    return (PRECEDENCE.index(category) if category in PRECEDENCE else len(PRECEDENCE), category)


def compile_lists(entries: dict[str, pa.Array | np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Category → entries as (sorted unique hashes, uint16 codes, categories); a duplicate keeps its best rank."""
    cats = sorted(entries, key=_rank)
    if len(cats) > 65535:
        raise CategoryError("more than 65535 categories in one list set")
    hs = [hash_entries(entries[c]) for c in cats]
    h = np.concatenate([np.empty(0, np.uint64), *hs])
    c = np.concatenate([np.empty(0, np.uint16), *(np.full(len(x), i, np.uint16) for i, x in enumerate(hs))])
    order = np.argsort(h, kind="stable")  # stable: among equal hashes the best-ranked category stays first
    h, c = h[order], c[order]
    first = np.ones(len(h), bool)
    first[1:] = h[1:] != h[:-1]
    return h[first], c[first], cats


@dataclass(frozen=True)
class ListInfo:
    """One category list as ``categories list`` shows it."""

    category: str
    source: str  # the label lookups report: "shipped list vpn.txt", "imported list ut1/proxy.txt"
    entries: int
    licence: str
    origin: str  # where it came from and when (curation or import date)


class _Table(NamedTuple):
    hashes: np.ndarray  # sorted, unique uint64 entry hashes
    codes: np.ndarray  # uint16 index into labels, one per hash
    labels: list[tuple[str, str]]  # (category, source label)


@lru_cache(maxsize=4)
def _shipped(root: Path) -> tuple[_Table, tuple[ListInfo, ...]]:
    try:
        meta = tomllib.loads((root / SHIPPED_MANIFEST).read_text(encoding="utf-8"))
        entries, infos = {}, []
        for name, item in sorted(meta["lists"].items()):
            text = (root / item["file"]).read_text(encoding="utf-8")
            found = [normalise(s) for line in text.splitlines() if (s := line.split("#", 1)[0].strip())]
            entries[name] = np.array(found, dtype=object)
            origin = f"{item['source']} ({item['date']})"
            infos.append(ListInfo(name, f"shipped list {item['file']}", len(found), item["licence"], origin))
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise CategoryError(f"{root}: shipped category lists unreadable: {exc}") from exc
    h, c, cats = compile_lists(entries)
    source = {i.category: i.source for i in infos}
    return _Table(h, c, [(cat, source[cat]) for cat in cats]), tuple(infos)


KNOWN_HOSTS = 1 << 20
"""Hosts a store remembers the category of (about 100 MB at most); beyond that it starts again."""


class Categories:
    """The category store: shipped lists plus a workspace's imports, searched longest suffix first."""

    def __init__(self, tables: list[_Table], infos: list[ListInfo]) -> None:
        """Tables in tie-break order, most trusted first (shipped, then imports newest first)."""
        self.tables, self.infos = tables, infos
        self._known: dict[str | None, int] = {}
        self._lock = threading.Lock()  # enrichment's threads share the store
        self.labels: list[tuple[str, str]] = []
        self._remap, self._rank = [], []
        for tier, t in enumerate(tables):
            self._remap.append(np.arange(len(self.labels), len(self.labels) + len(t.labels), dtype=np.int64))
            self._rank.append(np.array([0 if cat == "allow" else 1 + tier for cat, _ in t.labels], np.int64))
            self.labels.extend(t.labels)

    @classmethod
    def load(cls, ws: Workspace | None = None, shipped: Path | None = None) -> Categories:
        """Shipped lists plus the lists imported into ``ws`` (newest import first)."""
        table, infos = _shipped((shipped or shipped_dir()).resolve())
        tables, all_infos = [], list(infos)
        for name, entry, (h, c, cats) in _load_imports(ws.root / "categories") if ws else []:
            labels = [(cat, f"imported list {name}/{cat}.txt") for cat in cats]
            tables.append(_Table(h, c, labels))
            origin = f"{entry['format']} import of {entry['path']} ({entry['imported_at'][:10]})"
            for cat, src in labels:
                all_infos.append(ListInfo(cat, src, entry["lists"].get(cat, 0), entry["licence"], origin))
        return cls([table, *tables], all_infos)

    def __len__(self) -> int:
        return sum(len(t.hashes) for t in self.tables)

    def __getstate__(self) -> dict[str, object]:
        """Pickled without its lock, for Dask workers that do not see the workspace (``rules.engine``)."""
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def lists(self) -> list[ListInfo]:
        """Every list: the shipped ones, then the imports newest first."""
        return list(self.infos)

    def _best(self, hosts: list[str]) -> np.ndarray:
        """Label index of the winning entry for each normalised host (-1: no list covers it)."""
        owner, depth, cands = [], [], []
        for i, host in enumerate(hosts):
            # IP literals (and numeric junk) match whole: 1.8.8.8.8 is not under 8.8.8.8
            parts = [host] if host[-1:].isdigit() or ":" in host else host.split(".") if host else []
            for k in range(len(parts)):
                owner.append(i)
                depth.append(len(parts) - k)
                cands.append(".".join(parts[k:]))
        best = np.full(len(hosts), -1, np.int64)
        if not cands:
            return best
        h = hash_entries(cands)
        score = np.full(len(cands), -1, np.int64)
        label = np.full(len(cands), -1, np.int64)
        base = np.asarray(depth, np.int64) << 20
        for t, remap, rank in zip(self.tables, self._remap, self._rank, strict=True):
            if not len(t.hashes):
                continue
            pos = np.minimum(np.searchsorted(t.hashes, h), len(t.hashes) - 1)
            hit = np.flatnonzero(t.hashes[pos] == h)
            code = t.codes[pos[hit]]
            s = base[hit] + ((1 << 20) - 1 - rank[code])
            better = s > score[hit]
            score[hit[better]], label[hit[better]] = s[better], remap[code[better]]
        own = np.asarray(owner, np.int64)
        order = np.lexsort((score, own))  # per host, the best candidate comes last
        last = np.ones(len(order), bool)
        last[:-1] = own[order][1:] != own[order][:-1]
        pick = order[last]
        best[own[pick]] = label[pick]
        return best

    def _remembered(self, hosts: list[str | None]) -> np.ndarray:
        """``_best`` of each host as logged, worked out once per host for the life of this store.

        Detect asks again and again for the same hosts: once for every bucket
        of a day, and each bucket's dictionary holds nearly all of the day's
        hosts. A day of 20,000 hosts in 4 buckets spent 1.3 s here.
        """
        with self._lock:
            remember(
                self._known,
                hosts,
                lambda new: self._best([normalise(h) if h else "" for h in new]).tolist(),
                KNOWN_HOSTS,
            )
            return np.fromiter((self._known[h] for h in hosts), np.int64, len(hosts))

    def lookup(self, host: str) -> tuple[str, str] | None:
        """(category, source list) for one host, or None if no list covers it."""
        got = int(self._best([normalise(host)])[0])
        return None if got < 0 else self.labels[got]

    def categorise(self, hosts: pa.Array | pa.ChunkedArray) -> tuple[pa.DictionaryArray, pa.DictionaryArray]:
        """Category and source list of every host in a column (null where no list covers it, or no host)."""
        enc = hosts if pa.types.is_dictionary(hosts.type) else pc.dictionary_encode(hosts)
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks() if enc.num_chunks else pa.array([], pa.dictionary(pa.int32(), pa.string()))
        best = self._remembered(enc.dictionary.to_pylist())
        used = np.unique(best[best >= 0])
        idx = indices(enc, len(best))
        out = []
        for part in (0, 1):
            names = sorted({self.labels[i][part] for i in used})
            code = np.full(len(self.labels) + 1, -1, np.int32)  # best == -1 reads the last slot
            code[used] = [names.index(self.labels[i][part]) for i in used]
            per_host = np.append(code[best], np.int32(-1))  # int32 indices, as the schema has them: no cast
            rows = np.take(per_host, idx)
            labels = pa.array(names, pa.string())  # codes index ``names`` by construction: unchecked
            out.append(pa.DictionaryArray.from_arrays(masked(rows, rows < 0), labels, safe=False))
        return out[0], out[1]


def lookup(host: str, ws: Workspace | None = None) -> tuple[str, str] | None:
    """(category, source list) of one host, from the shipped lists plus ``ws``'s imports."""
    return Categories.load(ws).lookup(host)


def categorise(
    hosts: pa.Array | pa.ChunkedArray, ws: Workspace | None = None
) -> tuple[pa.DictionaryArray, pa.DictionaryArray]:
    """Category and source list of every host (shipped lists, plus ``ws``'s imports if given)."""
    return Categories.load(ws).categorise(hosts)


# import ---------------------------------------------------------------------------------------------


def _manifest(root: Path) -> dict:
    try:
        return json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CategoryError(f"{root / 'manifest.json'}: unreadable: {exc}") from exc


def _load_imports(root: Path) -> list[tuple[str, dict, tuple[np.ndarray, np.ndarray, list[str]]]]:
    """Every imported list set, newest first, from its index (rebuilt from the text if stale)."""
    out = []
    for name, meta in sorted(_manifest(root).items(), key=lambda kv: kv[1]["imported_at"], reverse=True):
        try:
            with np.load(root / name / "index.npz") as z:
                if int(z["probe"]) != PROBE_HASH:
                    raise ValueError("made by a different hash")
                out.append((name, meta, (z["hashes"], z["codes"], [str(c) for c in z["categories"]])))
                continue
        except (OSError, ValueError, KeyError) as exc:
            log.warning("%s: rebuilding the index from the text lists (%s)", root / name, exc)
        try:
            lists = {c: _read_lines((root / name / f"{c}.txt").read_bytes(), name) for c in meta["lists"]}
        except OSError as exc:
            raise CategoryError(f"{root / name}: imported list missing: {exc}; import it again") from exc
        out.append((name, meta, compile_lists(lists)))
    return out


def _read_lines(data: bytes, where: str) -> pa.Array:
    """Every line of a text file as an Arrow string array, read vectorised (lists run to 100 MB)."""
    opts = pacsv.ParseOptions(delimiter="\x1f", quote_char=False, invalid_row_handler=lambda row: "skip")
    read = pacsv.ReadOptions(column_names=["line"], block_size=1 << 24)
    conv = pacsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False)
    for attempt in (data, data.decode("utf-8", "replace").encode()):
        try:
            return pacsv.read_csv(pa.BufferReader(attempt), read, opts, conv).column("line").combine_chunks()
        except pa.ArrowInvalid as exc:
            if "Empty CSV" in str(exc):
                return pa.array([], pa.string())
    raise CategoryError(f"{where}: not a text list")
