"""Enrich a table of events: everything the rules need that the log line alone does not say.

Enrichment is computed from the events, the site configuration and the lists,
not stored with the events, so a changed working day or a newly imported list
applies to old events too. Every step works on whole columns or on their
distinct values.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from ..config import Config
from ..schema import ENRICHED_COLUMNS, ENRICHED_SCHEMA, conform
from ..workspace import Workspace
from .calendar import in_working_hours
from .domains import distinct, registered_domains
from .identity import IpMap, attribute, load_groups, load_ip_map, people
from .search import search_terms


class Categoriser(Protocol):
    """Anything that can name the category of each host in a column, and the list it came from."""

    def categorise(self, hosts: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
        """Category and source list per host (null where no list has it)."""
        ...


@dataclass
class Enricher:
    """The configuration, identity map, groups and lists that enrichment reads, loaded once."""

    config: Config = field(default_factory=Config)
    ip_map: IpMap | None = None
    groups: dict[str, str] = field(default_factory=dict)
    categories: Categoriser | None = None

    @classmethod
    def from_config(cls, config: Config, base: Path, categories: Categoriser | None = None) -> Enricher:
        """Load the identity files the configuration names (relative paths are relative to ``base``)."""
        ip_map = load_ip_map(_path(config.identity.ip_map, base)) if config.identity.ip_map else None
        groups = load_groups(_path(config.identity.groups, base)) if config.identity.groups else {}
        return cls(config, ip_map, groups, categories)

    @classmethod
    def from_workspace(cls, ws: Workspace) -> Enricher:
        """Everything a workspace configures: its site config, identity files, shipped and imported lists."""
        from .categories import Categories

        return cls.from_config(ws.config, ws.root, Categories.load(ws))

    def __call__(
        self, events: pa.Table, search: bool = True, per_host: Callable[[], dict[str, pa.Array]] | None = None
    ) -> pa.Table:
        """Events with the enrichment columns added (schema ``ENRICHED_SCHEMA``, less any event columns left out).

        Needs at least time, client_ip, user, device, host, path and query.
        ``search=False`` leaves ``search_terms`` null (``parallel`` fills it in afterwards).
        ``per_host``: gives the columns ``by_host`` would for these rows, worked out elsewhere (asked last).
        """
        n = events.num_rows
        cols: dict[str, Any] = {name: events.column(name) for name in events.column_names}
        if self.ip_map is not None:
            ip_user, ip_device = attribute(events.column("time"), events.column("client_ip"), self.ip_map)
            cols["ip_user"] = ip_user
            logged = events.column("device")
            if logged.null_count == len(logged):  # most logs name no device: the map's, as it is
                cols["device"] = ip_device
            else:
                cols["device"] = pc.coalesce(pc.cast(logged, pa.string()), pc.cast(ip_device, pa.string()))
        else:
            cols["ip_user"] = pa.nulls(n, pa.string())
        cols["user"], cols["group"] = people(events.column("user"), cols["ip_user"], self.groups)
        hours, zone = self.config.working_hours, self.config.site.timezone
        cols["in_working_hours"] = in_working_hours(events.column("time"), hours, zone)
        cols.update(self.by_host(events.column("host")) if per_host is None else per_host())
        if search:
            cols["search_terms"] = search_terms(events, cols["domain"])
        for c in ENRICHED_COLUMNS:
            cols.setdefault(c.name, pa.nulls(n, c.type))
        # A caller may leave out event columns it does not need (detect skips the URL text), and may pass
        # string columns dictionary-encoded (detect reads user agents and addresses so): then the people,
        # addresses and devices made here stay dictionary-encoded too, and no per-event strings are built.
        keep = "client_ip" in events.column_names and pa.types.is_dictionary(events.schema.field("client_ip").type)
        schema = pa.schema([_as_given(f, events, cols, keep) for f in ENRICHED_SCHEMA if f.name in cols])
        return conform(pa.table(cols), schema)

    def parallel(self, events: pa.Table, threads: int = 2, min_rows: int = 100_000, search: bool = True) -> pa.Table:
        """The same as calling the enricher, with the rows split between ``threads`` threads.

        Enrichment is whole-column Arrow and numpy work that releases the GIL,
        so halves run side by side. What is worked out per distinct host
        (``by_host``) is worked out once, for all the rows, while the pieces
        do the rest: they share their hosts. Search terms are found afterwards on the
        whole table: collapsing one person's type-ahead keystrokes must see
        the keystrokes on both sides of the split. Below ``min_rows`` threads cost more than they save.
        ``search=False`` leaves search terms null (reports that only count need no paths or queries).
        """
        n = events.num_rows
        if threads < 2 or n < max(min_rows, threads):
            return self(events, search=search)
        step = -(-n // threads)
        starts = range(0, n, step)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="filterlog-enrich") as pool:
            # once for all the rows, on a thread of its own: the pieces share their hosts, and wait for it last
            found = pool.submit(self.by_host, events.column("host"))

            def piece(start: int) -> pa.Table:
                def share() -> dict[str, pa.Array]:
                    return {name: column.slice(start, step) for name, column in found.result().items()}

                return self(events.slice(start, step), search=False, per_host=share)

            parts = list(pool.map(piece, starts))
        table = pa.concat_tables(parts)
        return self.with_search_terms(table) if search else table

    def by_host(self, hosts: pa.Array | pa.ChunkedArray) -> dict[str, pa.Array]:
        """Per row: the registered domain, and the category and its list, worked out once per distinct host.

        Both go through every distinct host in Python (remembered answers still
        cost a lookup each), so ``parallel`` asks once for all its pieces: a
        bucket's dictionary holds nearly all of a day's hosts, and on a day
        naming 200,000 hosts each call takes about 0.1 s.
        """
        enc = distinct(hosts)
        found = {"domain": registered_domains(enc)}
        if self.categories is not None:
            found["category"], found["category_source"] = self.categories.categorise(enc)
        return found

    def with_search_terms(self, table: pa.Table) -> pa.Table:
        """An enriched table (made with ``search=False``) with its search terms filled in, from the whole table."""
        index = table.schema.get_field_index("search_terms")
        field = table.schema.field(index)
        terms = pc.cast(search_terms(table, table.column("domain")), field.type)
        return table.set_column(index, field, terms)


def _as_given(field: pa.Field, events: pa.Table, cols: dict[str, Any], keep: bool) -> pa.Field:
    """The schema's field, or a dictionary type where the schema wants plain strings.

    An input column given dictionary-encoded stays so; with ``keep``, so does
    every string column enrichment made dictionary-encoded (people, devices).
    """
    if field.type != pa.string():
        return field
    if keep:
        given = cols[field.name].type
    elif field.name in events.column_names:
        given = events.schema.field(field.name).type
    else:
        return field
    if pa.types.is_dictionary(given) and given.value_type == pa.string():
        return field.with_type(given)
    return field


def _path(text: str, base: Path) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path
