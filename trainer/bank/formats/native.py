"""The native YAML format (``pacs-trainer-bank/1``, see docs/BANK-FORMAT.md): every field round-trips."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from trainer.bank.schema import NATIVE_SCHEMA, BankFile, ItemIn, Problem


def _node_line(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a 1-based line number."""
    node = root
    best = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            match = node.value[key]
        else:
            match = None
        if match is None:
            break
        node = match
        best = node.start_mark.line + 1
    return best


def parse_native(text: str) -> tuple[list[ItemIn], list[Problem]]:
    try:
        raw = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [Problem("", f"not valid YAML: {getattr(exc, 'problem', exc)}", mark.line + 1 if mark else None)]
    if not isinstance(raw, dict):
        return [], [Problem("", f"expected a mapping with 'schema: {NATIVE_SCHEMA}' and 'items'", 1)]
    try:
        bank = BankFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = ".".join(str(p) for p in loc)
            item_id = _item_id(raw, loc)
            message = err["msg"].removeprefix("Value error, ")
            if item_id:
                message = f"item {item_id}: {message}"
            problems.append(Problem(where, f"{message} (at {where})" if where else message, _node_line(root, loc)))
        return [], problems
    return bank.items, []


def _item_id(raw: dict[str, Any], loc: tuple[Any, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
        items = raw.get("items") or []
        if loc[1] < len(items) and isinstance(items[loc[1]], dict):
            return str(items[loc[1]].get("id") or "") or None
    return None


def dump_native(items: list[ItemIn]) -> str:
    doc = {"schema": NATIVE_SCHEMA, "items": [_item_dict(i) for i in items]}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)


def _item_dict(item: ItemIn) -> dict[str, Any]:
    data = item.model_dump(mode="json", exclude_defaults=True)
    # Keep the fields that define the item even when they hold their default value.
    for key in ("id", "type", "stem", "difficulty", "level", "status"):
        data[key] = item.model_dump(mode="json")[key]
    order = [
        "id",
        "type",
        "stem",
        "options",
        "pairs",
        "answer",
        "tolerance",
        "unit",
        "rationale",
        "references",
        "media",
        "domains",
        "tags",
        "difficulty",
        "level",
        "status",
        "generated",
        "history",
    ]
    return {k: data[k] for k in order if k in data}
