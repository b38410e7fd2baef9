"""Moodle's GIFT format (docs.moodle.org, "GIFT format"), read and written by our own parser. The mapping is in
docs/BANK-FORMAT.md ("GIFT"): ``::title::`` or a ``// [id:…]`` comment is the external id, ``$CATEGORY:`` gives
domains or tags, ``#`` feedback is an option's rationale and ``####`` feedback the item's. Fields GIFT cannot
hold travel in a ``// @pacs-trainer {…}`` comment, which Moodle ignores."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from trainer.bank.formats.common import (
    BLANK,
    FULL,
    META_FIELDS,
    META_MARK,
    NumericAnswer,
    Place,
    category_fields,
    category_path,
    choice_fractions,
    content_id,
    external_id,
    finish_item,
    full_credit_answer,
    joined,
    keyed_options,
    meta_comment,
    meta_read,
    number_text,
    option_rows,
    parse_number,
    percent_text,
    tag_slug,
    truefalse_options,
    unique_ids,
)
from trainer.bank.models import ItemType
from trainer.bank.schema import ItemIn, Problem

TEXT_FORMATS = ("html", "moodle", "plain", "markdown")
META_KEYS = (*META_FIELDS, "unit", "pair_rationales")

# Escaped characters are swapped for private-use characters while the structure is parsed, then swapped back.
_SPECIAL = "~=#{}:"
_HIDDEN = {c: chr(0xE000 + i) for i, c in enumerate(_SPECIAL + "\\")}
_NEWLINE = chr(0xE00F)
_RESTORE = str.maketrans({**{v: k for k, v in _HIDDEN.items()}, _NEWLINE: "\n"})
_ESCAPE_RE = re.compile(r"\\([~=#{}:\\n])")
_WEIGHT = re.compile(r"\s*%(-?\d+(?:\.\d+)?)%")
_ID_COMMENT = re.compile(r"\[id:((?:\\\]|[^\]\[])+)\]")
_TAG_COMMENT = re.compile(r"\[tag:((?:\\\]|[^\]\[<>])+)\]")
_FORMAT = re.compile(r"\s*\[(" + "|".join(TEXT_FORMATS) + r")\]")


def _hide_escapes(line: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _NEWLINE if m.group(1) == "n" else _HIDDEN[m.group(1)], line)


def _text(raw: str) -> str:
    """A piece of GIFT text as it reads: escapes restored, an optional [format] marker dropped, stripped."""
    marker = _FORMAT.match(raw)
    return _restore(raw[marker.end() :] if marker else raw)


def _restore(raw: str) -> str:
    return raw.translate(_RESTORE).strip()


@dataclass(frozen=True)
class _Line:
    number: int
    text: str


class _Question:
    """One question's text with escapes hidden, mapping character offsets back to file lines."""

    def __init__(self, lines: list[_Line]) -> None:
        self.text = "\n".join(_hide_escapes(line.text) for line in lines)
        self.numbers = [line.number for line in lines]
        self.starts: list[int] = []
        offset = 0
        for part in self.text.split("\n"):
            self.starts.append(offset)
            offset += len(part) + 1

    def line_at(self, offset: int) -> int:
        return self.numbers[max(0, bisect.bisect_right(self.starts, offset) - 1)]


def _blocks(text: str) -> list[list[_Line]]:
    blocks: list[list[_Line]] = [[]]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as editors count lines
    for number, line in enumerate(lines, start=1):
        if line.strip():
            blocks[-1].append(_Line(number, line))
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


# ------------------------------------------------------------------------------------------------- import


def parse_gift(text: str) -> tuple[list[ItemIn], list[Problem]]:
    problems: list[Problem] = []
    located: list[tuple[ItemIn, Place]] = []
    category: tuple[list[dict[str, str]], list[str]] = ([], [])
    for block in _blocks(text):
        comments = [line for line in block if line.text.strip().startswith("//")]
        body = [line for line in block if not line.text.strip().startswith("//")]
        if body and body[0].text.strip().startswith("$CATEGORY:"):
            category = category_fields(body[0].text.strip()[len("$CATEGORY:") :])
            body = body[1:]  # a question right under the category line (no blank line) is still read
        meta, meta_problems = _meta(comments)
        problems += meta_problems
        if not body:
            if meta is not None:
                problems.append(
                    Problem("", "an @pacs-trainer comment is not followed by a question", comments[0].number)
                )
            continue
        item, item_problems = _question(body, comments, meta, category)
        problems += item_problems
        if item is not None:
            located.append((item, Place(line=body[0].number)))
    problems += unique_ids(located)
    return ([], problems) if problems else ([item for item, _ in located], [])


