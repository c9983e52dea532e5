"""The generated pages of docs/ say what their JSON sources say."""

import re

import pytest

from app.facts import CONVEX_ERROR_CODES
from devtools import errors_doc
from devtools.docs import PAGES


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.name)
def test_the_generated_page_matches_its_source(path):
    assert path.read_text() == PAGES[path](), "run: python -m devtools.docs"


def test_the_data_model_lists_each_convex_code_with_its_status():
    table = errors_doc.DATA_MODEL_PATH.read_text().partition(errors_doc.BEGIN)[2].partition(errors_doc.END)[0]
    rows = re.findall(r"^\| `(\w+)` \| (\d{3}) \|", table, re.MULTILINE)
    assert rows == [(code, str(spec["status"])) for code, spec in CONVEX_ERROR_CODES.items()]


def test_a_page_that_lost_its_marks_is_refused(tmp_path, monkeypatch):
    page = tmp_path / "data-model.md"
    page.write_text(f"# Data model\n\n{errors_doc.BEGIN}\n\n| code | HTTP | meaning |\n")
    monkeypatch.setattr(errors_doc, "DATA_MODEL_PATH", page)
    with pytest.raises(ValueError, match="lost the marks"):
        errors_doc.render_data_model()
