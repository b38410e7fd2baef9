"""Helpers the exchange formats (CSV, GIFT, Moodle XML, QTI) share: decoding, stable external ids, numbers,
validation with a location, the metadata comment, answer weights, numeric answers and categories.

Formats stay pure: text or bytes in, ``ItemIn`` out (and back); nothing here touches the database."""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from trainer.bank.models import ItemType
from trainer.bank.schema import ID_PATTERN, ItemIn, Problem

ID_MAX = 80
BLANK = "_____"  # where an answer goes inside a sentence (GIFT's "missing word", an inline QTI text entry)
TAG_MAX = 64

# ------------------------------------------------------------------------------------------- text and places


def decode_text(data: bytes) -> tuple[str | None, list[Problem]]:
    """UTF-8 text (a leading BOM is dropped); undecodable bytes are a problem naming their line."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start]
        return None, [
            Problem("", f"the file is not UTF-8 text (byte {bad:#04x} cannot be decoded); save it as UTF-8", line)
        ]


@dataclass(frozen=True)
class Place:
    """Where something sits in an input file: a line, an XML element path, the member of a package."""

    line: int | None = None
    path: str = ""
    source: str = ""

    def problem(self, message: str, *, line: int | None = None) -> Problem:
        text = f"{message} (at {self.path})" if self.path else message
        return Problem(self.path, text, line if line is not None else self.line, self.source)

    def describe(self) -> str:
        parts = [f"in {self.source}"] if self.source else []
        if self.path:
            parts.append(f"by {self.path}")
        if self.line:
            parts.append(f"at line {self.line}")
        return " ".join(parts)


def item_label(data: dict[str, Any]) -> str:
    return f"item {data['id']}" if data.get("id") else "an item"


def build_item(
    data: dict[str, Any], place: Place, *, field_name: Callable[[tuple[int | str, ...]], str] | None = None
) -> tuple[ItemIn | None, list[Problem]]:
    """Validate an item's fields with the canonical schema; every error becomes a problem at ``place``.
    ``field_name`` turns a pydantic location into the format's own name for the field (a CSV column)."""
    try:
        return ItemIn.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            message = f"{item_label(data)}: {err['msg'].removeprefix('Value error, ')}"
            name = (field_name(loc) if field_name else ".".join(str(p) for p in loc)) if loc else ""
            problems.append(place.problem(f"{message} ({name})" if name else message))
        return None, problems


def unique_ids(located: Iterable[tuple[ItemIn, Place]]) -> list[Problem]:
    """A problem for every item whose id an earlier item of the same file already has."""
    first: dict[str, Place] = {}
    problems = []
    for item, place in located:
        if item.id in first:
            problems.append(place.problem(f"item {item.id}: the id is already used {first[item.id].describe()}"))
        else:
            first[item.id] = place
    return problems


# ------------------------------------------------------------------------------------------------------ ids


def slug(raw: str) -> str:
    """Lowercase ASCII letters, digits and single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def external_id(raw: str) -> str | None:
    """A bank id from a title, idnumber or identifier: kept when already valid, else slugified (a long one is
    shortened with a hash of the original so it stays unique); None when nothing usable is left."""
    raw = raw.strip()
    if re.fullmatch(ID_PATTERN, raw):
        return raw
    s = slug(raw)
    if not s:
        return None
    if len(s) > ID_MAX:
        s = f"{s[: ID_MAX - 11].rstrip('-')}-{_digest(raw)[:10]}"
    return s


def content_id(text: str, *, prefix: str) -> str:
    """A stable id for an item whose file gives it none: the start of its text and a hash of all of it (the id
    changes when the text does, so formats document that items should carry an id)."""
    start = slug(text)[:40].strip("-")
    return f"{prefix}-{start}-{_digest(text)[:10]}" if start else f"{prefix}-{_digest(text)[:10]}"


def tag_slug(raw: str) -> str | None:
    s = slug(raw)[:TAG_MAX].strip("-")
    return s or None


# -------------------------------------------------------------------------------------------------- numbers


def number_text(value: float) -> str:
    """100.0 → "100", 0.25 → "0.25" (no exponent for ordinary values)."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def parse_number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def percent_text(value: float) -> str:
    """Answer weights as GIFT and Moodle write them: 100, 50, 33.33333, -25."""
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text


