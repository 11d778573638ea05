"""Who was behind an address, and in which group: the time-bounded map and its precedence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filterlog.enrich.identity import attribute, load_groups, load_ip_map, people
from filterlog.errors import ConfigError

MAP = """ip,user,device,valid_from,valid_to
10.20.1.15,SCHOOL\\JSmith,CB-0101,2026-11-18T08:00:00Z,2026-11-18T12:00:00Z
10.20.1.15,y9.abrown@school.local,CB-0202,2026-11-18T12:00:00Z,2026-11-18T16:00:00Z
10.20.1.16,t.jones,LAPTOP-7,,
10.20.1.17,k.lee,PC-9,2026-11-18T09:00:00Z,2026-11-18T10:00:00Z
"""


def _at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-18T{hhmm}:00+00:00").astimezone(UTC)


@pytest.fixture
def ip_map(tmp_path: Path):
    path = tmp_path / "ip_map.csv"
    path.write_text(MAP)
    return load_ip_map(path)


@pytest.mark.parametrize(
    ("ip", "hhmm", "user", "device"),
    [
        ("10.20.1.15", "09:00", "jsmith", "CB-0101"),
        ("10.20.1.15", "11:59", "jsmith", "CB-0101"),
        ("10.20.1.15", "12:00", "y9.abrown", "CB-0202"),  # the same address, reused after lunch
        ("10.20.1.15", "15:59", "y9.abrown", "CB-0202"),
        ("10.20.1.15", "16:00", None, None),  # lease over
        ("10.20.1.15", "07:59", None, None),  # before the first lease
        ("10.20.1.16", "03:00", "t.jones", "LAPTOP-7"),  # open-ended lease
        ("10.20.1.99", "09:00", None, None),  # not in the map
        ("10.20.1.17", "08:59", None, None),  # an address's only lease, not begun
        ("10.20.1.17", "09:00", "k.lee", "PC-9"),
        ("10.20.1.17", "10:00", None, None),  # ... and over
    ],
)
def test_address_is_attributed_by_time(ip_map, ip: str, hhmm: str, user: str | None, device: str | None) -> None:
    users, devices = attribute(pa.array([_at(hhmm)], pa.timestamp("ms", tz="UTC")), pa.array([ip]), ip_map)
    assert users.to_pylist() == [user]
    assert devices.to_pylist() == [device]


def test_logged_user_wins_and_groups_follow_the_person(tmp_path: Path, ip_map) -> None:
    groups = tmp_path / "groups.csv"
    groups.write_text("user,group\njsmith,staff\nY9.ABrown,year9\n")
    times = pa.array([_at("09:00"), _at("13:00"), _at("13:00")], pa.timestamp("ms", tz="UTC"))
    mapped, _ = attribute(times, pa.array(["10.20.1.15"] * 3), ip_map)
    user, group = people(pa.array([None, None, "k.lee"]), mapped, load_groups(groups))
    assert user.to_pylist() == ["jsmith", "y9.abrown", "k.lee"]
    assert group.to_pylist() == ["staff", "year9", None]
    assert mapped.to_pylist() == ["jsmith", "y9.abrown", "y9.abrown"]  # kept beside the logged name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("address,user\n1.2.3.4,a\n", "missing column"),
        ("ip,user,valid_from\n1.2.3.4,a,yesterday\n", ":2: valid_from"),
        ("ip,user,valid_from,valid_to\n1.2.3.4,a,2026-11-18T10:00:00Z,2026-11-18T09:00:00Z\n", ":2: valid_to"),
    ],
)
def test_bad_maps_are_refused_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "map.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_ip_map(path)


def test_demo_identity_files_load(tmp_path: Path) -> None:
    from filterlog.demo import generate_day

    day = generate_day(tmp_path, lines=3_000)
    ip_map = load_ip_map(day.ip_map)
    groups = load_groups(day.groups)
    assert len(ip_map) > 100 and len(groups) > 100


def _chunked_dictionary(*chunks: list[str | None]) -> pa.ChunkedArray:
    """What detect reads: one dictionary per Parquet file, each with its own values and order."""
    return pa.chunked_array([pa.array(c, pa.string()).dictionary_encode() for c in chunks])


def test_dictionary_inputs_give_the_same_people_as_plain_strings(tmp_path: Path, ip_map) -> None:
    groups = tmp_path / "groups.csv"
    groups.write_text("user,group\njsmith,staff\nk.lee,year7\n")
    hours = ["09:00", "13:00", "13:00", "09:00", "17:00"]
    times = pa.array([_at(h) for h in hours], pa.timestamp("ms", tz="UTC"))
    ips = ["10.20.1.15", "10.20.1.15", "10.20.1.16", "10.20.1.99", None]
    logged = [None, "k.lee", None, "k.lee", None]
    plain_user, plain_group = people(pa.array(logged), attribute(times, pa.array(ips), ip_map)[0], load_groups(groups))
    mapped, devices = attribute(times, _chunked_dictionary(ips[:2], ips[2:]), ip_map)
    user, group = people(_chunked_dictionary(logged[:3], logged[3:]), mapped, load_groups(groups))
    assert user.to_pylist() == plain_user.to_pylist() == ["jsmith", "k.lee", "t.jones", "k.lee", None]
    assert group.to_pylist() == plain_group.to_pylist() == ["staff", "year7", None, "year7", None]
    assert devices.to_pylist() == ["CB-0101", "CB-0202", "LAPTOP-7", None, None]
    assert pa.types.is_dictionary(user.type) and pa.types.is_dictionary(mapped.type)


def test_who_is_the_user_else_the_address_on_codes() -> None:
    from filterlog.enrich.identity import coalesce_codes

    who = coalesce_codes(
        _chunked_dictionary(["a", None], [None, "b"]), _chunked_dictionary(["1.1.1.1", "2.2.2.2"], ["a", None])
    )
    assert who.to_pylist() == ["a", "2.2.2.2", "a", "b"]
    assert coalesce_codes(pa.array([], pa.string()), pa.array([], pa.string())).to_pylist() == []
    # codes read from the index buffers: slices, all-null chunks, and null slots holding a real code (of "y")
    coded = pa.array(["x", None, "y", None, "x"]).dictionary_encode()
    slots = np.where(np.asarray(coded.is_valid()), coded.indices.fill_null(0), 1).astype(np.int32)
    wild = pa.DictionaryArray.from_arrays(pa.array(slots, mask=~np.asarray(coded.is_valid())), coded.dictionary)
    first = pa.chunked_array([wild.slice(1), pa.nulls(2, wild.type), wild.slice(0, 1)])
    second = pa.chunked_array([pa.array(["s1", "s2", "s3", "s4", "s5", "s6", "s7"]).dictionary_encode()])
    assert coalesce_codes(first, second).to_pylist() == ["s1", "y", "s3", "x", "s5", "s6", "x"]


_HOURS = st.integers(min_value=0, max_value=23)


@settings(max_examples=60, deadline=None)
@given(
    leases=st.lists(st.tuples(st.integers(0, 3), _HOURS, st.integers(1, 6)), max_size=8),
    events=st.lists(st.tuples(st.integers(0, 4), _HOURS, st.booleans()), min_size=1, max_size=30),
)
def test_attribution_matches_a_lease_by_lease_search(tmp_path_factory, leases, events) -> None:
    """Against the definition: the lease of the event's address whose [from, to) holds its time."""
    rows = ["ip,user,device,valid_from,valid_to"]
    kept: list[tuple[int, int, int, str]] = []
    taken: dict[int, list[tuple[int, int]]] = {}
    for i, (ip, start, hours) in enumerate(leases):
        end = start + hours
        if any(start < b and a < end for a, b in taken.get(ip, [])):
            continue  # a map gives one holder at a time
        taken.setdefault(ip, []).append((start, end))
        kept.append((ip, start, end, f"u{i}"))
        stamp = "2026-11-18T{:02d}:00:00Z"
        rows.append(f"10.0.0.{ip},u{i},d{i},{stamp.format(start)},{stamp.format(end) if end < 24 else ''}")
    path = tmp_path_factory.mktemp("map") / "ip_map.csv"
    path.write_text("\n".join(rows) + "\n")
    ip_map = load_ip_map(path)
    times = pa.array([_at(f"{h:02d}:{30 if half else 0:02d}") for _, h, half in events], pa.timestamp("ms", tz="UTC"))
    ips = pa.array([f"10.0.0.{ip}" for ip, _, _ in events])
    users, devices = attribute(times, ips, ip_map)
    want = []
    for ip, hour, half in events:
        t = hour + (0.5 if half else 0)
        holders = [u for i, a, b, u in kept if i == ip and a <= t < (b if b < 24 else np.inf)]
        want.append(holders[0] if holders else None)
    assert users.to_pylist() == want
    assert devices.to_pylist() == [None if w is None else "d" + w[1:] for w in want]
