"""The single read of a backup on bytes built in the test: hash, inflate, the gzip defects' exact messages.

Fast (no server): these tests judge `opsverify/backups/stream.py` in `make mutation`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import zlib
from pathlib import Path

import pytest

from opsverify.backups.stream import (
    CHUNK_SIZE,
    MAX_INFLATE_CALL,
    BackgroundHash,
    GzipError,
    HashingReader,
    Inflater,
    InflatingReader,
    StreamResult,
    read_handle,
    read_once,
)

TRUNCATED = (
    "gzip stream is truncated: it ends after {compressed} compressed ({inflated} inflated) without its end "
    "marker; the file was cut short (disk full, killed dump, interrupted copy)"
)
# A gzip member header, then a deflate block of the reserved type 3: zlib says "invalid block type".
BAD_MEMBER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\xff"


class Collect:
    def __init__(self) -> None:
        self.blocks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.blocks.append(data)

    @property
    def data(self) -> bytes:
        return b"".join(self.blocks)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_plain_read_hashes_and_delivers_every_chunk(tmp_path: Path) -> None:
    data = os.urandom(10_000)
    first, second, seen = Collect(), Collect(), []
    result = read_once(
        write(tmp_path, "a.bin", data),
        gzip=False,
        sinks=[first, second],
        progress=seen.append,
        chunk_size=4096,
    )
    assert result == StreamResult(bytes_read=10_000, sha256=sha(data))
    assert first.blocks == second.blocks == [data[:4096], data[4096:8192], data[8192:]]
    assert seen == [4096, 8192, 10_000]


def test_without_hash_the_file_is_still_read_and_measured(tmp_path: Path) -> None:
    sink = Collect()
    result = read_once(write(tmp_path, "a.bin", b"abc" * 10), gzip=False, sinks=[sink], hash_file=False)
    assert result == StreamResult(bytes_read=30, sha256=None)
    assert sink.data == b"abc" * 10


def test_an_empty_file(tmp_path: Path) -> None:
    seen: list[int] = []
    result = read_once(write(tmp_path, "e.bin", b""), gzip=False, sinks=[], progress=seen.append)
    assert result == StreamResult(bytes_read=0, sha256=sha(b""))
    assert seen == []


def test_a_gzip_read_counts_what_was_inflated(tmp_path: Path) -> None:
    text = b"line of text\n" * 1000
    packed = gzip.compress(text)
    sink, seen = Collect(), []
    path = write(tmp_path, "a.gz", packed)
    result = read_once(path, gzip=True, sinks=[sink], progress=seen.append, chunk_size=100)
    assert result == StreamResult(
        bytes_read=len(packed), sha256=sha(packed), inflated_bytes=len(text), gzip_members=1
    )
    assert sink.data == text
    assert seen[-1] == len(text)
    assert len(seen) == -(-len(packed) // 100)


def test_a_read_of_an_open_stream_reads_to_its_end() -> None:
    class Body:
        """A bucket object's body: returns None at its end, like some HTTP bodies."""

        def __init__(self, data: bytes) -> None:
            self._stream = io.BytesIO(data)

        def read(self, size: int = -1, /) -> bytes | None:  # type: ignore[override]
            return self._stream.read(size) or None

    sink = Collect()
    result = read_handle(Body(b"x" * 25), gzip=False, sinks=[sink], chunk_size=10)
    assert sink.blocks == [b"x" * 10, b"x" * 10, b"x" * 5]
    assert result == StreamResult(bytes_read=25, sha256=sha(b"x" * 25))


def test_two_members_are_one_stream(tmp_path: Path) -> None:
    packed = gzip.compress(b"first\n") + gzip.compress(b"second\n") + gzip.compress(b"third\n")
    sink = Collect()
    result = read_once(write(tmp_path, "m.gz", packed), gzip=True, sinks=[sink], chunk_size=7)
    assert sink.data == b"first\nsecond\nthird\n"
    assert (result.gzip_members, result.inflated_bytes, result.gzip_error) == (3, 19, None)


