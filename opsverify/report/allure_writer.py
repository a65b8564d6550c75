"""allure-results written off the test loop, redacted as they are written.

allure-pytest's file logger writes each result, container and attachment synchronously: a file creation
costs ~1 ms on a busy disk, two files per check (result + facts attachment), and the run then re-read
and re-wrote every file to redact it. Over 1000 checks that was seconds of the gate's time.

`RedactingFileLogger` takes its place (same constructor, same hooks, same files): the hook serialises and
redacts what it is given at once, and one writer thread only creates and writes the files, while the
tests go on. `flush()` waits for every queued file; the names it wrote are already redacted, so
the final pass (`redact_results_dir`) skips them and still covers every other file (xdist workers',
anything copied in by hand).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger
from attr import asdict

from opsverify.redaction import redact_data
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


def _keep(_attribute: object, value: object) -> bool:
    return bool(value) or value is False  # as allure-commons: empty fields are left out


class RedactingFileLogger(AllureFileLogger):
    """allure-commons' file logger with one writer thread and redaction at write time."""

    def __init__(self, report_dir: str | Path, clean: bool = False) -> None:
        super().__init__(report_dir, clean)  # type: ignore[no-untyped-call]
        self.written: set[str] = set()  # names of files written here (already redacted)
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []
        _LOGGERS.add(self)

    # --- the writer thread ------------------------------------------------------------------------------

    def _submit(self, name: str, data: bytes) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="opsverify-allure-writer", daemon=True
                )
                self._thread.start()
        self._queue.put((name, data))

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                self._write(*job)
            except Exception as exc:  # noqa: BLE001 (a report file must never break the run)
                self.errors.append(f"{type(exc).__name__}: {exc}")
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Wait until every queued file is written."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.join()

    def close(self) -> None:
        """Write what is queued and stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join()

    def _write(self, name: str, data: bytes) -> None:
        temporary, final = self._report_dir / f"{name}.tmp", self._report_dir / name
        temporary.write_bytes(data)
        os.replace(temporary, final)
        self.written.add(name)

    # --- allure-commons hooks ---------------------------------------------------------------------------

    def _report_item(self, item: Any) -> None:
        # Serialised and redacted here, written by the thread: a thread busy with Python code would hold the
        # GIL for up to 5 ms each time the test loop makes a system call (a convoy); writing only waits on I/O.
        name = item.file_pattern.format(prefix=step_uuid())
        indent = 4 if os.environ.get("ALLURE_INDENT_OUTPUT") else None
        data = redact_data(asdict(item, filter=_keep))
        self._submit(name, json.dumps(data, indent=indent, ensure_ascii=False).encode("utf-8"))

    @hookimpl
    def report_result(self, result: Any) -> None:
        self._report_item(result)

    @hookimpl
    def report_container(self, container: Any) -> None:
        self._report_item(container)

    @hookimpl
    def report_globals(self, globals_item: Any) -> None:
        self._report_item(globals_item)

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
