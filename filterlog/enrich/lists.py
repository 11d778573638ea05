"""Importing category lists a school downloads: UT1 (tarball or folder), hosts files, plain lists.

Kept apart from the lookup because it is the slow, one-off, file-handling half:
it reads untrusted files, normalises and de-duplicates millions of entries, and
stores them in the workspace as sorted text plus a compiled index that
:class:`~filterlog.enrich.categories.Categories` loads in milliseconds.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import shutil
import tarfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .categories import (
    PROBE_HASH,
    CategoryError,
    _manifest,
    _read_lines,
    compile_lists,
    normalise,
)

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)


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


_HOSTS_LINE = r"^\s*(?:0\.0\.0\.0|127\.0\.0\.1|::1?|::|0|255\.255\.255\.255)\s+(?P<d>[^\s#]+)"


_VALID = r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$"


_HOSTS_JUNK = {"localhost", "localhost.localdomain", "broadcasthost", "local", "0.0.0.0", "ip6-localhost"}


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


_STAGED = re.compile(r"^\.(tmp|old)-(.+)-[0-9a-f]{8}$")


def recover(root: Path) -> None:
    """Finish what an import killed half-way through ``_store`` left in ``root`` (a workspace's categories/).

    A set being written (``.tmp-*``) is dropped; the set it was to replace
    (``.old-*``) goes back in place if the new one never got there, else it goes.
    """
    if not root.is_dir():
        return
    for staged in sorted(root.iterdir(), key=lambda p: p.name.startswith(".old-")):  # .tmp- first
        m = _STAGED.match(staged.name)
        if not m or not staged.is_dir():
            continue
        if m[1] == "old" and not (root / m[2]).exists():
            staged.rename(root / m[2])
        else:
            shutil.rmtree(staged, ignore_errors=True)


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
