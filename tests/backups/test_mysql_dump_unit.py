"""The mysqldump / mariadb-dump scanner on dump text built in the test (the shape mariadb-dump writes): its
counts, the databases it names, its limits and its messages.

Fast (no server): these tests judge `opsverify/backups/mysql_dump.py` in `make mutation`.
"""

from __future__ import annotations

import gzip
import zlib

import pytest

from opsverify.backups.mysql_dump import (
    MysqlDumpScan,
    MysqlDumpScanner,
    head_server_version,
    starts_with_header,
)

HEAD = (
    b"-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)\n"
    b"--\n"
    b"-- Host: localhost    Database: shop\n"
    b"-- ------------------------------------------------------\n"
    b"-- Server version\t10.11.6-MariaDB-0+deb12u1\n\n"
)
BODY = (
    b"DROP TABLE IF EXISTS `t`;\n"
    b"CREATE TABLE `t` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB;\n"
    b"INSERT INTO `t` VALUES (1),(2);\n"
)
TRAILER = b"\n-- Dump completed on 2026-12-07 20:00:00\n"
EMPTY = "the dump is empty (0 bytes of SQL): the dump command produced no output; check its log"
NO_HEADER = (
    "no '-- MySQL dump' / '-- MariaDB dump' header in the first line: not a mysqldump or mariadb-dump output"
)
NO_TABLES = "no CREATE TABLE or INSERT statement: the dump contains no tables"


def no_trailer(shown: str) -> str:
    return (
        "no '-- Dump completed on' trailer at the end: the dump was cut short (killed mysqldump, disk full, "
        f"truncated copy) or made with --skip-dump-date/--skip-comments; it ends with: {shown}"
    )


def scan(*chunks: bytes) -> tuple[MysqlDumpScan, int]:
    scanner = MysqlDumpScanner()
    for chunk in chunks:
        assert scanner.write(chunk) == len(chunk)
    return scanner.finish(), scanner.bytes_seen


