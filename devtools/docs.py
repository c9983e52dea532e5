"""Rewrite the pages of docs/ generated from the JSON files both languages read (whole, or the
part between marker comments: the table of error codes in docs/data-model.md).

`python -m devtools.docs` rewrites them all; tests/unit/test_generated_docs.py fails when one is stale.
"""

from collections.abc import Callable
from pathlib import Path

from devtools import capabilities_doc, errors_doc

PAGES: dict[Path, Callable[[], str]] = {
    capabilities_doc.DOC_PATH: capabilities_doc.render,
    errors_doc.DOC_PATH: errors_doc.render,
    errors_doc.DATA_MODEL_PATH: errors_doc.render_data_model,
}


def main() -> None:
    for path, render in PAGES.items():
        path.write_text(render())
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
