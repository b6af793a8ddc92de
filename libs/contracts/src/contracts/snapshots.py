"""JSON Schema snapshots of every wire class, committed under ``libs/contracts/schemas``.

Regenerate with ``python -m contracts.snapshots`` after a deliberate wire change; the test fails otherwise.
"""
from __future__ import annotations

import json
from pathlib import Path

from contracts.base import RpcRequest
from contracts.registry import load_all

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def current_snapshots() -> dict[str, str]:
    snapshots: dict[str, str] = {}
    for subject, cls in load_all():
        schema: dict = {"subject": subject, "message": cls.model_json_schema()}
        if issubclass(cls, RpcRequest):
            schema["reply"] = cls.reply_model.model_json_schema()
        snapshots[f"{subject}.json"] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return snapshots


def write_snapshots(directory: Path = SCHEMA_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    wanted = current_snapshots()
    for stale in directory.glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()
    for name, text in wanted.items():
        (directory / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_snapshots()
