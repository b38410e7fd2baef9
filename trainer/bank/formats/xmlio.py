"""XML for the Moodle XML and QTI formats. Untrusted XML is read only through defusedxml's SAX parser (no DTDs,
entity expansion or external references) into an ElementTree whose elements know their line and path, so a
problem can name its place; namespaces are dropped from names (they are checked by the caller) and comments are
kept (they may carry the ``@pacs-trainer`` metadata)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from xml.sax import SAXException
from xml.sax.handler import ContentHandler, LexicalHandler, feature_namespaces, property_lexical_handler
from xml.sax.saxutils import escape
from xml.sax.xmlreader import AttributesNSImpl, Locator

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from trainer.bank.formats.common import Place
from trainer.bank.schema import Problem


class Node(ET.Element):
    """An element that remembers where it was read: its line, its path (``/quiz/question[3]``), its namespace."""

    line: int = 0
    path: str = ""
    ns: str = ""

    def place(self, source: str = "") -> Place:
        return Place(line=self.line or None, path=self.path, source=source)


class _Builder(ContentHandler, LexicalHandler):
    def __init__(self) -> None:
        super().__init__()
        self.root: Node | None = None
        self._stack: list[Node] = []
        self._counts: list[dict[str, int]] = [{}]
        self._locator: Locator | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self._locator = locator

    def startElementNS(self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl) -> None:
        uri, local = name
        node = Node(local, {key[1]: value for key, value in attrs.items()})
        node.line = (self._locator.getLineNumber() or 0) if self._locator else 0
        node.ns = uri or ""
        counts = self._counts[-1]
        counts[local] = counts.get(local, 0) + 1
        parent = self._stack[-1] if self._stack else None
        node.path = f"{parent.path}/{local}[{counts[local]}]" if parent is not None else f"/{local}"
        if parent is not None:
            parent.append(node)
        else:
            self.root = node
        self._stack.append(node)
        self._counts.append({})

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        self._stack.pop()
        self._counts.pop()

    def characters(self, content: str) -> None:
        if not self._stack:
            return
        current = self._stack[-1]
        if len(current):
            last = current[-1]
            last.tail = (last.tail or "") + content
        else:
            current.text = (current.text or "") + content

    def comment(self, content: str) -> None:
        if self._stack:
            self._stack[-1].append(ET.Comment(content))


def parse_xml(data: bytes, *, source: str = "") -> tuple[Node | None, list[Problem]]:
    """The document's root element, or a problem with the line the parser stopped at."""
    builder = _Builder()
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(builder)
    parser.setProperty(property_lexical_handler, builder)
    try:
        parser.parse(io.BytesIO(data))
    except SAXException as exc:
        line = exc.getLineNumber() if hasattr(exc, "getLineNumber") else None
        return None, [Problem("", f"not well-formed XML: {exc.getMessage()}", line, source)]
    except LookupError as exc:  # the XML declaration names an encoding Python does not know
        return None, [Problem("", f"not readable XML: {exc}", 1, source)]
    except DefusedXmlException as exc:
        return None, [
            Problem("", f"refused: {exc} (DTDs, entities and external references are not allowed)", None, source)
        ]
    if builder.root is None:
        return None, [Problem("", "the document has no root element", 1, source)]
    return builder.root, []


# ------------------------------------------------------------------------------------------------- reading


def nodes(parent: ET.Element, tag: str | None = None) -> list[Node]:
    """Child elements (comments left out), optionally only those named ``tag``."""
    return [c for c in parent if isinstance(c, Node) and (tag is None or c.tag == tag)]


def node(parent: ET.Element, *path: str) -> Node | None:
    """The first element along ``path`` of child names."""
    current: ET.Element | None = parent
    for tag in path:
        current = next(iter(nodes(current, tag)), None) if current is not None else None
    return current if isinstance(current, Node) else None


def nodes_at(parent: ET.Element, *path: str) -> list[Node]:
    """The elements named by the last step of ``path`` inside the first element along the steps before it."""
    container = node(parent, *path[:-1]) if len(path) > 1 else parent
    return nodes(container, path[-1]) if container is not None else []


def descendants(parent: ET.Element) -> Iterator[Node]:
    for child in nodes(parent):
        yield child
        yield from descendants(child)


def text_at(parent: ET.Element, *path: str) -> str:
    """The text of the element along ``path`` (``""`` when missing)."""
    found = node(parent, *path)
    return (found.text or "") if found is not None else ""


def is_comment(element: ET.Element) -> bool:
    return getattr(element, "tag", None) is ET.Comment


def comments(parent: ET.Element) -> list[str]:
    """The comments directly inside an element."""
    return [str(c.text or "") for c in parent if is_comment(c)]


Replace = Callable[[ET.Element], str | None]


def _keep(element: ET.Element) -> str | None:
    return None


def pruned(element: ET.Element, replace: Replace = _keep) -> ET.Element:
    """A copy without comments, and with every element for which ``replace`` returns a string replaced by that
    text (``""`` removes it); the text that follows a removed element is kept."""
    copy = ET.Element(element.tag, dict(element.attrib))
    copy.text, copy.tail = element.text, element.tail
    for child in element:
        instead = "" if is_comment(child) else replace(child)
        if instead is None:
            copy.append(pruned(child, replace))
        else:
            _append_text(copy, instead + (child.tail or ""))
    return copy


def _append_text(element: ET.Element, text: str) -> None:
    if not text:
        return
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _markup(element: ET.Element) -> str:
    return escape(element.text or "") + "".join(ET.tostring(child, encoding="unicode") for child in element)


def inner_markup(element: ET.Element) -> str:
    """An element's content as markup: escaped text and serialised child elements (comments left out)."""
    return _markup(pruned(element))


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


def readable(element: ET.Element, replace: Replace = _keep) -> str:
    """An element's content for the bank: plain text when it holds no markup, paragraphs of plain text as
    Markdown paragraphs, anything richer as its (X)HTML markup, which Markdown passes through. A lone wrapping
    ``<div>`` is looked through."""
    clean = pruned(element, replace)
    children = list(clean)
    while len(children) == 1 and children[0].tag == "div" and not children[0].attrib:
        if not (_blank(clean.text) and _blank(children[0].tail)):
            break
        clean = children[0]
        children = list(clean)
    if not children:
        return (clean.text or "").strip()
    between = [clean.text, *(c.tail for c in children)]
    plain_paragraphs = all(c.tag == "p" and not len(c) and not c.attrib for c in children)
    if plain_paragraphs and all(_blank(t) for t in between):
        return "\n\n".join((c.text or "").strip() for c in children)
    return _markup(clean).strip()


# ------------------------------------------------------------------------------------------------- writing


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def indent(element: ET.Element, *, opaque: frozenset[str] = frozenset(), level: int = 0) -> None:
    """Pretty-print in place like ``ET.indent``, but never inside elements named in ``opaque`` (mixed content such
    as XHTML, where added whitespace would change what is shown)."""
    children = list(element)
    if not children or element.tag in opaque:
        return
    inside = "\n" + "  " * (level + 1)
    if not (element.text or "").strip():
        element.text = inside
    for child in children:
        indent(child, opaque=opaque, level=level + 1)
        if not (child.tail or "").strip():
            child.tail = inside
    children[-1].tail = "\n" + "  " * level


def to_bytes(root: ET.Element) -> bytes:
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


def comment(parent: ET.Element, text: str) -> None:
    """A comment as the first child (``--`` must not occur in it; the metadata JSON avoids it)."""
    parent.insert(0, ET.Comment(f" {text} "))