def test_a_truncated_stream_says_how_far_it_got(tmp_path: Path) -> None:
    text = os.urandom(3000)
    cut = gzip.compress(text)[:2000]
    inflated = len(zlib.decompressobj(wbits=31).decompress(cut))
    result = read_once(write(tmp_path, "cut.gz", cut), gzip=True, sinks=[], chunk_size=512)
    assert result.gzip_error == TRUNCATED.format(compressed="2.0KB", inflated=f"{inflated / 1000:.1f}KB")
    assert (result.bytes_read, result.sha256, result.inflated_bytes) == (2000, sha(cut), inflated)


def test_a_truncated_stream_of_highly_compressed_data_counts_every_byte_fed(tmp_path: Path) -> None:
    """Each call inflates at most MAX_INFLATE_CALL bytes, leaving input unconsumed: it is counted once."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    packed = compressor.compress(b"\x00" * (3 * MAX_INFLATE_CALL)) + compressor.flush()
    cut = packed[: len(packed) - 20]
    inflated = len(zlib.decompressobj(wbits=31).decompress(cut))
    sizes: list[int] = []

    class Measure:
        def write(self, data: bytes) -> None:
            sizes.append(len(data))

    result = read_once(write(tmp_path, "z.gz", cut), gzip=True, sinks=[Measure()])
    assert result.gzip_error == TRUNCATED.format(
        compressed=f"{len(cut) / 1000:.1f}KB", inflated=f"{inflated / 1_000_000:.1f}MB"
    )
    assert sizes[0] == MAX_INFLATE_CALL
    assert sum(sizes) == result.inflated_bytes == inflated


def test_an_empty_gzip_file_is_truncated(tmp_path: Path) -> None:
    result = read_once(write(tmp_path, "e.gz", b""), gzip=True, sinks=[])
    assert result == StreamResult(
        sha256=sha(b""),
        inflated_bytes=0,
        gzip_members=1,
        gzip_error=TRUNCATED.format(compressed="0B", inflated="0B"),
    )


def test_a_crc_mismatch_is_a_checksum_mismatch(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(b"hello world" * 100))
    packed[-8] ^= 0xFF
    result = read_once(write(tmp_path, "crc.gz", bytes(packed)), gzip=True, sinks=[])
    assert result.gzip_error == "gzip checksum mismatch (incorrect data check): the data is corrupt"


def test_a_length_mismatch_is_a_checksum_mismatch(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(b"hello world" * 100))
    packed[-1] ^= 0x01
    result = read_once(write(tmp_path, "len.gz", bytes(packed)), gzip=True, sinks=[])
    assert result.gzip_error == "gzip checksum mismatch (incorrect length check): the data is corrupt"


def test_not_gzip_at_all(tmp_path: Path) -> None:
    sink = Collect()
    result = read_once(write(tmp_path, "x.gz", b"plain text, not gzip"), gzip=True, sinks=[sink])
    assert result.gzip_error == "not a gzip stream (bad header)"
    assert (result.bytes_read, result.inflated_bytes, sink.data) == (20, 0, b"")


def test_a_corrupt_member_names_the_offset_where_it_starts(tmp_path: Path) -> None:
    first = gzip.compress(os.urandom(10_000))
    sink = Collect()
    path = write(tmp_path, "bad.gz", first + BAD_MEMBER + b"\x00" * 100)
    result = read_once(path, gzip=True, sinks=[sink], chunk_size=4096)
    assert result.gzip_error == f"gzip stream is corrupt near byte {len(first)} (invalid block type)"
    assert (result.gzip_members, len(sink.data), result.bytes_read) == (2, 10_000, len(first) + 111)


def test_the_inflate_stops_at_the_first_error_but_the_hash_goes_on(tmp_path: Path) -> None:
    packed = gzip.compress(b"ok") + BAD_MEMBER + gzip.compress(b"never read")
    sink = Collect()
    result = read_once(
        write(tmp_path, "stop.gz", packed), gzip=True, sinks=[sink], chunk_size=len(packed) - 5
    )
    assert sink.data == b"ok"
    assert (
        result.gzip_error
        == f"gzip stream is corrupt near byte {len(gzip.compress(b'ok'))} (invalid block type)"
    )
    assert result.sha256 == sha(packed)


def test_trailing_garbage_is_counted_and_placed(tmp_path: Path) -> None:
    member = gzip.compress(b"ok")
    result = read_once(write(tmp_path, "g.gz", member + b"appended"), gzip=True, sinks=[])
    assert result.gzip_error == (
        f"8 bytes of trailing garbage after the gzip stream at offset {len(member)}: "
        "something was appended to the file"
    )
    one = read_once(write(tmp_path, "g1.gz", member + b"!"), gzip=True, sinks=[])
    assert one.gzip_error == (
        f"1 byte of trailing garbage after the gzip stream at offset {len(member)}: "
        "something was appended to the file"
    )


def test_trailing_garbage_in_a_later_chunk_is_placed_where_the_stream_ended(tmp_path: Path) -> None:
    member = gzip.compress(b"ok")
    packed = member + b"\x00" * 30 + b"junk"
    result = read_once(write(tmp_path, "late.gz", packed), gzip=True, sinks=[], chunk_size=len(member) + 10)
    assert result.gzip_error == (
        f"34 bytes of trailing garbage after the gzip stream at offset {len(member)}: "
        "something was appended to the file"
    )


@pytest.mark.parametrize("chunk_size", [7, 1 << 20])
def test_zero_padding_after_the_stream_is_harmless(tmp_path: Path, chunk_size: int) -> None:
    sink = Collect()
    packed = gzip.compress(b"ok") + b"\x00" * 512
    result = read_once(write(tmp_path, "pad.gz", packed), gzip=True, sinks=[sink], chunk_size=chunk_size)
    assert (result.gzip_error, result.gzip_members, sink.data) == (None, 1, b"ok")


def test_the_inflater_alone_counts_members_bytes_and_refuses_a_cut_stream() -> None:
    inflater, out = Inflater(), Collect()
    assert (inflater.members, inflater.consumed, inflater.inflated) == (1, 0, 0)
    packed = gzip.compress(b"abc") + gzip.compress(b"defg")
    inflater.feed(packed, out.write)
    inflater.finish()
    assert (inflater.members, inflater.consumed, inflater.inflated, out.data) == (
        2,
        len(packed),
        7,
        b"abcdefg",
    )
    cut = Inflater()
    cut.feed(packed[:5], out.write)
    with pytest.raises(GzipError) as raised:
        cut.finish()
    assert str(raised.value) == TRUNCATED.format(compressed="5B", inflated="0B")


def test_background_hash_covers_every_update_and_can_be_closed_twice() -> None:
    hasher = BackgroundHash()
    for part in (b"a", b"b" * 100_000, b"c"):
        hasher.update(part)
    assert hasher.hexdigest() == sha(b"a" + b"b" * 100_000 + b"c")
    hasher.close()
    assert hasher.hexdigest() == sha(b"a" + b"b" * 100_000 + b"c")
    other = BackgroundHash("sha512")
    other.update(b"x")
    assert other.hexdigest() == hashlib.sha512(b"x").hexdigest()


def test_hashing_reader_counts_and_hashes_what_is_read(tmp_path: Path) -> None:
    data = os.urandom(5000)
    with HashingReader(write(tmp_path, "h.bin", data)) as reader:
        assert reader.read(10) == data[:10]
        assert reader.bytes_read == 10
        reader.drain()
        assert reader.bytes_read == 5000
        assert reader.read(10) == b""
        assert reader.bytes_read == 5000
        assert reader.hexdigest() == sha(data)


def test_hashing_reader_reads_everything_at_once(tmp_path: Path) -> None:
    reader = HashingReader(write(tmp_path, "h.bin", b"0123456789"))
    assert reader.read() == b"0123456789"
    assert (reader.bytes_read, reader.hexdigest()) == (10, sha(b"0123456789"))
    reader.close()


def test_inflating_reader_hands_out_what_is_asked(tmp_path: Path) -> None:
    text = b"".join(b"%05d\n" % i for i in range(100_000))
    path = write(tmp_path, "t.gz", gzip.compress(text))
    with HashingReader(path) as source:
        reader = InflatingReader(source)
        assert reader.read(6) == b"00000\n"
        assert reader.read(0) == b""
        assert reader.delivered == 6
        assert reader.read(6) == b"00001\n"
        rest = reader.read()
        assert rest == text[12:]
        assert reader.delivered == len(text)
        assert reader.read(10) == b""
        assert reader.read() == b""
        source.drain()
        assert source.hexdigest() == sha(path.read_bytes())


def test_inflating_reader_raises_on_a_cut_stream(tmp_path: Path) -> None:
    packed = gzip.compress(b"0123456789" * 10)
    with HashingReader(write(tmp_path, "c.gz", packed[:-9])) as source:
        reader = InflatingReader(source)
        with pytest.raises(GzipError) as raised:
            reader.read()
        assert str(raised.value).startswith("gzip stream is truncated: it ends after ")


def test_only_zero_bytes_count_as_padding(tmp_path: Path) -> None:
    member = gzip.compress(b"ok")
    result = read_once(write(tmp_path, "x.gz", member + b"\x00XX\x00"), gzip=True, sinks=[])
    assert result.gzip_error == (
        f"4 bytes of trailing garbage after the gzip stream at offset {len(member)}: "
        "something was appended to the file"
    )


def test_a_zlib_stream_is_not_gzip(tmp_path: Path) -> None:
    """zlib's own format (no gzip header) is refused, not auto-detected."""
    result = read_once(write(tmp_path, "z.gz", zlib.compress(b"data" * 100)), gzip=True, sinks=[])
    assert result.gzip_error == "not a gzip stream (bad header)"


