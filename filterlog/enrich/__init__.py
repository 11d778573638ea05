"""Enrichment: what each event knows beyond the log line (domain, category, person, working time).

The names below load their module on first use (PEP 562): ingest needs only
``calendar`` (each event's local date), and ``search`` imports pandas, 0.2-0.4 s
that every ingest command and every Dask worker's first task would pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .calendar import in_working_hours, local_dates, minute_of_day, working_seconds, working_windows
    from .domains import ip_literals, registered_domains
    from .search import search_terms

_WHERE = {
    "in_working_hours": "calendar",
    "local_dates": "calendar",
    "minute_of_day": "calendar",
    "working_seconds": "calendar",
    "working_windows": "calendar",
    "ip_literals": "domains",
    "registered_domains": "domains",
    "search_terms": "search",
}

__all__ = [
    "in_working_hours",
    "ip_literals",
    "local_dates",
    "minute_of_day",
    "registered_domains",
    "search_terms",
    "working_seconds",
    "working_windows",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
