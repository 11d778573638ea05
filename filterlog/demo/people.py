"""The people and the clock of a demo school: who is in, on which device and IP, and when lessons run.

Split from the traffic generator because it is the part a school would change
(its year groups, its day), while the generator is the vectorised machinery.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from . import data


def curve(points: tuple[tuple[str, float], ...]) -> np.ndarray:
    """Piecewise-linear activity level for each of the 1440 minutes of a day."""
    return np.interp(np.arange(1440), [data.hms(t) / 60 for t, _ in points], [w for _, w in points])


def minute_ms(day: date, tz: str) -> np.ndarray:
    """Epoch milliseconds at the start of each local minute of ``day`` (GMT/BST aware)."""
    zone = ZoneInfo(tz)
    starts = [datetime.combine(day, time(m // 60, m % 60), tzinfo=zone).timestamp() for m in range(1440)]
    return (np.array(starts) * 1000).astype(np.int64)


def lesson_mask() -> np.ndarray:
    """True for minutes inside lessons, widened by a minute so bursts never spill into one."""
    mask = np.zeros(1440, dtype=bool)
    for start, end in data.LESSONS:
        mask[int(data.hms(start) // 60) - 1 : int(data.hms(end) // 60) + 1] = True
    return mask


def iso(ms: int, millis: bool = True) -> str:
    """ISO-8601 UTC text for epoch milliseconds."""
    text = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (text[:-3] if millis else text[:-7]) + "Z"


@dataclass
class Population:
    """Users, their devices and DHCP addresses; a slot is one device with one address."""

    names: list[str]  # user names; index 0 is "-"
    groups: list[str]  # parallel to names
    slot_ip: list[str]
    slot_device: list[str]
    slot_kind: np.ndarray  # index into data.DEVICE_KINDS
    slot_staff: np.ndarray  # bool
    slot_weight: np.ndarray  # relative activity
    slot_user_a: np.ndarray  # user index (into names)
    slot_user_b: np.ndarray  # user after the device changes hands (same as a unless shared)
    slot_swap_ms: np.ndarray  # epoch ms of the change (int64 max if never)


def population(rng: np.random.Generator, users: int, minute_ms: np.ndarray) -> Population:
    """Draw staff and pupils, give each a device and an address; a few library PCs are shared."""
    n_staff = max(8, round(users * 0.12))
    weights = np.array(data.YEAR_WEIGHTS) / sum(data.YEAR_WEIGHTS)
    years = rng.choice(len(data.YEAR_GROUPS), users - n_staff, p=weights)
    names, groups, seen = ["-"], ["-"], {"-"}
    for i in range(users):
        first = data.FIRST_NAMES[rng.integers(len(data.FIRST_NAMES))]
        last = data.SURNAMES[rng.integers(len(data.SURNAMES))]
        if i < n_staff:
            base, group = f"{first[0]}.{last}", "staff"
        else:
            year = int(years[i - n_staff])
            base, group = f"y{year + 7}.{first[0]}{last}", data.YEAR_GROUPS[year]
        name, k = base, 1
        while name in seen:
            k += 1
            name = f"{base}{k}"
        seen.add(name)
        names.append(name)
        groups.append(group)
    n_shared = max(2, users // 150)
    b_users = rng.choice(np.arange(n_staff + 1, users + 1), n_shared, replace=False)
    slot_users = np.setdiff1d(np.arange(1, users + 1), b_users)
    n = len(slot_users)
    staff = slot_users <= n_staff
    n_kinds = len(data.DEVICE_KINDS)
    kinds = np.where(
        staff,
        rng.choice(n_kinds, n, p=data.STAFF_DEVICE_WEIGHTS),
        rng.choice(n_kinds, n, p=data.PUPIL_DEVICE_WEIGHTS),
    )
    shared = rng.choice(np.flatnonzero(~staff), n_shared, replace=False)
    kinds[shared] = 0
    user_b = slot_users.copy()
    user_b[shared] = b_users
    swap = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    swap[shared] = minute_ms[rng.integers(690, 810, n_shared)] + rng.integers(0, 60_000, n_shared)
    addr = rng.choice(64 * 253, n, replace=False)
    rooms = ("S1", "S4", "S7", "H2", "M3", "IT1", "IT2", "E5", "G1", "A2")
    shared_set = set(shared.tolist())
    devices = []
    for i, k in enumerate(kinds.tolist()):
        prefix = data.DEVICE_KINDS[k][0]
        room = "LIB" if i in shared_set else rooms[i % len(rooms)]
        devices.append(f"PC-{room}-{i:04d}" if prefix == "PC" else f"{prefix}-{i:04d}")
    return Population(
        names=names,
        groups=groups,
        slot_ip=[f"10.20.{a // 253}.{a % 253 + 1}" for a in addr.tolist()],
        slot_device=devices,
        slot_kind=kinds,
        slot_staff=staff,
        slot_weight=rng.gamma(3.0, 1.0, n),
        slot_user_a=slot_users,
        slot_user_b=user_b,
        slot_swap_ms=swap,
    )


def write_identity(pop: Population, minute_ms: np.ndarray, ip_map: Path, groups: Path) -> None:
    """Write the DHCP lease map (one row per address and holder) and the group membership CSVs."""
    start, end = iso(int(minute_ms[0]), millis=False), iso(int(minute_ms[-1]) + 60_000, millis=False)
    rows = []
    for s, ip in enumerate(pop.slot_ip):
        a, b, device = pop.names[pop.slot_user_a[s]], pop.names[pop.slot_user_b[s]], pop.slot_device[s]
        if a == b:
            rows.append((ip, a, device, start, end))
        else:
            swap = iso(int(pop.slot_swap_ms[s]), millis=False)
            rows += [(ip, a, device, start, swap), (ip, b, device, swap, end)]
    rows.sort(key=lambda r: (tuple(map(int, r[0].split("."))), r[3]))
    with ip_map.open("w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([("ip", "user", "device", "valid_from", "valid_to"), *rows])
    with groups.open("w", newline="") as f:
        pairs = sorted(zip(pop.names[1:], pop.groups[1:], strict=True))
        csv.writer(f, lineterminator="\n").writerows([("user", "group"), *pairs])
