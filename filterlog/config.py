"""Site configuration (``filterlog.toml``) as frozen dataclasses.

All defaults live in ``DEFAULT_TOML``, the commented file written into a new
workspace, so a school sees every setting it can change in one place.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

DEFAULT_TOML = """\
# filterlog site configuration. Written once with these defaults; edit freely,
# filterlog never overwrites it. Times are local to [site].timezone.

[site]
name = "Example School"
timezone = "Europe/London"     # IANA name; local dates and working hours use it

[working_hours]                # non-business use is judged only inside these
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:30"
end = "15:30"
breaks = [["10:30", "10:50"], ["12:10", "13:00"]]   # breaks and lunch: excluded
holidays = []                  # ["2026-12-21..2027-01-01", "2027-02-15"]

[identity]
ip_map = ""                    # CSV: ip,user[,device][,valid_from,valid_to]
groups = ""                    # CSV: user,group   (e.g. staff, year7)

[ingest]
block_mb = 16                  # text parsed per step; memory grows with this, not with file size
file_rows = 200000             # events gathered into one events file: detect reads larger files faster
settle_seconds = 60            # a last line without newline in a file changed this recently is still
                               # being written: it is left for the next run rather than stored cut short

[detect]
memory_gb = 2                  # detect stays well under this: a day too large for it is judged in
                               # buckets of people, spilled to disk first (slower). Each GB judges
                               # 1.25M events at once (a 10M-event day whole needs 8; it peaks near 3).
                               # The workers of --scheduler local:N share it; a running cluster's
                               # workers have it each

[storage]
events = ""                    # where events and quarantine are kept: "" is this workspace folder;
                               # or an fsspec URL every Dask worker reaches, e.g. "s3://bucket/school"
                               # (its package, such as s3fs, installed; credentials from the environment).
                               # The database, findings and reports stay here. Set it before the first
                               # ingest: changing it later moves nothing (copy events/ and quarantine/ over;
                               # until then ingest and detect refuse the new setting)

