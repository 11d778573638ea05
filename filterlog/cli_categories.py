"""``filterlog categories``: list, look up and import domain category lists.

Thin click wrappers over :mod:`filterlog.enrich.categories`: parse, call one library
function, print. The group converts FilterlogError to a one-line message itself, so
it behaves the same mounted under ``filterlog`` or on its own (tests).
"""

from __future__ import annotations

from pathlib import Path

import click

from ._cli_util import Group
from .workspace import Workspace


@click.group(cls=Group)
def categories() -> None:
    """Domain category lists: the shipped ones and those imported into the workspace."""


@categories.command("list")
@click.pass_obj
def list_(ws: Workspace) -> None:
    """Each category list: entries, source list, licence and origin."""
    from .enrich.categories import Categories

    infos = Categories.load(ws).lists()
    width = max(len(i.category) for i in infos)
    src = max(len(i.source) for i in infos)
    for i in infos:
        click.echo(f"{i.category:<{width}}  {i.entries:>9,}  {i.source:<{src}}  {i.licence}; {i.origin}")


@categories.command()
@click.argument("domain")
@click.pass_obj
def lookup(ws: Workspace, domain: str) -> None:
    """Print DOMAIN's category and the list it came from (its longest matching entry)."""
    from .enrich.categories import lookup as find

    found = find(domain, ws)
    click.echo(f"{domain}: {found[0]} ({found[1]})" if found else f"{domain}: no category")


@categories.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--category",
    metavar="NAME",
    help="Category of a plain list or hosts file (default: the file name without extension).",
)
@click.pass_obj
def import_(ws: Workspace, path: Path, category: str | None) -> None:
    """Import PATH into the workspace: a UT1 tarball or directory, a hosts file or a plain list.

    Nothing is fetched: download the list first. Importing a list of the same name
    again replaces it.
    """
    from .enrich.lists import import_lists

    result = import_lists(path, ws, category=category)
    click.echo(
        f"{path}: {result.format}, {result.entries:,} entries in {len(result.lists)} categories "
        f"stored as '{result.name}' ({result.dropped:,} lines were not domain names)"
    )
