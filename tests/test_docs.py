"""The README tells the truth: every command and every format it should mention is there."""

from pathlib import Path

import pytest

from filterlog.cli import cli
from filterlog.ingest import READERS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    command = cli.commands[name]
    assert command.help and command.help.strip(), f"{name} has no help text"
    assert f"filterlog {name}" in README


@pytest.mark.parametrize("name", sorted(READERS))
def test_every_format_is_in_the_readme_table(name: str) -> None:
    assert f"| `{name}` |" in README


@pytest.mark.parametrize("name", sorted(READERS))
def test_every_reader_has_a_description(name: str) -> None:
    assert READERS[name].description


def test_help_runs_without_dev_dependencies() -> None:
    # make_context, not a bare click.Context: a bare one caches help options without -h for later tests
    with cli.make_context("filterlog", ["--help"], resilient_parsing=True) as ctx:
        assert "ingest" in cli.get_help(ctx)


def test_readme_gives_exactly_the_two_quickstart_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make demo" in quick and "make test" in quick
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "make test" in ci
