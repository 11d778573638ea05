"""Build small, readable rule cases: a few Squid log lines in, findings out.

Cases are written as real Squid native lines (with referer and user agent) and
go through the real reader, the real enrichment and the real rule, so a rule
test exercises exactly what a school's log would.

    day = Day("2026-11-18")                       # a Wednesday, Europe/London
    day.deny("09:12:04", "www.bet365.com:443", user="alice")
    day.get("09:13:00", "https://www.bbc.co.uk/", 50_000, user="bob")
    found = day.findings("repeated-blocked", attempts=3)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from filterlog.config import Config
from filterlog.enrich.categories import Categories
from filterlog.enrich.events import Enricher
from filterlog.ingest.squid import SquidNative
from filterlog.rules.context import Context
from filterlog.rules.engine import run_rules, select_rules
from filterlog.workspace import Workspace

_CATEGORIES: Categories | None = None


def categories() -> Categories:
    global _CATEGORIES  # noqa: PLW0603 - loaded once for the whole test session
    if _CATEGORIES is None:
        _CATEGORIES = Categories.load()
    return _CATEGORIES


class Day:
    """Log lines of one local day (site time zone), written with wall-clock times like ``"09:12:04.5"``."""

    def __init__(self, day: str = "2026-11-18", timezone: str = "Europe/London", groups: dict[str, str] | None = None):
        self.day = date.fromisoformat(day)
        self.tz = ZoneInfo(timezone)
        self.timezone = timezone
        self.lines: list[tuple[float, str]] = []
        self.groups = groups or {}

    def epoch(self, clock: str, day_offset: int = 0) -> float:
        h, m, *rest = clock.split(":")
        s = float(rest[0]) if rest else 0.0
        local = datetime.combine(self.day + timedelta(days=day_offset), datetime.min.time(), self.tz)
        local = local.replace(hour=int(h), minute=int(m)) + timedelta(seconds=s)
        return local.timestamp()

    def line(
        self,
        at: str | float,
        url: str,
        nbytes: int = 1_000,
        *,
        code: str = "TCP_MISS/200",
        method: str = "GET",
        user: str = "alice",
        ip: str = "10.0.0.5",
        elapsed: int = 120,
        mime: str = "text/html",
        ref: str = "-",
        ua: str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        day_offset: int = 0,
    ) -> Day:
        t = self.epoch(at, day_offset) if isinstance(at, str) else float(at)
        fields = f"{t:.3f} {elapsed:6d} {ip} {code} {nbytes} {method} {url} {user} HIER_DIRECT/1.2.3.4 {mime}"
        text = f'{fields} "{ref}" "{ua}"'
        self.lines.append((t, text))
        return self

    def get(self, at: str | float, url: str, nbytes: int = 1_000, **kw: Any) -> Day:
        """An allowed request (GET unless ``method=``)."""
        return self.line(at, url, nbytes, **kw)

    def connect(self, at: str | float, hostport: str, nbytes: int = 5_000, *, elapsed: int = 30_000, **kw: Any) -> Day:
        """An allowed CONNECT tunnel that closed at ``at`` after ``elapsed`` ms."""
        kw.setdefault("code", "TCP_TUNNEL/200")
        kw.setdefault("mime", "-")
        return self.line(at, hostport, nbytes, method="CONNECT", elapsed=elapsed, **kw)

    def deny(self, at: str | float, target: str, **kw: Any) -> Day:
        """A blocked request: a URL (GET) or ``host:port`` (CONNECT), answered with a block page."""
        method = kw.pop("method", "GET" if "://" in target else "CONNECT")
        kw.setdefault("code", "TCP_DENIED/403")
        return self.line(at, target, kw.pop("nbytes", 3_900), method=method, elapsed=kw.pop("elapsed", 1), **kw)

    def challenge(self, at: str | float, hostport: str, **kw: Any) -> Day:
        """A 407 proxy-authentication challenge (user '-')."""
        kw.setdefault("user", "-")
        return self.line(at, hostport, 3_950, code="TCP_DENIED/407", method="CONNECT", elapsed=0, **kw)

    # running -------------------------------------------------------------
    def text(self) -> str:
        return "".join(text + "\n" for _, text in sorted(self.lines, key=lambda p: p[0]))

    def events(self) -> pa.Table:
        parsed = SquidNative("UTC").parse(self.text().encode(), 1)
        assert parsed.bad_lines is None or len(parsed.bad_lines) == 0, parsed.bad_reasons
        return parsed.events

    def config(self, rule: str | None = None, **params: Any) -> Config:
        data: dict[str, Any] = {"site": {"timezone": self.timezone}}
        if rule and params:
            data["rules"] = {rule: params}
        return Config.from_dict(data)

    def context(self, config: Config | None = None) -> Context:
        config = config or self.config()
        enriched = Enricher(config, groups=self.groups, categories=categories())(self.events())
        return Context(enriched, config)

    def findings(self, rule: str, **params: Any) -> list[dict[str, Any]]:
        """The rule's findings as plain dicts, in time order."""
        config = self.config(rule, **params)
        table = run_rules(self.context(config), select_rules(config, [rule]))
        return table.sort_by("start").to_pylist()

    def who(self, rule: str, **params: Any) -> set[str]:
        """Users the rule flags."""
        return {f["user"] or f["client_ip"] for f in self.findings(rule, **params)}

    def workspace(self, root: Path) -> Workspace:
        """A real workspace in ``root`` holding these lines: config written, log ingested, findings detected.

        For report tests: the log is ``root/logs/access.log``; groups, if any, are a real groups CSV.
        """
        from filterlog.ingest import ingest
        from filterlog.rules import detect

        logs = root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / "access.log"
        log.write_text(self.text(), encoding="utf-8")
        ws = Workspace(root / "workspace").create()
        toml = ws.config_path.read_text(encoding="utf-8")
        toml = toml.replace('timezone = "Europe/London"', f'timezone = "{self.timezone}"', 1)
        if self.groups:
            groups = logs / "groups.csv"
            groups.write_text("user,group\n" + "".join(f"{u},{g}\n" for u, g in self.groups.items()), encoding="utf-8")
            toml = toml.replace('groups = ""', f'groups = "{groups}"', 1)
        ws.config_path.write_text(toml, encoding="utf-8")
        report = ingest(ws, [log])
        assert not report.failed, report.summary()
        with ws.lock():
            detect(ws)
        return ws
