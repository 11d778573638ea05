"""Working hours on the site's local clock: DST days, breaks, holidays, other zones, tunnel spans."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filterlog.config import WorkingHours
from filterlog.enrich import in_working_hours, local_dates, minute_of_day, working_seconds, working_windows

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
TS = pa.timestamp("ms", tz="UTC")

DEFAULT = WorkingHours()
HOLIDAYS = WorkingHours(holidays=((date(2026, 12, 21), date(2027, 1, 1)), (date(2027, 2, 15), date(2027, 2, 15))))


def utc(text: str) -> datetime:
    """'2026-06-10 07:45' (or with seconds/ms) as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str, zone: str = LONDON) -> datetime:
    """A wall-clock time in ``zone`` as the UTC instant it names."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def col(*values: datetime | None) -> pa.Array:
    return pa.array(list(values), TS)


# --------------------------------------------------------------------------- in_working_hours

POINTS = [
    # UK clocks go forward on Sunday 2026-03-29 and back on Sunday 2026-10-25.
    ("spring change day (Sunday)", utc("2026-03-29 09:00"), DEFAULT, LONDON, False),
    ("autumn change day (Sunday)", utc("2026-10-25 09:00"), DEFAULT, LONDON, False),
    ("Mon after spring change 08:30 BST", utc("2026-03-30 07:30"), DEFAULT, LONDON, True),
    ("Mon after spring change 08:29 BST", utc("2026-03-30 07:29"), DEFAULT, LONDON, False),
    ("Mon after spring change 08:30 UTC is 09:30 BST", utc("2026-03-30 08:30"), DEFAULT, LONDON, True),
    ("Mon after spring change 15:30 BST", utc("2026-03-30 14:30"), DEFAULT, LONDON, False),
    ("Mon after spring change 15:29 BST", utc("2026-03-30 14:29"), DEFAULT, LONDON, True),
    ("Fri before spring change 08:30 GMT", utc("2026-03-27 08:30"), DEFAULT, LONDON, True),
    ("Fri before spring change 07:30 GMT", utc("2026-03-27 07:30"), DEFAULT, LONDON, False),
    ("Fri before autumn change 07:30 UTC is 08:30 BST", utc("2026-10-23 07:30"), DEFAULT, LONDON, True),
    ("Fri before autumn change 14:30 UTC is 15:30 BST", utc("2026-10-23 14:30"), DEFAULT, LONDON, False),
    ("Mon after autumn change 08:30 GMT", utc("2026-10-26 08:30"), DEFAULT, LONDON, True),
    ("Mon after autumn change 07:30 GMT", utc("2026-10-26 07:30"), DEFAULT, LONDON, False),
    ("Mon after autumn change 15:29 GMT", utc("2026-10-26 15:29"), DEFAULT, LONDON, True),
    ("Mon after autumn change 15:30 GMT", utc("2026-10-26 15:30"), DEFAULT, LONDON, False),
    ("June 07:45 UTC is 08:45 BST", utc("2026-06-10 07:45"), DEFAULT, LONDON, True),
    ("June 15:10 UTC is 16:10 BST", utc("2026-06-10 15:10"), DEFAULT, LONDON, False),
    ("exactly 08:30", local("2026-11-23 08:30"), DEFAULT, LONDON, True),
    ("a millisecond before 08:30", local("2026-11-23 08:29:59.999"), DEFAULT, LONDON, False),
    ("exactly 15:30", local("2026-11-23 15:30"), DEFAULT, LONDON, False),
    ("a millisecond before 15:30", local("2026-11-23 15:29:59.999"), DEFAULT, LONDON, True),
    ("break 10:40", local("2026-11-23 10:40"), DEFAULT, LONDON, False),
    ("break starts 10:30", local("2026-11-23 10:30"), DEFAULT, LONDON, False),
    ("break ends 10:50", local("2026-11-23 10:50"), DEFAULT, LONDON, True),
    ("lunch 12:30", local("2026-11-23 12:30"), DEFAULT, LONDON, False),
    ("lunch starts 12:10", local("2026-11-23 12:10"), DEFAULT, LONDON, False),
    ("lunch ends 13:00", local("2026-11-23 13:00"), DEFAULT, LONDON, True),
    ("lunch in June (BST)", local("2026-06-10 12:30"), DEFAULT, LONDON, False),
    ("Saturday", local("2026-11-21 10:00"), DEFAULT, LONDON, False),
    ("Sunday", local("2026-11-22 10:00"), DEFAULT, LONDON, False),
    ("Friday", local("2026-11-27 10:00"), DEFAULT, LONDON, True),
    ("holiday range first day", local("2026-12-21 10:00"), HOLIDAYS, LONDON, False),
    ("holiday range middle", local("2026-12-29 10:00"), HOLIDAYS, LONDON, False),
    ("holiday range last day", local("2027-01-01 10:00"), HOLIDAYS, LONDON, False),
    ("day before holiday range", local("2026-12-18 10:00"), HOLIDAYS, LONDON, True),
    ("first day back", local("2027-01-04 10:00"), HOLIDAYS, LONDON, True),
    ("single holiday", local("2027-02-15 10:00"), HOLIDAYS, LONDON, False),
    ("day after single holiday", local("2027-02-16 10:00"), HOLIDAYS, LONDON, True),
    ("holiday range ignored without config", local("2026-12-21 10:00"), DEFAULT, LONDON, True),
    ("New York 14:00 EST is 19:00 UTC", utc("2026-11-23 19:00"), DEFAULT, NEW_YORK, True),
    ("same instant in London", utc("2026-11-23 19:00"), DEFAULT, LONDON, False),
    ("New York 04:00 EST is 09:00 UTC", utc("2026-11-23 09:00"), DEFAULT, NEW_YORK, False),
    ("US already on EDT, UK not yet on BST", utc("2026-03-16 12:40"), DEFAULT, NEW_YORK, True),
    ("UTC site", utc("2026-06-10 08:30"), DEFAULT, "UTC", True),
    ("UTC site, not shifted", utc("2026-06-10 07:45"), DEFAULT, "UTC", False),
    ("Sunday working week", local("2026-11-22 10:00"), WorkingHours(days=("sun", "mon")), LONDON, True),
    ("Sunday week, Tuesday off", local("2026-11-24 10:00"), WorkingHours(days=("sun", "mon")), LONDON, False),
    ("no breaks", local("2026-11-23 12:30"), WorkingHours(breaks=()), LONDON, True),
]


@pytest.mark.parametrize(("when", "hours", "zone", "expected"), [p[1:] for p in POINTS], ids=[p[0] for p in POINTS])
def test_in_working_hours(when: datetime, hours: WorkingHours, zone: str, expected: bool) -> None:
    assert in_working_hours(col(when), hours, zone).to_pylist() == [expected]


def test_in_working_hours_whole_column_keeps_order_and_nulls_are_false() -> None:
    whens = [p[1] for p in POINTS if p[2] is DEFAULT and p[3] == LONDON]
    expected = [p[4] for p in POINTS if p[2] is DEFAULT and p[3] == LONDON]
    column = col(None, *whens, None)
    result = in_working_hours(column, DEFAULT, LONDON)
    assert result.type == pa.bool_()
    assert result.null_count == 0
    assert result.to_pylist() == [False, *expected, False]


@pytest.mark.parametrize(
    "column",
    [
        pa.chunked_array([col(local("2026-11-23 09:00")), col(None, local("2026-11-23 17:00"))]),
        pa.chunked_array([], TS),
        col(),
        pa.array([local("2026-11-23 09:00"), None, local("2026-11-23 17:00")], pa.timestamp("us", tz="UTC")),
        pa.array([local("2026-11-23 09:00"), None, local("2026-11-23 17:00")], pa.timestamp("ms", tz=LONDON)),
    ],
    ids=["chunked", "chunked-empty", "empty", "microseconds", "other-tz-label"],
)
def test_in_working_hours_input_shapes(column: pa.Array | pa.ChunkedArray) -> None:
    result = in_working_hours(column, DEFAULT, LONDON)
    assert isinstance(result, pa.Array)
    assert result.to_pylist() == [True, False, False][: len(column)]


def _reference(when: datetime, hours: WorkingHours, zone: str) -> bool:
    """Plain zoneinfo arithmetic, one row at a time: what the vectorised code must agree with."""
    wall = when.astimezone(ZoneInfo(zone))
    clock = wall.time().replace(tzinfo=None)
    day = wall.date()
    return (
        ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()] in hours.days
        and not any(a <= day <= b for a, b in hours.holidays)
        and hours.start <= clock < hours.end
        and not any(a <= clock < b for a, b in hours.breaks)
    )


ODD = WorkingHours(
    start=time(8, 29, 59, 750_000),
    end=time(15, 30, 0, 1000),
    breaks=((time(12, 10, 7), time(13, 0)),),
    holidays=HOLIDAYS.holidays,
)
"""Bounds off the minute (to the millisecond): the table's cells must shrink to match them."""