def long_insert(table: str, size: int = 3000) -> bytes:
    """One extended INSERT line of about `size` bytes: the data lines of a default mysqldump."""
    values = ",".join(f"({i})" for i in range(size // 6))
    return f"INSERT INTO `{table}` VALUES {values};\n".encode()


def test_a_whole_dump() -> None:
    result, seen = scan(HEAD + BODY + TRAILER)
    assert (result.header, result.trailer, result.create_tables, result.inserts) == (True, True, 1, 1)
    assert (result.server_version, result.databases) == ("10.11.6-MariaDB-0+deb12u1", ["shop"])
    assert result.last_lines == [
        "`id` int(11) NOT NULL",
        ") ENGINE=InnoDB;",
        "INSERT INTO `t` VALUES (1),(2);",
        "-- Dump completed on 2026-12-07 20:00:00",
    ]
    assert seen == len(HEAD + BODY + TRAILER)
    assert result.defects(seen) == []


def test_nothing_written_is_an_empty_dump_and_nothing_else() -> None:
    scanner = MysqlDumpScanner()
    assert scanner.write(b"") == 0
    result = scanner.finish()
    assert result.defects(scanner.bytes_seen) == [EMPTY]
    assert (result.header, result.trailer, result.server_version, result.databases) == (
        False,
        False,
        None,
        [],
    )


def test_one_byte_is_not_empty_and_every_defect_is_named() -> None:
    result, seen = scan(b"x")
    assert result.defects(seen) == [NO_HEADER, no_trailer("x"), NO_TABLES]


def test_the_last_three_lines_are_shown_cut_at_200_characters() -> None:
    lines = ["a", "b", "c", "d"]
    assert MysqlDumpScan(header=True, inserts=1, last_lines=lines).defects(1) == [no_trailer("b | c | d")]
    assert MysqlDumpScan(header=True, inserts=1).defects(1) == [no_trailer("(nothing)")]
    long = ["x" * 150, "y" * 150]
    assert MysqlDumpScan(header=True, create_tables=1, last_lines=long).defects(1) == [
        no_trailer(("x" * 150 + " | " + "y" * 150)[:200])
    ]


@pytest.mark.parametrize(("create_tables", "inserts"), [(1, 0), (0, 1)])
def test_a_create_table_or_an_insert_is_enough(create_tables: int, inserts: int) -> None:
    scan_ = MysqlDumpScan(header=True, trailer=True, create_tables=create_tables, inserts=inserts)
    assert scan_.defects(1) == []


def test_a_dump_cut_short_shows_its_last_lines() -> None:
    result, seen = scan(HEAD + BODY)
    assert result.defects(seen) == [
        no_trailer("`id` int(11) NOT NULL | ) ENGINE=InnoDB; | INSERT INTO `t` VALUES (1),(2);")
    ]


def test_the_trailer_counts_among_the_last_4_lines_not_counting_blank_ones_and_dashes() -> None:
    result, _ = scan(HEAD + BODY + TRAILER + b"--\n\n  \n/*!40101 SET a=1 */;\n")
    assert result.trailer
    assert result.last_lines == [
        ") ENGINE=InnoDB;",
        "INSERT INTO `t` VALUES (1),(2);",
        "-- Dump completed on 2026-12-07 20:00:00",
        "/*!40101 SET a=1 */;",
    ]
    late, _ = scan(HEAD + BODY + TRAILER + b"SET a=1;\nSET b=2;\nSET c=3;\nSET d=4;\n")
    assert not late.trailer


def test_the_tail_is_the_last_4096_bytes() -> None:
    trailer = b"-- Dump completed on 2026-12-07\n"
    filler = b"x" * (4096 - len(trailer))
    assert scan(HEAD + BODY, trailer + filler)[0].trailer
    assert scan(HEAD + BODY + trailer, filler)[0].trailer
    cut = scan(HEAD + BODY, trailer + b"x" + filler)[0]
    assert not cut.trailer
    assert cut.last_lines == ["- Dump completed on 2026-12-07", "x" * (len(filler) + 1)]


def test_short_lines_are_counted_across_any_chunking() -> None:
    text = HEAD + b"USE `shop`;\n" + BODY * 3 + b"USE `other`;\n" + BODY + TRAILER
    for size in (1, 2, 3, 7, 13, 64, len(text)):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        result, seen = scan(*chunks)
        assert (result.create_tables, result.inserts, seen) == (4, 4, len(text)), size
        assert result.databases == ["shop", "other"], size
        assert result.trailer, size


def test_long_insert_lines_are_counted_one_by_one() -> None:
    """Extended INSERT lines (few newlines for many bytes) take the newline walk, not the pattern count."""
    data = b"\n" + b"".join(long_insert(name) for name in ("a", "b", "c"))
    assert data.count(b"\n") <= len(data) >> 9
    result, _ = scan(HEAD + BODY, data, TRAILER)
    assert (result.create_tables, result.inserts) == (1, 4)
    mixed = (
        b"\nCREATE TABLE `u` (`id` int);\n" + long_insert("u") + b"USE `other`;\n" + long_insert("u", 6000)
    )
    assert mixed.count(b"\n") <= len(mixed) >> 9
    result, _ = scan(HEAD, mixed, TRAILER)
    assert (result.create_tables, result.inserts, result.databases) == (1, 2, ["shop", "other"])


def test_a_long_chunk_that_starts_with_a_statement_counts_it_through_the_carry() -> None:
    result, _ = scan(
        HEAD + BODY, long_insert("a") + long_insert("b"), b"CREATE TABLE `c` (`id` int);\n" + b"-" * 5000
    )
    assert (result.create_tables, result.inserts) == (2, 3)


def test_a_statement_split_by_a_chunk_boundary_counts_once() -> None:
    text = HEAD + BODY
    insert = text.index(b"INSERT INTO")
    create = text.index(b"CREATE TABLE")
    for cut in (create, create + 1, create + 6, insert - 1, insert, insert + 4, insert + 11):
        result, _ = scan(text[:cut], text[cut:], TRAILER)
        assert (result.create_tables, result.inserts) == (1, 1), cut


def test_a_use_split_by_a_long_chunk_boundary_is_found_whole() -> None:
    before = HEAD + BODY + long_insert("t", 4000) + b"USE `wareh"
    after = b"ouse`;\n" + long_insert("t", 4000) + TRAILER
    result, _ = scan(before, after)
    assert result.databases == ["shop", "warehouse"]
    at_the_edge = HEAD + BODY + long_insert("t", 4000)
    result, _ = scan(at_the_edge, b"USE `edge`;\n" + long_insert("t", 4000) + TRAILER)
    assert result.databases == ["shop", "edge"]
    result, _ = scan(at_the_edge + b"\nUS", b"E `mid`;\n" + long_insert("t", 4000) + TRAILER)
    assert result.databases == ["shop", "mid"]


def test_use_names_unescape_backquotes_are_listed_once_and_at_most_50() -> None:
    uses = b"".join(b"\nUSE `db%02d`;\n" % i for i in range(60))
    result, _ = scan(HEAD.replace(b"Database: shop", b"Database: "), b"\nUSE `we``ird`;\nUSE `db00`;" + uses)
    assert result.databases == ["we`ird", *(f"db{i:02d}" for i in range(49))]


def test_a_use_line_must_be_whole_and_short() -> None:
    long_name = b"n" * 193
    result, _ = scan(
        HEAD, b"\nUSE `" + long_name + b"`;\nUSE `a\nb`;\nUSE `ok`\n;\nUSE `caf\xc3\xa9`;\nUSE `bad\xff`;\n"
    )
    assert result.databases == ["shop", "caf\u00e9", "bad\ufffd"]
    result, _ = scan(HEAD, b"\nUSE `" + b"n" * 192 + b"`;\n")
    assert result.databases == ["shop", "n" * 192]


def test_the_header_database_comes_first_and_is_not_repeated() -> None:
    result, _ = scan(HEAD, b"\nUSE `other`;\n" + BODY + TRAILER)
    assert result.databases == ["shop", "other"]
    result, _ = scan(HEAD, b"\nUSE `other`;\nUSE `shop`;\n" + BODY + TRAILER)
    assert result.databases == ["other", "shop"]
    result, _ = scan(HEAD.replace(b"Database: shop", b"Database:   sh\xc3\xb6p  "), BODY)
    assert result.databases == ["sh\u00f6p"]
    result, _ = scan(HEAD.replace(b"Database: shop", b"Database:    "), BODY)
    assert result.databases == []


def test_the_header_database_and_version_count_only_in_the_first_2048_bytes() -> None:
    line = b"-- Host: h Database: late\n-- Server version\t9.9\n"
    inside = b"-- MySQL dump 10.13\n" + b"-" * (2048 - 20 - len(line)) + b"\n" + line[:-1]
    assert len(inside) == 2048
    result, _ = scan(inside, BODY)
    assert (result.databases, result.server_version) == (["late"], "9.9")
    result, _ = scan(inside.replace(b"--\n", b"---\n"), BODY)
    assert (result.databases, result.server_version) == (["late"], "9.")
    late, _ = scan(b"-- MySQL dump 10.13\n" + b"-" * 2048 + b"\n" + line, BODY)
    assert (late.header, late.databases, late.server_version) == (True, [], None)


def test_the_head_is_the_first_8192_bytes_even_across_chunks() -> None:
    """The header is read from the head: a dump whose first 8 KiB were sent in pieces still has it."""
    result, _ = scan(b"\n" * 10, b"-- MySQL dump 10.13 ", b"Distrib\n" + BODY)
    assert result.header
    result, _ = scan(b"\n" * 8192, b"-- MySQL dump 10.13\n" + BODY)
    assert not result.header


def test_head_server_version_reads_plain_and_gzip_heads() -> None:
    assert head_server_version(HEAD, gzip=False) == "10.11.6-MariaDB-0+deb12u1"
    assert head_server_version(gzip.compress(HEAD + BODY), gzip=True) == "10.11.6-MariaDB-0+deb12u1"
    assert head_server_version(HEAD, gzip=True) is None
    assert head_server_version(b"-- MySQL dump\n", gzip=False) is None
    assert head_server_version(b"-- Server version 8.0\xff\n", gzip=False) == "8.0\ufffd"
    line = b"-- Server version 8.0"
    edge = b"-" * (2048 - len(line) - 1) + b"\n" + line  # the version's last byte is the head's last
    assert head_server_version(edge, gzip=False) == "8.0"
    assert head_server_version(b"-" + edge, gzip=False) == "8."
    assert head_server_version(gzip.compress(edge), gzip=True) == "8.0"
    assert head_server_version(gzip.compress(b"-" + edge), gzip=True) == "8."
    assert head_server_version(b"-" * 2048 + b"\n" + line, gzip=False) is None
    assert head_server_version(zlib.compress(HEAD), gzip=True) is None  # zlib's format is not gzip


def test_starts_with_header() -> None:
    assert starts_with_header(b"-- MySQL dump 10.13  Distrib 8.0.36\n")
    assert starts_with_header(b"-- MariaDB dump 10.19\n")
    assert starts_with_header(b"\xef\xbb\xbf \t\r\n-- MySQL dump 10.13\n")
    assert starts_with_header(b"/*M!999999\\- enable the sandbox mode */ \n \t-- MariaDB dump 10.19\n")
    assert not starts_with_header(b"/*M!999999\\- enable the sandbox mode */ -- MariaDB dump 10.19\n")
    assert not starts_with_header(b"x-- MySQL dump 10.13\n")
    assert not starts_with_header(b"-- MySQL dump\n")
    assert not starts_with_header(b"-- PostgreSQL database dump\n")
    assert not starts_with_header(b"")


def test_undecodable_bytes_are_replaced_not_fatal() -> None:
    head = HEAD.replace(b"Database: shop", b"Database: sh\xffp").replace(b"0+deb12u1", b"0+deb12u1\xff")
    result, _ = scan(head, BODY, b"-- \xfe\n", TRAILER)
    assert result.databases == ["sh\ufffdp"]
    assert result.server_version == "10.11.6-MariaDB-0+deb12u1\ufffd"
    assert result.last_lines[-2:] == ["-- \ufffd", "-- Dump completed on 2026-12-07 20:00:00"]
    assert result.trailer


def test_the_header_database_line_is_cut_at_2048_bytes() -> None:
    line = b"-- Host: h Database: late"
    edge = b"-- MySQL dump 10.13\n" + b"-" * (2048 - 20 - len(line) - 1) + b"\n" + line
    assert len(edge) == 2048
    assert scan(edge + b"\n", BODY)[0].databases == ["late"]
    assert scan(edge.replace(b"--\n", b"---\n") + b"\n", BODY)[0].databases == ["lat"]


def test_statements_at_the_very_start_of_the_text_count() -> None:
    result, _ = scan(b"CREATE TABLE `a` (`x` int);\nINSERT INTO `a` VALUES (1);\n")
    assert (result.create_tables, result.inserts) == (1, 1)
    result, _ = scan(b"USE `first`;\n" + BODY)
    assert result.databases == ["first"]


def test_long_lines_count_every_create_table() -> None:
    creates = b"\nCREATE TABLE `a` (`x` int);\nCREATE TABLE `b` (`x` int);\n" + long_insert("a", 4000)
    assert creates.count(b"\n") <= len(creates) >> 9
    result, _ = scan(HEAD, creates)
    assert (result.create_tables, result.inserts) == (2, 1)


def test_the_head_stops_at_8192_bytes_whatever_the_chunks() -> None:
    result, _ = scan(b"\n" * 5000, b"\n" * 3192 + b"-- MySQL dump 10.13\n" + BODY)
    assert not result.header
    result, _ = scan(b"\n" * 5000, b"\n" * 3171 + b"-- MySQL dump 10.13\n" + BODY)
    assert result.header


def test_only_the_listed_bytes_are_skipped_before_the_header() -> None:
    assert not starts_with_header(b"X-- MySQL dump 10.13\n")
    assert not starts_with_header(b"\x0c-- MySQL dump 10.13\n")
    assert not starts_with_header(b"/*M!999999\\- enable the sandbox mode */\n\x0c-- MariaDB dump 10.19\n")
    assert not starts_with_header(b"/*M!999999\\- enable the sandbox mode */\nX-- MariaDB dump 10.19\n")
