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

import gzip
import json
import logging
import os
import re
import shutil
import tarfile
import tomllib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import FilterlogError

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

PRECEDENCE = (
    "allow", "adult", "selfharm", "extremism", "violence", "tor", "vpn", "proxy", "tunnels", "doh",
    "hacking", "gambling", "drugs", "dating", "filesharing", "games", "streaming", "social",
    "sports_news", "shopping", "webmail", "ads",
)  # fmt: skip
"""Which category an entry keeps when one list set holds it twice (UT1 often does); others follow by name."""
UT1_NAMES = {
    "adult": "adult", "agressif": "violence", "gambling": "gambling", "games": "games",
    "social_networks": "social", "audio-video": "streaming", "radio": "streaming", "vpn": "vpn",
    "redirector": "proxy", "doh": "doh", "hacking": "hacking", "webmail": "webmail", "dating": "dating",
    "shopping": "shopping", "filehosting": "filesharing", "publicite": "ads", "sports": "sports_news",
    "drogue": "drugs",
}  # fmt: skip
"""UT1 folder → our category where they mean the same; other UT1 categories keep their own names."""
UT1_LICENCE = "CC BY-SA 4.0; attribution: Fabrice Prigent, Université Toulouse Capitole (UT1 blacklists)"
OTHER_LICENCE = "the publisher's terms (not recorded: check before sharing)"
SHIPPED_MANIFEST = "MANIFEST.toml"
_HOSTS_LINE = r"^\s*(?:0\.0\.0\.0|127\.0\.0\.1|::1?|::|0|255\.255\.255\.255)\s+(?P<d>[^\s#]+)"
_VALID = r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$"
_HOSTS_JUNK = {"localhost", "localhost.localdomain", "broadcasthost", "local", "0.0.0.0", "ip6-localhost"}


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


class Categories:
    """The category store: shipped lists plus a workspace's imports, searched longest suffix first."""

    def __init__(self, tables: list[_Table], infos: list[ListInfo]) -> None:
        """Tables in tie-break order, most trusted first (shipped, then imports newest first)."""
        self.tables, self.infos = tables, infos
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

    def lookup(self, host: str) -> tuple[str, str] | None:
        """(category, source list) for one host, or None if no list covers it."""
        got = int(self._best([normalise(host)])[0])
        return None if got < 0 else self.labels[got]

    def categorise(self, hosts: pa.Array | pa.ChunkedArray) -> tuple[pa.DictionaryArray, pa.DictionaryArray]:
        """Category and source list of every host in a column (null where no list covers it, or no host)."""
        enc = hosts if pa.types.is_dictionary(hosts.type) else pc.dictionary_encode(hosts)
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks() if enc.num_chunks else pa.array([], pa.dictionary(pa.int32(), pa.string()))
        best = self._best([normalise(h) if h else "" for h in enc.dictionary.to_pylist()])
        used = np.unique(best[best >= 0])
        out = []
        for part in (0, 1):
            names = sorted({self.labels[i][part] for i in used})
            code = np.full(len(self.labels) + 1, -1, np.int32)  # best == -1 reads the last slot
            code[used] = [names.index(self.labels[i][part]) for i in used]
            per_host = np.append(code[best], -1)
            idx = pc.fill_null(enc.indices, len(best)).to_numpy(zero_copy_only=False)
            rows = per_host[idx.astype(np.int64)]
            out.append(pa.DictionaryArray.from_arrays(pa.array(rows, mask=rows < 0), pa.array(names, pa.string())))
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


@dataclass
class ImportResult:
    """What one ``categories import`` stored."""

    name: str
    """The list set's name in the workspace (``ut1``, or the file's stem)."""
    format: str
    lists: dict[str, int] = field(default_factory=dict)
    dropped: int = 0
    """Non-blank, non-comment lines that were not a domain name."""

    @property
    def entries(self) -> int:
        """Entries stored, over all its categories."""
        return sum(self.lists.values())


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


def _clean(lines: pa.Array, hosts: bool) -> tuple[pa.Array, int]:
    """Normalised, valid, unique domains, and how many non-comment lines were not domains."""
    s = lines  # the regex passes cost ~1 s per 5M lines: run them only on lists that need them
    if pc.any(pc.match_substring(s, "#")).as_py():
        s = pc.replace_substring_regex(s, r"#.*$", "")
    s = pc.utf8_trim_whitespace(s)
    nonblank = int(pc.sum(pc.not_equal(s, "")).as_py() or 0)
    if hosts:
        s = pc.struct_field(pc.extract_regex(s, _HOSTS_LINE), [0])
        s = pc.if_else(pc.is_in(s, pa.array(sorted(_HOSTS_JUNK))), None, s)
    s = pc.utf8_rtrim(pc.utf8_lower(s), characters=".")
    if pc.any(pc.or_(pc.starts_with(s, "."), pc.starts_with(s, "*"))).as_py():
        s = pc.replace_substring_regex(s, r"^\*?\.", "")
    if not pc.all(pc.string_is_ascii(s)).as_py():  # IDN entries: rare, so per string
        s = pa.array([x if x is None or x.isascii() else normalise(x) for x in s.to_pylist()], pa.string())
    kept = s.filter(pc.fill_null(pc.match_substring_regex(s, _VALID), False))
    return kept, nonblank - len(kept)


