"""The numpy-to-Arrow helpers give the arrays ``pa.array`` gives, with null slots holding 0."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from filterlog.arrays import bools, indices, masked, sorted_distinct, spread


@given(hnp.arrays(np.bool_, st.integers(0, 300)))
def test_bools_are_pa_array(flags: np.ndarray) -> None:
    got = bools(flags)
    assert got.equals(pa.array(flags, pa.bool_()))
    assert got.null_count == 0


@pytest.mark.parametrize(
    ("dtype", "kind"),
    [(np.int32, None), (np.int64, None), (np.int64, pa.int32()), (np.int32, pa.int16()), (np.float64, pa.float64())],
)
@given(data=st.data())
def test_masked_is_pa_array_with_a_mask(dtype, kind, data) -> None:
    n = data.draw(st.integers(0, 300))
    values = data.draw(hnp.arrays(dtype, n, elements=st.integers(-1, 30_000)))
    null = data.draw(hnp.arrays(np.bool_, n))
    expected = pa.array(values, kind, mask=null)
    got = masked(values, null, kind)
    assert got.equals(expected)
    assert got.null_count == int(null.sum())
    width = got.type.to_pandas_dtype()
    assert (np.frombuffer(got.buffers()[1], width, count=n)[null] == 0).all()  # in range as a dictionary index


@given(hnp.arrays(np.int64, st.integers(0, 300), elements=st.integers(-50, 50)), st.booleans())
def test_sorted_distinct_is_np_unique(values: np.ndarray, presorted: bool) -> None:
    if presorted:  # the rules' usual input (positions from a mask): already increasing, returned as it is
        values = np.unique(values)
    got = sorted_distinct(values)
    assert got.dtype == values.dtype
    assert np.array_equal(got, np.unique(values))


def test_masked_leaves_read_only_values_alone() -> None:
    values = np.array([3, -1, 4], np.int32)
    values.flags.writeable = False
    assert masked(values, values < 0).to_pylist() == [3, None, 4]
    assert values.tolist() == [3, -1, 4]


def test_masked_dictionary_indices_survive_a_join_of_dictionaries() -> None:
    """Arrow transposes every index slot when it joins dictionaries, the null ones too: they must be in range."""

    def codes() -> np.ndarray:
        return np.array([0, -1, 1, -1_000_000, 1], np.int32)

    one = pa.DictionaryArray.from_arrays(masked(codes(), codes() < 0), pa.array(["a", "b"]), safe=False)
    two = pa.DictionaryArray.from_arrays(masked(codes(), codes() < 0), pa.array(["b", "c"]), safe=False)
    joined = pa.chunked_array([one, two]).unify_dictionaries().combine_chunks()
    expected = ["a", None, "b", None, "b", "b", None, "c", None, "c"]
    assert pa.chunked_array([joined]).cast(pa.string()).to_pylist() == expected


@given(data=st.data())
def test_indices_are_fill_null_of_the_indices_whatever_the_null_slots_hold(data) -> None:
    n = data.draw(st.integers(0, 200))
    codes = data.draw(hnp.arrays(np.int32, n, elements=st.integers(0, 4)))
    null = data.draw(hnp.arrays(np.bool_, n))
    junk = np.where(null, data.draw(st.integers(0, 4)), codes).astype(np.int32)  # a null slot holds a real code
    array = pa.DictionaryArray.from_arrays(pa.array(junk, mask=null), pa.array(list("abcde")))
    start = data.draw(st.integers(0, n))
    for part in (array, array.slice(start)):
        expected = pc.fill_null(part.indices, -7).to_numpy(zero_copy_only=False)
        assert indices(part, -7).tolist() == expected.tolist()


@given(data=st.data())
def test_spread_reads_each_row_s_value_whatever_a_null_slot_holds(data) -> None:
    """Null rows are False even where their index slot is out of range (garbage), and the result is the caller's."""
    size = data.draw(st.integers(1, 40))
    per_value = data.draw(hnp.arrays(np.bool_, size))
    n = data.draw(st.integers(0, 300))
    codes = data.draw(hnp.arrays(np.int32, n, elements=st.integers(0, size - 1)))
    null = data.draw(hnp.arrays(np.bool_, n))
    garbage = data.draw(st.sampled_from([0, -7, size, 1_000_000]))
    slots = np.where(null, garbage, codes).astype(np.int32)
    validity = pa.py_buffer(np.packbits(~null, bitorder="little")) if null.any() else None
    offset = data.draw(st.integers(0, n))
    array = pa.Array.from_buffers(pa.int32(), n, [validity, pa.py_buffer(slots)], null_count=int(null.sum()))
    chunk = pa.DictionaryArray.from_arrays(array, pa.array([str(i) for i in range(size)])).slice(offset)
    got = spread(per_value, chunk)
    want = [bool(per_value[c]) and not z for c, z in zip(codes[offset:], null[offset:], strict=True)]
    assert got.tolist() == want
    assert got.flags.writeable
