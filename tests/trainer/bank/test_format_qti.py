"""QTI 2.1 content packages: what a package from another tool imports as, what our export holds, and every way
a package can be wrong."""

import io
import zipfile

import pytest

from tests.trainer.bank.format_samples import all_types, by_id, qti_package, sample_bytes
from trainer.bank.formats import get_format
from trainer.bank.formats import qti as qti_module
from trainer.bank.formats.qti import QTI_NS, item_document, parse_qti, qti_identifier
from trainer.bank.formats.xmlio import Node, descendants, node, nodes, parse_xml
from trainer.bank.models import ItemType

QTI = get_format("qti")


@pytest.fixture(scope="module")
def package_items():
    items, problems = parse_qti(qti_package())
    assert problems == []
    return by_id(items)


def test_a_package_from_another_tool_imports(package_items):
    assert {k: v.type for k, v in package_items.items()} == {
        "qti-echo-1": ItemType.SINGLE,
        "qti-dimse-n": ItemType.MULTIPLE,
        "qti-order": ItemType.ORDERING,
        "qti-match": ItemType.MATCHING,
        "qti-numeric": ItemType.NUMERIC,
        "2026-tf": ItemType.TRUEFALSE,
    }


def test_choice_prompt_inline_and_modal_feedback(package_items):
    echo = package_items["qti-echo-1"]
    assert (
        echo.stem == "A modality and the PACS must prove they can talk.\n\nWhich DIMSE service verifies the connection?"
    )
    assert [(o.text, o.correct, o.rationale) for o in echo.options] == [
        ("C-FIND", False, "C-FIND queries."),
        ("C-ECHO", True, "Right: Verification."),
        ("C-MOVE", False, ""),
        ("<code>N-ACTION</code>", False, ""),
    ]
    dimse = package_items["qti-dimse-n"]  # correct choices from the mapping
    assert [o.correct for o in dimse.options] == [True, False, True, False]
    assert dimse.options[1].rationale == "C-STORE is DIMSE-C."
    assert dimse.rationale == "DIMSE-N services act on normalized instances.\n\nSee PS3.7."


def test_order_match_numeric_truefalse(package_items):
    assert [o.text for o in package_items["qti-order"].options] == [
        "C-MOVE-RQ",
        "Sub-association to the destination",
        "C-STORE sub-operations",
        "Final C-MOVE-RSP",
    ]
    match = package_items["qti-match"]
    assert [(p.prompt, p.answer, p.rationale) for p in match.pairs] == [
        ("DA", "a date", "DA is YYYYMMDD."),
        ("TM", "a time", ""),
        ("UI", "a unique identifier", ""),
    ]
    numeric = package_items["qti-numeric"]
    assert (numeric.answer, numeric.tolerance) == (0.5, 0.01)
    assert numeric.stem == "A 512 x 512 slice at 2 bytes per pixel takes _____ MiB."
    tf = package_items["2026-tf"]
    assert [(o.text, o.correct) for o in tf.options] == [("True", False), ("False", True)]


