"""One read of a backup file: sha256 on a helper thread while the main thread inflates and feeds inspectors.

hashlib and zlib both release the GIL on large buffers, so hashing and inflating run side by side; memory
stays flat (a few chunks in flight, inflate output capped per call) whatever the size of the file.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from opsverify.units import format_size, plural

CHUNK_SIZE = 1 << 20
MAX_INFLATE_CALL = 4 << 20  # inflate output per call: bounds memory on highly compressible (or hostile) data
_QUEUE_DEPTH = 4


class Sink(Protocol):
    """Receives the (inflated) bytes of a backup in order."""

    def write(self, data: bytes, /) -> object: ...


class Readable(Protocol):
    """What a backup is read from: an open file, or the body of an object in a bucket."""

    def read(self, size: int = -1, /) -> bytes: ...


class BackgroundHash:
    """A hash (sha256 unless named) computed on its own thread from chunks handed over with `update`."""

    def __init__(self, algorithm: str = "sha256") -> None:
        self._hash = hashlib.new(algorithm)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUE_DEPTH)
        self._thread = threading.Thread(target=self._run, name="opsverify-sha256", daemon=True)
        self._thread.start()
        self._done = False

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._hash.update(chunk)

    def update(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        self.close()
        return self._hash.hexdigest()

    def close(self) -> None:
        if not self._done:
            self._done = True
            self._queue.put(None)
            self._thread.join()


class GzipError(Exception):
    """The gzip stream is damaged; the message says how, in an operator's words."""


class Inflater:
    """Incremental gzip inflate across multiple members; refuses trailing garbage and truncation."""

    def __init__(self) -> None:
        self._decompressor = zlib.decompressobj(wbits=31)
        self.members = 1
        self.consumed = 0
        self.inflated = 0

    def feed(self, data: bytes, out: Callable[[bytes], object]) -> None:
        while data:
            # After the end of a stream zero padding stays in unused_data and every later chunk joins it.
            kept = len(self._decompressor.unused_data)
            try:
                block = self._decompressor.decompress(data, MAX_INFLATE_CALL)
            except zlib.error as exc:
                raise GzipError(_describe_zlib_error(exc, self.consumed)) from None
            if block:
                self.inflated += len(block)
                out(block)
            if self._decompressor.eof:
                rest = self._decompressor.unused_data
                self.consumed += len(data) - (len(rest) - kept)
                if not rest:
                    return
                if not rest.startswith(b"\x1f\x8b"):
                    if rest.strip(b"\x00"):
                        raise GzipError(
                            f"{plural(len(rest), 'byte')} of trailing garbage after the gzip stream at offset "
                            f"{self.consumed}: something was appended to the file"
                        )
                    return
                self._decompressor = zlib.decompressobj(wbits=31)
                self.members += 1
                data = rest
            else:
                tail = self._decompressor.unconsumed_tail
                self.consumed += len(data) - len(tail)
                data = tail

    def finish(self) -> None:
        if not self._decompressor.eof:
            raise GzipError(
                f"gzip stream is truncated: it ends after {format_size(self.consumed)} compressed "
                f"({format_size(self.inflated)} inflated) without its end marker; the file was cut short "
                "(disk full, killed dump, interrupted copy)"
            )


def _describe_zlib_error(exc: zlib.error, offset: int) -> str:
    reason = str(exc).split(":", 1)[-1].strip()
    if "incorrect data check" in reason or "incorrect length check" in reason:
        return f"gzip checksum mismatch ({reason}): the data is corrupt"
    if "incorrect header check" in reason:
        return "not a gzip stream (bad header)"
    return f"gzip stream is corrupt near byte {offset} ({reason})"


@dataclass
class StreamResult:
    """What one read of the file established besides the sinks' own findings."""

    bytes_read: int = 0
    sha256: str | None = None
    inflated_bytes: int | None = None
    gzip_members: int = 0
    gzip_error: str | None = None


def read_once(
    path: Path,
    *,
    gzip: bool,
    sinks: Sequence[Sink],
    hash_file: bool = True,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> StreamResult:
    """Read `path` once: hash the raw bytes, inflate when `gzip`, pass the content to every sink in order.

    A damaged gzip stream stops the inflate (reported in `gzip_error`) but the hash still covers the file.
    `progress(bytes_written)` is called after each chunk reached the sinks. Exceptions from sinks propagate.
    """
    with path.open("rb", buffering=0) as handle:
        return read_handle(
            handle, gzip=gzip, sinks=sinks, hash_file=hash_file, progress=progress, chunk_size=chunk_size
        )


def read_handle(
    handle: Readable,
    *,
    gzip: bool,
    sinks: Sequence[Sink],
    hash_file: bool = True,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> StreamResult:
    """`read_once` of an open binary stream (a file, or an object's body in a bucket) until its end."""
    result = StreamResult()
    hasher = BackgroundHash() if hash_file else None
    inflater = Inflater() if gzip else None
    written = 0

    def deliver(block: bytes) -> None:
        nonlocal written
        for sink in sinks:
            sink.write(block)
        written += len(block)

    try:
        while chunk := _read_chunk(handle, chunk_size):
            result.bytes_read += len(chunk)
            if hasher is not None:
                hasher.update(chunk)
            if inflater is None:
                deliver(chunk)
            elif result.gzip_error is None:
                try:
                    inflater.feed(chunk, deliver)
                except GzipError as exc:
                    result.gzip_error = str(exc)
            if progress is not None:
                progress(written)
        if inflater is not None:
            if result.gzip_error is None:
                try:
                    inflater.finish()
                except GzipError as exc:
                    result.gzip_error = str(exc)
            result.inflated_bytes = inflater.inflated
            result.gzip_members = inflater.members
    finally:
        if hasher is not None:
            digest = hasher.hexdigest()
    if hasher is not None:
        result.sha256 = digest
    return result


def _read_chunk(handle: Readable, size: int) -> bytes:
    return handle.read(size) or b""


class HashingReader:
    """A file object for pull-based parsers (tarfile, json) that hashes what they read, on a helper thread."""

    def __init__(self, path: Path) -> None:
        self._handle = path.open("rb")
        self._hash = BackgroundHash()
        self.bytes_read = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._handle.read(size)
        if data:
            self.bytes_read += len(data)
            self._hash.update(data)
        return data

    def drain(self) -> None:
        """Read the rest of the file (parsers may stop before the end) so the hash covers all of it."""
        while self.read(CHUNK_SIZE):
            pass

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        self._hash.close()
        self._handle.close()

    def __enter__(self) -> HashingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InflatingReader:
    """A file object over a HashingReader that inflates gzip on the fly (for pull-based parsers like tarfile).

    Raises GzipError when the stream is damaged; `delivered` counts the inflated bytes handed out.
    """

    def __init__(self, source: HashingReader) -> None:
        self._source = source
        self._inflater = Inflater()
        self._buffer = bytearray()
        self._eof = False
        self.delivered = 0

    def read(self, size: int = -1, /) -> bytes:
        while not self._eof and (size < 0 or len(self._buffer) < size):
            raw = self._source.read(CHUNK_SIZE)
            if not raw:
                self._eof = True
                self._inflater.finish()
                break
            self._inflater.feed(raw, self._buffer.extend)
        if size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        self.delivered += len(data)
        return data
