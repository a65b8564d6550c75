"""The backup-source registry: local by default, ssh for `via:`, a plugin source picked by its `path:` scheme
(listing, streaming read, the default fetch-then-inspect), two sources claiming one entry named."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path

from opsverify.backups.sources import backup_sources, source_for
from opsverify.backups.sources.local import LocalSource
from opsverify.backups.sources.ssh import SshSource
from opsverify.kinds.backups.model import BackupCheck
from opsverify.kinds.backups.probe import probe
from opsverify.kinds.backups.verdict import judge
from opsverify.kinds.base import ProbeContext

CTX = ProbeContext("test")
DUMP = b"-- PostgreSQL database dump\nCREATE TABLE t (id int);\nCOPY t (id) FROM stdin;\n1\n\\.\n\n-- PostgreSQL database dump complete\n\n"

# A source a package could add: `mirror:///folder` reads a folder only through streams (as a bucket would),
# so the base class's fetch and inspect do the reading.
MIRROR_PLUGIN = """
import fnmatch
from pathlib import Path, PurePosixPath

from opsverify.backups.files import BackupFile, Listing
from opsverify.backups.sources import BackupSource, SourceError


class MirrorSource(BackupSource):
    name = "mirror"
    schemes = ("mirror",)

    def __init__(self, entry, base_dir):
        super().__init__(entry, base_dir)
        self.folder = Path(entry.path.split("://", 1)[1])
        self.location = PurePosixPath(entry.path)

    def describe(self):
        return f"mirror {self.folder}"

    def list(self, pattern, ignore):
        if not self.folder.is_dir():
            raise SourceError(f"mirror {self.folder} does not exist: is `path` right?")
        listing = Listing(self.location, pattern)
        for path in sorted(self.folder.iterdir()):
            if fnmatch.fnmatch(path.name, pattern):
                info = path.stat()
                listing.complete.append(BackupFile(PurePosixPath(path), info.st_size, info.st_mtime))
        listing.complete.sort(key=lambda f: (f.mtime, f.name), reverse=True)
        return listing

    def stat(self, backup):
        path = Path(str(backup.path))
        if not path.exists():
            return None
        info = path.stat()
        return BackupFile(backup.path, info.st_size, info.st_mtime)

    def open(self, backup):
        return Path(str(backup.path)).open("rb")
"""


def entry(**keys: object) -> BackupCheck:
    return BackupCheck.model_validate({"settle": 0, **keys})


def install_mirror(plugin_path: Callable[..., Path]) -> None:
    plugin_path(
        "opsverify-test-plugin-mirror",
        "opsverify_test_plugin_mirror",
        MIRROR_PLUGIN,
        {"opsverify.backup_sources": {"mirror": "opsverify_test_plugin_mirror:MirrorSource"}},
        backup_sources,
    )


def test_local_is_the_default_and_via_picks_ssh() -> None:
    assert source_for(entry(path="/srv/backups")) is LocalSource
    assert source_for(entry(path="/srv/backups", via="local")) is LocalSource
    assert source_for(entry(path="/srv/backups", via="ssh://backup@db1")) is SshSource


def test_plugin_source_lists_streams_and_inspects(plugin_path: Callable[..., Path], tmp_path: Path) -> None:
    install_mirror(plugin_path)
    (tmp_path / "db_1.sql.gz").write_bytes(gzip.compress(DUMP[:40]))
    os.utime(tmp_path / "db_1.sql.gz", (1_000_000, 1_000_000))
    (tmp_path / "db_2.sql.gz").write_bytes(gzip.compress(DUMP))
    checked = entry(path=f"mirror://{tmp_path}", pattern="db_*.sql.gz")
    assert source_for(checked).name == "mirror"
    facts = probe(checked, CTX)
    assert facts.error is None
    assert [b.name for b in facts.files] == ["db_2.sql.gz", "db_1.sql.gz"]
    assert facts.inspection is not None
    assert facts.inspection.format == "pg-plain-gz"
    assert facts.inspection.defects == []
    assert facts.inspection.trailer
    assert facts.checksum is not None
    assert facts.checksum.sidecar is None
    assert judge(checked, facts).problems == []


def test_plugin_source_failure_is_the_checks_problem(
    plugin_path: Callable[..., Path], tmp_path: Path
) -> None:
    install_mirror(plugin_path)
    checked = entry(path=f"mirror://{tmp_path}/gone", pattern="*")
    problems = judge(checked, probe(checked, CTX)).problems
    assert [p.text for p in problems] == [f"mirror {tmp_path}/gone does not exist: is `path` right?"]


def test_two_sources_claiming_one_entry_is_named(plugin_path: Callable[..., Path], tmp_path: Path) -> None:
    install_mirror(plugin_path)
    checked = entry(path=f"mirror://{tmp_path}", via="ssh://backup@db1")
    problems = judge(checked, probe(checked, CTX)).problems
    assert [p.text for p in problems] == [
        f"path 'mirror://{tmp_path}' is claimed by the ssh and mirror backup sources; an entry reads one "
        "place: drop the settings of the others"
    ]
