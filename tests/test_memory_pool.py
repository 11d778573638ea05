"""How filterlog allocates: Arrow from jemalloc (mimalloc cost detect a third of its time in the kernel),
glibc's malloc keeping what numpy frees for the next arrays."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pyarrow as pa
import pytest

SHOW = "import filterlog, pyarrow as pa; print(pa.default_memory_pool().backend_name)"


def _has_jemalloc() -> bool:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


@pytest.mark.skipif(not _has_jemalloc(), reason="this pyarrow was built without jemalloc")
def test_filterlog_allocates_from_jemalloc() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "jemalloc"


def test_arrow_default_memory_pool_is_respected() -> None:
    env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"}
    out = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "system"


# Ten 3 MB arrays allocated, written and freed, three times over; the page faults of the last time.
# glibc left alone hands the 30 MB back when they are freed (above twice its 3 MB threshold by
# then), so each time faults them in again; kept, the last time faults next to none.
FAULTS = """
import resource, sys
if sys.argv[1] == "filterlog":
    import filterlog
import numpy as np
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    arrays = [np.ones(3_000_000, np.uint8) for _ in range(10)]
    del arrays
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(*argv: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", FAULTS, *argv], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc only")
def test_freed_arrays_are_kept_for_the_next() -> None:
    assert _faults("numpy") > 5_000  # 30 MB in 4 kB pages: the pattern does fault without filterlog
    assert _faults("filterlog") < 1_000


def test_malloc_variables_are_respected() -> None:
    code = "import filterlog; print(filterlog._malloc())"
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
