"""Kinds and channel types from installed packages (entry-point groups `opsverify.kinds`,
`opsverify.channels`): a plugin section validates and runs like a built-in, reaches a plugin channel, an
unknown section still gets its did-you-mean, and a plugin that fails to load is named, not a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from opsverify.config.kinds import KINDS
from opsverify.config.notify import forget_channel_plugins
from opsverify.config.target import load_target
from opsverify.config.yamlsource import TargetError
from tests.conftest import RunResult

PLUGIN = """
from dataclasses import dataclass

from opsverify.api import CheckEntry, ChannelSettings, ChannelType, Judgement, Kind, Phase, Problem
from opsverify.notify.base import Channel


class GaugeCheck(CheckEntry):
    value: int
    max: int

    def thresholds(self):
        return [f"value ≤ {self.max}"]


@dataclass
class GaugeFacts:
    value: int

    def phases(self):
        return [Phase("read the gauge", True, str(self.value))]


def probe(entry, ctx):
    return GaugeFacts(entry.value)


KIND = Kind(
    "gauge",
    "gauge",
    "opsverify_test_plugin_gauge:GaugeCheck",
    "opsverify_test_plugin_gauge:probe",
    ("daily",),
    "a gauge",
    verdict="opsverify_test_plugin_gauge.verdict:judge",
)


class FileLogSettings(ChannelSettings):
    path: str


class FileLogChannel(Channel[FileLogSettings]):
    type_name = "filelog"

    def send(self, message):
        with open(self.settings.path, "a", encoding="utf-8") as out:
            out.write(message.headline + "\\n")

    def preview(self, message):
        return message.headline


CHANNEL = ChannelType("filelog", FileLogSettings, "opsverify_test_plugin_gauge:FileLogChannel", "lines in a file")
"""
VERDICT = """
from opsverify.api import Judgement, Problem


def judge(entry, facts, rule=None):
    if facts.value > entry.max:
        return Judgement([Problem("gauge", str(facts.value), f"at most {entry.max}", "lower it")])
    return Judgement()
"""
ENTRY_POINTS = {
    "opsverify.kinds": {"gauge": "opsverify_test_plugin_gauge:KIND"},
    "opsverify.channels": {"filelog": "opsverify_test_plugin_gauge:CHANNEL"},
}


@pytest.fixture
def gauge_plugin(plugin_path: Callable[..., Path]) -> Iterator[Path]:
    folder = plugin_path("opsverify-test-plugin-gauge", "opsverify_test_plugin_gauge", PLUGIN, ENTRY_POINTS)
    package = folder / "opsverify_test_plugin_gauge"  # the verdict module sits beside the probe's package
    package.mkdir()
    (folder / "opsverify_test_plugin_gauge.py").rename(package / "__init__.py")
    (package / "verdict.py").write_text(VERDICT, encoding="utf-8")
    KINDS.forget_plugins()
    forget_channel_plugins()
    yield folder
    KINDS.forget_plugins()
    forget_channel_plugins()


def test_plugin_section_validates_with_thresholds(gauge_plugin: Path, tmp_path: Path) -> None:
    target = tmp_path / "t.yaml"
    target.write_text("target: t\ngauge:\n  queue: {value: 3, max: 2}\n")
    loaded = load_target(str(target))
    checks = loaded.all_checks()
    assert [c.id for c in checks] == ["gauge:queue"]
    assert checks[0].kind.entry_thresholds(checks[0].entry) == ["value ≤ 2"]


def test_unknown_section_still_gets_did_you_mean(gauge_plugin: Path, tmp_path: Path) -> None:
    target = tmp_path / "t.yaml"
    target.write_text("target: t\ngauge:\n  queue: {value: 3, max: 2}\ngauges: {}\n")
    with pytest.raises(
        TargetError, match=r"t.yaml:4: gauges: unknown key 'gauges'; .*did you mean 'gauge'\?"
    ):
        load_target(str(target))


def test_plugin_kind_and_channel_run_like_built_ins(
    gauge_plugin: Path, run_checks: Callable[..., RunResult], tmp_path: Path
) -> None:
    log = tmp_path / "messages.log"
    result = run_checks(
        "target: t\n"
        "gauge:\n  queue: {value: 3, max: 2}\n  ok: {value: 1, max: 2}\n"
        f"notify:\n  channels:\n    file: {{filelog: {{path: '{log}'}}}}\n"
        "  routes:\n    - {match: {status: failed}, to: [file]}\n",
        "-m",
        "daily",
        env={"PYTHONPATH": str(gauge_plugin)},
    )
    assert result.returncode == 1, result.output
    assert "gauge: expected at most 2, got 3; lower it" in result.output
    summary = json.loads((result.reports / "summary.json").read_text())
    statuses = {c["id"]: c["status"] for c in summary["checks"]}
    assert statuses == {"gauge:ok": "passed", "gauge:queue": "failed"}
    assert summary["failures"][0]["problems"][0]["expected"] == "at most 2"
    assert log.read_text() == "[FAILED] t daily: 1 of 2 checks failed\n"


def test_broken_kind_plugin_is_named(plugin_path: Callable[..., Path], tmp_path: Path) -> None:
    plugin_path(
        "opsverify-test-plugin-badkind",
        "opsverify_test_plugin_badkind",
        "raise RuntimeError('boom at import')\n",
        {"opsverify.kinds": {"badkind": "opsverify_test_plugin_badkind:KIND"}},
    )
    KINDS.forget_plugins()
    target = tmp_path / "t.yaml"
    target.write_text("target: t\nbadkind:\n  a: {}\n")
    try:
        with pytest.raises(TargetError) as raised:
            load_target(str(target))
    finally:
        KINDS.forget_plugins()
    assert str(raised.value) == (
        f"{target}: plugin 'badkind' (opsverify_test_plugin_badkind:KIND, package opsverify-test-plugin-badkind "
        "0.1) in entry-point group opsverify.kinds failed to load: RuntimeError: boom at import; fix or upgrade "
        "that package, or uninstall it"
    )


def test_a_target_of_built_in_kinds_never_looks_for_plugins(
    plugin_path: Callable[..., Path], tmp_path: Path
) -> None:
    plugin_path(
        "opsverify-test-plugin-badkind2",
        "opsverify_test_plugin_badkind2",
        "raise RuntimeError('must not be imported')\n",
        {"opsverify.kinds": {"badkind": "opsverify_test_plugin_badkind2:KIND"}},
    )
    KINDS.forget_plugins()
    target = tmp_path / "t.yaml"
    target.write_text("target: t\ntcp:\n  ssh: {host: 127.0.0.1, port: 22}\n")
    try:
        assert [c.id for c in load_target(str(target)).all_checks()] == ["tcp:ssh"]
    finally:
        KINDS.forget_plugins()