def _meta(comments: list[_Line]) -> tuple[dict[str, Any] | None, list[Problem]]:
    found: dict[str, Any] | None = None
    problems = []
    for line in comments:
        data, error = meta_read(line.text.strip()[2:])
        if error:
            problems.append(Problem("", error, line.number))
        elif data is not None:
            if found is not None:
                problems.append(Problem("", "a question has more than one @pacs-trainer comment", line.number))
            found = data
    return found, problems


def _question(
    body: list[_Line],
    comments: list[_Line],
    meta: dict[str, Any] | None,
    category: tuple[list[dict[str, str]], list[str]],
) -> tuple[ItemIn | None, list[Problem]]:
    q = _Question(body)
    s = q.text
    place = Place(line=body[0].number)
    pos = len(s) - len(s.lstrip())
    title = ""
    if s.startswith("::", pos):
        end = s.find("::", pos + 2)
        if end < 0:
            return None, [place.problem("the question title is not closed: expected ::title::")]
        title, pos = _restore(s[pos + 2 : end]), end + 2

    label = f"question {title}" if title else "question"
    opening, closing = s.find("{", pos), s.find("}", pos)
    if opening < 0 and closing < 0:
        message = "no answer block {…}: description items (text without answers) are not supported"
        return None, [place.problem(f"{label}: {message}")]
    if opening < 0 or 0 <= closing < opening:
        message = "a } without its { (write \\} for a literal brace)"
        return None, [place.problem(f"{label}: {message}", line=q.line_at(closing))]
    closing = s.find("}", opening)
    if closing < 0:
        message = "the answer block is not closed: a { without its }"
        return None, [place.problem(f"{label}: {message}", line=q.line_at(opening))]
    nested = s.find("{", opening + 1)
    if 0 <= nested < closing:
        message = "a { inside the answer block (write \\{ for a literal brace)"
        return None, [place.problem(f"{label}: {message}", line=q.line_at(nested))]
    after = s[closing + 1 :]
    if "{" in after or "}" in after:
        return None, [place.problem(f"{label}: more than one answer block", line=q.line_at(closing + 1))]
    stem = _text(s[pos:opening] + (BLANK + after if after.strip() else ""))

    inner, base = s[opening + 1 : closing], opening + 1
    general = ""
    cut = inner.rfind("####")
    if cut >= 0:
        inner, general = inner[:cut], _text(inner[cut + 4 :])

    marks = [c.text for c in comments if not c.text.strip()[2:].strip().startswith(META_MARK)]
    ids = [m.group(1).replace("\\]", "]") for c in marks for m in _ID_COMMENT.finditer(c)]
    item_id = external_id(ids[0]) if ids else None
    item_id = item_id or (external_id(title) if title else None) or content_id(stem, prefix="gift")
    tags = [t for c in marks for m in _TAG_COMMENT.finditer(c) if (t := tag_slug(m.group(1)))]
    data: dict[str, Any] = {"id": item_id, "stem": stem, "rationale": general}
    data["domains"], data["tags"] = list(category[0]), list(dict.fromkeys(category[1] + tags))
    label = f"question {title or item_id}"  # now that there is an id

    kind = _kind(inner)
    problems: list[Problem] = []
    if kind == "essay":
        return None, [place.problem(f"{label}: essay items (an empty answer block {{}}) are not supported")]
    if kind == "short":
        return None, [place.problem(f"{label}: short-answer items are not supported", line=q.line_at(base))]
    if kind == "numeric":
        problems = _numeric(q, inner, base, data, place, label)
    elif kind == "choice":
        problems = _choices(q, inner, base, data, place, label)
    elif kind == "matching":
        problems = _matching(q, inner, base, data, place, label)
    else:
        _truefalse(inner, data)
    return finish_item(data, [meta] if meta is not None else [], problems, place, label)


def _kind(inner: str) -> str:
    """The question type, decided in the order Moodle decides it."""
    if not inner.strip():
        return "essay"
    if inner.lstrip().startswith("#"):
        return "numeric"
    if "~" in inner:
        return "choice"
    if "=" in inner and "->" in inner:
        return "matching"
    if inner.split("#", 1)[0].strip().upper() in {"T", "TRUE", "F", "FALSE"}:
        return "truefalse"
    return "short"


