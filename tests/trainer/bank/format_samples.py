"""Sample files for the format tests (tests/trainer/bank/samples/, written by hand to each format's
specification) and helpers to compare items."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from trainer.bank.formats.native import parse_native
from trainer.bank.schema import ItemIn

SAMPLES = Path(__file__).parent / "samples"


def sample_bytes(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def qti_package(directory: str = "qti-package", *, drop: str = "", replace: dict[str, bytes] | None = None) -> bytes:
    """Zip a sample package directory (optionally leaving a member out or replacing one)."""
    root = SAMPLES / directory
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            if name == drop:
                continue
            package.writestr(name, (replace or {}).get(name, path.read_bytes()))
    return out.getvalue()


def all_types() -> list[ItemIn]:
    """Every item type, with the characters the formats must escape (native YAML sample)."""
    items, problems = parse_native((SAMPLES / "all-types.yaml").read_text())
    assert problems == []
    return items


def without_history(items: list[ItemIn]) -> list[dict[str, object]]:
    return [i.model_dump(exclude={"history"}) for i in items]


def by_id(items: list[ItemIn]) -> dict[str, ItemIn]:
    return {i.id: i for i in items}