def _instants() -> np.ndarray:
    """Two years of random instants (to the ms), and every 4999 ms for two hours either side of each clock change."""
    rng = np.random.default_rng(20261123)
    base = int(utc("2026-01-01 00:00").timestamp() * 1000)
    ms = base + rng.integers(0, 730 * 86_400_000, 3000)
    # Around both UK and both US changes, where an off-by-an-hour would show.
    for change in ("2026-03-29 01:00", "2026-10-25 01:00", "2026-03-08 07:00", "2026-11-01 06:00"):
        centre = int(utc(change).timestamp() * 1000)
        ms = np.concatenate([ms, centre + np.arange(-7_200_000, 7_200_000, 4999)])
    return ms


@pytest.fixture(params=["cells", "rows"])
def per_row(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both ways a column is judged: by a table of cells (a short span), and row by row (a long one)."""
    if request.param == "rows":
        monkeypatch.setattr("filterlog.enrich.calendar._MAX_CELLS", 10)
    return request.param == "rows"


@pytest.mark.parametrize("hours", [HOLIDAYS, ODD], ids=["holidays", "odd-bounds"])
@pytest.mark.parametrize("zone", [LONDON, NEW_YORK, "Australia/Sydney", "Asia/Kolkata", "Asia/Kathmandu", "UTC"])
def test_in_working_hours_matches_zoneinfo_reference(zone: str, hours: WorkingHours, per_row: bool) -> None:
    ms = _instants()
    whens = [datetime.fromtimestamp(m / 1000, UTC) for m in ms.tolist()]
    got = in_working_hours(pa.array(ms, pa.int64()).cast(TS), hours, zone).to_pylist()
    assert got == [_reference(w, hours, zone) for w in whens]


@pytest.mark.parametrize("zone", [LONDON, NEW_YORK, "Asia/Kathmandu", "Australia/Lord_Howe"])
def test_local_dates_and_minutes_match_zoneinfo(zone: str, per_row: bool) -> None:
    ms = _instants()
    column = pa.chunked_array([pa.array(part, pa.int64()).cast(TS) for part in np.array_split(ms, 3)])
    walls = [datetime.fromtimestamp(m / 1000, UTC).astimezone(ZoneInfo(zone)) for m in ms.tolist()]
    assert local_dates(column, zone).to_pylist() == [w.date() for w in walls]
    assert minute_of_day(column, zone).to_pylist() == [w.hour * 60 + w.minute for w in walls]


_ZONES = [
    "Europe/London",
    NEW_YORK,
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "UTC",
]
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(ms: int) -> time:
    return time(ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000 * 1000)


@st.composite
def _hours(draw: st.DrawFn) -> WorkingHours:
    """Any working day: bounds on the quarter hour, the minute, the second or the millisecond; up to two breaks."""
    unit = draw(st.sampled_from([900_000, 60_000, 1_000, 1]))
    bound = st.integers(0, (86_400_000 - 1) // unit).map(lambda k: k * unit)
    start, end = sorted(draw(st.lists(bound, min_size=2, max_size=2, unique=True)))
    breaks = tuple(
        (_clock(a), _clock(b))
        for a, b in (
            sorted(p) for p in draw(st.lists(st.lists(bound, min_size=2, max_size=2, unique=True), max_size=2))
        )
    )
    days = tuple(draw(st.lists(st.sampled_from(_DAY_NAMES), min_size=1, max_size=7, unique=True)))
    first = date(2026, 3, 1) + timedelta(days=draw(st.integers(0, 200)))
    holidays = ((first, first + timedelta(days=draw(st.integers(0, 20)))),) if draw(st.booleans()) else ()
    return WorkingHours(days=days, start=_clock(start), end=_clock(end), breaks=breaks, holidays=holidays)


@settings(max_examples=60, deadline=None)
@given(hours=_hours(), zone=st.sampled_from(_ZONES), seed=st.integers(0, 2**32 - 1))
def test_in_working_hours_any_hours_in_any_zone(hours: WorkingHours, zone: str, seed: int) -> None:
    """Against zoneinfo, row by row: random instants over eight months, and each bound's instant and the ms before."""
    rng = np.random.default_rng(seed)
    base = int(utc("2026-03-01 00:00").timestamp() * 1000)
    ms = base + rng.integers(0, 240 * 86_400_000, 400)
    bounds = [hours.start, hours.end, *(t for b in hours.breaks for t in b)]
    for day in rng.integers(0, 240, 6):
        d = date(2026, 3, 1) + timedelta(days=int(day))
        for t in bounds:
            at = int(datetime.combine(d, t, ZoneInfo(zone)).astimezone(UTC).timestamp() * 1000)
            ms = np.append(ms, [at - 1, at])
    whens = [datetime.fromtimestamp(m / 1000, UTC) for m in ms.tolist()]
    got = in_working_hours(pa.array(ms, pa.int64()).cast(TS), hours, zone).to_pylist()
    assert got == [_reference(w, hours, zone) for w in whens]


# --------------------------------------------------------------------------- local_dates, minute_of_day

LOCAL_CLOCK = [
    ("last GMT minute before spring change", utc("2026-03-29 00:59"), LONDON, date(2026, 3, 29), 59),
    ("first BST minute", utc("2026-03-29 01:00"), LONDON, date(2026, 3, 29), 120),
    ("first 01:30 on autumn change", utc("2026-10-25 00:30"), LONDON, date(2026, 10, 25), 90),
    ("second 01:30 on autumn change", utc("2026-10-25 01:30"), LONDON, date(2026, 10, 25), 90),
    ("June evening is tomorrow in BST", utc("2026-06-12 23:30"), LONDON, date(2026, 6, 13), 30),
    ("winter evening stays today", utc("2026-12-11 23:30"), LONDON, date(2026, 12, 11), 1410),
    ("New York evening", utc("2026-11-24 03:00"), NEW_YORK, date(2026, 11, 23), 22 * 60),
    ("before 1970", utc("1969-12-31 23:59"), "UTC", date(1969, 12, 31), 1439),
]


@pytest.mark.parametrize(
    ("when", "zone", "day", "minute"), [c[1:] for c in LOCAL_CLOCK], ids=[c[0] for c in LOCAL_CLOCK]
)
def test_local_dates_and_minute_of_day(when: datetime, zone: str, day: date, minute: int) -> None:
    dates = local_dates(col(when, None), zone)
    minutes = minute_of_day(col(when, None), zone)
    assert dates.type == pa.date32()
    assert dates.to_pylist() == [day, None]
    assert minutes.to_pylist() == [minute, None]


# --------------------------------------------------------------------------- working_windows


def hm(text: str) -> time:
    return time.fromisoformat(text)


def ms(text: str) -> int:
    t = hm(text)
    return (t.hour * 60 + t.minute) * 60_000


WINDOWS = [
    ("default", DEFAULT, [("08:30", "10:30"), ("10:50", "12:10"), ("13:00", "15:30")]),
    ("no breaks", WorkingHours(breaks=()), [("08:30", "15:30")]),
    (
        "overlapping breaks",
        WorkingHours(breaks=((hm("10:00"), hm("11:00")), (hm("10:30"), hm("11:30")))),
        [("08:30", "10:00"), ("11:30", "15:30")],
    ),
    (
        "breaks past the day's ends",
        WorkingHours(breaks=((hm("07:00"), hm("09:00")), (hm("15:00"), hm("17:00")), (hm("18:00"), hm("19:00")))),
        [("09:00", "15:00")],
    ),
    ("break covering the day", WorkingHours(breaks=((hm("08:00"), hm("16:00")),)), []),
]


@pytest.mark.parametrize(("hours", "expected"), [w[1:] for w in WINDOWS], ids=[w[0] for w in WINDOWS])
def test_working_windows(hours: WorkingHours, expected: list[tuple[str, str]]) -> None:
    assert working_windows(hours) == [(ms(a), ms(b)) for a, b in expected]


# --------------------------------------------------------------------------- working_seconds

NIGHT = WorkingHours(days=("sun",), start=time(0, 30), end=time(3, 0), breaks=())
"""A window the clocks change inside: its real length is what the zone makes it."""

DAY_SECONDS = (7 * 60 - 20 - 50) * 60  # 08:30-15:30 less a 20-minute break and a 50-minute lunch

SPANS = [
    ("across lunch: 12:00-12:10 and 13:00-13:30", "2026-11-23 12:00", "2026-11-23 13:30", DEFAULT, LONDON, 40 * 60),
    ("entirely after hours", "2026-11-23 16:00", "2026-11-23 18:00", DEFAULT, LONDON, 0),
    ("entirely in lunch", "2026-11-23 12:15", "2026-11-23 12:55", DEFAULT, LONDON, 0),
    ("overnight", "2026-11-23 14:00", "2026-11-24 09:00", DEFAULT, LONDON, 90 * 60 + 30 * 60),
    ("over a weekend", "2026-11-27 15:00", "2026-11-30 09:00", DEFAULT, LONDON, 60 * 60),
    ("whole working day", "2026-11-23 00:00", "2026-11-24 00:00", DEFAULT, LONDON, DAY_SECONDS),
    ("whole week", "2026-11-23 00:00", "2026-11-30 00:00", DEFAULT, LONDON, 5 * DAY_SECONDS),
    ("weekend over the spring change", "2026-03-27 15:00", "2026-03-30 09:00", DEFAULT, LONDON, 60 * 60),
    ("weekend over the autumn change", "2026-10-23 15:00", "2026-10-26 09:00", DEFAULT, LONDON, 60 * 60),
    ("window losing the spring hour", "2026-03-28 12:00", "2026-03-30 00:00", NIGHT, LONDON, 90 * 60),
    ("window repeating the autumn hour", "2026-10-24 12:00", "2026-10-26 00:00", NIGHT, LONDON, 210 * 60),
    ("BST day", "2026-06-10 00:00", "2026-06-11 00:00", DEFAULT, LONDON, DAY_SECONDS),
    ("over the holidays", "2026-12-18 15:00", "2027-01-04 09:00", HOLIDAYS, LONDON, 60 * 60),
    ("holiday itself", "2027-02-15 00:00", "2027-02-16 00:00", HOLIDAYS, LONDON, 0),
    ("seconds matter", "2026-11-23 08:29:30", "2026-11-23 08:30:30", DEFAULT, LONDON, 30),
    ("empty interval", "2026-11-23 09:00", "2026-11-23 09:00", DEFAULT, LONDON, 0),
    ("end before start", "2026-11-23 11:00", "2026-11-23 09:00", DEFAULT, LONDON, 0),
    ("New York lunch", "2026-11-23 12:00", "2026-11-23 13:30", DEFAULT, NEW_YORK, 40 * 60),
    ("UTC site", "2026-11-23 12:00", "2026-11-23 13:30", DEFAULT, "UTC", 40 * 60),
]


@pytest.mark.parametrize(
    ("start", "end", "hours", "zone", "expected"), [s[1:] for s in SPANS], ids=[s[0] for s in SPANS]
)
def test_working_seconds(start: str, end: str, hours: WorkingHours, zone: str, expected: int) -> None:
    result = working_seconds(col(local(start, zone)), col(local(end, zone)), hours, zone)
    assert result.type == pa.float64()
    assert result.to_pylist() == [expected]


def test_working_seconds_is_zone_dependent() -> None:
    start, end = col(utc("2026-11-23 13:00")), col(utc("2026-11-23 14:00"))
    assert working_seconds(start, end, DEFAULT, LONDON).to_pylist() == [3600]
    assert working_seconds(start, end, DEFAULT, NEW_YORK).to_pylist() == [1800]  # 08:00-09:00 EST


def test_working_seconds_whole_column_nulls_and_chunks() -> None:
    starts = [local(s[1]) for s in SPANS if s[3] is DEFAULT and s[4] == LONDON]
    ends = [local(s[2]) for s in SPANS if s[3] is DEFAULT and s[4] == LONDON]
    expected = [s[5] for s in SPANS if s[3] is DEFAULT and s[4] == LONDON]
    nine = local("2026-11-23 09:00")
    start = pa.chunked_array([col(None, nine), col(*starts, None)])
    end = pa.chunked_array([col(local("2026-11-23 10:00"), None), col(*ends, None)])
    assert working_seconds(start, end, DEFAULT, LONDON).to_pylist() == [None, None, *expected, None]
    assert working_seconds(col(), col(), DEFAULT, LONDON).to_pylist() == []


def test_working_seconds_length_mismatch() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        working_seconds(col(None), col(), DEFAULT, LONDON)


@pytest.mark.parametrize("zone", [LONDON, NEW_YORK])
def test_working_seconds_agrees_with_minute_sampling(zone: str) -> None:
    """Minute-aligned intervals: working seconds are 60 x the working minutes in_working_hours sees."""
    rng = np.random.default_rng(7)
    first = int(local("2026-03-20 00:00", zone).timestamp()) // 60
    starts = first + rng.integers(0, 40 * 1440, 150)
    lengths = rng.integers(0, 4 * 1440, 150)
    minutes = np.concatenate([np.arange(s, s + n) for s, n in zip(starts, lengths, strict=True)])
    inside = np.asarray(in_working_hours(pa.array(minutes * 60_000, pa.int64()).cast(TS), HOLIDAYS, zone))
    counted = np.concatenate([[0], np.cumsum(inside)])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    per_row = counted[offsets[1:]] - counted[offsets[:-1]]
    start = pa.array(starts * 60_000, pa.int64()).cast(TS)
    end = pa.array((starts + lengths) * 60_000, pa.int64()).cast(TS)
    got = working_seconds(start, end, HOLIDAYS, zone).to_pylist()
    assert got == (per_row * 60).tolist()


def test_example_day_by_hand() -> None:
    """A readable sanity check: one Monday, every half hour, London."""
    day = [local("2026-11-23 00:00") + timedelta(minutes=30 * i) for i in range(48)]
    working = [
        d.astimezone(ZoneInfo(LONDON)).strftime("%H:%M")
        for d, w in zip(day, in_working_hours(col(*day), DEFAULT, LONDON).to_pylist(), strict=True)
        if w
    ]
    assert working == [
        "08:30",
        "09:00",
        "09:30",
        "10:00",
        "11:00",
        "11:30",
        "12:00",
        "13:00",
        "13:30",
        "14:00",
        "14:30",
        "15:00",
    ]


@pytest.mark.parametrize("zone", ["Europe/London", "Australia/Adelaide", "Asia/Kathmandu", "America/St_Johns"])
def test_quarter_hour_offset_lookup_matches_per_row_conversion(zone: str) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from filterlog.enrich.calendar import _local_ms

    rng = np.random.default_rng(3)
    ms = np.sort(rng.integers(1_700_000_000_000, 1_800_000_000_000, 200_000))  # three years, several DST changes
    times = pa.array(ms, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    expected = pc.local_timestamp(times.cast(pa.timestamp("ms", tz=zone))).cast(pa.int64()).to_numpy()
    got, valid = _local_ms(times, zone)
    assert valid.all() and (got == expected).all()
