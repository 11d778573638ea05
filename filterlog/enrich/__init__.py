"""Enrichment: what each event knows beyond the log line (domain, category, person, working time)."""

from .calendar import in_working_hours, local_dates, minute_of_day, working_seconds, working_windows
from .domains import ip_literals, registered_domains
from .search import search_terms

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
