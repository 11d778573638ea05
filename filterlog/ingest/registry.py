"""The name → reader mapping, and format sniffing.

Built-in readers register here exactly as an extension would, by calling
``register``; the CLI's ``--format`` choices and ``filterlog formats`` come from it.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import FilterlogError, InputError
from .base import Reader

READERS: dict[str, type[Reader]] = {}
SNIFF_LINES = 50
_NUL_RUN = re.compile(rb"\x00{8,}")
SNIFF_MIN = 0.5
"""A format is chosen when at least this share of the first lines fit it."""


def register(reader: type[Reader]) -> type[Reader]:
    """Add a reader under its ``name`` (usable as a class decorator)."""
    if not reader.name:
        raise ValueError(f"{reader.__name__} has no name")
    READERS[reader.name] = reader
    return reader


def get_reader(name: str) -> type[Reader]:
    """The reader called ``name``, or a FilterlogError listing the valid names."""
    try:
        return READERS[name]
    except KeyError:
        raise FilterlogError(f"Unknown format {name!r} (valid: {', '.join(sorted(READERS))})") from None


def sniff(head: bytes, path: Path | str = "<input>") -> type[Reader]:
    """Pick the reader that fits the first lines of a file best, or explain why none does."""
    if not head.strip():
        raise InputError(path, "file is empty")
    sample = _NUL_RUN.sub(b"", head[:8192])  # runs of NUL are crash residue, not a format
    rows = [x for x in sample.split(b"\n") if x.strip()]
    damaged = sum(b"\x00" in x for x in rows)  # a stray NUL or two is damage to a text log; many mean binary
    if not rows or damaged > max(1, len(rows) // 10) or _binary_share(sample) > 0.3:
        raise InputError(path, "binary data, not a text log (wrong file, or compressed in an unknown way?)")
    lines = [x.replace(b"\x00", b"") for x in head.split(b"\n")[:SNIFF_LINES]]
    lines = [x for x in lines if x.strip()]
    if len(lines) > 1 and not head.endswith(b"\n"):
        lines = lines[:-1]  # the last line of a partial head may be cut short
    scores = sorted(((cls.sniff(lines), cls.specificity, name) for name, cls in READERS.items()), reverse=True)
    best, _, name = scores[0]
    if best < SNIFF_MIN:
        raise InputError(
            path, f"cannot recognise the log format (tried {', '.join(sorted(READERS))}); name it with --format", 1
        )
    return READERS[name]


def _binary_share(data: bytes) -> float:
    if not data:
        return 0.0
    text = bytes(range(32, 127)) + bytes(range(128, 256)) + b"\t\r\n\x0c\x1b"
    return len(data.translate(None, text)) / len(data)
