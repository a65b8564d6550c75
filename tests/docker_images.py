"""Database images for the Docker sandbox tests, built here with no registry: a minimal Debian root filesystem
(`debootstrap --variant=minbase` through the machine's configured Debian mirror) with postgresql-15 or
mariadb-server, and an entrypoint that honours the official images' variables (tests/images/*.sh).

The root filesystem tarball is cached in ~/.cache/opsverify-test-images (OPSVERIFY_TEST_IMAGE_CACHE), keyed
by a hash of its recipe, so a warm machine imports it in seconds; a cold one builds it once (about a minute
per image with a nearby mirror), under a file lock so parallel test processes do not build twice. The image
is then `docker import`ed as `opsverify-test/<name>:<version>-<recipe hash>`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from tests.docker_engine import CACHE, DockerEngine
from tests.shared import file_lock

SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BUILD_TIMEOUT = 1800
IMAGES = Path(__file__).parent / "images"
# Removed from the root filesystem after the install: documentation, translations, package caches, and
# PostgreSQL's JIT (LLVM is a third of the image; the server runs without it),
# locale sources (C.UTF-8 is built in) and Perl's C headers.
STRIP = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/i18n",
    "usr/share/lintian",
    "var/cache/apt",
    "var/lib/apt/lists",
    "var/cache/debconf/templates.dat-old",
    "var/log",
    "usr/lib/postgresql/15/lib/bitcode",
    "usr/lib/postgresql/15/lib/llvmjit*",
    "usr/lib/*/libLLVM-*",
    "usr/lib/*/libz3.so*",
    "usr/lib/*/perl/*/CORE/*.h",
    "var/lib/postgresql/15",  # the cluster the package made: the entrypoint initialises its own
    "etc/postgresql/15",
)
RECIPE_VERSION = 1  # bump when the build steps below change


@dataclass(frozen=True)
class Recipe:
    name: str  # postgres, mariadb
    version: str  # the tag's version part
    packages: tuple[str, ...]
    entrypoint: str  # file in tests/images
    cmd: str
    port: int
    volume: str
    env: dict[str, str] = field(default_factory=dict)
    empty: tuple[str, ...] = ()  # folders emptied after the install (a datadir the package initialised)

    def digest(self) -> str:
        text = json.dumps(
            {
                "recipe": RECIPE_VERSION,
                "suite": SUITE,
                "name": self.name,
                "packages": self.packages,
                "entrypoint": (IMAGES / self.entrypoint).read_text(),
                "cmd": self.cmd,
                "port": self.port,
                "volume": self.volume,
                "env": self.env,
                "empty": self.empty,
                "strip": STRIP,
            },
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def reference(self) -> str:
        return f"opsverify-test/{self.name}:{self.version}-{self.digest()}"

    def changes(self) -> list[str]:
        changes = [
            'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
            f'CMD ["{self.cmd}"]',
            f"EXPOSE {self.port}",
            f'VOLUME ["{self.volume}"]',
        ]
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", **self.env}
        changes += [f"ENV {key}={value}" for key, value in env.items()]
        return changes


POSTGRES = Recipe(
    name="postgres",
    version="15",
    packages=("postgresql-15",),
    entrypoint="postgres-entrypoint.sh",
    cmd="postgres",
    port=5432,
    volume="/var/lib/postgresql/data",
    env={
        "PGDATA": "/var/lib/postgresql/data",
        "PATH": "/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    },
)
# PostgreSQL 15 with pgBackRest: the pgBackRest drill's docker sandbox restores a stanza in it (an image of its
# own, so the dump drills' image and its cached tarball stay as they are)
POSTGRES_PGBACKREST = Recipe(
    name="postgres-pgbackrest",
    version="15",
    packages=("postgresql-15", "pgbackrest"),
    entrypoint="postgres-entrypoint.sh",
    cmd="postgres",
    port=5432,
    volume="/var/lib/postgresql/data",
    env=POSTGRES.env,
)
MARIADB = Recipe(
    name="mariadb",
    version="10.11",
    packages=("mariadb-server",),
    entrypoint="mariadb-entrypoint.sh",
    cmd="mariadbd",
    port=3306,
    volume="/var/lib/mysql",
    empty=("var/lib/mysql",),
)


# The test files whose fixtures need these images (tests/conftest.py starts their builds once they are collected).
TESTS_BUILDING_IMAGES = {
    "tests/drills/test_docker_sandbox.py": (POSTGRES, MARIADB),
    "tests/drills/test_docker_stanza.py": (POSTGRES_PGBACKREST,),
}


def debian_mirror() -> str:
    """The machine's configured Debian mirror (deb822 .sources files or sources.list), else deb.debian.org."""
    sources = Path("/etc/apt")
    for path in sorted(sources.glob("sources.list.d/*.sources")):
        for stanza in path.read_text(errors="replace").split("\n\n"):
            uris = re.search(r"(?m)^URIs:\s*(\S+)", stanza)
            suites = re.search(r"(?m)^Suites:\s*(.+)$", stanza)
            if uris and suites and SUITE in suites.group(1).split() and "security" not in uris.group(1):
                return uris.group(1).rstrip("/")
    for path in [sources / "sources.list", *sorted(sources.glob("sources.list.d/*.list"))]:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            match = re.match(r"\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", line)
            if match and match.group(2) == SUITE:
                return match.group(1).rstrip("/")
    return DEFAULT_MIRROR


