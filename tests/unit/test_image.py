"""The Docker image carries what the app reads from outside app/ (the image is not built in CI:
there is no Docker engine there). It once copied only convex/capabilities.json, while the app
also reads convex/errorCodes.json and convex/limits.json at import: the image could not start."""

import re
from pathlib import Path

from app import facts
from app.spa import DIST

ROOT = Path(__file__).resolve().parents[2]


def final_stage_copies() -> list[str]:
    """The sources of the last stage's COPY lines (`--from=<stage>` ones named as `<stage>:<path>`)."""
    stages = re.split(r"^FROM ", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    copies = []
    for line in stages[-1].splitlines():
        if match := re.match(r"COPY (?:--from=(\S+) )?(\S+) \S+$", line):
            stage, source = match.groups()
            copies.append(f"{stage}:{source}" if stage else source)
    return copies


def test_the_image_copies_every_json_file_the_app_reads_from_convex():
    read = {facts.CONVEX_DIR / "errorCodes.json", facts.CONVEX_DIR / "limits.json", facts.MATRIX_PATH}
    copied = [ROOT / pattern for pattern in final_stage_copies() if pattern.startswith("convex/")]
    for path in read:
        relative = path.relative_to(ROOT)
        assert any(relative.match(str(pattern.relative_to(ROOT))) for pattern in copied), f"{relative} not in the image"


def test_the_image_serves_the_spa_built_in_its_own_stage():
    assert f"spa:/build/{DIST.relative_to(ROOT)}" in final_stage_copies()
    assert re.search(r"^FROM node:20\S* AS spa$", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
