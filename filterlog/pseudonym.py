"""Pseudonymised exports: findings, summaries and the incident register with nobody named.

A school shares data (with its trust, a researcher, the local authority) and
governors sometimes want more than the counts of their own report. Both need
to follow one person through the data without learning who it is. So every
value that names a person (user name, client address, device, reviewer) is
replaced by a pseudonym ``p-`` + 12 hex digits of HMAC-SHA256 under a secret
kept in the workspace (``secret.key``, 32 random bytes, owner-only, made on
first use, never printed):

* **Stable within a workspace**: the same person gets the same pseudonym in
  every export, so a findings file and a summary can be joined.
* **Different between workspaces**, and not reversible without the key: a
  list of the school's likely user names cannot be hashed and matched, as
  it could with a plain hash.
* **One namespace for every column**: the value alone decides the pseudonym
  (after trimming and lower-casing), so a person named by address in the
  summary's ``user`` column joins the same address in the findings'
  ``client_ip`` column.

``finding_id`` is itself a plain hash of the rule, the person and the time, so
anyone with candidate user names could confirm who a finding is about; it is
replaced by ``f-`` + 16 hex digits of an HMAC (still stable, so the incident
register and the findings still join). Free text (a finding's ``detail``, an
incident's ``outcome`` and ``notes``) keeps its words but has every name and
address the workspace knows (the export's own, every stored finding's, the
incident register's, the groups file's) replaced by that value's pseudonym,
matched as a whole word in any case. The limit: text can name someone in a
way filterlog does not know (a full name in a note, a nickname in a search
term); that is not found, so free text shared outside the school still needs
a reader's eye. A very short user name that is also a word is replaced
wherever the word occurs, which errs on the side of privacy.
Domains, categories, groups and evidence line references are not personal and
are kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar, overload

import pyarrow as pa
import pyarrow.compute as pc

from .errors import WorkspaceError
from .workspace import Workspace

SECRET_FILE = "secret.key"
"""The workspace's pseudonym key, beside ``filterlog.db``."""
SECRET_BYTES = 32

IDENTITY_COLUMNS: tuple[str, ...] = ("user", "client_ip", "user_raw", "ip_user", "device", "reviewed_by")
"""Columns whose values name a person: replaced whole by the value's pseudonym."""
ID_COLUMNS: tuple[str, ...] = ("finding_id",)
"""Columns holding an unkeyed hash of a person: replaced by a keyed one."""
TEXT_COLUMNS: tuple[str, ...] = ("detail", "outcome", "notes")
"""Free-text columns: names and addresses inside them are replaced."""

PLACEHOLDERS = frozenset({"", "?", "-"})
"""Values that stand for "nobody known": left as they are."""

T = TypeVar("T")
_WORD = re.compile(r"\w")


def secret(ws: Workspace) -> bytes:
    """The workspace's key, created (0600, exclusively, whole or not at all) the first time it is needed."""
    path = ws.root / SECRET_FILE
    ws.create()
    if not path.exists():
        tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, secrets.token_bytes(SECRET_BYTES))
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)  # atomic and refuses to replace: two first uses agree on one key
            except FileExistsError:
                pass
        except OSError as exc:
            raise WorkspaceError(f"{path}: cannot create the pseudonym key: {exc.strerror or exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot read the pseudonym key: {exc.strerror or exc}") from exc
    if len(key) != SECRET_BYTES:
        raise WorkspaceError(
            f"{path}: the pseudonym key is damaged ({len(key)} bytes, not {SECRET_BYTES}); restore it from a backup "
            "(a new key would give everyone new pseudonyms)"
        )
    return key


def pseudonym(key: bytes, value: str) -> str:
    """The pseudonym of one name or address under ``key``: ``p-`` and 12 hex digits."""
    norm = value.strip().lower().encode("utf-8", "surrogatepass")
    return "p-" + hmac.new(key, b"filterlog-person:" + norm, hashlib.sha256).hexdigest()[:12]


