"""Enrichment: what each event knows beyond the log line (domain, category, person, working time)."""

from .domains import ip_literals, registered_domains

__all__ = ["ip_literals", "registered_domains"]
