"""GIFT, read by our own parser to Moodle's "GIFT format" page and written so that Moodle reads it back."""

import pytest

from tests.trainer.bank.format_samples import all_types, by_id, sample_bytes
from trainer.bank.formats.gift import dump_gift, parse_gift
from trainer.bank.models import ItemType


@pytest.fixture(scope="module")
def edge():
    items, problems = parse_gift(sample_bytes("edge-cases.gift").decode())
    assert problems == []
    return by_id(items)


def test_titles_are_ids_and_categories_become_domains_or_tags(edge):
    assert list(edge)[:3] == ["echo-001", "escapes-q-2", "two-dimse-n"]  # "Escapes\: Q 2" slugified
    assert [(d.track, d.domain) for d in edge["echo-001"].domains] == [("CDIP", "networking")]
    assert edge["echo-001"].tags == []
    assert edge["tf-t"].domains == []
    assert edge["tf-t"].tags == ["networking-basics", "ports-and-aes"]  # a plain category path


def test_per_answer_and_general_feedback(edge):
    echo = edge["echo-001"]
    assert [(o.text, o.correct, o.rationale) for o in echo.options] == [
        ("C-FIND", False, "C-FIND queries."),
        ("C-ECHO", True, "C-ECHO is Verification."),
        ("C-MOVE", False, "C-MOVE retrieves."),
        ("N-ACTION", False, "N-ACTION asks for an action."),
    ]
    assert echo.rationale == "The Verification SOP Class uses C-ECHO."


def test_escapes_and_newlines(edge):
    item = edge["escapes-q-2"]
    assert item.stem == "In {braces} a ~tilde, an =equals, a #hash and a colon: all literal.\nSecond line."
    assert [(o.text, o.rationale) for o in item.options] == [
        ("literal = sign", "right: it is escaped"),
        ("a ~ wave", "no #1"),
        ("the {left brace", "no"),
    ]


def test_weighted_answers_make_a_multiple_response_item(edge):
    item = edge["two-dimse-n"]
    assert item.type == ItemType.MULTIPLE
    assert [(o.text, o.correct) for o in item.options] == [
        ("N-CREATE", True),
        ("N-SET", True),
        ("C-STORE", False),
        ("C-FIND", False),
    ]


def test_true_false_spellings_and_their_two_feedbacks(edge):
    keys = {k: [o.correct for o in edge[k].options] for k in ("tf-t", "tf-true", "tf-f", "tf-false")}
    assert keys == {"tf-t": [True, False], "tf-true": [True, False], "tf-f": [False, True], "tf-false": [False, True]}
    # Moodle: the first feedback is shown for a wrong answer, the second for a right one.
    assert [o.rationale for o in edge["tf-true"].options] == [
        "Right: both are registered.",
        "Wrong: IANA lists 11112 as dicom.",
    ]
    assert edge["tf-false"].rationale == "It only confirms safekeeping."


def test_numeric_tolerance_range_and_several_answers(edge):
    assert (edge["num-tol"].answer, edge["num-tol"].tolerance) == (3.14, 0.005)
    assert (edge["num-range"].answer, edge["num-range"].tolerance) == (3.0, 2.0)
    multi = edge["num-multi"]  # the full-credit answer is kept; partial credit is not
    assert (multi.answer, multi.tolerance, multi.rationale) == (1985.0, 0.0, "Right, 1985.")


def test_matching_missing_word_formats_and_ids_from_comments(edge):
    assert [(p.prompt, p.answer) for p in edge["match-vr"].pairs] == [
        ("DA", "date"),
        ("TM", "time"),
        ("UI", "unique identifier"),
    ]
    assert edge["missing"].stem == "A DICOM _____ names an application entity."
    html = edge["ctx-html-001"]  # id from "// [id:…]", tags from "[tag:…]", [html] marker dropped
    assert html.stem == "<p>A presentation context pairs an abstract syntax with <b>what</b>?</p>"
    assert {"negotiation", "presentation-contexts"} <= set(html.tags)
    untitled = [k for k in edge if k.startswith("gift-what-does-scp-stand-for-")]
    assert len(untitled) == 1  # no title, no id: derived from the text, the same on every import
    assert untitled[0] in by_id(parse_gift(sample_bytes("edge-cases.gift").decode())[0])


def test_every_broken_question_is_reported_with_its_line():
    items, problems = parse_gift(sample_bytes("broken.gift").decode())
    assert items == []
    assert [
        (p.line, p.message.split(": ", 1)[1] if p.message.startswith("question") else p.message) for p in problems
    ] == [
        (3, "short-answer items are not supported"),
        (5, "essay items (an empty answer block {}) are not supported"),
        (7, "no answer block {…}: description items (text without answers) are not supported"),
        (9, "the question title is not closed: expected ::title::"),
        (11, "the answer block is not closed: a { without its }"),
        (15, "a malformed weight (write ~%50%answer)"),
        (
            21,
            "the answer '11112' gives partial credit (50%) in a single-answer question; the bank keys each "
            "option as right or wrong, so make it the key or a distractor",
        ),
        (25, "no answer gives full credit"),
        (32, "extra answers without a prompt (= -> …) are not supported"),
        (37, "item tf-single: the id is already used at line 35"),
    ]


def test_comments_are_ignored_inside_a_question_and_lines_stay_right():
    text = "::q1:: Pick one.{\n// a comment between answers\n=right\n~wrong\n~%bad%x\n}\n"
    _, problems = parse_gift(text)
    assert [(p.line, p.message) for p in problems] == [(5, "question q1: a malformed weight (write ~%50%answer)")]


def test_a_broken_metadata_comment_is_reported():
    text = (
        '// @pacs-trainer {"difficulty": "easy",}\n::q1:: Pick.{=a ~b}\n\n// @pacs-trainer {"colour": 1}\n::q2:: X{T}'
    )
    _, problems = parse_gift(text)
    assert [p.line for p in problems] == [1, 4]
    assert "not valid JSON" in problems[0].message and "unknown key(s): colour" in problems[1].message


def test_the_export_is_gift_moodle_reads():
    text, skipped = dump_gift(all_types())
    assert [p.where for p in skipped] == ["rt-ordering-001"]
    assert "$CATEGORY: $course$/top/CDIP/troubleshooting" in text
    assert "::rt-single-001::[markdown]A modality's association is rejected. The PACS log shows\\:\\n\\n```" in text
    assert '\\{calling AE\\: "CT_01"\\}' in text  # braces and colons escaped, quotes left alone
    assert "~%0%%50 of the port range#" in text  # an answer starting with % gets an explicit weight
    assert "~%50%N-CREATE#N-CREATE creates an SOP instance." in text  # 2 right: 50% each
    assert "~%-33.33333%C-GET" in text  # 3 wrong: -100% shared
    assert "{TRUE#It does not\\: the Verification SOP Class has no IOD.#Verification carries no data set." in text
    assert "{FALSE##It only confirms safekeeping." in text
    assert "{#524288\n" in text and "{#104.5:0.25\n" in text
    assert "=PN -> A person's name -> family^given" in text
    assert "// [id:rt-matching-001] [tag:vr]" in text
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(("//", "$CATEGORY"))]
        assert all(line.strip() for line in lines)  # no blank line inside a question


def test_ids_that_slugify_to_the_same_id_collide_with_a_line():
    _, problems = parse_gift("::Echo 1:: A{T}\n\n::echo-1:: B{F}\n")
    assert [(p.line, p.message) for p in problems] == [(3, "item echo-1: the id is already used at line 1")]
