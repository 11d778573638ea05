"""Compiled loops for the hot spots whole-column numpy handles badly, run without the GIL.

Numba compiles these on first use and caches the machine code beside this file
(``__pycache__``, keyed by this file's time stamp), so a process pays the compile
(about 2.5 s) once per install, then about 0.3 s to import Numba and load it. Each
is a whole-column call: one Python call per block, a loop over rows and bytes in
machine code. They stay in this one file, longer than our modules usually are:
Numba's cache checks only the file of the function it loads, so a helper moved
to another file could change under a caller whose stale machine code is reused.

``squid_native`` splits a block of plain ``logformat squid`` lines into fields,
times, elapsed times and sizes in one pass, and lists the lines it does not call
plain, which the reader's general path (Arrow's CSV reader, one pass per line
layout) reads instead: the reference it is tested against, tests/test_squid_compiled.py.

``url_spans`` cuts the common URL shapes, ``http(s)://host[:port]/...`` and a
CONNECT ``host:port``. With numpy steps that cost 0.7 CPU-s per million lines:
every step gathered bytes for every row, and a host's end had to be looked for
in a fixed window of bytes per row. Reading each byte once costs a sixth of it.
Rows with anything unusual in the authority (user info, an IPv6 literal, a
scheme other than http(s), no scheme on a non-CONNECT row) are left undone, for
the general numpy path of ``_url``: the reference this loop is tested against
(tests/test_url_split.py).

``gather`` copies many byte spans into one Arrow string column, 32 bytes at
a time (``_copy32``: Numba has no unaligned word access, so small intrinsics
give one): 3-4 times cheaper than building string views and casting them, the
way ``_spans`` did, and five times a byte loop. ``_find`` looks for a field's
end 32 bytes at a time and ``positions`` for newlines 64 at a time, with vector
compares (``_hits32``, ``_hits64``): the Squid splitter 13 % and the newline
scan 40 % quicker than with 8-byte words.

``has_byte`` and ``ascii_and_cr`` answer the per-block questions (any non-ASCII
byte? a CR? a NUL?) as fast as ``bytes.isascii`` and ``in`` but without the GIL:
those scans held it for about 1 s per 10M lines while the other parse thread
waited; ``ascii_and_cr`` asks two in one pass (0.64 against 1.24 ms a block). ``positions``
finds a block's newlines without a scratch array as large as the block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic


def _loop(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Compile ``fn`` without the GIL, its machine code cached on disk where numba finds a place.

    Numba refuses ``cache=True`` outright when no cache directory is writable (a
    read-only install with no writable home, say); the loops are then compiled
    in each process instead, about 2.5 s, rather than failing every ingest.
    """
    try:
        return numba.njit(nogil=True, cache=True, boundscheck=False)(fn)
    except RuntimeError:
        return numba.njit(nogil=True, cache=False, boundscheck=False)(fn)


def _table(chars: str) -> np.ndarray:
    t = np.zeros(256, dtype=np.bool_)
    t[[ord(c) for c in chars]] = True
    return t


_HOST_END = _table("/?#:@[]")
_PORT_END = _table("/?#@[]")
_ODD = _table("@[]")


@_loop
def _scheme_colon(buf: np.ndarray, s: int, e: int) -> tuple[int, bool]:
    """Position of the ``:`` of ``http://`` or ``https://`` (any case), or -1.

    Also whether another four- or five-letter ``xxxx://`` scheme starts the URL: the general path's case.
    """
    for width in (4, 5):
        at = s + width
        if e - s > width + 2 and buf[at] == 58 and buf[at + 1] == 47 and buf[at + 2] == 47:
            named = (buf[s] | 32) == 104 and (buf[s + 1] | 32) == 116 and (buf[s + 2] | 32) == 116
            named = named and (buf[s + 3] | 32) == 112 and (width == 4 or (buf[s + 4] | 32) == 115)
            return (at, False) if named else (-1, True)
    return -1, False


@_loop
def _first(buf: np.ndarray, start: int, end: int, table: np.ndarray) -> int:
    """The first position in [start, end) holding a byte of ``table``, else ``end``."""
    p = start
    while p < end and not table[buf[p]]:
        p += 1
    return p


@_loop
def _port(buf: np.ndarray, start: int, end: int) -> tuple[int, bool]:
    """The decimal port in [start, end): its value and whether it is 1-5 digits up to 65535."""
    value = _digits(buf, start, end) if end - start <= 5 else -1
    return max(value, 0), 0 <= value <= 65535


