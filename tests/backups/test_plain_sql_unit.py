"""The pg_dump plain-SQL scanner on SQL text built in the test: its counts, markers, limits and messages.

Fast (no server): these tests judge `opsverify/backups/plain_sql.py` in `make mutation`.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest

from opsverify.backups.plain_sql import PlainSqlScan, PlainSqlScanner, head_dumped_from, peek_dumped_from

HEAD = b"--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 16.4 (Debian 16.4-1)\n\n"
TABLE = b"CREATE TABLE public.t (\n    id integer\n);\n\nCOPY public.t (id) FROM stdin;\n1\n\\.\n\n"
TRAILER = b"--\n-- PostgreSQL database dump complete\n--\n\n"
EMPTY = "the dump is empty (0 bytes of SQL): the dump command produced no output; check its log"
NO_HEADER = "no '-- PostgreSQL database dump' header in the first lines: not a pg_dump plain-SQL dump"
NO_TABLES = "no CREATE TABLE, COPY or INSERT statement: the dump contains no tables"


def no_trailer(shown: str) -> str:
    return (
        "no '-- PostgreSQL database dump complete' trailer at the end: the dump was cut short "
        f"(killed pg_dump, disk full, truncated copy); it ends with: {shown}"
    )


def scan(*chunks: bytes) -> tuple[PlainSqlScan, int]:
    scanner = PlainSqlScanner()
    for chunk in chunks:
        assert scanner.write(chunk) == len(chunk)
    return scanner.finish(), scanner.bytes_seen


def test_a_whole_dump_has_every_marker_and_no_defect() -> None:
    result, seen = scan(HEAD + TABLE + TRAILER)
    assert (result.header, result.trailer, result.dumped_from) == (True, True, "16.4")
    assert (result.create_tables, result.copies, result.inserts, result.data_sections) == (1, 1, 0, 1)
    assert seen == len(HEAD + TABLE + TRAILER)
    assert result.last_lines[-1] == "-- PostgreSQL database dump complete"
    assert result.defects(seen) == []


def test_nothing_written_is_an_empty_dump_and_nothing_else() -> None:
    scanner = PlainSqlScanner()
    assert scanner.write(b"") == 0
    result = scanner.finish()
    assert scanner.bytes_seen == 0
    assert result.defects(0) == [EMPTY]
    assert (result.header, result.trailer, result.dumped_from, result.last_lines) == (False, False, None, [])


def test_one_byte_is_not_empty_and_every_defect_is_named() -> None:
    result, seen = scan(b"x")
    assert seen == 1
    assert result.defects(seen) == [NO_HEADER, no_trailer("x"), NO_TABLES]


def test_no_line_at_all_is_shown_as_nothing() -> None:
    result = PlainSqlScan(header=True, copies=1)
    assert result.defects(10) == [no_trailer("(nothing)")]


def test_the_last_three_lines_are_shown_joined_and_cut_at_200_characters() -> None:
    lines = ["-- a", "SELECT 1;", "SELECT 2;", "SELECT 3;"]
    assert PlainSqlScan(header=True, inserts=1, last_lines=lines).defects(5) == [
        no_trailer("SELECT 1; | SELECT 2; | SELECT 3;")
    ]
    long = ["a" * 150, "b" * 150]
    assert PlainSqlScan(header=True, create_tables=1, last_lines=long).defects(5) == [
        no_trailer(("a" * 150 + " | " + "b" * 150)[:200])
    ]


@pytest.mark.parametrize(
    ("create_tables", "copies", "inserts"),
    [(1, 0, 0), (0, 1, 0), (0, 0, 1)],
    ids=["create", "copy", "insert"],
)
def test_any_one_statement_is_enough_for_a_table(create_tables: int, copies: int, inserts: int) -> None:
    result = PlainSqlScan(
        header=True, trailer=True, create_tables=create_tables, copies=copies, inserts=inserts
    )
    assert result.defects(1) == []
    assert result.data_sections == copies + inserts


def test_inserts_and_copies_add_up_to_the_data_sections() -> None:
    assert PlainSqlScan(copies=2, inserts=3).data_sections == 5


def test_a_dump_cut_short_shows_its_last_lines() -> None:
    result, seen = scan(HEAD + TABLE)
    assert result.defects(seen) == [no_trailer("COPY public.t (id) FROM stdin; | 1 | \\.")]


def test_statements_at_the_very_start_and_across_chunk_boundaries_count_once() -> None:
    text = b"CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);\nCOPY a (x) FROM stdin;\n\\.\n"
    whole, _ = scan(text)
    assert (whole.create_tables, whole.inserts, whole.copies) == (1, 1, 1)
    for size in (1, 2, 3, 5, 7, 11, 13):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        split, seen = scan(*chunks)
        assert (split.create_tables, split.inserts, split.copies, seen) == (1, 1, 1, len(text)), size


def test_a_statement_not_at_a_line_start_does_not_count() -> None:
    result, _ = scan(b"SELECT 'CREATE TABLE x';\n-- INSERT INTO y\n")
    assert (result.create_tables, result.inserts, result.copies) == (0, 0, 0)


def test_after_the_first_copy_create_table_and_insert_are_no_longer_counted() -> None:
    """pg_dump writes every CREATE TABLE before the data: the data's text is not searched for them."""
    result, _ = scan(
        b"CREATE TABLE a (x int);\nCOPY a (x) FROM stdin;\n", b"\nCREATE TABLE b ();\nINSERT INTO b;\n"
    )
    assert (result.create_tables, result.inserts, result.copies) == (1, 0, 1)


