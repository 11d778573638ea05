"""Dask clusters for ``--scheduler``: where ingest and detect send their pieces of work.

Without ``--scheduler`` everything runs in this process (threads), which is the
fastest choice for one machine's files. ``local[:N]`` starts a throw-away
``LocalCluster`` of N single-threaded worker processes (N defaults to the CPU
count); an address (``tcp://host:8786``, ``host:8786``) joins a running
scheduler, whose workers must see the workspace at the same path (shared
storage). Dask is imported only here and only when asked for, so plain runs
do not pay its import time.
"""

from __future__ import annotations

import gc
import logging
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

from .errors import FilterlogError
from .storage import failing, fsspec_fs, is_url, make_parent

if TYPE_CHECKING:
    from distributed import Client

_LOCAL = re.compile(r"^local(?::(\d+))?$")
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ucx|inproc)://)?[\w.\-\[\]:]+:\d{1,5}$")


@dataclass(frozen=True)
class Scheduler:
    """A parsed ``--scheduler`` value."""

    workers: int | None = None
    """Worker processes of a local cluster; None when joining a running scheduler."""
    address: str | None = None

    @property
    def local(self) -> bool:
        """Whether this starts its own cluster on this machine."""
        return self.address is None

    def __str__(self) -> str:
        return f"local:{self.workers}" if self.local else str(self.address)


def parse(spec: str) -> Scheduler:
    """Read ``local``, ``local:N`` or a scheduler address; raise ValueError with the reason otherwise."""
    spec = spec.strip()
    m = _LOCAL.match(spec)
    if m:
        workers = int(m.group(1)) if m.group(1) else (os.cpu_count() or 1)
        if not 1 <= workers <= 256:
            raise ValueError(f"local:{workers}: the number of workers must be between 1 and 256")
        return Scheduler(workers=workers)
    if _ADDRESS.match(spec) and not spec.startswith("local"):
        return Scheduler(address=spec if "://" in spec else f"tcp://{spec}")
    raise ValueError(f"{spec!r}: expected local, local:N or a scheduler address such as tcp://host:8786")


@contextmanager
def connect(scheduler: Scheduler | None) -> Iterator[Client | None]:
    """A Dask client for the duration of one command, or None to run in-process.

    A local cluster is shut down on the way out; a remote one is only left.
    Dask's own logging is kept to warnings so that pipes and cron mail stay clean.
    """
    if scheduler is None:
        yield None
        return
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:  # a broken install: say what is missing, not a traceback
        raise FilterlogError(f"--scheduler needs dask.distributed, which cannot be imported: {exc}") from None
    for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if scheduler.local:
        # Dask's statistical profiler samples every worker's stack every 10 ms; on a
        # two-core machine that is CPU taken from parsing, so it is off for clusters we start.
        # Dask also starts workers with MALLOC_TRIM_THRESHOLD_=65536, so that glibc hands
        # freed memory back at once; that fixes its mmap threshold too, and every block
        # buffer and Arrow column became a fresh mapping to fault in page by page:
        # 4M page faults per 10M lines, a fifth of the workers' time. filterlog bounds
        # its memory by block size, so glibc keeps its defaults (None unsets a variable).
        # Every process also wakes 50 times a second to time its event loop, and twice a second
        # to sample its own CPU and memory for a dashboard nobody is shown: a local:2 cluster
        # left idle for 10 s spent 0.56-0.60 CPU-s on that, 0.11 with the timings below.
        settings = {
            "distributed.worker.profile.enabled": False,
            "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
            "distributed.admin.tick.interval": "1s",
            "distributed.admin.system-monitor.interval": "5s",
        }
        with dask.config.set(settings):
            cluster = LocalCluster(
                n_workers=scheduler.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # no dashboard, and the scheduler's health/metrics server on a free loopback port,
                # not 8787 of every interface (taken by another cluster, or open to the network)
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                memory_limit=0,  # filterlog bounds its own memory; Dask's pausing would only stall it
            )
        try:
            with Client(cluster) as client:
                client.run(_quiet_failures)
                yield client
                # Each worker's interpreter would spend its teardown in full garbage collections over
                # the objects of pandas, pyarrow and Numba: closing two workers took 0.30 s, 0.06 s frozen.
                with suppress(Exception):  # a worker lost on the way must not fail work that is done
                    client.run(gc.freeze)
        finally:
            cluster.close()
        return
    try:
        client = Client(scheduler.address, timeout="10s")
    except OSError as exc:
        raise FilterlogError(f"--scheduler {scheduler.address}: cannot reach the scheduler: {exc}") from None
    with client:
        yield client


