"""filterlog: evidence from a school's web-filter logs."""

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
