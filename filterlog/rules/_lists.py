"""The shipped keyword lists (``rules/keywords/*.txt``): reading them, and matching whole words on unique strings.

The lists are data, like the category lists: a school (or a reviewer) reads a
plain-text file with a header saying where each entry came from, not a Python
literal. Matching is always done on the *distinct* values of a column (a few
thousand search terms or file names out of millions of events), so plain
Python ``re`` is fast enough and keeps the word-boundary rules readable.

Whole words, not substrings: ``rape`` must not fire on "grape", ``kill`` not on
"skill", ``nmap`` not on "winnmapper". Both the text and the entries are folded
the same way first (accents stripped, case folded, every run of punctuation or
spaces made one space), so "Self-Harm", "self harm" and "sélf_harm" are one
phrase. A ``*`` after a word allows any ending: ``suicid*`` matches
"suicide" and "suicidal". A line starting with ``!`` is an exception: the
phrase is blanked out before matching, so "suicide squad" (a film) is not a
suicide search while "suicide squad made me want to die" still is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..errors import ConfigError

FOLDER = "keywords"
"""Package folder holding the lists, next to this module."""

_NOT_WORD = re.compile(r"[\W_]+")


def available() -> list[str]:
    """Names of the shipped lists (file names without ``.txt``), sorted."""
    folder = resources.files(__package__).joinpath(FOLDER)
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt"))


@lru_cache(maxsize=64)
def entries(name: str) -> tuple[str, ...]:
    """The entries of one list in file order: one per line, blank lines and ``#`` comment lines skipped."""
    path = resources.files(__package__).joinpath(FOLDER, f"{name}.txt")
    if not path.is_file():
        raise ConfigError(f"no keyword list {name!r} (shipped lists: {', '.join(available())})")
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


def fold(text: str) -> str:
    """Accents stripped (NFKD), case folded, punctuation and space runs made one space: the form matching uses."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def _pattern(entry: str) -> str:
    """One entry as a regex over folded text: its words in sequence, ``*`` after a word for any ending."""
    parts = []
    for token in entry.split():
        wild = token.endswith("*")
        folded = fold(token.rstrip("*"))
        if folded:
            parts.append(re.escape(folded).replace(r"\ ", " ") + (r"\w*" if wild else ""))
    return " ".join(parts)


def phrase_regex(words: Iterable[str], version_suffix: bool = False) -> re.Pattern[str] | None:
    """One regex matching any of ``words`` as whole words in ``fold``-ed text.

    With ``version_suffix`` a word may run straight into digits, as tool names
    do in file names (``pwdump7``, ``nmap7``), but never into letters. Longer
    phrases are tried first so the match reported is the most specific one.
    None when there are no words.
    """
    alternatives = {p for p in map(_pattern, words) if p}
    if not alternatives:
        return None
    ordered = sorted(alternatives, key=lambda a: (-len(a), a))
    end = r"(?![^\W\d_])" if version_suffix else r"(?!\w)"
    return re.compile(r"(?<!\w)(?:" + "|".join(ordered) + ")" + end)


@dataclass(frozen=True)
class Matcher:
    """A list's words and its ``!`` exceptions, ready to search folded text."""

    words: re.Pattern[str] | None
    exceptions: re.Pattern[str] | None

    def find(self, folded: str) -> list[str]:
        """The list's words found in ``folded`` text, once the exception phrases are blanked out."""
        if self.words is None:
            return []
        if self.exceptions is not None:
            folded = self.exceptions.sub(" | ", folded)
        return self.words.findall(folded)


@lru_cache(maxsize=64)
def matcher(name: str) -> Matcher:
    """The compiled matcher of one shipped list: plain lines are words, ``!`` lines exceptions."""
    lines = entries(name)
    words = [line for line in lines if not line.startswith("!")]
    exceptions = [line[1:] for line in lines if line.startswith("!")]
    return Matcher(phrase_regex(words), phrase_regex(exceptions))