def _quiet_failures() -> None:
    """On a worker of a cluster started here: leave a failed task to the command, which says why in one line.

    The worker logs every task that raises at ERROR ("Compute Failed", with
    the traceback's text), on the terminal it shares with the command: a
    truncated log on ``local:2`` printed six lines of it before the command's own.
    """
    logging.getLogger("distributed.worker").setLevel(logging.CRITICAL)


def workers(client: Client | None) -> int:
    """How many pieces of work can run at once: the cluster's worker threads, else 1."""
    if client is None:
        return 1
    return max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))


def sharing(client: Client | None) -> int:
    """How many worker processes share this machine's memory: those of a cluster started here, else 1.

    ``[detect] memory_gb`` is what the machine running a command may spend. The
    workers of a ``local:N`` cluster spill and judge side by side on it, so
    each gets an Nth, and a share of the spill's threads. On ``local:2`` at 50M
    events (3 alternating pairs) the cluster's processes together peaked at
    1.76-1.78 GB where, with the whole budget and two spill threads each, they
    peaked at 2.13-2.28 GB; the largest at 0.87-0.91 against 1.21-1.32 GB;
    detect took 29.9-35.4 s against 26.3-33.9 s. Workers of a running
    scheduler are taken to have the budget each: they may have machines of their own.
    """
    if client is None:
        return 1
    from distributed import LocalCluster

    return workers(client) if isinstance(getattr(client, "cluster", None), LocalCluster) else 1


def require_shared(client: Client, where: Path | str, files: Iterable[Path] = ()) -> None:
    """Every worker the cluster has now sees ``where`` and can read ``files``; else one line naming one.

    ``where`` is the workspace, or the URL its events are kept at (``storage``).
    Workers write events there and read logs and events by path. A worker where
    the share is not mounted (an empty folder at that path), is mounted
    elsewhere, runs as a user who may not read it, or lacks the credentials for
    the URL, would otherwise fail its tasks one by one, each about a file this
    process can see. So this writes a file holding a random token there, and
    every worker must read the token back and open each of ``files``. Workers
    that join later are not asked.
    """
    url = isinstance(where, str) and is_url(where)
    for worker, (seen, unread) in _ask(client, where, files):
        if not seen and url:
            raise FilterlogError(
                f"--scheduler: worker {worker} cannot read the events' storage {where} ([storage] events):"
                " every worker needs its package (such as s3fs) and credentials for it"
            )
        if not seen:
            raise FilterlogError(
                f"--scheduler: worker {worker} does not see the workspace {where}: every worker must see it"
                " at the same path (a shared disk, or NFS mounted alike on every machine)"
            )
        if unread is not None:
            raise FilterlogError(
                f"{unread}: worker {worker} cannot read it: every worker must see the logs at the same path"
            )


def all_see(client: Client, where: Path) -> bool:
    """Whether every worker the cluster has now sees the folder ``where`` at that path (``require_shared``'s test)."""
    return all(seen for _, (seen, _) in _ask(client, where, ()))


def _ask(client: Client, where: Path | str, files: Iterable[Path]) -> list[tuple[str, tuple[bool, str | None]]]:
    """Each worker, whether it read back the token written at ``where``, and the first of ``files`` it cannot open."""
    token = uuid4().hex
    probe = _write_probe(where, token)
    try:
        seen = client.run(_sees, probe, [str(f) for f in files])
    finally:
        _remove_probe(probe)
    return [(worker, (text == token, unread)) for worker, (text, unread) in sorted(seen.items())]


def _write_probe(where: Path | str, token: str) -> str:
    """The probe file written, owner-only where it is a local one; its path or URL."""
    name = f".probe-{token}"
    if isinstance(where, str) and is_url(where):
        probe = f"{where.rstrip('/')}/{name}"
        with failing(where, "write there"):
            make_parent(probe)
            fs, inner = fsspec_fs(probe)
            fs.pipe_file(inner, token.encode("ascii"))
        return probe
    from .report.files import write_private

    return str(write_private(Path(where) / name, token))


def _remove_probe(probe: str) -> None:
    with suppress(Exception):
        if is_url(probe):
            fs, inner = fsspec_fs(probe)
            fs.rm_file(inner)
        else:
            os.unlink(probe)


def _sees(probe: str, files: list[str]) -> tuple[str | None, str | None]:
    """On a worker: the probe's token (None if it cannot be read), and the first of ``files`` it cannot open."""
    try:
        if is_url(probe):
            fs, inner = fsspec_fs(probe)
            text: str | None = fs.cat_file(inner).decode("ascii")
        else:
            with open(probe, encoding="ascii") as f:
                text = f.read()
    except Exception:  # an OSError here; a URL's filesystem raises its own (no credentials, no package)
        text = None
    for name in files:
        try:
            with open(name, "rb"):
                pass
        except OSError:
            return text, name
    return text, None