@_loop
def _marks(buf: np.ndarray, start: int, end: int) -> tuple[int, int]:
    """The first ``?`` and the first ``#`` from ``start`` (``end`` where none).

    A ``?`` after the ``#`` still counts, as the general path's plain search finds it.
    Nothing before the authority's end can hold either: both end a host and a port.
    """
    first = _find(buf, start, end, 63, 35)
    if first == end:
        return end, end
    if buf[first] == 63:
        return first, _find(buf, first + 1, end, 35, 35)
    return _find(buf, first + 1, end, 63, 63), first


@_loop
def url_spans(
    buf: np.ndarray,
    s: np.ndarray,
    e: np.ndarray,
    bare: np.ndarray,
    scheme_e: np.ndarray,
    host_s: np.ndarray,
    host_e: np.ndarray,
    port: np.ndarray,
    path_s: np.ndarray,
    path_e: np.ndarray,
    query_s: np.ndarray,
    query_e: np.ndarray,
    flags: np.ndarray,
) -> None:
    """Fill the part spans of every common-shape row, in place.

    ``flags`` columns: has_scheme, has_host, port_valid, has_path, has_query, done.
    Rows not done keep zeros, for the general path.
    """
    for i in range(len(s)):
        si, ei = s[i], e[i]
        colon, other = _scheme_colon(buf, si, ei)
        http = colon >= 0
        if other or not (http or bare[i]):
            continue
        h = colon + 3 if http else si
        stop = _first(buf, h, ei, _HOST_END)
        ended = stop == ei
        c = buf[stop] if not ended else 0
        if _ODD[c] or not (http or ended or c == 58):
            continue  # user info or an IPv6 literal; a bare authority followed by a path
        auth_e = stop
        number, valid = 0, False
        if c == 58:
            if buf[stop + 1] == 47 and buf[stop + 2] == 47:
                continue  # a bare "ftp://..." on a CONNECT row
            auth_e = _first(buf, stop + 1, ei, _PORT_END)
            if auth_e < ei and _ODD[buf[auth_e]]:
                continue
            number, valid = _port(buf, stop + 1, auth_e)
        elif http:
            number, valid = (443 if colon - si == 5 else 80), True
        q, f = _marks(buf, auth_e, ei)
        scheme_e[i] = colon if http else si
        host_s[i], host_e[i], port[i] = h, stop, number
        path_s[i], path_e[i] = auth_e, min(q, f)
        query_s[i], query_e[i] = q + 1, f if f > q else ei
        flags[i, 0], flags[i, 1], flags[i, 2] = http, True, valid
        flags[i, 3], flags[i, 4], flags[i, 5] = min(q, f) > auth_e, q < ei, True


_WORD = ir.IntType(64)


def _word_at(context: Any, builder: Any, array_type: Any, array: Any, index: Any, to: Any = _WORD) -> Any:
    """An LLVM pointer to a ``to`` (word or vector) in ``array`` at byte ``index``: for a load or store of align 1."""
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [index]), to.as_pointer())


def _copier(width: int) -> Any:
    """An intrinsic copying ``src[start:start + width]`` to ``dst[at:at + width]``: one unaligned load and store.

    Numba has no unaligned word access of its own (a ``view`` would assume
    alignment); a byte loop of unknown, short length copies at about 0.5 GB/s.
    LLVM makes a 32-byte copy one vector load and store where the CPU has them
    (AVX), two otherwise.
    """
    word = ir.IntType(8 * width)

    @intrinsic
    def copy(typingctx: Any, dst: Any, at: Any, src: Any, start: Any) -> Any:
        def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            value = builder.load(_word_at(context, builder, sig.args[2], args[2], args[3], word), align=1)
            builder.store(value, _word_at(context, builder, sig.args[0], args[0], args[1], word), align=1)
            return context.get_dummy_value()

        return types.void(dst, types.int64, src, types.int64), codegen

    return copy


_copy8 = _copier(8)
_copy32 = _copier(32)


@intrinsic
def _load8(typingctx: Any, src: Any, start: Any) -> Any:
    """The 8 bytes ``src[start:start + 8]`` as one word, its first byte lowest (x86-64 and ARM64 are little-endian)."""

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return builder.load(_word_at(context, builder, sig.args[0], args[0], args[1]), align=1)

    return types.uint64(src, types.int64), codegen