def _answers(
    q: _Question, inner: str, base: int, markers: str, place: Place, label: str
) -> tuple[list[tuple[str, str, int]], list[Problem]]:
    """(marker, body, line) for every answer of a block; text before the first answer is a problem."""
    found = list(re.finditer(f"[{re.escape(markers)}]", inner))
    problems = []
    lead = inner[: found[0].start()] if found else inner
    if lead.strip():
        problems.append(
            place.problem(f"{label}: text before the first answer: {_restore(lead)!r}", line=q.line_at(base))
        )
    answers = []
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(inner)
        answers.append((m.group(), inner[m.end() : end], q.line_at(base + m.start())))
    return answers, problems


def _choices(q: _Question, inner: str, base: int, data: dict[str, Any], place: Place, label: str) -> list[Problem]:
    answers, problems = _answers(q, inner, base, "=~", place, label)
    fractions: list[float] = []
    rows: list[tuple[str, str]] = []
    lines: list[int] = []
    for marker, body, line in answers:
        weight = _WEIGHT.match(body) if marker == "~" else None
        if marker == "~" and weight is None and body.lstrip().startswith("%"):
            problems.append(place.problem(f"{label}: a malformed weight (write ~%50%answer)", line=line))
        fraction = FULL if marker == "=" else float(weight.group(1)) if weight else 0.0
        text, _, feedback = body[weight.end() if weight else 0 :].partition("#")
        fractions.append(fraction)
        rows.append((_text(text), _text(feedback)))
        lines.append(line)
    single = any(marker == "=" for marker, _, _ in answers)  # Moodle: no "=" means several answers may be right
    item_type, flags, refused = keyed_options(fractions, single=single)
    for index, message in refused.items():
        problems.append(place.problem(f"{label}: the answer {rows[index][0]!r} {message}", line=lines[index]))
    data |= {"type": item_type, "options": option_rows(rows, flags)}
    return problems


def _truefalse(inner: str, data: dict[str, Any]) -> None:
    parts = [*inner.split("#", 2), "", ""]
    is_true = parts[0].strip().upper() in {"T", "TRUE"}
    wrong, right = _text(parts[1]), _text(parts[2])  # Moodle: first feedback for a wrong answer, then a right one
    options = truefalse_options((is_true, right if is_true else wrong), (not is_true, wrong if is_true else right))
    data |= {"type": ItemType.TRUEFALSE, "options": options}


def _numeric(q: _Question, inner: str, base: int, data: dict[str, Any], place: Place, label: str) -> list[Problem]:
    start = inner.index("#") + 1
    body = inner[start:]
    problems: list[Problem] = []
    if "=" in body:
        answers, problems = _answers(q, body, base + start, "=", place, label)
    else:
        answers = [("", body, q.line_at(base + start))]
    parsed = []
    for _, text, line in answers:
        weight = _WEIGHT.match(text)
        spec, _, feedback = text[weight.end() if weight else 0 :].partition("#")
        value, tolerance, error = _numeric_spec(spec.strip())
        if error:
            problems.append(place.problem(f"{label}: {error}", line=line))
            continue
        fraction = float(weight.group(1)) if weight else FULL
        parsed.append(NumericAnswer(value, tolerance, fraction, _text(feedback), Place(line=line)))
    if problems:
        return problems
    chosen, error = full_credit_answer(parsed)
    if chosen is None:
        return [place.problem(f"{label}: {error}")]
    data |= {"type": ItemType.NUMERIC, "answer": chosen.value, "tolerance": chosen.tolerance}
    data["rationale"] = joined(data["rationale"], chosen.feedback)
    return []


def _numeric_spec(spec: str) -> tuple[float, float | None, str]:
    """``3.5:0.5`` (answer and tolerance), ``1..5`` (a range) or ``42`` → (answer, tolerance, error). Escapes
    are still hidden in ``spec``, so an escaped colon never separates a tolerance."""
    bad = f"{_restore(spec)!r} is not a number, number:tolerance or min..max"
    if ".." in spec:
        low, high = (parse_number(p) for p in spec.split("..", 1))
        if low is None or high is None:
            return 0.0, None, bad
        if low > high:
            return 0.0, None, f"the range {_restore(spec)!r} runs backwards"
        return (low + high) / 2, (high - low) / 2, ""
    value_text, colon, tolerance_text = spec.partition(":")
    value = parse_number(value_text)
    tolerance = parse_number(tolerance_text) if colon else None
    if value is None or (colon and tolerance is None):
        return 0.0, None, bad
    return value, tolerance, ""


