"""IMS QTI 2.1: export an IMS content package (a zip holding ``imsmanifest.xml`` and one ``assessmentItem`` file
per item), import such packages or a single ``assessmentItem`` document. Why 2.1 and what maps to what:
docs/BANK-FORMAT.md ("QTI"). The item ``identifier`` is the external id; rationales are modal feedback; the bank's
Markdown is rendered to XHTML, its source kept in a ``<!-- @pacs-trainer {…} -->`` comment with the fields QTI has
no place for."""

from __future__ import annotations

import html.entities
import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from string import ascii_uppercase
from typing import Any, NamedTuple

import markdown

from trainer.bank.formats.common import (
    BLANK,
    META_FIELDS,
    Place,
    content_id,
    external_id,
    finish_item,
    meta_comment,
    meta_read,
    number_text,
    option_rows,
    parse_number,
    truefalse_options,
    unique_ids,
)
from trainer.bank.formats.xmlio import (
    Node,
    comment,
    comments,
    descendants,
    indent,
    inner_markup,
    node,
    nodes,
    nodes_at,
    parse_xml,
    readable,
    sub,
    to_bytes,
)
from trainer.bank.models import ItemType
from trainer.bank.schema import ItemIn, Problem

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI_NAMESPACES = {QTI_NS, "http://www.imsglobal.org/xsd/imsqti_v2p2"}  # 2.2 items are 2.1 items for our needs
QTI_SCHEMA = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
CP_SCHEMA = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
ITEM_RESOURCE = "imsqti_item_xmlv2p1"
ITEM_RESOURCES = {ITEM_RESOURCE, "imsqti_item_xmlv2p2"}
MANIFEST = "imsmanifest.xml"
RATIONALE = "RATIONALE"  # modal feedback identifier of the item's rationale
STEM_CLASS = "pt-stem"
RESPONSE_CLASS = "pt-response"
META_KEYS = (*META_FIELDS, "unit")
MARKDOWN_EXTENSIONS = ["fenced_code", "tables"]
# Limits on an uploaded package (a zip bomb must not exhaust memory).
MAX_MEMBERS = 5000
MAX_UNPACKED = 200 * 1024 * 1024
# What a damaged or hostile zip can raise while it is opened or a member is read.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError, OSError)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same bank exports to the same bytes
_OPAQUE = frozenset({"div", "p", "modalFeedback", "simpleChoice", "simpleAssociableChoice", "prompt"})
_SUPPORTED = ("choiceInteraction", "orderInteraction", "matchInteraction", "textEntryInteraction")

Parsed = tuple[list[ItemIn], list[Problem]]

# ------------------------------------------------------------------------------------------------ markdown


def _named_entities(markup: str) -> str:
    """HTML named character references that XML does not know, as numeric ones."""

    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in {"lt", "gt", "amp", "quot", "apos"}:
            return m.group()
        code = html.entities.name2codepoint.get(name)
        return f"&#{code};" if code else f"&amp;{name};"

    return re.sub(r"&([A-Za-z][A-Za-z0-9]*);", replace, markup)


def render(source: str, tag: str = "div", **attrib: str) -> ET.Element:
    """Markdown as an XHTML element for QTI; Markdown whose raw HTML is not well-formed XML is shown as
    preformatted text."""
    body = markdown.markdown(source, extensions=MARKDOWN_EXTENSIONS, output_format="xhtml")
    parsed, problems = parse_xml(f"<{tag}>{_named_entities(body)}</{tag}>".encode())
    element = ET.Element(tag, attrib)
    if parsed is None or problems:
        sub(element, "pre", source)
        return element
    element.text = parsed.text
    element.extend(list(parsed))
    return element


def _markdown_or_markup(element: Node | None, source: Any) -> str:
    """The bank text of rendered content: the Markdown source from the metadata while it still renders to exactly
    what the file shows (so an edited file is never overridden by stale metadata), else the file's content."""
    if element is None:
        return ""
    if isinstance(source, str) and inner_markup(render(source)) == inner_markup(element):
        return source
    return readable(element)


# ------------------------------------------------------------------------------------------------- export


