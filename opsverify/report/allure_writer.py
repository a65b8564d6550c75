"""allure-results redacted as they are written, and written off the test loop.

allure-pytest's file logger writes each result, container and attachment synchronously, and the run then
re-read and re-wrote every file to redact it. Over 1000 checks that was seconds of the gate's time.

`RedactingFileLogger` takes its place (same constructor, same hooks, same files): the hook serialises and
redacts what it is given at once. The first `INLINE_FILES` files are written at once; after that the bytes
go through a pipe to a small writer process that creates the files on the other core while the tests go on
(see the note at `_submit` for why not a thread). `flush()` returns when every file is on disk; what the
writer could not write is written here. The names written are already redacted, so the final pass
(`redact_results_dir`) skips them and still covers every other file (xdist workers', anything copied in by
hand).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attr
from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger

from opsverify.redaction import redact
from opsverify.report.allure_files import redact_file, redacted_text, step_uuid

_LOGGERS: weakref.WeakSet[RedactingFileLogger] = weakref.WeakSet()


def install(allure_plugin: Any) -> Callable[[], None]:
    """Make allure-pytest's `pytest_configure` create a `RedactingFileLogger`; returns the undo, which also
    writes out and stops every such logger (call it at the end of the run)."""
    original = allure_plugin.AllureFileLogger
    allure_plugin.AllureFileLogger = RedactingFileLogger

    def undo() -> None:
        allure_plugin.AllureFileLogger = original
        for logger in list(_LOGGERS):
            logger.close()

    return undo


def loggers_for(results_dir: Path) -> list[RedactingFileLogger]:
    """The live loggers writing into `results_dir` (in this process)."""
    where = results_dir.absolute()
    return [logger for logger in list(_LOGGERS) if logger._report_dir == where]


_FIELDS: dict[type, tuple[str, ...]] = {}


def plain(value: Any, clean: Callable[[str], str] = str) -> Any:
    """`attr.asdict(value, filter=...)` as allure-commons writes its model: empty fields left out (but False),
    lists for tuples; every string (and dict key) passed through `clean` on the way (the redaction: one walk
    instead of two). A few times faster than the generic asdict, which matters at thousands of results."""
    kind = type(value)
    if kind is str:
        return clean(value)
    if kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is list or kind is tuple:
        return [plain(item, clean) for item in value]
    if kind is dict:
        return {clean(str(key)): plain(item, clean) for key, item in value.items()}
    names = _FIELDS.get(kind)
    if names is None:
        if not attr.has(kind):
            return clean(value) if isinstance(value, str) else value
        names = _FIELDS[kind] = tuple(field.name for field in attr.fields(kind))
    out = {}
    for name in names:
        item = getattr(value, name)
        if item or item is False:
            out[name] = plain(item, clean)
    return out


WRITER_TIMEOUT = 300.0  # seconds to wait for the writer process at the end
INLINE_FILES = 40  # a run with fewer files writes them itself; a larger one hands them to a writer process

# The writer process: reads (name, bytes) records from stdin and writes each file as NAME.tmp, then renames it.
# Plain Python without site imports: it starts in a few milliseconds. Exits 1 when a file could not be written,
# and the logger then writes them itself (and reports what fails there). It prints nothing: output nobody reads
# until the end could fill a pipe and stall both processes.
_WRITER = r"""
import os, sys
folder, read, failed = sys.argv[1], sys.stdin.buffer.read, 0
while True:
    head = read(12)
    if len(head) < 12:
        break
    size = int.from_bytes(head[4:], "big")
    name = read(int.from_bytes(head[:4], "big")).decode("utf-8")
    data = read(size)
    if len(data) < size:
        break
    temporary = os.path.join(folder, name + ".tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(data)
        os.replace(temporary, os.path.join(folder, name))
    except OSError:
        failed = 1
sys.exit(failed)
"""


class RedactingFileLogger(AllureFileLogger):
    """allure-commons' file logger, redacting at write time; many files go through a writer process."""

    def __init__(self, report_dir: str | Path, clean: bool = False) -> None:
        super().__init__(report_dir, clean)  # type: ignore[no-untyped-call]
        self.written: set[str] = set()  # names of files written here (already redacted)
        self.results: list[dict[str, Any]] = []  # the test results reported here, as written
        self._handed: list[tuple[str, bytes]] = []  # given to the writer process, not confirmed yet
        self._child: subprocess.Popen[bytes] | None = None
        self._count = 0
        self._closed = False
        self._lock = threading.Lock()
        self.errors: list[str] = []
        _LOGGERS.add(self)

    # --- writing ----------------------------------------------------------------------------------------
    # Creating a file costs ~0.5 ms of kernel time on a VM disk, over 1 s for the 2000 files of a 1000-check
    # run. Written by the test loop, that time adds up; by a writer thread, every system call of the thread
    # waits to win the GIL back from the busy loop (up to the 5 ms switch interval), so it fell behind and
    # the run waited for it at the end. A writer process creates them on the other core meanwhile.

    def _submit(self, name: str, data: bytes) -> None:
        with self._lock:
            self._count += 1
            if self._closed or (self._child is None and self._count <= INLINE_FILES):
                self._write_here(name, data)
                return
            if self._child is None:
                self._child = self._start_writer()
            if self._child is not None and self._child.stdin is not None:
                try:
                    encoded = name.encode("utf-8")
                    self._child.stdin.write(
                        len(encoded).to_bytes(4, "big") + len(data).to_bytes(8, "big") + encoded + data
                    )
                    self._handed.append((name, data))
                    return
                except OSError:  # the writer died: write here from now on
                    self._closed = True
                    self._finish_writer()
            self._write_here(name, data)

    def _start_writer(self) -> subprocess.Popen[bytes] | None:
        try:
            return subprocess.Popen(
                [sys.executable, "-S", "-c", _WRITER, str(self._report_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                bufsize=1 << 16,
            )
        except OSError:
            self._closed = True  # no writer process: write each file here
            return None

    def _finish_writer(self) -> None:
        """Wait for the writer process; whatever it did not confirm is written here (called under the lock)."""
        child, handed = self._child, self._handed
        self._child, self._handed = None, []
        if child is None:
            return
        assert child.stdin is not None
        with contextlib.suppress(OSError):
            child.stdin.close()
        try:
            code = child.wait(timeout=WRITER_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            code = child.wait()
        if code == 0:
            self.written.update(name for name, _ in handed)
            return
        for name, data in handed:  # rewrite them all: renaming over a complete file is harmless
            self._write_here(name, data)

    def flush(self) -> None:
        """Every file reported so far is written when this returns."""
        with self._lock:
            self._finish_writer()

    def close(self) -> None:
        """Write what is waiting; anything reported afterwards is written at once."""
        with self._lock:
            self._closed = True
            self._finish_writer()

    def _write_here(self, name: str, data: bytes) -> None:
        temporary, final = self._report_dir / f"{name}.tmp", self._report_dir / name
        try:
            temporary.write_bytes(data)
            os.replace(temporary, final)
        except OSError as exc:  # a report file must never break the run
            self.errors.append(f"{name}: {exc}")
            return
        self.written.add(name)

    # --- allure-commons hooks ---------------------------------------------------------------------------

    def _report_item(self, item: Any) -> dict[str, Any]:
        # Serialised and redacted here, written by the thread: a thread busy with Python code would hold the
        # GIL for up to 5 ms each time the test loop makes a system call (a convoy); writing only waits on I/O.
        name = item.file_pattern.format(prefix=step_uuid())
        indent = 4 if os.environ.get("ALLURE_INDENT_OUTPUT") else None
        data = plain(item, redact)
        assert isinstance(data, dict)
        self._submit(name, json.dumps(data, indent=indent, ensure_ascii=False).encode("utf-8"))
        return data

    @hookimpl
    def report_result(self, result: Any) -> None:
        self.results.append(self._report_item(result))

    @hookimpl
    def report_container(self, container: Any) -> None:
        self._report_item(container)

    @hookimpl
    def report_globals(self, globals_item: Any) -> None:
        self._report_item(globals_item)

    def write_redacted(self, file_name: str, data: bytes) -> None:
        """An attachment whose text is redacted already (`OpenResult.attach`): written as it is."""
        self._submit(file_name, data)

    def expect(self, files: int) -> None:
        """The run will report about `files` files: when that is more than `INLINE_FILES`, the writer
        process starts now rather than after the first `INLINE_FILES` are written in the test loop (on a
        fresh VM disk, ~0.5 ms each)."""
        with self._lock:
            if files > INLINE_FILES and self._child is None and not self._closed:
                self._child = self._start_writer()

    @hookimpl
    def report_attached_data(self, body: str | bytes, file_name: str) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            cleaned = None  # binary: left alone, as the final pass does
        else:
            cleaned = redacted_text(Path(file_name).suffix, text)
        self._submit(file_name, cleaned.encode("utf-8") if cleaned is not None else data)

    @hookimpl
    def report_attached_file(self, source: str | Path, file_name: str) -> None:
        temporary, final = self._report_dir / f"{file_name}.tmp", self._report_dir / file_name
        shutil.copy2(source, temporary)
        os.replace(temporary, final)
        redact_file(final)
        self.written.add(file_name)
