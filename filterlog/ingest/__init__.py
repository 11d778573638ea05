"""Log readers, one module per format family, behind one registry."""

from .base import Parsed, Reader
from .common import SquidCombined, SquidCommon
from .pipeline import FileResult, IngestReport, ingest
from .registry import READERS, get_reader, register, sniff
from .squid import SquidNative

for _reader in (SquidNative, SquidCommon, SquidCombined):
    register(_reader)

__all__ = [
    "READERS",
    "FileResult",
    "IngestReport",
    "Parsed",
    "Reader",
    "SquidCombined",
    "SquidCommon",
    "SquidNative",
    "get_reader",
    "ingest",
    "register",
    "sniff",
]
