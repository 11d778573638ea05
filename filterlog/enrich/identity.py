"""The person and device behind an IP address, and the group a person belongs to.

Many school proxies log no user name, or only for some traffic; the DHCP lease
or logon records say who held an address when. The map is time-bounded because
addresses are reused during a day. A user name the proxy logged always wins
over the map, and both are kept, so a disagreement is visible in an audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..errors import ConfigError
from ..ingest.base import normalise_user

_FOREVER = np.iinfo(np.int64).max
_COLUMNS = ("ip", "user", "device", "valid_from", "valid_to", "group")
_SPAN = 1 << 42
"""Milliseconds up to the year 2109 fit below this, so (address, time) packs into one int64 key."""


@dataclass(frozen=True)
class IpMap:
    """Leases sorted by (ip, valid_from): who held which address from when until when."""

    ips: pa.Array
    """The distinct addresses, in code order."""
    ip_code: np.ndarray
    start_ms: np.ndarray
    end_ms: np.ndarray
    users: pa.Array
    devices: pa.Array

    def __len__(self) -> int:
        return len(self.ip_code)


def _read(path: Path, required: tuple[str, ...]) -> pa.Table:
    try:
        table = pcsv.read_csv(
            path,
            convert_options=pcsv.ConvertOptions(
                strings_can_be_null=True, column_types=dict.fromkeys(required, pa.string())
            ),
        )
    except (OSError, pa.ArrowInvalid) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise ConfigError(f"{path}:1: missing column(s) {', '.join(missing)} (header: {', '.join(table.column_names)})")
    return table


def _times(table: pa.Table, name: str, path: Path, default: int) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, default, dtype=np.int64)
    text = pc.utf8_trim_whitespace(pc.cast(table.column(name), pa.string()))
    iso = pc.replace_substring_regex(text, r"Z$", "+0000")
    iso = pc.replace_substring_regex(iso, r"([+-]\d\d):(\d\d)$", r"\1\2")
    iso = pc.replace_substring_regex(iso, r"\.\d+", "")
    iso = pc.replace_substring(iso, " ", "T")
    stamp = pc.strptime(iso, format="%Y-%m-%dT%H:%M:%S%z", unit="ms", error_is_null=True)
    parsed = pc.cast(pc.cast(stamp, pa.timestamp("ms", tz="UTC")), pa.int64())
    bad = pc.and_(pc.is_valid(text), pc.and_(pc.not_equal(text, ""), pc.is_null(parsed)))
    if pc.any(bad).as_py():
        row = int(np.flatnonzero(np.asarray(pc.fill_null(bad, False)))[0])
        raise ConfigError(f"{path}:{row + 2}: {name} is not an ISO-8601 time with zone (e.g. 2026-11-18T08:00:00Z)")
    return np.asarray(pc.fill_null(parsed, default), dtype=np.int64)


def load_ip_map(path: Path) -> IpMap:
    """Read ``ip,user[,device][,valid_from,valid_to]``; open-ended where the times are empty."""
    table = _read(path, ("ip", "user"))
    start = _times(table, "valid_from", path, np.iinfo(np.int64).min)
    end = _times(table, "valid_to", path, _FOREVER)
    bad = np.flatnonzero(end <= start)
    if len(bad):
        raise ConfigError(f"{path}:{int(bad[0]) + 2}: valid_to is not after valid_from")
    enc = pc.dictionary_encode(pc.utf8_trim_whitespace(pc.cast(table.column("ip"), pa.string()))).combine_chunks()
    code = np.asarray(enc.indices.fill_null(-1), dtype=np.int64)
    order = np.lexsort((start, code))
    take = pa.array(order)
    users = pc.cast(table.column("user"), pa.string()).take(take)
    devices = (
        pc.cast(table.column("device"), pa.string())
        if "device" in table.column_names
        else pa.nulls(table.num_rows, pa.string())
    ).take(take)
    norm = pa.array([normalise_user(u) for u in users.to_pylist()], pa.string())
    return IpMap(enc.dictionary, code[order], start[order], end[order], norm, devices)


def load_groups(path: Path) -> dict[str, str]:
    """Read ``user,group``; user names are normalised as event user names are."""
    table = _read(path, ("user", "group"))
    users = [normalise_user(u) for u in table.column("user").to_pylist()]
    return {u: g for u, g in zip(users, table.column("group").to_pylist(), strict=True) if u and g}


def attribute(
    times: pa.Array | pa.ChunkedArray, ips: pa.Array | pa.ChunkedArray, ip_map: IpMap
) -> tuple[pa.Array, pa.Array]:
    """The user and device that held each event's address at its time (null where unknown)."""
    n = len(times)
    if not len(ip_map) or not n:
        return pa.nulls(n, pa.string()), pa.nulls(n, pa.string())
    ip_text = pc.cast(ips, pa.string())
    code = np.asarray(pc.fill_null(pc.index_in(ip_text, value_set=ip_map.ips), -1), dtype=np.int64)
    ms = np.asarray(pc.fill_null(pc.cast(times, pa.int64()), 0), dtype=np.int64)
    # One sorted key per lease, (address code, start time), so one binary search finds the
    # last lease of the event's address that began at or before the event.
    lease_key = ip_map.ip_code * _SPAN + np.clip(ip_map.start_ms, 0, _SPAN - 1)
    event_key = code * _SPAN + np.clip(ms, 0, _SPAN - 1)
    pos = np.searchsorted(lease_key, event_key, side="right") - 1
    ok = (code >= 0) & (pos >= 0)
    safe = np.maximum(pos, 0)
    ok &= (ip_map.ip_code[safe] == code) & (ms < ip_map.end_ms[safe])
    take = pa.array(safe, mask=~ok)
    return ip_map.users.take(take), ip_map.devices.take(take)


def people(
    logged: pa.Array | pa.ChunkedArray,
    mapped: pa.Array | pa.ChunkedArray,
    groups: dict[str, str],
) -> tuple[pa.Array, pa.Array]:
    """The person for each event (logged user, else the map's) and that person's group."""
    user = pc.coalesce(pc.cast(logged, pa.string()), pc.cast(mapped, pa.string()))
    enc = pc.dictionary_encode(user)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    group = pa.array([groups.get(u) for u in enc.dictionary.to_pylist()], pa.string()).take(enc.indices)
    return user, group