def _package(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def test_the_export_is_a_content_package_with_one_item_per_file():
    items = all_types()
    data = QTI.write(items).data
    package = _package(data)
    manifest, problems = parse_xml(package.read("imsmanifest.xml"))
    assert manifest is not None and problems == []
    resources = [r for r in descendants(manifest) if r.tag == "resource"]
    assert [r.get("type") for r in resources] == ["imsqti_item_xmlv2p1"] * len(items)
    assert [r.get("href") for r in resources] == [f"items/{qti_identifier(i.id)}.xml" for i in items]
    assert set(package.namelist()) == {"imsmanifest.xml", *(r.get("href") for r in resources)}
    assert "items/_2-rt-multiple.xml" in package.namelist()  # an identifier may not start with a digit
    assert QTI.write(items).data == data  # the same bank exports to the same bytes


def _root(item) -> Node:
    root, problems = parse_xml(item_document(item))
    assert root is not None and problems == []
    return root


def _at(parent: Node, *path: str) -> Node:
    found = node(parent, *path)
    assert found is not None, path
    return found


def test_each_item_is_qti_21_with_its_interaction_and_feedback():
    items = by_id(all_types())
    root = _root(items["rt-single-001"])
    assert root.ns == QTI_NS and root.get("identifier") == "rt-single-001"
    declaration = _at(root, "responseDeclaration")
    assert declaration.get("cardinality") == "single" and _at(declaration, "correctResponse", "value").text == "A"
    assert _at(root, "itemBody", "choiceInteraction").get("maxChoices") == "1"
    assert {f.get("identifier") for f in nodes(root, "modalFeedback")} == {"A", "B", "C", "D", "RATIONALE"}
    assert [c.tag for c in _at(root, "itemBody", "div")][:3] == ["p", "pre", "table"]  # Markdown as XHTML

    root = _root(items["2-rt-multiple"])
    assert _at(root, "itemBody", "choiceInteraction").get("maxChoices") == "0"
    assert [v.text for v in nodes(_at(root, "responseDeclaration", "correctResponse"), "value")] == ["A", "C"]
    root = _root(items["rt-ordering-001"])
    assert _at(root, "responseDeclaration").get("cardinality") == "ordered"
    assert node(root, "itemBody", "orderInteraction") is not None
    root = _root(items["rt-matching-001"])
    assert _at(root, "responseDeclaration").get("baseType") == "directedPair"
    equal = next(d for d in descendants(_root(items["rt-numeric-002"])) if d.tag == "equal")
    assert (equal.get("toleranceMode"), equal.get("tolerance")) == ("absolute", "0.25 0.25")
    equal = next(d for d in descendants(_root(items["rt-numeric-001"])) if d.tag == "equal")
    assert equal.get("toleranceMode") == "exact"


def test_a_single_item_document_imports_too():
    items, problems = QTI.parse(item_document(all_types()[0]).decode())
    assert problems == [] and [i.id for i in items] == ["rt-single-001"]


def test_edited_html_wins_over_stale_markdown_in_the_comment():
    item = all_types()[2]  # rt-truefalse-001
    document = item_document(item).decode()
    edited = document.replace("A C-ECHO needs no SOP instance", "A C-ECHO carries no data set")
    assert edited != document
    items, problems = QTI.parse(edited)
    assert problems == []
    assert items[0].stem == "A C-ECHO carries no data set: true or false?"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (sample_bytes("qti-unsupported.xml"), "line 6: item 'essay-1': <extendedTextInteraction> is not supported"),
        (sample_bytes("qti3-item.xml"), "line 2: QTI 3.0 items are not supported"),
        (sample_bytes("malformed.xml"), "line 6: not well-formed XML: mismatched tag"),
        (b"PK\x03\x04 not really a zip", "not a readable zip package"),
    ],
)
def test_unsupported_or_broken_input_is_named(data, expected):
    items, problems = parse_qti(data)
    assert items == []
    assert any(str(p).startswith(expected) for p in problems), [str(p) for p in problems]


def test_problems_inside_a_package_name_the_member_and_line():
    broken = sample_bytes("qti-package/items/order.xml").replace(b"<value>RSP</value>", b"")
    _, problems = parse_qti(qti_package(replace={"items/order.xml": broken}))
    assert [str(p) for p in problems] == [
        "items/order.xml:line 3: item 'qti-order': the correct order must list every choice once "
        "(at /assessmentItem/responseDeclaration[1])"
    ]
    _, problems = parse_qti(qti_package(drop="items/match.xml"))
    assert [str(p) for p in problems] == [
        "imsmanifest.xml:line 17: the item file 'items/match.xml' is not in the package "
        "(at /manifest/resources[1]/resource[4])"
    ]
    _, problems = parse_qti(qti_package(drop="imsmanifest.xml"))
    assert "has no imsmanifest.xml" in problems[0].message


def test_an_oversized_package_is_refused(monkeypatch):
    monkeypatch.setattr(qti_module, "MAX_UNPACKED", 1000)
    _, problems = parse_qti(qti_package())
    assert [p.message for p in problems] == ["the package is too large (at most 5000 files, 0 MiB unpacked)"]