# Any rule's thresholds can be overridden, e.g.
# [rules.repeated-blocked]
# attempts = 3
"""

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _clock(value: Any, where: str) -> time:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise ConfigError(f"{where}: expected a time as HH:MM, got {value!r}")
    return time.fromisoformat(value)


@dataclass(frozen=True)
class Site:
    """Who the school is and which clock it lives by."""

    name: str = "Example School"
    timezone: str = "Europe/London"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"[site] timezone: unknown time zone {self.timezone!r}") from exc

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class WorkingHours:
    """The working day; breaks and lunch are not working time."""

    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: time = time(8, 30)
    end: time = time(15, 30)
    breaks: tuple[tuple[time, time], ...] = ((time(10, 30), time(10, 50)), (time(12, 10), time(13, 0)))
    holidays: tuple[tuple[date, date], ...] = ()
    """Inclusive date ranges with no working hours."""

    def __post_init__(self) -> None:
        for d in self.days:
            if d not in _DAYS:
                raise ConfigError(f"[working_hours] days: unknown day {d!r} (use {', '.join(_DAYS)})")
        if self.start >= self.end:
            raise ConfigError("[working_hours] start must be before end")
        for a, b in self.breaks:
            if a >= b:
                raise ConfigError(f"[working_hours] breaks: {a:%H:%M} is not before {b:%H:%M}")


@dataclass(frozen=True)
class Identity:
    """Where to find who was behind an IP address, and which group they belong to."""

    ip_map: str = ""
    groups: str = ""


@dataclass(frozen=True)
class Ingest:
    """How ingest trades memory for speed."""

    block_mb: int = 16
    file_rows: int = 200_000
    """Events gathered from consecutive blocks into one events file (``ingest.gather``)."""
    settle_seconds: int = 60
    """A file modified less than this long ago may end in a half-written line."""

    def __post_init__(self) -> None:
        if not 1 <= self.block_mb <= 1024:
            raise ConfigError("[ingest] block_mb must be between 1 and 1024")
        if (
            isinstance(self.file_rows, bool)
            or not isinstance(self.file_rows, int)
            or not 1 <= self.file_rows <= 1 << 26
        ):
            raise ConfigError("[ingest] file_rows must be a whole number between 1 and 67108864")
        if self.settle_seconds < 0:
            raise ConfigError("[ingest] settle_seconds must not be negative")


@dataclass(frozen=True)
class Detect:
    """How detect trades memory for speed."""

    memory_gb: float = 2.0
    """The budget that sizes the buckets of a large day (``rules.buckets.bucket_rows``)."""

    def __post_init__(self) -> None:
        if isinstance(self.memory_gb, bool) or not isinstance(self.memory_gb, int | float) or self.memory_gb <= 0:
            raise ConfigError(f"[detect] memory_gb must be a number of gigabytes above 0, not {self.memory_gb!r}")


@dataclass(frozen=True)
class Storage:
    """Where the events are kept (``storage.EventStore``)."""

    events: str = ""
    """A URL (``scheme://...``), or "" for the workspace folder."""

    def __post_init__(self) -> None:
        if not isinstance(self.events, str):
            raise ConfigError(f'[storage] events must be a URL in quotes, or "", not {self.events!r}')
        if self.events and "://" not in self.events:
            raise ConfigError(
                f'[storage] events must be a URL such as s3://bucket/school, or "" for the workspace folder,'
                f" not {self.events!r}"
            )


@dataclass(frozen=True)
class Config:
    """The whole site configuration."""

    site: Site = field(default_factory=Site)
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    identity: Identity = field(default_factory=Identity)
    ingest: Ingest = field(default_factory=Ingest)
    detect: Detect = field(default_factory=Detect)
    storage: Storage = field(default_factory=Storage)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per-rule parameter overrides, keyed by rule id."""

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "filterlog.toml") -> Config:
        """Build and validate a Config from parsed TOML."""
        known = {"site", "working_hours", "identity", "ingest", "detect", "storage", "rules"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"{where}: unknown section(s) {sorted(unknown)}")
        try:
            wh = dict(data.get("working_hours", {}))
            if "start" in wh:
                wh["start"] = _clock(wh["start"], "[working_hours] start")
            if "end" in wh:
                wh["end"] = _clock(wh["end"], "[working_hours] end")
            if "days" in wh:
                wh["days"] = tuple(str(d).lower()[:3] for d in wh["days"])
            if "breaks" in wh:
                wh["breaks"] = tuple(
                    (_clock(a, "[working_hours] breaks"), _clock(b, "[working_hours] breaks")) for a, b in wh["breaks"]
                )
            if "holidays" in wh:
                wh["holidays"] = tuple(_holiday(h) for h in wh["holidays"])
            return cls(
                site=Site(**data.get("site", {})),
                working_hours=WorkingHours(**wh),
                identity=Identity(**data.get("identity", {})),
                ingest=Ingest(**data.get("ingest", {})),
                detect=Detect(**data.get("detect", {})),
                storage=Storage(**data.get("storage", {})),
                rules={str(k): dict(v) for k, v in data.get("rules", {}).items()},
            )
        except TypeError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from exc


def _holiday(value: Any) -> tuple[date, date]:
    text = str(value)
    first, _, last = text.partition("..")
    try:
        a = date.fromisoformat(first)
        b = date.fromisoformat(last) if last else a
    except ValueError as exc:
        raise ConfigError(f"[working_hours] holidays: {text!r} is not YYYY-MM-DD or a range A..B") from exc
    if b < a:
        raise ConfigError(f"[working_hours] holidays: range {text!r} ends before it starts")
    return a, b


def load(path: Path) -> Config:
    """Read ``filterlog.toml``; a missing file means all defaults."""
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return Config.from_dict(data, where=str(path))