def finding_pseudonym(key: bytes, finding_id: str) -> str:
    """A keyed stand-in for a finding id: ``f-`` and 16 hex digits."""
    digest = hmac.new(key, b"filterlog-finding:" + finding_id.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return "f-" + digest.hexdigest()[:16]


def _distinct_all(column: pa.ChunkedArray | pa.Array) -> list[str]:
    return pc.unique(pc.drop_null(pc.cast(column, pa.string()))).to_pylist()


def _distinct(column: pa.ChunkedArray | pa.Array) -> list[str]:
    """The distinct values that name someone (placeholders such as ``-`` left out)."""
    return [v for v in _distinct_all(column) if v.strip() not in PLACEHOLDERS]


def _map(column: pa.ChunkedArray | pa.Array, mapping: dict[str, str]) -> pa.ChunkedArray:
    """Replace each value by ``mapping[value]`` (others kept) on the whole column: look up, take, fill back."""
    text = pc.cast(column, pa.string())
    if isinstance(text, pa.Array):
        text = pa.chunked_array([text], pa.string())
    if not mapping:
        return text
    index = pc.index_in(text, value_set=pa.array(list(mapping), pa.string()))
    mapped = pc.take(pa.array(list(mapping.values()), pa.string()), index)
    return pc.coalesce(mapped, text)


def _replacer(names: Iterable[str], texts: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern matching every name that occurs in ``texts`` as a whole word (any case), longest first.

    A name is only put in the pattern if it occurs in the text at all (a fast
    substring test), so a long list of people costs little.
    """
    blob = "\n".join(texts).lower()
    present = sorted({n.strip().lower() for n in names if n.strip() and n.strip().lower() in blob}, key=len)[::-1]
    if not present:
        return None
    parts = []
    for name in present:
        left = r"(?<!\w)" if _WORD.match(name[0]) else ""
        right = r"(?!\w)" if _WORD.match(name[-1]) else ""
        parts.append(left + re.escape(name) + right)
    return re.compile("|".join(parts), re.IGNORECASE)


def _scrub(column: pa.ChunkedArray | pa.Array, key: bytes, names: list[str]) -> pa.ChunkedArray | pa.Array:
    texts = _distinct_all(column)
    pattern = _replacer(names, texts)
    if pattern is None:
        return column
    done = {t: pattern.sub(lambda m: pseudonym(key, m.group(0)), t) for t in texts}
    return _map(column, {t: s for t, s in done.items() if s != t})


def known_people(ws: Workspace) -> set[str]:
    """Every name and address the workspace knows cheaply: stored findings, the register, the groups file.

    Free text is checked against all of them, not only the export's own
    people: a note about one pupil may name another.
    """
    from . import findings as store
    from .enrich.identity import load_groups

    found = store.read(ws)
    names = {v for c in ("user", "client_ip") for v in _distinct(found.column(c))}
    for row in ws.db.execute("SELECT DISTINCT user, client_ip, reviewed_by FROM incidents"):
        names.update(v for v in row if v and v.strip() not in PLACEHOLDERS)
    groups = ws.config.identity.groups
    if groups:
        path = Path(groups).expanduser()
        names.update(u for u in load_groups(path if path.is_absolute() else ws.root / path) if u)
    return names


def _table(ws: Workspace, table: pa.Table, columns: Iterable[str] | None) -> pa.Table:
    key = secret(ws)
    identity = [c for c in (IDENTITY_COLUMNS if columns is None else columns) if c in table.column_names]
    names = sorted({v for c in identity for v in _distinct(table.column(c))})
    people = {n: pseudonym(key, n) for n in names}
    if any(c in table.column_names for c in TEXT_COLUMNS):
        names = sorted(set(names) | known_people(ws))
    for name in table.column_names:
        column = table.column(name)
        if name in identity:
            new: Any = _map(column, people)
        elif name in ID_COLUMNS:
            new = _map(column, {i: finding_pseudonym(key, i) for i in _distinct_all(column)})
        elif name in TEXT_COLUMNS:
            new = _scrub(column, key, names)
        else:
            continue
        field = pa.field(name, pa.string(), nullable=table.schema.field(name).nullable)
        table = table.set_column(table.column_names.index(name), field, new)
    return table


@overload
def pseudonymise(ws: Workspace, table: pa.Table, columns: Iterable[str] | None = None) -> pa.Table: ...
@overload
def pseudonymise(ws: Workspace, table: list[T], columns: Iterable[str] | None = None) -> list[T]: ...
def pseudonymise(ws: Workspace, table: pa.Table | list[T], columns: Iterable[str] | None = None) -> pa.Table | list[T]:
    """``table`` with every person replaced by their pseudonym in this workspace (see the module notes).

    ``table`` is an Arrow table (findings, the summary, the unreviewed queue)
    or a list of dataclass records (the incident register), returned as the
    same kind. ``columns`` names the identity columns (default: every column
    of ``IDENTITY_COLUMNS`` present); ``finding_id`` and the free-text columns
    are always treated when present. Replaced columns become plain strings.
    """
    if isinstance(table, pa.Table):
        return _table(ws, table, columns)
    items = list(table)
    if not items:
        return items
    if not dataclasses.is_dataclass(items[0]):
        raise TypeError(f"pseudonymise takes an Arrow table or dataclass records, not {type(items[0]).__name__}")
    wanted = {*(IDENTITY_COLUMNS if columns is None else columns), *ID_COLUMNS, *TEXT_COLUMNS}
    fields = [f.name for f in dataclasses.fields(items[0]) if f.name in wanted]  # type: ignore[arg-type]
    if not fields:
        return items
    data = pa.table({f: pa.array([getattr(i, f) for i in items], pa.string()) for f in fields})
    done = _table(ws, data, columns).to_pylist()
    return [dataclasses.replace(i, **row) for i, row in zip(items, done, strict=True)]  # type: ignore[type-var]