def rootfs_tarball(recipe: Recipe) -> Path:
    """The recipe's root filesystem as a tarball in the cache; built when missing (one builder at a time)."""
    cached = CACHE / f"{recipe.name}-{recipe.version}-{recipe.digest()}.tar"
    if cached.exists():
        return cached
    with file_lock(cached.with_suffix(".lock")):
        if cached.exists():  # another process built it while we waited
            return cached
        debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
        if not os.path.exists(debootstrap):
            raise RuntimeError("debootstrap is missing: run `make system-deps` (Debian package debootstrap)")
        if os.geteuid() != 0:
            raise RuntimeError("building the test images needs root (debootstrap); run the tests as root")
        started = time.monotonic()
        for leftover in CACHE.glob(
            f"build-{recipe.name}-{recipe.digest()}-*"
        ):  # a build that was killed (we hold the lock)
            shutil.rmtree(leftover, ignore_errors=True)
        with tempfile.TemporaryDirectory(
            prefix=f"build-{recipe.name}-{recipe.digest()}-", dir=CACHE
        ) as temporary:
            rootfs = Path(temporary) / "rootfs"
            completed = subprocess.run(
                [
                    debootstrap,
                    "--variant=minbase",
                    f"--include={','.join(recipe.packages)}",
                    SUITE,
                    str(rootfs),
                    debian_mirror(),
                ],
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT,
                check=False,
            )
            if completed.returncode != 0:
                log = rootfs / "debootstrap" / "debootstrap.log"
                detail = log.read_text(errors="replace")[-2000:] if log.exists() else completed.stderr[-2000:]
                raise RuntimeError(f"debootstrap of the {recipe.name} image failed: {detail}")
            _finish(rootfs, recipe)
            partial = Path(temporary) / "image.tar"
            subprocess.run(
                ["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."],
                check=True,
                timeout=600,
            )
            partial.replace(cached)
        for stale in CACHE.glob(f"{recipe.name}-{recipe.version}-*"):  # earlier recipes of this image
            if not stale.name.startswith(cached.stem):
                stale.unlink(missing_ok=True)
        (CACHE / f"{recipe.name}-{recipe.version}-{recipe.digest()}.seconds").write_text(
            f"{time.monotonic() - started:.0f}\n"
        )
    return cached


def _finish(rootfs: Path, recipe: Recipe) -> None:
    for pattern in STRIP:
        for path in rootfs.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    for relative in recipe.empty:
        folder = rootfs / relative
        if folder.is_dir():
            for child in folder.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    (rootfs / "var" / "log").mkdir(exist_ok=True)
    entrypoint = rootfs / "usr" / "local" / "bin" / "docker-entrypoint.sh"
    entrypoint.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(IMAGES / recipe.entrypoint, entrypoint)
    entrypoint.chmod(0o755)


def database_image(client: docker.DockerClient, recipe: Recipe) -> str:
    """The recipe's image on this engine (imported from the cached tarball when missing); its reference."""
    reference = recipe.reference
    try:
        client.images.get(reference)
        return reference
    except docker.errors.ImageNotFound:
        pass
    tarball = rootfs_tarball(recipe)
    repository, _, tag = reference.partition(":")
    # one import per engine: parallel test processes (xdist workers) wait for the first instead of importing
    # the same few hundred MB again
    with file_lock(CACHE / f"import-{recipe.name}-{recipe.digest()}.lock"):
        try:
            client.images.get(reference)
            return reference
        except docker.errors.ImageNotFound:
            pass
        with tarball.open("rb") as data:
            client.api.import_image_from_data(data, repository=repository, tag=tag, changes=recipe.changes())
    client.images.get(reference)  # raises when the import did not take
    return reference


def database_images(engine: DockerEngine, *recipes: Recipe) -> list[str]:
    """The recipes' images, built (cold cache) and imported side by side, each with its own client: two
    debootstraps wait mostly on the mirror and on dpkg, not on each other, so a fresh machine pays about
    one build instead of the sum."""

    def one(recipe: Recipe) -> str:
        client = engine.client(timeout=300)
        try:
            return database_image(client, recipe)
        finally:
            client.close()

    with ThreadPoolExecutor(len(recipes) or 1) as pool:
        return list(pool.map(one, recipes))


def build_in_background(*recipes: Recipe) -> list[threading.Thread]:
    """Start building the recipes' root filesystems that are not cached yet, side by side in daemon threads,
    and return at once: on a cold machine the builds (minutes, mostly waiting on the mirror and dpkg) then
    overlap the other tests instead of holding up the worker that first needs an image. That worker's
    `rootfs_tarball` waits on the same file lock and finds the tarball built. A build that fails here is
    left to that call, which builds again and raises the error; nothing starts where no build could run."""
    if os.geteuid() != 0 or not (shutil.which("debootstrap") or os.path.exists("/usr/sbin/debootstrap")):
        return []
    missing = [
        recipe
        for recipe in recipes
        if not (CACHE / f"{recipe.name}-{recipe.version}-{recipe.digest()}.tar").exists()
    ]

    def build(recipe: Recipe) -> None:
        # a failure is left to the test that needs the image: it builds again and reports the error
        with contextlib.suppress(Exception):
            rootfs_tarball(recipe)

    threads = [
        threading.Thread(target=build, args=(recipe,), name=f"build-{recipe.name}", daemon=True)
        for recipe in missing
    ]
    for thread in threads:
        thread.start()
    return threads
