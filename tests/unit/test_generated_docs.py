"""The generated pages of docs/ say what their JSON sources say."""

import pytest

from devtools.docs import PAGES


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.name)
def test_the_generated_page_matches_its_source(path):
    assert path.read_text() == PAGES[path](), "run: python -m devtools.docs"
