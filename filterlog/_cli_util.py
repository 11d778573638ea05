"""What every click command group of filterlog shares."""

from __future__ import annotations

from typing import Any

import click

from .errors import FilterlogError


class Group(click.Group):
    """A click group that turns an expected failure into one line and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FilterlogError as exc:
            raise click.ClickException(str(exc)) from None
