"""`python -m bench [NAME ...] [-- ARGS]`: run every benchmark module in bench/ (or the named ones).

A benchmark is a module bench/<name>.py with `main(argv: list[str] | None) -> int`; it prints its figures.
ARGS after `--` go to each benchmark's main.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def benchmarks() -> list[str]:
    folder = Path(__file__).parent
    return sorted(
        module.name
        for module in pkgutil.iter_modules([str(folder)])
        if not module.name.startswith("_")
        and hasattr(importlib.import_module(f"bench.{module.name}"), "main")
    )


def main(argv: list[str]) -> int:
    names, extra = argv, []
    if "--" in argv:
        cut = argv.index("--")
        names, extra = argv[:cut], argv[cut + 1 :]
    available = benchmarks()
    unknown = [name for name in names if name not in available]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    status = 0
    for name in names or available:
        print(f"== bench {name}", flush=True)
        status = max(status, int(importlib.import_module(f"bench.{name}").main(extra)))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
