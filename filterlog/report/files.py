"""Writing report files: owner-only, atomic, never at a path made from log data.

Reports name children and what they did, so every directory a report creates
is 0700 and every file 0600, whatever the umask. A file is written to a
temporary name beside it, flushed and renamed, so a reader (or a cron job
mailing the report) never sees half a file. Names that come from log data,
such as a user name in an audit pack, go through ``safe_name`` first: a user
called ``../../etc/passwd`` gets a file inside the chosen directory, nowhere else.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ..errors import WorkspaceError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def private_dir(path: str | Path) -> Path:
    """``path`` as a directory, created (with any missing parents) owner-only; an existing one is left as it is."""
    path = Path(path)
    try:
        old = os.umask(0o077)
        try:
            if not path.is_dir():
                path.mkdir(parents=True, mode=0o700)
                os.chmod(path, 0o700)
        finally:
            os.umask(old)
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot create directory: {exc.strerror or exc}") from exc
    return path


def write_private(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` (mode 0600) through a temporary file and a rename; make its directory if needed.

    Text is written as UTF-8. An existing file is replaced whole; its old
    mode does not survive.
    """
    path = Path(path)
    private_dir(path.parent)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WorkspaceError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    return path


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, hex."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def safe_name(text: str, limit: int = 60) -> str:
    """A file-name part made from untrusted text: letters, digits, ``. _ -`` only, never hidden or empty.

    Distinct inputs that clean to the same text (``a/b`` and ``a:b``) stay
    distinct: a short hash of the original is added whenever anything was changed.
    """
    cleaned = _UNSAFE.sub("_", text).strip("._-")[:limit] or "unnamed"
    if cleaned != text:
        cleaned += "-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return cleaned
