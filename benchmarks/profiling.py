"""``--profile``: ingest in-process under cProfile, to see where the time goes.

The timed runs only say how long the child took; this says which functions took it. The parse
work runs in worker threads, which cProfile does not follow on its own, hence the wrapper that
profiles each thread and merges the results. Not named ``profile``: that would shadow the
stdlib module cProfile imports.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import shutil
import tempfile
import threading
import time
from pathlib import Path


def profile(log: Path, tmp_root: Path, top: int, sort: str, dump: Path | None) -> None:
    """Ingest in-process under cProfile (main thread and the parse worker threads, merged)."""
    from filterlog.ingest import ingest
    from filterlog.workspace import Workspace

    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    original_run = threading.Thread.run

    def profiled_run(self: threading.Thread) -> None:
        prof = cProfile.Profile()
        with lock:
            profiles.append(prof)
        prof.enable()
        try:
            original_run(self)
        finally:
            prof.disable()

    work = Path(tempfile.mkdtemp(prefix="bench-profile-", dir=tmp_root))
    main = cProfile.Profile()
    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        main.enable()
        try:
            report = ingest(Workspace(work / "ws"), [str(log)])
        finally:
            main.disable()
        wall = time.perf_counter() - t0
    finally:
        threading.Thread.run = original_run  # type: ignore[method-assign]
        shutil.rmtree(work, ignore_errors=True)
    print(report.summary())
    print(f"in-process ingest under cProfile: {wall:.2f} s wall ({len(profiles)} worker threads profiled)\n")
    stats = pstats.Stats(main, stream=io.StringIO())
    for p in profiles:
        stats.add(p)
    if dump:
        stats.dump_stats(dump)
        print(f"profile written to {dump} (open with snakeviz or pstats)\n")
    buf = io.StringIO()
    stats.stream = buf
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    text = buf.getvalue()
    print(text[text.find("   ncalls") :] if "   ncalls" in text else text)
    print(
        "Note: tottime sums over the main thread and the parse workers, so it can exceed wall time.\n"
        "The main thread waiting on worker futures shows as {method 'acquire' of '_thread.lock' objects};\n"
        "idle workers waiting for a block as {method 'get' of '_queue.SimpleQueue' objects}."
    )
