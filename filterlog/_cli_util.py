"""What every click command group of filterlog shares."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from . import cluster
from .errors import FilterlogError, out_of_space

if TYPE_CHECKING:
    from distributed import Client

    from .ingest.pipeline import FileResult


class Group(click.Group):
    """A click group that turns an expected failure into one line and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FilterlogError as exc:
            raise click.ClickException(str(exc)) from None
        except (OSError, sqlite3.Error) as exc:  # a full disk is the machine's state, not a bug to report
            full = out_of_space(exc)
            if full is None:
                raise
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            raise click.ClickException(f"{where}{full}: make room and run the command again") from None


SCHEDULER = "filterlog.scheduler"
"""Where the group keeps the parsed ``--scheduler`` (``click.Context.meta``)."""


@contextmanager
def dask_client() -> Iterator[Client | None]:
    """The Dask client the global ``--scheduler`` asks for, for one command; None runs in-process."""
    ctx = click.get_current_context()
    scheduler = ctx.meta.get(SCHEDULER)
    with cluster.connect(scheduler) as client:
        if client is not None and not client.scheduler_info()["workers"]:  # else a silent wait: say why
            click.echo(
                f"filterlog: the scheduler at {scheduler} has no workers yet: the work waits until one joins"
                f" (dask worker {scheduler})",
                err=True,
            )
        yield client


def interactive() -> bool:
    """Whether a person is watching: stderr is a terminal and this is not CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal; nothing at all in pipes, cron and CI."""
    if not interactive() or total <= 0:
        yield None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True) as bar:
        yield bar.update


def say_file(result: FileResult) -> None:
    """One line per file: its counts, or why it failed or was skipped."""
    if result.status == "failed":
        click.echo("error: " + result.message, err=True)
        return
    if result.status in ("ingested", "appended"):
        click.echo(
            f"{result.path}: {result.format}, {result.lines:,} lines: {result.events:,} events, "
            f"{result.quarantined:,} quarantined, {result.skipped:,} header/blank"
            + (" (new lines only)" if result.status == "appended" else ""),
            err=True,
        )
    if result.message:
        click.echo(result.message, err=True)


_FORMATS = {
    "table": "table for people",
    "csv": "csv for spreadsheets (formulas neutralised)",
    "json": "json for programs",
    "parquet": "parquet for analysis",
}


def output_format(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--format`` option of a command that prints records (``fmt``, default the first choice)."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=choices[0], show_default=True,
        help=", ".join(_FORMATS[c] for c in choices) + ".",
    )  # fmt: skip


pseudonymise_option = click.option(
    "--pseudonymise", is_flag=True, help="Replace names, addresses and ids by this workspace's pseudonyms."
)
"""The ``--pseudonymise`` flag of the export commands."""