def qti_identifier(item_id: str) -> str:
    """Bank ids may start with a digit, QTI identifiers may not: those get a leading underscore (which bank ids
    never contain, so import strips it unambiguously)."""
    return item_id if item_id[0].isalpha() else f"_{item_id}"


def _choice_ids(count: int) -> list[str]:
    return list(ascii_uppercase[:count]) if count <= len(ascii_uppercase) else [f"C{i + 1}" for i in range(count)]


def _title(item: ItemIn) -> str:
    first = next((line for line in item.stem.splitlines() if line.strip()), item.id)
    plain = re.sub(r"[`*_#>]+", "", first).strip()
    return plain if len(plain) <= 80 else plain[:79].rstrip() + "…"


def dump_qti(items: list[ItemIn]) -> tuple[bytes, list[Problem]]:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        files = []
        for item in items:
            href = f"items/{qti_identifier(item.id)}.xml"
            _add(package, href, item_document(item))
            files.append((item, href))
        _add(package, MANIFEST, _manifest(files))
    return out.getvalue(), []


def _add(package: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    package.writestr(info, data)


def _manifest(files: list[tuple[ItemIn, str]]) -> bytes:
    manifest = ET.Element(
        "manifest",
        {
            "xmlns": CP_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{CP_NS} {CP_SCHEMA}",
            "identifier": "pacs-trainer-bank",
        },
    )
    metadata = sub(manifest, "metadata")
    sub(metadata, "schema", "QTIv2.1 Package")
    sub(metadata, "schemaversion", "1.0.0")
    sub(manifest, "organizations")
    resources = sub(manifest, "resources")
    for item, href in files:
        resource = sub(
            resources, "resource", identifier=f"RES-{qti_identifier(item.id)}", type=ITEM_RESOURCE, href=href
        )
        sub(resource, "file", href=href)
    indent(manifest)
    return to_bytes(manifest)


def item_document(item: ItemIn) -> bytes:
    """One item as a QTI 2.1 ``assessmentItem`` document."""
    root = ET.Element(
        "assessmentItem",
        {
            "xmlns": QTI_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{QTI_NS} {QTI_SCHEMA}",
            "identifier": qti_identifier(item.id),
            "title": _title(item),
            "adaptive": "false",
            "timeDependent": "false",
        },
    )
    response = _response_declaration(root, item)
    sub(
        sub(
            sub(root, "outcomeDeclaration", identifier="SCORE", cardinality="single", baseType="float"), "defaultValue"
        ),
        "value",
        "0",
    )
    sub(
        sub(
            sub(root, "outcomeDeclaration", identifier="MAXSCORE", cardinality="single", baseType="float"),
            "defaultValue",
        ),
        "value",
        "1",
    )
    sub(root, "outcomeDeclaration", identifier="FEEDBACK", cardinality="multiple", baseType="identifier")
    body = sub(root, "itemBody")
    body.append(render(item.stem, **{"class": STEM_CLASS}))
    feedback = _interaction(body, item)
    _response_processing(root, item, response)
    for identifier, text in feedback:
        if text.strip():
            sub(root, "modalFeedback", text, outcomeIdentifier="FEEDBACK", identifier=identifier, showHide="show")
    if item.rationale.strip():
        rationale = render(
            item.rationale, "modalFeedback", outcomeIdentifier="FEEDBACK", identifier=RATIONALE, showHide="show"
        )
        root.append(rationale)
    comment(root, meta_comment(item, META_KEYS, stem_markdown=item.stem, rationale_markdown=item.rationale))
    indent(root, opaque=_OPAQUE)
    return to_bytes(root)


def _response_declaration(root: ET.Element, item: ItemIn) -> list[str]:
    """Declares RESPONSE with the correct response; returns the identifiers whose feedback is always shown."""
    kind = item.type
    if kind == ItemType.NUMERIC:
        assert item.answer is not None  # the schema requires it
        declaration = sub(root, "responseDeclaration", identifier="RESPONSE", cardinality="single", baseType="float")
        sub(sub(declaration, "correctResponse"), "value", number_text(item.answer))
        return []
    if kind == ItemType.MATCHING:
        declaration = sub(
            root, "responseDeclaration", identifier="RESPONSE", cardinality="multiple", baseType="directedPair"
        )
        correct = sub(declaration, "correctResponse")
        for i in range(len(item.pairs)):
            sub(correct, "value", f"P{i + 1} T{i + 1}")
        return [f"P{i + 1}" for i in range(len(item.pairs))]
    ids = _option_ids(item)
    cardinality = {ItemType.MULTIPLE: "multiple", ItemType.ORDERING: "ordered"}.get(kind, "single")
    declaration = sub(
        root, "responseDeclaration", identifier="RESPONSE", cardinality=cardinality, baseType="identifier"
    )
    correct = sub(declaration, "correctResponse")
    for identifier, option in zip(ids, item.options, strict=True):
        if option.correct or kind == ItemType.ORDERING:
            sub(correct, "value", identifier)
    return ids if kind == ItemType.ORDERING else []


def _option_ids(item: ItemIn) -> list[str]:
    if item.type == ItemType.TRUEFALSE:
        return [o.text.upper() for o in item.options]
    return _choice_ids(len(item.options))


def _interaction(body: ET.Element, item: ItemIn) -> list[tuple[str, str]]:
    """Writes the interaction; returns (feedback identifier, text) for the per-option rationales."""
    if item.type == ItemType.NUMERIC:
        paragraph = sub(body, "p", **{"class": RESPONSE_CLASS})
        entry = sub(paragraph, "textEntryInteraction", responseIdentifier="RESPONSE", expectedLength="12")
        if item.unit:
            entry.tail = f" {item.unit}"
        return []
    if item.type == ItemType.MATCHING:
        interaction = sub(
            body,
            "matchInteraction",
            responseIdentifier="RESPONSE",
            shuffle="true",
            maxAssociations=str(len(item.pairs)),
        )
        prompts, answers = sub(interaction, "simpleMatchSet"), sub(interaction, "simpleMatchSet")
        for i, pair in enumerate(item.pairs, start=1):
            sub(prompts, "simpleAssociableChoice", pair.prompt, identifier=f"P{i}", matchMax="1")
            sub(answers, "simpleAssociableChoice", pair.answer, identifier=f"T{i}", matchMax="1")
        return [(f"P{i}", p.rationale) for i, p in enumerate(item.pairs, start=1)]
    ids = _option_ids(item)
    if item.type == ItemType.ORDERING:
        interaction = sub(body, "orderInteraction", responseIdentifier="RESPONSE", shuffle="true")
    else:
        max_choices = "0" if item.type == ItemType.MULTIPLE else "1"
        shuffle = "false" if item.type == ItemType.TRUEFALSE else "true"
        interaction = sub(
            body, "choiceInteraction", responseIdentifier="RESPONSE", shuffle=shuffle, maxChoices=max_choices
        )
    for identifier, option in zip(ids, item.options, strict=True):
        sub(interaction, "simpleChoice", option.text, identifier=identifier)
    return [(i, o.rationale) for i, o in zip(ids, item.options, strict=True)]


def _base(parent: ET.Element, base_type: str, value: str) -> None:
    sub(parent, "baseValue", value, baseType=base_type)


def _response_processing(root: ET.Element, item: ItemIn, always_shown: list[str]) -> None:
    """Score 1 for the correct response (within the tolerance for a numeric item), else 0; then show the feedback
    of the chosen options (choice items) or of every option (ordering, matching) and the rationale."""
    processing = sub(root, "responseProcessing")
    condition = sub(processing, "responseCondition")
    when = sub(condition, "responseIf")
    if item.type == ItemType.NUMERIC:
        tolerance = {"toleranceMode": "exact"}
        if item.tolerance is not None:
            tolerance = {
                "toleranceMode": "absolute",
                "tolerance": f"{number_text(item.tolerance)} {number_text(item.tolerance)}",
            }
        test = sub(when, "equal", **tolerance)
    else:
        test = sub(when, "match")
    sub(test, "variable", identifier="RESPONSE")
    sub(test, "correct", identifier="RESPONSE")
    _base(sub(when, "setOutcomeValue", identifier="SCORE"), "float", "1")
    _base(sub(sub(condition, "responseElse"), "setOutcomeValue", identifier="SCORE"), "float", "0")
    shown = sub(sub(processing, "setOutcomeValue", identifier="FEEDBACK"), "multiple")
    if item.type in {ItemType.SINGLE, ItemType.MULTIPLE, ItemType.TRUEFALSE}:
        sub(shown, "variable", identifier="RESPONSE")
    for identifier in [*always_shown, RATIONALE]:
        _base(shown, "identifier", identifier)


# ------------------------------------------------------------------------------------------------- import


def parse_qti(data: bytes) -> Parsed:
    """A content package (zip) or a single ``assessmentItem`` document."""
    if data[:4] == b"PK\x03\x04":
        return _package(data)
    root, problems = parse_xml(data)
    if root is None:
        return [], problems
    item, problems = _item(root, "")
    return ([item], []) if item is not None else ([], problems)


def _package(data: bytes) -> Parsed:
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        return [], [Problem("", f"not a readable zip package: {exc}")]
    with package:
        members = package.infolist()
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
            return [], [
                Problem(
                    "", f"the package is too large (at most {MAX_MEMBERS} files, {MAX_UNPACKED // 2**20} MiB unpacked)"
                )
            ]
        names = {m.filename for m in members}
        if MANIFEST not in names:
            return [], [Problem("", f"the package has no {MANIFEST} at its top level; is it an IMS content package?")]
        manifest, problems = _read_member(package, MANIFEST)
        if manifest is None:
            return [], problems
        if manifest.tag != "manifest":
            return [], [manifest.place(MANIFEST).problem(f"expected <manifest>, found <{manifest.tag}>")]
        located: list[tuple[ItemIn, Place]] = []
        resources = [r for r in descendants(manifest) if r.tag == "resource"]
        for resource in resources:
            kind, href = resource.get("type", ""), resource.get("href", "")
            where = resource.place(MANIFEST)
            if kind.startswith(("imsqti_xmlv1", "imsqti_item_xmlv3", "imsqti_test_xmlv3")):
                problems.append(where.problem(f"resource type {kind!r}: only QTI 2.1 (and 2.2) items are supported"))
                continue
            if kind not in ITEM_RESOURCES:
                continue  # tests, stylesheets, images: nothing the bank imports
            member = posixpath.normpath(href)
            if not href or member not in names:
                problems.append(where.problem(f"the item file {href!r} is not in the package"))
                continue
            root, member_problems = _read_member(package, member)
            problems += member_problems
            if root is None:
                continue
            item, item_problems = _item(root, member)
            problems += item_problems
            if item is not None:
                located.append((item, root.place(member)))
    if not located and not problems:
        problems.append(manifest.place(MANIFEST).problem("the package holds no QTI 2.1 assessment items"))
    problems += unique_ids(located)
    return ([], problems) if problems else ([item for item, _ in located], [])


def _read_member(package: zipfile.ZipFile, name: str) -> tuple[Node | None, list[Problem]]:
    try:
        data = package.read(name)
    except _ZIP_ERRORS as exc:
        return None, [Problem("", f"cannot unpack this file: {exc}", None, name)]
    return parse_xml(data, source=name)


def _item(root: Node, source: str) -> tuple[ItemIn | None, list[Problem]]:
    place = root.place(source)
    if root.tag == "qti-assessment-item":
        return None, [place.problem("QTI 3.0 items are not supported; this importer reads QTI 2.1 (and 2.2)")]
    if root.tag == "questestinterop":
        return None, [place.problem("QTI 1.2 is not supported; this importer reads QTI 2.1 (and 2.2)")]
    if root.tag != "assessmentItem" or root.ns not in QTI_NAMESPACES:
        return None, [place.problem(f"expected a QTI 2.1 <assessmentItem> (namespace {QTI_NS})")]
    identifier = root.get("identifier", "")
    label = f"item {identifier!r}" if identifier else "an item"
    body = node(root, "itemBody")
    if body is None:
        return None, [place.problem(f"{label}: no <itemBody>")]
    interactions = [d for d in descendants(body) if d.tag.endswith("Interaction")]
    if len(interactions) != 1:
        count = "no interaction" if not interactions else f"{len(interactions)} interactions"
        return None, [place.problem(f"{label}: {count}; the bank imports items with exactly one interaction")]
    interaction = interactions[0]
    where = interaction.place(source)
    if interaction.tag not in _SUPPORTED:
        return None, [
            where.problem(f"{label}: <{interaction.tag}> is not supported (supported: {', '.join(_SUPPORTED)})")
        ]
    images = [d for d in descendants(body) if d.tag in {"img", "object"}]
    if images:
        return None, [
            images[0]
            .place(source)
            .problem(
                f"{label}: images and objects are not supported; put media "
                "under fixtures/media and list them in the item"
            )
        ]
    declarations = {d.get("identifier", ""): d for d in nodes(root, "responseDeclaration")}
    declaration = declarations.get(interaction.get("responseIdentifier", ""))
    if declaration is None:
        return None, [where.problem(f"{label}: no <responseDeclaration> for the interaction's responseIdentifier")]

    meta: dict[str, Any] = {}
    problems: list[Problem] = []
    for text in comments(root):
        found, error = meta_read(text)
        if error:
            problems.append(place.problem(f"{label}: {error}"))
        meta |= found or {}
    feedback = {f.get("identifier", ""): f for f in nodes(root, "modalFeedback")}
    data: dict[str, Any] = {
        "stem": _stem(body, interaction, meta.get("stem_markdown")),
        "rationale": _markdown_or_markup(feedback.get(RATIONALE), meta.get("rationale_markdown")),
    }
    data["id"] = external_id(identifier) or content_id(data["stem"], prefix="qti")
    reader = {
        "choiceInteraction": _choices,
        "orderInteraction": _order,
        "matchInteraction": _match,
        "textEntryInteraction": _text_entry,
    }[interaction.tag]
    problems += reader(_Interaction(root, interaction, declaration, feedback, label, source), data)
    return finish_item(data, [meta], problems, place, label)


def _stem(body: Node, interaction: Node, source: Any) -> str:
    marked = next((d for d in descendants(body) if d.get("class") == STEM_CLASS), None)
    if marked is not None:
        return _markdown_or_markup(marked, source)

    def without_interaction(element: ET.Element) -> str | None:
        if element.get("class") == RESPONSE_CLASS:
            return ""
        if element is interaction:  # an inline interaction leaves a blank, a block one nothing
            return BLANK if interaction.tag == "textEntryInteraction" else ""
        return None

    text = readable(body, without_interaction)
    prompt = node(interaction, "prompt")
    return "\n\n".join(t for t in (text, readable(prompt) if prompt is not None else "") if t)


def _correct_values(declaration: Node) -> list[str]:
    """The correct response's values; failing that, the mapped keys that earn points."""
    values = [(v.text or "").strip() for v in nodes_at(declaration, "correctResponse", "value")]
    if values:
        return values
    mapping = node(declaration, "mapping")
    entries = nodes(mapping, "mapEntry") if mapping is not None else []
    scored = [(parse_number(e.get("mappedValue", "0")) or 0.0, e.get("mapKey", "")) for e in entries]
    return [key for score, key in sorted(scored, key=lambda sk: -sk[0]) if score > 0]


def _without_feedback(element: ET.Element) -> str | None:
    return "" if element.tag == "feedbackInline" else None


def _choice_rows(choices: list[Node], feedback: dict[str, Node]) -> list[tuple[str, str, str]]:
    """(identifier, text, rationale) per choice; a rationale is the choice's modal or inline feedback."""
    rows = []
    for choice in choices:
        identifier = choice.get("identifier", "")
        inline = next((c for c in nodes(choice) if c.tag == "feedbackInline"), None)
        source = feedback.get(identifier, inline)  # (elements without children are falsy: no "or" here)
        rows.append((identifier, readable(choice, _without_feedback), readable(source) if source is not None else ""))
    return rows


class _Interaction(NamedTuple):
    """What every interaction reader gets: the item, its interaction and response declaration, the modal
    feedback by identifier, and the label and file for problems."""

    root: Node
    interaction: Node
    declaration: Node
    feedback: dict[str, Node]
    label: str
    source: str


def _choices(read: _Interaction, data: dict[str, Any]) -> list[Problem]:
    rows = _choice_rows(nodes(read.interaction, "simpleChoice"), read.feedback)
    correct = set(_correct_values(read.declaration))
    single = read.interaction.get("maxChoices", "1") == "1" or read.declaration.get("cardinality") == "single"
    ids = [identifier.upper() for identifier, _, _ in rows]
    if single and sorted(ids) == ["FALSE", "TRUE"]:
        right = {c.upper() for c in correct}
        answer = {ident.upper(): (ident.upper() in right, rationale) for ident, _, rationale in rows}
        data["type"] = ItemType.TRUEFALSE
        data["options"] = truefalse_options(answer["TRUE"], answer["FALSE"])
        return []
    data["type"] = ItemType.SINGLE if single else ItemType.MULTIPLE
    data["options"] = option_rows(
        [(text, rationale) for _, text, rationale in rows], [identifier in correct for identifier, _, _ in rows]
    )
    unknown = correct - {identifier for identifier, _, _ in rows}
    if unknown:
        return [
            read.declaration.place(read.source).problem(
                f"{read.label}: the correct response names unknown choices {', '.join(sorted(unknown))}"
            )
        ]
    return []


def _order(read: _Interaction, data: dict[str, Any]) -> list[Problem]:
    rows = {
        identifier: (text, rationale)
        for identifier, text, rationale in _choice_rows(nodes(read.interaction, "simpleChoice"), read.feedback)
    }
    order = _correct_values(read.declaration)
    if sorted(order) != sorted(rows):
        return [
            read.declaration.place(read.source).problem(f"{read.label}: the correct order must list every choice once")
        ]
    data["type"] = ItemType.ORDERING
    data["options"] = option_rows(rows[i] for i in order)
    return []


def _match(read: _Interaction, data: dict[str, Any]) -> list[Problem]:
    where = read.interaction.place(read.source)
    sets = nodes(read.interaction, "simpleMatchSet")
    if len(sets) != 2:
        return [where.problem(f"{read.label}: a match interaction needs two simpleMatchSets")]
    sources, targets = ({c.get("identifier", ""): c for c in nodes(s, "simpleAssociableChoice")} for s in sets)
    pairs, used = [], set()
    problems = []
    for value in _correct_values(read.declaration):
        left, _, right = value.partition(" ")
        if left not in sources or right.strip() not in targets:
            problems.append(
                read.declaration.place(read.source).problem(
                    f"{read.label}: the correct pair {value!r} names unknown choices"
                )
            )
            continue
        used |= {left, right.strip()}
        rationale = read.feedback.get(left)
        pairs.append(
            {
                "prompt": readable(sources[left]),
                "answer": readable(targets[right.strip()]),
                "rationale": readable(rationale) if rationale is not None else "",
            }
        )
    unpaired = [i for i in [*sources, *targets] if i not in used]
    if unpaired:
        problems.append(
            where.problem(f"{read.label}: choices without a correct partner are not supported ({', '.join(unpaired)})")
        )
    data |= {"type": ItemType.MATCHING, "pairs": pairs}
    return problems


def _text_entry(read: _Interaction, data: dict[str, Any]) -> list[Problem]:
    where = read.declaration.place(read.source)
    if read.declaration.get("baseType") not in {"float", "integer"}:
        return [
            where.problem(
                f"{read.label}: text-entry (short answer) items are not supported; numeric ones are "
                "(baseType float or integer)"
            )
        ]
    values = _correct_values(read.declaration)
    answer = parse_number(values[0]) if values else None
    if answer is None:
        return [where.problem(f"{read.label}: no numeric correct response")]
    tolerance: float | None = None
    processing = node(read.root, "responseProcessing")
    test = next((d for d in descendants(processing) if d.tag == "equal"), None) if processing is not None else None
    if test is not None and test.get("toleranceMode", "exact") != "exact":
        bounds = [parse_number(t) for t in test.get("tolerance", "0").split()]
        if test.get("toleranceMode") != "absolute" or not bounds or None in bounds or len(set(bounds)) > 1:
            return [test.place(read.source).problem(f"{read.label}: only a symmetric absolute tolerance is supported")]
        tolerance = bounds[0]
    data |= {"type": ItemType.NUMERIC, "answer": answer, "tolerance": tolerance}
    return []
