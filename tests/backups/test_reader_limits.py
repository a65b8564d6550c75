"""The backup readers' limits at their edges, through the daily check (probe and verdict on real files).

- a pg_dump trailer counts among the last 8 non-blank lines, a mysqldump trailer among the last 4: the
  trailer exactly that far from the end is found, one line further it is missing;
- a tar archive's unsafe member paths: the first 5 are named, the rest counted (`+1 more` from the 6th);
- a mysqldump names at most 50 databases (its `USE` lines): the 51st is not listed.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tests.backups.test_other_formats import check

PG_HEAD = """--
-- PostgreSQL database dump
--

-- Dumped from database version 16.4

CREATE TABLE public.t (id integer);

COPY public.t (id) FROM stdin;
1
\\.

"""
PG_TRAILER = "--\n-- PostgreSQL database dump complete\n--\n"


@pytest.mark.parametrize(("after", "found"), [(6, True), (7, True), (8, False)])
def test_the_pg_dump_trailer_is_one_of_the_last_8_lines(tmp_path: Path, after: int, found: bool) -> None:
    """7 lines after the trailer make it the 8th last: found; 8 lines after it: the dump looks cut short."""
    tail = "".join(f"SELECT {i};\n" for i in range(after))
    (tmp_path / "db.sql").write_text(PG_HEAD + PG_TRAILER + tail)
    _facts, problems = check(tmp_path, pattern="*.sql")
    if found:
        assert problems == []
    else:
        (problem,) = problems
        assert "PostgreSQL database dump complete" in problem
        assert problem.startswith("db.sql: ")


MYSQL_HEAD = """-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: shop
-- ------------------------------------------------------
-- Server version\t10.11.6-MariaDB-0+deb12u1

CREATE TABLE `t` (`id` int);
INSERT INTO `t` VALUES (1);
"""


@pytest.mark.parametrize(("after", "found"), [(2, True), (3, True), (4, False)])
def test_the_mysqldump_trailer_is_one_of_the_last_4_lines(tmp_path: Path, after: int, found: bool) -> None:
    tail = "".join(f"/*!40101 SET @x{i}=1 */;\n" for i in range(after))
    (tmp_path / "shop.sql").write_text(MYSQL_HEAD + "-- Dump completed on 2026-01-01  2:00:00\n" + tail)
    _facts, problems = check(tmp_path, pattern="*.sql")
    if found:
        assert problems == []
    else:
        (problem,) = problems
        assert "Dump completed" in problem
        assert problem.startswith("shop.sql: ")


def make_tar(path: Path, names: list[str]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name in names:
            member = tarfile.TarInfo(name)
            member.size = 1
            archive.addfile(member, io.BytesIO(b"x"))


@pytest.mark.parametrize(("unsafe", "more"), [(4, ""), (5, ""), (6, " (+1 more)")])
def test_five_unsafe_member_paths_are_named_and_the_rest_counted(
    tmp_path: Path, unsafe: int, more: str
) -> None:
    names = [f"../escape-{i}" for i in range(unsafe)]
    make_tar(tmp_path / "site.tar.gz", ["ok.txt", *names])
    _facts, problems = check(tmp_path, pattern="*.tar.gz")
    shown = ", ".join(names[:5])
    assert problems == [
        f"site.tar.gz: unsafe member paths (absolute or with ..): {shown}{more}; extracting would write outside "
        "the target folder: rebuild the archive with relative paths (tar -C DIR -czf ...)"
    ]


@pytest.mark.parametrize(("databases", "listed"), [(49, 49), (50, 50), (51, 50)])
def test_a_mysqldump_names_at_most_50_databases(tmp_path: Path, databases: int, listed: int) -> None:
    uses = "".join(f"\nUSE `db{i:02d}`;\nINSERT INTO `t` VALUES (1);\n" for i in range(databases))
    text = MYSQL_HEAD.replace("Database: shop", "Database: ") + uses + "-- Dump completed on 2026-01-01\n"
    (tmp_path / "all.sql").write_text(text)
    _facts, problems = check(tmp_path, pattern="*.sql", expect_database="nope")
    (problem,) = problems
    names = problem.split("a dump of another database: ", 1)[1].split("; the backup job", 1)[0].split(", ")
    assert names == [f"db{i:02d}" for i in range(listed)]