def _matcher(width: int) -> Any:
    """An intrinsic: bit k set where ``src[start + k]`` is byte ``a`` or ``b``, for the ``width`` bytes from ``start``.

    One unaligned vector load, two compares and a mask move (AVX2 or AVX-512
    where the CPU has them, SSE2 otherwise; Numba has no vector types of its
    own): a field's end or a block's newlines are found ``width`` bytes a step
    rather than eight.
    """
    vector = ir.VectorType(ir.IntType(8), width)
    lanes = ir.Constant(ir.VectorType(ir.IntType(32), width), [0] * width)

    @intrinsic
    def hits(typingctx: Any, src: Any, start: Any, a: Any, b: Any) -> Any:
        def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            loaded = builder.load(_word_at(context, builder, sig.args[0], args[0], args[1], vector), align=1)

            def splat(value: Any) -> Any:
                byte = builder.trunc(value, ir.IntType(8))
                one = builder.insert_element(ir.Constant(vector, None), byte, ir.Constant(ir.IntType(32), 0))
                return builder.shuffle_vector(one, ir.Constant(vector, None), lanes)

            equal = [builder.icmp_unsigned("==", loaded, splat(value)) for value in args[2:]]
            mask = builder.bitcast(builder.or_(*equal), ir.IntType(width))
            return mask if width == 64 else builder.zext(mask, ir.IntType(64))

        return types.uint64(src, types.int64, types.int64, types.int64), codegen

    return hits


_hits32 = _matcher(32)
_hits64 = _matcher(64)


@_loop
def gather(
    buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, valid: np.ndarray, lower: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The offsets and bytes of an Arrow string column holding ``buf[starts[i]:ends[i]]`` where valid.

    Empty where not valid or where the span is empty or reversed. ``lower``: A-Z
    become a-z on the way (the caller makes sure no byte is beyond ASCII). Spans
    are copied 32 bytes at a time (8 when that covers one), each copy's
    overshoot overwritten by the next span's (``data`` has 32 bytes to spare,
    and spans in the last 32 bytes of ``buf`` are copied byte by byte): five
    times the speed of a byte loop, and 7-10 % less time than 8-byte copies on
    Squid's fields (agents and URLs are long; the copy waits on memory more
    than on instructions).
    """
    n = len(starts)
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = total = 0
    for i in range(n):
        if valid[i] and ends[i] > starts[i]:
            total += ends[i] - starts[i]
        offsets[i + 1] = total
    data = np.empty(total + 32, np.uint8)
    limit = len(buf) - 32
    for i in range(n):
        at, start = offsets[i], starts[i]
        length = offsets[i + 1] - at
        if start + length <= limit:
            if length <= 8:
                _copy8(data, at, buf, start)
            else:
                for k in range(0, length, 32):
                    _copy32(data, at + k, buf, start + k)
        else:
            for k in range(length):
                data[at + k] = buf[start + k]
    if lower:
        for k in range(total):
            data[k] |= np.uint8(32) if 65 <= data[k] <= 90 else np.uint8(0)
    return offsets, data[:total]


_LOW = np.uint64(0x7F7F7F7F7F7F7F7F)
_ONES = np.uint64(0x0101010101010101)


@_loop
def _words(buf: np.ndarray) -> tuple[np.ndarray, int]:
    """The whole eight-byte words of ``buf``, and how many; the tail is left to the caller."""
    n = len(buf) // 8
    return buf[: n * 8].view(np.uint64), n


@_loop
def _zero_bytes(x: np.uint64) -> np.uint64:
    """The high bit of each byte of ``x`` that is zero (``word ^ pattern`` zero where a byte matches)."""
    return ~(((x & _LOW) + _LOW) | x) & ~_LOW


@_loop
def has_byte(buf: np.ndarray, value: int) -> bool:
    """Whether ``buf`` holds the byte ``value`` (below 128), or any byte of 128 or more if ``value`` is 128.

    Eight bytes at a time, as fast as ``bytes.isascii`` or ``in``, which hold
    the GIL the other parse thread wants.
    """
    words, n = _words(buf)
    seen = np.uint64(0)
    if value >= 128:
        for i in range(n):
            seen |= words[i]
        seen &= ~_LOW
    else:
        pattern = np.uint64(value) * _ONES
        for i in range(n):
            seen |= _zero_bytes(words[i] ^ pattern)
    for i in range(n * 8, len(buf)):
        if buf[i] == value or (value >= 128 and buf[i] >= 128):
            return True
    return seen != 0


@_loop
def ascii_and_cr(buf: np.ndarray) -> tuple[bool, bool]:
    """Whether ``buf`` holds a byte of 128 or more, and whether a CR: ``clean``'s two questions in one pass."""
    words, n = _words(buf)
    high = cr = np.uint64(0)
    pattern = np.uint64(13) * _ONES
    for i in range(n):
        high |= words[i]
        cr |= _zero_bytes(words[i] ^ pattern)
    for i in range(n * 8, len(buf)):
        high |= np.uint64(buf[i]) << np.uint64(56)
        cr |= np.uint64(buf[i] == 13) << np.uint64(63)
    return (high & ~_LOW) != 0, cr != 0


