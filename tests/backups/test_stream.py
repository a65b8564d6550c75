"""The single-pass read: the hash covers every byte, inflate is checked to the end, memory stays bounded."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

from opsverify.backups.plain_sql import PlainSqlScanner
from opsverify.backups.stream import MAX_INFLATE_CALL, HashingReader, read_once
from tests.backups.pgdumps import Dumps


class Collect:
    def __init__(self) -> None:
        self.blocks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.blocks.append(data)

    @property
    def data(self) -> bytes:
        return b"".join(self.blocks)


def test_hash_and_inflate_in_one_read(dumps: Dumps) -> None:
    sink = Collect()
    result = read_once(dumps.plain_gz, gzip=True, sinks=[sink], chunk_size=4096)
    assert result.sha256 == hashlib.sha256(dumps.plain_gz.read_bytes()).hexdigest()
    assert sink.data == dumps.plain.read_bytes()
    assert result.inflated_bytes == dumps.plain.stat().st_size
    assert result.bytes_read == dumps.plain_gz.stat().st_size
    assert result.gzip_error is None


def test_multi_member_gzip_like_pigz_or_cat(tmp_path: Path) -> None:
    path = tmp_path / "b.sql.gz"
    path.write_bytes(gzip.compress(b"first\n") + gzip.compress(b"second\n"))
    sink = Collect()
    result = read_once(path, gzip=True, sinks=[sink])
    assert sink.data == b"first\nsecond\n"
    assert result.gzip_members == 2


def test_truncated_gzip_still_hashes_the_whole_file(tmp_path: Path) -> None:
    data = gzip.compress(b"x" * 100_000 + bytes(range(256)) * 400)
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    result = read_once(path, gzip=True, sinks=[])
    assert result.gzip_error is not None
    assert result.gzip_error.startswith("gzip stream is truncated")
    assert result.sha256 == hashlib.sha256(data[: len(data) // 2]).hexdigest()


def test_crc_mismatch_and_trailing_garbage(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(b"hello world" * 100))
    data[-8] ^= 0xFF  # CRC32 of the member
    bad_crc = tmp_path / "crc.gz"
    bad_crc.write_bytes(bytes(data))
    assert "checksum mismatch" in str(read_once(bad_crc, gzip=True, sinks=[]).gzip_error)
    garbage = tmp_path / "garbage.gz"
    garbage.write_bytes(gzip.compress(b"ok") + b"appended by mistake")
    assert "trailing garbage" in str(read_once(garbage, gzip=True, sinks=[]).gzip_error)
    padded = tmp_path / "padded.gz"
    padded.write_bytes(gzip.compress(b"ok") + b"\x00" * 512)  # tape-style zero padding is harmless
    assert read_once(padded, gzip=True, sinks=[]).gzip_error is None


def test_inflate_output_per_call_is_bounded(tmp_path: Path) -> None:
    """64 MB of zeros compress to ~64 KB: one input chunk must not become one 64 MB block in memory."""
    path = tmp_path / "zeros.gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    path.write_bytes(compressor.compress(b"\x00" * (64 << 20)) + compressor.flush())
    sizes: list[int] = []

    class Measure:
        def write(self, data: bytes) -> None:
            sizes.append(len(data))

    result = read_once(path, gzip=True, sinks=[Measure()])
    assert result.inflated_bytes == 64 << 20
    assert max(sizes) <= MAX_INFLATE_CALL


def test_progress_reports_bytes_delivered(dumps: Dumps) -> None:
    seen: list[int] = []
    read_once(dumps.plain_gz, gzip=True, sinks=[], progress=seen.append, chunk_size=8192)
    assert seen == sorted(seen)
    assert seen[-1] == dumps.plain.stat().st_size


def test_hashing_reader_drains_to_the_end(dumps: Dumps) -> None:
    with HashingReader(dumps.plain) as reader:
        reader.read(10)
        reader.drain()
        assert reader.hexdigest() == hashlib.sha256(dumps.plain.read_bytes()).hexdigest()


def test_scanner_counts_keywords_split_across_chunks(dumps: Dumps) -> None:
    whole, byte_by_byte = PlainSqlScanner(), PlainSqlScanner()
    data = dumps.plain.read_bytes()
    whole.write(data)
    for index in range(0, len(data), 7):  # odd chunking splits many keywords
        byte_by_byte.write(data[index : index + 7])
    a, b = whole.finish(), byte_by_byte.finish()
    assert (a.create_tables, a.copies, a.inserts) == (b.create_tables, b.copies, b.inserts) == (4, 4, 0)
    assert a.trailer
    assert b.trailer
    assert a.header
    assert b.header
    assert a.dumped_from is not None
    assert a.dumped_from.startswith("15")


def test_statement_at_the_very_start_counts() -> None:
    scanner = PlainSqlScanner()
    scanner.write(b"COPY public.t (a) FROM stdin;\n1\n\\.\n")
    assert scanner.finish().copies == 1
