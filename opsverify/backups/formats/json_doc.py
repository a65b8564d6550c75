"""JSON documents (`json`, e.g. a vector-store export): parsed whole, the items at `items_path` counted."""

from __future__ import annotations

from opsverify.backups.files import BackupFile
from opsverify.backups.formats.base import BackupFormat, ReadOptions
from opsverify.backups.inspection import Detected, Inspection
from opsverify.backups.json_document import read_json


def read(backup: BackupFile, detected: Detected, out: Inspection, options: ReadOptions) -> None:
    document = read_json(
        backup.path, gzip=detected.gzip, items_path=options.items_path, hash_file=options.hash_file
    )
    out.bytes_read, out.sha256, out.items = document.bytes_read, document.sha256, document.items
    out.defects += document.defects()


def looks_like_json(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


FORMAT = BackupFormat(
    name="json",
    read=read,
    declared={"json": None},
    text=looks_like_json,
    extensions=(".json", ".jsonl"),
)
