"""The JSON, SQLite and tar readers on bytes built here: every message whole, every count, the hash and its off
switch (the unit tests `make mutation` judges json_document, sqlite_backup and tar_archive with)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from opsverify.backups.json_document import JsonRead, read_json
from opsverify.backups.sqlite_backup import SqliteRead, _CopySink, check_database, copy_and_check
from opsverify.backups.stream import StreamResult
from opsverify.backups.tar_archive import TarRead, read_tar, unsafe_reason

NOT_GZIP = "not a gzip stream (bad header)"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- json_document -------------------------------------------------------------------------------------


def test_a_json_document_is_counted_hashed_and_sized(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"vectors": {"a": 1, "b": 2, "c": 3}}))
    assert read_json(path, gzip=False, items_path="vectors") == JsonRead(
        path.stat().st_size, sha(path), 3, None
    )
    assert read_json(path, gzip=False, items_path="vectors", hash_file=False) == JsonRead(
        path.stat().st_size, None, 3, None
    )
    assert read_json(path, gzip=False, items_path=None).items == 1  # the top-level object's one key


def test_a_gzipped_json_document_is_inflated_and_its_raw_bytes_hashed(tmp_path: Path) -> None:
    path = tmp_path / "export.json.gz"
    path.write_bytes(gzip.compress(b"[1, 2, 3, 4]"))
    assert read_json(path, gzip=True, items_path=None) == JsonRead(path.stat().st_size, sha(path), 4, None)


def test_a_broken_gzip_wrapper_is_the_only_json_defect(tmp_path: Path) -> None:
    path = tmp_path / "export.json.gz"
    path.write_bytes(b"[1, 2, 3] is not gzip")
    result = read_json(path, gzip=True, items_path=None)
    assert result == JsonRead(path.stat().st_size, sha(path), None, NOT_GZIP)
    assert result.defects() == [NOT_GZIP]


def test_json_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(b'["ok", "\xff"]')
    result = read_json(path, gzip=False, items_path=None)
    assert result.items is None
    assert result.defects() == ["not valid JSON: not UTF-8 text (invalid start byte at byte 8)"]


def test_json_cut_short_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(b'[\n  {"id": 1},\n  {"id": ')
    result = read_json(path, gzip=False, items_path=None)
    assert result.items is None
    assert result.defects() == [
        "not valid JSON: Expecting value at line 3 column 10 (the file is cut short or corrupt)"
    ]


@pytest.mark.parametrize(
    ("document", "items_path", "error"),
    [
        ({"data": {"rows": [1, 2]}}, "data.missing", "items_path 'data.missing' is not in the document"),
        ({"data": {"rows": 7}}, "data.rows", "expected a list or an object at 'data.rows', got int"),
        ("just text", None, "expected a list or an object at the top level, got str"),
        ("just text", "", "expected a list or an object at the top level, got str"),
    ],
)
def test_json_items_that_are_missing_or_not_a_collection(
    tmp_path: Path, document: object, items_path: str | None, error: str
) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))
    result = read_json(path, gzip=False, items_path=items_path)
    assert (result.items, result.error, result.defects()) == (None, error, [error])


def test_a_json_read_without_an_error_has_no_defects() -> None:
    assert JsonRead().defects() == []


@pytest.mark.parametrize(("document", "items"), [({"a": {"b": [1, 2, 3]}}, 3), ({"a": {"b": []}}, 0)])
def test_json_items_at_a_nested_path(tmp_path: Path, document: object, items: int) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))
    result = read_json(path, gzip=False, items_path="a.b")
    assert (result.items, result.defects()) == (items, [])


# --- sqlite_backup -------------------------------------------------------------------------------------


def make_db(path: Path, tables: tuple[str, ...] = ("messages", "accounts")) -> Path:
    connection = sqlite3.connect(path)
    with connection:
        for table in tables:
            connection.execute(f"create table {table} (id integer primary key, v text)")
            connection.execute(f"insert into {table} (v) values ('x')")
    connection.close()
    return path


def make_corrupt_index_db(path: Path, rows: int) -> Path:
    """A database whose index disagrees with its table: integrity_check reports one line per row."""
    connection = sqlite3.connect(path)
    connection.execute("create table t (a, b)")
    connection.execute("create index i on t (a)")
    connection.executemany("insert into t values (?, ?)", [(n, 1000 - n) for n in range(rows)])
    connection.commit()
    connection.execute("pragma writable_schema = on")
    connection.execute("update sqlite_master set sql = 'CREATE INDEX i ON t (b)' where name = 'i'")
    connection.commit()
    connection.close()
    return path


def read_sqlite(tmp_path: Path, name: str, content: bytes, *, gzip_: bool) -> SqliteRead:
    """`copy_and_check` of `content` saved as src/NAME, copied into work/, with the default settings."""
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (source / name).write_bytes(content)
    return copy_and_check(source / name, gzip=gzip_, workdir=work)


def test_a_good_sqlite_backup_is_copied_and_lists_its_tables_in_order(tmp_path: Path) -> None:
    raw = make_db(tmp_path / "made.db").read_bytes()
    result = read_sqlite(tmp_path, "app.db", raw, gzip_=False)
    assert result.copy == tmp_path / "work" / "app.db"
    assert result.copy.read_bytes() == raw
    assert (result.error, result.integrity, result.tables) == (None, ["ok"], ["accounts", "messages"])
    assert result.defects() == []
    assert result.stream.bytes_read == len(raw)
    assert result.stream.sha256 == hashlib.sha256(raw).hexdigest()
    assert (
        copy_and_check(
            tmp_path / "src" / "app.db", gzip=False, workdir=tmp_path / "work", hash_file=False
        ).stream.sha256
        is None
    )


@pytest.mark.parametrize(
    ("name", "gzip_", "copy_name"),
    [("app.db.gz", True, "app.db"), ("app.gzdb", True, "app.gzdb"), ("app.db.gz", False, "app.db.gz")],
)
def test_the_copy_drops_a_gz_suffix_only_of_a_gzipped_backup(
    tmp_path: Path, name: str, gzip_: bool, copy_name: str
) -> None:
    raw = make_db(tmp_path / "made.db").read_bytes()
    result = read_sqlite(tmp_path, name, gzip.compress(raw) if gzip_ else raw, gzip_=gzip_)
    assert result.copy == tmp_path / "work" / copy_name
    assert result.copy.read_bytes() == raw
    assert (result.defects(), result.tables) == ([], ["accounts", "messages"])
    assert result.stream.inflated_bytes == (len(raw) if gzip_ else None)


def test_a_broken_gzip_wrapper_is_the_sqlite_error_and_nothing_is_checked(tmp_path: Path) -> None:
    raw = make_db(tmp_path / "made.db").read_bytes()
    result = read_sqlite(tmp_path, "app.db.gz", raw, gzip_=True)
    assert (result.error, result.integrity, result.tables) == (NOT_GZIP, [], [])
    assert result.defects() == [NOT_GZIP]


def test_a_file_without_the_sqlite_header_is_not_opened(tmp_path: Path) -> None:
    result = read_sqlite(tmp_path, "app.db", b"SQLite format 2\x00" + b"\x00" * 4096, gzip_=False)
    assert (result.integrity, result.tables) == ([], [])
    assert result.defects() == ["no 'SQLite format 3' header: not an SQLite database file"]


def test_the_header_is_gathered_across_small_writes(tmp_path: Path) -> None:
    sink = _CopySink(tmp_path / "copy.db")
    for piece in (b"SQL", b"ite for", b"mat 3\x00", b"rest of the page"):
        sink.write(piece)
    sink.close()
    assert sink.head.startswith(b"SQLite format 3\x00")
    assert (tmp_path / "copy.db").read_bytes() == b"SQLite format 3\x00rest of the page"


def test_an_sqlite_header_over_garbage_fails_the_integrity_check(tmp_path: Path) -> None:
    result = read_sqlite(tmp_path, "app.db", b"SQLite format 3\x00" + b"\x00" * 200, gzip_=False)
    assert result.defects() == [
        "PRAGMA integrity_check failed: file is not a database: the database file is corrupt"
    ]


def test_a_corrupt_index_shows_three_findings_and_counts_the_rest_up_to_20(tmp_path: Path) -> None:
    raw = make_corrupt_index_db(tmp_path / "made.db", rows=30).read_bytes()
    result = read_sqlite(tmp_path, "app.db", raw, gzip_=False)
    assert result.integrity == [f"row {n} missing from index i" for n in range(1, 21)]
    assert result.tables == ["t"]
    assert result.defects() == [
        "PRAGMA integrity_check failed: row 1 missing from index i; row 2 missing from index i; "
        "row 3 missing from index i (+17 more): the database file is corrupt"
    ]


def test_a_copy_sqlite_cannot_open_is_named(tmp_path: Path) -> None:
    result = SqliteRead(StreamResult(), tmp_path / "missing" / "app.db")
    check_database(result.copy, result)
    assert result.error == "SQLite cannot open the copy: unable to open database file"
    assert result.defects() == ["SQLite cannot open the copy: unable to open database file"]


@pytest.mark.parametrize(
    ("integrity", "tables", "error", "defects"),
    [
        (["ok"], ["t"], None, []),
        (["ok"], [], None, ["the database has no tables"]),
        (["ok"], [], "boom", ["boom"]),
        ([], ["t"], None, ["PRAGMA integrity_check failed: : the database file is corrupt"]),
        (
            ["a", "b", "c"],
            ["t"],
            None,
            ["PRAGMA integrity_check failed: a; b; c: the database file is corrupt"],
        ),
        (
            ["a", "b", "c", "d"],
            ["t"],
            None,
            ["PRAGMA integrity_check failed: a; b; c (+1 more): the database file is corrupt"],
        ),
        (
            ["a", "b", "c", "d", "e"],
            [],
            None,
            ["PRAGMA integrity_check failed: a; b; c (+2 more): the database file is corrupt"],
        ),
    ],
)
def test_sqlite_defects_in_order_of_weight(
    integrity: list[str], tables: list[str], error: str | None, defects: list[str]
) -> None:
    assert SqliteRead(StreamResult(), Path("x.db"), tables, integrity, error).defects() == defects


# --- tar_archive ---------------------------------------------------------------------------------------


def tar_bytes(*members: tarfile.TarInfo, content: bytes = b"abc") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for member in members:
            if member.isfile():
                member.size = len(content)
                archive.addfile(member, io.BytesIO(content))
            else:
                archive.addfile(member)
    return buffer.getvalue()


def info(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = linkname
    return member


def test_a_tar_counts_members_and_files_and_hashes_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "files.tar"
    path.write_bytes(
        tar_bytes(info("d", tarfile.DIRTYPE), info("d/a"), info("d/b"), info("d/l", tarfile.SYMTYPE, "a"))
    )
    assert read_tar(path, gzip=False) == TarRead(path.stat().st_size, sha(path), 4, 2, [], None)
    assert read_tar(path, gzip=False, hash_file=False) == TarRead(path.stat().st_size, None, 4, 2, [], None)


def test_a_tar_gz_is_inflated_and_its_raw_bytes_hashed(tmp_path: Path) -> None:
    path = tmp_path / "files.tar.gz"
    path.write_bytes(gzip.compress(tar_bytes(info("a"), info("b"), info("c"))))
    assert read_tar(path, gzip=True) == TarRead(path.stat().st_size, sha(path), 3, 3, [], None)


def test_a_file_member_is_read_to_its_end(tmp_path: Path) -> None:
    """A member larger than one read chunk: the archive after it is still found."""
    path = tmp_path / "big.tar"
    path.write_bytes(tar_bytes(info("big"), info("small"), content=bytes(range(256)) * 8200))
    assert read_tar(path, gzip=False).members == 2
    assert read_tar(path, gzip=False).defects() == []


def test_a_broken_gzip_wrapper_is_the_tar_error_and_the_file_is_still_hashed(tmp_path: Path) -> None:
    path = tmp_path / "files.tar.gz"
    path.write_bytes(tar_bytes(info("a")))
    result = read_tar(path, gzip=True)
    assert result == TarRead(path.stat().st_size, sha(path), 0, 0, [], NOT_GZIP)
    assert result.defects() == [f"archive is unreadable after 0 members: {NOT_GZIP}"]


def test_a_tar_cut_inside_a_member_is_truncated_and_hashed_whole(tmp_path: Path) -> None:
    path = tmp_path / "files.tar"
    raw = tar_bytes(info("a"), info("b"), content=b"x" * 3000)
    path.write_bytes(raw[:2000])
    result = read_tar(path, gzip=False)
    assert (result.bytes_read, result.sha256) == (2000, sha(path))
    assert result.defects() == [
        "archive is unreadable after 1 member: unexpected end of data (the archive is truncated)"
    ]


def test_an_empty_file_is_an_unreadable_tar(tmp_path: Path) -> None:
    path = tmp_path / "files.tar"
    path.write_bytes(b"")
    assert read_tar(path, gzip=False).defects() == ["archive is unreadable after 0 members: empty file"]


def test_a_tar_of_nothing_has_no_members(tmp_path: Path) -> None:
    path = tmp_path / "files.tar"
    path.write_bytes(b"\x00" * 1024)
    result = read_tar(path, gzip=False)
    assert (result.error, result.members) == (None, 0)
    assert result.defects() == ["archive has no members: the backup job archived an empty or missing folder"]


@pytest.mark.parametrize(("cut", "error"), [(512, None), (511, True)])
def test_the_end_of_archive_marker_needs_one_whole_block(
    tmp_path: Path, cut: int, error: bool | None
) -> None:
    """After the last member, 512 zero bytes are the end marker; one byte fewer is a truncated archive."""
    raw = tar_bytes(info("a"))
    end_of_data = 512 + 512  # the header block and the content block of `a`
    path = tmp_path / "files.tar"
    path.write_bytes(raw[: end_of_data + cut])
    result = read_tar(path, gzip=False)
    assert result.members == 1
    if error:
        assert result.defects() == [
            "archive is unreadable after 1 member: it ends without the end-of-archive marker "
            "(the archive is truncated)"
        ]
    else:
        assert result.defects() == []


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (info("a/../../b"), "a/../../b"),
        (info("/etc/passwd"), "/etc/passwd"),
        (info("a..b/c..d"), None),
        (info("up", tarfile.SYMTYPE, "../../etc/shadow"), "up -> ../../etc/shadow"),
        (info("hard", tarfile.LNKTYPE, "/etc/shadow"), "hard -> /etc/shadow"),
        (info("near", tarfile.SYMTYPE, "sub/file"), None),
        (info("plain", tarfile.REGTYPE, "../not-a-link"), None),
    ],
)
def test_unsafe_member_reasons(member: tarfile.TarInfo, reason: str | None) -> None:
    assert unsafe_reason(member) == reason


def test_unsafe_members_are_collected_in_order(tmp_path: Path) -> None:
    path = tmp_path / "files.tar"
    path.write_bytes(tar_bytes(info("ok"), info("/abs"), info("up", tarfile.SYMTYPE, "../x")))
    result = read_tar(path, gzip=False)
    assert result.unsafe == ["/abs", "up -> ../x"]
    assert result.defects() == [
        "unsafe member paths (absolute or with ..): /abs, up -> ../x; extracting would write outside the "
        "target folder: rebuild the archive with relative paths (tar -C DIR -czf ...)"
    ]


@pytest.mark.parametrize(
    ("read", "defects"),
    [
        (TarRead(members=2), []),
        (TarRead(members=2, unsafe=None), []),
        (TarRead(members=0), ["archive has no members: the backup job archived an empty or missing folder"]),
        (TarRead(members=1, error="bad"), ["archive is unreadable after 1 member: bad"]),
        (TarRead(members=0, error="bad"), ["archive is unreadable after 0 members: bad"]),
        (
            TarRead(members=7, unsafe=[f"/u{n}" for n in range(6)], error="cut"),
            [
                "unsafe member paths (absolute or with ..): /u0, /u1, /u2, /u3, /u4 (+1 more); extracting "
                "would write outside the target folder: rebuild the archive with relative paths "
                "(tar -C DIR -czf ...)",
                "archive is unreadable after 7 members: cut",
            ],
        ),
        (
            TarRead(members=5, unsafe=[f"/u{n}" for n in range(5)]),
            [
                "unsafe member paths (absolute or with ..): /u0, /u1, /u2, /u3, /u4; extracting "
                "would write outside the target folder: rebuild the archive with relative paths "
                "(tar -C DIR -czf ...)"
            ],
        ),
    ],
)
def test_tar_defects_whole(read: TarRead, defects: list[str]) -> None:
    assert read.defects() == defects
