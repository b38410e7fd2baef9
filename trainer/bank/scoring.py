"""Scoring a learner's response to an item version. Responses are JSON objects:

- single / truefalse: ``{"choice": "b"}``
- multiple: ``{"choices": ["a", "c"]}``
- ordering: ``{"order": ["c", "a", "b"]}`` (option keys, first to last)
- matching: ``{"pairs": {"a": "c", "b": "a"}}`` (prompt key → key of the pair whose answer was chosen)
- numeric: ``{"value": 12.5}``
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from trainer.bank.models import ItemType, ItemVersion


class InvalidResponse(ValueError):
    """The response does not fit the item (unknown option, wrong shape): the learner is told, nothing is saved."""


@dataclass(frozen=True)
class Score:
    correct: bool
    score: float  # 0..1; partial credit where the type allows it


def _keys(version: ItemVersion) -> set[str]:
    return {o["key"] for o in version.options}


def normalise_response(version: ItemVersion, item_type: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Check a response against the item and return it in canonical form."""
    keys = _keys(version)
    if item_type in {ItemType.SINGLE, ItemType.TRUEFALSE}:
        choice = raw.get("choice")
        if choice not in keys:
            raise InvalidResponse("choose one of the options")
        return {"choice": choice}
    if item_type == ItemType.MULTIPLE:
        choices = raw.get("choices")
        if not isinstance(choices, list) or not choices or not set(choices) <= keys:
            raise InvalidResponse("choose at least one of the options")
        return {"choices": sorted(set(choices))}
    if item_type == ItemType.ORDERING:
        order = raw.get("order")
        if not isinstance(order, list) or sorted(order) != sorted(keys):
            raise InvalidResponse("put every step in order")
        return {"order": list(order)}
    if item_type == ItemType.MATCHING:
        pair_keys = {p["key"] for p in version.pairs}
        pairs = raw.get("pairs")
        if not isinstance(pairs, dict) or set(pairs) != pair_keys or not set(pairs.values()) <= pair_keys:
            raise InvalidResponse("match every prompt")
        return {"pairs": {str(k): str(v) for k, v in sorted(pairs.items())}}
    if item_type == ItemType.NUMERIC:
        try:
            value = float(str(raw.get("value", "")).replace(",", ".").strip())
        except ValueError:
            raise InvalidResponse("enter a number") from None
        if not math.isfinite(value):
            raise InvalidResponse("enter a finite number")
        return {"value": value}
    raise InvalidResponse(f"unknown item type {item_type}")


def score_response(version: ItemVersion, item_type: str, response: dict[str, Any]) -> Score:
    """Score a normalised response. Single-best-answer items are right or wrong; the others get partial credit
    (multiple response: right picks minus wrong picks over the number of keys, floored at 0)."""
    if item_type in {ItemType.SINGLE, ItemType.TRUEFALSE}:
        ok = any(o["correct"] and o["key"] == response["choice"] for o in version.options)
        return Score(ok, float(ok))
    if item_type == ItemType.MULTIPLE:
        keys = {o["key"] for o in version.options if o["correct"]}
        chosen = set(response["choices"])
        partial = max(0.0, (len(chosen & keys) - len(chosen - keys)) / len(keys))
        return Score(chosen == keys, partial)
    if item_type == ItemType.ORDERING:
        right = [o["key"] for o in version.options]
        in_place = sum(a == b for a, b in zip(right, response["order"], strict=True))
        return Score(in_place == len(right), in_place / len(right))
    if item_type == ItemType.MATCHING:
        pairs = response["pairs"]
        hits = sum(pairs.get(p["key"]) == p["key"] for p in version.pairs)
        return Score(hits == len(version.pairs), hits / len(version.pairs))
    if item_type == ItemType.NUMERIC:
        assert version.answer is not None
        tolerance = version.tolerance or 0.0
        ok = abs(response["value"] - version.answer) <= tolerance + 1e-9 * max(1.0, abs(version.answer))
        return Score(ok, float(ok))
    raise InvalidResponse(f"unknown item type {item_type}")


def response_from_form(item_type: str, data: Any) -> dict[str, Any]:
    """Build a raw response from an HTML form (a QueryDict): the field names the item templates use."""
    if item_type in {ItemType.SINGLE, ItemType.TRUEFALSE}:
        return {"choice": data.get("choice")}
    if item_type == ItemType.MULTIPLE:
        return {"choices": data.getlist("choices")}
    if item_type == ItemType.ORDERING:
        return {"order": data.getlist("order")}
    if item_type == ItemType.MATCHING:
        return {"pairs": {k.removeprefix("pair-"): v for k, v in data.items() if k.startswith("pair-")}}
    if item_type == ItemType.NUMERIC:
        return {"value": data.get("value", "")}
    return {}


def key_response(version: ItemVersion, item_type: str) -> dict[str, Any]:
    """The response the key describes (scores as correct): what a learner who knows the answer gives."""
    if item_type in {ItemType.SINGLE, ItemType.TRUEFALSE}:
        return {"choice": next(o["key"] for o in version.options if o["correct"])}
    if item_type == ItemType.MULTIPLE:
        return {"choices": sorted(o["key"] for o in version.options if o["correct"])}
    if item_type == ItemType.ORDERING:
        return {"order": [o["key"] for o in version.options]}
    if item_type == ItemType.MATCHING:
        return {"pairs": {p["key"]: p["key"] for p in version.pairs}}
    if item_type == ItemType.NUMERIC:
        assert version.answer is not None
        return {"value": version.answer}
    raise InvalidResponse(f"unknown item type {item_type}")


def wrong_response(version: ItemVersion, item_type: str, pick: int = 0) -> dict[str, Any]:
    """A plausible wrong response (scores as incorrect); ``pick`` chooses among the distractors."""
    if item_type in {ItemType.SINGLE, ItemType.TRUEFALSE}:
        distractors = [o["key"] for o in version.options if not o["correct"]]
        return {"choice": distractors[pick % len(distractors)]}
    if item_type == ItemType.MULTIPLE:
        keys = [o["key"] for o in version.options if o["correct"]]
        distractors = [o["key"] for o in version.options if not o["correct"]]
        if not distractors:
            return {"choices": keys[:-1] or keys}
        return {"choices": sorted([*keys[1:], distractors[pick % len(distractors)]])}
    if item_type == ItemType.ORDERING:
        return {"order": [o["key"] for o in reversed(version.options)]}
    if item_type == ItemType.MATCHING:
        keys = [p["key"] for p in version.pairs]
        return {"pairs": dict(zip(keys, keys[1:] + keys[:1], strict=True))}
    if item_type == ItemType.NUMERIC:
        assert version.answer is not None
        return {"value": version.answer + 10 * (1 + (version.tolerance or 0.0)) + abs(version.answer)}
    raise InvalidResponse(f"unknown item type {item_type}")
