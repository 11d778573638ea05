"""Ingest on a Dask cluster (``--scheduler``): workers parse and write, this process keeps the books.

Everything that touches the workspace database stays here, in file order:
the skip check, sniffing, the resume point of a grown file, the pending
manifest row, the line tally, quarantine rows of chunked files and the
commit. Workers (``worker.py``) get picklable descriptions of work (paths, offsets, the
reader class, the time zone) and write event Parquet to the very ``.tmp``
paths the in-process writer would use; the client adopts those paths into
the file's IngestWriter, so commit, abort and ``Workspace.recover`` treat
them as they treat their own. Workers must see the logs at the same absolute
paths, and the workspace too (a local disk, or NFS mounted alike everywhere)
unless its events are kept at a URL (``[storage] events``): then only that.

This process reads no more of a log than its first line and a few hundred
KiB around each cut: one core that read every byte would cap the cluster at the
speed it can hash. A worker hashes each file before its turn (the next ones
while this one is read), counting a plain file's newlines per 256 KiB in the
same pass. A plain file read by a reader without header state goes out in
chunks, cut at newlines and numbered from that table (chunks.py), so every
chunk knows its first line number exactly; a task parses a run of a few
consecutive chunks (``chunks.tasks``), since every task costs the scheduler
and this process the same few milliseconds. A compressed file, or one read
by a header-driven reader (W3C, Zscaler CSV: their ``prime`` is their own),
goes out whole, as one task that streams it as the in-process engine does.
Several files are in flight at once; a file that might continue, or repeat,
one still in flight waits for it, so skips and grown-file resumes come out
as they would one file at a time.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

from ..cluster import require_shared, workers
from ..config import Config
from ..workspace import Workspace
from .base import Reader
from .chunks import Chunk, cut, tasks
from .pipeline import FileResult, Hashed, Plan, failure, finish, head_digest, measure, open_file
from .source import sha256_file
from .stream import Progress, Tally
from .worker import FileWork, Piece, Streamed, parse_chunks, stream_file

if TYPE_CHECKING:
    from distributed import Client, Future


@dataclass
class _Run:
    """One file being read on the cluster: its plan, its tasks in flight (in file order), its tally."""

    plan: Plan
    work: FileWork
    tasks: Iterator[list[Chunk] | None]
    """The runs of chunks to send (``chunks.tasks``), or one None: the file is read whole by one task."""
    futures: deque[Future] = field(default_factory=deque)
    tally: Tally = field(default_factory=Tally)
    more: bool = True
    """Tasks remain to be submitted."""
    progress: Progress | None = None
    read: int = 0
    """Bytes reported to the progress bar so far."""
    content_sha: str | None = None
    result: FileResult | None = None

    @property
    def path(self) -> Path:
        """The file as the user named it."""
        return self.plan.file.path


def ingest_files(
    ws: Workspace,
    files: list[Path],
    reader_cls: type[Reader] | None,
    cfg: Config,
    client: Client,
    progress: Progress | None,
    replace: bool,
) -> Iterator[FileResult]:
    """Ingest ``files`` on the cluster; yield each file's result in file order (the lock is the caller's)."""
    # Chunks in flight. Results are taken in file order by a client that shares the cores with the
    # workers, so it answers late; two chunks a worker left them idle between chunks (local:2 at 10M:
    # 12.8-13.6 s against 12.1-13.1 s with four, in five alternating pairs). Bounded: each is 16 MB.
    slots = 4 * workers(client) + 2
    store = ws.storage.location  # the workspace's absolute path, or a URL
    require_shared(client, store, [f.absolute() for f in files if os.access(f, os.R_OK)])
    queue: deque[_Run | FileResult] = deque()
    todo = deque(files)
    ahead: deque[_Ahead] = deque()  # the next files in todo, hashed on the workers before their turn
    try:
        while True:
            while sum(len(r.futures) for r in queue if isinstance(r, _Run)) < slots:
                run = next((r for r in queue if isinstance(r, _Run) and r.more and r.result is None), None)
                if run is not None:
                    _submit(client, run, cfg)
                    continue
                if not todo:
                    break
                while len(ahead) < min(len(todo), workers(client)):
                    ahead.append(_Ahead.start(client, todo[len(ahead)]))
                path = todo[0]
                try:
                    file: Hashed | Exception = ahead[0].result()
                    if _collides(file, queue):
                        break  # it may continue or repeat a file still in flight: wait for that one
                except Exception as exc:  # unreadable: it fails in its turn
                    file = exc
                todo.popleft()
                ahead.popleft()
                try:
                    if isinstance(file, Exception):
                        raise file
                    plan = open_file(ws, file, reader_cls, cfg, progress, replace)
                except Exception as exc:
                    queue.append(failure(path, exc))
                    continue
                queue.append(
                    plan if isinstance(plan, FileResult) else _start(plan, cfg, store, progress, workers(client))
                )
            while queue and (isinstance(queue[0], FileResult) or queue[0].result is not None):
                done = queue.popleft()
                yield done if isinstance(done, FileResult) else done.result  # type: ignore[misc]
            run = next((r for r in queue if isinstance(r, _Run) and r.result is None), None)
            if run is None:
                if not todo:
                    return
                continue
            if run.futures:
                _step(run)
    finally:  # interrupted (Ctrl-C, a lost scheduler): leave nothing half-written behind
        client.cancel([a.future for a in ahead if a.future is not None])
        for run in queue:
            if isinstance(run, _Run) and run.result is None:
                client.cancel(list(run.futures))
                run.plan.writer.abort()  # parts still being written are .tmp files: recover() removes them


@dataclass
class _Ahead:
    """A file whose hash a worker is taking before its turn, counting a plain file's newlines on the way."""

    path: Path
    file: Hashed | None = None
    future: Future | None = None
    error: Exception | None = None
    """Why it could not even be measured (gone, unreadable): reported in its turn."""

    @classmethod
    def start(cls, client: Client, path: Path) -> _Ahead:
        try:
            file = measure(path)
        except Exception as exc:
            return cls(path, error=exc)
        args = (file.path.absolute(), file.size, file.cut, file.plain)
        return cls(path, file, client.submit(sha256_file, *args, key=f"filterlog-hash-{uuid4().hex}", pure=False))

    def result(self) -> Hashed:
        """The hashed file, waiting for the worker if need be."""
        if self.error is not None:
            raise self.error
        assert self.file is not None
        if self.future is not None:
            digest = self.future.result()
            self.future = None
            self.file.sha, self.file.cut_sha, self.file.newlines = digest
        return self.file