# ------------------------------------------------------------------------------------ options from weights

FULL = 100.0
_EPS = 1e-6


def choice_fractions(item: ItemIn) -> list[float]:
    """Weights (percent) to export the options of a choice item with: the key 100, distractors 0; for a
    multiple-response item every right option an equal share of 100 and every wrong one an equal share of -100, so
    choosing everything earns nothing."""
    right = sum(o.correct for o in item.options)
    wrong = len(item.options) - right
    if item.type == ItemType.MULTIPLE and right:
        return [FULL / right if o.correct else (-FULL / wrong) for o in item.options]
    return [FULL if o.correct else 0.0 for o in item.options]


def keyed_options(fractions: Sequence[float], *, single: bool) -> tuple[ItemType, list[bool], dict[int, str]]:
    """The bank keys every option right or wrong. A single-answer question's key is its 100% answer and partial
    credit is refused (it would make the key ambiguous); in a multiple-response question every option with a
    positive weight is right. Returns the type, the flags and problems by option index."""
    if single:
        problems = {
            i: f"gives partial credit ({percent_text(f)}%) in a single-answer question; the bank keys each option as "
            "right or wrong, so make it the key or a distractor"
            for i, f in enumerate(fractions)
            if _EPS < f < FULL - _EPS
        }
        return ItemType.SINGLE, [f >= FULL - _EPS for f in fractions], problems
    return ItemType.MULTIPLE, [f > _EPS for f in fractions], {}


@dataclass(frozen=True)
class NumericAnswer:
    value: float
    tolerance: float | None
    fraction: float
    feedback: str = ""
    place: Place = Place()


def full_credit_answer(answers: Sequence[NumericAnswer]) -> tuple[NumericAnswer | None, str]:
    """The one answer of a numeric question that gives full credit (partial-credit answers are dropped)."""
    full = [a for a in answers if a.fraction >= FULL - _EPS]
    if not full:
        return None, "no answer gives full credit"
    if len(full) > 1:
        return None, (
            f"{len(full)} answers give full credit; the bank keeps one answer with a tolerance "
            "(use a range or a tolerance instead)"
        )
    return full[0], ""


def joined(*texts: str) -> str:
    """Non-empty texts as paragraphs."""
    return "\n\n".join(t.strip() for t in texts if t.strip())


# ------------------------------------------------------------------------------------------------ categories

_CATEGORY_ROOTS = {"$course$", "$system$", "$module$", "$coursecategory$", "$cat$"}
_TRACK = re.compile(r"[A-Z][A-Z0-9-]*")
_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*")
DEFAULT_CATEGORY = "PACS Trainer"


def category_fields(path: str) -> tuple[list[dict[str, str]], list[str]]:
    """Domains and tags from a Moodle category path. ``$course$/top/CIIP/image-management`` (the last two levels
    a track code and a domain code) is that domain; any other path gives one tag per level (Moodle's automatic
    "Default for …" levels and ``top`` are skipped)."""
    levels = [s.strip() for s in path.strip().split("/") if s.strip()]
    if levels and levels[0] in _CATEGORY_ROOTS:
        levels = levels[1:]
    if levels and levels[0] == "top":
        levels = levels[1:]
    if len(levels) >= 2 and _TRACK.fullmatch(levels[-2]) and _DOMAIN.fullmatch(levels[-1]):
        return [{"track": levels[-2], "domain": levels[-1]}], []
    tags = (tag_slug(level) for level in levels if not level.startswith("Default for "))
    return [], list(dict.fromkeys(t for t in tags if t))


def category_path(item: ItemIn) -> str:
    """The Moodle category an item is exported into: its home (first) domain."""
    home = item.domains[0] if item.domains else None
    return f"$course$/top/{home.track}/{home.domain}" if home else f"$course$/top/{DEFAULT_CATEGORY}"


# ---------------------------------------------------------------------------------------- metadata comment
# GIFT, Moodle XML and QTI have no place for some of the bank's fields. The exporters write those fields as JSON
# in a comment the other tools ignore (``// @pacs-trainer {...}`` in GIFT, ``<!-- @pacs-trainer {...} -->`` in
# XML); the importers read it back, so a file that went out and comes back loses nothing but the history.

