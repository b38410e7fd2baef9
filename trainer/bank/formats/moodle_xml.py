"""Moodle XML (docs.moodle.org, "Moodle XML format"): ``<quiz>`` with ``<question type="…">`` elements. Read with
defusedxml (see ``xmlio``); the mapping is in docs/BANK-FORMAT.md ("Moodle XML"). ``<idnumber>`` is the external
id; fields Moodle has no element for travel in a ``<!-- @pacs-trainer {…} -->`` comment inside the question."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from trainer.bank.formats.common import (
    FULL,
    META_FIELDS,
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
from trainer.bank.formats.xmlio import (
    Node,
    comment,
    comments,
    descendants,
    indent,
    nodes,
    nodes_at,
    parse_xml,
    sub,
    text_at,
    to_bytes,
)
from trainer.bank.models import ItemType
from trainer.bank.schema import ItemIn, Problem

QUESTION_TYPES = {
    ItemType.SINGLE: "multichoice",
    ItemType.MULTIPLE: "multichoice",
    ItemType.TRUEFALSE: "truefalse",
    ItemType.NUMERIC: "numerical",
    ItemType.MATCHING: "matching",
    ItemType.ORDERING: "ordering",
}
SUPPORTED = sorted(set(QUESTION_TYPES.values()))
META_KEYS = (*META_FIELDS, "pair_rationales")
TEXT_FORMAT = "markdown"  # how the bank's Markdown is labelled for Moodle

Category = tuple[list[dict[str, str]], list[str]]

# ------------------------------------------------------------------------------------------------- import


def parse_moodle_xml(data: bytes) -> tuple[list[ItemIn], list[Problem]]:
    root, problems = parse_xml(data)
    if root is None:
        return [], problems
    if root.tag != "quiz":
        return [], [root.place().problem(f"expected a Moodle XML <quiz> document, found <{root.tag}>")]
    located: list[tuple[ItemIn, Place]] = []
    category: Category = ([], [])
    for question in nodes(root):
        if question.tag != "question":
            problems.append(question.place().problem(f"unexpected element <{question.tag}> in <quiz>"))
            continue
        kind = question.get("type", "")
        if kind == "category":
            category = category_fields(text_at(question, "category", "text"))
            continue
        item, item_problems = _question(question, kind, category)
        problems += item_problems
        if item is not None:
            located.append((item, question.place()))
    if not located and not problems:
        problems.append(root.place().problem("the quiz holds no questions"))
    problems += unique_ids(located)
    return ([], problems) if problems else ([item for item, _ in located], [])


def _question(question: Node, kind: str, category: Category) -> tuple[ItemIn | None, list[Problem]]:
    place = question.place()
    name = text_at(question, "name", "text").strip()
    label = f"question {name!r}" if name else "a question"
    if kind not in SUPPORTED:
        return None, [
            place.problem(f"{label}: question type {kind!r} is not supported (supported: {', '.join(SUPPORTED)})")
        ]
    files = [f for f in descendants(question) if f.tag == "file"]
    if files:
        return None, [
            files[0]
            .place()
            .problem(
                f"{label}: embedded files (images) are not supported; put media "
                "under fixtures/media and list them in the item"
            )
        ]
    stem = text_at(question, "questiontext", "text")
    idnumber = text_at(question, "idnumber")
    item_id = external_id(idnumber) or external_id(name) or content_id(stem, prefix="moodle")
    tags = [t for tag in nodes_at(question, "tags", "tag") if (t := tag_slug(text_at(tag, "text")))]
    data: dict[str, Any] = {
        "id": item_id,
        "stem": stem,
        "rationale": text_at(question, "generalfeedback", "text"),
        "domains": list(category[0]),
        "tags": list(dict.fromkeys(category[1] + tags)),
    }
    reader = {
        "multichoice": _multichoice,
        "truefalse": _truefalse,
        "numerical": _numerical,
        "matching": _matching,
        "ordering": _ordering,
    }[kind]
    problems = reader(question, data, label)
    read = [meta_read(text) for text in comments(question)]  # (ours, "") / (None, an error) / (None, "") not ours
    metas = [meta if meta is not None else error for meta, error in read if meta is not None or error]
    return finish_item(data, metas, problems, place, label)


def _fraction(answer: Node, label: str, problems: list[Problem], default: str = "0") -> float:
    raw = answer.get("fraction", default)
    value = parse_number(raw)
    if value is None:
        problems.append(answer.place().problem(f"{label}: the fraction {raw!r} is not a number"))
        return 0.0
    return value


def _multichoice(question: Node, data: dict[str, Any], label: str) -> list[Problem]:
    problems: list[Problem] = []
    answers = nodes(question, "answer")
    fractions = [_fraction(a, label, problems) for a in answers]
    single = text_at(question, "single").strip().lower() not in {"false", "0"}
    item_type, flags, refused = keyed_options(fractions, single=single)
    for index, message in refused.items():
        problems.append(answers[index].place().problem(f"{label}: this answer {message}"))
    data["type"] = item_type
    data["options"] = option_rows(_answer_rows(answers), flags)
    return problems


def _answer_rows(answers: list[Node]) -> list[tuple[str, str]]:
    return [(text_at(a, "text"), text_at(a, "feedback", "text")) for a in answers]


def _truefalse(question: Node, data: dict[str, Any], label: str) -> list[Problem]:
    problems: list[Problem] = []
    found: dict[str, tuple[bool, str]] = {}
    for answer in nodes(question, "answer"):
        word = text_at(answer, "text").strip().lower()
        if word not in {"true", "false"} or word in found:
            problems.append(answer.place().problem(f"{label}: a true/false answer must be 'true' or 'false', once"))
            continue
        found[word] = (_fraction(answer, label, problems) >= FULL, text_at(answer, "feedback", "text"))
    if set(found) != {"true", "false"}:
        problems.append(question.place().problem(f"{label}: a true/false question needs a 'true' and a 'false' answer"))
        return problems
    data["type"] = ItemType.TRUEFALSE
    data["options"] = truefalse_options(found["true"], found["false"])
    return problems


def _numerical(question: Node, data: dict[str, Any], label: str) -> list[Problem]:
    problems: list[Problem] = []
    answers = []
    for answer in nodes(question, "answer"):
        fraction = _fraction(answer, label, problems)
        raw = text_at(answer, "text").strip()
        if raw == "*" and fraction <= 0:
            continue  # Moodle's catch-all answer, there only for its feedback
        value = parse_number(raw)
        tolerance_text = text_at(answer, "tolerance").strip()
        tolerance = parse_number(tolerance_text) if tolerance_text else None
        if value is None or (tolerance_text and tolerance is None):
            problems.append(
                answer.place().problem(f"{label}: the answer {raw!r} (tolerance {tolerance_text!r}) is not a number")
            )
            continue
        feedback = text_at(answer, "feedback", "text")
        answers.append(NumericAnswer(value, tolerance, fraction, feedback, answer.place()))
    if problems:
        return problems
    chosen, error = full_credit_answer(answers)
    if chosen is None:
        return [question.place().problem(f"{label}: {error}")]
    units = [u for u in nodes_at(question, "units", "unit") if _is_base_unit(u)]
    data |= {"type": ItemType.NUMERIC, "answer": chosen.value, "tolerance": chosen.tolerance}
    data["rationale"] = joined(data["rationale"], chosen.feedback)
    if units:
        data["unit"] = text_at(units[0], "unit_name").strip()
    return []


def _is_base_unit(unit: Node) -> bool:
    return parse_number(text_at(unit, "multiplier") or "1") == 1.0


def _matching(question: Node, data: dict[str, Any], label: str) -> list[Problem]:
    problems = []
    pairs = []
    for sub_question in nodes(question, "subquestion"):
        prompt, answer = text_at(sub_question, "text"), text_at(sub_question, "answer", "text")
        if not prompt.strip():
            problems.append(sub_question.place().problem(f"{label}: extra answers without a prompt are not supported"))
            continue
        pairs.append({"prompt": prompt, "answer": answer})
    data |= {"type": ItemType.MATCHING, "pairs": pairs}
    return problems


def _ordering(question: Node, data: dict[str, Any], label: str) -> list[Problem]:
    problems: list[Problem] = []
    answers = nodes(question, "answer")
    positions = [_fraction(a, label, problems, default=str(i + 1)) for i, a in enumerate(answers)]
    in_order = [a for _, a in sorted(zip(positions, answers, strict=True), key=lambda pa: pa[0])]
    data["type"] = ItemType.ORDERING
    data["options"] = option_rows(_answer_rows(in_order))
    return problems


# ------------------------------------------------------------------------------------------------- export


def dump_moodle_xml(items: list[ItemIn]) -> tuple[str, list[Problem]]:
    quiz = ET.Element("quiz")
    quiz.append(
        ET.Comment(
            " PACS Trainer question bank, Moodle XML export. The @pacs-trainer comments carry the "
            "fields Moodle has no place for; Moodle ignores them. "
        )
    )
    current = None
    for item in items:
        path = category_path(item)
        if path != current:
            category = sub(quiz, "question", type="category")
            sub(sub(category, "category"), "text", path)
            current = path
        _question_element(quiz, item)
    indent(quiz)
    return to_bytes(quiz).decode(), []


def _text_element(parent: ET.Element, tag: str, text: str, text_format: str = TEXT_FORMAT) -> ET.Element:
    element = sub(parent, tag, format=text_format)
    sub(element, "text", text)
    return element


def _question_element(quiz: ET.Element, item: ItemIn) -> None:
    q = sub(quiz, "question", type=QUESTION_TYPES[item.type])
    comment(q, meta_comment(item, META_KEYS))
    sub(sub(q, "name"), "text", item.id)
    _text_element(q, "questiontext", item.stem)
    _text_element(q, "generalfeedback", item.rationale)
    sub(q, "defaultgrade", "1")
    sub(q, "hidden", "0")
    sub(q, "idnumber", item.id)
    if item.type in {ItemType.SINGLE, ItemType.MULTIPLE}:
        sub(q, "single", "true" if item.type == ItemType.SINGLE else "false")
        sub(q, "shuffleanswers", "true")
        sub(q, "answernumbering", "abc")
        for option, fraction in zip(item.options, choice_fractions(item), strict=True):
            _answer(q, option.text, percent_text(fraction), option.rationale)
    elif item.type == ItemType.TRUEFALSE:
        for option in item.options:
            _answer(q, option.text.lower(), "100" if option.correct else "0", option.rationale, "moodle_auto_format")
    elif item.type == ItemType.NUMERIC:
        assert item.answer is not None  # the schema requires it
        answer = _answer(q, number_text(item.answer), "100", "", "moodle_auto_format")
        if item.tolerance is not None:
            sub(answer, "tolerance", number_text(item.tolerance))
        if item.unit:
            unit = sub(sub(q, "units"), "unit")
            sub(unit, "multiplier", "1")
            sub(unit, "unit_name", item.unit)
    elif item.type == ItemType.MATCHING:
        sub(q, "shuffleanswers", "true")
        for pair in item.pairs:
            sub_question = _text_element(q, "subquestion", pair.prompt)
            sub(sub(sub_question, "answer"), "text", pair.answer)
    else:  # ordering: Moodle's Ordering question type; an answer's fraction is its position
        for name, value in (
            ("layouttype", "VERTICAL"),
            ("selecttype", "ALL"),
            ("selectcount", "0"),
            ("gradingtype", "ABSOLUTE_POSITION"),
            ("showgrading", "SHOW"),
        ):
            sub(q, name, value)
        for position, option in enumerate(item.options, start=1):
            _answer(q, option.text, str(position), option.rationale)
    if item.tags:
        tags = sub(q, "tags")
        for tag in item.tags:
            sub(sub(tags, "tag"), "text", tag)


def _answer(q: ET.Element, text: str, fraction: str, feedback: str, text_format: str = TEXT_FORMAT) -> ET.Element:
    answer = sub(q, "answer", fraction=fraction, format=text_format)
    sub(answer, "text", text)
    _text_element(answer, "feedback", feedback)
    return answer
