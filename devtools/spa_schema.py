"""The reference SPA's API types (spa/src/api/schema.d.ts), generated from the BFF's OpenAPI document.

`python -m devtools.spa_schema` writes the file: the app's document, built without any `.env`,
goes through openapi-typescript. It is not committed (a megabyte that follows every API change):
the Makefile remakes it whenever a file it derives from changes, before `make typecheck` and the
SPA's build, so the SPA is always checked against the API as it is.
"""

import json
import subprocess
import tempfile
from pathlib import Path

from app.main import create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "spa" / "src" / "api" / "schema.d.ts"
GENERATOR = ROOT / "node_modules" / ".bin" / "openapi-typescript"


def render() -> str:
    """The types openapi-typescript writes for the app's current OpenAPI document."""
    document = create_app(Settings(_env_file=None)).openapi()
    with tempfile.TemporaryDirectory(prefix="spa-schema-") as folder:
        source, target = Path(folder) / "openapi.json", Path(folder) / "schema.d.ts"
        source.write_text(json.dumps(document))
        subprocess.run([GENERATOR, source, "-o", target], check=True, capture_output=True, cwd=ROOT)
        return target.read_text()


def main() -> None:
    SCHEMA_PATH.write_text(render())
    print(f"wrote {SCHEMA_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
