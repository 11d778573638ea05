"""HTML reports from Jinja2 templates, with every value escaped.

Reports print URLs, user names and search terms that came out of a log, and a
pupil can make those say anything, ``<script>`` included. The environment
escapes every ``{{ value }}`` (autoescape on for all templates, whatever their
name), so a template cannot forget to; only the embedded chart images, which
filterlog itself made, are marked safe, and only through ``image``.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from .. import __version__
from ..output import clean
from ..schema import SEVERITIES


@cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment: package templates, autoescape always, undefined names an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("filterlog.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["size"] = size
    env.filters["number"] = number
    env.filters["clock"] = clock
    env.filters["printable"] = printable
    env.globals["image"] = image
    env.globals["version"] = __version__
    env.globals["severities"] = SEVERITIES
    return env


def render(template: str, **context: Any) -> str:
    """A template rendered with ``context``; the result is a whole HTML document."""
    return environment().get_template(template).render(**context)


def image(data_uri: str, alt: str, width: int | None = None) -> Markup:
    """An ``<img>`` for a chart made by ``charts.png_data_uri`` (the only markup a template may insert unescaped)."""
    if not data_uri.startswith("data:image/png;base64,"):
        raise ValueError("image() takes only the PNG data URIs that filterlog's charts make")
    size_attr = f' width="{int(width)}"' if width else ""
    return Markup(f'<img src="{data_uri}" alt="{escape(alt)}"{size_attr}>')


def size(value: int | float | None) -> str:
    """Bytes for people: 1.2 GB, 340 MB, 12 kB (decimal units, as proxies and ISPs count)."""
    if value is None:
        return "–"
    value = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 100 else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def number(value: int | float | None) -> str:
    """A count with thousands separators."""
    return "–" if value is None else f"{value:,.0f}"


def clock(value: datetime | date | None, timezone: str = "UTC", fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC timestamp on the site's clock (dates pass through)."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).strftime(fmt)
    return value.isoformat()


def printable(value: Any) -> str:
    """Text with control characters (escape sequences, NULs) shown as ``?``; escaping for HTML happens after."""
    return "" if value is None else clean(str(value))
