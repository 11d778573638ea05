"""filterlog: evidence from a school's web-filter logs."""

import ctypes
import os

import pyarrow as pa

__version__ = "0.1.0"


def _memory_pool() -> None:
    """Arrow allocates from its jemalloc pool, unless ARROW_DEFAULT_MEMORY_POOL names another.

    pyarrow's default, mimalloc, hands freed memory back to the kernel and takes
    it again: judging 10M events spent 7-9 s of system time that way on a
    2-core VM, against 3 s with jemalloc (8.7-9.8 s wall against 6.3-6.8 s, and
    3.3 GB peak against 2.7 GB). Ingest pays about 2 % for it (twice the page
    faults: 0.5 s of 23 s for 10M lines); a longer jemalloc decay saved that but
    cost judging half a GB. Set here so that Dask workers, which import this
    package to run its tasks, use it too.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without jemalloc keeps its default
        pass


_memory_pool()

MMAP_THRESHOLD = 32 << 20
"""Blocks glibc may serve from its heaps instead of a fresh mapping: its ceiling, 32 MB."""
TRIM_THRESHOLD = 1 << 30
"""Free memory at the top of a heap that glibc keeps for the next arrays instead of handing back."""


def _malloc() -> bool:
    """The C library's malloc keeps the memory numpy frees for the next arrays (glibc; unless MALLOC_*_ are set).

    Left to itself, glibc serves each block above a threshold (128 kB, rising
    to the largest block freed so far) from a fresh mapping, and hands freed
    memory at the top of a heap back once twice that lies free. Every step of
    detect frees arrays of a few to 20 MB and allocates the next ones, so the
    kernel zeroed and mapped the same amount again, page by page. Judging 10M
    events, 5 sets of 3-5 alternating rounds: 317-341k page faults -> 258-276k,
    system time 1.67-2.32 -> 1.51-1.69 s a run, peak RSS 30-100 MB higher (50M
    events: 1.17 -> 1.18-1.29 GB); the wall time moved within the host's noise
    (set means 4.89-5.29 s before, 4.78-5.07 s after). Ingesting 10M lines
    in-process, 3 pairs in each of 2 sets: 504-611k -> 259-265k faults,
    2.05-2.33 -> 1.57-1.60 s system time. Set here so that Dask workers, which
    import this package, have it too.
    """
    if any(name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library: glibc or not
    except (OSError, AttributeError, TypeError):  # no mallopt (macOS, Windows): their allocators differ anyway
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, MMAP_THRESHOLD)) and bool(mallopt(m_trim_threshold, TRIM_THRESHOLD))


_malloc()