def _collides(file: Hashed, queue: deque[_Run | FileResult]) -> bool:
    """Whether a file still in flight has the same content, or the same first line (it may have grown)."""
    active = [r for r in queue if isinstance(r, _Run) and r.result is None]
    if not active:
        return False
    head = file.src.head()
    digest = head_digest(head) if head else None
    return any(r.plan.file.sha == file.sha or r.plan.head_sha == digest for r in active)


def _start(plan: Plan, cfg: Config, store: str, progress: Progress | None, n_workers: int) -> _Run:
    file, start = plan.file, plan.start
    work = FileWork(
        str(file.path.absolute()), str(file.path), plan.cls, cfg.site.timezone, file.sha, store,
        plan.writer.ingest_id, plan.hold_fragment, cfg.ingest.file_rows,
    )  # fmt: skip
    stateful = type(plan.reader).prime is not Reader.prime  # header state carries from block to block
    if file.plain and not stateful:
        assert file.newlines is not None  # counted with the hash, on a worker
        where = (start.offset, start.first_line, start.mid_line)
        block = cfg.ingest.block_mb << 20
        runs: Iterator[list[Chunk] | None] = tasks(
            cut(file.path, file.newlines, file.size, where, block), file.size, block, n_workers
        )
    else:
        runs = iter([None])
    tally = Tally(complete_bytes=start.offset, end_line=start.first_line - 1)
    return _Run(plan, work, runs, tally=tally, progress=progress)