def test_background_hash_survives_many_digests() -> None:
    hasher = BackgroundHash()
    hasher.update(b"x")
    assert {hasher.hexdigest() for _ in range(10)} == {sha(b"x")}


class RecordingReader(HashingReader):
    """A HashingReader that notes the sizes its readers ask for."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.sizes: list[int] = []

    def read(self, size: int = -1, /) -> bytes:
        self.sizes.append(size)
        return super().read(size)


def test_readers_pull_bounded_chunks(tmp_path: Path) -> None:
    """Memory stays flat: the file is pulled a chunk at a time, never read whole."""
    data = os.urandom(3 * CHUNK_SIZE)
    with RecordingReader(write(tmp_path, "r.bin", data)) as reader:
        reader.drain()
        assert reader.sizes == [CHUNK_SIZE] * 4
        assert reader.hexdigest() == sha(data)
    with RecordingReader(write(tmp_path, "r.gz", gzip.compress(data, compresslevel=1))) as source:
        inflating = InflatingReader(source)
        assert inflating.read(10) == data[:10]
        asked = len(source.sizes)
        assert inflating.read(0) == b""
        assert len(source.sizes) == asked  # nothing asked for no bytes
        assert inflating.read() == data[10:]
        assert set(source.sizes) == {CHUNK_SIZE}


def test_inflating_reader_returns_a_full_buffer_before_it_looks_for_the_end(tmp_path: Path) -> None:
    """The cut trailer is only found by the read after the data: a read of exactly what is there succeeds."""
    text = b"0123456789" * 10
    with HashingReader(write(tmp_path, "c.gz", gzip.compress(text)[:-4])) as source:
        reader = InflatingReader(source)
        assert reader.read(6) == text[:6]
        assert reader.read(94) == text[6:]
        with pytest.raises(GzipError, match=r"^gzip stream is truncated"):
            reader.read(1)