def _matching(q: _Question, inner: str, base: int, data: dict[str, Any], place: Place, label: str) -> list[Problem]:
    answers, problems = _answers(q, inner, base, "=", place, label)
    pairs = []
    for _, body, line in answers:
        if "#" in body:
            problems.append(
                place.problem(f"{label}: matching questions take no feedback (#); escape it as \\#", line=line)
            )
        prompt, arrow, answer = body.partition("->")
        if not arrow:
            problems.append(place.problem(f"{label}: a matching answer needs 'prompt -> answer'", line=line))
        elif not _restore(prompt):
            problems.append(
                place.problem(f"{label}: extra answers without a prompt (= -> …) are not supported", line=line)
            )
        else:
            pairs.append({"prompt": _text(prompt), "answer": _text(answer)})
    data |= {"type": ItemType.MATCHING, "pairs": pairs}
    return problems


# ------------------------------------------------------------------------------------------------- export


def _escape(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\\", "\\\\")
    for c in _SPECIAL:
        text = text.replace(c, "\\" + c)
    return text.replace("\n", "\\n")


def dump_gift(items: list[ItemIn]) -> tuple[str, list[Problem]]:
    out = [
        "// PACS Trainer question bank, GIFT export. The @pacs-trainer comments carry the fields GIFT has no",
        "// place for (references, domains, difficulty, level, status…); Moodle ignores them.",
        "",
    ]
    skipped: list[Problem] = []
    category = None
    for item in items:
        reason = _cannot_write(item)
        if reason:
            skipped.append(Problem(item.id, f"item {item.id} not exported: {reason}"))
            continue
        path = category_path(item)
        if path != category:
            out += [f"$CATEGORY: {path}", ""]
            category = path
        out += [*_question_lines(item), ""]
    return "\n".join(out), skipped


def _cannot_write(item: ItemIn) -> str:
    if item.type == ItemType.ORDERING:
        return "ordering items have no GIFT equivalent (use Moodle XML, QTI, CSV or the native format)"
    if any("->" in p.prompt for p in item.pairs):
        return "a matching prompt contains '->', which GIFT cannot escape"
    return ""


def _question_lines(item: ItemIn) -> list[str]:
    marks = " ".join([f"[id:{item.id}]", *(f"[tag:{t}]" for t in item.tags)])
    lines = [f"// {marks}", f"// {meta_comment(item, META_KEYS)}"]
    head = f"::{item.id}::[markdown]{_escape(item.stem)} {{"
    general = f"####{_escape(item.rationale)}" if item.rationale.strip() else ""
    if item.type == ItemType.TRUEFALSE:
        key = next(o for o in item.options if o.correct)
        wrong = next(o for o in item.options if not o.correct)
        parts = [_escape(wrong.rationale), _escape(key.rationale)]  # Moodle's order: wrong answer, right answer
        while parts and not parts[-1]:
            parts.pop()
        lines.append(head + "#".join(["TRUE" if key.text == "True" else "FALSE", *parts]))
    elif item.type == ItemType.NUMERIC:
        assert item.answer is not None  # the schema requires it
        tolerance = f":{number_text(item.tolerance)}" if item.tolerance is not None else ""
        lines.append(f"{head}#{number_text(item.answer)}{tolerance}")
    elif item.type == ItemType.MATCHING:
        lines.append(head)
        lines += [f"={_escape(p.prompt)} -> {_escape(p.answer)}" for p in item.pairs]
    else:
        lines.append(head)
        weighted = item.type == ItemType.MULTIPLE
        for option, fraction in zip(item.options, choice_fractions(item), strict=True):
            feedback = f"#{_escape(option.rationale)}" if option.rationale.strip() else ""
            text = _escape(option.text)
            if weighted or (not option.correct and text.startswith("%")):
                lines.append(f"~%{percent_text(fraction)}%{text}{feedback}")
            else:
                lines.append(f"{'=' if option.correct else '~'}{text}{feedback}")
    if general:
        lines.append(general)
    lines.append("}")
    return lines
