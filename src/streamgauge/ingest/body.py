"""Reading request bodies within limits, decompressing gzip/deflate/zstd safely.

The limit applies to the *decompressed* size and is enforced while
decompressing, so a small bomb never inflates past it in memory.
"""

from __future__ import annotations

import zlib

import zstandard
from starlette.requests import Request

from streamgauge.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

_CHUNK = 256 * 1024


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body is larger than {limit} bytes (decompressed); split it into smaller batches",
        details={"limit_bytes": limit},
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The decompressed body, or 413 past ``limit`` bytes, or 4xx for bad encodings."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise _too_large(limit)
    return decompress(bytes(raw), encoding, limit)


def decompress(data: bytes, encoding: str, limit: int) -> bytes:
    if encoding in ("", "identity"):
        return data
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _inflate(data, encoding, limit)
    if encoding == "zstd":
        return _unzstd(data, limit)
    raise UnsupportedMediaType(
        f"Content-Encoding {encoding!r} is not supported; use gzip, deflate, zstd or none"
    )


def _inflate(data: bytes, encoding: str, limit: int) -> bytes:
    # 16+: gzip header; deflate: zlib header (what HTTP means by deflate).
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise _too_large(limit)
        out += inflater.flush()
    except zlib.error as error:
        raise BadRequest(f"body is not valid {encoding}: {error}", code="bad_encoding") from None
    if not inflater.eof:
        raise BadRequest(f"body is truncated {encoding} data", code="bad_encoding")
    if len(out) > limit:
        raise _too_large(limit)
    return out


def _unzstd(data: bytes, limit: int) -> bytes:
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(data)
        out = bytearray()
        while chunk := reader.read(_CHUNK):
            out += chunk
            if len(out) > limit:
                raise _too_large(limit)
    except zstandard.ZstdError as error:
        raise BadRequest(f"body is not valid zstd: {error}", code="bad_encoding") from None
    return bytes(out)
