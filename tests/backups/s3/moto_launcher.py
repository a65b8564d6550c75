"""Starts moto's standalone S3 server for the tests: `python moto_launcher.py PORT`.

One addition, inside the server process only: an object uploaded with the metadata `backdate-seconds: N`
gets a LastModified N seconds in the past, so freshness and retention can be tested over real HTTP
(a real bucket's objects are as old as they are; moto's are all "now").
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

from moto.s3 import models
from moto.server import main

_set_metadata = models.FakeKey.set_metadata


def set_metadata(self: Any, metadata: Any, replace: bool = False) -> None:
    _set_metadata(self, metadata, replace)
    for name, value in dict(metadata or {}).items():
        if str(name).lower().endswith("backdate-seconds"):
            self.last_modified = models.utcnow() - timedelta(seconds=float(value))


models.FakeKey.set_metadata = set_metadata  # type: ignore[method-assign]

if __name__ == "__main__":
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
