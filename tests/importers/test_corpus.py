"""`opsverify draft` on the corpus of guides written for it (tests/importers/corpus/): every draft validates
with its .env.example, recall meets the goal (>= 80 % overall, no guide under 50 %), docs/import.md is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.importers.conftest import load_with_env_example, run_cli
from tests.importers.corpus_score import CORPUS, guides, score, table
from tests.importers.seed_coverage import ROOT


def test_the_corpus_has_at_least_15_guides_each_with_its_expected_entries() -> None:
    assert len(guides()) >= 15
    assert all((CORPUS / f"{guide}.md").is_file() for guide in guides())


@pytest.mark.parametrize("guide", guides())
def test_each_corpus_guide_drafts_a_target_that_validates(tmp_path: Path, guide: str) -> None:
    output = tmp_path / "targets" / f"{guide}.yaml"
    assert run_cli("draft", str(CORPUS / f"{guide}.md"), "-o", str(output)) == 0
    load_with_env_example(output)


@pytest.mark.parametrize("guide", guides())
def test_each_corpus_guide_has_a_recall_of_at_least_half(guide: str) -> None:
    found, expected, missing, _ = score(guide)
    assert found / expected >= 0.5, missing


def test_the_corpus_recall_is_at_least_80_percent() -> None:
    found = expected = 0
    for guide in guides():
        one = score(guide)
        found, expected = found + one[0], expected + one[1]
    assert found / expected >= 0.8


def test_the_recall_figures_in_docs_are_current() -> None:
    assert table() in (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
