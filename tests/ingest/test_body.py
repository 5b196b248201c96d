"""Decompression within limits: gzip, deflate, zstd, and bombs that must not inflate."""

from __future__ import annotations

import gzip
import zlib

import pytest
import zstandard

from streamgauge.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from streamgauge.ingest.body import decompress

DATA = b'[{"event": "a"}]' * 100


@pytest.mark.parametrize(
    ("encoding", "packed"),
    [
        ("identity", DATA),
        ("", DATA),
        ("gzip", gzip.compress(DATA, mtime=0)),
        ("x-gzip", gzip.compress(DATA, mtime=0)),
        ("deflate", zlib.compress(DATA)),
        ("zstd", zstandard.ZstdCompressor().compress(DATA)),
    ],
    ids=["identity", "empty", "gzip", "x-gzip", "deflate", "zstd"],
)
def test_round_trip(encoding: str, packed: bytes) -> None:
    assert decompress(packed, encoding, limit=len(DATA)) == DATA


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("zstd", zstandard.ZstdCompressor().compress),
    ],
)
def test_a_decompression_bomb_stops_at_the_limit(encoding: str, compress: object) -> None:
    bomb = compress(b"\0" * (50 * 1024 * 1024))  # type: ignore[operator]
    assert len(bomb) < 200_000
    with pytest.raises(PayloadTooLarge, match="larger than 1048576 bytes"):
        decompress(bomb, encoding, limit=1024 * 1024)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "zstd"])
def test_garbage_is_a_bad_request(encoding: str) -> None:
    with pytest.raises(BadRequest, match=f"not valid {encoding}|truncated"):
        decompress(b"definitely not compressed", encoding, limit=1000)


def test_truncated_gzip_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="truncated gzip"):
        decompress(gzip.compress(DATA)[:-12], "gzip", limit=len(DATA))


def test_unknown_encoding_is_415_naming_the_supported_ones() -> None:
    with pytest.raises(UnsupportedMediaType, match="use gzip, deflate, zstd"):
        decompress(DATA, "br", limit=len(DATA))