@_loop
def count(buf: np.ndarray, value: int) -> int:
    """How many bytes of ``buf`` equal ``value`` (below 128): eight at a time, no scratch array."""
    words, n = _words(buf)
    pattern = np.uint64(value) * _ONES
    found = 0
    for i in range(n):
        hits = _zero_bytes(words[i] ^ pattern)
        while hits:
            found += 1
            hits &= hits - np.uint64(1)
    for i in range(n * 8, len(buf)):
        found += buf[i] == value
    return found


@_loop
def _fill(buf: np.ndarray, value: int, out: np.ndarray) -> int:
    """Write where ``buf`` holds ``value`` into ``out``; how many, or -1 if ``out`` is too short."""
    n = len(buf) // 64
    k = 0
    for i in range(n):
        hits = _hits64(buf, i * 64, value, value)
        while hits:  # bit j is byte j of the 64: the lowest set bit is the first
            if k == len(out):
                return -1
            out[k] = i * 64 + np.int64(trailing_zeros(hits))
            k += 1
            hits &= hits - np.uint64(1)
    for j in range(n * 64, len(buf)):
        if buf[j] == value:
            if k == len(out):
                return -1
            out[k] = j
            k += 1
    return k


@_loop
def positions(buf: np.ndarray, value: int) -> np.ndarray:
    """Where ``buf`` holds ``value`` (below 128), as ``np.flatnonzero(buf == value)``.

    In one pass, 64 bytes at a time, and without numpy's scratch array of one
    flag per byte (16 MB a block), which this machine pays for in page faults.
    Room is made for one hit in 64 bytes; denser hits are counted first.
    """
    out = np.empty(len(buf) // 64 + 16, np.int64)
    k = _fill(buf, value, out)
    if k < 0:
        out = np.empty(count(buf, value), np.int64)
        k = _fill(buf, value, out)
    return out[:k].copy()


@_loop
def _elapsed_at(buf: np.ndarray, start: int, end: int) -> int:
    """Where the elapsed field of a native Squid line in [start, end) begins, past its padding; -1 if not plain.

    Plain: at least 32 bytes, a 10-digit epoch with 3 decimals (``.`` at byte
    10, a space at byte 14), then at most 5 spaces of padding (Squid right-aligns
    the elapsed time in 6 characters).
    """
    if end - start < 32 or buf[start + 10] != 46 or buf[start + 14] != 32:
        return -1
    p = start + 15
    while p < start + 21 and buf[p] == 32:
        p += 1
    return -1 if p == start + 21 else p


@_loop
def _digits(buf: np.ndarray, start: int, end: int) -> int:
    """The decimal number in [start, end): 1 to 18 digits, else -1."""
    if not 0 < end - start <= 18:
        return -1
    value = 0
    for p in range(start, end):
        digit = np.int64(buf[p]) - 48
        if digit < 0 or digit > 9:
            return -1
        value = value * 10 + digit
    return value


@_loop
def _find(buf: np.ndarray, start: int, end: int, a: int, b: int) -> int:
    """The first position in [start, end) holding byte ``a`` or ``b`` (below 128), else ``end``.

    32 bytes at a time while they lie inside ``buf`` (a hit at or past ``end``
    gives ``end``), then eight, then one: fields and quoted agents run to tens of
    bytes, and a byte loop tests each one twice.
    """
    p = start
    limit = len(buf) - 32
    while p < end and p <= limit:
        hits = _hits32(buf, p, a, b)
        if hits:
            return min(p + np.int64(trailing_zeros(hits)), end)
        p += 32
    if p >= end:
        return end
    wa, wb = np.uint64(a) * _ONES, np.uint64(b) * _ONES
    while p + 8 <= end:
        word = _load8(buf, p)
        hits = _zero_bytes(word ^ wa) | _zero_bytes(word ^ wb)
        if hits:
            return p + (np.int64(trailing_zeros(hits)) >> 3)
        p += 8
    while p < end and buf[p] != a and buf[p] != b:
        p += 1
    return p


@_loop
def _token(buf: np.ndarray, start: int, end: int) -> int:
    """The end of the field starting at ``start`` (a space or the line's end); -1 if empty or quoted."""
    p = _find(buf, start, end, 32, 34)
    return -1 if p == start or (p < end and buf[p] == 34) else p


@_loop
def _squid_line(
    buf: np.ndarray, start: int, end: int, quoted: bool, i: int, ms: np.ndarray, elapsed: np.ndarray,
    size: np.ndarray, spans: np.ndarray,
) -> bool:  # fmt: skip
    """Cut line ``i``, [start, end) without its CR/LF, into row ``i`` of the outputs; False if it is not plain."""
    p = _elapsed_at(buf, start, end)
    if p < 0:
        return False
    seconds, fraction = _digits(buf, start, start + 10), _digits(buf, start + 11, start + 14)
    q = _token(buf, p, end)
    value = _digits(buf, p, q) if q > 0 else -1
    if seconds < 0 or fraction < 0 or value < 0 or q == end:
        return False
    ms[i], elapsed[i] = seconds * 1000 + fraction, value
    slot = 0
    for field in range(2, 10):  # client, code, bytes, method, URL, user, hierarchy, MIME type
        p = q + 1
        q = _token(buf, p, end)
        if q < 0 or (q == end) != (field == 9 and not quoted):
            return False
        if field == 4:
            size[i] = _digits(buf, p, q)
            if size[i] < 0:
                return False
        elif field == 8:  # the hierarchy, CODE/peer: the general path quarantines one without its slash
            if _find(buf, p, q, 47, 47) == q:
                return False
        else:
            spans[0, slot, i], spans[1, slot, i] = p, q
            slot += 1
    if quoted:
        for slot in (6, 7):  # "referer" "user agent"
            p = q + 1
            if p >= end or buf[p] != 34:
                return False
            q = _find(buf, p + 1, end, 34, 34)
            if q == end or (slot == 6 and (q + 1 == end or buf[q + 1] != 32)) or (slot == 7 and q + 1 != end):
                return False
            spans[0, slot, i], spans[1, slot, i] = p + 1, q
            q += 1
    return True


@_loop
def squid_native(
    buf: np.ndarray, newlines: np.ndarray, quoted: bool, most: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut every line of a block of plain ``logformat squid`` lines into fields, in one pass.

    Returns the indices of the lines that are not plain (none when all are; the
    loop stops at the ``most + 1``-th), then per line the time in ms, the
    elapsed time, the size, and the [start, end) spans of client, result code,
    method, URL, user, MIME type and, if ``quoted``, referer and user agent
    (``spans[0]`` starts, ``spans[1]`` ends). A line that is not plain leaves
    its row unset.

    Plain means what the general path, given the same line, would split the same
    way: a 10-digit epoch with 3 decimals, elapsed time padded with at most 5
    spaces, eight non-empty fields parted by one space and holding no ``"``, a
    hierarchy with its ``/``, and if ``quoted`` a ``"referer" "user agent"`` pair
    without inner quotes. Anything else is left to that path.
    """
    n = len(newlines)
    ms = np.empty(n, np.int64)
    elapsed = np.empty(n, np.int64)
    size = np.empty(n, np.int64)
    spans = np.empty((2, 8, n), np.int64)
    odd = np.empty(most + 1, np.int64)
    k = 0
    start = 0
    for i in range(n):
        end = newlines[i]
        if end > start and buf[end - 1] == 13:
            end -= 1
        if not _squid_line(buf, start, end, quoted, i, ms, elapsed, size, spans):
            odd[k] = i
            k += 1
            if k > most:
                break
        start = newlines[i] + 1
    return odd[:k], ms, elapsed, size, spans
