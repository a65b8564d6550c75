"""No source text breaks a generated file: compose files and guides built from strings that have broken YAML
(line breaks, quotes, `: `, `#`, `${`, `$$`, anchors, tags, tabs, unicode, control characters) always give a
target that loads and validates with its .env.example, or a clear exit 4 -- never a traceback."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from tests.importers.conftest import load_with_env_example, run_cli

NASTY = [
    "a: b",
    "x # not a comment",
    "line one\nline two",
    "'single' \"double\"",
    "${UNSET_VAR}",
    "${BAD VAR}",
    "$${ESCAPED}",
    "$(date +%F)",
    "`date`",
    "&anchor *alias",
    "!!python/object:os.system",
    "- list: item",
    "{flow: map}",
    "[flow, seq]",
    "tab\there",
    "ünïcødé ✓ 中文",
    "back\\slash\\",
    "--- doc start",
    "...",
    "% directive",
    "@at ~tilde",
    "ctrl\x07bell\x1bescape",
    "{{ template }}",
    "|",
    ">",
    "?",
    "",
    "   ",
    "null",
    "yes",
    "0o17",
    "1e3",
]
CASES = 40


def nasty(rng: random.Random, count: int = 3) -> str:
    return "".join(rng.choice(NASTY) for _ in range(count))


def validates_or_refuses(tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out" / "t.yaml"
    status = run_cli(*argv, "-o", str(output))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert status in (0, 4), err
    if status == 0:
        yaml.safe_load(output.read_text(encoding="utf-8"))
        load_with_env_example(output)
    else:
        assert err.startswith("error: ")


@pytest.mark.parametrize("seed", range(CASES))
def test_no_compose_text_breaks_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    rng = random.Random(seed)
    compose = {
        "services": {
            "app": {
                "image": "example/app:1",
                "ports": ["8080:8000"],
                "environment": {"NOTE": nasty(rng), "TOKEN": nasty(rng)},
                "healthcheck": {
                    "test": rng.choice(
                        [
                            ["CMD-SHELL", f"curl -f http://localhost:8000/{nasty(rng)} || {nasty(rng)}"],
                            ["CMD", "sh", "-c", nasty(rng)],
                            nasty(rng),
                        ]
                    ),
                    "timeout": rng.choice(["5s", "1m30s", nasty(rng, 1)]),
                },
            },
            "db": {
                "image": "postgres:16",
                "environment": {"POSTGRES_USER": nasty(rng)},
                "env_file": [nasty(rng)],
            },
        }
    }
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(compose, allow_unicode=True), encoding="utf-8")
    validates_or_refuses(tmp_path, ["import", "compose", str(path)], capsys)


@pytest.mark.parametrize("seed", range(CASES))
def test_no_guide_text_breaks_the_draft(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int
) -> None:
    rng = random.Random(seed)
    guide = "\n".join(
        [
            f"# {nasty(rng)}",
            "",
            f"The readiness endpoint `/ready?{nasty(rng, 1).replace(' ', '')}` returns 200 and `{nasty(rng, 1)}`.",
            "",
            "```bash",
            f"curl -fsS 'https://api.example.com/health/{nasty(rng, 1)}'",
            f"curl -X POST 'https://api.example.com/{nasty(rng)}'",
            f"pg_dump -Fc app > /srv/backups/app_{nasty(rng, 1)}_$(date +%F).dump",
            f"docker compose exec -T db psql -U app app < 'app-{nasty(rng, 1)}-2024-01-01.sql'",
            f"sudo -u app ./bin/app doctor {nasty(rng)}",
            "```",
            "",
            f"- Disk usage > 85% {nasty(rng)}",
            f"Requires PostgreSQL 13 or newer. {nasty(rng)}",
            "```json",
            json.dumps({"status": "ok", nasty(rng, 1): nasty(rng, 1)}),
            "```",
        ]
    )
    path = tmp_path / "GUIDE.md"
    path.write_text(guide, encoding="utf-8")
    validates_or_refuses(tmp_path, ["draft", str(path)], capsys)
