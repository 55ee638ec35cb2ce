from pathlib import Path

from carbon_balance.study_docs import render


def test_study_file_reference_is_up_to_date():
    doc = Path(__file__).parents[1] / "docs" / "study-file.md"
    assert doc.read_text(encoding="utf-8").strip() == render().strip(), (
        "docs/study-file.md is stale: run `python -m carbon_balance.study_docs > docs/study-file.md`")
