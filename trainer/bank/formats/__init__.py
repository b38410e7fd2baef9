"""Import/export formats. Each format turns a file's bytes into canonical ``ItemIn`` objects (with located
problems) and items back into a file. Register a format in ``FORMATS``.

Every format reads and writes bytes (``read``/``write``) so that binary formats (QTI's zip package) fit the same
registry; text formats also offer ``parse(text)`` and ``dump(items) -> str``. ``write`` returns the items it had
to leave out (a format that cannot hold an item type) next to the data, so callers can show them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from trainer.bank.formats import csv_format, gift, moodle_xml, native, qti
from trainer.bank.formats.common import decode_text
from trainer.bank.schema import ItemIn, Problem

Parsed = tuple[list[ItemIn], list[Problem]]


@dataclass(frozen=True)
class Written:
    """An export: the file's bytes, the items left out of it (each with the reason) and warnings about what other
    tools will not show (DICOM exhibits in the exchange formats)."""

    data: bytes
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def dicom_exhibit_warnings(items: list[ItemIn], skipped: list[Problem]) -> list[Problem]:
    """GIFT, Moodle XML and QTI have no way to show a DICOM object: the exhibit's reference travels in the metadata
    comment (importing the file back here restores it) but other tools show the stem without it."""
    left_out = {p.where for p in skipped}
    return [
        Problem(
            item.id,
            f"item {item.id}: the DICOM exhibit {m.file} ({'tag dump' if m.render == 'dump' else 'image'}) is not "
            "embedded; other tools show the stem without it (importing this file here again restores it)",
        )
        for item in items
        if item.id not in left_out
        for m in item.media
        if m.dicom
    ]


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    extension: str
    read: Callable[[bytes], Parsed]
    write: Callable[[list[ItemIn]], Written]
    binary: bool = False

    def parse(self, text: str) -> Parsed:
        """Parse a file given as text (for a binary format: a single XML document, see the format)."""
        return self.read(text.encode("utf-8"))

    def dump(self, items: list[ItemIn]) -> str:
        """The export as text; text formats only (use ``write`` for a binary format)."""
        if self.binary:
            raise TypeError(f"{self.name} writes a binary file; use write()")
        return self.write(items).data.decode("utf-8")


def text_format(
    name: str,
    label: str,
    extension: str,
    parse: Callable[[str], Parsed],
    dump: Callable[[list[ItemIn]], tuple[str, list[Problem]]],
    *,
    drops_dicom: bool = False,
) -> Format:
    """A format working on UTF-8 text (a BOM is accepted; undecodable bytes are a located problem)."""

    def read(data: bytes) -> Parsed:
        text, problems = decode_text(data)
        return parse(text) if text is not None else ([], problems)

    def write(items: list[ItemIn]) -> Written:
        text, skipped = dump(items)
        return Written(text.encode("utf-8"), skipped, dicom_exhibit_warnings(items, skipped) if drops_dicom else [])

    return Format(name, label, extension, read, write)


def _native_dump(items: list[ItemIn]) -> tuple[str, list[Problem]]:
    return native.dump_native(items), []


def _moodle_write(items: list[ItemIn]) -> Written:
    text, skipped = moodle_xml.dump_moodle_xml(items)
    return Written(text.encode("utf-8"), skipped, dicom_exhibit_warnings(items, skipped))


def _qti_write(items: list[ItemIn]) -> Written:
    data, skipped = qti.dump_qti(items)
    return Written(data, skipped, dicom_exhibit_warnings(items, skipped))


FORMATS: dict[str, Format] = {
    "native": text_format("native", "PACS Trainer YAML", "yaml", native.parse_native, _native_dump),
    "csv": text_format("csv", "CSV (one row per item)", "csv", csv_format.parse_csv, csv_format.dump_csv),
    "gift": text_format("gift", "Moodle GIFT", "gift.txt", gift.parse_gift, gift.dump_gift, drops_dicom=True),
    # XML formats read bytes: the parser honours the document's own encoding declaration.
    "moodle": Format("moodle", "Moodle XML", "xml", moodle_xml.parse_moodle_xml, _moodle_write),
    "qti": Format("qti", "IMS QTI 2.1 content package", "zip", qti.parse_qti, _qti_write, binary=True),
}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; choose one of {', '.join(sorted(FORMATS))}") from None