def test_an_insert_style_dump_keeps_counting_after_a_copy() -> None:
    result, _ = scan(
        b"INSERT INTO a VALUES (1);\nCOPY a (x) FROM stdin;\n",
        b"\nCREATE TABLE b ();\nINSERT INTO b VALUES (2);\nCOPY b (x) FROM stdin;\n",
    )
    assert (result.create_tables, result.inserts, result.copies) == (1, 2, 2)


def test_the_header_counts_only_in_the_first_2048_bytes() -> None:
    header = b"-- PostgreSQL database dump\n"
    inside = b"\n" * (2048 - len(header) + 1) + header  # the header (without its newline) ends at byte 2048
    assert scan(inside)[0].header
    assert scan(inside[1:])[0].header
    assert not scan(b"\n" + inside)[0].header


def test_the_head_is_the_first_8192_bytes_even_across_chunks() -> None:
    line = b"-- Dumped from database version 17.2\n"
    before = b"-" * (8192 - len(line) + 2)  # the head ends one byte into the version: `17.`
    result, _ = scan(before[:5000], before[5000:] + line[:10], line[10:])
    assert result.dumped_from == "17."
    result, _ = scan(before[1:5000], before[5000:] + line)
    assert result.dumped_from == "17.2"
    result, _ = scan(b"x" * 8192, line)
    assert result.dumped_from is None


def test_the_tail_is_the_last_4096_bytes() -> None:
    trailer = b"-- PostgreSQL database dump complete\n"
    filler = b"x" * (4096 - len(trailer))
    assert scan(HEAD + TABLE, trailer + filler)[0].trailer
    assert scan(HEAD + TABLE, trailer, filler)[0].trailer
    cut = scan(HEAD + TABLE, trailer + b"x" + filler)[0]
    assert not cut.trailer
    assert cut.last_lines == ["- PostgreSQL database dump complete", "x" * len(b"x" + filler)]


def test_the_trailer_counts_among_the_last_8_lines_not_counting_blank_ones_and_dashes() -> None:
    result, _ = scan(
        HEAD + TABLE + b"--\n-- PostgreSQL database dump complete\n--\n\n  \n--\n\\unrestrict abc\n"
    )
    assert result.trailer
    assert result.last_lines == [
        "CREATE TABLE public.t (",
        "id integer",
        ");",
        "COPY public.t (id) FROM stdin;",
        "1",
        "\\.",
        "-- PostgreSQL database dump complete",
        "\\unrestrict abc",
    ]
    eight = b"".join(b"SELECT %d;\n" % i for i in range(8))
    late, _ = scan(HEAD + TABLE + TRAILER + eight)
    assert not late.trailer
    assert late.last_lines == [f"SELECT {i};" for i in range(8)]


def test_undecodable_bytes_do_not_stop_the_scan() -> None:
    result, _ = scan(
        b"--\n-- PostgreSQL database dump\n-- Dumped from database version 1\xff6\n" + TABLE + TRAILER
    )
    assert result.dumped_from == "1\ufffd6"
    result, _ = scan(HEAD + TABLE + b"-- \xff\n" + TRAILER)
    assert result.trailer


def test_head_dumped_from_reads_plain_and_gzip_heads() -> None:
    assert head_dumped_from(HEAD, gzip=False) == "16.4"
    assert head_dumped_from(gzip.compress(HEAD + TABLE), gzip=True) == "16.4"
    assert head_dumped_from(b"-- no version here\n", gzip=False) is None
    assert head_dumped_from(HEAD, gzip=True) is None  # not gzip: zlib refuses it
    assert head_dumped_from(zlib.compress(HEAD), gzip=True) is None  # zlib's own format is not gzip
    assert head_dumped_from(b"-- Dumped from database version 1\xff\n", gzip=False) == "1\ufffd"


def test_head_dumped_from_looks_at_the_first_8192_bytes_only() -> None:
    line = b"-- Dumped from database version 15.1\n"
    edge = b"-" * (8192 - len(line) + 2) + line
    assert head_dumped_from(edge, gzip=False) == "15."
    assert head_dumped_from(edge[1:], gzip=False) == "15.1"
    assert head_dumped_from(gzip.compress(edge), gzip=True) == "15."
    assert head_dumped_from(gzip.compress(edge[1:]), gzip=True) == "15.1"
    assert head_dumped_from(b"-" * 8192 + line, gzip=False) is None


def test_peek_dumped_from_reads_the_file_head(tmp_path: Path) -> None:
    plain = tmp_path / "db.sql"
    plain.write_bytes(HEAD + TABLE + TRAILER)
    assert peek_dumped_from(plain, gzip=False) == "16.4"
    packed = tmp_path / "db.sql.gz"
    packed.write_bytes(gzip.compress(b"\n" * 50_000 + b"-- Dumped from database version 14.9\n"))
    assert peek_dumped_from(packed, gzip=True) is None  # past the head
    compressed = tmp_path / "head.sql.gz"
    compressed.write_bytes(gzip.compress(HEAD + TABLE * 5000 + TRAILER))
    assert peek_dumped_from(compressed, gzip=True) == "16.4"
    assert peek_dumped_from(plain, gzip=True) is None
