"""Log readers, one module per format family, behind one registry."""

from .base import Parsed, Reader
from .bluecoat import BlueCoatSquid
from .common import SquidCombined, SquidCommon
from .e2guardian import E2Guardian
from .pipeline import FileResult, IngestReport, ingest
from .registry import READERS, get_reader, register, sniff
from .squid import SquidNative
from .squid_extended import SquidExtended
from .squidguard import SquidGuard
from .umbrella import Umbrella
from .w3c import W3CReader
from .zscaler import ZscalerCsv, ZscalerJson

_VENDOR = (Umbrella, ZscalerJson, ZscalerCsv, E2Guardian, SquidGuard)
for _reader in (SquidNative, SquidCommon, SquidCombined, BlueCoatSquid, W3CReader, SquidExtended, *_VENDOR):
    register(_reader)

__all__ = [
    "READERS",
    "BlueCoatSquid",
    "E2Guardian",
    "FileResult",
    "IngestReport",
    "Parsed",
    "Reader",
    "SquidCombined",
    "SquidCommon",
    "SquidExtended",
    "SquidGuard",
    "SquidNative",
    "Umbrella",
    "W3CReader",
    "ZscalerCsv",
    "ZscalerJson",
    "get_reader",
    "ingest",
    "register",
    "sniff",
]
