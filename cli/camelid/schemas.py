"""JSON Schemas of records and pack manifests, generated from the pydantic models.

`python -m camelid.schemas` rewrites schemas/; a test fails when the checked-in files drift.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from camelid.packs import PackManifest
from camelid.records import Record
from camelid.resources import builtin_dir

MODELS = {"record": Record, "pack": PackManifest}


def generate() -> dict[str, str]:
    """File name -> JSON text, exactly as checked in."""
    out = {}
    for name, model in MODELS.items():
        schema: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://camelid.dev/schemas/{name}.schema.json",
            **model.model_json_schema(by_alias=True),
        }
        out[f"{name}.schema.json"] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generate().items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else builtin_dir("schemas")):
        print(path)