def _sorted_unique(arr: pa.Array) -> pa.Array:
    """Sorted, without repeats (one sort, then neighbours compared: cheaper than unique + sort)."""
    arr = arr.take(pc.array_sort_indices(arr))
    if len(arr) < 2:
        return arr
    keep = pa.concat_arrays([pa.array([True]), pc.not_equal(arr.slice(1), arr.slice(0, len(arr) - 1))])
    return arr.filter(keep)


def _ut1_files(path: Path) -> list[tuple[str, bytes]]:
    """(UT1 category, bytes of its ``domains``) from a UT1 directory or tarball."""
    if path.is_dir():
        files = sorted(path.glob("*/domains")) or sorted(path.glob("*/*/domains"))
        return [(f.parent.name, f.read_bytes()) for f in files]
    with tarfile.open(path, "r:*") as tar:
        out = []
        for m in tar:
            parts = m.name.split("/")
            if m.isfile() and len(parts) >= 2 and parts[-1] == "domains" and (fh := tar.extractfile(m)):
                out.append((parts[-2], fh.read()))
        return out


def _sniff(path: Path, head: bytes) -> str:
    if b"\0" in head:
        raise CategoryError(f"{path}: not a domain list, hosts file or UT1 tarball")
    lines = [ln for ln in head.decode("utf-8", "replace").splitlines()[:500] if ln.strip() and ln[0] != "#"]
    hosts = sum(bool(re.match(_HOSTS_LINE, ln)) for ln in lines)
    return "hosts" if lines and hosts * 2 >= len(lines) else "plain"


def import_lists(path: str | Path, ws: Workspace, category: str | None = None) -> ImportResult:
    """Import a UT1 tarball or directory, a hosts file or a plain list into ``ws``'s ``categories/``.

    A UT1 import is stored as ``ut1`` (replacing an earlier one); a file as its stem,
    its entries under ``category`` (default: the stem). Nothing touches the network.
    """
    path = Path(path)
    try:
        if path.is_dir() or (path.is_file() and tarfile.is_tarfile(path)):
            fmt, name, files = "ut1", "ut1", _ut1_files(path)
            if not files:
                raise CategoryError(f"{path}: no <category>/domains files: not a UT1 list tree")
            if category:
                raise CategoryError(f"{path}: a UT1 tree names its own categories: drop --category")
        else:
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            name = re.sub(r"[^a-z0-9_-]+", "_", path.name.lower().split(".")[0]).strip("_") or "list"
            name = "ut1_list" if name == "ut1" else name  # "ut1" is the UT1 import's own name
            fmt, files = _sniff(path, data[:65536]), [(category or name, data)]
    except (OSError, EOFError, tarfile.TarError, gzip.BadGzipFile) as exc:
        raise CategoryError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
    result, found = ImportResult(name, fmt), {}
    for cat, data in files:
        ours = UT1_NAMES.get(cat, cat) if fmt == "ut1" else cat
        if not re.fullmatch(r"[a-z0-9_-]+", ours):
            raise CategoryError(f"{path}: bad category name {ours!r} (letters, digits, - and _ only)")
        good, dropped = _clean(_read_lines(data, f"{path}:{cat}"), hosts=fmt == "hosts")
        found.setdefault(ours, []).append(good)
        result.dropped += dropped
    merged = {c: arr for c, parts in found.items() if len(arr := _sorted_unique(pa.concat_arrays(parts)))}
    if not merged:
        raise CategoryError(f"{path}: no domain names found")
    result.lists = {cat: len(arr) for cat, arr in sorted(merged.items())}
    licence = UT1_LICENCE if fmt == "ut1" else OTHER_LICENCE
    meta = {"path": str(path.resolve()), "format": fmt, "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "licence": licence, "lists": result.lists, "dropped": result.dropped}  # fmt: skip
    with ws.lock():
        _store(ws.root / "categories", name, merged, meta)
    return result


def _store(root: Path, name: str, lists: dict[str, pa.Array], meta: dict) -> None:
    """Write one list set (text + index) beside the others, then swap it in and record it in the manifest."""
    tmp = root / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True, mode=0o700)
    try:
        for cat, arr in lists.items():
            write = pacsv.WriteOptions(include_header=False, quoting_style="none")
            pacsv.write_csv(pa.table({"d": arr}), tmp / f"{cat}.txt", write)
        h, c, cats = compile_lists(lists)
        np.savez(tmp / "index.npz", hashes=h, codes=c, categories=np.array(cats), probe=np.uint64(PROBE_HASH))
        final, old = root / name, root / f".old-{name}-{uuid.uuid4().hex[:8]}"
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        manifest = _manifest(root)
        manifest[name] = meta
        (root / ".manifest.tmp").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(root / ".manifest.tmp", root / "manifest.json")
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