META_MARK = "@pacs-trainer"
# The item fields GIFT, Moodle XML and QTI have no place for: they travel in the metadata comment.
META_FIELDS = ("references", "domains", "tags", "difficulty", "level", "status", "generated", "media")
META_KEYS = (*META_FIELDS, "unit", "pair_rationales", "stem_markdown", "rationale_markdown")


def meta_comment(item: ItemIn, keys: Iterable[str], **extra: str) -> str:
    """``@pacs-trainer {json}`` with the item's fields named in ``keys`` (empty optional ones left out)."""
    dumped = item.model_dump(mode="json")
    data: dict[str, Any] = {}
    for key in keys:
        if key == "pair_rationales":
            if any(p.rationale for p in item.pairs):
                data[key] = [p.rationale for p in item.pairs]
        elif key == "unit":
            if item.unit is not None:
                data[key] = item.unit
        elif key in {"generated", "media"}:
            if dumped[key]:
                data[key] = dumped[key]
        else:
            data[key] = dumped[key]
    data.update({k: v for k, v in extra.items() if v})
    # "--" may not appear in an XML comment; JSON lets the second hyphen be written as an escape.
    body = json.dumps(data, ensure_ascii=False, separators=(", ", ": ")).replace("--", "-\\u002d")
    return f"{META_MARK} {body}"


def meta_read(comment: str) -> tuple[dict[str, Any] | None, str]:
    """The metadata in a comment: (data, "") for ours, (None, "") for any other comment, (None, error)."""
    body = comment.strip()
    if not body.startswith(META_MARK):
        return None, ""
    try:
        data = json.loads(body[len(META_MARK) :])
    except json.JSONDecodeError as exc:
        return None, f"the {META_MARK} comment is not valid JSON: {exc.msg} (column {exc.colno})"
    if not isinstance(data, dict):
        return None, f"the {META_MARK} comment must hold a JSON object"
    unknown = sorted(set(data) - set(META_KEYS))
    if unknown:
        return None, f"the {META_MARK} comment has unknown key(s): {', '.join(unknown)}"
    return data, ""


def meta_apply(data: dict[str, Any], meta: dict[str, Any]) -> str:
    """Merge metadata into an item's fields (it wins over what the format says, e.g. a category); returns an
    error message or ""."""
    for key, value in meta.items():
        if key in {"stem_markdown", "rationale_markdown"}:
            continue  # the format that writes them decides whether they still apply
        if key == "pair_rationales":
            pairs = data.get("pairs") or []
            if not isinstance(value, list) or len(value) != len(pairs) or not all(isinstance(v, str) for v in value):
                return f"pair_rationales must be a list of {len(pairs)} strings, one per pair"
            for pair, rationale in zip(pairs, value, strict=True):
                pair["rationale"] = rationale
        else:
            data[key] = value
    return ""


# ------------------------------------------------------------------- assembling what an exchange format read


def option_rows(rows: Iterable[tuple[str, str]], correct: Iterable[bool] | None = None) -> list[dict[str, Any]]:
    """Option fields from (text, feedback) rows — the feedback being the option's rationale — each keyed right or
    wrong when ``correct`` is given (choice items), unkeyed otherwise (ordering items, in the correct order)."""
    options: list[dict[str, Any]] = [{"text": text, "rationale": rationale} for text, rationale in rows]
    if correct is not None:
        for option, flag in zip(options, correct, strict=True):
            option["correct"] = flag
    return options


def truefalse_options(true: tuple[bool, str], false: tuple[bool, str]) -> list[dict[str, Any]]:
    """The two options of a true/false item, True then False, each (right?, feedback) as the file gives it (a
    file marking both or neither right is left for the schema to refuse)."""
    return [
        {"text": "True", "correct": true[0], "rationale": true[1]},
        {"text": "False", "correct": false[0], "rationale": false[1]},
    ]


def finish_item(
    data: dict[str, Any], metas: Iterable[dict[str, Any] | str], problems: list[Problem], place: Place, label: str
) -> tuple[ItemIn | None, list[Problem]]:
    """The last step of reading an item: apply its metadata comment(s) (each a parsed dict or the error reading
    it gave), then build the item — or return every problem found on the way."""
    for meta in metas:
        error = meta if isinstance(meta, str) else meta_apply(data, meta)
        if error:
            problems.append(place.problem(f"{label}: {error}"))
    if problems:
        return None, problems
    return build_item(data, place)
