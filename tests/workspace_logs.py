"""Squid lines for the workspace tests, so both of its modules build logs the same way."""

from __future__ import annotations

from datetime import datetime

from helpers import SAMPLES

NATIVE = SAMPLES / "squid-native.log"


def native_lines() -> list[bytes]:
    return NATIVE.read_bytes().splitlines(keepends=True)


def squid_line(when: datetime, url: str = "http://example.org/", user: str = "-") -> bytes:
    """One Squid native line logged at ``when`` (UTC)."""
    ms = int(when.timestamp() * 1000)
    return (
        f"{ms // 1000}.{ms % 1000:03d}     42 10.0.0.7 TCP_MISS/200 1234 GET {url} {user} "
        "HIER_DIRECT/93.184.216.34 text/html\n"
    ).encode()
