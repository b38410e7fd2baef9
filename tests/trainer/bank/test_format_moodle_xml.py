"""Moodle XML: every importable question type, unsupported types and malformed files named by element and line,
untrusted XML refused safely, an export Moodle reads."""

import pytest

from tests.trainer.bank.format_samples import all_types, by_id, sample_bytes
from trainer.bank.formats import get_format
from trainer.bank.formats.moodle_xml import dump_moodle_xml, parse_moodle_xml
from trainer.bank.formats.xmlio import node, nodes, parse_xml, text_at
from trainer.bank.models import ItemType


@pytest.fixture(scope="module")
def moodle():
    items, problems = parse_moodle_xml(sample_bytes("moodle-types.xml"))
    assert problems == []
    return by_id(items)


def test_every_supported_type_is_read(moodle):
    assert {k: v.type for k, v in moodle.items()} == {
        "mx-echo-001": ItemType.SINGLE,  # <idnumber> MX-ECHO-001, slugified
        "two-dimse-n-services": ItemType.MULTIPLE,  # no idnumber: the name, slugified
        "mx-tf-104": ItemType.TRUEFALSE,
        "mx-num-001": ItemType.NUMERIC,
        "mx-match-001": ItemType.MATCHING,
        "mx-order-001": ItemType.ORDERING,
    }


def test_multichoice_single_and_multiple(moodle):
    echo = moodle["mx-echo-001"]
    assert echo.stem == "<p>Which DIMSE service verifies that two AEs can talk &amp; respond?</p>"  # HTML kept
    assert [(o.text, o.correct, o.rationale) for o in echo.options][1] == ("C-ECHO", True, "Right.")
    assert not echo.options[3].correct  # a -25% distractor is simply wrong
    assert echo.rationale == "The Verification SOP Class uses C-ECHO."
    assert echo.tags == ["dimse", "verification"]
    assert [(d.track, d.domain) for d in echo.domains] == [("CDIP", "networking")]
    two = moodle["two-dimse-n-services"]
    assert two.stem == "Which **two** are DIMSE-N services?"
    assert [o.correct for o in two.options] == [True, True, False, False]


def test_truefalse_numerical_matching_ordering(moodle):
    tf = moodle["mx-tf-104"]
    assert [(o.text, o.correct, o.rationale) for o in tf.options] == [
        ("True", True, "Yes."),
        ("False", False, "It is 104."),
    ]
    assert tf.tags == ["ports"]  # "Default for PACS 101" is Moodle's automatic level, skipped
    num = moodle["mx-num-001"]
    assert (num.answer, num.tolerance, num.unit) == (512.0, 0.5, "KiB")  # the base unit; 50% answer and * dropped
    assert num.rationale == "512 x 512 x 2 = 524288 bytes.\n\nExactly 512 KiB."
    assert (moodle["mx-match-001"].pairs[0].prompt, moodle["mx-match-001"].pairs[0].answer) == ("DA", "a date")
    assert [o.text for o in moodle["mx-order-001"].options] == [  # sorted by the position in "fraction"
        "C-MOVE-RQ",
        "Sub-association to the destination",
        "C-STORE sub-operations",
        "Final C-MOVE-RSP",
    ]


def test_unsupported_questions_are_named_with_element_and_line():
    items, problems = parse_moodle_xml(sample_bytes("moodle-unsupported.xml"))
    assert items == []
    found = {(p.line, p.where) for p in problems}
    assert (3, "/quiz/question[1]") in found and (8, "/quiz/question[2]") in found
    messages = [str(p) for p in problems]
    assert any("question \"Grant's tomb\": question type 'shortanswer' is not supported" in m for m in messages)
    assert any("question 'Downtime': question type 'essay' is not supported" in m for m in messages)
    assert any(
        m.startswith("line 16:") and "embedded files" in m and "/quiz/question[3]/questiontext[1]/file[1]" in m
        for m in messages
    )
    assert any(m.startswith("line 28:") and "the fraction 'oops' is not a number" in m for m in messages)
    assert any(m.startswith("line 27:") and "partial credit (50%)" in m for m in messages)
    assert any("a true/false question needs a 'true' and a 'false' answer" in m for m in messages)


def test_malformed_xml_names_the_line():
    _, problems = parse_moodle_xml(sample_bytes("malformed.xml"))
    assert [str(p) for p in problems] == ["line 6: not well-formed XML: mismatched tag"]
    _, problems = parse_moodle_xml(b"<?xml version='1.0'?>\n<questions/>")
    assert [str(p) for p in problems] == [
        "line 2: expected a Moodle XML <quiz> document, found <questions> (at /questions)"
    ]


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><quiz>&b;</quiz>',
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]><quiz>&x;</quiz>',
        b'<?xml version="1.0"?><!DOCTYPE quiz SYSTEM "http://example.invalid/quiz.dtd"><quiz/>',
    ],
)
def test_untrusted_xml_with_dtds_or_entities_is_refused(document):
    root, problems = parse_xml(document)
    assert root is None
    assert len(problems) == 1 and "refused" in problems[0].message


def test_the_export_is_moodle_xml():
    text, skipped = dump_moodle_xml(all_types())
    assert skipped == []
    root, problems = parse_xml(text.encode())
    assert root is not None and problems == []
    questions = nodes(root, "question")
    assert [q.get("type") for q in questions][:2] == ["category", "multichoice"]
    assert text_at(questions[0], "category", "text") == "$course$/top/CDIP/troubleshooting"
    single = questions[1]
    assert text_at(single, "idnumber") == "rt-single-001"
    questiontext = node(single, "questiontext")
    assert questiontext is not None and questiontext.get("format") == "markdown"
    assert [a.get("fraction") for a in nodes(single, "answer")] == ["100", "0", "0", "0"]
    multiple = next(q for q in questions if text_at(q, "idnumber") == "2-rt-multiple")
    assert text_at(multiple, "single") == "false"
    assert [a.get("fraction") for a in nodes(multiple, "answer")] == ["50", "-33.33333", "50", "-33.33333", "-33.33333"]
    numeric = next(q for q in questions if text_at(q, "idnumber") == "rt-numeric-001")
    assert text_at(numeric, "answer", "text") == "524288" and node(numeric, "answer", "tolerance") is None
    assert text_at(numeric, "units", "unit", "unit_name") == "bytes"
    ordering = next(q for q in questions if q.get("type") == "ordering")
    assert [a.get("fraction") for a in nodes(ordering, "answer")] == ["1", "2", "3", "4"]
    assert "--" not in text.split("@pacs-trainer", 1)[1].split("-->", 1)[0]  # the comment stays valid XML


def test_the_format_reads_the_documents_own_encoding():
    latin = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><quiz><question type="truefalse"><name><text>Caf\u00e9</text>'
        '</name><questiontext><text>Ok?</text></questiontext><answer fraction="100"><text>true</text></answer>'
        '<answer fraction="0"><text>false</text></answer></question></quiz>'
    )
    items, problems = get_format("moodle").read(latin.encode("latin-1"))
    assert problems == [] and items[0].id == "cafe"