def _submit(client: Client, run: _Run, cfg: Config) -> None:
    """Send the run's next task; close the run when it has none left, fail it when it could not cut one."""
    try:
        chunks = next(run.tasks)
    except StopIteration:
        run.more = False
        if not run.futures:
            _close(run)
        return
    except Exception as exc:  # the file could not be cut (a line longer than 64 MiB, a read error)
        run.more = False
        _fail(run, exc)
        return
    key = f"filterlog-ingest-{run.work.ingest_id}-{chunks[0].number if chunks else 'file'}"
    if chunks is not None:
        run.futures.append(client.submit(parse_chunks, run.work, chunks, key=key, pure=False))
    else:
        file, start = run.plan.file, run.plan.start
        where = (start.offset, start.first_line, start.mid_line)
        limit = file.size if file.plain else None
        args = (run.work, where, cfg.ingest.block_mb << 20, limit)
        run.futures.append(client.submit(stream_file, *args, key=key, pure=False))


def _step(run: _Run) -> None:
    """Wait for the run's oldest task and take in its result."""
    future = run.futures.popleft()
    try:
        got = future.result()
        if run.result is None:
            _take(run, got)
    except Exception as exc:
        if run.result is None:
            run.more = False
            _fail(run, exc)
    if run.result is None and not run.more and not run.futures:
        _close(run)


def _take(run: _Run, got: list[Piece] | Streamed) -> None:
    """Take in one task's result: its files first (a failure must find them), then each chunk in order."""
    run.plan.writer.adopt(_written(got))
    if isinstance(got, Streamed):
        run.tally, run.content_sha = got.tally, got.content_sha
        return
    for piece in got:
        _count(run, piece)


def _written(got: list[Piece] | Streamed) -> list[tuple[str, str]]:
    """The files one task wrote: a streamed file's, or those of a run of chunks."""
    return got.parts if isinstance(got, Streamed) else [part for piece in got for part in piece.parts]


def _count(run: _Run, got: Piece) -> None:
    """Count one parsed chunk in file order, as ``stream`` does for a block parsed in-process."""
    writer, tally = run.plan.writer, run.tally
    chunk = got.chunk
    _advance(run, chunk.hi - chunk.lo)
    if got.held:
        tally.held_back = True
        return
    tally.complete_bytes = chunk.hi
    tally.end_line = chunk.first_line + chunk.lines - 1
    if got.quarantine is not None:
        writer.write_quarantine(got.quarantine)
    tally.count(chunk.lines, got.events, got.quarantined, got.skipped, got.repaired, got.span)
    tally.check(run.work.name, chunk.first_line + chunk.lines - 1)


def _close(run: _Run) -> None:
    """All tasks in: commit the file (or abort it, if the counts do not add up)."""
    try:
        run.tally.check(run.work.name, run.tally.end_line)
        run.result = finish(run.plan, run.tally, run.content_sha)
    except Exception as exc:
        _fail(run, exc)
        return
    _advance(run, run.plan.file.size - run.read)


def _fail(run: _Run, exc: Exception) -> None:
    """Wait for the file's other tasks (they write files), then throw away everything it wrote."""
    for future in run.futures:
        try:
            run.plan.writer.adopt(_written(future.result()))
        except Exception:  # noqa: S112 - the first failure is the one reported
            continue
    run.futures.clear()
    run.plan.writer.abort()
    run.result = failure(run.path, exc)


def _advance(run: _Run, done: int) -> None:
    """Move the progress bar on by ``done`` bytes of this file."""
    if run.progress and done > 0:
        run.progress(done)
    run.read += max(done, 0)
